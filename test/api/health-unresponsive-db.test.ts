import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { loadServiceConfig } from '../../app/src/config/app-config.js';
import { createPool } from '../../app/src/db/pool.js';
import { buildServer } from '../../app/src/http/server.js';
import { createLogger } from '../../app/src/logger.js';
import { call } from './api-harness.js';

/**
 * A database that accepts TCP connections and never answers (a hung server, a black-holed
 * network): /health must still answer, with 503, instead of hanging.
 */
describe('/health with a database that never answers', () => {
  let silent: Server;
  const sockets = new Set<Socket>();
  let pool: pg.Pool;
  let app: FastifyInstance;
  let url: string;

  before(async () => {
    silent = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    const config = loadServiceConfig({
      DATABASE_URL: `postgres://selfmx:secret@127.0.0.1:${port}/selfmx?sslmode=disable`,
      DB_POOL_TIMEOUT: '2',
      API_KEY: 'health-test-key-0123456789',
      SMTP_HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
    });
    const logger = createLogger(config.log);
    pool = createPool(config.database);
    app = await buildServer({
      pool,
      config,
      logger,
      smtp: { status: () => 'ok', verify: async () => {} },
    });
    url = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(async () => {
    await app?.close();
    for (const socket of sockets) socket.destroy();
    await pool?.end().catch(() => undefined);
    await new Promise((resolve) => silent?.close(resolve));
  });

  test('answers 503 with the reason within the pool timeout; an SMTP "ok" does not make it 200', async () => {
    const response = await Promise.race([
      call(url, 'GET', '/health', { key: null }),
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error('/health hung')), 30_000),
      ),
    ]);
    assert.equal(response.status, 503);
    assert.equal(response.body.database, 'unavailable');
    assert.equal(response.body.smtp, 'ok');
    assert.match(response.body.reason, /database/);
    assert.ok(!response.text.includes('secret'), 'the database password leaked into /health');
  });

  test('an authenticated request fails as an outage (503), not as a hang or a 500', async () => {
    const response = await Promise.race([
      call(url, 'GET', '/v1/emails', { key: 'whatever-key' }),
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error('request hung')), 30_000),
      ),
    ]);
    assert.equal(response.status, 503);
    assert.equal(response.body.name, 'service_unavailable');
  });
});
