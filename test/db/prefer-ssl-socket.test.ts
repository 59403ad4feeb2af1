import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { parseDatabaseSettings } from '../../app/src/config/database-settings.js';
import { explainDatabaseError } from '../../app/src/db/explain-error.js';
import { clientConfig } from '../../app/src/db/pool.js';

/**
 * sslmode=prefer's socket when the server agrees to TLS ('S') and then never completes the
 * handshake: pg's connection timeout must end the attempt, and the fallback to an unencrypted
 * connection must not open a new connection behind pg's back after that.
 */
test('prefer: a stalled TLS handshake times out without a stray reconnection', async () => {
  const connections: Socket[] = [];
  const stalled = createServer((socket) => {
    connections.push(socket);
    socket.once('data', () => socket.write('S')); // accept the SSLRequest, then say nothing
  });
  await new Promise<void>((resolve) => stalled.listen(0, '127.0.0.1', resolve));
  const address = stalled.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  try {
    const settings = parseDatabaseSettings({
      DATABASE_URL: `postgres://selfmx:Stall-S3cret@127.0.0.1:${port}/selfmx?pool_timeout=1`,
    });
    assert.equal(settings.sslmode, 'prefer');
    const client = new pg.Client(clientConfig(settings));
    client.on('error', () => {});
    const error = await client.connect().then(
      () => assert.fail('connected to a server that never finished the TLS handshake'),
      (caught: unknown) => caught,
    );
    assert.match(
      explainDatabaseError(error, settings),
      /No answer from PostgreSQL at 127\.0\.0\.1/,
    );
    // Give a stray fallback connection time to show up (bounded wait, not a timing assertion).
    await sleep(300);
    assert.equal(connections.length, 1, 'no connection was opened after the timeout');
  } finally {
    for (const socket of connections) socket.destroy();
    await new Promise((resolve) => stalled.close(resolve));
  }
});
