// Runs every benchmark and prints the markdown tables recorded in docs/benchmarks.md.
// Run: `npm run bench` (node --expose-gc bench/run.ts).
import { benchDecision, formatDecision } from './decision.bench.ts';
import { benchPrefixSet, formatRows } from './prefix-set.bench.ts';

console.log('## Prefix set: address → matching named locations\n');
console.log(formatRows(benchPrefixSet()));
console.log('\n## Full Conditional Access decision at Entra’s maximum\n');
console.log(formatDecision(benchDecision()));
