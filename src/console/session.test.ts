// The console session cookie and its CSRF check, on a stand-in keyring and session module: the cookie's attributes
// over https and http, and who is let in (table of named cases).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { HttpError } from '../http/graph-error.ts';
import type { Sessions } from '../session/sessions.ts';
import { ConsoleSessions } from './session.ts';

const TENANT = '0f0e0d0c-0b0a-4908-8706-050403020100';
const ALICE = { handle: 'alice-session-handle', userId: 'alice' };

/** Seals as the keyring does for this test's purpose: readable only with the same tenant and purpose. */
const keyring = {
  async encrypt(tenantId: string, plaintext: string, purpose: string) {
    return Buffer.from(JSON.stringify([tenantId, purpose, plaintext])).toString('base64url');
  },
  async decryptText(tenantId: string, ciphertext: string, purpose: string) {
    const [t, p, text] = JSON.parse(Buffer.from(ciphertext, 'base64url').toString()) as string[];
    if (t !== tenantId || p !== purpose) throw new Error('wrong key');
    return text;
  },
};

/** One live Portcullis session: id `alice-session-id` with binding `alice-binding`. */
function sessions(live = true): Sessions {
  return {
    async check(id: unknown, binding: unknown) {
      return live && id === 'alice-session-id' && binding === 'alice-binding'
        ? { live: true, session: { ...ALICE, amr: ['pwd'] } }
        : { live: false, reason: 'unknown' };
    },
    async touch() {
      return { written: true };
    },
  } as unknown as Sessions;
}

function consoleSessions(issuer: string, live = true) {
  return new ConsoleSessions({ keyring, sessions: () => sessions(live), issuerOf: () => issuer });
}

describe('console session cookie', () => {
  test('over https: __Host-, Secure, HttpOnly, Path=/, SameSite=Strict, no Domain, ends with the browser', async () => {
    const cookie = await consoleSessions(`https://id.example/t/${TENANT}`).establish(TENANT, ALICE);
    assert.match(
      cookie,
      new RegExp(`^__Host-portcullis-console-${TENANT}=[A-Za-z0-9_-]+; Path=/; Secure; HttpOnly; SameSite=Strict$`),
    );
  });
  test('over plain http (development): no prefix, not Secure', async () => {
    const cookie = await consoleSessions(`http://localhost:9091/t/${TENANT}`).establish(TENANT, ALICE);
    assert.match(cookie, new RegExp(`^portcullis-console-${TENANT}=[^;]+; Path=/; HttpOnly; SameSite=Strict$`));
  });
});

describe('console session authentication', async () => {
  const issuer = `http://localhost:9091/t/${TENANT}`;
  const value = (await consoleSessions(issuer).establish(TENANT, ALICE)).split(';')[0];
  const portcullis =
    'portcullis-session-x=1; portcullis-session-' +
    TENANT +
    '=alice-session-id; portcullis-binding-' +
    TENANT +
    '=alice-binding';
  const checked = await consoleSessions(issuer).check(TENANT, `${value}; ${portcullis}`, 0);
  assert.ok(checked.live);
  const csrf = checked.csrfToken;

  const cases: { name: string; cookie: string; csrf?: string; live?: boolean; expect: string | number }[] = [
    { name: 'alice with cookie and token', cookie: `${value}; ${portcullis}`, csrf, expect: 'alice' },
    { name: 'no CSRF header', cookie: `${value}; ${portcullis}`, expect: 403 },
    { name: 'a wrong CSRF token', cookie: `${value}; ${portcullis}`, csrf: `${csrf.slice(1)}x`, expect: 403 },
    { name: 'a token of another length', cookie: `${value}; ${portcullis}`, csrf: `${csrf}x`, expect: 403 },
    { name: 'the console cookie without the session cookies', cookie: value, csrf, expect: 401 },
    {
      name: 'another browser (binding missing)',
      cookie: `${value}; portcullis-session-${TENANT}=alice-session-id`,
      csrf,
      expect: 401,
    },
    { name: 'the Portcullis session revoked', cookie: `${value}; ${portcullis}`, csrf, live: false, expect: 401 },
    { name: 'a tampered console cookie', cookie: `${value.slice(0, -3)}abc; ${portcullis}`, csrf, expect: 401 },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const attempt = consoleSessions(issuer, c.live ?? true).authenticate(
        TENANT,
        { cookie: c.cookie, ...(c.csrf === undefined ? {} : { 'x-csrf-token': c.csrf }) },
        0,
      );
      if (typeof c.expect === 'string') assert.equal(await attempt, c.expect);
      else await assert.rejects(attempt, (e: unknown) => e instanceof HttpError && e.statusCode === c.expect);
    });
  }
});
