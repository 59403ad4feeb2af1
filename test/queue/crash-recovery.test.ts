import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type QueueFixture, startQueueFixture } from './queue-fixture.js';

const CHILD = fileURLToPath(new URL('./worker-child.ts', import.meta.url));
const WORKERS = 2;
const BATCH = 5;

describe('a worker process killed with SIGKILL mid-batch', () => {
  let fx: QueueFixture;
  const children: ChildProcess[] = [];

  before(async () => {
    fx = await startQueueFixture();
  });
  after(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await fx.close();
  });

  const spawnWorkers = async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        CHILD,
        JSON.stringify({
          databaseUrl: fx.postgres.url('sslmode=disable'),
          queue: fx.queueConfig({ workers: WORKERS, retryDelaySeconds: 0.2 }),
          smtp: fx.smtpConfig({ poolSize: WORKERS * BATCH }),
          tuning: { batchSize: BATCH, leaseSeconds: 1.5, pollIntervalMs: 200 },
        }),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    children.push(child);
    const [chunk] = (await once(child.stdout as NodeJS.ReadableStream, 'data')) as [Buffer];
    assert.match(chunk.toString(), /ready/);
    return child;
  };

  it('loses nothing: after a restart every email is delivered, duplicates bounded by the batches', async () => {
    const ids = await fx.insertEmails(30);
    fx.sink.setReplyDelay(300);

    const doomed = await spawnWorkers();
    await fx.sink.waitForMessages(3);
    doomed.kill('SIGKILL');
    await once(doomed, 'exit');

    const { rows: stranded } = await fx.pool.query<{ id: string }>(
      `SELECT id FROM emails WHERE status = 'sending'`,
    );
    assert.ok(stranded.length > 0, 'the kill left claimed emails in flight');
    assert.ok(stranded.length <= WORKERS * BATCH);

    fx.sink.setReplyDelay(0);
    const survivor = await spawnWorkers();
    await fx.waitUntilSettled(30_000);
    survivor.kill('SIGTERM');
    const [code] = await once(survivor, 'exit');
    assert.equal(code, 0, 'SIGTERM stops the workers gracefully');

    const { rows } = await fx.pool.query<{ status: string; n: number }>(
      `SELECT status, count(*)::int AS n FROM emails GROUP BY status`,
    );
    assert.deepEqual(rows, [{ status: 'delivered', n: 30 }]);
    // Every email reached the relay, identified by its stable Message-ID.
    const received = fx.sink.messages.map((m) => m.header('message-id'));
    for (const id of ids) {
      assert.ok(received.includes(`<${id}@example.com>`), `email ${id} was delivered`);
    }
    // At-least-once: only emails in flight at the kill can arrive twice.
    const duplicates = received.length - new Set(received).size;
    assert.ok(duplicates <= WORKERS * BATCH, `${duplicates} duplicates`);
    // The stranded emails were reclaimed after their lease expired, and that is on record.
    for (const { id } of stranded) {
      const types = (await fx.events(id)).map((e) => e.type);
      assert.deepEqual(types.slice(0, 3), ['queued', 'sending', 'deferred']);
      assert.equal(types.at(-1), 'delivered');
    }
  });
});
