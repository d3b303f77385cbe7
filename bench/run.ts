// Runs every benchmark and prints the markdown tables recorded in docs/benchmarks.md.
// Run: `npm run bench` (node --expose-gc bench/run.ts).
import { benchDecision } from './decision.bench.ts';
import { benchPrefixSet, formatRows } from './prefix-set.bench.ts';

console.log('## Prefix set: address → matching named locations\n');
console.log(formatRows(benchPrefixSet()));
console.log('\n## Full Conditional Access decision at Entra’s maximum\n');
const r = benchDecision();
console.log(
  '| ranges | policies | compile | compiled heap | lookup median | lookup p99 | decision median | decision p99 |',
);
console.log('|---|---|---|---|---|---|---|---|');
console.log(
  `| ${r.ranges} | ${r.policies} | ${r.compileMs.toFixed(0)} ms | ${r.heapMb.toFixed(1)} MB | ${r.lookupMedianNs} ns | ${r.lookupP99Ns} ns | ${(r.decisionMedianNs / 1000).toFixed(2)} µs | ${(r.decisionP99Ns / 1000).toFixed(2)} µs |`,
);
console.log(`\noutcomes of the first round: ${JSON.stringify(r.outcomes)}`);
