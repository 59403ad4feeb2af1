import Fastify, { type FastifyInstance } from 'fastify';
import type pg from 'pg';
import type PgBoss from 'pg-boss';
import type { EmailJob } from './peer-boss.js';
import { EMAIL_QUEUE, findApiKey } from './peer-schema.js';

const BEARER = /^Bearer\s+(\S{1,512})\s*$/i;

interface SendBody {
  from: string;
  to: string | string[];
  subject: string;
  html?: string;
  text?: string;
}

/** Minimal validation, in Fastify's JSON schema: the fields a send needs, and a body. */
const sendSchema = {
  body: {
    type: 'object',
    required: ['from', 'to', 'subject'],
    properties: {
      from: { type: 'string', minLength: 3, maxLength: 320 },
      to: {
        anyOf: [
          { type: 'string', minLength: 3, maxLength: 320 },
          {
            type: 'array',
            minItems: 1,
            maxItems: 50,
            items: { type: 'string', minLength: 3, maxLength: 320 },
          },
        ],
      },
      subject: { type: 'string', maxLength: 998 },
      html: { type: 'string' },
      text: { type: 'string' },
    },
    anyOf: [{ required: ['html'] }, { required: ['text'] }],
  },
  response: { 200: { type: 'object', properties: { id: { type: 'string' } } } },
} as const;

/**
 * The DIY server's HTTP side: a bearer key looked up by its SHA-256 (one query per request, no
 * cache), a schema-checked body, one pg-boss job per email, 200 {id}. One log line per answer,
 * as SelfMX writes.
 */
export function buildPeerApi(pool: pg.Pool, boss: PgBoss): FastifyInstance {
  const app = Fastify({ logger: { level: 'info' }, disableRequestLogging: true });
  app.addHook('onResponse', async (request, reply) => {
    request.log.info(
      { method: request.method, url: request.url, status: reply.statusCode },
      'request',
    );
  });

  app.get('/health', async () => ({ status: 'ok' }));

  app.register(async (api) => {
    // Before the body is read: an unknown key costs one lookup and nothing more.
    api.addHook('onRequest', async (request, reply) => {
      const key = BEARER.exec(request.headers.authorization ?? '')?.[1];
      if (!key || !(await findApiKey(pool, key))) {
        return reply.code(401).send({ error: 'missing or unknown API key' });
      }
    });

    api.post<{ Body: SendBody }>('/v1/emails', { schema: sendSchema }, async (request, reply) => {
      const { from, to, subject, html, text } = request.body;
      const job: EmailJob = { from, to: Array.isArray(to) ? to : [to], subject, html, text };
      const id = await boss.send(EMAIL_QUEUE, job);
      if (!id) return reply.code(500).send({ error: 'the email was not queued' });
      return { id };
    });
  });
  return app;
}
