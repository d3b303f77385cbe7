// Benchmarks PrefixSet build time, heap and lookup latency from 10 to 390,000 ranges against the linear scan.
// Run: npx node --expose-gc bench/prefix-set.bench.ts  (prints a markdown table; seeded, so runs are comparable)

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { type Cidr, parseCidr } from '../src/net/cidr.ts';
import { formatIp, type Ip } from '../src/net/ip.ts';
import { naiveLookup, type PrefixSet, PrefixSetBuilder } from '../src/net/prefix-set.ts';

export type PrefixSetBenchRow = {
  readonly mix: Mix;
  readonly ranges: number;
  readonly buildMs: number;
  readonly heapMB: number;
  readonly intervals: number;
  readonly labelSets: number;
  readonly lookupMedianNs: number;
  readonly lookupP99Ns: number;
  readonly naiveMedianNs: number;
};

/**
 * 'typical': mostly narrow ranges, as named locations list office egress addresses and provider blocks.
 * 'heavy overlap': a quarter of the IPv4 ranges are /9–/23 and overlap each other everywhere — the worst case for
 * the number of distinct label sets.
 */
export type Mix = 'typical' | 'heavy overlap';

const SCENARIOS: readonly [number, Mix][] = [
  [10, 'typical'],
  [1_000, 'typical'],
  [100_000, 'typical'],
  [390_000, 'typical'],
  [390_000, 'heavy overlap'],
];
const LABELS = 195; // Entra's limit on named locations per tenant; 195 × 2000 ranges = 390,000
const LOOKUP_BATCH = 1_000;
const LOOKUP_BATCHES = 1_000;
const LOOKUP_ROUNDS = 3;

export function benchPrefixSet(scenarios: readonly [number, Mix][] = SCENARIOS): PrefixSetBenchRow[] {
  const gc = collector();
  const rows = scenarios.map(([size, mix]) => benchOne(size, mix, gc));
  // The scans run after every PrefixSet measurement: their garbage would otherwise disturb the later lookups.
  return rows.map((row) => ({ ...row, naiveMedianNs: benchNaive(row.ranges, row.mix) }));
}

/** The same seeded ranges and probes for a scenario, every time. */
function scenario(size: number, mix: Mix) {
  const random = splitMix32(size);
  const entries = makeRanges(size, mix, random);
  return { entries, probes: makeProbes(entries, 8_192, random) };
}

function benchOne(size: number, mix: Mix, gc: () => void): PrefixSetBenchRow {
  const { entries, probes } = scenario(size, mix);
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const started = process.hrtime.bigint();
  const set = buildSet(entries);
  const buildMs = Number(process.hrtime.bigint() - started) / 1e6;
  gc();
  const heapMB = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
  const { intervalsV4, intervalsV6, labelSets } = set.stats();
  const lookup = timeLookups(set, probes, LOOKUP_BATCH, LOOKUP_BATCHES);
  return {
    mix,
    ranges: size,
    buildMs,
    heapMB,
    intervals: intervalsV4 + intervalsV6,
    labelSets,
    lookupMedianNs: lookup.median,
    lookupP99Ns: lookup.p99,
    naiveMedianNs: Number.NaN,
  };
}

function benchNaive(size: number, mix: Mix): number {
  const { entries, probes } = scenario(size, mix);
  // The scan is O(ranges) per lookup: fewer lookups per batch and a time budget, so 390,000 ranges stays quick.
  return timeNaive(entries, probes, Math.max(1, Math.floor(100_000 / size)), 1_500_000_000n);
}

function buildSet(entries: readonly { cidr: Cidr; label: number }[]): PrefixSet {
  const builder = new PrefixSetBuilder();
  for (const { cidr, label } of entries) builder.add(cidr, label);
  return builder.build();
}

let sink = 0;

/**
 * Per-lookup time of each batch (batch time / batch size), then the median and 99th percentile over batches. Three
 * rounds at different moments, keeping the one with the lowest median: on a shared machine a burst of work from
 * another process can otherwise triple a whole round.
 */
function timeLookups(set: PrefixSet, probes: readonly Ip[], batch: number, batches: number) {
  const mask = probes.length - 1;
  for (let i = 0; i < 200_000; i++) sink += set.lookup(probes[i & mask]).length; // warm up the JIT
  let best = { median: Number.POSITIVE_INFINITY, p99: Number.POSITIVE_INFINITY };
  let p = 0;
  for (let round = 0; round < LOOKUP_ROUNDS; round++) {
    const perLookup: number[] = [];
    for (let b = 0; b < batches; b++) {
      const start = process.hrtime.bigint();
      for (let i = 0; i < batch; i++) sink += set.lookup(probes[p++ & mask]).length;
      perLookup.push(Number(process.hrtime.bigint() - start) / batch);
    }
    perLookup.sort((a, b) => a - b);
    const median = perLookup[perLookup.length >> 1];
    if (median < best.median) best = { median, p99: perLookup[Math.floor(perLookup.length * 0.99)] };
  }
  return best;
}

function timeNaive(
  entries: readonly { cidr: Cidr; label: number }[],
  probes: readonly Ip[],
  batch: number,
  budgetNs: bigint,
) {
  const perLookup: number[] = [];
  const deadline = process.hrtime.bigint() + budgetNs;
  let p = 0;
  while (perLookup.length < 5 || (perLookup.length < 500 && process.hrtime.bigint() < deadline)) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) sink += naiveLookup(entries, probes[p++ % probes.length]).length;
    perLookup.push(Number(process.hrtime.bigint() - start) / batch);
  }
  perLookup.sort((a, b) => a - b);
  return perLookup[perLookup.length >> 1];
}

/** Half IPv4, half IPv6 (in 2000::/3), labels dealt round-robin over 195 locations. */
function makeRanges(count: number, mix: Mix, random: () => number): { cidr: Cidr; label: number }[] {
  const entries: { cidr: Cidr; label: number }[] = [];
  for (let i = 0; i < count; i++) {
    const label = i % Math.min(LABELS, count);
    let text: string;
    if (i % 2 === 0) {
      const prefix =
        mix === 'typical' ? pick(random, V4_PREFIXES) : random() % 4 === 0 ? 9 + (random() % 15) : 24 + (random() % 9);
      text = `${formatIp({ family: 4, value: random() })}/${prefix}`;
    } else {
      const prefix =
        mix === 'typical'
          ? pick(random, V6_PREFIXES)
          : random() % 4 === 0
            ? 65 + (random() % 64)
            : 32 + (random() % 33);
      const value = (BigInt(0x20000000 | (random() & 0x1fffffff)) << 96n) | random128(random, 96);
      text = `${formatIp({ family: 6, value })}/${prefix}`;
    }
    entries.push({ cidr: parseCidr(text), label });
  }
  return entries;
}

// [weight, shortest prefix, longest prefix]. Entra requires IPv4 prefixes longer than /8.
const V4_PREFIXES: readonly [number, number, number][] = [
  [30, 32, 32],
  [40, 24, 31],
  [25, 16, 23],
  [5, 9, 15],
];
const V6_PREFIXES: readonly [number, number, number][] = [
  [10, 32, 47],
  [30, 48, 48],
  [20, 49, 56],
  [30, 57, 64],
  [10, 65, 128],
];

function pick(random: () => number, table: readonly [number, number, number][]): number {
  let roll = random() % 100;
  for (const [weight, shortest, longest] of table) {
    if (roll < weight) return shortest + (random() % (longest - shortest + 1));
    roll -= weight;
  }
  throw new Error('weights must add up to 100');
}

/** Lookup addresses: half inside a random range (hits), half random in the same space (mostly misses). */
function makeProbes(entries: readonly { cidr: Cidr }[], count: number, random: () => number): Ip[] {
  const probes: Ip[] = [];
  for (let i = 0; i < count; i++) {
    const { cidr } = entries[random() % entries.length];
    const hit = i % 2 === 0;
    if (cidr.network.family === 4) {
      const hostBits = 32 - cidr.prefixLength;
      const host = hostBits === 0 ? 0 : random() >>> (32 - hostBits);
      probes.push({ family: 4, value: hit ? (cidr.network.value | host) >>> 0 : random() });
    } else {
      const hostMask = (1n << BigInt(128 - cidr.prefixLength)) - 1n;
      const value = hit
        ? cidr.network.value | (random128(random, 128) & hostMask)
        : (BigInt(0x20000000 | (random() & 0x1fffffff)) << 96n) | random128(random, 96);
      probes.push({ family: 6, value });
    }
  }
  return probes;
}

function random128(random: () => number, bits: number): bigint {
  let value = 0n;
  for (let b = 0; b < bits; b += 32) value = (value << 32n) | BigInt(random());
  return value & ((1n << BigInt(bits)) - 1n);
}

/** A tiny seeded PRNG (SplitMix32) returning unsigned 32-bit integers. */
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

/** `global.gc` when run with --expose-gc; otherwise exposes it at run time so heap figures stay meaningful. */
function collector(): () => void {
  if (typeof globalThis.gc === 'function') return globalThis.gc;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

export function formatRows(rows: readonly PrefixSetBenchRow[]): string {
  const lines = [
    '| ranges | mix | build ms | heap MB | intervals | label sets | lookup median ns | lookup p99 ns | naive scan median ns |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.ranges.toLocaleString('en')} | ${r.mix} | ${r.buildMs.toFixed(1)} | ${r.heapMB.toFixed(1)} | ` +
        `${r.intervals.toLocaleString('en')} | ${r.labelSets.toLocaleString('en')} | ` +
        `${r.lookupMedianNs.toFixed(0)} | ${r.lookupP99Ns.toFixed(0)} | ${Math.round(r.naiveMedianNs).toLocaleString('en')} |`,
    );
  }
  return lines.join('\n');
}

if (import.meta.main) {
  console.log(formatRows(benchPrefixSet()));
  if (sink === -1) console.log(sink); // keeps the lookups observable so they are not optimised away
}
