/** Failures are counted per client address in fixed windows of this length. */
export const AUTH_FAILURE_WINDOW_SECONDS = 60;
/** The most addresses tracked per window; past it, new addresses are not throttled. */
const MAX_ADDRESSES = 50_000;
/** The most key hashes remembered as recently authenticated. */
const MAX_KNOWN_KEYS = 10_000;

/**
 * Throttles failed authentications per client address, in memory on each instance: past
 * AUTH_FAILURE_LIMIT failures in a minute, the address's requests are refused with 429 before
 * the key is looked up, until the minute ends. A key this instance has recently seen
 * authenticate is still let through, so a client behind the same address (a NAT, a proxy
 * without TRUST_PROXY) keeps working while another one floods. Both maps are bounded.
 */
export class AuthFailureThrottle {
  private windowStart = 0;
  private failures = new Map<string, number>();
  /** Hex SHA-256 of keys that authenticated, oldest first. */
  private readonly knownKeys = new Map<string, true>();

  constructor(
    private readonly limit: number,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Seconds until `address` may present an unfamiliar key again, or 0 when it may now.
   * `keyHash` is the hash of the presented key, when there is one.
   */
  retryAfterSeconds(address: string | undefined, keyHash?: Buffer): number {
    this.rollWindow();
    if ((this.failures.get(addressKey(address)) ?? 0) < this.limit) return 0;
    if (keyHash && this.knownKeys.has(keyHash.toString('hex'))) return 0;
    const windowEnd = this.windowStart + AUTH_FAILURE_WINDOW_SECONDS * 1000;
    return Math.max(1, Math.ceil((windowEnd - this.now()) / 1000));
  }

  recordFailure(address: string | undefined): void {
    this.rollWindow();
    const key = addressKey(address);
    const count = this.failures.get(key);
    if (count !== undefined) this.failures.set(key, count + 1);
    else if (this.failures.size < MAX_ADDRESSES) this.failures.set(key, 1);
  }

  recordSuccess(keyHash: Buffer): void {
    const hex = keyHash.toString('hex');
    this.knownKeys.delete(hex);
    this.knownKeys.set(hex, true);
    if (this.knownKeys.size > MAX_KNOWN_KEYS) {
      const oldest = this.knownKeys.keys().next().value;
      if (oldest !== undefined) this.knownKeys.delete(oldest);
    }
  }

  private rollWindow(): void {
    const windowMs = AUTH_FAILURE_WINDOW_SECONDS * 1000;
    const start = Math.floor(this.now() / windowMs) * windowMs;
    if (start !== this.windowStart) {
      this.windowStart = start;
      this.failures = new Map();
    }
  }
}

function addressKey(address: string | undefined): string {
  return address ?? 'unknown';
}
