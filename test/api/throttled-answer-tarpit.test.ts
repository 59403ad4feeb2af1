import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { afterEach, beforeEach, describe, mock, test } from 'node:test';
import { ThrottledAnswerTarpit } from '../../app/src/http/throttled-answer-tarpit.js';

/** A response as the tarpit sees it: still open unless a test closes it. */
const openResponse = () =>
  ({ destroyed: false, writableEnded: false }) as unknown as ServerResponse;

describe('the tarpit of throttled answers', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setInterval'] }));
  afterEach(() => mock.timers.reset());

  /** A tarpit on a fake clock, and the hold times of the answers it wrote, in order. */
  function tarpitOnFakeClock(options: { maxHeld?: number } = {}) {
    const clock = { now: 0 };
    const tarpit = new ThrottledAnswerTarpit({
      holdMs: 1_000,
      answersPerSecond: 1_000,
      tickMs: 10,
      now: () => clock.now,
      ...options,
    });
    const written: number[] = [];
    const advance = (ms: number) => {
      for (let step = 0; step < ms; step += 10) {
        clock.now += 10;
        mock.timers.tick(10);
      }
    };
    const hold = (count: number, response = openResponse) => {
      for (let i = 0; i < count; i++) tarpit.hold(response(), (heldMs) => written.push(heldMs));
    };
    return { tarpit, written, advance, hold };
  }

  test('holds each answer, then writes a burst at a steady pace', () => {
    const { tarpit, written, advance, hold } = tarpitOnFakeClock();
    hold(25);
    advance(990);
    assert.deepEqual(written, [], 'nothing is written before the hold time');
    advance(10);
    assert.equal(written.length, 10, 'at most answersPerSecond × tickMs a tick');
    advance(10);
    assert.equal(written.length, 20);
    advance(10);
    assert.deepEqual(written.slice(20), [1_020, 1_020, 1_020, 1_020, 1_020]);
    assert.equal(tarpit.size, 0);
  });

  test('skips clients that gave up, without spending the pace on them', () => {
    const { written, advance, hold } = tarpitOnFakeClock();
    hold(10, () => ({ destroyed: true, writableEnded: false }) as unknown as ServerResponse);
    hold(3);
    advance(1_000);
    assert.equal(written.length, 3);
  });

  test('answers at once past maxHeld, so memory stays bounded', () => {
    const { tarpit, written, advance, hold } = tarpitOnFakeClock({ maxHeld: 5 });
    hold(8);
    assert.deepEqual(written, [0, 0, 0]);
    assert.equal(tarpit.size, 5);
    advance(1_000);
    assert.equal(written.length, 8);
  });

  test('releaseAll writes every held answer now', () => {
    const { tarpit, written, advance, hold } = tarpitOnFakeClock();
    hold(4);
    advance(100);
    tarpit.releaseAll();
    assert.deepEqual(written, [100, 100, 100, 100]);
    assert.equal(tarpit.size, 0);
  });
});
