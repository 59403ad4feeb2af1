import * as crypto from 'node:crypto';
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

// Every request hashes its key, a throttled flood's included: the one-shot crypto.hash (Node
// 20.12 and newer) costs about a third of a Hash object.
const oneShotHash = typeof crypto.hash === 'function' ? crypto.hash : undefined;

export function hashApiKey(key: string): Buffer {
  return oneShotHash
    ? oneShotHash('sha256', key, 'buffer')
    : createHash('sha256').update(key, 'utf8').digest();
}

/** hashApiKey in hex, the form the in-memory throttles keep. */
export function hashApiKeyHex(key: string): string {
  return oneShotHash
    ? oneShotHash('sha256', key, 'hex')
    : createHash('sha256').update(key, 'utf8').digest('hex');
}

/** Constant-time comparison of two key hashes. */
export function sameHash(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
