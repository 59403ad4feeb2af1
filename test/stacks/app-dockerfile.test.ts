import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';

const DOCKERFILE = new URL('../../app/Dockerfile', import.meta.url);
/** The first release line that is still supported (Node 20 reached end of life in April 2026). */
const OLDEST_SUPPORTED_LTS_MAJOR = 22;

/** The image of every FROM line (`FROM [--platform=…] <image> [AS <stage>]`). */
function baseImages(dockerfile: string): string[] {
  return dockerfile
    .split('\n')
    .filter((line) => /^\s*FROM\s/i.test(line))
    .map(
      (line) =>
        line
          .trim()
          .split(/\s+/)
          .filter((word) => !word.startsWith('--'))[1] ?? '',
    );
}

describe('app/Dockerfile', () => {
  test('every stage is a supported Node LTS pinned to an exact version', () => {
    const images = baseImages(readFileSync(DOCKERFILE, 'utf8'));
    assert.ok(images.length >= 1, 'app/Dockerfile has a FROM line');
    for (const image of images) {
      const version = /^node:(\d+)\.(\d+)\.(\d+)-[a-z0-9-]+$/.exec(image);
      assert.ok(version, `${image}: pin node:<major>.<minor>.<patch>-<variant>`);
      const major = Number(version[1]);
      assert.ok(
        major >= OLDEST_SUPPORTED_LTS_MAJOR && major % 2 === 0,
        `${image}: Node ${major} is not a supported LTS line (even, ≥ ${OLDEST_SUPPORTED_LTS_MAJOR})`,
      );
    }
    assert.equal(new Set(images).size, 1, 'every stage uses the same Node');
  });
});
