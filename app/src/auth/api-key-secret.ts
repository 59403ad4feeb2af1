import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * API key secrets: `smx_` + 32 random bytes in base64url. Only the SHA-256 is stored; the
 * first characters (the prefix) are kept so people can tell keys apart in listings.
 */
export const KEY_PREFIX = 'smx_';
const SHOWN_PREFIX_LENGTH = KEY_PREFIX.length + 8;

export function generateApiKey(): { key: string; prefix: string; hash: Buffer } {
  const key = `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { key, prefix: key.slice(0, SHOWN_PREFIX_LENGTH), hash: hashApiKey(key) };
}

export function hashApiKey(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

/** Constant-time comparison of two key hashes. */
export function sameHash(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
