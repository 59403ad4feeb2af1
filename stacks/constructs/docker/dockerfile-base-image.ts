import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPOSITORY_ROOT } from '../release-hash.js';

/** The image app/Dockerfile builds FROM (its one FROM line): the pinned Node base image. */
export function dockerfileBaseImage(
  dockerfile: string = join(REPOSITORY_ROOT, 'app/Dockerfile'),
): string {
  const from = [...readFileSync(dockerfile, 'utf8').matchAll(/^FROM\s+(\S+)\s*$/gm)];
  const image = from[0]?.[1];
  if (from.length !== 1 || image === undefined) {
    throw new Error(`${dockerfile}: expected exactly one \`FROM <image>\` line`);
  }
  return image;
}
