import { ConfigError } from './config-error.js';
import type {
  DeclarationOf,
  EnvVariable,
  IntegerVariable,
  ParsedValue,
  ReadValue,
  StringVariable,
} from './env-spec.js';

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads typed values from an environment map, only for the variables it was given declarations
 * of: names, defaults and bounds come from the declaration. Every refusal names the variable and
 * the fix, and never echoes a secret.
 */
export class EnvReader<V extends EnvVariable> {
  private readonly declarations: ReadonlyMap<string, V>;

  constructor(
    variables: readonly V[],
    private readonly env: Env,
  ) {
    this.declarations = new Map(variables.map((variable) => [variable.name, variable]));
  }

  declaration<N extends V['name']>(name: N): DeclarationOf<V, N> {
    const declaration = this.declarations.get(name);
    // The type system already refuses undeclared names; this catches a cast or a JS caller.
    if (declaration === undefined) throw new Error(`${name} is not a declared variable`);
    return declaration as DeclarationOf<V, N>;
  }

  /** The trimmed text (unless verbatim), with blank treated as unset; not parsed or checked. */
  raw(name: V['name']): string | undefined {
    const { verbatim } = this.declaration(name);
    const value = this.env[name];
    if (verbatim || value === undefined) return value || undefined;
    return value.trim() || undefined;
  }

  isSet(name: V['name']): boolean {
    return this.raw(name) !== undefined;
  }

  /** The parsed value, or the declared default; a required variable that is unset is refused. */
  value<N extends V['name']>(name: N): ReadValue<DeclarationOf<V, N>> {
    const declaration = this.declaration(name);
    const value = this.raw(name);
    if (value !== undefined) return parse(declaration, value) as ReadValue<DeclarationOf<V, N>>;
    if (declaration.required !== undefined) {
      throw new ConfigError(name, `is required: ${declaration.required}`);
    }
    const fallback = declaration.default;
    return (typeof fallback === 'string' ? parse(declaration, fallback) : fallback) as ReadValue<
      DeclarationOf<V, N>
    >;
  }

  /** The parsed value, or `fallback` when unset: for defaults that depend on other settings. */
  valueOr<N extends V['name']>(
    name: N,
    fallback: ParsedValue<DeclarationOf<V, N>>,
  ): ParsedValue<DeclarationOf<V, N>> {
    const value = this.raw(name);
    return value === undefined
      ? fallback
      : (parse(this.declaration(name), value) as ParsedValue<DeclarationOf<V, N>>);
  }
}

function parse(declaration: EnvVariable, value: string): unknown {
  switch (declaration.type) {
    case 'integer':
      return parseInteger(declaration.name, value, declaration);
    case 'boolean':
      return parseBoolean(declaration.name, value);
    case 'enum':
      if (!declaration.values.includes(value)) {
        throw new ConfigError(
          declaration.name,
          `must be one of ${declaration.values.join(', ')} (got "${value}")`,
        );
      }
      return value;
    case 'list':
      return Object.freeze(
        value
          .split(',')
          .map((item) => item.trim())
          .filter(Boolean),
      );
    default:
      return checkString(declaration, value);
  }
}

function checkString(declaration: StringVariable, value: string): string {
  const { pattern, minLength = 0, maxLength = Number.POSITIVE_INFINITY } = declaration;
  if (
    (pattern === undefined || pattern.test(value)) &&
    value.length >= minLength &&
    value.length <= maxLength
  ) {
    return value;
  }
  const got = declaration.secret ? `${value.length} characters` : `"${value}"`;
  const hint = declaration.hint === undefined ? '' : `; ${declaration.hint}`;
  throw new ConfigError(
    declaration.name,
    `must be ${declaration.expected ?? `matching ${pattern}`} (got ${got})${hint}`,
  );
}

/** Parses a whole decimal number within a range; `field` names the variable or option in errors. */
export function parseInteger(
  field: string,
  value: string,
  range: Pick<IntegerVariable, 'min' | 'max'>,
): number {
  if (!/^-?\d+$/.test(value)) {
    throw new ConfigError(field, `must be a whole number (got "${value}")`);
  }
  const parsed = Number(value);
  if (parsed < range.min || (range.max !== undefined && parsed > range.max)) {
    const bounds =
      range.max === undefined ? `at least ${range.min}` : `between ${range.min} and ${range.max}`;
    throw new ConfigError(field, `must be ${bounds} (got ${value})`);
  }
  return parsed;
}

export function parseBoolean(field: string, value: string): boolean {
  const normalised = value.toLowerCase();
  if (['true', '1', 'yes'].includes(normalised)) return true;
  if (['false', '0', 'no'].includes(normalised)) return false;
  throw new ConfigError(field, `must be true or false (got "${value}")`);
}
