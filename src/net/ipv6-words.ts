// Converts 128-bit IPv6 values between bigint and four unsigned 32-bit words without per-call bigint arithmetic,
// because shifting and masking a 128-bit bigint allocates several times and costs 150–300 ns.

const halves = new BigUint64Array(2);
const words32 = new Uint32Array(halves.buffer);
// Typed arrays use the platform byte order; find where each 32-bit half of a 64-bit lane lives.
const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const LOW = littleEndian ? 0 : 1;
const HIGH = littleEndian ? 1 : 0;

/** Scratch output of `toWords`, most significant word first; overwritten by the next call. */
const out = new Uint32Array(4);

/**
 * Splits a 128-bit value into four 32-bit words, most significant first. Returns a shared scratch array that the
 * next call overwrites: copy the words out before calling again.
 */
export function toWords(value: bigint): Uint32Array {
  halves[0] = value; // BigUint64Array stores the value modulo 2^64: the low half.
  halves[1] = value >> 64n;
  out[0] = words32[2 + HIGH];
  out[1] = words32[2 + LOW];
  out[2] = words32[HIGH];
  out[3] = words32[LOW];
  return out;
}

/** Joins four 32-bit words, most significant first, into a 128-bit value. */
export function fromWords(w0: number, w1: number, w2: number, w3: number): bigint {
  words32[2 + HIGH] = w0;
  words32[2 + LOW] = w1;
  words32[HIGH] = w2;
  words32[LOW] = w3;
  return (halves[1] << 64n) | halves[0];
}
