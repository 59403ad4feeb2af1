import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { hashApiKeyHex } from '../auth/api-key-secret.js';
import { bearerToken } from './bearer-token.js';
import { ThrottledAnswerTarpit } from './throttled-answer-tarpit.js';

/** The most request origins remembered (oldest first out). */
const MAX_ORIGINS = 10_000;
/** Longer origins (a long X-Forwarded-For) are not remembered: they take the Fastify path. */
const MAX_ORIGIN_LENGTH = 256;

type RequestListener = (request: IncomingMessage, response: ServerResponse) => void;

/** What the gate needs of the failed-authentication throttle. */
export interface ThrottleCheck {
  /** Seconds `address` must wait to present the key of hex hash `keyHex`, or 0. */
  retryAfterSeconds(address: string | undefined, keyHex?: string): number;
  /** Audits a throttled request the gate answers. */
  recordThrottled(address: string | undefined): void;
  /** Writes the 429 of a throttled request in Node's own terms. */
  writeThrottled(response: ServerResponse, retryAfter: number, closing: boolean): void;
}

/**
 * Answers the API requests of a throttled client address in Node's `request` event, before
 * Fastify builds, routes, logs and hooks them: during a flood of bad keys most of the answers
 * are these, and the event loop they share with valid requests is the scarce resource. The gate
 * only knows addresses Fastify itself resolved when it throttled them, remembered by the exact
 * inputs of that resolution (the peer, and X-Forwarded-For when TRUST_PROXY names proxies),
 * so it never disagrees with the authentication hook; anything else goes to Fastify. Its 429s
 * go through a ThrottledAnswerTarpit, so a flooder cannot make it answer faster than a steady pace.
 */
export class ThrottledAddressGate {
  /** Origin (peer and forwarded header) to the client address Fastify resolved for it. */
  private readonly addresses = new Map<string, string | undefined>();
  private closing = false;

  constructor(
    private readonly throttle: ThrottleCheck,
    private readonly readsForwardedFor: boolean,
    private readonly tarpit = new ThrottledAnswerTarpit(),
  ) {}

  /** Remembers the address Fastify resolved for a request it throttled. */
  remember(request: FastifyRequest, address: string | undefined): void {
    const origin = this.originOf(request.raw);
    if (origin === undefined || this.addresses.has(origin)) return;
    this.addresses.set(origin, address);
    if (this.addresses.size > MAX_ORIGINS) {
      const oldest = this.addresses.keys().next().value;
      if (oldest !== undefined) this.addresses.delete(oldest);
    }
  }

  /** Puts the gate in front of Fastify's handler on the app's HTTP server. */
  install(app: FastifyInstance): void {
    const server = app.server;
    const handlers = server.listeners('request') as RequestListener[];
    server.removeAllListeners('request');
    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      if (this.refused(request, response)) return;
      for (const handler of handlers) handler.call(server, request, response);
    });
    app.addHook('preClose', async () => {
      this.closing = true;
      this.tarpit.releaseAll();
    });
  }

  private refused(request: IncomingMessage, response: ServerResponse): boolean {
    if (this.addresses.size === 0 || request.method === 'OPTIONS') return false;
    if (!request.url?.startsWith('/v1/')) return false;
    const origin = this.originOf(request);
    if (origin === undefined || !this.addresses.has(origin)) return false;
    const address = this.addresses.get(origin);
    const token = bearerToken(request.headers.authorization);
    const keyHex = token === undefined ? undefined : hashApiKeyHex(token);
    const retryAfter = this.throttle.retryAfterSeconds(address, keyHex);
    if (retryAfter === 0) return false;
    this.throttle.recordThrottled(address);
    const answer = (heldMs: number) => {
      const left = Math.max(1, retryAfter - Math.floor(heldMs / 1000));
      this.throttle.writeThrottled(response, left, this.closing);
    };
    if (this.closing) answer(0);
    else this.tarpit.hold(response, answer);
    return true;
  }

  private originOf(request: IncomingMessage): string | undefined {
    const peer = request.socket?.remoteAddress ?? '';
    const forwarded = this.readsForwardedFor ? (request.headers['x-forwarded-for'] ?? '') : '';
    const origin = `${peer}|${forwarded}`;
    return origin.length <= MAX_ORIGIN_LENGTH ? origin : undefined;
  }
}
