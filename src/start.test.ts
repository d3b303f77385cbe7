// Housekeeping (start.ts): what it deletes in every tenant, and what it keeps — here, sign-in sessions, which stay
// for the refresh-token lifetime after they end so a late refresh is refused with the session's own reason.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { storesUnderTest } from '../test/support/stores.ts';
import { HOUR, MINUTE, openSessionWorld } from './session/testing/world.ts';
import { runHousekeeping } from './start.ts';

for (const db of storesUnderTest()) {
  test(`${db.name}: housekeeping purges sessions that ended longer ago than it keeps them, in every tenant`, async () => {
    const w = await openSessionWorld(db);
    try {
      const contoso = w.sessions();
      const fabrikam = w.sessions({ scope: w.fabrikam });
      const old = await contoso.create(w.alice, { amr: ['pwd'] });
      await contoso.revoke(old.sessionId);
      const elsewhere = await fabrikam.create(w.mallory, { amr: ['pwd'] });
      await fabrikam.revoke(elsewhere.sessionId);
      w.clock.advance(2 * HOUR);
      const recent = await contoso.create(w.bob, { amr: ['pwd'] });
      await contoso.revoke(recent.sessionId);
      const running = await contoso.create(w.alice, { amr: ['pwd'] });
      w.clock.advance(10 * MINUTE);

      await runHousekeeping(w.store, HOUR);

      const handles = async (scope: typeof w.contoso) =>
        (await scope.selectFrom('sessions').select('id_hash').execute()).map((r) => r.id_hash).sort();
      assert.deepEqual(await handles(w.contoso), [recent.session.handle, running.session.handle].sort());
      assert.deepEqual(await handles(w.fabrikam), []);
      assert.equal((await contoso.check(running.sessionId, running.bindingSecret)).live, true);
    } finally {
      await w.store.close();
    }
  });
}
