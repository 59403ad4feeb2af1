import { cp, mkdir, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/**
 * Bundles the SelfMX service into app/dist/selfmx.js (one ESM file, Node 20), with the
 * template-render worker thread's entry beside it (template-render-worker.js), and ships the
 * migrations beside them, so the container image needs no node_modules.
 */
const root = fileURLToPath(new URL('..', import.meta.url));
const dist = `${root}app/dist`;

await rm(dist, { recursive: true, force: true });
await mkdir(dist, { recursive: true });
await build({
  entryPoints: {
    selfmx: `${root}app/src/selfmx.ts`,
    'template-render-worker': `${root}app/src/templates/template-render-worker.ts`,
  },
  outdir: dist,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: 'linked',
  legalComments: 'external',
  logLevel: 'warning',
  // pg's optional native binding is never used.
  external: ['pg-native'],
  // Some bundled CommonJS dependencies call require() for Node built-ins.
  banner: {
    js: "import { createRequire as __selfmxCreateRequire } from 'node:module'; const require = __selfmxCreateRequire(import.meta.url);",
  },
});
await cp(`${root}migrations`, `${dist}/migrations`, { recursive: true });
// Marks the folder as ESM wherever it is copied (the container image has no root package.json).
await writeFile(`${dist}/package.json`, `${JSON.stringify({ type: 'module' }, null, 2)}\n`);
console.log('built app/dist/selfmx.js');
