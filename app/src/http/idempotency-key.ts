import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { EMAIL_LIMITS } from '../emails/limits.js';
import { ApiError } from './api-error.js';

/**
 * The Idempotency-Key header and the hash of the body it guards. A retry with the same key
 * and the same body gets the first answer; the same key with another body is a 409.
 */
export function readIdempotency(
  request: FastifyRequest,
): { key: string; requestHash: Buffer } | { key: null; requestHash: null } {
  const header = request.headers['idempotency-key'];
  if (header === undefined) return { key: null, requestHash: null };
  const key = Array.isArray(header) ? undefined : header.trim();
  if (!key || key.length > EMAIL_LIMITS.idempotencyKeyChars || !/^[\x21-\x7e]+$/.test(key)) {
    throw new ApiError(
      400,
      'invalid_idempotency_key',
      `Idempotency-Key: must be 1-${EMAIL_LIMITS.idempotencyKeyChars} printable ASCII characters, given once`,
    );
  }
  // The parsed body re-serialised: the same JSON document always hashes the same.
  const requestHash = createHash('sha256')
    .update(JSON.stringify(request.body ?? null))
    .digest();
  return { key, requestHash };
}
