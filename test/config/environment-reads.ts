import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** One place in the source that reads an environment variable by name. */
export interface EnvironmentRead {
  readonly variable: string;
  readonly file: string;
}

const NAME = '[A-Za-z_][A-Za-z0-9_]*';
const QUOTED_NAME = `(['"\`])(${NAME})\\1`;
/** Reader methods, current and former: a call with a literal name is a read of that name. */
const READER_METHODS =
  'value|valueOr|raw|isSet|declaration|required|optional|string|integer|boolean|oneOf';

const PATTERNS: readonly RegExp[] = [
  new RegExp(`process\\.env\\.(${NAME})`, 'g'),
  new RegExp(`process\\.env\\[\\s*${QUOTED_NAME}\\s*\\]`, 'g'),
  // An environment map handed around as `env`: env.PGPASSWORD, props.env['PORT'].
  /(?<!process\.)\benv\.([A-Z][A-Z0-9_]*)\b/g,
  new RegExp(`(?<!process\\.)\\benv\\[\\s*${QUOTED_NAME}\\s*\\]`, 'g'),
  new RegExp(`\\.(?:${READER_METHODS})\\(\\s*${QUOTED_NAME}`, 'g'),
];
const DESTRUCTURING = /\{([^{}]*)\}\s*=\s*(?:process\.env|env)\b/g;

/** The variable names `source` reads from the environment, in order of appearance. */
export function environmentReads(source: string): string[] {
  const found: [number, string][] = [];
  for (const pattern of PATTERNS) {
    for (const match of source.matchAll(pattern)) {
      // The name is the last capture group (the ones before it are quotes).
      const name = match[match.length - 1];
      if (name !== undefined) found.push([match.index, name]);
    }
  }
  for (const match of source.matchAll(DESTRUCTURING)) {
    for (const binding of (match[1] ?? '').split(',')) {
      const name = /^\s*(?:\.\.\.)?\s*([A-Za-z_][A-Za-z0-9_]*)/.exec(binding)?.[1];
      if (name !== undefined && !binding.trim().startsWith('...')) found.push([match.index, name]);
    }
  }
  return found.sort(([a], [b]) => a - b).map(([, name]) => name);
}

/** Every read of a variable that is not in `declared`, with the file it is in. */
export function undeclaredReads(
  files: readonly { readonly file: string; readonly source: string }[],
  declared: ReadonlySet<string>,
): EnvironmentRead[] {
  return files.flatMap(({ file, source }) =>
    environmentReads(source)
      .filter((variable) => !declared.has(variable))
      .map((variable) => ({ variable, file })),
  );
}

/** The TypeScript files under `paths` (files or directories), relative to `root`. */
export function typeScriptFiles(
  root: string,
  paths: readonly string[],
): { file: string; source: string }[] {
  return paths.flatMap((path) => {
    const absolute = join(root, path);
    const files = statSync(absolute).isDirectory()
      ? readdirSync(absolute, { recursive: true })
          .map(String)
          .map((entry) => join(absolute, entry))
      : [absolute];
    return files
      .filter((file) => file.endsWith('.ts'))
      .map((file) => ({ file: relative(root, file), source: readFileSync(file, 'utf8') }));
  });
}
