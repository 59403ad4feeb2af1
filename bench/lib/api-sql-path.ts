import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { hashApiKey } from '../../app/src/auth/api-key-secret.js';
import { EmailAcceptor } from '../../app/src/emails/accept-email.js';
import { sendEmailSchema } from '../../app/src/http/schemas/send-email.js';
import { KeyAuthenticator } from '../../app/src/rate-limit/authenticate-and-count.js';
import { sampleEmailBody } from './sample-email.js';

/**
 * For the ingest breakdown: what POST /v1/emails does to PostgreSQL, called in-process through
 * the app's own modules (key lookup with the rate-limit count, validation, the accept) with no
 * HTTP around it. Between the INSERT baseline and the API, it splits the gap into "the SQL the
 * API runs per email" and "HTTP, Fastify and the rest".
 */
export function apiSqlPath(pool: pg.Pool, apiKey: string): () => Promise<void> {
  const hash = hashApiKey(apiKey);
  const authenticator = new KeyAuthenticator(pool, 1_000_000_000, 60);
  const acceptor = new EmailAcceptor(pool, { scheduleMaxDays: 30 });
  let index = 0;
  return async () => {
    index += 1;
    const lookup = await authenticator.lookup(hash);
    if (lookup.kind !== 'live') throw new Error('the bench API key is unknown');
    const { key } = lookup;
    const request = sendEmailSchema.parse(JSON.parse(sampleEmailBody(index)));
    const result = await acceptor.accept(request, {
      tenantId: key.tenantId,
      apiKeyId: key.id,
      requestId: randomUUID(),
      ip: '127.0.0.1',
      idempotencyKey: null,
      requestHash: null,
    });
    if (result.kind !== 'accepted') throw new Error(`not accepted: ${JSON.stringify(result)}`);
  };
}
