// Runs main.ts, as `npm run synth` and `cdktf synth` do, on plain Node: esbuild bundles our
// TypeScript in memory (packages stay external) and the bundle runs as CommonJS. Not tsx: its
// module hooks and the source maps it turns on slow down loading cdktf and the providers
// (docs/performance.md). The bundle is built on every run, so it is never stale.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runInThisContext } from 'node:vm';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const entry = `${root}main.ts`;

/**
 * Each of our modules keeps its own import.meta.url (the stacks find the repository and their
 * scripts from it), which a bundle would otherwise lose.
 */
const keepModuleUrls = {
  name: 'keep-module-urls',
  setup(bundle) {
    bundle.onLoad({ filter: /\.ts$/ }, async ({ path }) => ({
      contents: (await readFile(path, 'utf8')).replaceAll(
        'import.meta.url',
        JSON.stringify(pathToFileURL(path).href),
      ),
      loader: 'ts',
    }));
  },
};

const { outputFiles } = await build({
  entryPoints: [entry],
  bundle: true,
  write: false,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  packages: 'external',
  logLevel: 'warning',
  // Any other import.meta property would be empty in the bundle: refuse it rather than run that.
  logOverride: { 'empty-import-meta': 'error' },
  plugins: [keepModuleUrls],
});
const bundled = outputFiles[0]?.text;
if (bundled === undefined) throw new Error(`esbuild produced no bundle for ${entry}`);

const runBundle = runInThisContext(
  `(function (exports, require, module, __filename, __dirname) {${bundled}\n})`,
  { filename: `${entry} (bundled by stacks/synth.mjs)` },
);
const bundleModule = { exports: {} };
runBundle(bundleModule.exports, createRequire(entry), bundleModule, entry, root);
