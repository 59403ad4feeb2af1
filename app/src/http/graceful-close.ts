import type { FastifyInstance } from 'fastify';

/**
 * Once closing starts, answers still in flight carry `Connection: close`, so their keep-alive
 * connections end with them. Otherwise a client's idle keep-alive socket (which Fastify only
 * closes when close() begins) would hold close() open until the shutdown deadline.
 */
export function closeConnectionsAfterInFlightAnswers(app: FastifyInstance): void {
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });
}
