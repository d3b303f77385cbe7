// isoTime must be indistinguishable from Date#toISOString: same text for every time, same error for impossible ones.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { isoTime } from './iso-time.ts';

const cases: Array<{ name: string; ms: number }> = [
  { name: 'the epoch', ms: 0 },
  { name: 'the last millisecond of a day', ms: Date.UTC(2026, 10, 23, 23, 59, 59, 999) },
  { name: 'the first millisecond of the next day', ms: Date.UTC(2026, 10, 24) },
  { name: 'a leap day', ms: Date.UTC(2028, 1, 29, 12, 0, 0, 7) },
  { name: 'the last millisecond of year 9999', ms: Date.UTC(9999, 11, 31, 23, 59, 59, 999) },
  { name: 'year 10000, written with an expanded year', ms: Date.UTC(10000, 0, 1) },
  { name: 'before the epoch', ms: -1 },
  { name: 'a fractional millisecond, truncated', ms: 1_700_000_000_000.9 },
  { name: 'the largest time a Date holds', ms: 8.64e15 },
];

for (const c of cases) {
  test(`${c.name} formats as toISOString does`, () => {
    assert.equal(isoTime(c.ms), new Date(c.ms).toISOString());
  });
}

test('times a Date cannot hold throw the same RangeError', () => {
  for (const ms of [Number.NaN, Number.POSITIVE_INFINITY, 8.64e15 + 1]) {
    assert.throws(() => isoTime(ms), RangeError);
  }
});

test('any time, in any order (so the memoised day changes back and forth), formats as toISOString does', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: -8.64e15, max: 8.64e15 }), { minLength: 1, maxLength: 20 }), (times) => {
      for (const ms of times) assert.equal(isoTime(ms), new Date(ms).toISOString());
    }),
  );
  fc.assert(
    fc.property(fc.integer({ min: 1_600_000_000_000, max: 1_900_000_000_000 }), (ms) => {
      assert.equal(isoTime(ms), new Date(ms).toISOString());
    }),
  );
});
