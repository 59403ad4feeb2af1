import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffSeconds, decideRetry, type RetryPolicy } from '../../app/src/queue/retry-policy.js';

const DEFAULTS: RetryPolicy = {
  retryAttempts: 100,
  retryDelaySeconds: 60,
  maxRetryDelaySeconds: 3600,
  maxAgeSeconds: 72 * 3600,
  delayNoticeSeconds: 900,
};
const since = new Date('2030-01-01T00:00:00Z');
const after = (seconds: number) => new Date(since.getTime() + seconds * 1000);

describe('retry policy', () => {
  it('doubles the wait from QUEUE_RETRY_DELAY up to QUEUE_MAX_RETRY_DELAY', () => {
    const waits = [1, 2, 3, 4, 5, 6, 7, 8, 500].map((n) => backoffSeconds(n, DEFAULTS));
    assert.deepEqual(waits, [60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]);
    // A first delay longer than the cap is still honoured.
    assert.equal(backoffSeconds(1, { ...DEFAULTS, retryDelaySeconds: 7200 }), 7200);
  });

  it('keeps an email through a 10-minute outage with the defaults, and gives up at QUEUE_MAX_AGE', () => {
    const state = { relayDeferrals: 0, attemptingSince: since, delayNoticeSent: false };
    const tenMinutes = decideRetry(DEFAULTS, { ...state, attempts: 4, now: after(600) });
    assert.equal(tenMinutes.retry, true);
    const lastOne = decideRetry(DEFAULTS, { ...state, attempts: 80, now: after(72 * 3600 - 10) });
    assert.deepEqual(lastOne, { retry: true, retryInSeconds: 10, delayNotice: true });
    const tooOld = decideRetry(DEFAULTS, { ...state, attempts: 81, now: after(72 * 3600) });
    assert.equal(tooOld.retry, false);
    assert.match(
      tooOld.retry ? '' : tooOld.reason,
      /gave up after trying for 72 h \(QUEUE_MAX_AGE/,
    );
  });

  it('counts only 4xx answers against QUEUE_RETRY_ATTEMPTS', () => {
    const policy = { ...DEFAULTS, retryAttempts: 2 };
    const base = { attempts: 9, attemptingSince: since, delayNoticeSent: false, now: after(5) };
    assert.equal(decideRetry(policy, { ...base, relayDeferrals: 2 }).retry, true);
    const third = decideRetry(policy, { ...base, relayDeferrals: 3 });
    assert.match(third.retry ? '' : third.reason, /gave up after 3 attempts answered with 4xx/);
  });

  it('announces the delay once, with the wait that passes QUEUE_DELAY_NOTICE', () => {
    const base = { relayDeferrals: 0, attemptingSince: since };
    const early = decideRetry(DEFAULTS, {
      ...base,
      attempts: 2,
      delayNoticeSent: false,
      now: after(60),
    });
    assert.deepEqual(early, { retry: true, retryInSeconds: 120, delayNotice: false });
    const passing = decideRetry(DEFAULTS, {
      ...base,
      attempts: 4,
      delayNoticeSent: false,
      now: after(420),
    });
    assert.deepEqual(passing, { retry: true, retryInSeconds: 480, delayNotice: true });
    const sent = decideRetry(DEFAULTS, {
      ...base,
      attempts: 5,
      delayNoticeSent: true,
      now: after(900),
    });
    assert.equal(sent.retry && sent.delayNotice, false);
  });
});
