import type { z } from 'zod';
import { ApiError } from './api-error.js';
import { findUnsafeInput } from './unsafe-input.js';

type Issue = z.core.$ZodIssue;
type Path = readonly PropertyKey[];

/**
 * Parses `input` with a zod schema; on failure throws a 422 whose message names every field at
 * fault (`to[1]: ...; headers.X-Foo: ...`). `root` names the input as a whole (body, query).
 * Input no field can hold (NUL, lone surrogates, deep nesting) is refused first, by name.
 */
export function parseInput<S extends z.ZodType>(
  schema: S,
  input: unknown,
  root: string,
): z.output<S> {
  const unsafe = findUnsafeInput(input);
  if (unsafe) {
    throw new ApiError(
      422,
      'validation_error',
      `${formatPath(unsafe.path, root)}: ${unsafe.message}`,
    );
  }
  return parseSafeInput(schema, input, root);
}

/**
 * parseInput for an input that findUnsafeInput already passed as part of a larger input (an
 * email of a batch whose whole body was checked).
 */
export function parseSafeInput<S extends z.ZodType>(
  schema: S,
  input: unknown,
  root: string,
): z.output<S> {
  // zod parses faster without reportInput; refused input is parsed again with it, as the
  // messages need each issue's input.
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const reported = schema.safeParse(input, { reportInput: true });
  if (reported.success) return reported.data;
  const messages = reported.error.issues.flatMap((issue) => describeIssue(issue, [], root));
  throw new ApiError(422, 'validation_error', unique(messages).slice(0, 10).join('; '));
}

function describeIssue(issue: Issue, prefix: Path, root: string): string[] {
  const path = [...prefix, ...issue.path];
  switch (issue.code) {
    case 'invalid_union':
      return describeUnion(issue, path, root);
    case 'invalid_key':
    case 'invalid_element':
      return issue.issues.flatMap((inner) => describeIssue(inner, path, root));
    case 'unrecognized_keys':
      return issue.keys.map(
        (key) => `${formatPath([...path, key], root)}: is not a supported field (remove it)`,
      );
    default:
      return [`${formatPath(path, root)}: ${humanise(issue)}`];
  }
}

/**
 * A union such as "one address or a list" reports every branch; keep the branch that got past
 * the type check (the one the client meant), or say which types are accepted.
 */
function describeUnion(
  issue: Extract<Issue, { code: 'invalid_union' }>,
  path: Path,
  root: string,
): string[] {
  const meant = issue.errors.find(
    (branch) => !branch.every((i) => i.code === 'invalid_type' && i.path.length === 0),
  );
  if (meant) return meant.flatMap((inner) => describeIssue(inner, path, root));
  const expected = issue.errors.flatMap((branch) =>
    branch.flatMap((i) => (i.code === 'invalid_type' ? [i.expected] : [])),
  );
  const accepted = unique(expected).join(' or ');
  const what =
    issue.input === undefined
      ? `is required (${accepted})`
      : `expected ${accepted}, got ${typeOf(issue.input)}`;
  return [`${formatPath(path, root)}: ${what}`];
}

function humanise(issue: Issue): string {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return `is required (${issue.expected})`;
      if (issue.expected === 'number' && typeof issue.input === 'number') return 'must be a number';
      return `expected ${issue.expected}, got ${typeOf(issue.input)}`;
    case 'too_big':
      if (issue.origin === 'string') return `must be at most ${issue.maximum} characters`;
      if (issue.origin === 'array') return `must have at most ${issue.maximum} items`;
      if (issue.origin === 'number') return `must be at most ${issue.maximum}`;
      return issue.message;
    case 'too_small':
      if (issue.origin === 'string') {
        return issue.minimum === 1
          ? 'must not be empty'
          : `must be at least ${issue.minimum} characters`;
      }
      if (issue.origin === 'array') return `must have at least ${issue.minimum} item(s)`;
      if (issue.origin === 'number') return `must be at least ${issue.minimum}`;
      return issue.message;
    case 'invalid_value':
      return `must be one of ${issue.values.map((value) => String(value)).join(', ')}`;
    case 'invalid_format':
      if (issue.format === 'datetime')
        return 'must be an ISO-8601 date-time, e.g. 2025-01-31T12:00:00Z';
      return issue.message;
    default:
      return issue.message;
  }
}

/** `to[1]`, `headers.X-Foo`, `attachments[0].filename`; the whole input is `root`. */
export function formatPath(path: Path, root: string): string {
  if (path.length === 0) return root;
  return path
    .map((part, index) => {
      if (typeof part === 'number') return `[${part}]`;
      // A key may itself carry the CR/LF being refused: show it escaped, on one line.
      const name = JSON.stringify(String(part)).slice(1, -1);
      return index === 0 ? name : `.${name}`;
    })
    .join('');
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number' && Number.isNaN(value)) return 'not a number';
  return typeof value;
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
