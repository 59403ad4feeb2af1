import { isIP } from 'node:net';
import type { FastifyRequest } from 'fastify';

/**
 * The client's IP address, fit for an `inet` column and for per-address counting. Fastify's
 * `request.ip` is the forwarded address when TRUST_PROXY believes the peer; a trusted proxy can
 * still forward a value that is not an IP, and then the peer's own address is used instead.
 */
export function clientAddress(request: FastifyRequest): string | undefined {
  const forwarded = request.ip;
  if (isPlainIp(forwarded)) return forwarded;
  const peer = request.raw.socket?.remoteAddress;
  return isPlainIp(peer) ? peer : undefined;
}

/** An IPv4 or IPv6 address without a zone index (PostgreSQL's inet has none). */
function isPlainIp(value: string | undefined): value is string {
  return value !== undefined && isIP(value) !== 0 && !value.includes('%');
}
