// A/B of the refresh-token grant between two checkouts of Portcullis, both servers running at once (SQLite), so that
// whatever else the machine is doing falls on both alike: rounds of alternating batches, each server's CPU per
// refresh measured batch by batch, and the ratio B/A per round. On a shared two-core machine the token bench's own
// figures swing by ±15 % between runs; the ratio of two servers measured side by side moves far less.
//
// Run: `npx node bench/token-ab.ts A B` where A and B are checkouts with their dependencies installed (a worktree:
// `git worktree add /tmp/base HEAD~1 && ln -s "$PWD/node_modules" /tmp/base/node_modules`). BENCH_AB_ROUNDS (default
// 12) and BENCH_AB_BATCH (default 200 refreshes) size it. Not part of `npm run bench`: it needs two trees.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { basicAuth, HttpClient, runLoad } from './load.ts';
import { ServerProcess } from './server-process.ts';
import { percentile } from './stats.ts';
import { countFromEnv, refreshChains, refreshStep, TOKEN_CONCURRENCY } from './token.bench.ts';
import type { ServerReady, Usage } from './token-server.ts';

type Server = ServerProcess<ServerReady, { op: 'usage' } | { op: 'stop' }>;

interface Side {
  readonly tree: string;
  readonly server: Server;
  readonly http: HttpClient;
  readonly step: (worker: number) => Promise<void>;
  readonly cpuMsPerRefresh: number[];
}

async function start(tree: string): Promise<Side> {
  const script = pathToFileURL(resolve(tree, 'bench/token-server.ts'));
  const server: Server = await ServerProcess.start(script, 'portcullis');
  const ready = server.ready;
  const web = ready.web;
  const users = ready.users ?? [];
  if (!web || users.length === 0) throw new Error(`${tree}: the server came without its web app and users`);
  const http = new HttpClient(TOKEN_CONCURRENCY);
  const chains = await refreshChains(http, ready);
  const step = refreshStep(http, `${ready.issuer}/token`, basicAuth(web.clientId, web.clientSecret), chains);
  return { tree, server, http, step, cpuMsPerRefresh: [] };
}

async function batch(side: Side, total: number): Promise<void> {
  const before = await side.server.ask<Usage>({ op: 'usage' });
  await runLoad({ concurrency: TOKEN_CONCURRENCY, warmup: 0, total, step: side.step });
  const after = await side.server.ask<Usage>({ op: 'usage' });
  side.cpuMsPerRefresh.push((after.cpuMicros - before.cpuMicros) / 1000 / total);
}

const fixed = (n: number) => n.toFixed(2);

export async function tokenAb(treeA: string, treeB: string): Promise<string> {
  const rounds = countFromEnv('BENCH_AB_ROUNDS', 12);
  const size = countFromEnv('BENCH_AB_BATCH', 200);
  const a = await start(treeA);
  const b = await start(treeB);
  try {
    for (const side of [a, b])
      await runLoad({ concurrency: TOKEN_CONCURRENCY, warmup: size, total: 0, step: side.step });
    for (let round = 0; round < rounds; round++) {
      // Alternate which goes first, so neither always follows the other's garbage or checkpoint.
      for (const side of round % 2 === 0 ? [a, b] : [b, a]) await batch(side, size);
    }
  } finally {
    for (const side of [a, b]) {
      side.http.close();
      await side.server.stop();
    }
  }
  const ratios = a.cpuMsPerRefresh.map((ms, i) => b.cpuMsPerRefresh[i] / ms);
  const median = (xs: number[]) => percentile(xs, 50);
  const lines = [`${rounds} rounds of ${size} refreshes each, ${TOKEN_CONCURRENCY} workers, SQLite.`, ''];
  for (const [name, side] of [
    ['A', a],
    ['B', b],
  ] as const) {
    const xs = side.cpuMsPerRefresh;
    lines.push(
      `${name} ${side.tree}: CPU ms per refresh median ${fixed(median(xs))} (${fixed(Math.min(...xs))}–` +
        `${fixed(Math.max(...xs))}), ${Math.round(1000 / median(xs))} refreshes/s per core`,
    );
  }
  const lower = ratios.filter((r) => r < 1).length;
  lines.push(
    `B/A per round: median ${fixed(median(ratios))} (${fixed(Math.min(...ratios))}–${fixed(Math.max(...ratios))}); ` +
      `B cost less in ${lower} of ${rounds} rounds.`,
  );
  return lines.join('\n');
}

if (import.meta.main) {
  const [treeA, treeB] = process.argv.slice(2);
  if (!treeA || !treeB) {
    console.error('usage: npx node bench/token-ab.ts TREE_A TREE_B (two checkouts with node_modules)');
    process.exit(2);
  }
  console.log(await tokenAb(treeA, treeB));
}
