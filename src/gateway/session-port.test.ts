// The gateway's side of the session module: which cookies name the session, and what is asked of the module.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Sessions } from '../session/sessions.ts';
import { SessionModuleGatewaySessions } from './session-port.ts';

const TENANT = '57b0d0d8-899b-4d89-b24d-c8a9ff3c4db8';
const SESSION = `portcullis-gw-session-${TENANT}`;
const BINDING = `portcullis-gw-binding-${TENANT}`;

/** A stand-in for the tenant's Sessions that records what it was asked and says every session is alice's. */
function recordingSessions() {
  const asked: { sessionId: unknown; binding: unknown }[] = [];
  let made = 0;
  const sessions = {
    async check(sessionId: unknown, binding: unknown) {
      asked.push({ sessionId, binding });
      return {
        live: true,
        session: { userId: 'alice', amr: ['pwd'], mfaAt: null, createdAt: 1, handle: 'h', lastActivityAt: 1 },
      };
    },
    async touch() {
      return { written: false, reason: 'throttled' };
    },
  } as unknown as Sessions;
  const port = new SessionModuleGatewaySessions({
    sessions: () => {
      made++;
      return sessions;
    },
    publicUrl: () => 'http://localhost:8080',
  });
  return { port, asked, made: () => made };
}

test('the session and binding cookies are read from the Cookie header, whatever else it carries', async () => {
  const cases: [string, string | undefined, { sessionId: string; binding: string | undefined } | undefined][] = [
    ['both cookies', `${SESSION}=s1; ${BINDING}=b1`, { sessionId: 's1', binding: 'b1' }],
    [
      'other cookies around them',
      `theme=dark; ${BINDING}=b1;${SESSION}=s1 ; lang=en`,
      { sessionId: 's1', binding: 'b1' },
    ],
    ['no binding cookie', `${SESSION}=s1`, { sessionId: 's1', binding: undefined }],
    ['the first of two session cookies', `${SESSION}=s1; ${SESSION}=s2`, { sessionId: 's1', binding: undefined }],
    ['a value with "="', `${SESSION}=a=b; ${BINDING}=`, { sessionId: 'a=b', binding: '' }],
    ['a name that only ends like it', `x${SESSION}=s1; ${BINDING}=b1`, undefined],
    ['another tenant', `portcullis-gw-session-other=s1`, undefined],
    ['a pair without "="', `${SESSION}; ${BINDING}=b1`, undefined],
    ['an empty header', '', undefined],
    ['no header', undefined, undefined],
  ];
  for (const [name, header, expected] of cases) {
    const { port, asked } = recordingSessions();
    const result = await port.check(TENANT, header, 10);
    if (expected === undefined) {
      assert.deepEqual(result, { live: false, reason: 'none' }, name);
      assert.equal(asked.length, 0, name);
    } else {
      assert.equal(result.live, true, name);
      assert.deepEqual(asked, [expected], name);
    }
  }
});

test("a tenant's Sessions is made once, not on every request", async () => {
  const { port, made } = recordingSessions();
  for (let i = 0; i < 3; i++) await port.check(TENANT, `${SESSION}=s1; ${BINDING}=b1`, 10);
  assert.equal(made(), 1);
});

test('the cookie names follow the public URL: `__Secure-` once it is https', () => {
  let url = 'http://localhost:8080';
  const port = new SessionModuleGatewaySessions({ sessions: () => ({}) as Sessions, publicUrl: () => url });
  assert.deepEqual(port.cookieNames(TENANT), { session: SESSION, binding: BINDING });
  url = 'https://auth.contoso.example';
  assert.deepEqual(port.cookieNames(TENANT), { session: `__Secure-${SESSION}`, binding: `__Secure-${BINDING}` });
});
