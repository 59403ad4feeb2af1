import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  buildImportGraph,
  type ImportEdge,
  listTypeScriptFiles,
  moduleSpecifiersOf,
} from './import-graph.js';
import {
  findCycles,
  findUnplacedFiles,
  findUpwardImports,
  type ImportCycle,
  type LayeredSystem,
  moduleEdges,
} from './layer-check.js';

/**
 * The layers of the repo, top to bottom. A file may import files of its own layer or of a
 * lower one; no two files and no two modules may import each other, directly or in a ring.
 */
const LAYERS: readonly LayeredSystem[] = [
  {
    name: 'app',
    layers: [
      // The development server: it runs `serve` and must never end up in the bundle.
      { name: 'dev', modules: ['app/src/dev.ts', 'app/src/dev/'] },
      { name: 'commands', modules: ['app/src/selfmx.ts', 'app/src/commands/'] },
      { name: 'http', modules: ['app/src/http/'] },
      {
        name: 'domain',
        modules: [
          'app/src/emails/',
          'app/src/templates/',
          'app/src/auth/',
          'app/src/audit/',
          'app/src/rate-limit/',
          'app/src/queue/',
          'app/src/webhooks/',
          'app/src/migrate/',
          'app/src/retention/',
          'app/src/tenants/',
        ],
      },
      {
        name: 'bottom',
        modules: ['app/src/smtp/', 'app/src/db/', 'app/src/config/', 'app/src/logger.ts'],
      },
    ],
  },
  {
    name: 'stacks',
    layers: [
      { name: 'entry', modules: ['main.ts'] },
      { name: 'stacks', modules: ['stacks/*.ts'] },
      { name: 'constructs', modules: ['stacks/constructs/', 'stacks/aspects/'] },
      { name: 'config', modules: ['stacks/config/'] },
    ],
    // The stacks set the app's environment from the app's own declarations and errors.
    mayAlsoImport: ['app/src/config/'],
  },
];

const root = fileURLToPath(new URL('../..', import.meta.url));
const files = listTypeScriptFiles(root, ['app/src', 'stacks', 'main.ts']);
const graph = buildImportGraph(root, files);
const printCycle = ({ path, members }: ImportCycle) => {
  const ring = path.join('\n  -> ');
  const others = members.filter((member) => !path.includes(member));
  return others.length === 0
    ? ring
    : `${ring}\n  (tangled in the same cycle: ${others.join(', ')})`;
};

describe('imports run one way', () => {
  test('every relative import names a file', () => {
    assert.deepEqual(graph.unresolved, []);
  });

  test('every file has a place in the layer table', () => {
    assert.ok(files.length > 100, `found only ${files.length} files under ${root}`);
    assert.deepEqual(findUnplacedFiles(LAYERS, files), [], 'add these files to LAYERS');
  });

  test('no file imports a higher layer', () => {
    const messages = findUpwardImports(LAYERS, graph.edges).map((v) => v.message);
    assert.deepEqual(messages, [], `upward imports:\n${messages.join('\n')}`);
  });

  test('no files import each other in a cycle', () => {
    const cycles = findCycles(graph.edges).map(printCycle);
    assert.deepEqual(cycles, [], `import cycles:\n${cycles.join('\n\n')}`);
  });

  test('no modules import each other in a cycle', () => {
    const cycles = findCycles(moduleEdges(LAYERS, graph.edges)).map(printCycle);
    assert.deepEqual(cycles, [], `module cycles:\n${cycles.join('\n\n')}`);
  });

  test('aws and docker constructs never import each other', () => {
    const targets = ['stacks/constructs/aws/', 'stacks/constructs/docker/'];
    const across = graph.edges
      .filter(({ from, to }) =>
        targets.some(
          (own) =>
            from.startsWith(own) && targets.some((other) => other !== own && to.startsWith(other)),
        ),
      )
      .map(({ from, to }) => `${from} -> ${to}`);
    assert.deepEqual(across, [], 'share the piece through stacks/constructs/ instead');
  });
});

describe('the layering check', () => {
  const fixture: readonly LayeredSystem[] = [
    {
      name: 'app',
      layers: [
        { name: 'top', modules: ['app/top/'] },
        { name: 'middle', modules: ['app/middle/', 'app/peer/'] },
        { name: 'bottom', modules: ['app/bottom/', 'app/base.ts'] },
      ],
    },
    {
      name: 'stacks',
      layers: [{ name: 'stacks', modules: ['stacks/*.ts'] }],
      mayAlsoImport: ['app/bottom/'],
    },
  ];
  const downward: ImportEdge[] = [
    { from: 'app/top/a.ts', to: 'app/middle/b.ts' },
    { from: 'app/middle/b.ts', to: 'app/bottom/c.ts' },
    { from: 'app/middle/b.ts', to: 'app/middle/d.ts' },
    { from: 'app/bottom/c.ts', to: 'app/base.ts' },
    { from: 'stacks/s.ts', to: 'app/bottom/c.ts' },
  ];

  test('passes imports that run downwards', () => {
    assert.deepEqual(findUpwardImports(fixture, downward), []);
    assert.deepEqual(findCycles(downward), []);
    assert.deepEqual(findCycles(moduleEdges(fixture, downward)), []);
  });

  test('fails an import from a lower layer into a higher one, naming files and layers', () => {
    const edges = [...downward, { from: 'app/base.ts', to: 'app/middle/d.ts' }];
    assert.deepEqual(
      findUpwardImports(fixture, edges).map((v) => v.message),
      [
        'app/base.ts (app layer "bottom") imports app/middle/d.ts (app layer "middle"), a higher layer',
      ],
    );
  });

  test('fails imports between systems beyond what a system may also import', () => {
    const edges = [
      { from: 'stacks/s.ts', to: 'app/middle/b.ts' },
      { from: 'app/bottom/c.ts', to: 'stacks/s.ts' },
    ];
    assert.deepEqual(
      findUpwardImports(fixture, edges).map((v) => v.message),
      [
        'stacks/s.ts (stacks layer "stacks") imports app/middle/b.ts (app layer "middle"); stacks may import only app/bottom/',
        'app/bottom/c.ts (app layer "bottom") imports stacks/s.ts (stacks layer "stacks"); app may import only itself',
      ],
    );
  });

  test('fails a cycle of three files, printing it', () => {
    const edges = [
      ...downward,
      { from: 'app/middle/d.ts', to: 'app/middle/e.ts' },
      { from: 'app/middle/e.ts', to: 'app/middle/b.ts' },
    ];
    assert.deepEqual(findCycles(edges).map(printCycle), [
      'app/middle/b.ts\n  -> app/middle/d.ts\n  -> app/middle/e.ts\n  -> app/middle/b.ts',
    ]);
  });

  test('fails a cycle between two modules of one layer', () => {
    const edges = [
      ...downward,
      { from: 'app/middle/d.ts', to: 'app/peer/p.ts' },
      { from: 'app/peer/q.ts', to: 'app/middle/f.ts' },
    ];
    assert.deepEqual(findCycles(edges), []);
    assert.deepEqual(findCycles(moduleEdges(fixture, edges)).map(printCycle), [
      'app/middle/\n  -> app/peer/\n  -> app/middle/',
    ]);
  });

  test('fails a file that no layer holds', () => {
    assert.deepEqual(findUnplacedFiles(fixture, ['app/top/a.ts', 'app/other/x.ts']), [
      'app/other/x.ts',
    ]);
  });

  test('reads every form of import', () => {
    const source = `
      import a from './a.js';
      import type { B } from './b.js';
      import './c.js';
      export { d } from './d.js';
      export type * from './e.js';
      import f = require('./f.js');
      type G = import('./g.js').G;
      const h = await import('./h.js');
    `;
    assert.deepEqual(moduleSpecifiersOf('x.ts', source), [
      './a.js',
      './b.js',
      './c.js',
      './d.js',
      './e.js',
      './f.js',
      './g.js',
      './h.js',
    ]);
  });
});
