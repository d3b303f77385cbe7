// Runs every benchmark and prints the markdown tables recorded in docs/benchmarks.md.
// Run: `npm run bench` (node --expose-gc bench/run.ts).
import { benchDecision, formatDecision } from './decision.bench.ts';
import { benchGateway, formatGateway } from './gateway.bench.ts';
import { benchLookupScale, formatLookupScale } from './lookup-scale.bench.ts';
import { benchPrefixSet, formatRows } from './prefix-set.bench.ts';
import { benchSession, formatSession } from './session.bench.ts';
import { benchSignInLog, formatSignInLog } from './sign-in-log.bench.ts';
import { benchSignature, formatSignature } from './signature.bench.ts';
import { benchToken, formatToken } from './token.bench.ts';

console.log('## Prefix set: address → matching named locations\n');
console.log(formatRows(benchPrefixSet()));
console.log('\n## Full Conditional Access decision at Entra’s maximum\n');
console.log(formatDecision(benchDecision()));
console.log('\n## One ID-token signature\n');
console.log(formatSignature(await benchSignature()));
console.log('\n## Token endpoint and password sign-in\n');
console.log(formatToken(await benchToken()));
console.log('\n## Subject and grant-session lookups by tenant size\n');
console.log(formatLookupScale(await benchLookupScale()));
console.log('\n## Sign-in log writes by log size and id kind\n');
console.log(formatSignInLog(await benchSignInLog()));
console.log('\n## Session check from cache (forward auth)\n');
console.log(formatSession(await benchSession()));
// Last: it needs wrk and nginx, and stops the run with a message when they are missing.
console.log('\n## Forward auth through nginx\n');
console.log(formatGateway(await benchGateway()));
