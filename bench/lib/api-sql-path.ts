import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { hashApiKey } from '../../app/src/auth/api-key-secret.js';
import { acceptOptionsOf, EmailAcceptor } from '../../app/src/emails/accept-email.js';
import { sendEmailSchema } from '../../app/src/http/schemas/send-email.js';
import { KeyAuthenticator } from '../../app/src/rate-limit/authenticate-and-count.js';
import { sampleEmailBody } from './sample-email.js';

const NO_LIMIT = { rateLimitRequests: 1_000_000_000, rateLimitWindowSeconds: 60 };

/**
 * For the ingest breakdown: what POST /v1/emails does to PostgreSQL for a key that is already
 * known, called in-process through the app's own modules (validation, then the accept statement
 * that authenticates the key, counts the request and queues the email) with no HTTP around it.
 * Between the INSERT baseline and the API, it splits the gap into "the SQL the API runs per
 * email" and "HTTP, Fastify and the rest".
 */
export async function apiSqlPath(pool: pg.Pool, apiKey: string): Promise<() => Promise<void>> {
  const hash = hashApiKey(apiKey);
  const lookup = await new KeyAuthenticator(pool, NO_LIMIT.rateLimitRequests, 60).lookup(hash);
  if (lookup.kind !== 'live') throw new Error('the bench API key is unknown');
  const { key } = lookup;
  const acceptor = new EmailAcceptor(pool, acceptOptionsOf({ scheduleMaxDays: 30, ...NO_LIMIT }));
  let index = 0;
  return async () => {
    index += 1;
    const request = sendEmailSchema.parse(JSON.parse(sampleEmailBody(index)));
    const result = await acceptor.accept(request, {
      tenantId: key.tenantId,
      apiKeyId: key.id,
      requestId: randomUUID(),
      ip: '127.0.0.1',
      idempotencyKey: null,
      requestHash: null,
      presentedKeyHash: hash,
    });
    if (result.kind !== 'accepted') throw new Error(`not accepted: ${JSON.stringify(result)}`);
  };
}
