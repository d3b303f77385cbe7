// Benchmark of the forward-auth hot path's session step: cookie → live session from the in-memory cache (hash the
// session id, find the entry, compare the binding secret in constant time, compute the end times from the cached
// tenant settings), alone and with the throttled activity touch; and, for scale, the same check when it misses the
// cache and reads embedded SQLite (settings and session). 4,096 sessions of 1,024 users in one tenant, inactivity timeout on.
// Run: `npx node --expose-gc bench/session.bench.ts` (or `npm run bench`).
import { randomUUID } from 'node:crypto';
import { ManualClock } from '../src/clock.ts';
import { createTenant } from '../src/directory/tenants.ts';
import { SessionCache } from '../src/session/cache.ts';
import { type SessionCheck, Sessions } from '../src/session/sessions.ts';
import { updateSessionSettings } from '../src/session/settings-store.ts';
import { openStore } from '../src/store/store.ts';
import { fullGc, percentile } from './stats.ts';

const USERS = 1_024;
const SESSIONS = 4_096;
const ROUNDS = 25;
const MISS_SAMPLES = 4_096;
/** 2026-11-23T09:00:00Z. */
const NOW = 1_795_424_400_000;

export interface SessionBenchRow {
  readonly path: string;
  readonly samples: number;
  readonly medianNs: number;
  readonly p99Ns: number;
}

async function timeEach(
  samples: number,
  run: (i: number) => Promise<SessionCheck | unknown>,
  verify: (result: unknown) => void,
): Promise<Float64Array> {
  const times = new Float64Array(samples);
  for (let i = 0; i < samples; i++) {
    const started = process.hrtime.bigint();
    const result = await run(i);
    times[i] = Number(process.hrtime.bigint() - started);
    verify(result);
  }
  return times;
}

function mustBeLive(result: unknown): void {
  if (!(result as SessionCheck).live) throw new Error('benchmark session was not live');
}

export async function benchSession(): Promise<SessionBenchRow[]> {
  const clock = new ManualClock(NOW);
  const store = await openStore({ kind: 'sqlite', path: ':memory:' }, clock);
  try {
    await store.migrate();
    const tenant = await createTenant(store, { name: 'contoso', displayName: 'Contoso' });
    const scope = store.forTenant(tenant.id);
    await updateSessionSettings(scope, { inactivityTimeoutMinutes: 30 });
    const userIds: string[] = [];
    for (let u = 0; u < USERS; u++) {
      const id = randomUUID();
      await scope
        .insertInto('users', {
          id,
          user_principal_name: `user${u}@contoso.example`,
          upn_key: `user${u}@contoso.example`,
          display_name: `User ${u}`,
          mail: null,
          user_type: 'member',
          account_enabled: 1,
          created_at: NOW,
          modified_at: NOW,
        })
        .execute();
      userIds.push(id);
    }
    const cache = new SessionCache();
    const sessions = new Sessions(scope, { cache });
    const cookies: Array<{ sessionId: string; bindingSecret: string }> = [];
    for (let s = 0; s < SESSIONS; s++) {
      const { sessionId, bindingSecret } = await sessions.create(userIds[s % USERS], { amr: ['pwd', 'mfa'] });
      cookies.push({ sessionId, bindingSecret });
    }
    // A shuffled order, so consecutive checks do not hit neighbouring entries.
    const order = Array.from({ length: SESSIONS }, (_, i) => (i * 2_654_435_761) % SESSIONS);
    const now = NOW + 1_000; // within the cache TTL of every entry
    const check = (i: number) => {
      const c = cookies[order[i % SESSIONS]];
      return sessions.check(c.sessionId, c.bindingSecret, now);
    };
    await timeEach(SESSIONS * 4, check, mustBeLive); // warm-up: JIT and every entry fresh in the cache

    fullGc();
    const hits = await timeEach(SESSIONS * ROUNDS, check, mustBeLive);

    fullGc();
    const touched = await timeEach(
      SESSIONS * ROUNDS,
      async (i) => {
        const result = await check(i);
        if (result.live) await sessions.touch(result.session, now); // throttled: no store write
        return result;
      },
      mustBeLive,
    );

    // Misses: a cache whose 1 ms TTL has always passed, so each check reads the settings and the session from SQLite.
    const cold = new Sessions(scope, { cache: new SessionCache({ ttlMs: 1 }) });
    let missNow = now;
    fullGc();
    const misses = await timeEach(
      MISS_SAMPLES,
      (i) => {
        const c = cookies[order[i % SESSIONS]];
        missNow += 2;
        return cold.check(c.sessionId, c.bindingSecret, missNow);
      },
      mustBeLive,
    );

    const row = (path: string, t: Float64Array): SessionBenchRow => ({
      path,
      samples: t.length,
      medianNs: percentile(t, 50),
      p99Ns: percentile(t, 99),
    });
    return [
      row('check, cache hit', hits),
      row('check + touch (throttled), cache hit', touched),
      row('check, cache miss → two SQLite reads', misses),
    ];
  } finally {
    await store.close();
  }
}

export function formatSession(rows: readonly SessionBenchRow[]): string {
  const us = (ns: number) => (ns / 1000).toFixed(2);
  return [
    '| path | samples | median µs | p99 µs |',
    '|---|---:|---:|---:|',
    ...rows.map((r) => `| ${r.path} | ${r.samples.toLocaleString('en')} | ${us(r.medianNs)} | ${us(r.p99Ns)} |`),
  ].join('\n');
}

if (import.meta.main) console.log(formatSession(await benchSession()));
