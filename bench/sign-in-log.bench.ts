// Benchmark of writing sign-in log entries (every sign-in and every refresh-token use writes one) by the size of the
// log, with random ids (UUID version 4) against time-ordered ones (version 7, what Portcullis generates for the entry
// id and for a correlation id the client did not send). Two of the log's indexes are on those ids: with random ids
// each new entry lands on a random page of both, with time-ordered ones on the last page, which the next entry is
// likely to share. Embedded SQLite in a file, a fresh database per row; entries are appended two at a time through
// the real repository, so each pair is one group commit, as in the token bench's refreshes.
// Run: `npx node bench/sign-in-log.bench.ts` (also part of `npm run bench`). BENCH_LOG_ROWS=20000,200000 sets the
// sizes of the log before the timed appends.
import { randomUUID, randomUUIDv7 } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSignInEntry, type SignInLogInput } from '../src/audit/sign-in-entry.ts';
import { SignInLogRepository } from '../src/audit/sign-in-log.ts';
import { ManualClock } from '../src/clock.ts';
import { createTenant } from '../src/directory/tenants.ts';
import { openStore } from '../src/store/store.ts';

/** 2026-11-23T09:00:00Z. */
const NOW = 1_795_424_400_000;
const USERS = 500;
/** Timed appends per row (in pairs). */
const APPENDS = 4_000;
/** Entries appended at once while filling the log: one group commit each. */
const FILL_BATCH = 1_000;

export type IdKind = 'random (v4)' | 'time-ordered (v7)';

export interface SignInLogRow {
  readonly entries: number;
  readonly ids: IdKind;
  /** Main-thread CPU per appended entry, statement and its share of the commit included. */
  readonly cpuUs: number;
  /** Wall time per appended entry: CPU plus waiting for the disk (a checkpoint's fsync). */
  readonly wallUs: number;
}

function attemptOf(tenantId: string, n: number, ids: IdKind): SignInLogInput {
  const fresh = ids === 'random (v4)' ? randomUUID : randomUUIDv7;
  const user = n % USERS;
  return {
    tenantId,
    // The time-ordered kind is the default: no id given.
    id: ids === 'random (v4)' ? fresh() : undefined,
    at: NOW + n,
    correlationId: fresh(),
    user: {
      id: `00000000-0000-4000-8000-${String(user).padStart(12, '0')}`,
      userPrincipalName: `user${user}@contoso.example`,
      displayName: `User ${user}`,
    },
    app: { appId: '11111111-1111-4111-8111-111111111111', displayName: 'Payroll' },
    ipAddress: '203.0.113.7',
    country: 'us',
    userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0',
    clientAppType: 'browser',
    devicePlatform: 'windows',
    isInteractive: false,
    errorCode: 0,
    amr: ['pwd', 'mfa'],
  };
}

export async function benchSignInLog(
  sizes = (process.env.BENCH_LOG_ROWS ?? '20000,200000').split(',').map(Number),
): Promise<SignInLogRow[]> {
  const rows: SignInLogRow[] = [];
  for (const entries of sizes) {
    if (!Number.isInteger(entries) || entries < 0) throw new Error(`BENCH_LOG_ROWS: ${entries} is not a count`);
    for (const ids of ['random (v4)', 'time-ordered (v7)'] as const) {
      const dir = mkdtempSync(join(tmpdir(), 'portcullis-sign-in-log-'));
      const store = await openStore({ kind: 'sqlite', path: join(dir, 'portcullis.db') }, new ManualClock(NOW));
      try {
        await store.migrate();
        const tenant = await createTenant(store, { name: 'contoso' });
        const log = new SignInLogRepository(store.forTenant(tenant.id));
        const append = (n: number) => log.append(buildSignInEntry(attemptOf(tenant.id, n, ids)));
        let n = 0;
        while (n < entries) {
          const batch = Math.min(FILL_BATCH, entries - n);
          await Promise.all(Array.from({ length: batch }, () => append(n++)));
        }
        for (let i = 0; i < 200; i++) await Promise.all([append(n++), append(n++)]);
        const cpu = process.threadCpuUsage();
        const started = performance.now();
        for (let i = 0; i < APPENDS / 2; i++) await Promise.all([append(n++), append(n++)]);
        const wallUs = ((performance.now() - started) * 1000) / APPENDS;
        const used = process.threadCpuUsage(cpu);
        rows.push({ entries, ids, cpuUs: (used.user + used.system) / APPENDS, wallUs });
      } finally {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  return rows;
}

export function formatSignInLog(rows: readonly SignInLogRow[]): string {
  const lines = [
    '| entries in the log | ids | main-thread CPU µs per entry | wall µs per entry |',
    '|---:|---|---:|---:|',
    ...rows.map(
      (r) => `| ${r.entries.toLocaleString('en')} | ${r.ids} | ${r.cpuUs.toFixed(0)} | ${r.wallUs.toFixed(0)} |`,
    ),
  ];
  return lines.join('\n');
}

if (import.meta.main) console.log(formatSignInLog(await benchSignInLog()));
