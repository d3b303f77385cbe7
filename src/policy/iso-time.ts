// Formats epoch milliseconds exactly as `new Date(ms).toISOString()` does, for the `evaluatedAt` of every decision:
// building a Date and formatting it costs about 0.6 µs, a fifth of a whole decision's budget.

const DAY_MS = 86_400_000;
/** 10000-01-01T00:00:00.000Z: from here on toISOString writes an expanded six-digit year. */
const YEAR_10000 = 253_402_300_800_000;
const TWO = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
const THREE = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));

// The date changes once a day and the second once a second: both memoised, so most calls format only milliseconds.
let cachedDay = Number.NaN;
let cachedDate = '';
let cachedSecond = Number.NaN;
let cachedUpToSecond = '';
const MILLIS = THREE.map((ms) => `.${ms}Z`);

/** `new Date(ms).toISOString()`, including its RangeError for times a Date cannot hold. */
export function isoTime(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0 || ms >= YEAR_10000) return new Date(ms).toISOString();
  const milli = ms % 1000;
  const second = (ms - milli) / 1000;
  if (second !== cachedSecond) {
    cachedUpToSecond = upToSecond(ms - milli);
    cachedSecond = second;
  }
  return cachedUpToSecond + MILLIS[milli];
}

/** `YYYY-MM-DDTHH:MM:SS` of a whole second. */
function upToSecond(ms: number): string {
  const day = Math.floor(ms / DAY_MS);
  if (day !== cachedDay) {
    cachedDate = new Date(day * DAY_MS).toISOString().slice(0, 11);
    cachedDay = day;
  }
  let rest = (ms - day * DAY_MS) / 1000;
  const second = rest % 60;
  rest = (rest - second) / 60;
  const minute = rest % 60;
  const hour = (rest - minute) / 60;
  return `${cachedDate}${TWO[hour]}:${TWO[minute]}:${TWO[second]}`;
}
