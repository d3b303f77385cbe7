// Benchmark of the two lookups every refresh-token use makes besides the token itself, in a tenant of growing size:
// the user's Conditional Access subject (their groups, nested groups flattened, and roles: one recursive statement;
// sign-ins and forward-auth checks make it too) and the sign-in session that covers the grant. Each should cost the
// same whatever the tenant's size. Embedded SQLite in a file (as `portcullis serve` uses it), a fresh database per size.
// Run: `npx node bench/lookup-scale.bench.ts` (also part of `npm run bench`). BENCH_SCALE_USERS=1000,10000 sets the sizes.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../src/clock.ts';
import { subjectFor } from '../src/directory/subject.ts';
import { createTenant } from '../src/directory/tenants.ts';
import { Sessions } from '../src/session/sessions.ts';
import { openStore } from '../src/store/store.ts';
import type { TenantScope } from '../src/store/tenant-scope.ts';
import { percentile } from './stats.ts';

/** 2026-11-23T09:00:00Z. */
const NOW = 1_795_424_400_000;
const GROUPS = 500;
/** Groups each user is in directly; every group is also in one of 50 outer groups (one level of nesting). */
const GROUPS_PER_USER = 3;
const SAMPLES = 2_000;

export interface LookupScaleRow {
  readonly users: number;
  readonly memberships: number;
  readonly lookup: 'subject' | 'grant session';
  readonly medianUs: number;
  readonly p99Us: number;
}

async function fill(scope: TenantScope, users: number): Promise<{ userIds: string[]; grantIds: string[] }> {
  const userIds: string[] = [];
  const grantIds: string[] = [];
  await scope.transaction(async (tx) => {
    for (let g = 0; g < GROUPS; g++) {
      await tx
        .insertInto('groups', {
          id: `group-${g}`,
          display_name: `Group ${g}`,
          description: null,
          mail_nickname: null,
          created_at: NOW,
          modified_at: NOW,
        })
        .execute();
    }
    for (let g = 50; g < GROUPS; g++) {
      await tx
        .insertInto('group_members', {
          group_id: `group-${g % 50}`,
          member_type: 'group',
          member_id: `group-${g}`,
          created_at: NOW,
        })
        .execute();
    }
    for (let u = 0; u < users; u++) {
      const id = randomUUID();
      userIds.push(id);
      await tx
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
      for (let k = 0; k < GROUPS_PER_USER; k++) {
        await tx
          .insertInto('group_members', {
            group_id: `group-${50 + ((u * 7 + k * 131) % (GROUPS - 50))}`,
            member_type: 'user',
            member_id: id,
            created_at: NOW,
          })
          .execute();
      }
      const handle = `session-${u}`;
      await tx
        .insertInto('sessions', {
          id_hash: handle,
          user_id: id,
          created_at: NOW,
          amr: '["pwd"]',
          mfa_at: null,
          last_activity_at: NOW,
          expires_at: NOW + 86_400_000,
          binding_hash: 'unused',
          persistent: 0,
          ended_at: null,
          end_reason: null,
        })
        .execute();
      for (const kind of ['oidcSession', 'grant'] as const) {
        const oidcId = `${kind}-${u}`;
        await tx.insertInto('session_links', { session_hash: handle, kind, oidc_id: oidcId }).execute();
        if (kind === 'grant') grantIds.push(oidcId);
      }
    }
  });
  return { userIds, grantIds };
}

async function time(run: (i: number) => Promise<void>): Promise<{ medianUs: number; p99Us: number }> {
  for (let i = 0; i < 200; i++) await run(i);
  const times = new Float64Array(SAMPLES);
  for (let i = 0; i < SAMPLES; i++) {
    const started = process.hrtime.bigint();
    await run(i);
    times[i] = Number(process.hrtime.bigint() - started) / 1000;
  }
  return { medianUs: percentile(times, 50), p99Us: percentile(times, 99) };
}

export async function benchLookupScale(
  sizes = (process.env.BENCH_SCALE_USERS ?? '1000,10000,50000').split(',').map(Number),
): Promise<LookupScaleRow[]> {
  const rows: LookupScaleRow[] = [];
  for (const users of sizes) {
    if (!Number.isInteger(users) || users < 1) throw new Error(`BENCH_SCALE_USERS: ${users} is not a count of users`);
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-scale-'));
    const clock = new ManualClock(NOW);
    const store = await openStore({ kind: 'sqlite', path: join(dir, 'portcullis.db') }, clock);
    try {
      await store.migrate();
      const tenant = await createTenant(store, { name: 'contoso' });
      const scope = store.forTenant(tenant.id);
      const { userIds, grantIds } = await fill(scope, users);
      const memberships = users * GROUPS_PER_USER + (GROUPS - 50);
      const pick = (i: number) => (i * 7919) % users;
      const subject = await time(async (i) => {
        const found = await subjectFor(scope, userIds[pick(i)]);
        if (found?.groups.length !== GROUPS_PER_USER * 2) throw new Error(`subject: ${JSON.stringify(found)}`);
      });
      rows.push({ users, memberships, lookup: 'subject', ...subject });
      const sessions = new Sessions(scope);
      const session = await time(async (i) => {
        const check = await sessions.checkGrant(grantIds[pick(i)], NOW);
        if (!check.live) throw new Error(`grant session: ${JSON.stringify(check)}`);
      });
      rows.push({ users, memberships, lookup: 'grant session', ...session });
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return rows;
}

export function formatLookupScale(rows: readonly LookupScaleRow[]): string {
  const lines = ['| users | group memberships | lookup | median µs | p99 µs |', '|---:|---:|---|---:|---:|'];
  for (const r of rows) {
    lines.push(
      `| ${r.users.toLocaleString('en')} | ${r.memberships.toLocaleString('en')} | ${r.lookup} | ${r.medianUs.toFixed(0)} | ${r.p99Us.toFixed(0)} |`,
    );
  }
  return lines.join('\n');
}

if (import.meta.main) console.log(formatLookupScale(await benchLookupScale()));
