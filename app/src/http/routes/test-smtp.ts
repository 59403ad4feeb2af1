import { z } from 'zod';
import { ApiError } from '../api-error.js';
import { route } from '../route-spec.js';
import type { ServerDeps } from '../server-deps.js';

/** POST /v1/test-smtp: connects and authenticates to the SMTP relay now, sends nothing. */
export function testSmtpRoute({ smtp, logger }: ServerDeps) {
  return route({
    method: 'POST',
    url: '/v1/test-smtp',
    summary: 'Check the SMTP relay connection and credentials (sends nothing)',
    tag: 'operations',
    permission: 'send',
    response: z.object({ status: z.literal('ok'), message: z.string() }),
    handler: async () => {
      try {
        await smtp.verify();
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        logger.warn({ reason }, 'SMTP verification failed');
        throw new ApiError(502, 'smtp_unavailable', `SMTP relay check failed: ${reason}`);
      }
      return { status: 'ok', message: 'connected and authenticated to the SMTP relay' };
    },
  });
}
