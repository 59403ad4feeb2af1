import { cp, mkdir, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { ARTIFACTS_STAMP } from '../stacks/constructs/release-artifacts.js';
import { releaseHash } from '../stacks/constructs/release-hash.js';

/**
 * Builds every artifact app/Dockerfile copies, into app/dist: the SelfMX service bundled into
 * selfmx.js (one ESM file, Node 20+) with the template-render worker's entry beside it
 * (template-render-worker.js), the migrations, the Amazon RDS CA bundle, and
 * the release hash of the sources they were built from (the stacks rebuild when it differs).
 */
const root = fileURLToPath(new URL('..', import.meta.url));
const dist = `${root}app/dist`;
const sources = releaseHash(root);

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
  // Some bundled CommonJS dependencies call require() for Node built-ins; libpg-query finds its
  // WebAssembly file through __dirname (it is copied beside the bundle below).
  banner: {
    js: [
      "import { createRequire as __selfmxCreateRequire } from 'node:module';",
      "import { fileURLToPath as __selfmxFileURLToPath } from 'node:url';",
      'const require = __selfmxCreateRequire(import.meta.url);',
      "const __dirname = __selfmxFileURLToPath(new URL('.', import.meta.url));",
    ].join(' '),
  },
});
await cp(`${root}migrations`, `${dist}/migrations`, { recursive: true });
await cp(`${root}app/certs`, `${dist}/certs`, { recursive: true });
await cp(
  fileURLToPath(import.meta.resolve('libpg-query/wasm/libpg-query.wasm')),
  `${dist}/libpg-query.wasm`,
);
// Marks the folder as ESM wherever it is copied (the container image has no root package.json).
await writeFile(`${dist}/package.json`, `${JSON.stringify({ type: 'module' }, null, 2)}\n`);
await writeFile(`${root}${ARTIFACTS_STAMP}`, `${sources}\n`);
console.log('built app/dist/selfmx.js');
