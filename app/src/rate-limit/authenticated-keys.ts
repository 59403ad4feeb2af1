import type { ApiKeyIdentity } from '../auth/api-key-repository.js';
import { ExpiringEntries } from './expiring-entries.js';

/**
 * How long a key that authenticated is trusted from memory before the body of a send is read.
 * The accept statement checks the key again in any case, so this bounds only how long a revoked
 * key's sends still have their body read before the 401, and how stale the cached identity
 * (permissions, operator tenant) may be.
 */
export const AUTHENTICATED_KEY_MEMORY_MS = 1000;
/** The most authenticated key hashes remembered. */
const MAX_AUTHENTICATED_KEYS = 10_000;

/**
 * The identities of keys that authenticated on this instance moments ago, by hex key hash, so
 * that a send with a known key needs no lookup of its own: the accept statement authenticates
 * and counts it (see emails/email-repository.ts). Bounded: the oldest entry goes first.
 */
export class AuthenticatedKeys {
  private readonly keys: ExpiringEntries<ApiKeyIdentity>;

  constructor(now: () => number = Date.now) {
    this.keys = new ExpiringEntries(AUTHENTICATED_KEY_MEMORY_MS, MAX_AUTHENTICATED_KEYS, now);
  }

  get(keyHex: string): ApiKeyIdentity | undefined {
    return this.keys.get(keyHex);
  }

  remember(keyHex: string, key: ApiKeyIdentity): void {
    this.keys.set(keyHex, key);
  }

  forget(keyHex: string): void {
    this.keys.delete(keyHex);
  }
}
