// The session lifecycle on SQLite and PostgreSQL, with a clock the test moves: absolute and inactivity expiry, the
// throttled activity write, the warning window, settings changes reaching running sessions, revocation, browser
// binding, tenant isolation, and sessions that survive a restart of the store.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { storesUnderTest } from '../../test/support/stores.ts';
import { openStore } from '../store/store.ts';
import { SessionCache } from './cache.ts';
import { SessionRepository, SessionUserError } from './repository.ts';
import { ACTIVITY_WRITE_INTERVAL_MS, type LiveSession, type SessionCheck, Sessions } from './sessions.ts';
import { DEFAULT_SESSION_SETTINGS, SessionSettingsError } from './settings.ts';
import { readSessionSettings, updateSessionSettings } from './settings-store.ts';
import { HOUR, MINUTE, openSessionWorld, recordingLogger, type SessionWorld } from './testing/world.ts';
import { hashToken, newToken } from './tokens.ts';

function live(check: SessionCheck): LiveSession {
  assert.equal(check.live, true, `expected a live session, got ${check.live ? 'live' : check.reason}`);
  return check as LiveSession;
}

function ended(check: SessionCheck, reason: string): void {
  assert.equal(check.live, false, `expected '${reason}', but the session is live`);
  if (!check.live) assert.equal(check.reason, reason);
}

async function settle(w: SessionWorld, patch: object): Promise<void> {
  const result = await updateSessionSettings(w.contoso, patch);
  assert.ok(result.ok, result.ok ? '' : result.problems.join('; '));
}

async function storedActivity(w: SessionWorld, handle: string): Promise<number> {
  const row = await w.contoso
    .selectFrom('sessions')
    .select('last_activity_at')
    .where('id_hash', '=', handle)
    .executeTakeFirstOrThrow();
  return Number(row.last_activity_at);
}

const cases: Array<{ name: string; run: (w: SessionWorld) => Promise<void> }> = [
  {
    name: 'alice signs in: two 256-bit base64url secrets, and the store keeps only their hashes',
    async run(w) {
      const { sessionId, bindingSecret, session } = await w.sessions().create(w.alice, { amr: ['pwd', 'mfa'] });
      assert.match(sessionId, /^[A-Za-z0-9_-]{43}$/);
      assert.match(bindingSecret, /^[A-Za-z0-9_-]{43}$/);
      assert.notEqual(sessionId, bindingSecret);
      assert.equal(session.handle, hashToken(sessionId));
      assert.deepEqual(
        { userId: session.userId, amr: session.amr, mfaAt: session.mfaAt, persistent: session.persistent },
        { userId: w.alice, amr: ['pwd', 'mfa'], mfaAt: w.clock.now(), persistent: false },
      );
      const rows = await w.contoso.selectFrom('sessions').selectAll().execute();
      assert.equal(rows.length, 1);
      const raw = JSON.stringify(rows);
      assert.ok(!raw.includes(sessionId), 'the session id is not stored');
      assert.ok(!raw.includes(bindingSecret), 'the binding secret is not stored');
      assert.equal(rows[0].binding_hash, hashToken(bindingSecret));
    },
  },
  {
    name: 'a fresh session ends 1440 minutes after sign-in by default, with the warning 20 minutes before',
    async run(w) {
      const signIn = w.clock.now();
      const { sessionId, bindingSecret, times } = await w.sessions().create(w.alice, { amr: ['pwd'] });
      const check = live(await w.sessions().check(sessionId, bindingSecret));
      assert.equal(check.expiresAt, signIn + 1440 * MINUTE);
      assert.equal(check.idleExpiresAt, undefined);
      assert.equal(check.warnAt, signIn + 1420 * MINUTE);
      assert.equal(check.endsBy, 'absolute');
      assert.deepEqual(times, { expiresAt: check.expiresAt, warnAt: check.warnAt, endsBy: 'absolute' });
      assert.equal(check.session.mfaAt, null);
    },
  },
  {
    name: 'absolute limit: alice stays active, and the session still ends at sign-in + maximum length',
    async run(w) {
      await settle(w, { maximumSessionLengthMinutes: 120, inactivityTimeoutMinutes: 30 });
      const sessions = w.sessions();
      const { sessionId, bindingSecret } = await sessions.create(w.alice, { amr: ['pwd'] });
      for (let i = 0; i < 11; i++) {
        w.clock.advance(10 * MINUTE);
        await sessions.touch(live(await sessions.check(sessionId, bindingSecret)).session);
      }
      w.clock.advance(10 * MINUTE - 1);
      live(await sessions.check(sessionId, bindingSecret));
      w.clock.advance(1);
      ended(await sessions.check(sessionId, bindingSecret), 'absolute');
    },
  },
  {
    name: 'inactivity: bob stops at 9:00 and his session ends at 9:30 exactly; activity moves the end',
    async run(w) {
      await settle(w, { inactivityTimeoutMinutes: 30 });
      const sessions = w.sessions();
      const { sessionId, bindingSecret } = await sessions.create(w.bob, { amr: ['pwd'] });
      w.clock.advance(20 * MINUTE);
      const before = live(await sessions.check(sessionId, bindingSecret));
      assert.equal(before.idleExpiresAt, w.clock.now() + 10 * MINUTE);
      assert.deepEqual(await sessions.touch(before.session), { written: true });
      const after = live(await sessions.check(sessionId, bindingSecret));
      assert.equal(after.idleExpiresAt, w.clock.now() + 30 * MINUTE);
      assert.equal(after.endsBy, 'inactivity');
      w.clock.advance(30 * MINUTE - 1);
      live(await sessions.check(sessionId, bindingSecret));
      w.clock.advance(1);
      ended(await sessions.check(sessionId, bindingSecret), 'inactivity');
    },
  },
  {
    name: 'checks alone are not activity: the status script polling does not keep a session alive',
    async run(w) {
      await settle(w, { inactivityTimeoutMinutes: 10 });
      const sessions = w.sessions();
      const { sessionId, bindingSecret } = await sessions.create(w.alice, { amr: ['pwd'] });
      for (let i = 0; i < 9; i++) {
        w.clock.advance(MINUTE);
        live(await sessions.check(sessionId, bindingSecret));
      }
      w.clock.advance(MINUTE);
      ended(await sessions.check(sessionId, bindingSecret), 'inactivity');
    },
  },
  {
    name: 'activity is written at most once a minute per session, on one node and across nodes',
    async run(w) {
      await settle(w, { inactivityTimeoutMinutes: 30 });
      const nodeA = w.sessions({ cache: new SessionCache() });
      const nodeB = w.sessions({ cache: new SessionCache() });
      const { sessionId, bindingSecret, session } = await nodeA.create(w.alice, { amr: ['pwd'] });
      const signIn = w.clock.now();
      const results: boolean[] = [];
      // 120 requests, one every second, alternating between two nodes, for two minutes.
      for (let second = 1; second <= 120; second++) {
        w.clock.set(signIn + second * 1000);
        const node = second % 2 === 0 ? nodeA : nodeB;
        const check = live(await node.check(sessionId, bindingSecret));
        results.push((await node.touch(check.session)).written);
      }
      const writes = results.filter(Boolean).length;
      assert.equal(writes, 2, `two minutes of requests write twice, not ${writes} times`);
      assert.equal(await storedActivity(w, session.handle), signIn + 120_000);
      assert.equal(ACTIVITY_WRITE_INTERVAL_MS, MINUTE);
    },
  },
  {
    name: 'a throttled touch without a cache writes nothing (the condition is in the statement)',
    async run(w) {
      const sessions = w.sessions();
      const { sessionId, bindingSecret, session } = await sessions.create(w.alice, { amr: ['pwd'] });
      w.clock.advance(59_999);
      assert.deepEqual(await sessions.touch(session), { written: false, reason: 'throttled' });
      w.clock.advance(1);
      const checked = live(await sessions.check(sessionId, bindingSecret));
      // Two requests with the same (stale) record: only the first writes.
      const [first, second] = await Promise.all([sessions.touch(checked.session), sessions.touch(checked.session)]);
      assert.deepEqual(
        [first.written, second.written].sort(),
        [false, true],
        'exactly one of two concurrent touches writes',
      );
      assert.equal(await storedActivity(w, session.handle), w.clock.now());
    },
  },
  {
    name: 'a touch never revives a session that has already ended by inactivity',
    async run(w) {
      await settle(w, { inactivityTimeoutMinutes: 10 });
      const sessions = w.sessions();
      const { sessionId, bindingSecret, session } = await sessions.create(w.bob, { amr: ['pwd'] });
      w.clock.advance(10 * MINUTE);
      assert.deepEqual(await sessions.touch(session), { written: false, reason: 'notLive' });
      ended(await sessions.check(sessionId, bindingSecret), 'inactivity');
    },
  },
  {
    name: 'a failed activity write is logged and returned, and the session stays live',
    async run(w) {
      const logger = recordingLogger();
      const sessions = w.sessions({ cache: new SessionCache(), logger });
      const { sessionId, bindingSecret } = await sessions.create(w.alice, { amr: ['pwd'] });
      w.clock.advance(MINUTE);
      const checked = live(await sessions.check(sessionId, bindingSecret)); // read and cached at this time
      await w.store.close(); // from here every store statement fails
      const result = await sessions.touch(checked.session);
      assert.equal(result.written, false);
      assert.equal(!result.written && result.reason, 'error');
      assert.equal(logger.lines.length, 1);
      assert.match(logger.lines[0].message, /could not be recorded; the session stays live/);
      // Still live from the cache, which needs no store read within its TTL.
      w.clock.advance(1_000);
      live(await sessions.check(sessionId, bindingSecret));
    },
  },
  {
    name: 'warning window: warnAt is the earlier end minus the warning; it does not move with status checks',
    async run(w) {
      await settle(w, {
        maximumSessionLengthMinutes: 480,
        warningBeforeExpiryMinutes: 15,
        inactivityTimeoutMinutes: 60,
      });
      const sessions = w.sessions();
      const signIn = w.clock.now();
      const { sessionId, bindingSecret } = await sessions.create(w.alice, { amr: ['pwd'] });
      const first = live(await sessions.check(sessionId, bindingSecret));
      assert.equal(first.warnAt, signIn + 45 * MINUTE);
      w.clock.advance(44 * MINUTE);
      assert.equal(live(await sessions.check(sessionId, bindingSecret)).warnAt, signIn + 45 * MINUTE);
      w.clock.advance(2 * MINUTE); // in the window: warnAt ≤ now, the end still ahead
      const inWindow = live(await sessions.check(sessionId, bindingSecret));
      assert.ok(inWindow.warnAt <= w.clock.now() && w.clock.now() < inWindow.idleExpiresAt!);
      assert.equal(inWindow.endsBy, 'inactivity');
      // "Stay signed in" is activity: the warning moves an hour on.
      await sessions.touch(inWindow.session);
      const stayed = live(await sessions.check(sessionId, bindingSecret));
      assert.equal(stayed.warnAt, w.clock.now() + 45 * MINUTE);
      // Near the absolute end the absolute limit decides, and "Stay signed in" cannot help.
      while (w.clock.now() < signIn + 470 * MINUTE) {
        w.clock.advance(Math.min(30 * MINUTE, signIn + 470 * MINUTE - w.clock.now()));
        await sessions.touch(live(await sessions.check(sessionId, bindingSecret)).session);
      }
      const late = live(await sessions.check(sessionId, bindingSecret));
      assert.equal(late.endsBy, 'absolute');
      assert.equal(late.warnAt, signIn + 465 * MINUTE);
    },
  },
  {
    name: 'an admin shortens the maximum length after an incident: running sessions end at once',
    async run(w) {
      const sessions = w.sessions({ cache: new SessionCache() });
      const { sessionId, bindingSecret } = await sessions.create(w.alice, { amr: ['pwd'] });
      const bobs = await sessions.create(w.bob, { amr: ['pwd'] });
      w.clock.advance(2 * HOUR);
      await sessions.touch(live(await sessions.check(sessionId, bindingSecret)).session);
      const result = await updateSessionSettings(w.contoso, { maximumSessionLengthMinutes: 60 });
      assert.ok(result.ok);
      // A node whose cache still holds the old settings: it sees the change within the cache TTL.
      w.clock.advance(5_000);
      ended(await sessions.check(sessionId, bindingSecret), 'absolute');
      ended(await w.sessions().check(bobs.sessionId, bobs.bindingSecret), 'absolute');
      // Relaxing the setting again does not bring them back (their latest end was lowered in the store).
      assert.ok((await updateSessionSettings(w.contoso, { maximumSessionLengthMinutes: 1440 })).ok);
      ended(await w.sessions().check(sessionId, bindingSecret), 'absolute');
      // New sign-ins get the relaxed length.
      const fresh = await w.sessions().create(w.alice, { amr: ['pwd'] });
      assert.equal(fresh.times.expiresAt, w.clock.now() + 1440 * MINUTE);
    },
  },
  {
    name: 'shortening the settings on this node takes effect at once through its cache',
    async run(w) {
      const cache = new SessionCache();
      const sessions = w.sessions({ cache });
      const { sessionId, bindingSecret } = await sessions.create(w.alice, { amr: ['pwd'] });
      w.clock.advance(20 * MINUTE);
      live(await sessions.check(sessionId, bindingSecret));
      assert.ok((await updateSessionSettings(w.contoso, { inactivityTimeoutMinutes: 15 }, { cache })).ok);
      ended(await sessions.check(sessionId, bindingSecret), 'inactivity');
    },
  },
  {
    name: 'an inactivity timeout turned off later does not revive sessions that were already idle past it',
    async run(w) {
      await settle(w, { inactivityTimeoutMinutes: 30 });
      const sessions = w.sessions();
      const idle = await sessions.create(w.alice, { amr: ['pwd'] });
      w.clock.advance(20 * MINUTE);
      const active = await sessions.create(w.bob, { amr: ['pwd'] });
      w.clock.advance(25 * MINUTE); // alice idle 45 min (ended), bob 25 min (live)
      ended(await sessions.check(idle.sessionId, idle.bindingSecret), 'inactivity');
      await settle(w, { inactivityTimeoutMinutes: null });
      ended(await sessions.check(idle.sessionId, idle.bindingSecret), 'inactivity');
      const bob = live(await sessions.check(active.sessionId, active.bindingSecret));
      assert.equal(bob.idleExpiresAt, undefined);
    },
  },
  {
    name: 'a grant covered by two sessions (signed in again, grant kept) follows the newer one',
    async run(w) {
      const sessions = w.sessions();
      const first = await sessions.create(w.alice, { amr: ['pwd'] });
      w.clock.advance(MINUTE);
      const second = await sessions.create(w.alice, { amr: ['pwd', 'mfa'] });
      await sessions.cover(second.session, { grantId: 'kept' });
      await sessions.cover(first.session, { grantId: 'kept' });
      assert.equal(live(await sessions.checkGrant('kept')).session.handle, second.session.handle);
      await sessions.revoke(first.sessionId);
      assert.equal(live(await sessions.checkGrant('kept')).session.handle, second.session.handle);
      await sessions.revoke(second.sessionId);
      ended(await sessions.checkGrant('kept'), 'revoked');
    },
  },
  {
    name: 'sign-out revokes the session and returns the OIDC sessions and grants it covered',
    async run(w) {
      const cache = new SessionCache();
      const sessions = w.sessions({ cache });
      const { sessionId, bindingSecret, session } = await sessions.create(w.alice, { amr: ['pwd'] });
      await sessions.cover(session, { oidcSessionId: 'oidc-s1', grantId: 'grant-a' });
      await sessions.cover(session, { grantId: 'grant-b' });
      await sessions.cover(session, { grantId: 'grant-b' }); // idempotent
      live(await sessions.check(sessionId, bindingSecret)); // now cached
      live(await sessions.checkGrant('grant-a'));
      const revoked = await sessions.revoke(sessionId);
      assert.deepEqual(revoked, {
        handle: session.handle,
        userId: w.alice,
        alreadyRevoked: false,
        oidcSessionIds: ['oidc-s1'],
        grantIds: ['grant-a', 'grant-b'],
      });
      ended(await sessions.check(sessionId, bindingSecret), 'revoked');
      ended(await sessions.checkGrant('grant-b'), 'revoked');
      ended(await sessions.checkGrant('grant-unknown'), 'unknown');
      const again = await sessions.revoke(sessionId);
      assert.equal(again?.alreadyRevoked, true);
      assert.deepEqual(again?.grantIds, ['grant-a', 'grant-b']);
      assert.equal(await sessions.revoke(newToken()), undefined);
      assert.equal(await sessions.revoke('not a session id'), undefined);
    },
  },
  {
    name: 'sign out everywhere: all of alice’s sessions end, bob’s do not',
    async run(w) {
      const cache = new SessionCache();
      const sessions = w.sessions({ cache });
      const laptop = await sessions.create(w.alice, { amr: ['pwd'] });
      w.clock.advance(MINUTE);
      const phone = await sessions.create(w.alice, { amr: ['pwd', 'mfa'] });
      const bobs = await sessions.create(w.bob, { amr: ['pwd'] });
      await sessions.cover(phone.session, { grantId: 'phone-grant' });
      live(await sessions.check(laptop.sessionId, laptop.bindingSecret));
      const revoked = await sessions.revokeAllForUser(w.alice);
      assert.deepEqual(
        revoked.map((r) => [r.handle, r.grantIds]),
        [
          [laptop.session.handle, []],
          [phone.session.handle, ['phone-grant']],
        ],
      );
      ended(await sessions.check(laptop.sessionId, laptop.bindingSecret), 'revoked');
      ended(await sessions.check(phone.sessionId, phone.bindingSecret), 'revoked');
      live(await sessions.check(bobs.sessionId, bobs.bindingSecret));
      assert.deepEqual(await sessions.revokeAllForUser(w.alice), [], 'nothing left to revoke');
      const listed = await sessions.listForUser(w.alice);
      assert.deepEqual(
        listed.map((s) => [s.session.handle, s.live]),
        [
          [laptop.session.handle, false],
          [phone.session.handle, false],
        ],
      );
    },
  },
  {
    name: 'sign out everywhere also returns sessions that ended by time, whose grants may still hold refresh tokens',
    async run(w) {
      await settle(w, { inactivityTimeoutMinutes: 10 });
      const sessions = w.sessions();
      const old = await sessions.create(w.alice, { amr: ['pwd'] });
      await sessions.cover(old.session, { grantId: 'old-grant' });
      w.clock.advance(HOUR);
      const revoked = await sessions.revokeAllForUser(w.alice);
      assert.deepEqual(
        revoked.map((r) => r.grantIds),
        [['old-grant']],
      );
    },
  },
  {
    name: 'browser binding: a copied session id without its binding secret is refused',
    async run(w) {
      const sessions = w.sessions({ cache: new SessionCache() });
      const alice = await sessions.create(w.alice, { amr: ['pwd'] });
      const bob = await sessions.create(w.bob, { amr: ['pwd'] });
      for (const [label, secret] of [
        ['no binding cookie', undefined],
        ['an empty binding cookie', ''],
        ['a random binding secret', newToken()],
        ['bob’s binding secret', bob.bindingSecret],
        ['the session id as binding secret', alice.sessionId],
        ['a malformed binding cookie', `${alice.bindingSecret}x`],
      ] as const) {
        const check = await sessions.check(alice.sessionId, secret);
        assert.equal(check.live ? 'live' : check.reason, 'binding', label);
      }
      live(await sessions.check(alice.sessionId, alice.bindingSecret));
      // The handle (hash) of a session is not a session id either.
      ended(await sessions.check(alice.session.handle, alice.bindingSecret), 'unknown');
    },
  },
  {
    name: 'unknown and malformed session ids are refused without a store read',
    async run(w) {
      const sessions = w.sessions();
      ended(await sessions.check(newToken(), newToken()), 'unknown');
      for (const id of [undefined, '', 'short', 42, `${newToken()}=`]) {
        ended(await sessions.check(id, newToken()), 'unknown');
      }
    },
  },
  {
    name: 'tenant isolation: fabrikam cannot check, revoke or sign out contoso’s sessions',
    async run(w) {
      const cache = new SessionCache();
      const contoso = w.sessions({ cache });
      const fabrikam = w.sessions({ scope: w.fabrikam, cache });
      const alice = await contoso.create(w.alice, { amr: ['pwd'] });
      await contoso.cover(alice.session, { grantId: 'alice-grant' });
      live(await contoso.check(alice.sessionId, alice.bindingSecret)); // cached for contoso
      ended(await fabrikam.check(alice.sessionId, alice.bindingSecret), 'unknown');
      ended(await fabrikam.checkGrant('alice-grant'), 'unknown');
      assert.equal(await fabrikam.revoke(alice.sessionId), undefined);
      assert.deepEqual(await fabrikam.revokeAllForUser(w.alice), []);
      live(await contoso.check(alice.sessionId, alice.bindingSecret));
      live(await w.sessions().check(alice.sessionId, alice.bindingSecret)); // from the store, too
      // A session for a user of another tenant cannot be made.
      await assert.rejects(contoso.create(w.mallory, { amr: ['pwd'] }), SessionUserError);
      await assert.rejects(fabrikam.cover(alice.session, { grantId: 'x' }), /no session/);
    },
  },
  {
    name: 'tenant settings are per tenant',
    async run(w) {
      await settle(w, { maximumSessionLengthMinutes: 60 });
      assert.equal((await readSessionSettings(w.fabrikam)).maximumSessionLengthMinutes, 1440);
      const mallory = await w.sessions({ scope: w.fabrikam }).create(w.mallory, { amr: ['pwd'] });
      assert.equal(mallory.times.expiresAt, w.clock.now() + 1440 * MINUTE);
    },
  },
  {
    name: 'a step-up MFA adds to amr and sets mfaAt',
    async run(w) {
      const sessions = w.sessions({ cache: new SessionCache() });
      const { sessionId, bindingSecret, session } = await sessions.create(w.alice, { amr: ['pwd'] });
      w.clock.advance(MINUTE);
      assert.equal(await sessions.recordMfa(session, ['otp', 'mfa']), true);
      const after = live(await sessions.check(sessionId, bindingSecret));
      assert.deepEqual(after.session.amr, ['pwd', 'otp', 'mfa']);
      assert.equal(after.session.mfaAt, w.clock.now());
      await sessions.revoke(sessionId);
      assert.equal(await sessions.recordMfa(session, ['mfa']), false);
    },
  },
  {
    name: 'bad input to create is refused with a clear error',
    async run(w) {
      const sessions = w.sessions();
      await assert.rejects(sessions.create(w.alice, { amr: [] }), /amr must be a non-empty list/);
      await assert.rejects(sessions.create(w.alice, { amr: ['pwd', 7] as never }), /amr must be/);
      await assert.rejects(sessions.create('', { amr: ['pwd'] }), /user id must not be empty/);
      await assert.rejects(sessions.create('no-such-user', { amr: ['pwd'] }), /there is no user 'no-such-user'/);
    },
  },
  {
    name: 'settings that are invalid in the store fail closed: checks reject, nothing is let in',
    async run(w) {
      const sessions = w.sessions();
      const { sessionId, bindingSecret } = await sessions.create(w.alice, { amr: ['pwd'] });
      for (const value of [
        '{"maximumSessionLengthMinutes": 99999, "warningBeforeExpiryMinutes": 20, "inactivityTimeoutMinutes": null}',
        'not json',
        '{"maximumSessionLengthMinutes": 60}',
      ]) {
        await w.contoso
          .insertInto('tenant_settings', { key: 'sessionSettings', value, modified_at: 1 })
          .onConflict((oc) => oc.columns(['tenant_id', 'key']).doUpdateSet({ value }))
          .execute();
        await assert.rejects(sessions.check(sessionId, bindingSecret), SessionSettingsError);
      }
      await assert.rejects(readSessionSettings(w.contoso), SessionSettingsError);
    },
  },
  {
    name: 'settings stored before continuous location enforcement existed read it as off; a PATCH keeps the rest',
    async run(w) {
      const value =
        '{"maximumSessionLengthMinutes": 480, "warningBeforeExpiryMinutes": 15, "inactivityTimeoutMinutes": 60}';
      await w.contoso.insertInto('tenant_settings', { key: 'sessionSettings', value, modified_at: 1 }).execute();
      const older = { maximumSessionLengthMinutes: 480, warningBeforeExpiryMinutes: 15, inactivityTimeoutMinutes: 60 };
      assert.deepEqual(await readSessionSettings(w.contoso), { ...older, continuousLocationEnforcement: false });
      assert.ok((await updateSessionSettings(w.contoso, { continuousLocationEnforcement: true })).ok);
      assert.deepEqual(await readSessionSettings(w.contoso), { ...older, continuousLocationEnforcement: true });
      assert.deepEqual(await readSessionSettings(w.fabrikam), DEFAULT_SESSION_SETTINGS);
    },
  },
  {
    name: 'an invalid settings update changes nothing and names every problem',
    async run(w) {
      await settle(w, { inactivityTimeoutMinutes: 30 });
      const result = await updateSessionSettings(w.contoso, {
        maximumSessionLengthMinutes: 30,
        inactivityTimeoutMinutes: 2,
      });
      assert.deepEqual(result, {
        ok: false,
        problems: [
          'maximumSessionLengthMinutes must be a whole number from 60 to 1440, but it is 30',
          'inactivityTimeoutMinutes must be null (off) or a whole number from 5 to 1439, but it is 2',
        ],
      });
      assert.deepEqual(await readSessionSettings(w.contoso), {
        maximumSessionLengthMinutes: 1440,
        warningBeforeExpiryMinutes: 20,
        inactivityTimeoutMinutes: 30,
        continuousLocationEnforcement: false,
      });
      // A rejected first update leaves the tenant on the defaults, not a stored copy of them.
      assert.equal((await updateSessionSettings(w.fabrikam, { bogus: 1 })).ok, false);
      const row = await w.fabrikam.selectFrom('tenant_settings').select('key').execute();
      assert.deepEqual(row, []);
    },
  },
  {
    name: 'concurrent partial updates do not lose each other’s fields',
    async run(w) {
      const results = await Promise.all([
        updateSessionSettings(w.contoso, { maximumSessionLengthMinutes: 600 }),
        updateSessionSettings(w.contoso, { warningBeforeExpiryMinutes: 10 }),
        updateSessionSettings(w.contoso, { inactivityTimeoutMinutes: 45 }),
        updateSessionSettings(w.contoso, { continuousLocationEnforcement: true }),
      ]);
      assert.ok(results.every((r) => r.ok));
      assert.deepEqual(await readSessionSettings(w.contoso), {
        maximumSessionLengthMinutes: 600,
        warningBeforeExpiryMinutes: 10,
        inactivityTimeoutMinutes: 45,
        continuousLocationEnforcement: true,
      });
    },
  },
  {
    name: 'purging removes sessions ended before the cut-off, with their links, and keeps the rest',
    async run(w) {
      const sessions = w.sessions();
      const gone = await sessions.create(w.alice, { amr: ['pwd'] });
      await sessions.cover(gone.session, { grantId: 'g1' });
      await sessions.revoke(gone.sessionId);
      const kept = await sessions.create(w.bob, { amr: ['pwd'] });
      w.clock.advance(HOUR);
      assert.equal(await sessions.purgeEnded(w.clock.now() - 30 * MINUTE), 1);
      ended(await sessions.check(gone.sessionId, gone.bindingSecret), 'unknown');
      live(await sessions.check(kept.sessionId, kept.bindingSecret));
      assert.deepEqual(await w.contoso.selectFrom('session_links').select('oidc_id').execute(), []);
    },
  },
  {
    name: 'revocation on this node holds at once despite the cache; on another node within the cache TTL',
    async run(w) {
      const nodeA = w.sessions({ cache: new SessionCache({ ttlMs: 5_000 }) });
      const nodeB = w.sessions({ cache: new SessionCache({ ttlMs: 5_000 }) });
      const { sessionId, bindingSecret } = await nodeA.create(w.alice, { amr: ['pwd'] });
      live(await nodeA.check(sessionId, bindingSecret));
      live(await nodeB.check(sessionId, bindingSecret));
      await nodeA.revoke(sessionId);
      ended(await nodeA.check(sessionId, bindingSecret), 'revoked');
      w.clock.advance(4_999);
      live(await nodeB.check(sessionId, bindingSecret)); // the documented window
      w.clock.advance(1);
      ended(await nodeB.check(sessionId, bindingSecret), 'revoked');
    },
  },
  {
    name: 'a check in flight when the session is revoked does not leave it live in the cache',
    async run(w) {
      const cache = new SessionCache();
      const sessions = w.sessions({ cache });
      const { sessionId, bindingSecret, session } = await sessions.create(w.alice, { amr: ['pwd'] });
      const readBeforeRevocation = await new SessionRepository(w.contoso).get(session.handle);
      assert.ok(readBeforeRevocation);
      await sessions.revoke(sessionId);
      // The in-flight check puts what it read (live) into the cache after the revocation.
      cache.putSession(w.contoso.tenantId, readBeforeRevocation, w.clock.now());
      ended(await sessions.check(sessionId, bindingSecret), 'revoked');
    },
  },
  {
    name: 'secrets verified once are not hashed again, and every check still refuses a wrong binding, revocation and the end',
    async run(w) {
      await settle(w, { maximumSessionLengthMinutes: 120, inactivityTimeoutMinutes: 30 });
      const cache = new SessionCache({ ttlMs: 5_000 });
      const sessions = w.sessions({ cache });
      const alice = await sessions.create(w.alice, { amr: ['pwd'] });
      const bob = await sessions.create(w.bob, { amr: ['pwd'] });
      assert.equal(cache.verifiedSize, 0, 'creating a session verifies nothing');
      live(await sessions.check(alice.sessionId, alice.bindingSecret));
      assert.equal(cache.verifiedEntry(w.contoso.tenantId, alice.sessionId)?.session.handle, alice.session.handle);
      for (const [label, secret] of [
        ['no binding cookie', undefined],
        ['a random binding secret', newToken()],
        ['bob’s binding secret', bob.bindingSecret],
        ['the session id as binding secret', alice.sessionId],
        ['a malformed binding cookie', `${alice.bindingSecret}x`],
      ] as const) {
        ended(await sessions.check(alice.sessionId, secret), 'binding');
        assert.equal(cache.verifiedSize, 1, `${label}: alice's own browser keeps its verified secrets`);
      }
      // Past the cache's TTL the session is read from the store again; the verified secrets carry over.
      w.clock.advance(10 * MINUTE);
      const again = live(await sessions.check(alice.sessionId, alice.bindingSecret));
      assert.equal(again.idleExpiresAt, w.clock.now() - 10 * MINUTE + 30 * MINUTE);
      assert.equal(cache.verifiedSize, 1);
      // Inactivity: without a touch for 30 minutes, the check refuses and the secrets are gone.
      w.clock.advance(20 * MINUTE);
      ended(await sessions.check(alice.sessionId, alice.bindingSecret), 'inactivity');
      assert.equal(cache.verifiedSize, 0);
      // Absolute limit: bob signs in again, stays active, and still ends at sign-in + 120 minutes.
      const signIn = w.clock.now();
      const bobAgain = await sessions.create(w.bob, { amr: ['pwd'] });
      while (w.clock.now() < signIn + 110 * MINUTE) {
        await sessions.touch(live(await sessions.check(bobAgain.sessionId, bobAgain.bindingSecret)).session);
        w.clock.advance(10 * MINUTE);
      }
      assert.equal(cache.verifiedSize, 1);
      w.clock.set(signIn + 120 * MINUTE - 1);
      live(await sessions.check(bobAgain.sessionId, bobAgain.bindingSecret));
      w.clock.set(signIn + 120 * MINUTE);
      ended(await sessions.check(bobAgain.sessionId, bobAgain.bindingSecret), 'absolute');
      assert.equal(cache.verifiedSize, 0);
    },
  },
  {
    name: 'verified secrets do not outlive a revocation, here at once and on another node within the cache TTL',
    async run(w) {
      const nodeA = w.sessions({ cache: new SessionCache({ ttlMs: 5_000 }) });
      const cacheB = new SessionCache({ ttlMs: 5_000 });
      const nodeB = w.sessions({ cache: cacheB });
      const fabrikam = w.sessions({ scope: w.fabrikam, cache: cacheB });
      const alice = await nodeA.create(w.alice, { amr: ['pwd'] });
      const other = await nodeA.create(w.alice, { amr: ['pwd'] });
      for (const node of [nodeA, nodeB]) live(await node.check(alice.sessionId, alice.bindingSecret));
      live(await nodeB.check(other.sessionId, other.bindingSecret));
      assert.equal(cacheB.verifiedSize, 2);
      // Verified for contoso, the same cookies mean nothing to fabrikam.
      ended(await fabrikam.check(alice.sessionId, alice.bindingSecret), 'unknown');
      await nodeA.revoke(alice.sessionId);
      ended(await nodeA.check(alice.sessionId, alice.bindingSecret), 'revoked');
      w.clock.advance(5_000);
      ended(await nodeB.check(alice.sessionId, alice.bindingSecret), 'revoked');
      assert.equal(cacheB.verifiedEntry(w.contoso.tenantId, alice.sessionId), undefined);
      // Sign out everywhere on node B ends the other session there at once.
      await nodeB.revokeAllForUser(w.alice);
      ended(await nodeB.check(other.sessionId, other.bindingSecret), 'revoked');
      assert.equal(cacheB.verifiedSize, 0);
    },
  },
  {
    name: 'an inactivity verdict from a stale cache is confirmed from the store (activity seen on another node)',
    async run(w) {
      await settle(w, { inactivityTimeoutMinutes: 10 });
      const nodeA = w.sessions({ cache: new SessionCache({ ttlMs: 60 * MINUTE }) });
      const nodeB = w.sessions({ cache: new SessionCache() });
      const { sessionId, bindingSecret } = await nodeA.create(w.alice, { amr: ['pwd'] });
      live(await nodeA.check(sessionId, bindingSecret));
      w.clock.advance(8 * MINUTE);
      await nodeB.touch(live(await nodeB.check(sessionId, bindingSecret)).session);
      w.clock.advance(3 * MINUTE); // nodeA's own view: idle for 11 minutes
      const check = live(await nodeA.check(sessionId, bindingSecret));
      assert.equal(check.idleExpiresAt, w.clock.now() + 7 * MINUTE);
    },
  },
];

for (const db of storesUnderTest()) {
  for (const c of cases) {
    test(`${db.name}: ${c.name}`, async () => c.run(await openSessionWorld(db)));
  }

  if (db.name === 'sqlite') {
    test('sqlite: sessions survive closing and reopening the database file, and still end on time', async () => {
      const w = await openSessionWorld(db);
      const path = db.lastSqlitePath!;
      await updateSessionSettings(w.contoso, { maximumSessionLengthMinutes: 120, inactivityTimeoutMinutes: 30 });
      const sessions = w.sessions();
      const signIn = w.clock.now();
      const alice = await sessions.create(w.alice, { amr: ['pwd', 'mfa'], persistent: true });
      const bob = await sessions.create(w.bob, { amr: ['pwd'] });
      await sessions.cover(alice.session, { grantId: 'alice-grant' });
      await w.store.close();

      const reopened = await openStore({ kind: 'sqlite', path }, w.clock);
      assert.deepEqual(await reopened.migrate(), []);
      const again = new Sessions(reopened.forTenant(w.contoso.tenantId), { cache: new SessionCache() });
      w.clock.advance(25 * MINUTE);
      const a = live(await again.check(alice.sessionId, alice.bindingSecret));
      assert.deepEqual(a.session, alice.session);
      assert.equal(a.expiresAt, signIn + 120 * MINUTE);
      await again.touch(a.session);
      live(await again.check(bob.sessionId, bob.bindingSecret));
      live(await again.checkGrant('alice-grant'));
      w.clock.advance(5 * MINUTE);
      ended(await again.check(bob.sessionId, bob.bindingSecret), 'inactivity');
      // Alice stays active; her session still ends at sign-in + 120 minutes.
      while (w.clock.now() < signIn + 105 * MINUTE) {
        w.clock.advance(15 * MINUTE);
        await again.touch(live(await again.check(alice.sessionId, alice.bindingSecret)).session);
      }
      w.clock.set(signIn + 120 * MINUTE - 1);
      live(await again.check(alice.sessionId, alice.bindingSecret));
      w.clock.set(signIn + 120 * MINUTE);
      ended(await again.check(alice.sessionId, alice.bindingSecret), 'absolute');
      await reopened.close();
    });
  }
}
