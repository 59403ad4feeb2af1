import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SendGate } from '../../app/src/queue/send-gate.js';

describe('SendGate', () => {
  it('runs at most `limit` sends at once, the others in arrival order', async () => {
    const gate = new SendGate(3);
    let running = 0;
    let most = 0;
    const started: number[] = [];
    const releases: (() => void)[] = [];
    const sends = Array.from({ length: 8 }, (_, index) =>
      gate.run(async () => {
        started.push(index);
        running += 1;
        most = Math.max(most, running);
        await new Promise<void>((resolve) => releases.push(resolve));
        running -= 1;
        return index;
      }),
    );
    while (started.length < 8) {
      await new Promise((resolve) => setImmediate(resolve));
      releases.shift()?.();
    }
    for (const release of releases) release();
    assert.deepEqual(await Promise.all(sends), [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.equal(most, 3);
    assert.deepEqual(started, [0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('frees the slot of a send that fails', async () => {
    const gate = new SendGate(1);
    await assert.rejects(
      gate.run(async () => {
        throw new Error('relay refused');
      }),
      /relay refused/,
    );
    assert.equal(await gate.run(async () => 'next'), 'next');
  });

  it('refuses a limit below one, naming it', () => {
    assert.throws(() => new SendGate(0), /SendGate limit must be a positive integer, got 0/);
  });
});
