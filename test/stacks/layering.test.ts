import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative } from 'node:path';
import { describe, test } from 'node:test';
import { REPOSITORY_ROOT } from '../../stacks/constructs/release-hash.js';

/** Repository-relative file → the repository-relative files it imports (relative specifiers). */
type ImportGraph = ReadonlyMap<string, readonly string[]>;

/**
 * The layers of the deployment code, lowest first: a file may import its own layer or a lower
 * one. main.ts is the only file that reads process.env and builds the stacks.
 */
const LAYERS: readonly { readonly name: string; readonly holds: (file: string) => boolean }[] = [
  { name: 'config', holds: (file) => file.startsWith('stacks/config/') },
  {
    name: 'constructs',
    holds: (file) => file.startsWith('stacks/constructs/') || file.startsWith('stacks/aspects/'),
  },
  { name: 'stacks', holds: (file) => /^stacks\/[^/]+\.ts$/.test(file) },
  { name: 'main', holds: (file) => file === 'main.ts' },
];

/** Target-specific constructs use the shared ones, never each other's. */
const SIBLINGS = ['stacks/constructs/aws/', 'stacks/constructs/docker/'] as const;

/**
 * Imports that break the layering today, each to be removed by moving the module down; an entry
 * that no longer occurs fails the test, so the list only shrinks.
 */
const KNOWN_VIOLATIONS: readonly string[] = [
  // The connection budget validates SELFMX_* settings: it belongs in stacks/config.
  'stacks/config/aws-config.ts -> stacks/constructs/aws/connection-budget.ts',
];

function layerOf(file: string): number {
  return LAYERS.findIndex((layer) => layer.holds(file));
}

/** Every import that goes up a layer or across from aws to docker constructs (or back). */
function layeringViolations(graph: ImportGraph): string[] {
  const violations: string[] = [];
  for (const [file, imports] of graph) {
    for (const imported of imports) {
      if (layerOf(imported) === -1) continue; // outside the deployment code, e.g. app/src/config
      const upward = layerOf(imported) > layerOf(file);
      const across = SIBLINGS.some(
        (own) =>
          file.startsWith(own) &&
          SIBLINGS.some((other) => other !== own && imported.startsWith(other)),
      );
      if (upward || across) violations.push(`${file} -> ${imported}`);
    }
  }
  return violations.sort();
}

/** Each import cycle once, as `a -> b -> … -> a`. */
function importCycles(graph: ImportGraph): string[] {
  const cycles = new Set<string>();
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'visiting');
    path.push(file);
    for (const imported of graph.get(file) ?? []) {
      if (state.get(imported) === 'visiting') {
        const cycle = path.slice(path.indexOf(imported));
        const start = cycle.indexOf([...cycle].sort()[0] as string);
        const canonical = [...cycle.slice(start), ...cycle.slice(0, start)];
        cycles.add([...canonical, canonical[0]].join(' -> '));
      } else if (!state.has(imported) && graph.has(imported)) {
        visit(imported);
      }
    }
    path.pop();
    state.set(file, 'done');
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  return [...cycles].sort();
}

/** The relative imports (`import`, `import type`, `export … from`) of main.ts and stacks/. */
function stacksImportGraph(): ImportGraph {
  const files = ['main.ts', ...typeScriptFiles('stacks')];
  return new Map(
    files.map((file) => {
      const source = readFileSync(join(REPOSITORY_ROOT, file), 'utf8');
      const specifiers = [...source.matchAll(/\bfrom\s+'(\.{1,2}\/[^']+)'/g)].map((m) => m[1]);
      const imports = specifiers.map((specifier) =>
        posix.join(posix.dirname(file), (specifier as string).replace(/\.js$/, '.ts')),
      );
      return [file, [...new Set(imports)]];
    }),
  );
}

function typeScriptFiles(directory: string): string[] {
  return readdirSync(join(REPOSITORY_ROOT, directory), { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.ts'))
    .map((name) => relative(REPOSITORY_ROOT, join(REPOSITORY_ROOT, directory, name)))
    .map((name) => name.split(/[\\/]/).join('/'))
    .sort();
}

describe('stacks import layering: config → constructs → stacks → main.ts', () => {
  const graph = stacksImportGraph();

  test('reads the imports of every deployment file', () => {
    assert.ok(graph.size > 30, `only ${graph.size} files`);
    assert.ok(graph.get('main.ts')?.includes('stacks/aws-stack.ts'));
    assert.ok(graph.get('stacks/aws-stack.ts')?.includes('stacks/config/aws-config.ts'));
    for (const imports of graph.values()) {
      for (const imported of imports) {
        if (layerOf(imported) !== -1) assert.ok(graph.has(imported), `${imported} is not a file`);
      }
    }
  });

  test('no file imports from a higher layer or from the other target', () => {
    assert.deepEqual(layeringViolations(graph), [...KNOWN_VIOLATIONS].sort());
  });

  test('no import cycle', () => {
    assert.deepEqual(importCycles(graph), []);
  });

  test('the checks catch a deliberate upward import, cross-target import and cycle', () => {
    const broken: ImportGraph = new Map([
      ['stacks/config/a.ts', ['stacks/aws-stack.ts']],
      ['stacks/aws-stack.ts', ['stacks/constructs/aws/x.ts']],
      ['stacks/constructs/aws/x.ts', ['stacks/constructs/docker/y.ts']],
      ['stacks/constructs/docker/y.ts', ['stacks/aspects/b.ts']],
      ['stacks/aspects/b.ts', ['stacks/aspects/c.ts']],
      ['stacks/aspects/c.ts', ['stacks/aspects/b.ts']],
    ]);
    assert.deepEqual(layeringViolations(broken), [
      'stacks/config/a.ts -> stacks/aws-stack.ts',
      'stacks/constructs/aws/x.ts -> stacks/constructs/docker/y.ts',
    ]);
    assert.deepEqual(importCycles(broken), [
      'stacks/aspects/b.ts -> stacks/aspects/c.ts -> stacks/aspects/b.ts',
    ]);
  });
});
