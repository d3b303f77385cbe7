// Token endpoint and password sign-in throughput (issue 3, "Performance"): Portcullis as `portcullis serve` builds it
// (SQLite, and PostgreSQL when its server binaries are installed) against a bare oidc-provider with its memory
// adapter, in the same run, on loopback. Each server runs in its own child process (bench/token-server.ts), so the
// CPU time it reports is the server's alone; this process generates the load with keep-alive node:http clients.
//
// Run: `npx node bench/token.bench.ts` (also part of `npm run bench`). BENCH_TOKEN_REQUESTS (default 3000) sets the
// timed requests per token row, BENCH_SIGN_INS (default 200) the timed sign-ins, BENCH_POSTGRES=0 skips
// PostgreSQL, and BENCH_CPU_PROF_DIR=dir writes a V8 CPU profile of each server process there.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { decodeProtectedHeader } from 'jose';
import pg from 'pg';
import { OWASP_ARGON2ID } from '../src/auth/password-hash.ts';
import { ADMIN_API_SCOPE } from '../src/oidc/provider.ts';
import { testPostgres } from '../test/support/postgres.ts';
import { basicAuth, HttpClient, type HttpResponse, type LoadResult, runLoad } from './load.ts';
import { ServerProcess } from './server-process.ts';
import type { HashTiming, Question, ServerKind, ServerReady, Usage } from './token-server.ts';

/** Workers sending token requests at once (each waits for its answer before the next). */
export const TOKEN_CONCURRENCY = 16;
/** Browsers signing in at once: argon2 runs in libuv's pool (4 threads), so a few are enough to fill the cores. */
export const SIGN_IN_CONCURRENCY = 4;

export interface TokenBenchRow {
  readonly server: ServerKind;
  readonly store: ServerReady['store'];
  readonly operation: 'client credentials' | 'refresh token' | 'refresh token, ES256 ID token' | 'password sign-in';
  readonly concurrency: number;
  readonly load: LoadResult;
  /** Server process CPU (all threads) per operation, in milliseconds. */
  readonly cpuMsPerOp: number;
  /** PostgreSQL: CPU of the database's backends serving this server, per operation (SQLite runs in-process). */
  readonly dbCpuMsPerOp?: number;
  /** Operations per second of server (+ database) CPU: what one core sustains when the server has it to itself. */
  readonly perCore: number;
  readonly rssMB: number;
}

export interface TokenBenchResult {
  readonly date: string;
  readonly cores: number;
  readonly rows: readonly TokenBenchRow[];
  readonly hash: HashTiming;
  /** Why PostgreSQL was not measured, when it was not. */
  readonly postgresSkipped?: string;
}

export interface TokenBenchOptions {
  readonly requests?: number;
  readonly signIns?: number;
  readonly postgres?: boolean;
}

/** A question without its id (Omit over each member of the union, not over the union). */
type Ask<Q = Question> = Q extends unknown ? Omit<Q, 'id'> : never;

type TokenServer = ServerProcess<ServerReady, Ask>;

function json(response: HttpResponse, what: string): Record<string, unknown> {
  if (response.status !== 200) {
    throw new Error(`${what}: HTTP ${response.status} ${response.body.slice(0, 300)}`);
  }
  return JSON.parse(response.body) as Record<string, unknown>;
}

/** The measured rows of one token operation: load, then the server's CPU and memory over the timed part. */
async function measure(
  server: TokenServer,
  operation: TokenBenchRow['operation'],
  options: { concurrency: number; warmup: number; total: number; step: (worker: number) => Promise<void> },
): Promise<TokenBenchRow> {
  const { step, concurrency } = options;
  await runLoad({ concurrency, warmup: options.warmup, total: 0, step });
  const database = server.databaseCpu && new CpuTracker(server.databaseCpu);
  const before = await server.ask<Usage>({ op: 'usage' });
  const load = await runLoad({ concurrency, warmup: 0, total: options.total, step });
  const after = await server.ask<Usage>({ op: 'usage' });
  const cpuMsPerOp = (after.cpuMicros - before.cpuMicros) / 1000 / options.total;
  const dbCpuMsPerOp = database && database.stop() / 1000 / options.total;
  return {
    server: server.ready.kind,
    store: server.ready.store,
    operation,
    concurrency,
    load,
    cpuMsPerOp,
    ...(dbCpuMsPerOp === undefined ? {} : { dbCpuMsPerOp }),
    perCore: 1000 / (cpuMsPerOp + (dbCpuMsPerOp ?? 0)),
    rssMB: after.rssBytes / 2 ** 20,
  };
}

function clientCredentialsStep(http: HttpClient, ready: ServerReady): () => Promise<void> {
  const authorization = basicAuth(ready.automation.clientId, ready.automation.clientSecret);
  const url = `${ready.issuer}/token`;
  return async () => {
    const body = json(
      await http.send({
        url,
        headers: { authorization },
        form: { grant_type: 'client_credentials', scope: ADMIN_API_SCOPE },
      }),
      'client credentials grant',
    );
    if (typeof body.access_token !== 'string') throw new Error('client credentials grant: no access_token');
  };
}

/**
 * Each worker refreshes its own chain: every request spends the refresh token the previous answer gave it. With
 * `idTokenAlg`, each answer's ID token must be signed with it (so a row is measuring what its label says).
 */
export function refreshStep(
  http: HttpClient,
  url: string,
  authorization: string,
  chains: string[],
  idTokenAlg?: 'RS256' | 'ES256',
) {
  return async (worker: number) => {
    const previous = chains[worker];
    const body = json(
      await http.send({
        url,
        headers: { authorization },
        form: { grant_type: 'refresh_token', refresh_token: previous },
      }),
      'refresh token grant',
    );
    if (typeof body.refresh_token !== 'string' || body.refresh_token === previous) {
      throw new Error('refresh token grant: the refresh token was not rotated');
    }
    if (idTokenAlg !== undefined) {
      const alg = typeof body.id_token === 'string' ? decodeProtectedHeader(body.id_token).alg : 'no ID token';
      if (alg !== idTokenAlg) throw new Error(`refresh token grant: the ID token is ${alg}, not ${idTokenAlg}`);
    }
    chains[worker] = body.refresh_token;
  };
}

const USER_AGENT =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

/** A browser for one sign-in: its cookies, and redirects followed by hand while they stay on the server. */
class Browser {
  readonly #cookies = new Map<string, string>();
  readonly #http: HttpClient;
  constructor(http: HttpClient) {
    this.#http = http;
  }

  async follow(url: string, form?: Record<string, string>): Promise<{ response: HttpResponse; left?: string }> {
    let current = url;
    let response = await this.#request(current, form);
    for (let hops = 0; hops < 10 && response.status >= 300 && response.status < 400; hops++) {
      const location = new URL(String(response.headers.location ?? ''), current);
      if (location.origin !== new URL(url).origin) return { response, left: location.href };
      current = location.href;
      response = await this.#request(current);
    }
    return { response };
  }

  async #request(url: string, form?: Record<string, string>): Promise<HttpResponse> {
    const cookie = [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await this.#http.send({
      url,
      form,
      headers: { 'user-agent': USER_AGENT, accept: 'text/html', ...(cookie ? { cookie } : {}) },
    });
    const setCookie = response.headers['set-cookie'];
    for (const line of Array.isArray(setCookie) ? setCookie : []) {
      const pair = line.split(';', 1)[0];
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
    return response;
  }
}

/**
 * One whole interactive sign-in, as a browser and a relying party do it: the authorization request (code + PKCE)
 * → the sign-in page → the password form post (first factor, lockout, Conditional Access, sign-in log, session)
 * → redirects back with a code → the code exchanged at the token endpoint. Returns the refresh token.
 */
export async function signIn(
  http: HttpClient,
  ready: ServerReady,
  user: string,
  web: ServerReady['web'] = ready.web,
): Promise<string> {
  if (!web || !ready.password) throw new Error('the server has no web app to sign in to');
  const verifier = randomBytes(32).toString('base64url');
  const authorize = new URL(`${ready.issuer}/auth`);
  authorize.search = new URLSearchParams({
    client_id: web.clientId,
    response_type: 'code',
    redirect_uri: web.redirectUri,
    scope: 'openid',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    state: randomUUID(),
  }).toString();
  const browser = new Browser(http);
  const start = await browser.follow(authorize.href);
  if (start.response.status !== 200) throw new Error(`sign-in page: HTTP ${start.response.status}`);
  const page = start.response.body;
  const csrf = /name="csrf" value="([^"]+)"/.exec(page)?.[1];
  const action = /action="([^"]+\/password)"/.exec(page)?.[1];
  if (!csrf || !action) throw new Error('the sign-in page has no password form');
  const done = await browser.follow(new URL(action, ready.url).href, {
    csrf,
    username: user,
    password: ready.password,
  });
  const code = done.left?.startsWith(web.redirectUri) ? new URL(done.left).searchParams.get('code') : null;
  if (!code) throw new Error(`the sign-in did not return to the app with a code (HTTP ${done.response.status})`);
  const tokens = json(
    await http.send({
      url: `${ready.issuer}/token`,
      headers: { authorization: basicAuth(web.clientId, web.clientSecret) },
      form: { grant_type: 'authorization_code', code, redirect_uri: web.redirectUri, code_verifier: verifier },
    }),
    'authorization code grant',
  );
  if (typeof tokens.refresh_token !== 'string') throw new Error('authorization code grant: no refresh_token');
  return tokens.refresh_token;
}

/** One refresh token per token worker, each from a sign-in of one of the server's users to `web`. */
export async function refreshChains(
  http: HttpClient,
  ready: ServerReady,
  web: ServerReady['web'] = ready.web,
): Promise<string[]> {
  const users = ready.users ?? [];
  const chains: string[] = [];
  for (let i = 0; i < TOKEN_CONCURRENCY; i++) chains.push(await signIn(http, ready, users[i % users.length], web));
  return chains;
}

interface RefreshRow {
  readonly operation: 'refresh token' | 'refresh token, ES256 ID token';
  readonly client: { readonly clientId: string; readonly clientSecret: string };
  readonly alg: 'RS256' | 'ES256';
}

/** The refresh rows of a server: its client with RS256 ID tokens, then its client with ES256 ones. */
function refreshRows(rs256: RefreshRow['client'], es256: RefreshRow['client']): RefreshRow[] {
  return [
    { operation: 'refresh token', client: rs256, alg: 'RS256' },
    { operation: 'refresh token, ES256 ID token', client: es256, alg: 'ES256' },
  ];
}

/** One refresh row: the workers spend `chains`, refresh tokens of the row's client. */
function measureRefresh(
  server: TokenServer,
  http: HttpClient,
  row: RefreshRow,
  chains: string[],
  options: { warmup: number; total: number },
): Promise<TokenBenchRow> {
  const authorization = basicAuth(row.client.clientId, row.client.clientSecret);
  return measure(server, row.operation, {
    concurrency: TOKEN_CONCURRENCY,
    ...options,
    step: refreshStep(http, `${server.ready.issuer}/token`, authorization, chains, row.alg),
  });
}

async function benchPortcullis(
  server: TokenServer,
  options: { requests: number; signIns: number },
): Promise<TokenBenchRow[]> {
  const ready = server.ready;
  const { web, es256 } = ready;
  const users = ready.users ?? [];
  if (!web || !es256 || users.length === 0)
    throw new Error('the Portcullis server came without its web apps and users');
  const http = new HttpClient(TOKEN_CONCURRENCY);
  const warmup = Math.ceil(options.requests / 10);
  try {
    const rows: TokenBenchRow[] = [];
    rows.push(
      await measure(server, 'client credentials', {
        concurrency: TOKEN_CONCURRENCY,
        warmup,
        total: options.requests,
        step: clientCredentialsStep(http, ready),
      }),
    );

    for (const row of refreshRows(web, es256)) {
      const chains = await refreshChains(http, ready, row.alg === 'ES256' ? es256 : web);
      rows.push(await measureRefresh(server, http, row, chains, { warmup, total: options.requests }));
    }

    let next = 0;
    rows.push(
      await measure(server, 'password sign-in', {
        concurrency: SIGN_IN_CONCURRENCY,
        warmup: SIGN_IN_CONCURRENCY * 2,
        total: options.signIns,
        step: async () => {
          await signIn(http, ready, users[next++ % users.length]);
        },
      }),
    );
    return rows;
  } finally {
    http.close();
  }
}

async function benchBareProvider(server: TokenServer, options: { requests: number }): Promise<TokenBenchRow[]> {
  const ready = server.ready;
  const http = new HttpClient(TOKEN_CONCURRENCY);
  const warmup = Math.ceil(options.requests / 10);
  try {
    const cc = await measure(server, 'client credentials', {
      concurrency: TOKEN_CONCURRENCY,
      warmup,
      total: options.requests,
      step: clientCredentialsStep(http, ready),
    });
    const rows = [cc];
    if (!ready.es256) throw new Error('the bare provider came without its ES256 client');
    for (const row of refreshRows(ready.automation, ready.es256)) {
      const chains = await server.ask<string[]>({
        op: 'refresh-tokens',
        count: TOKEN_CONCURRENCY,
        clientId: row.client.clientId,
      });
      rows.push(await measureRefresh(server, http, row, chains, { warmup, total: options.requests }));
    }
    return rows;
  } finally {
    http.close();
  }
}

/** Linux's USER_HZ (`getconf CLK_TCK`, 100 on every Linux ABI): the unit of CPU times in /proc/{pid}/stat. */
const CLOCK_TICKS_PER_SECOND = 100;

/**
 * CPU used so far by each PostgreSQL backend connected to `database` (pid → microseconds), from /proc: a backend's
 * process title (its cmdline) names its database. Linux only. Shared processes (WAL writer, checkpointer) are left
 * out, so the database figure is a little low.
 */
function backendCpu(database: string): Map<string, number> {
  const cpu = new Map<string, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (!readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(database)) continue;
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // After "pid (comm) ", fields 3… follow; utime and stime are fields 14 and 15.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      cpu.set(entry, ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS_PER_SECOND);
    } catch {
      // The process ended between listing and reading.
    }
  }
  return cpu;
}

/**
 * The CPU a set of processes uses from construction to `stop`, polled every 100 ms: the pool closes idle
 * connections, and a backend that exits keeps what it had used at the last poll (at most 100 ms of it is lost).
 */
class CpuTracker {
  readonly #sample: () => Map<string, number>;
  readonly #baseline: Map<string, number>;
  readonly #latest: Map<string, number>;
  readonly #timer: NodeJS.Timeout;
  constructor(sample: () => Map<string, number>) {
    this.#sample = sample;
    this.#baseline = sample();
    this.#latest = new Map(this.#baseline);
    this.#timer = setInterval(() => this.#poll(), 100);
  }

  #poll(): void {
    for (const [pid, micros] of this.#sample()) this.#latest.set(pid, micros);
  }

  /** Microseconds of CPU used since construction. */
  stop(): number {
    this.#poll();
    clearInterval(this.#timer);
    let used = 0;
    for (const [pid, micros] of this.#latest) used += micros - (this.#baseline.get(pid) ?? 0);
    return used;
  }
}

/** A fresh database on a throwaway PostgreSQL cluster (test/support/postgres.ts), or why there is none. */
async function postgresDatabase(): Promise<{ url: string; name: string } | { skipped: string }> {
  try {
    const server = await testPostgres();
    const name = `bench_token_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: server.adminUrl });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${name}`);
    } finally {
      await admin.end();
    }
    return { url: server.urlFor(name), name };
  } catch (error) {
    return { skipped: (error as Error).message.split('\n')[0] };
  }
}

async function withServer<T>(
  kind: ServerKind,
  env: Record<string, string>,
  run: (s: TokenServer) => Promise<T>,
  databaseCpu?: () => Map<string, number>,
): Promise<T> {
  const server = await ServerProcess.start<ServerReady, Ask>(new URL('./token-server.ts', import.meta.url), kind, {
    env,
  });
  server.databaseCpu = databaseCpu;
  try {
    return await run(server);
  } finally {
    await server.stop();
  }
}

/** A count from the environment, or the default; anything but a positive integer is refused by name. */
export function countFromEnv(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, but it is '${text}'`);
  return value;
}

export async function benchToken(options: TokenBenchOptions = {}): Promise<TokenBenchResult> {
  const requests = options.requests ?? countFromEnv('BENCH_TOKEN_REQUESTS', 3000);
  const signIns = options.signIns ?? countFromEnv('BENCH_SIGN_INS', 200);
  const wantPostgres = options.postgres ?? process.env.BENCH_POSTGRES !== '0';
  const rows: TokenBenchRow[] = [];
  let hash: HashTiming | undefined;
  await withServer('portcullis', {}, async (server) => {
    hash = await server.ask<HashTiming>({ op: 'hash-timing', samples: 10, parallel: SIGN_IN_CONCURRENCY });
    rows.push(...(await benchPortcullis(server, { requests, signIns })));
  });
  let postgresSkipped: string | undefined = wantPostgres ? undefined : 'BENCH_POSTGRES=0';
  if (wantPostgres) {
    const database = await postgresDatabase();
    if ('url' in database) {
      const cpu = existsSync('/proc/self/stat') ? () => backendCpu(database.name) : undefined;
      await withServer(
        'portcullis',
        { BENCH_POSTGRES_URL: database.url },
        async (server) => {
          rows.push(...(await benchPortcullis(server, { requests, signIns })));
        },
        cpu,
      );
    } else {
      postgresSkipped = database.skipped;
    }
  }
  await withServer('oidc-provider', {}, async (server) => {
    rows.push(...(await benchBareProvider(server, { requests })));
  });
  if (!hash) throw new Error('no hash timing');
  return {
    date: new Date().toISOString().slice(0, 10),
    cores: availableParallelism(),
    rows,
    hash,
    ...(postgresSkipped ? { postgresSkipped } : {}),
  };
}

const fixed = (n: number, digits: number) => n.toFixed(digits);
const whole = (n: number) => Math.round(n).toLocaleString('en-US');

/** Issue 3: client-credential and refresh-token grants, each, per core. */
export const GRANTS_PER_CORE_TARGET = 500;

export function formatToken(r: TokenBenchResult): string {
  const p = OWASP_ARGON2ID;
  const h = r.hash;
  const lines = [
    `${r.date}, ${r.cores} cores shared by the server process and the load generator (loopback, keep-alive).`,
    '',
    '| server | store | operation | workers | ops | ops/s | p50 ms | p99 ms | server CPU ms/op | DB CPU ms/op | ops/s per core | server RSS MB |',
    '|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...r.rows.map(
      (row) =>
        `| ${row.server} | ${row.store} | ${row.operation} | ${row.concurrency} | ${whole(row.load.operations)} | ` +
        `${whole(row.load.perSecond)} | ${fixed(row.load.p50Ms, 1)} | ${fixed(row.load.p99Ms, 1)} | ` +
        `${fixed(row.cpuMsPerOp, 2)} | ${row.dbCpuMsPerOp === undefined ? '—' : fixed(row.dbCpuMsPerOp, 2)} | ` +
        `${whole(row.perCore)} | ${whole(row.rssMB)} |`,
    ),
    '',
    `argon2id m=${p.memoryKiB} KiB (19 MiB), t=${p.passes}, p=${p.parallelism}, salt ${p.saltBytes} B, tag ` +
      `${p.hashBytes} B: hashPassword ${fixed(h.hashMs, 1)} ms, verifyPassword ${fixed(h.verifyMs, 1)} ms (median ` +
      `of 10, one at a time); ${fixed(h.parallelVerifyCpuMs, 1)} ms of CPU per verification when ${h.parallel} run ` +
      'at once.',
  ];
  for (const row of r.rows.filter((x) => x.operation === 'password sign-in')) {
    const cpu = row.cpuMsPerOp + (row.dbCpuMsPerOp ?? 0);
    const share = (100 * h.parallelVerifyCpuMs) / cpu;
    lines.push(
      `Password sign-in (${row.store}): ${fixed(cpu, 1)} ms of server${row.dbCpuMsPerOp === undefined ? '' : ' + database'} CPU each, of which the hash ` +
        `≈ ${fixed(h.parallelVerifyCpuMs, 1)} ms (${share.toFixed(0)} %); the hash alone would allow ` +
        `${whole(1000 / h.parallelVerifyCpuMs)} sign-ins/s per core.`,
    );
  }
  lines.push('');
  for (const row of r.rows.filter((x) => x.server === 'portcullis' && x.operation !== 'password sign-in')) {
    const met = row.perCore >= GRANTS_PER_CORE_TARGET;
    const bare = r.rows.find((x) => x.server === 'oidc-provider' && x.operation === row.operation);
    lines.push(
      `Target ${row.operation} ≥ ${GRANTS_PER_CORE_TARGET}/s per core (${row.store}): ` +
        `${met ? 'met' : 'NOT met'} (${whole(row.perCore)}/s` +
        (bare ? `; ${fixed(bare.perCore / row.perCore, 2)}× the CPU of the bare provider).` : ').'),
    );
  }
  if (r.postgresSkipped) lines.push('', `PostgreSQL not measured: ${r.postgresSkipped}`);
  return lines.join('\n');
}

if (import.meta.main) console.log(formatToken(await benchToken()));
