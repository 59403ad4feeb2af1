import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is stacks/constructs/release-hash.ts). */
export const REPOSITORY_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Everything app/Dockerfile copies into the image, relative to the repository root. A change to
 * any of these is a new release: a new image tag, a new migration job run, a new app container.
 */
export const RELEASE_INPUTS = [
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  '.dockerignore',
  'app',
  'migrations',
] as const;

/** Build output and local state inside the inputs that do not belong to the release. */
const EXCLUDED = new Set(['app/dist', 'node_modules']);

/**
 * A SHA-256 over the paths and contents of the release inputs, computed at synth. Paths are
 * relative and sorted, so the hash is the same on every machine that has the same sources.
 */
export function releaseHash(root: string = REPOSITORY_ROOT): string {
  const hash = createHash('sha256');
  for (const file of RELEASE_INPUTS.flatMap((input) => filesUnder(root, input))) {
    hash.update(`${file}\0`);
    hash.update(readFileSync(join(root, file)));
    hash.update('\0');
  }
  return hash.digest('hex');
}

function filesUnder(root: string, relative: string): string[] {
  if (EXCLUDED.has(relative) || !existsSync(join(root, relative))) return [];
  if (!statSync(join(root, relative)).isDirectory()) return [relative];
  return readdirSync(join(root, relative))
    .sort()
    .flatMap((entry) => filesUnder(root, `${relative}/${entry}`));
}
