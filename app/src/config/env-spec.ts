/**
 * The declaration of one environment variable, schema-style: what it holds, its default and
 * bounds, whether it is a secret, and one line of documentation. The app's and the stacks'
 * declarations use it; EnvReader reads and checks values against it, and docs/configuration.md
 * is generated from it.
 */
export type EnvVariable =
  | StringVariable
  | IntegerVariable
  | BooleanVariable
  | EnumVariable
  | ListVariable;

interface Declaration {
  readonly name: string;
  /** One line for the configuration reference (Markdown). */
  readonly doc: string;
  /** Never echoed in errors or logs. */
  readonly secret?: boolean;
  /** Kept exactly as given instead of trimmed (a password may end in a space). */
  readonly verbatim?: boolean;
  /** Makes the variable required; the text is the fix (`is required: <hint>`). */
  readonly required?: string;
  /** The default as the docs show it, when it depends on other settings. */
  readonly defaultDoc?: string;
  /** Allowed values as the docs show them, when a loader checks more than the declaration says. */
  readonly allowedDoc?: string;
}

/** Free text, optionally checked against a pattern and a length (both described by `expected`). */
export interface StringVariable extends Declaration {
  readonly type: 'string' | 'url';
  readonly default?: string;
  readonly pattern?: RegExp;
  readonly minLength?: number;
  readonly maxLength?: number;
  /** What a valid value is, completing "must be …"; required with pattern or lengths. */
  readonly expected?: string;
  /** Appended to the refusal: how to get a valid value. */
  readonly hint?: string;
}

export interface IntegerVariable extends Declaration {
  readonly type: 'integer';
  readonly default?: number;
  readonly min: number;
  readonly max?: number;
  /** For the docs and for refusals that name it (`seconds`, `connections`). */
  readonly unit?: string;
}

export interface BooleanVariable extends Declaration {
  readonly type: 'boolean';
  readonly default: boolean;
}

export interface EnumVariable extends Declaration {
  readonly type: 'enum';
  readonly values: readonly string[];
  readonly default: string;
}

/** Comma-separated values, trimmed, empty items dropped. */
export interface ListVariable extends Declaration {
  readonly type: 'list';
  readonly default?: string;
}

/** The value a declaration yields once parsed. */
export type ParsedValue<V> = V extends { readonly type: 'integer' }
  ? number
  : V extends { readonly type: 'boolean' }
    ? boolean
    : V extends { readonly type: 'enum'; readonly values: readonly (infer T)[] }
      ? T
      : V extends { readonly type: 'list' }
        ? readonly string[]
        : string;

/** What reading yields: undefined only when the variable is optional and has no default. */
export type ReadValue<V> = V extends { readonly default: unknown }
  ? ParsedValue<V>
  : V extends { readonly required: string }
    ? ParsedValue<V>
    : ParsedValue<V> | undefined;

/** The declaration named `N` in the union `V`. */
export type DeclarationOf<V extends EnvVariable, N extends V['name']> = Extract<
  V,
  { readonly name: N }
>;
