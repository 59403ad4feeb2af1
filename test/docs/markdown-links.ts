import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/** A relative link that does not lead to an existing file or heading. */
export interface BrokenLink {
  readonly page: string;
  readonly line: number;
  readonly target: string;
  readonly reason: string;
}

const FENCE = /^\s{0,3}(```|~~~)/;
// Inline links and images `[text](target "title")`, and reference definitions `[id]: target`.
const INLINE_LINK = /!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g;
const REFERENCE_DEFINITION = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$/;
const EXTERNAL = /^(?:[a-z][a-z0-9+.-]*:|\/\/)/i;

/**
 * The lines of a Markdown page outside fenced code blocks, with their 1-based numbers, and the
 * line of a fence that is never closed (it would hide the rest of the page).
 */
function splitFences(markdown: string): {
  prose: { text: string; line: number }[];
  unclosedFence: number | undefined;
} {
  const prose: { text: string; line: number }[] = [];
  let fence: { marker: string; line: number } | undefined;
  markdown.split('\n').forEach((text, index) => {
    const marker = FENCE.exec(text)?.[1];
    if (marker && (fence === undefined || marker === fence.marker)) {
      fence = fence === undefined ? { marker, line: index + 1 } : undefined;
      return;
    }
    if (fence === undefined) prose.push({ text, line: index + 1 });
  });
  return { prose, unclosedFence: fence?.line };
}

function proseLines(markdown: string): { text: string; line: number }[] {
  return splitFences(markdown).prose;
}

/** The line of a code fence that is never closed, if any. */
export function unclosedFenceOf(markdown: string): number | undefined {
  return splitFences(markdown).unclosedFence;
}

/** Inline code spans hold example syntax, not links. */
function withoutCodeSpans(text: string): string {
  return text.replace(/(`+)[^`]*?\1/g, (span) => ' '.repeat(span.length));
}

/** GitHub's anchor for a heading's text: github-slugger's rules on the rendered text. */
export function githubSlug(heading: string): string {
  const rendered = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/`([^`]*)`/g, '$1')
    .replace(/<[^>]+>/g, '')
    .trim();
  return rendered
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** Every anchor a page defines: its headings' slugs, repeated ones numbered -1, -2, … */
export function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const { text } of proseLines(markdown)) {
    const heading = /^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(text)?.[1];
    if (heading === undefined) continue;
    const slug = githubSlug(heading);
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

/** The relative link targets of a page (external and mail links left out), with their lines. */
export function relativeLinksOf(markdown: string): { target: string; line: number }[] {
  const links: { target: string; line: number }[] = [];
  for (const { text, line } of proseLines(markdown)) {
    const prose = withoutCodeSpans(text);
    const targets = [...prose.matchAll(INLINE_LINK)].map((match) => match[1] ?? '');
    const definition = REFERENCE_DEFINITION.exec(prose)?.[1];
    if (definition) targets.push(definition);
    for (const target of targets) {
      if (target && !EXTERNAL.test(target)) links.push({ target, line });
    }
  }
  return links;
}

/**
 * The broken relative links of one page. `readPage` gives the Markdown of another page by its
 * path (undefined when there is no such file), so tests can check pages that are not on disk.
 */
export function brokenLinksOf(
  page: string,
  markdown: string,
  readPage: (path: string) => string | undefined,
): BrokenLink[] {
  const broken: BrokenLink[] = [];
  for (const { target, line } of relativeLinksOf(markdown)) {
    const [rawPath = '', fragment] = target.split('#', 2);
    const path = decodeURIComponent(rawPath);
    const targetPage = path === '' ? page : join(dirname(page), path);
    const content = path === '' ? markdown : readPage(targetPage);
    if (content === undefined) {
      broken.push({ page, line, target, reason: `${targetPage} does not exist` });
      continue;
    }
    if (fragment !== undefined && !anchorsOf(content).has(decodeURIComponent(fragment))) {
      broken.push({ page, line, target, reason: `${targetPage} has no heading #${fragment}` });
    }
  }
  return broken;
}

/** README.md, CHANGELOG.md and every Markdown page under docs/, relative to `root`. */
export function documentationPages(root: string): string[] {
  const pages = ['README.md', 'CHANGELOG.md'].filter((page) => existsSync(join(root, page)));
  const walk = (directory: string): void => {
    for (const entry of readdirSync(join(root, directory), { withFileTypes: true })) {
      const path = join(directory, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.md')) pages.push(path);
    }
  };
  if (existsSync(join(root, 'docs'))) walk('docs');
  return pages;
}

/** Reads a page of the repository: a directory counts as existing (no headings). */
export function repositoryReader(root: string): (path: string) => string | undefined {
  return (path) => {
    const absolute = resolve(root, path);
    if (relative(root, absolute).startsWith('..') || !existsSync(absolute)) return undefined;
    return statSync(absolute).isDirectory() ? '' : readFileSync(absolute, 'utf8');
  };
}
