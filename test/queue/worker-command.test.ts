import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type QueueFixture, startQueueFixture } from './queue-fixture.js';

const SELFMX = fileURLToPath(new URL('../../app/src/selfmx.ts', import.meta.url));

interface WorkerProcess {
  readonly child: ChildProcess;
  readonly output: () => string;
}

describe('selfmx worker (the command, as real processes)', () => {
  let fx: QueueFixture;
  const running: ChildProcess[] = [];

  before(async () => {
    fx = await startQueueFixture();
  });
  after(async () => {
    for (const child of running) if (child.exitCode === null) child.kill('SIGKILL');
    await fx.close();
  });

  const workerEnv = (extra: Record<string, string> = {}) => ({
    PATH: process.env.PATH ?? '',
    DATABASE_URL: fx.postgres.url('sslmode=disable'),
    DB_AUTO_MIGRATE: 'false',
    SMTP_HOST: fx.sink.host,
    SMTP_PORT: String(fx.sink.port),
    SMTP_TLS_VERIFY: 'false',
    QUEUE_WORKERS: '4',
    LOG_LEVEL: 'info',
    ...extra,
  });

  const startWorker = (env: Record<string, string>): WorkerProcess => {
    const child = spawn(process.execPath, ['--import', 'tsx', SELFMX, 'worker'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.push(child);
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    return { child, output: () => output };
  };

  const waitForOutput = async (worker: WorkerProcess, pattern: RegExp, timeoutMs = 20_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(worker.output())) {
      if (Date.now() > deadline || worker.child.exitCode !== null) {
        throw new Error(`no ${pattern} in worker output:\n${worker.output()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  it('refuses to start without SMTP_HOST, naming it, and needs no API_KEY', async () => {
    const { SMTP_HOST: _omitted, ...env } = workerEnv();
    const worker = startWorker(env);
    const [code] = await once(worker.child, 'exit');
    assert.equal(code, 1);
    assert.match(worker.output(), /SMTP_HOST/);
    assert.doesNotMatch(worker.output(), /API_KEY/);
    assert.doesNotMatch(worker.output(), /test-password/, 'the database password is never shown');
  });

  it('two worker processes on one database never deliver an email twice while its lease holds', async () => {
    const first = startWorker(workerEnv());
    const second = startWorker(workerEnv());
    await waitForOutput(first, /queue workers started/);
    await waitForOutput(second, /queue workers started/);

    fx.sink.setReplyDelay(20);
    const ids = await fx.insertEmails(200, {}, true);
    await fx.waitUntilSettled(60_000);

    const received = fx.sink.messages.map((m) => m.header('message-id'));
    assert.equal(received.length, 200, 'each email reached the relay exactly once');
    assert.deepEqual(new Set(received), new Set(ids.map((id) => `<${id}@example.com>`)));
    const { rows } = await fx.pool.query<{ claims: number; processes: number }>(
      `SELECT max(claims)::int AS claims, count(DISTINCT process)::int AS processes FROM (
         SELECT email_id, count(*) AS claims, min(split_part(detail, '#', 1)) AS process
           FROM email_events WHERE type = 'sending' GROUP BY email_id) per_email`,
    );
    assert.equal(rows[0]?.claims, 1, 'no email was claimed twice');
    assert.equal(rows[0]?.processes, 2, 'both processes delivered part of the queue');

    for (const worker of [first, second]) {
      worker.child.kill('SIGTERM');
      const [code] = await once(worker.child, 'exit');
      assert.equal(code, 0, 'SIGTERM stops gracefully with exit code 0');
      assert.match(worker.output(), /worker stopped/);
    }
  });
});
