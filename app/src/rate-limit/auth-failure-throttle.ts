/** Failures are counted per client address in fixed windows of this length. */
export const AUTH_FAILURE_WINDOW_SECONDS = 60;
/** The most addresses tracked per window; past it, new addresses are not throttled. */
const MAX_ADDRESSES = 50_000;
/** The most key hashes remembered as recently authenticated. */
const MAX_KNOWN_KEYS = 10_000;

/**
 * Throttles failed authentications per client address, in memory on each instance: past
 * AUTH_FAILURE_LIMIT failures in a minute, the address's requests are refused with 429 before
 * the key is looked up, until the minute ends. An unfamiliar key whose lookup is still in flight
 * counts as a failure already (each distinct key once), so a burst of bad keys cannot get more
 * than the limit of lookups past the throttle before the first one fails. A key this instance
 * has recently seen authenticate is still let through, so a client behind the same address (a
 * NAT, a proxy without TRUST_PROXY) keeps working while another one floods. The maps are bounded.
 */
export class AuthFailureThrottle {
  private windowStart = 0;
  private failures = new Map<string, number>();
  /** Per address: hex key hashes being looked up, with how many requests present each. */
  private readonly pending = new Map<string, Map<string, number>>();
  /** Hex SHA-256 of keys that authenticated, oldest first. */
  private readonly knownKeys = new Map<string, true>();

  constructor(
    private readonly limit: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether `keyHex` authenticated recently: it skips the throttle and the pending count. */
  isKnown(keyHex: string): boolean {
    return this.knownKeys.has(keyHex);
  }

  /**
   * Seconds until `address` may present an unfamiliar key again, or 0 when it may now.
   * `keyHex` is the hex hash of the presented key, when there is one.
   */
  retryAfterSeconds(address: string | undefined, keyHex?: string): number {
    this.rollWindow();
    if (keyHex !== undefined && this.knownKeys.has(keyHex)) return 0;
    const key = addressKey(address);
    const pending = this.pending.get(key);
    const alreadyPending = keyHex !== undefined && pending?.has(keyHex) === true;
    const counted = (this.failures.get(key) ?? 0) + (pending?.size ?? 0) - (alreadyPending ? 1 : 0);
    if (counted < this.limit) return 0;
    const windowEnd = this.windowStart + AUTH_FAILURE_WINDOW_SECONDS * 1000;
    return Math.max(1, Math.ceil((windowEnd - this.now()) / 1000));
  }

  /**
   * Counts a lookup of an unfamiliar key as under way for `address`; call the returned function
   * once it is answered (after recordFailure or recordSuccess).
   */
  beginLookup(address: string | undefined, keyHex: string): () => void {
    const key = addressKey(address);
    let pending = this.pending.get(key);
    if (!pending) {
      pending = new Map();
      this.pending.set(key, pending);
    }
    pending.set(keyHex, (pending.get(keyHex) ?? 0) + 1);
    const lookups = pending;
    return () => {
      const left = (lookups.get(keyHex) ?? 1) - 1;
      if (left > 0) lookups.set(keyHex, left);
      else lookups.delete(keyHex);
      if (lookups.size === 0 && this.pending.get(key) === lookups) this.pending.delete(key);
    };
  }

  /** Counts a failure against `address`; true when it is the one that reaches the limit. */
  recordFailure(address: string | undefined): boolean {
    this.rollWindow();
    const key = addressKey(address);
    const count = (this.failures.get(key) ?? 0) + 1;
    if (count > 1 || this.failures.size < MAX_ADDRESSES) this.failures.set(key, count);
    return count === this.limit;
  }

  recordSuccess(keyHex: string): void {
    this.knownKeys.delete(keyHex);
    this.knownKeys.set(keyHex, true);
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
