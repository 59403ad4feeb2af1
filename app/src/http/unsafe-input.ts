/**
 * Input no field of the API can hold, refused before the schemas see it: PostgreSQL text and
 * jsonb cannot store NUL, a UTF-16 surrogate without its pair has no UTF-8 encoding (pg would
 * silently replace it, jsonb refuses it), and nesting this deep is never meant (it only costs
 * stack in JSON.stringify, structured clone and PostgreSQL's jsonb parser).
 */

/** The deepest nesting of objects and arrays a request may have (template_data included). */
export const MAX_INPUT_DEPTH = 32;

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export interface UnsafeInput {
  /** Where: object keys and array indexes from the input's root. */
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

/** The first string (value or key) or nesting in `input` no field may have, or undefined. */
export function findUnsafeInput(input: unknown): UnsafeInput | undefined {
  // Depth-first with an explicit stack: the input is never walked past MAX_INPUT_DEPTH.
  const stack: { value: unknown; path: PropertyKey[] }[] = [{ value: input, path: [] }];
  for (let next = stack.pop(); next; next = stack.pop()) {
    const { value, path } = next;
    if (typeof value === 'string') {
      const message = stringProblem(value);
      if (message) return { path, message };
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (path.length >= MAX_INPUT_DEPTH) {
      return {
        path: path.slice(0, 1),
        message: `is nested more than ${MAX_INPUT_DEPTH} levels deep (flatten the data)`,
      };
    }
    const entries = Array.isArray(value) ? value.entries() : Object.entries(value);
    for (const [key, child] of entries) {
      if (typeof key === 'string') {
        const message = stringProblem(key);
        if (message) return { path: [...path, key], message: `(a key) ${message}` };
      }
      stack.push({ value: child, path: [...path, key] });
    }
  }
  return undefined;
}

function stringProblem(value: string): string | undefined {
  if (value.includes('\u0000')) return 'must not contain NUL (\\u0000) characters';
  if (LONE_SURROGATE.test(value)) {
    return 'must be valid Unicode: it has a UTF-16 surrogate without its pair (\\ud800-\\udfff)';
  }
  return undefined;
}
