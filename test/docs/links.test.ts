import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  anchorsOf,
  brokenLinksOf,
  documentationPages,
  githubSlug,
  repositoryReader,
  unclosedFenceOf,
} from './markdown-links.js';

const REPOSITORY_ROOT = join(fileURLToPath(import.meta.url), '../../..');

const FIXTURE_PAGES: Record<string, string> = {
  'docs/target.md': [
    '# Target page',
    '## SMTP',
    '## Deploy locally (selfmx-local)',
    '### `selfmx worker`',
    '## Notes',
    '## Notes',
    '```bash',
    '# not a heading',
    '```',
  ].join('\n'),
};
const readFixture = (path: string) => FIXTURE_PAGES[path];

function brokenTargets(markdown: string): string[] {
  return brokenLinksOf('docs/page.md', markdown, readFixture).map((link) => link.target);
}

describe('documentation links: the checker', () => {
  it('makes GitHub slugs', () => {
    assert.equal(githubSlug('Deploy locally (selfmx-local)'), 'deploy-locally-selfmx-local');
    assert.equal(githubSlug('`selfmx worker`'), 'selfmx-worker');
    assert.equal(githubSlug('Shared (both stacks)'), 'shared-both-stacks');
    assert.equal(githubSlug('Delivery: the queue and SMTP'), 'delivery-the-queue-and-smtp');
    assert.equal(githubSlug('The queue is the `emails` table'), 'the-queue-is-the-emails-table');
  });

  it('numbers repeated headings and ignores fenced code', () => {
    const anchors = anchorsOf(FIXTURE_PAGES['docs/target.md'] ?? '');
    assert.deepEqual(
      [...anchors],
      ['target-page', 'smtp', 'deploy-locally-selfmx-local', 'selfmx-worker', 'notes', 'notes-1'],
    );
  });

  it('accepts links to existing pages and headings', () => {
    const page = [
      'See [SMTP](target.md#smtp), [local](target.md#deploy-locally-selfmx-local),',
      '[the worker](./target.md#selfmx-worker), [notes](target.md#notes-1) and [top](#intro).',
      '[ref]: target.md#notes',
      '## Intro',
      'External links are not checked: [x](https://example.com/missing) [m](mailto:a@b.c).',
    ].join('\n');
    assert.deepEqual(brokenTargets(page), []);
  });

  it('reports a missing page, a missing heading and a missing local heading', () => {
    const page = [
      'A [broken page](missing.md), a [broken heading](target.md#smtp-settings),',
      'a [broken local anchor](#nowhere) and a [third notes](target.md#notes-2).',
    ].join('\n');
    assert.deepEqual(brokenTargets(page), [
      'missing.md',
      'target.md#smtp-settings',
      '#nowhere',
      'target.md#notes-2',
    ]);
  });

  it('reports a broken reference definition and ignores links in code', () => {
    const page = [
      '[gone]: ../nowhere.md',
      'Inline code `[not a link](missing.md)` is not a link.',
      '```markdown',
      '[also not a link](missing.md)',
      '```',
    ].join('\n');
    assert.deepEqual(brokenTargets(page), ['../nowhere.md']);
  });

  it('finds a code fence that is never closed', () => {
    assert.equal(unclosedFenceOf('# Page\n```bash\nnpm test\n```\ntext'), undefined);
    assert.equal(unclosedFenceOf('# Page\n```bash\nnpm test\n\n## Hidden heading'), 2);
  });
});

describe('documentation links: the repository', () => {
  const pages = documentationPages(REPOSITORY_ROOT);

  it('finds the README, the changelog and the docs pages', () => {
    assert.ok(pages.includes('README.md'));
    assert.ok(pages.includes('CHANGELOG.md'));
    assert.ok(pages.filter((page) => page.startsWith('docs/')).length >= 10, pages.join());
  });

  it('closes every code fence', () => {
    const read = repositoryReader(REPOSITORY_ROOT);
    const unclosed = pages.filter((page) => unclosedFenceOf(read(page) ?? '') !== undefined);
    assert.deepEqual(unclosed, []);
  });

  it('has no relative link to a missing file or heading', () => {
    const read = repositoryReader(REPOSITORY_ROOT);
    const broken = pages.flatMap((page) => brokenLinksOf(page, read(page) ?? '', read));
    assert.deepEqual(
      broken.map((link) => `${link.page}:${link.line}: ${link.target} (${link.reason})`),
      [],
    );
  });
});
