import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort } from '../support/postgres.js';

/**
 * `npm run dev` as a developer uses it: started in its own process group like a terminal job,
 * used over HTTP, and stopped with Ctrl-C (SIGINT to the whole group).
 */
const root = fileURLToPath(new URL('../..', import.meta.url));

interface DevRun {
  child: ChildProcess;
  port: number;
  output(): string;
  exited: Promise<number | null>;
}

let home: string;

before(async () => {
  home = await mkdtemp(join(tmpdir(), 'selfmx-dev-test-'));
  // mkdtemp makes it private; PostgreSQL (the OS user postgres when we are root) must get in.
  await chmod(home, 0o755);
});
after(() => rm(home, { recursive: true, force: true }));

async function startDev(): Promise<DevRun> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'app/src/dev.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', PORT: String(port), SELFMX_DEV_DIR: home },
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
  const run = { child, port, output: () => output, exited };
  await until(
    () => health(port),
    60_000,
    () => `dev server did not become healthy:\n${output}`,
  );
  return run;
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
  const timer = setTimeout(() => process.kill(-(run.child.pid ?? 0), 'SIGKILL'), 20_000);
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
  it('runs SelfMX end to end, stops cleanly on Ctrl-C and keeps its data for the next run', async () => {
    const first = await startDev();
    const { apiKey } = JSON.parse(await readFile(join(home, 'credentials.json'), 'utf8')) as {
      apiKey: string;
    };
    assert.ok(first.output().includes(`http://localhost:${first.port}`), first.output());
    assert.ok(first.output().includes(apiKey), 'prints the bootstrap API key');

    const sent = await fetch(`http://127.0.0.1:${first.port}/v1/emails`, {
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

    const second = await startDev();
    const read = await fetch(`http://127.0.0.1:${second.port}/v1/emails/${id}`, {
      headers: { authorization: `Bearer ${apiKey}` },
    });
    assert.equal(read.status, 200, 'the email of the first run is still there');
    assert.equal(((await read.json()) as { status: string }).status, 'delivered');
    assert.equal(await pressCtrlC(second), 0, second.output());
  });
});
