// The stored sign-in log on SQLite and PostgreSQL: append only, newest first, keyset pages that neither skip nor
// repeat (even for entries in the same millisecond), the admin API's filters, and one tenant never seeing another's.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { storesUnderTest } from '../../test/support/stores.ts';
import { twoTenants } from '../../test/support/tenants.ts';
import { ManualClock } from '../clock.ts';
import { PortcullisError } from '../errors.ts';
import type { SignInLogSink } from '../signin/ports.ts';
import type { Store } from '../store/store.ts';
import { buildSignInEntry, type SignInLogInput } from './sign-in-entry.ts';
import { type SignInLogFilter, SignInLogRepository, StoreSignInLog } from './sign-in-log.ts';

const T0 = Date.UTC(2026, 2, 2, 9, 0, 0);
const PAYROLL = { appId: 'a0000000-0000-4000-8000-00000000aaaa', displayName: 'Payroll' };
const WIKI = { appId: 'b0000000-0000-4000-8000-00000000bbbb', displayName: 'Wiki' };
const alice = {
  id: 'a11ce000-0000-4000-8000-000000000001',
  userPrincipalName: 'alice@contoso.example',
  displayName: 'Alice',
};
const bob = {
  id: 'b0b00000-0000-4000-8000-000000000002',
  userPrincipalName: 'bob@contoso.example',
  displayName: 'Bob',
};

interface Setup {
  store: Store;
  contoso: string;
  fabrikam: string;
  log: SignInLogRepository;
}

function attempt(tenantId: string, n: number, overrides: Partial<SignInLogInput> = {}): SignInLogInput {
  return {
    tenantId,
    id: `e0000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    at: T0 + n * 1000,
    correlationId: `c-${n}`,
    user: alice,
    app: PAYROLL,
    ipAddress: '198.51.100.10',
    country: 'US',
    userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0',
    clientAppType: 'browser',
    devicePlatform: 'linux',
    isInteractive: true,
    errorCode: 0,
    amr: ['pwd'],
    ...overrides,
  };
}

/**
 * Ten attempts at contoso, a second apart: 1–4 alice to Payroll (3 failed), 5–7 bob to Wiki (6 blocked), 8–10 alice
 * to Wiki; entries 11 and 12 share entry 10's millisecond.
 */
async function setup(db: (typeof stores)[number]): Promise<Setup> {
  const store = await db.open({ clock: new ManualClock(T0) });
  const { contoso, fabrikam } = await twoTenants(store);
  const sink = new StoreSignInLog(store);
  // What the composition root gives the sign-in pipeline as its sink.
  const _fits: SignInLogSink = sink;
  for (let n = 1; n <= 10; n++) {
    const overrides: Partial<SignInLogInput> =
      n <= 4
        ? { errorCode: n === 3 ? 50126 : 0 }
        : n <= 7
          ? { user: bob, app: WIKI, errorCode: n === 6 ? 53003 : 0 }
          : { app: WIKI };
    await sink.append(attempt(contoso, n, overrides));
  }
  await sink.append(attempt(contoso, 11, { at: T0 + 10_000, app: WIKI }));
  await sink.append(attempt(contoso, 12, { at: T0 + 10_000, app: WIKI }));
  return { store, contoso, fabrikam, log: new SignInLogRepository(store.forTenant(contoso)) };
}

const seq = (ids: { id: string }[]) => ids.map((e) => Number(e.id.slice(-12)));

const stores = storesUnderTest();

const filters: Array<{ name: string; filter: SignInLogFilter; expect: number[] }> = [
  {
    name: 'everything, newest first (ties by id, descending)',
    filter: {},
    expect: [12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1],
  },
  { name: 'bob’s sign-ins', filter: { userId: bob.id }, expect: [7, 6, 5] },
  { name: 'Payroll’s sign-ins', filter: { appId: PAYROLL.appId }, expect: [4, 3, 2, 1] },
  { name: 'failures only', filter: { status: 'failure' }, expect: [6, 3] },
  {
    name: 'alice’s successes at Payroll',
    filter: { userId: alice.id, appId: PAYROLL.appId, status: 'success' },
    expect: [4, 2, 1],
  },
  { name: 'from 5 to 7 seconds in, both ends included', filter: { from: T0 + 5000, to: T0 + 7000 }, expect: [7, 6, 5] },
  { name: 'one correlation id', filter: { correlationId: 'c-6' }, expect: [6] },
  { name: 'a user with no sign-ins', filter: { userId: 'nobody' }, expect: [] },
];

for (const db of stores) {
  for (const c of filters) {
    test(`${db.name}: list ${c.name}`, async () => {
      const { log } = await setup(db);
      assert.deepEqual(seq((await log.list({ filter: c.filter })).items), c.expect);
    });
  }

  test(`${db.name}: pages of five walk the whole log once, across entries in the same millisecond`, async () => {
    const { log } = await setup(db);
    const seen: number[] = [];
    let skipToken: string | undefined;
    let pages = 0;
    do {
      const page = await log.list({ top: 5, skipToken });
      seen.push(...seq(page.items));
      skipToken = page.skipToken;
      pages++;
    } while (skipToken !== undefined);
    assert.deepEqual(seen, [12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    assert.equal(pages, 3);
  });

  test(`${db.name}: pages keep their filter: alice’s Wiki sign-ins two at a time`, async () => {
    const { log } = await setup(db);
    const filter = { userId: alice.id, appId: WIKI.appId };
    const first = await log.list({ top: 2, filter });
    const second = await log.list({ top: 2, filter, skipToken: first.skipToken });
    const third = await log.list({ top: 2, filter, skipToken: second.skipToken });
    assert.deepEqual([seq(first.items), seq(second.items), seq(third.items)], [[12, 11], [10, 9], [8]]);
    assert.equal(third.skipToken, undefined);
  });

  test(`${db.name}: an entry reads back exactly as built, by id`, async () => {
    const { store, contoso, log } = await setup(db);
    const entry = buildSignInEntry(attempt(contoso, 99, { user: bob, errorCode: 50053 }));
    await log.append(entry);
    assert.deepEqual(await log.get(entry.id), entry);
    const row = await store
      .forTenant(contoso)
      .selectFrom('sign_in_logs')
      .selectAll()
      .where('id', '=', entry.id)
      .executeTakeFirstOrThrow();
    assert.deepEqual(
      {
        user: row.user_id,
        app: row.app_id,
        code: row.status_error_code,
        correlation: row.correlation_id,
        at: row.created_at,
      },
      { user: bob.id, app: PAYROLL.appId, code: 50053, correlation: 'c-99', at: T0 + 99_000 },
    );
  });

  test(`${db.name}: append only — an entry is never replaced, and there is no way to change or delete one`, async () => {
    const { contoso, log } = await setup(db);
    await assert.rejects(log.append(buildSignInEntry(attempt(contoso, 1, { errorCode: 0, user: bob }))));
    assert.equal((await log.get(attempt(contoso, 1).id!))?.userId, alice.id);
    const methods = Object.getOwnPropertyNames(SignInLogRepository.prototype).sort();
    assert.deepEqual(methods, ['append', 'constructor', 'get', 'list']);
  });

  test(`${db.name}: fabrikam sees none of contoso’s sign-ins`, async () => {
    const { store, fabrikam, log } = await setup(db);
    const theirs = new SignInLogRepository(store.forTenant(fabrikam));
    assert.deepEqual(await theirs.list(), { items: [] });
    assert.equal(await theirs.get(attempt('', 1).id!), undefined);
    assert.deepEqual(await theirs.list({ filter: { correlationId: 'c-1' } }), { items: [] });
    // A token from contoso's pages gives fabrikam nothing of contoso's either.
    const token = (await log.list({ top: 1 })).skipToken;
    assert.deepEqual(await theirs.list({ skipToken: token }), { items: [] });
  });
}

const refusals: Array<{ name: string; query: Parameters<SignInLogRepository['list']>[0]; message: RegExp }> = [
  { name: '$top of 0', query: { top: 0 }, message: /\$top: must be a whole number from 1 to 1000 but it is 0/ },
  { name: '$top of 1001', query: { top: 1001 }, message: /\$top: .* but it is 1001/ },
  { name: 'a skip token that was never issued', query: { skipToken: 'bm9wZQ' }, message: /\$skipToken: not a token/ },
  { name: 'a skip token with odd characters', query: { skipToken: "x' or 1=1" }, message: /\$skipToken: not a token/ },
  {
    name: 'an unknown status',
    query: { filter: { status: 'weird' as never } },
    message: /status must be 'success' or 'failure'/,
  },
  { name: 'a from that is not a time', query: { filter: { from: Number.NaN } }, message: /from must be a time/ },
];

const sqlite = stores.find((s) => s.name === 'sqlite')!;
for (const c of refusals) {
  test(`mallory’s query with ${c.name} is refused with 90001, naming the parameter`, async () => {
    const store = await sqlite.open();
    const { contoso } = await twoTenants(store);
    const log = new SignInLogRepository(store.forTenant(contoso));
    await assert.rejects(
      log.list(c.query),
      (e) => e instanceof PortcullisError && e.code === 90001 && c.message.test(e.message),
    );
  });
}
