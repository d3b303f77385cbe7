// The compiled "which labels (named locations) contain this address" index. Every CIDR boundary starts an
// elementary interval; each interval points at an interned, frozen label set; a lookup is a bucketed binary search.

import { type Cidr, cidrContains } from './cidr.ts';
import type { Ip } from './ip.ts';
import { toWords } from './ipv6-words.ts';

const EMPTY: readonly number[] = Object.freeze([]);

/** Collects (CIDR, label) pairs, then compiles them into an immutable `PrefixSet`. */
export class PrefixSetBuilder {
  // Plain arrays while collecting; typed arrays once the sizes are known in build().
  #v4First: number[] = [];
  #v4Prefix: number[] = [];
  #v4Label: number[] = [];
  #v6Words: number[] = []; // four 32-bit words per range, most significant first
  #v6Prefix: number[] = [];
  #v6Label: number[] = [];

  /** Adds a range under a label: a small non-negative integer such as a named location's index. */
  add(cidr: Cidr, label: number): void {
    if (!Number.isSafeInteger(label) || label < 0) {
      throw new RangeError(`label ${String(label)} for '${cidr.text}' is not a non-negative integer`);
    }
    const network = cidr.network;
    if (network.family === 4) {
      this.#v4First.push(network.value);
      this.#v4Prefix.push(cidr.prefixLength);
      this.#v4Label.push(label);
    } else {
      const w = toWords(network.value);
      this.#v6Words.push(w[0], w[1], w[2], w[3]);
      this.#v6Prefix.push(cidr.prefixLength);
      this.#v6Label.push(label);
    }
  }

  build(): PrefixSet {
    // Labels are renumbered densely in sorted order, so per-label counters stay small for any label values and a
    // label set kept sorted by dense number is also sorted by label.
    const labels = [...new Set([...this.#v4Label, ...this.#v6Label])].sort((a, b) => a - b);
    const dense = new Map(labels.map((label, i) => [label, i]));
    const interner = new LabelSetInterner(labels);
    const v4 = compileFamily(1, v4Events(this.#v4First, this.#v4Prefix, this.#v4Label, dense), interner);
    const v6 = compileFamily(4, v6Events(this.#v6Words, this.#v6Prefix, this.#v6Label, dense), interner);
    return new PrefixSet(v4, v6, interner.sets, this.#v4First.length + this.#v6Prefix.length);
  }
}

/** An immutable index from addresses to the sorted labels of every range that contains them. */
export class PrefixSet {
  /** Number of ranges added, duplicates included. */
  readonly size: number;
  readonly #v4: FamilyIndex;
  readonly #v6: FamilyIndex;
  readonly #sets: readonly (readonly number[])[];

  /** Use `PrefixSetBuilder`. */
  constructor(v4: FamilyIndex, v6: FamilyIndex, sets: readonly (readonly number[])[], size: number) {
    this.#v4 = v4;
    this.#v6 = v6;
    this.#sets = sets;
    this.size = size;
  }

  /**
   * Sorted, de-duplicated labels of every range containing the address. The array is shared and frozen: the same
   * label set is the same array, and nothing is allocated per lookup. IPv4 addresses are only in IPv4 ranges
   * (IPv4-mapped ranges were turned into IPv4 by `parseCidr`).
   */
  lookup(ip: Ip): readonly number[] {
    if (ip.family === 4) return this.#sets[lookupV4(this.#v4, ip.value)];
    const w = toWords(ip.value);
    // parseIp never returns IPv4-mapped IPv6, but a hand-built one is treated as the IPv4 address it maps.
    if (w[0] === 0 && w[1] === 0 && w[2] === 0xffff) return this.#sets[lookupV4(this.#v4, w[3])];
    return this.#sets[lookupV6(this.#v6, w[0], w[1], w[2], w[3])];
  }

  /** Whether any range contains the address. */
  has(ip: Ip): boolean {
    return this.lookup(ip).length > 0;
  }

  /** Shape of the compiled index, for benchmarks and diagnostics. */
  stats(): { intervalsV4: number; intervalsV6: number; labelSets: number } {
    return { intervalsV4: this.#v4.count, intervalsV6: this.#v6.count, labelSets: this.#sets.length };
  }
}

/**
 * The reference answer by linear scan, for property tests and as the benchmark baseline. Allocates; not for
 * production lookups.
 */
export function naiveLookup(cidrs: ReadonlyArray<{ cidr: Cidr; label: number }>, ip: Ip): readonly number[] {
  const found = new Set<number>();
  for (const { cidr, label } of cidrs) if (cidrContains(cidr, ip)) found.add(label);
  return found.size === 0 ? EMPTY : [...found].sort((a, b) => a - b);
}

/**
 * One family's elementary intervals: interval i covers [start i, start i+1) and carries label set setIds[i].
 * Interval 0 always starts at address 0. `buckets` narrows the binary search: addresses whose first word falls in
 * bucket b have their interval in [buckets[b], buckets[b + 1]].
 */
type FamilyIndex = {
  readonly words: 1 | 4;
  readonly count: number;
  readonly starts: Uint32Array; // `words` words per interval, most significant first
  readonly setIds: Uint32Array;
  readonly buckets: Uint32Array; // bucketCount + 1 entries
  readonly bucketCount: number;
  readonly bucketBase: number; // first word of bucket 1's lower bound minus one bucket width
  readonly bucketWidth: number; // a power of two
};

function lookupV4(index: FamilyIndex, x: number): number {
  const starts = index.starts;
  let b = Math.floor((x - index.bucketBase) / index.bucketWidth);
  if (b < 0) b = 0;
  else if (b >= index.bucketCount) b = index.bucketCount - 1;
  let lo = index.buckets[b];
  let hi = index.buckets[b + 1];
  // Largest i in [lo, hi] with starts[i] <= x; starts[lo] <= x holds by construction.
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (starts[mid] <= x) lo = mid;
    else hi = mid - 1;
  }
  return index.setIds[lo];
}

function lookupV6(index: FamilyIndex, x0: number, x1: number, x2: number, x3: number): number {
  const starts = index.starts;
  let b = Math.floor((x0 - index.bucketBase) / index.bucketWidth);
  if (b < 0) b = 0;
  else if (b >= index.bucketCount) b = index.bucketCount - 1;
  let lo = index.buckets[b];
  let hi = index.buckets[b + 1];
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    const k = mid * 4;
    const s0 = starts[k];
    let le: boolean;
    if (s0 !== x0) le = s0 < x0;
    else if (starts[k + 1] !== x1) le = starts[k + 1] < x1;
    else if (starts[k + 2] !== x2) le = starts[k + 2] < x2;
    else le = starts[k + 3] <= x3;
    if (le) lo = mid;
    else hi = mid - 1;
  }
  return index.setIds[lo];
}

/**
 * Range boundaries as events: a range [first, last] starts its label at `first` and ends it at last + 1. An end
 * past the top of the address space is left out.
 */
type Events = {
  readonly count: number;
  readonly keys: Uint32Array; // words per event, most significant first
  readonly codes: Uint32Array; // dense label * 2, plus 1 for an end
};

const TWO_32 = 2 ** 32;

function v4Events(first: number[], prefix: number[], label: number[], dense: Map<number, number>): Events {
  const n = first.length;
  const keys = new Uint32Array(n * 2);
  const codes = new Uint32Array(n * 2);
  let count = 0;
  for (let i = 0; i < n; i++) {
    const code = dense.get(label[i])! * 2;
    keys[count] = first[i];
    codes[count++] = code;
    const end = first[i] + 2 ** (32 - prefix[i]);
    if (end < TWO_32) {
      keys[count] = end;
      codes[count++] = code + 1;
    }
  }
  return { count, keys, codes };
}

function v6Events(words: number[], prefix: number[], label: number[], dense: Map<number, number>): Events {
  const n = prefix.length;
  const keys = new Uint32Array(n * 8);
  const codes = new Uint32Array(n * 2);
  let count = 0;
  for (let i = 0; i < n; i++) {
    const code = dense.get(label[i])! * 2;
    const k = count * 4;
    for (let j = 0; j < 4; j++) keys[k + j] = words[i * 4 + j];
    codes[count++] = code;
    // last + 1 = first + 2^(128 - prefix): add one bit, carrying into more significant words.
    const bit = 128 - prefix[i];
    if (bit === 128) continue;
    const e = count * 4;
    for (let j = 0; j < 4; j++) keys[e + j] = words[i * 4 + j];
    let word = 3 - (bit >>> 5);
    let add = 2 ** (bit & 31);
    while (word >= 0 && add > 0) {
      const sum = keys[e + word] + add;
      keys[e + word] = sum; // stored modulo 2^32
      add = sum >= TWO_32 ? 1 : 0;
      word--;
    }
    if (add > 0) continue; // carried past the top: the range runs to the last address
    codes[count++] = code + 1;
  }
  return { count, keys, codes };
}

/** Sorts event indexes by key with a stable LSD radix sort on 16-bit digits, skipping digits that never vary. */
function sortEvents(events: Events, words: number): Uint32Array {
  const n = events.count;
  const keys = events.keys;
  let order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  let spare = new Uint32Array(n);
  const counts = new Uint32Array(65536);
  for (let word = words - 1; word >= 0; word--) {
    for (let shift = 0; shift <= 16; shift += 16) {
      counts.fill(0);
      for (let i = 0; i < n; i++) counts[(keys[i * words + word] >>> shift) & 0xffff]++;
      if (n === 0 || counts[(keys[word] >>> shift) & 0xffff] === n) continue; // every key has this digit
      let sum = 0;
      for (let d = 0; d < 65536; d++) {
        const c = counts[d];
        counts[d] = sum;
        sum += c;
      }
      for (let i = 0; i < n; i++) {
        const e = order[i];
        spare[counts[(keys[e * words + word] >>> shift) & 0xffff]++] = e;
      }
      [order, spare] = [spare, order];
    }
  }
  return order;
}

/** Interns label sets so that each distinct set is one frozen array; set 0 is the empty set. */
class LabelSetInterner {
  readonly sets: (readonly number[])[] = [EMPTY];
  readonly #labels: readonly number[];
  readonly #byHash = new Map<number, number>();
  readonly #byKey = new Map<string, number>(); // only for the rare hash collision
  // Zobrist hashing: a set's hash is the XOR of its members' random values, updated in O(1) per change.
  readonly zobristHigh: Uint32Array;
  readonly zobristLow: Uint32Array;

  constructor(labels: readonly number[]) {
    this.#labels = labels;
    const random = splitMix32(0x9e3779b9);
    this.zobristHigh = new Uint32Array(labels.length).map(() => random() >>> 6);
    this.zobristLow = new Uint32Array(labels.length).map(() => random() >>> 6);
  }

  /** The id of the set of dense labels active[0, size), sorted ascending, whose hashes are high and low. */
  intern(active: Int32Array, size: number, high: number, low: number): number {
    if (size === 0) return 0;
    const hash = high * 2 ** 26 + low;
    const id = this.#byHash.get(hash);
    if (id === undefined) {
      const created = this.#create(active, size);
      this.#byHash.set(hash, created);
      return created;
    }
    if (this.#matches(this.sets[id], active, size)) return id;
    const key = Array.from(active.subarray(0, size)).join(',');
    const other = this.#byKey.get(key);
    if (other !== undefined) return other;
    const created = this.#create(active, size);
    this.#byKey.set(key, created);
    return created;
  }

  #create(active: Int32Array, size: number): number {
    const set = new Array<number>(size);
    for (let i = 0; i < size; i++) set[i] = this.#labels[active[i]];
    this.sets.push(Object.freeze(set));
    return this.sets.length - 1;
  }

  #matches(set: readonly number[], active: Int32Array, size: number): boolean {
    if (set.length !== size) return false;
    for (let i = 0; i < size; i++) if (set[i] !== this.#labels[active[i]]) return false;
    return true;
  }
}

/** Sweeps the sorted boundaries, tracking which labels are active, and records an interval where the set changes. */
function compileFamily(words: 1 | 4, events: Events, interner: LabelSetInterner): FamilyIndex {
  const order = sortEvents(events, words);
  const { keys, codes } = events;
  const labelCount = interner.zobristHigh.length;
  const depth = new Int32Array(labelCount); // how many ranges of each label cover the sweep point
  const active = new Int32Array(labelCount); // dense labels with depth > 0, sorted
  let size = 0;
  let high = 0;
  let low = 0;
  const starts = new Uint32Array((events.count + 1) * words);
  const setIds = new Uint32Array(events.count + 1);
  let count = 1; // interval 0 starts at address 0 with the empty set
  let i = 0;
  while (i < events.count) {
    const point = order[i] * words;
    let changed = false;
    let j = i;
    for (; j < events.count; j++) {
      const e = order[j];
      if (!samePoint(keys, point, e * words, words)) break;
      const label = codes[e] >>> 1;
      if ((codes[e] & 1) === 1) {
        if (--depth[label] > 0) continue;
        let at = 0;
        while (active[at] !== label) at++;
        active.copyWithin(at, at + 1, size);
        size--;
      } else {
        if (depth[label]++ > 0) continue;
        let at = size;
        while (at > 0 && active[at - 1] > label) at--;
        active.copyWithin(at + 1, at, size);
        active[at] = label;
        size++;
      }
      high ^= interner.zobristHigh[label];
      low ^= interner.zobristLow[label];
      changed = true;
    }
    i = j;
    if (!changed) continue;
    const id = interner.intern(active, size, high, low);
    if (id === setIds[count - 1]) continue; // same set as the interval before: extend it
    if (isZero(keys, point, words)) {
      setIds[0] = id; // ranges starting at address 0 relabel interval 0
      continue;
    }
    for (let w = 0; w < words; w++) starts[count * words + w] = keys[point + w];
    setIds[count++] = id;
  }
  const index = {
    words,
    count,
    starts: starts.slice(0, count * words),
    setIds: setIds.length - count > 1024 ? setIds.slice(0, count) : setIds,
  };
  return { ...index, ...bucketize(index.starts, count, words) };
}

function samePoint(keys: Uint32Array, a: number, b: number, words: number): boolean {
  for (let w = 0; w < words; w++) if (keys[a + w] !== keys[b + w]) return false;
  return true;
}

function isZero(keys: Uint32Array, at: number, words: number): boolean {
  for (let w = 0; w < words; w++) if (keys[at + w] !== 0) return false;
  return true;
}

const MAX_BUCKETS = 2 ** 18;

/**
 * Splits the span of the intervals' first words into about as many equal buckets as there are intervals, so a
 * lookup binary-searches a handful of intervals instead of all of them and stays flat as the set grows.
 */
function bucketize(
  starts: Uint32Array,
  count: number,
  words: number,
): { buckets: Uint32Array; bucketCount: number; bucketBase: number; bucketWidth: number } {
  let bucketCount = 1;
  while (bucketCount < count && bucketCount < MAX_BUCKETS) bucketCount *= 2;
  // Interval 0 starts at address 0; buckets span the first words of the others.
  const lowest = count > 1 ? starts[words] : 0;
  const highest = starts[(count - 1) * words];
  let bucketWidth = 1;
  while ((highest - lowest) / bucketWidth >= bucketCount - 1) bucketWidth *= 2;
  // Bucket 0 takes everything below `lowest`; bucket b >= 1 starts at first word lowest + (b - 1) * width.
  const bucketBase = lowest - bucketWidth;
  const buckets = new Uint32Array(bucketCount + 1);
  let i = 0;
  for (let b = 1; b < bucketCount; b++) {
    const bound = bucketBase + b * bucketWidth; // lower bound: first word `bound`, other words zero
    while (i + 1 < count && startsAtOrBelow(starts, (i + 1) * words, words, bound)) i++;
    buckets[b] = i;
  }
  buckets[bucketCount] = count - 1;
  return { buckets, bucketCount, bucketBase, bucketWidth };
}

/** Whether the start at `at` is <= the address whose first word is `bound` and whose other words are zero. */
function startsAtOrBelow(starts: Uint32Array, at: number, words: number, bound: number): boolean {
  if (starts[at] !== bound) return starts[at] < bound;
  for (let w = 1; w < words; w++) if (starts[at + w] !== 0) return false;
  return true;
}

/** A small seeded PRNG, so builds are deterministic. */
function splitMix32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}
