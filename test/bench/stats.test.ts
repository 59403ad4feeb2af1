import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { median, percentile } from '../../bench/lib/stats.js';

/** The bench's ratios divide medians: an even count of rounds must not pick one side's low run. */
describe('bench statistics', () => {
  test('median: the middle sample, or the mean of the two middle ones', () => {
    assert.equal(median([]), 0);
    assert.equal(median([5]), 5);
    assert.equal(median([772.5, 665.1]), 718.8);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.equal(median([9, 1, 5]), 5);
  });

  test('percentile: nearest rank', () => {
    assert.equal(percentile([1, 2, 3, 4], 50), 2);
    assert.equal(percentile([1, 2, 3, 4], 99), 4);
    assert.equal(percentile([], 99), 0);
  });
});
