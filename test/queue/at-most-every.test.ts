import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { atMostEvery } from '../../app/src/queue/at-most-every.js';

describe('atMostEvery (the workers’ shared lease sweep and scheduled-email promotion)', () => {
  it('runs the task once per period: callers meanwhile share the run or skip it', async () => {
    let runs = 0;
    let finish: () => void = () => {};
    const task = atMostEvery(60_000, async () => {
      runs += 1;
      await new Promise<void>((resolve) => {
        finish = resolve;
      });
    });
    const first = task();
    const second = task();
    assert.equal(second, first, 'a caller during the run waits for that run');
    finish();
    await first;
    await task();
    assert.equal(runs, 1, 'no second run within the period');
  });

  it('runs again on every call with a period of 0', async () => {
    let runs = 0;
    const task = atMostEvery(0, async () => {
      runs += 1;
    });
    await task();
    await task();
    assert.equal(runs, 2);
  });

  it('rejects the callers of a failed run and tries again on the next call', async () => {
    let runs = 0;
    const task = atMostEvery(60_000, async () => {
      runs += 1;
      if (runs === 1) throw new Error('database unreachable');
    });
    await assert.rejects(task(), /database unreachable/);
    await task();
    assert.equal(runs, 2, 'a failure does not count as the period’s run');
    await task();
    assert.equal(runs, 2);
  });
});
