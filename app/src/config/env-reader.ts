import { ConfigError } from './config-error.js';

export type Env = Readonly<Record<string, string | undefined>>;

/** Reads typed values from an environment map; every refusal names the variable and the fix. */
export class EnvReader {
  constructor(private readonly env: Env) {}

  /** The raw value, with empty strings treated as unset. */
  raw(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  required(name: string, hint: string): string {
    const value = this.raw(name);
    if (value === undefined) throw new ConfigError(name, `is required: ${hint}`);
    return value;
  }

  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  optional(name: string): string | undefined {
    return this.raw(name);
  }

  integer(name: string, fallback: number, range: { min: number; max?: number }): number {
    const value = this.raw(name);
    return value === undefined ? fallback : parseInteger(name, value, range);
  }

  boolean(name: string, fallback: boolean): boolean {
    const value = this.raw(name);
    return value === undefined ? fallback : parseBoolean(name, value);
  }

  oneOf<T extends string>(name: string, fallback: T, allowed: readonly T[]): T {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(value)) {
      throw new ConfigError(name, `must be one of ${allowed.join(', ')} (got "${value}")`);
    }
    return value as T;
  }
}

/** Parses a whole decimal number within a range; `field` names the variable or option in errors. */
export function parseInteger(
  field: string,
  value: string,
  range: { min: number; max?: number },
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
