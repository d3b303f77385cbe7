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
    const { labels, v4Dense, v6Dense } = denseLabels(this.#v4Label, this.#v6Label);
    const interner = new LabelSetInterner(labels);
    const v4 = compileFamily(1, v4Events(this.#v4First, this.#v4Prefix, v4Dense), interner);
    const v6 = compileFamily(4, v6Events(this.#v6Words, this.#v6Prefix, v6Dense), interner);
    return new PrefixSet(v4, v6, interner.sets, this.#v4First.length + this.#v6Prefix.length);
  }
}

/**
 * Renumbers labels densely in sorted order, so per-label counters stay small whatever the label values, and a set
 * kept sorted by dense number is also sorted by label.
 */
function denseLabels(v4Label: number[], v6Label: number[]) {
  let max = 0;
  for (const label of v4Label) if (label > max) max = label;
  for (const label of v6Label) if (label > max) max = label;
  const count = v4Label.length + v6Label.length;
  if (max < 4 * count + 1024) {
    // Labels are location indexes: a direct table beats a Map.
    const table = new Int32Array(max + 1).fill(-1);
    for (const label of v4Label) table[label] = 0;
    for (const label of v6Label) table[label] = 0;
    const labels: number[] = [];
    for (let label = 0; label <= max; label++) if (table[label] === 0) table[label] = labels.push(label) - 1;
    const map = (list: number[]) => {
      const out = new Int32Array(list.length);
      for (let i = 0; i < list.length; i++) out[i] = table[list[i]];
      return out;
    };
    return { labels, v4Dense: map(v4Label), v6Dense: map(v6Label) };
  }
  const labels = [...new Set(v4Label.concat(v6Label))].sort((a, b) => a - b);
  const dense = new Map(labels.map((label, i) => [label, i]));
  const map = (list: number[]) => {
    const out = new Int32Array(list.length);
    for (let i = 0; i < list.length; i++) out[i] = dense.get(list[i])!;
    return out;
  };
  return { labels, v4Dense: map(v4Label), v6Dense: map(v6Label) };
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
 * One family's elementary intervals: interval i covers [start i, start i+1) and carries one label set. Interval 0
 * always starts at address 0. `buckets` narrows the binary search: addresses whose first word falls in bucket b
 * have their interval in [buckets[b], buckets[b + 1]].
 */
type FamilyIndex = {
  readonly words: 1 | 4;
  readonly count: number;
  // Per interval: `words` words of its start, most significant first, then its label set id. Side by side, so the
  // search's last probe has already brought the set id into cache.
  readonly intervals: Uint32Array;
  readonly buckets: Uint32Array; // bucketCount + 1 entries
  readonly bucketCount: number;
  readonly bucketBase: number; // first word of bucket 1's lower bound minus one bucket width
  readonly bucketWidth: number; // a power of two
};

function lookupV4(index: FamilyIndex, x: number): number {
  const intervals = index.intervals;
  let b = Math.floor((x - index.bucketBase) / index.bucketWidth);
  if (b < 0) b = 0;
  else if (b >= index.bucketCount) b = index.bucketCount - 1;
  let lo = index.buckets[b];
  let hi = index.buckets[b + 1];
  // Largest i in [lo, hi] with starts[i] <= x; starts[lo] <= x holds by construction.
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (intervals[mid * 2] <= x) lo = mid;
    else hi = mid - 1;
  }
  return intervals[lo * 2 + 1];
}

function lookupV6(index: FamilyIndex, x0: number, x1: number, x2: number, x3: number): number {
  const intervals = index.intervals;
  let b = Math.floor((x0 - index.bucketBase) / index.bucketWidth);
  if (b < 0) b = 0;
  else if (b >= index.bucketCount) b = index.bucketCount - 1;
  let lo = index.buckets[b];
  let hi = index.buckets[b + 1];
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    const k = mid * 5;
    const s0 = intervals[k];
    let le: boolean;
    if (s0 !== x0) le = s0 < x0;
    else if (intervals[k + 1] !== x1) le = intervals[k + 1] < x1;
    else if (intervals[k + 2] !== x2) le = intervals[k + 2] < x2;
    else le = intervals[k + 3] <= x3;
    if (le) lo = mid;
    else hi = mid - 1;
  }
  return intervals[lo * 5 + 4];
}

/**
 * Range boundaries as events: a range [first, last] starts its label at `first` and ends it at last + 1 (an end past
 * the top of the address space is left out). Each event is one record of `words` key words, most significant
 * first, then a code: dense label * 2, plus 1 for an end. Records move as a whole while sorting, so the sort and
 * the sweep read memory in order instead of chasing indexes through megabytes.
 */
type Events = { readonly count: number; readonly records: Uint32Array };

const TWO_32 = 2 ** 32;

function v4Events(first: number[], prefix: number[], dense: Int32Array): Events {
  const n = first.length;
  const records = new Uint32Array(n * 4);
  let at = 0;
  for (let i = 0; i < n; i++) {
    const code = dense[i] * 2;
    records[at++] = first[i];
    records[at++] = code;
    const end = first[i] + 2 ** (32 - prefix[i]);
    if (end < TWO_32) {
      records[at++] = end;
      records[at++] = code + 1;
    }
  }
  return { count: at / 2, records };
}

function v6Events(words: number[], prefix: number[], dense: Int32Array): Events {
  const n = prefix.length;
  const records = new Uint32Array(n * 10);
  let at = 0;
  for (let i = 0; i < n; i++) {
    const code = dense[i] * 2;
    for (let j = 0; j < 4; j++) records[at + j] = words[i * 4 + j];
    records[at + 4] = code;
    at += 5;
    // last + 1 = first + 2^(128 - prefix): add one bit, carrying into more significant words.
    const bit = 128 - prefix[i];
    if (bit === 128) continue;
    for (let j = 0; j < 4; j++) records[at + j] = words[i * 4 + j];
    let word = 3 - (bit >>> 5);
    let add = 2 ** (bit & 31);
    while (word >= 0 && add > 0) {
      const sum = records[at + word] + add;
      records[at + word] = sum; // stored modulo 2^32
      add = sum >= TWO_32 ? 1 : 0;
      word--;
    }
    if (add > 0) continue; // carried past the top: the range runs to the last address
    records[at + 4] = code + 1;
    at += 5;
  }
  return { count: at / 5, records };
}

type Sorter = {
  data: Uint32Array;
  spare: Uint32Array;
  counts: Uint32Array;
  held: Uint32Array; // one record, for insertion sort
  words: number;
  stride: number;
};

/**
 * Sorts event records in place by key: most significant word first, each word by a two-pass 16-bit radix sort,
 * and only runs that tie on a word go on to the next. Small runs use a comparison sort.
 */
function sortEvents(events: Events, words: number): void {
  const sorter: Sorter = {
    data: events.records,
    spare: new Uint32Array(events.records.length),
    counts: new Uint32Array(65536),
    held: new Uint32Array(words + 1),
    words,
    stride: words + 1,
  };
  sortRun(sorter, 0, events.count, 0);
}

const INSERTION_MAX = 16;
const RADIX_MIN = 4096;

function sortRun(sorter: Sorter, from: number, to: number, word: number): void {
  if (to - from < 2) return;
  if (to - from <= INSERTION_MAX) {
    insertionSort(sorter, from, to, word);
    return;
  }
  if (to - from < RADIX_MIN) {
    compareSort(sorter, from, to, word);
    return;
  }
  radixSort(sorter, from, to, word);
  if (word + 1 === sorter.words) return;
  const { data, stride } = sorter;
  for (let i = from; i < to; ) {
    const value = data[i * stride + word];
    let j = i + 1;
    while (j < to && data[j * stride + word] === value) j++;
    sortRun(sorter, i, j, word + 1);
    i = j;
  }
}

/** Sorts records [from, to) by one word with two stable counting passes over its 16-bit halves. */
function radixSort(sorter: Sorter, from: number, to: number, word: number): void {
  const { data, spare } = sorter;
  const moved = countingPass(sorter, data, spare, from, to, word, 0);
  const src = moved ? spare : data;
  const dst = moved ? data : spare;
  const movedAgain = countingPass(sorter, src, dst, from, to, word, 16);
  const result = movedAgain ? dst : src;
  if (result !== data) data.set(result.subarray(from * sorter.stride, to * sorter.stride), from * sorter.stride);
}

/** Moves records [from, to) from src to dst ordered by one 16-bit digit; false (and no move) if all share it. */
function countingPass(
  sorter: Sorter,
  src: Uint32Array,
  dst: Uint32Array,
  from: number,
  to: number,
  word: number,
  shift: number,
): boolean {
  const { counts, stride } = sorter;
  counts.fill(0);
  for (let i = from; i < to; i++) counts[(src[i * stride + word] >>> shift) & 0xffff]++;
  if (counts[(src[from * stride + word] >>> shift) & 0xffff] === to - from) return false;
  let sum = from;
  for (let d = 0; d < 65536; d++) {
    const c = counts[d];
    counts[d] = sum;
    sum += c;
  }
  for (let i = from; i < to; i++) {
    const r = i * stride;
    const at = counts[(src[r + word] >>> shift) & 0xffff]++ * stride;
    for (let k = 0; k < stride; k++) dst[at + k] = src[r + k];
  }
  return true;
}

/** Insertion sort for the many tiny runs (a range's start and end usually share their first word). */
function insertionSort(sorter: Sorter, from: number, to: number, word: number): void {
  const { data, words, stride, held } = sorter;
  for (let i = from + 1; i < to; i++) {
    let j = i;
    while (j > from && greaterFrom(data, (j - 1) * stride, i * stride, word, words)) j--;
    if (j === i) continue;
    for (let k = 0; k < stride; k++) held[k] = data[i * stride + k];
    data.copyWithin((j + 1) * stride, j * stride, i * stride);
    for (let k = 0; k < stride; k++) data[j * stride + k] = held[k];
  }
}

/** Whether the record at a sorts after the record at b, comparing words from `word` on. */
function greaterFrom(data: Uint32Array, a: number, b: number, word: number, words: number): boolean {
  for (let w = word; w < words; w++) {
    const x = data[a + w];
    const y = data[b + w];
    if (x !== y) return x > y;
  }
  return false;
}

function compareSort(sorter: Sorter, from: number, to: number, word: number): void {
  const { data, spare, words, stride } = sorter;
  const order = new Uint32Array(to - from);
  for (let i = 0; i < order.length; i++) order[i] = from + i;
  order.sort((a, b) => {
    for (let w = word; w < words; w++) {
      const x = data[a * stride + w];
      const y = data[b * stride + w];
      if (x !== y) return x < y ? -1 : 1;
    }
    return 0;
  });
  for (let i = 0; i < order.length; i++) {
    for (let k = 0; k < stride; k++) spare[(from + i) * stride + k] = data[order[i] * stride + k];
  }
  data.set(spare.subarray(from * stride, to * stride), from * stride);
}

/**
 * Interns label sets so that each distinct set is one frozen array; set 0 is the empty set. Sets are found by a
 * Zobrist hash (the XOR of a random value per member, updated in O(1) as labels come and go) in an open-addressing
 * table, and confirmed member by member.
 */
class LabelSetInterner {
  readonly sets: (readonly number[])[] = [EMPTY];
  readonly zobristHigh: Int32Array;
  readonly zobristLow: Int32Array;
  readonly #labels: readonly number[];
  #hashHigh: Int32Array = new Int32Array(1024); // per set id
  #hashLow: Int32Array = new Int32Array(1024);
  #table: Int32Array = new Int32Array(2048); // set id per slot, 0 = free
  #mask = 2047;

  constructor(labels: readonly number[]) {
    this.#labels = labels;
    const random = splitMix32(0x9e3779b9);
    this.zobristHigh = Int32Array.from(labels, () => random());
    this.zobristLow = Int32Array.from(labels, () => random());
  }

  /** The id of the set of dense labels active[0, size), sorted ascending, whose Zobrist hashes are high and low. */
  intern(active: Int32Array, size: number, high: number, low: number): number {
    if (size === 0) return 0;
    let slot = Math.imul(high ^ Math.imul(low, 0x9e3779b1), 0x85ebca6b) & this.#mask;
    for (;;) {
      const id = this.#table[slot];
      if (id === 0) break;
      if (this.#hashHigh[id] === high && this.#hashLow[id] === low && this.#matches(this.sets[id], active, size)) {
        return id;
      }
      slot = (slot + 1) & this.#mask;
    }
    const set: number[] = []; // filled by push so V8 keeps it a packed array
    for (let i = 0; i < size; i++) set.push(this.#labels[active[i]]);
    const id = this.sets.push(Object.freeze(set)) - 1;
    if (id >= this.#hashHigh.length) {
      this.#hashHigh = grow(this.#hashHigh);
      this.#hashLow = grow(this.#hashLow);
    }
    this.#hashHigh[id] = high;
    this.#hashLow[id] = low;
    this.#table[slot] = id;
    if (id * 2 > this.#mask) this.#rehash();
    return id;
  }

  #matches(set: readonly number[], active: Int32Array, size: number): boolean {
    if (set.length !== size) return false;
    for (let i = 0; i < size; i++) if (set[i] !== this.#labels[active[i]]) return false;
    return true;
  }

  #rehash(): void {
    const size = this.#table.length * 2;
    this.#table = new Int32Array(size);
    this.#mask = size - 1;
    for (let id = 1; id < this.sets.length; id++) {
      let slot = Math.imul(this.#hashHigh[id] ^ Math.imul(this.#hashLow[id], 0x9e3779b1), 0x85ebca6b) & this.#mask;
      while (this.#table[slot] !== 0) slot = (slot + 1) & this.#mask;
      this.#table[slot] = id;
    }
  }
}

function grow(array: Int32Array): Int32Array {
  const bigger = new Int32Array(array.length * 2);
  bigger.set(array);
  return bigger;
}

/** Sweeps the sorted boundaries, tracking which labels are active, and records an interval where the set changes. */
function compileFamily(words: 1 | 4, events: Events, interner: LabelSetInterner): FamilyIndex {
  sortEvents(events, words);
  const { records, count: n } = events;
  const stride = words + 1;
  const labelCount = interner.zobristHigh.length;
  const depth = new Int32Array(labelCount); // how many ranges of each label cover the sweep point
  const active = new Int32Array(labelCount); // dense labels with depth > 0, sorted
  let size = 0;
  let high = 0;
  let low = 0;
  const intervals = new Uint32Array((n + 1) * stride); // records: start words, then set id
  let count = 1; // interval 0 starts at address 0 with the empty set
  let i = 0;
  while (i < n) {
    const point = i * stride;
    const p0 = records[point];
    const p1 = words === 4 ? records[point + 1] : 0;
    const p2 = words === 4 ? records[point + 2] : 0;
    const p3 = words === 4 ? records[point + 3] : 0;
    let changed = false;
    for (; i < n; i++) {
      const r = i * stride;
      if (records[r] !== p0) break;
      if (words === 4 && (records[r + 1] !== p1 || records[r + 2] !== p2 || records[r + 3] !== p3)) break;
      const code = records[r + words];
      const label = code >>> 1;
      if ((code & 1) === 1) {
        if (--depth[label] > 0) continue;
        let at = 0;
        while (active[at] !== label) at++;
        for (size--; at < size; at++) active[at] = active[at + 1];
      } else {
        if (depth[label]++ > 0) continue;
        let at = size++;
        for (; at > 0 && active[at - 1] > label; at--) active[at] = active[at - 1];
        active[at] = label;
      }
      high ^= interner.zobristHigh[label];
      low ^= interner.zobristLow[label];
      changed = true;
    }
    if (!changed) continue;
    const id = interner.intern(active, size, high, low);
    if (id === intervals[count * stride - 1]) continue; // same set as the interval before: extend it
    if (p0 === 0 && p1 === 0 && p2 === 0 && p3 === 0) {
      intervals[words] = id; // ranges starting at address 0 relabel interval 0
      continue;
    }
    for (let w = 0; w < words; w++) intervals[count * stride + w] = records[point + w];
    intervals[count * stride + words] = id;
    count++;
  }
  const compact = intervals.slice(0, count * stride);
  return { words, count, intervals: compact, ...bucketize(compact, count, stride) };
}

const MAX_BUCKETS = 2 ** 18;

/**
 * Splits the span of the intervals' first words into about as many equal buckets as there are intervals, so a
 * lookup binary-searches a handful of intervals instead of all of them and stays flat as the set grows.
 */
function bucketize(
  intervals: Uint32Array,
  count: number,
  stride: number,
): { buckets: Uint32Array; bucketCount: number; bucketBase: number; bucketWidth: number } {
  let bucketCount = 2; // at least: one below the lowest start, one from it up
  while (bucketCount < count && bucketCount < MAX_BUCKETS) bucketCount *= 2;
  // Interval 0 starts at address 0; buckets span the first words of the others.
  const lowest = count > 1 ? intervals[stride] : 0;
  const highest = intervals[(count - 1) * stride];
  let bucketWidth = 1;
  while ((highest - lowest) / bucketWidth >= bucketCount - 1) bucketWidth *= 2;
  // Bucket 0 takes everything below `lowest`; bucket b >= 1 starts at first word lowest + (b - 1) * width.
  const bucketBase = lowest - bucketWidth;
  const buckets = new Uint32Array(bucketCount + 1);
  let i = 0;
  for (let b = 1; b < bucketCount; b++) {
    const bound = bucketBase + b * bucketWidth; // lower bound: first word `bound`, other words zero
    while (i + 1 < count && startsAtOrBelow(intervals, (i + 1) * stride, stride - 1, bound)) i++;
    buckets[b] = i;
  }
  buckets[bucketCount] = count - 1;
  return { buckets, bucketCount, bucketBase, bucketWidth };
}

/** Whether the start at `at` is <= the address whose first word is `bound` and whose other words are zero. */
function startsAtOrBelow(intervals: Uint32Array, at: number, words: number, bound: number): boolean {
  if (intervals[at] !== bound) return intervals[at] < bound;
  for (let w = 1; w < words; w++) if (intervals[at + w] !== 0) return false;
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
