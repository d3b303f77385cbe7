// Small helpers shared by the benchmarks: a seeded PRNG (so runs are comparable), percentiles and a forced GC.

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Mulberry32: a tiny seeded PRNG returning floats in [0, 1). Not for cryptography. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The p-th percentile (0–100) of the samples, by nearest rank. */
export function percentile(samples: ArrayLike<number>, p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = Float64Array.from(samples).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

/**
 * A full, forced garbage collection: `global.gc` when run with --expose-gc, otherwise exposed at run time so heap
 * figures stay meaningful. Run twice, because one pass can leave objects that only the first pass made unreachable.
 */
export function fullGc(): void {
  const gc = typeof globalThis.gc === 'function' ? globalThis.gc : exposedGc();
  gc();
  gc();
}

let exposed: (() => void) | undefined;
function exposedGc(): () => void {
  if (!exposed) {
    setFlagsFromString('--expose-gc');
    exposed = runInNewContext('gc') as () => void;
  }
  return exposed;
}
