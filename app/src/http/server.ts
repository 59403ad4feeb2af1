import { randomUUID } from 'node:crypto';
import cors from '@fastify/cors';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import type { TrustedProxies } from '../config/trust-proxy.js';
import { EMAIL_LIMITS } from '../emails/limits.js';
import { registerApiMetrics } from './api-metrics.js';
import { registerAuthentication } from './authentication-hook.js';
import { registerErrorHandling } from './error-handler.js';
import { closeConnectionsAfterInFlightAnswers } from './graceful-close.js';
import { buildOpenApiDocument } from './openapi-document.js';
import { observePool } from './pool-metrics.js';
import { registerRoutes } from './register-routes.js';
import { registerRequestLog } from './request-log.js';
import type { RouteSpec } from './route-spec.js';
import { apiKeyRoutes } from './routes/api-keys.js';
import { auditRoutes } from './routes/audit.js';
import { emailBatchRoutes } from './routes/email-batch.js';
import { emailRetryRoute } from './routes/email-retry.js';
import { emailScheduleRoutes } from './routes/email-schedule.js';
import { emailRoutes } from './routes/emails.js';
import { healthRoute } from './routes/health.js';
import { logRoutes } from './routes/logs.js';
import { metricsRoute } from './routes/metrics.js';
import { openApiRoute } from './routes/openapi.js';
import { suppressionRoutes } from './routes/suppressions.js';
import { templateRoutes } from './routes/templates.js';
import { tenantRoutes, usageRoute } from './routes/tenants.js';
import { testSmtpRoute } from './routes/test-smtp.js';
import { webhookRoutes } from './routes/webhooks.js';
import type { ServerDeps } from './server-deps.js';

const API_VERSION = '1.0.0';
const REQUEST_ID = /^[\w.:-]{1,128}$/;
/** Above the AWS load balancer's 60 s idle timeout (Fastify's default). */
const KEEP_ALIVE_TIMEOUT_MS = 72_000;

/**
 * Builds the SelfMX HTTP API on injected dependencies (pool, config, logger, SMTP probe).
 * The caller listens and closes it; closing stops accepting and waits for in-flight requests.
 */
export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger,
    // One 'request' line per answer (below) instead of Fastify's two.
    logController: new LogController({
      disableRequestLogging: true,
      requestIdLogLabel: 'request_id',
    }),
    bodyLimit: EMAIL_LIMITS.bodyBytes,
    ...requestTimeLimits(deps.config.http.requestTimeoutSeconds),
    // X-Forwarded-For is believed only from the proxies TRUST_PROXY names (see client-address.ts).
    trustProxy: trustProxyOption(deps.config.http.trustProxy),
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    return503OnClosing: true,
  }) as unknown as FastifyInstance;

  registerErrorHandling(app);
  acceptEmptyJsonBodies(app);
  await app.register(cors, corsOptions(deps.config.http.corsOrigins));
  registerApiMetrics(app);
  closeConnectionsAfterInFlightAnswers(app);
  // Callback hooks on every request: an async hook costs a promise and a microtask each.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  registerRequestLog(app);
  registerAuthentication(app, deps.pool, deps.config.http, deps.logger);

  const specs: RouteSpec[] = [
    healthRoute(deps),
    metricsRoute(),
    openApiRoute(() => openApi),
    ...emailRoutes(deps),
    emailRetryRoute(deps),
    ...emailBatchRoutes(deps),
    ...emailScheduleRoutes(deps),
    ...logRoutes(deps),
    ...templateRoutes(deps),
    ...apiKeyRoutes(deps),
    ...auditRoutes(deps),
    testSmtpRoute(deps),
    ...webhookRoutes(deps),
    ...suppressionRoutes(deps),
    ...tenantRoutes(deps),
    usageRoute(deps),
  ] as RouteSpec[];
  const openApi = buildOpenApiDocument(specs, API_VERSION);
  registerRoutes(app, specs);

  const observed = observePool(deps.pool);
  app.addHook('onClose', async () => observed.forget());
  return app;
}

/** Fastify's form of TRUST_PROXY: false, a hop count, or the addresses and networks. */
function trustProxyOption(
  trusted: TrustedProxies,
): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (typeof trusted === 'number') return (_address, hop) => hop < trusted;
  return typeof trusted === 'object' ? [...trusted] : trusted;
}

/**
 * A request must arrive whole within HTTP_REQUEST_TIMEOUT (Node answers 408 and closes), so a
 * client trickling bytes cannot hold a connection. Node checks this on a sweep, every
 * `connectionsCheckingInterval`: a quarter of the limit bounds the overshoot to 25 %.
 * The socket idle timeout sits above the keep-alive timeout, which sits above the AWS load
 * balancer's 60 s idle timeout: the server never closes a connection the balancer may reuse.
 */
function requestTimeLimits(requestTimeoutSeconds: number) {
  const requestTimeout = requestTimeoutSeconds * 1000;
  return {
    requestTimeout,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    connectionTimeout: KEEP_ALIVE_TIMEOUT_MS + 3_000,
    http: {
      requestTimeout,
      headersTimeout: requestTimeout,
      connectionsCheckingInterval: Math.min(5_000, Math.ceil(requestTimeout / 4)),
    },
  };
}

/**
 * JSON only (anything else is a 415), and an empty body counts as no body: Resend's SDKs send
 * `Content-Type: application/json` on DELETE requests too.
 */
function acceptEmptyJsonBodies(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (typeof body === 'string' && body.trim() === '') return done(null, undefined);
    return parseJson(request, body as string, done);
  });
}

function corsOptions(origins: readonly string[]) {
  return {
    origin: origins.includes('*') ? '*' : [...origins],
    methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', 'X-Request-Id'],
    exposedHeaders: [
      'Retry-After',
      'ratelimit-limit',
      'ratelimit-remaining',
      'ratelimit-reset',
      'x-quota-reset',
      'x-request-id',
    ],
    maxAge: 600,
  };
}
