// The atomic updates security relies on, raced on SQLite and PostgreSQL: many requests at once for one TOTP step,
// one recovery code, one passkey counter, one challenge or one lockout key — exactly one wins, or every count lands.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { storesUnderTest } from '../../../test/support/stores.ts';
import { generateRecoveryCodes } from '../recovery-codes.ts';
import { newChallenge } from '../webauthn-challenge.ts';
import { openWorld, type World } from './testing/world.ts';

const SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

/** Runs `n` copies of `fn` at once and returns their answers. */
function race<T>(n: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => fn(i)));
}

const count = (answers: unknown[], value: unknown) => answers.filter((a) => a === value).length;

const cases: Array<{ name: string; run: (w: World) => Promise<void> }> = [
  {
    name: 'mallory replays alice’s TOTP code in 20 parallel requests: exactly one is accepted',
    async run(w) {
      await w.ports.totp.put({ userId: w.alice, secret: SECRET, lastUsedStep: 41, createdAt: 1, confirmedAt: 1 });
      const answers = await race(20, () => w.ports.totp.markStepUsed(w.alice, 42));
      assert.equal(count(answers, true), 1);
      assert.equal((await w.ports.totp.get(w.alice))?.lastUsedStep, 42);
    },
  },
  {
    name: 'bob’s codes of 20 different steps race: the highest step is what remains',
    async run(w) {
      await w.ports.totp.put({ userId: w.bob, secret: SECRET, lastUsedStep: null, createdAt: 1, confirmedAt: 1 });
      await race(20, (i) => w.ports.totp.markStepUsed(w.bob, 100 + i));
      assert.equal((await w.ports.totp.get(w.bob))?.lastUsedStep, 119);
    },
  },
  {
    name: 'one of alice’s recovery codes sent 20 times at once: used exactly once',
    async run(w) {
      const codes = generateRecoveryCodes(w.alice).stored.map((c) => ({ ...c, userId: w.alice, createdAt: 1 }));
      await w.ports.recoveryCodes.replaceAll(w.alice, codes);
      const answers = await race(20, (i) => w.ports.recoveryCodes.markUsed(w.alice, '7', 1000 + i));
      assert.equal(count(answers, true), 1);
      const used = (await w.ports.recoveryCodes.list(w.alice)).filter((c) => c.usedAt !== null);
      assert.deepEqual(
        used.map((c) => c.id),
        ['7'],
      );
    },
  },
  {
    name: 'carol’s passkey assertion counted by 20 parallel sign-ins: one compare-and-set wins',
    async run(w) {
      await w.ports.webauthn.put({
        userId: w.carol,
        credentialId: 'Y2Fyb2wtcmFjZQ',
        publicKey: new Uint8Array([1, 2, 3]),
        counter: 5,
        transports: [],
        userHandle: 'aGFuZGxl',
        deviceType: 'singleDevice',
        backedUp: false,
        aaguid: '00000000-0000-0000-0000-000000000000',
        name: 'YubiKey',
        createdAt: 1,
        lastUsedAt: null,
        disabledAt: null,
      });
      const answers = await race(20, (i) =>
        w.ports.webauthn.recordUse('Y2Fyb2wtcmFjZQ', {
          expectedCounter: 5,
          counter: 6 + i,
          lastUsedAt: 100 + i,
          backedUp: false,
        }),
      );
      assert.equal(count(answers, true), 1);
      const winner = answers.indexOf(true);
      assert.equal((await w.ports.webauthn.getById('Y2Fyb2wtcmFjZQ'))?.counter, 6 + winner);
    },
  },
  {
    name: 'one WebAuthn challenge answered by 20 parallel requests: one of them gets it',
    async run(w) {
      await w.ports.challenges.put('pre-auth-9', newChallenge('authentication', null, w.clock.now()));
      const answers = await race(20, () => w.ports.challenges.take('pre-auth-9'));
      assert.equal(answers.filter((a) => a !== undefined).length, 1);
    },
  },
  {
    name: '30 parallel failures on alice’s lockout key all count',
    async run(w) {
      const key = 'account:alice@contoso.example';
      const seen = await race(30, () =>
        w.ports.lockouts.update(key, (current) => {
          const failures = ((current as { failures?: number } | undefined)?.failures ?? 0) + 1;
          return { next: { failures }, expiresAt: w.clock.now() + 60_000, result: failures };
        }),
      );
      assert.deepEqual(
        [...seen].sort((a, b) => a - b),
        Array.from({ length: 30 }, (_, i) => i + 1),
        'each update saw the one before it',
      );
      const row = await w.contoso.selectFrom('lockout_states').selectAll().where('key', '=', key).executeTakeFirst();
      assert.deepEqual(JSON.parse(row?.value ?? 'null'), { failures: 30 });
    },
  },
  {
    name: '30 parallel updates that each delete or recreate the row: none is lost',
    async run(w) {
      // Even counts delete the row (a success clears the state); the next update must start from nothing again.
      const key = 'ip:203.0.113.66';
      const seen = await race(30, () =>
        w.ports.lockouts.update(key, (current) => {
          const n = ((current as { n?: number } | undefined)?.n ?? 0) + 1;
          return { next: n === 2 ? undefined : { n }, expiresAt: w.clock.now() + 60_000, result: n };
        }),
      );
      assert.equal(count(seen, 1), 15);
      assert.equal(count(seen, 2), 15);
    },
  },
];

for (const db of storesUnderTest()) {
  for (const c of cases) {
    test(`${db.name}: ${c.name}`, async () => c.run(await openWorld(db)));
  }
}
