import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { trackQueueDepth } from '../../app/src/queue/email-metrics.js';
import { QUEUE_DEPTH_MAX_AGE_MS, queueDepthOf } from '../../app/src/queue/queue-depth.js';
import type { TestPostgres } from '../support/postgres.js';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.js';
import {
  type ApiServer,
  createKey,
  email,
  startApiServer,
  startMigratedPostgres,
} from './api-harness.js';

describe('operations: openapi.json, metrics, CORS, request ids, test-smtp', () => {
  let postgres: TestPostgres;
  let server: ApiServer;
  let restricted: ApiServer;
  let sink: SmtpSink;

  before(async () => {
    postgres = await startMigratedPostgres();
    sink = await startSmtpSink({ starttls: false });
    server = await startApiServer(postgres, {
      RATE_LIMIT_REQUESTS: '10000',
      SMTP_HOST: sink.host,
      SMTP_PORT: String(sink.port),
    });
    restricted = await startApiServer(postgres, {
      CORS_ORIGINS: 'https://app.example, https://admin.example',
    });
  });
  after(async () => {
    await server?.close();
    await restricted?.close();
    await sink?.stop();
    await postgres?.destroy();
  });

  test('/openapi.json is OpenAPI 3.1 with every path and the send schema from zod', async () => {
    const response = await server.call('GET', '/openapi.json', { key: null });
    assert.equal(response.status, 200);
    const document = response.body;
    assert.equal(document.openapi, '3.1.0');
    assert.deepEqual(Object.keys(document.paths).sort(), [
      '/health',
      '/metrics',
      '/openapi.json',
      '/v1/api-keys',
      '/v1/api-keys/{id}',
      '/v1/audit',
      '/v1/emails',
      '/v1/emails/batch',
      '/v1/emails/{id}',
      '/v1/emails/{id}/cancel',
      '/v1/emails/{id}/retry',
      '/v1/logs',
      '/v1/send',
      '/v1/suppressions',
      '/v1/suppressions/{id}',
      '/v1/templates',
      '/v1/templates/{id}',
      '/v1/tenants',
      '/v1/tenants/{id}',
      '/v1/test-smtp',
      '/v1/usage',
      '/v1/webhooks',
      '/v1/webhooks/{id}',
      '/v1/webhooks/{id}/events',
      '/v1/webhooks/{id}/events/{eventId}',
      '/v1/webhooks/{id}/events/{eventId}/attempts',
      '/v1/webhooks/{id}/events/{eventId}/replay',
      '/v1/webhooks/{id}/signing-secret/rotate',
    ]);
    const send = document.paths['/v1/emails'].post;
    const schema = send.requestBody.content['application/json'].schema;
    assert.deepEqual(schema.required.sort(), ['from', 'to']);
    assert.equal(schema.additionalProperties, false);
    assert.ok(
      schema.properties.attachments && schema.properties.template_data && schema.properties.tags,
    );
    assert.equal(send['x-permission'], 'send');
    const list = document.paths['/v1/emails'].get;
    const limit = list.parameters.find((p: { name: string }) => p.name === 'limit');
    assert.equal(limit.in, 'query');
    assert.equal(limit.schema.maximum, 100);
    const byId = document.paths['/v1/emails/{id}'].get.parameters[0];
    assert.deepEqual([byId.name, byId.in, byId.required], ['id', 'path', true]);
  });

  test('/metrics exposes API, pool and process metrics in Prometheus format', async () => {
    await server.call('POST', '/v1/emails', { body: email() });
    await server.call('POST', '/v1/emails', { body: { nope: true } });
    const response = await server.call('GET', '/metrics');
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
    const text = response.text;
    assert.match(
      text,
      /selfmx_api_requests_total\{method="POST",route="\/v1\/emails",status_code="200"\} \d+/,
    );
    assert.match(
      text,
      /selfmx_api_errors_total\{method="POST",route="\/v1\/emails",status_code="422"\} \d+/,
    );
    assert.match(
      text,
      /selfmx_api_request_duration_seconds_bucket\{le="0.1",method="POST",route="\/v1\/emails"\}/,
    );
    assert.match(text, /selfmx_db_pool_connections_total \d+/);
    assert.match(text, /selfmx_db_pool_connections_idle \d+/);
    assert.match(text, /selfmx_db_pool_connections_waiting \d+/);
    assert.match(text, /process_cpu_user_seconds_total/);
  });

  test('/metrics needs a key with metrics:read', async () => {
    const anonymous = await server.call('GET', '/metrics', { key: null });
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.body.name, 'missing_api_key');
    const sender = await createKey(server, ['send']);
    const refused = await server.call('GET', '/metrics', { key: sender.token });
    assert.equal(refused.status, 403);
    assert.match(refused.body.message, /"metrics:read"/);
    const scraper = await createKey(server, ['metrics:read']);
    const scraped = await server.call('GET', '/metrics', { key: scraper.token });
    assert.equal(scraped.status, 200);
    assert.match(scraped.text, /selfmx_emails_queued \d+/);
    const openApi = await server.call('GET', '/openapi.json', { key: null });
    assert.equal(openApi.body.paths['/metrics'].get['x-permission'], 'metrics:read');
  });

  test('a flood of /health and /metrics counts the queue at most once a second', async () => {
    // As in `serve`: the workers' gauge and /health read the same pool's queue depth.
    trackQueueDepth(server.pool);
    const scraper = await createKey(server, ['metrics:read']);
    const queueDepth = queueDepthOf(server.pool);
    const before = queueDepth.queries;
    const started = performance.now();
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, index) =>
        index % 2 === 0
          ? server.call('GET', '/health', { key: null })
          : server.call('GET', '/metrics', { key: scraper.token }),
      ),
    );
    const elapsedMs = performance.now() - started;
    assert.deepEqual(new Set(answers.map((answer) => answer.status)), new Set([200]));
    const depths = answers.filter((a) => a.body?.queue_depth !== undefined);
    assert.equal(depths.length, 100);
    assert.ok(depths.every((a) => a.body.queue_depth >= 1));
    // One shared count per QUEUE_DEPTH_MAX_AGE_MS, whatever the number of requests.
    const allowed = 1 + Math.floor(elapsedMs / QUEUE_DEPTH_MAX_AGE_MS);
    const counted = queueDepth.queries - before;
    assert.ok(counted >= 1, 'the depth was counted');
    assert.ok(counted <= allowed, `${counted} counts for 200 requests in ${elapsedMs} ms`);
  });

  test('CORS: any origin by default; a configured list is honoured', async () => {
    const open = await fetch(`${server.url}/v1/emails`, {
      method: 'OPTIONS',
      headers: { origin: 'https://anywhere.example', 'access-control-request-method': 'POST' },
    });
    assert.equal(open.status, 204);
    assert.equal(open.headers.get('access-control-allow-origin'), '*');
    assert.match(open.headers.get('access-control-allow-headers') ?? '', /Authorization/i);

    const allowed = await fetch(`${restricted.url}/health`, {
      headers: { origin: 'https://admin.example' },
    });
    assert.equal(allowed.headers.get('access-control-allow-origin'), 'https://admin.example');
    const refused = await fetch(`${restricted.url}/health`, {
      headers: { origin: 'https://evil.example' },
    });
    assert.equal(refused.headers.get('access-control-allow-origin'), null);
  });

  test('request ids: given ones are kept and echoed, otherwise generated', async () => {
    const given = await server.call('GET', '/health', {
      key: null,
      headers: { 'x-request-id': 'trace-abc.123' },
    });
    assert.equal(given.headers.get('x-request-id'), 'trace-abc.123');
    const generated = await server.call('GET', '/health', { key: null });
    assert.match(generated.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  });

  test('/health: 200 with database, smtp and queue depth', async () => {
    const health = await server.call('GET', '/health', { key: null });
    assert.equal(health.status, 200);
    assert.equal(health.body.status, 'ok');
    assert.equal(health.body.database, 'ok');
    assert.equal(typeof health.body.smtp, 'string');
    assert.ok(Number.isInteger(health.body.queue_depth) && health.body.queue_depth >= 1);
  });

  test('POST /v1/test-smtp: ok against a live relay, 502 naming the failure otherwise', async () => {
    const ok = await server.call('POST', '/v1/test-smtp');
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.body.status, 'ok');
    assert.equal(sink.messages.length, 0);
    const down = await restricted.call('POST', '/v1/test-smtp');
    assert.equal(down.status, 502);
    assert.equal(down.body.name, 'smtp_unavailable');
    assert.match(down.body.message, /ECONNREFUSED|connect/i);
  });
});
