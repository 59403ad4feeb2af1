/**
 * Input no field of the API can hold, refused before the schemas see it: PostgreSQL text and
 * jsonb cannot store NUL, a UTF-16 surrogate without its pair has no UTF-8 encoding (pg would
 * silently replace it, jsonb refuses it), and nesting this deep is never meant (it only costs
 * stack in JSON.stringify, structured clone and PostgreSQL's jsonb parser).
 */

/** The deepest nesting of objects and arrays a request may have (template_data included). */
export const MAX_INPUT_DEPTH = 32;

export interface UnsafeInput {
  /** Where: object keys and array indexes from the input's root. */
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

/** A value still to visit; its path is built only when it is refused. */
interface Visit {
  readonly value: unknown;
  readonly parent: Visit | undefined;
  readonly key: PropertyKey;
  readonly depth: number;
}

/** The first string (value or key) or nesting in `input` no field may have, or undefined. */
export function findUnsafeInput(input: unknown): UnsafeInput | undefined {
  // Depth-first with an explicit stack: the input is never walked past MAX_INPUT_DEPTH.
  const stack: Visit[] = [{ value: input, parent: undefined, key: '', depth: 0 }];
  for (let next = stack.pop(); next; next = stack.pop()) {
    const { value, depth } = next;
    if (typeof value === 'string') {
      const message = stringProblem(value);
      if (message) return { path: pathOf(next), message };
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth >= MAX_INPUT_DEPTH) {
      return {
        path: pathOf(next).slice(0, 1),
        message: `is nested more than ${MAX_INPUT_DEPTH} levels deep (flatten the data)`,
      };
    }
    const entries = Array.isArray(value) ? value.entries() : Object.entries(value);
    for (const [key, child] of entries) {
      if (typeof key === 'string') {
        const message = stringProblem(key);
        if (message) return { path: [...pathOf(next), key], message: `(a key) ${message}` };
      }
      stack.push({ value: child, parent: next, key, depth: depth + 1 });
    }
  }
  return undefined;
}

function pathOf(visit: Visit): PropertyKey[] {
  const path: PropertyKey[] = [];
  for (let at: Visit | undefined = visit; at?.parent; at = at.parent) path.push(at.key);
  return path.reverse();
}

function stringProblem(value: string): string | undefined {
  if (value.includes('\u0000')) return 'must not contain NUL (\\u0000) characters';
  // A lone surrogate is exactly what makes a string not well-formed UTF-16 (ES2024).
  if (!(value as WellFormedString).isWellFormed()) {
    return 'must be valid Unicode: it has a UTF-16 surrogate without its pair (\\ud800-\\udfff)';
  }
  return undefined;
}

/** String.prototype.isWellFormed: in Node 20, not yet in TypeScript's ES2023 library. */
type WellFormedString = string & { isWellFormed(): boolean };
