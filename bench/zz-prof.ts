import { benchPrefixSet } from './prefix-set.bench.ts';
const sizes = process.argv.slice(2).map(Number);
for (let i = 0; i < 3; i++) console.log(JSON.stringify(benchPrefixSet(sizes).map(r => [r.ranges, r.buildMs.toFixed(0), r.lookupMedianNs.toFixed(0), r.lookupP99Ns.toFixed(0)])));
