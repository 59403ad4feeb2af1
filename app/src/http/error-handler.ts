import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import './fastify-types.js';
import { EMAIL_LIMITS } from '../emails/limits.js';
import { ApiError } from './api-error.js';
import { isDatabaseUnavailable, isPoolTimeout } from './database-unavailable.js';

/**
 * Every error leaves in Resend's shape `{statusCode, name, message}`. What the client did
 * wrong is a 4xx naming the field; a database outage is a 503; anything else is a 500 whose
 * details go to the log, not to the client.
 */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setNotFoundHandler((request, reply) => {
    send(
      reply,
      new ApiError(
        404,
        'not_found',
        `${request.method} ${request.url.split('?')[0]}: no such endpoint`,
      ),
    );
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const deferred = request.deferredAuthentication;
    if (!deferred?.pending) return answer(error, request, reply);
    // Left to an accept statement that did not run: looked up and counted first, so that its
    // 401, 403 or 429 wins over `error`.
    return deferred.settleBeforeError(reply).then(
      () => answer(error, request, reply),
      (refusal: FastifyError) => answer(refusal, request, reply),
    );
  });
}

function answer(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error instanceof ApiError) return send(reply, error);
  const known = fromFastifyError(error);
  if (known) return send(reply, known);
  if (isDatabaseUnavailable(error)) {
    request.log.error({ err: error }, 'database unavailable');
    const poolTimeout = isPoolTimeout(error);
    return send(
      reply,
      new ApiError(
        503,
        'service_unavailable',
        poolTimeout
          ? 'no database connection within DB_POOL_TIMEOUT: every pooled connection is busy or PostgreSQL does not answer; retry later'
          : 'the database is unavailable; retry later',
      ),
    );
  }
  request.log.error({ err: error }, 'unhandled error');
  return send(
    reply,
    new ApiError(
      500,
      'internal_server_error',
      `unexpected error; quote request id ${request.id} to the operator`,
    ),
  );
}

function send(reply: FastifyReply, error: ApiError) {
  reply.headers(error.headers);
  return reply
    .code(error.statusCode)
    .type('application/json; charset=utf-8')
    .send({ statusCode: error.statusCode, name: error.errorName, message: error.message });
}

/** Fastify's own refusals (body parsing, content type, size) become 4xx naming the body. */
function fromFastifyError(error: FastifyError): ApiError | undefined {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError(
        413,
        'payload_too_large',
        `body: must be at most ${EMAIL_LIMITS.bodyBytes} bytes`,
      );
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError(
        415,
        'unsupported_media_type',
        'Content-Type: send the body as application/json',
      );
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new ApiError(400, 'invalid_request', 'Content-Length: does not match the body');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ApiError(400, 'validation_error', 'body: is empty; send a JSON object');
  }
  if (error instanceof SyntaxError || error.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
    return new ApiError(400, 'validation_error', `body: malformed JSON (${error.message})`);
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    return new ApiError(status, 'invalid_request', `request: ${error.message}`);
  }
  return undefined;
}
