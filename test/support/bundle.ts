import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { cp, mkdtemp, open, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dist = join(root, 'app/dist');
const run = promisify(execFile);

/** The bundle `npm run build` writes (what the Dockerfile copies to /app/selfmx.js). */
const BUNDLE = join(dist, 'selfmx.js');

/** A private copy of app/dist; `selfmx.js` and `migrations/` are in `dir`. */
export interface BundleCopy {
  readonly dir: string;
  /** `<dir>/selfmx.js` */
  readonly bundle: string;
  remove(): Promise<void>;
}

/**
 * Builds the bundle (`npm run build`) unless app/dist/selfmx.js is newer than every source file,
 * then copies app/dist into a private folder: other test files that rebuild app/dist meanwhile
 * cannot pull the files from under our processes. The copy is the image's layout (selfmx.js with
 * migrations/ beside it); tests may change its migrations/ without touching the repository.
 */
export async function buildBundleCopy(): Promise<BundleCopy> {
  const dir = await mkdtemp(join(tmpdir(), 'selfmx-bundle-'));
  // Copied under the lock too: a build (which empties app/dist first) must not run meanwhile.
  await withFileLock(join(tmpdir(), 'selfmx-build.lock'), async () => {
    if (await isStale()) await run('npm', ['run', 'build'], { cwd: root, maxBuffer: 1 << 24 });
    await cp(dist, dir, { recursive: true });
  });
  return {
    dir,
    bundle: join(dir, 'selfmx.js'),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

let shared: Promise<BundleCopy> | undefined;

/**
 * One buildBundleCopy() for the whole test process (what startApp runs by default), removed
 * when the process exits.
 */
export function sharedBundleCopy(): Promise<BundleCopy> {
  shared ??= buildBundleCopy().then((copy) => {
    process.once('exit', () => rmSync(copy.dir, { recursive: true, force: true }));
    return copy;
  });
  return shared;
}

async function isStale(): Promise<boolean> {
  const built = await stat(BUNDLE).catch(() => undefined);
  if (!built) return true;
  const sources = [
    ...(await filesUnder(join(root, 'app/src'))),
    ...(await filesUnder(join(root, 'migrations'))),
    join(root, 'app/build.ts'),
    join(root, 'package-lock.json'),
  ];
  for (const source of sources) {
    if ((await stat(source)).mtimeMs > built.mtimeMs) return true;
  }
  return false;
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  // parentPath arrived in Node 20.12; `path` is its older name.
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath ?? entry.path, entry.name));
}

/** Serialises builds across test processes (npm test runs two test files at a time). */
async function withFileLock(path: string, work: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + 5 * 60_000;
  for (;;) {
    try {
      await (await open(path, 'wx')).close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // A lock older than any build is left over from a killed run.
      const age = Date.now() - ((await stat(path).catch(() => undefined))?.mtimeMs ?? Date.now());
      if (age > 3 * 60_000) await rm(path, { force: true });
      if (Date.now() > deadline) throw new Error(`timed out waiting for the build lock ${path}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  try {
    await work();
  } finally {
    await rm(path, { force: true });
  }
}
