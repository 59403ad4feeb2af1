import type { z } from 'zod';
import { ApiError } from './api-error.js';

type Issue = z.core.$ZodIssue;
type Path = readonly PropertyKey[];

/**
 * Parses `input` with a zod schema; on failure throws a 422 whose message names every field at
 * fault (`to[1]: ...; headers.X-Foo: ...`). `root` names the input as a whole (body, query).
 */
export function parseInput<S extends z.ZodType>(
  schema: S,
  input: unknown,
  root: string,
): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const messages = result.error.issues.flatMap((issue) => describeIssue(issue, [], root));
  throw new ApiError(422, 'validation_error', unique(messages).slice(0, 10).join('; '));
}

function describeIssue(issue: Issue, prefix: Path, root: string): string[] {
  const path = [...prefix, ...issue.path];
  switch (issue.code) {
    case 'invalid_union':
      return describeUnion(issue, path, root);
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
 * the type check (the one the client meant), or the first one otherwise.
 */
function describeUnion(
  issue: Extract<Issue, { code: 'invalid_union' }>,
  path: Path,
  root: string,
): string[] {
  const branches = issue.errors;
  const meant =
    branches.find(
      (branch) => !branch.every((i) => i.code === 'invalid_type' && i.path.length === 0),
    ) ?? undefined;
  if (!meant) {
    const expected = branches
      .flatMap((branch) => branch.map((i) => (i.code === 'invalid_type' ? i.expected : undefined)))
      .filter(Boolean);
    return [`${formatPath(path, root)}: expected ${unique(expected as string[]).join(' or ')}`];
  }
  return meant.flatMap((inner) => describeIssue(inner, path, root));
}

function humanise(issue: Issue): string {
  if (issue.code === 'invalid_type') {
    // zod does not keep the input; its message ends with "received <type>".
    const received = /received (\w+)/.exec(issue.message)?.[1];
    return received === 'undefined'
      ? `is required (${issue.expected})`
      : `expected ${issue.expected}${received ? `, got ${received}` : ''}`;
  }
  if (issue.code === 'too_big' && issue.origin === 'string')
    return `must be at most ${issue.maximum} characters`;
  if (issue.code === 'too_small' && issue.origin === 'string' && issue.minimum === 1)
    return 'must not be empty';
  if (issue.code === 'too_small' && issue.origin === 'string')
    return `must be at least ${issue.minimum} characters`;
  if (issue.code === 'too_big' && issue.origin === 'array')
    return `must have at most ${issue.maximum} items`;
  if (issue.code === 'too_small' && issue.origin === 'array')
    return `must have at least ${issue.minimum} item(s)`;
  return issue.message;
}

/** `to[1]`, `headers.X-Foo`, `attachments[0].filename`; the whole input is `root`. */
export function formatPath(path: Path, root: string): string {
  if (path.length === 0) return root;
  return path
    .map((part, index) => {
      if (typeof part === 'number') return `[${part}]`;
      return index === 0 ? String(part) : `.${String(part)}`;
    })
    .join('');
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
