// The relying-party flow that the gateway's and the console's sign-ins share, against a stand-in issuer that checks
// PKCE and signs real ID tokens (ES256, jose) and a keyring that seals with real AES-256-GCM: the redirect and the
// state cookie, a round trip, and every way a callback is refused (tables of named cases). The real issuer
// (oidc-provider) behind both callers is exercised end to end by test/gateway and test/console.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import Fastify from 'fastify';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { open, seal } from '../crypto/aes-gcm.ts';
import {
  beginFlow,
  type FlowRedirect,
  type FlowSpec,
  flowProblem,
  injectedEndpoints,
  openFlow,
  type RelyingPartyDeps,
  redeemFlow,
  SIGN_IN_STATE_SECONDS,
} from './relying-party.ts';

const TENANT = '0f0e0d0c-0b0a-4908-8706-050403020100';
const APP = '11111111-2222-4333-8444-555555555555';
const OTHER_APP = '66666666-7777-4888-8999-000000000000';
const NOW = Date.UTC(2025, 0, 15, 9, 0, 0);

/** Seals as the keyring does: AES-256-GCM bound to tenant and purpose. */
function aesKeyring() {
  const key = new Uint8Array(randomBytes(32));
  return {
    async encrypt(tenantId: string, plaintext: string, purpose: string) {
      const sealed = seal(key, Buffer.from(plaintext), `${tenantId}/${purpose}`);
      return `${sealed.iv.toString('base64url')}.${sealed.data.toString('base64url')}`;
    },
    async decryptText(tenantId: string, ciphertext: string, purpose: string) {
      const [iv, data] = ciphertext.split('.').map((part) => Buffer.from(part ?? '', 'base64url'));
      const text = open(key, { iv, data }, `${tenantId}/${purpose}`);
      if (!text) throw new Error('cannot open');
      return text.toString();
    },
  };
}

interface Grant {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly challenge: string;
  readonly nonce: string;
  readonly sub: string;
}

/**
 * The tenant's issuer, standing in for oidc-provider: `authorize` hands out a code for the parameters of an
 * authorization URL; the token endpoint redeems it once, checking client, redirect URI and PKCE, and answers an ID
 * token that `claims` may change (to test what the relying party refuses).
 */
async function standInIssuer(publicUrl: string) {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const stranger = await generateKeyPair('ES256');
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  const grants = new Map<string, Grant>();
  const issuer = `${publicUrl}/t/${TENANT}`;
  const control = {
    claims: (c: Record<string, unknown>) => c,
    signWithStranger: false,
    tokenStatus: 200,
    forms: [] as Record<string, string>[],
  };
  const endpoints = {
    async token(tenantId: string, form: Record<string, string>) {
      control.forms.push(form);
      const grant = grants.get(form.code ?? '');
      grants.delete(form.code ?? '');
      const verified =
        tenantId === TENANT &&
        grant !== undefined &&
        form.grant_type === 'authorization_code' &&
        form.client_id === grant.clientId &&
        form.redirect_uri === grant.redirectUri &&
        createHash('sha256')
          .update(form.code_verifier ?? '')
          .digest('base64url') === grant.challenge;
      if (!verified || control.tokenStatus !== 200) {
        return { status: control.tokenStatus === 200 ? 400 : control.tokenStatus, body: { error: 'invalid_grant' } };
      }
      const now = Math.floor(Date.now() / 1000);
      const claims = control.claims({
        iss: issuer,
        aud: grant.clientId,
        sub: grant.sub,
        nonce: grant.nonce,
        amr: ['pwd', 'mfa'],
        auth_time: now - 5,
        iat: now,
        exp: now + 300,
      });
      const idToken = await new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .sign(control.signWithStranger ? stranger.privateKey : privateKey);
      return { status: 200, body: { id_token: idToken, token_type: 'Bearer' } };
    },
    async jwks() {
      return { keys: [jwk] };
    },
  };
  /** The issuer's side of the authorization request: alice signs in, and a code comes back. */
  function authorize(location: string, sub = 'alice'): string {
    const url = new URL(location);
    assert.equal(`${url.origin}${url.pathname}`, `${issuer}/auth`);
    const p = url.searchParams;
    assert.equal(p.get('code_challenge_method'), 'S256');
    const code = randomBytes(16).toString('base64url');
    grants.set(code, {
      clientId: p.get('client_id') ?? '',
      redirectUri: p.get('redirect_uri') ?? '',
      challenge: p.get('code_challenge') ?? '',
      nonce: p.get('nonce') ?? '',
      sub,
    });
    return code;
  }
  return { endpoints, authorize, control };
}

async function setUp(publicUrl = 'https://id.example') {
  const issuer = await standInIssuer(publicUrl);
  const deps: RelyingPartyDeps = { keyring: aesKeyring(), endpoints: issuer.endpoints, publicUrl: () => publicUrl };
  const flow = (overrides: Partial<FlowSpec> = {}): FlowSpec => ({
    tenantId: TENANT,
    purpose: 'test.signin-state',
    cookieName: (state) => `test-signin-${state.slice(0, 12)}`,
    cookiePath: `/t/${TENANT}/test/`,
    redirectUri: `${publicUrl}/t/${TENANT}/test/callback`,
    ...overrides,
  });
  return { ...issuer, deps, flow };
}

/** The Cookie header a browser sends back for a Set-Cookie value. */
const cookieOf = (started: FlowRedirect) => started.setCookie[0]?.split(';')[0] ?? '';
const stateOf = (location: string) => new URL(location).searchParams.get('state') ?? '';

describe('beginFlow', () => {
  test('redirects to the issuer with code, PKCE S256, state and nonce for the client and its callback', async () => {
    const { deps, flow } = await setUp();
    const started = await beginFlow(deps, flow(), { clientId: APP, now: NOW, promptLogin: false, fields: {} });
    const url = new URL(started.location);
    assert.equal(`${url.origin}${url.pathname}`, `https://id.example/t/${TENANT}/auth`);
    const p = Object.fromEntries(url.searchParams);
    assert.deepEqual(Object.keys(p), [
      'client_id',
      'response_type',
      'scope',
      'redirect_uri',
      'state',
      'nonce',
      'code_challenge',
      'code_challenge_method',
    ]);
    assert.equal(p.client_id, APP);
    assert.equal(p.response_type, 'code');
    assert.equal(p.scope, 'openid');
    assert.equal(p.redirect_uri, `https://id.example/t/${TENANT}/test/callback`);
    assert.match(p.state ?? '', /^[A-Za-z0-9_-]{32}$/);
    assert.match(p.nonce ?? '', /^[A-Za-z0-9_-]{32}$/);
    assert.notEqual(p.state, p.nonce);
    assert.match(p.code_challenge ?? '', /^[A-Za-z0-9_-]{43}$/);
  });

  test('asks for credentials again (prompt=login) only when told to', async () => {
    const { deps, flow } = await setUp();
    const started = await beginFlow(deps, flow(), { clientId: APP, now: NOW, promptLogin: true, fields: {} });
    assert.equal(new URL(started.location).searchParams.get('prompt'), 'login');
  });

  test('over https: a __Secure- state cookie on the callback folder, for 30 minutes, HttpOnly, SameSite=Lax', async () => {
    const { deps, flow } = await setUp();
    const started = await beginFlow(deps, flow(), { clientId: APP, now: NOW, promptLogin: false, fields: {} });
    const name = `__Secure-test-signin-${stateOf(started.location).slice(0, 12)}`;
    assert.match(
      started.setCookie.join('\n'),
      new RegExp(`^${name}=[A-Za-z0-9_.-]+; Path=/t/${TENANT}/test/; Max-Age=1800; Secure; HttpOnly; SameSite=Lax$`),
    );
    assert.equal(SIGN_IN_STATE_SECONDS, 1800);
  });

  test('over plain http (development): no prefix, not Secure', async () => {
    const { deps, flow } = await setUp('http://localhost:9091');
    const started = await beginFlow(deps, flow({ cookieName: () => 'fixed-name' }), {
      clientId: APP,
      now: NOW,
      promptLogin: false,
      fields: {},
    });
    assert.match(
      started.setCookie.join('\n'),
      new RegExp(`^fixed-name=[^;]+; Path=/t/${TENANT}/test/; Max-Age=1800; HttpOnly; SameSite=Lax$`),
    );
  });
});

describe('a round trip', () => {
  test("alice signs in: the caller's fields come back, the code is redeemed with the verifier, claims verified", async () => {
    const { deps, flow, authorize, control } = await setUp();
    const started = await beginFlow(deps, flow(), {
      clientId: APP,
      now: NOW,
      promptLogin: false,
      fields: { rd: 'https://wiki.example/page', appId: APP },
    });
    const code = authorize(started.location);
    const query = { code, state: stateOf(started.location) };
    const opened = await openFlow<{ rd: string; appId: string }>(deps, flow(), {
      query,
      cookieHeader: `other=1; ${cookieOf(started)}`,
      now: NOW + 60_000,
    });
    assert.equal(opened.kind, 'open');
    assert.ok(opened.kind === 'open');
    assert.equal(opened.state.rd, 'https://wiki.example/page');
    assert.equal(opened.state.appId, APP);
    assert.equal(opened.state.until, NOW + SIGN_IN_STATE_SECONDS * 1000);
    const name = `__Secure-test-signin-${query.state.slice(0, 12)}`;
    assert.equal(opened.clear, `${name}=; Path=/t/${TENANT}/test/; Max-Age=0; Secure; HttpOnly; SameSite=Lax`);

    const redeemed = await redeemFlow(deps, flow(), opened.state, { clientId: APP, query });
    assert.equal(redeemed.kind, 'signed-in');
    assert.ok(redeemed.kind === 'signed-in');
    assert.equal(redeemed.claims.sub, 'alice');
    assert.deepEqual(redeemed.claims.amr, ['pwd', 'mfa']);
    assert.deepEqual(Object.keys(control.forms[0] ?? {}), [
      'grant_type',
      'code',
      'redirect_uri',
      'client_id',
      'code_verifier',
    ]);
    // The code is the issuer's to use once: a second redemption fails.
    assert.equal((await redeemFlow(deps, flow(), opened.state, { clientId: APP, query })).kind, 'failed');
  });
});

describe('openFlow refuses', async () => {
  const { deps, flow } = await setUp();
  const begin = (spec: FlowSpec) => beginFlow(deps, spec, { clientId: APP, now: NOW, promptLogin: false, fields: {} });
  const alices = await begin(flow());
  const bobs = await begin(flow());
  const state = stateOf(alices.location);
  const cookie = cookieOf(alices);
  const [name, value] = cookie.split('=') as [string, string];
  const fixed = flow({ cookieName: () => 'one-name' });
  const fixedAlice = await begin(fixed);
  const fixedBob = await begin(fixed);
  const gatewayLike = await begin(flow({ purpose: 'other.signin-state' }));

  const cases: {
    name: string;
    state: unknown;
    cookie: string | undefined;
    now?: number;
    spec?: FlowSpec;
    expect: 'open' | 'expired' | 'expired, clear';
  }[] = [
    { name: "alice's own callback", state, cookie, expect: 'open' },
    { name: 'at the last millisecond', state, cookie, now: NOW + SIGN_IN_STATE_SECONDS * 1000, expect: 'open' },
    { name: 'no state', state: undefined, cookie, expect: 'expired' },
    { name: 'a state of another shape', state: `${state}x`, cookie, expect: 'expired' },
    { name: 'a state that is not a string', state: [state], cookie, expect: 'expired' },
    { name: 'no cookie (another browser)', state, cookie: undefined, expect: 'expired' },
    { name: "the state of bob's flow with alice's cookie", state: stateOf(bobs.location), cookie, expect: 'expired' },
    {
      name: 'a changed cookie',
      state,
      // The first character: the last one of base64url text may carry only padding bits (A and B decode alike there).
      cookie: `${name}=${value.startsWith('A') ? 'Q' : 'A'}${value.slice(1)}`,
      expect: 'expired',
    },
    {
      name: "another caller's cookie under this name (another purpose)",
      state: stateOf(gatewayLike.location),
      cookie: `${name.slice(0, -12)}${stateOf(gatewayLike.location).slice(0, 12)}=${cookieOf(gatewayLike).split('=')[1]}`,
      expect: 'expired',
    },
    {
      name: "one cookie name: bob's state with alice's cookie",
      state: stateOf(fixedBob.location),
      cookie: cookieOf(fixedAlice),
      spec: fixed,
      expect: 'expired, clear',
    },
    {
      name: 'a millisecond after 30 minutes',
      state,
      cookie,
      now: NOW + SIGN_IN_STATE_SECONDS * 1000 + 1,
      expect: 'expired, clear',
    },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const opened = await openFlow(deps, c.spec ?? flow(), {
        query: { state: c.state, code: 'x' },
        cookieHeader: c.cookie,
        now: c.now ?? NOW + 1000,
      });
      const got = opened.kind === 'expired' && opened.clear !== undefined ? 'expired, clear' : opened.kind;
      assert.equal(got, c.expect);
    });
  }
});

describe('redeemFlow', async () => {
  const cases: {
    name: string;
    query?: (code: string, state: string) => Record<string, unknown>;
    clientId?: string;
    claims?: (c: Record<string, unknown>) => Record<string, unknown>;
    stranger?: boolean;
    tokenStatus?: number;
    expect: string;
  }[] = [
    { name: 'alice, all in order', expect: 'signed-in' },
    {
      name: 'the issuer answered an error',
      query: (_, state) => ({ state, error: `access_denied${'x'.repeat(100)}` }),
      expect: `declined access_denied${'x'.repeat(64 - 'access_denied'.length)}`,
    },
    { name: 'no code', query: (_, state) => ({ state }), expect: 'expired' },
    { name: 'an empty code', query: (_, state) => ({ state, code: '' }), expect: 'expired' },
    { name: 'a code of 513 characters', query: (_, state) => ({ state, code: 'c'.repeat(513) }), expect: 'expired' },
    { name: 'a code the issuer does not know', query: (_, state) => ({ state, code: 'nope' }), expect: 'failed' },
    { name: 'the token endpoint fails', tokenStatus: 500, expect: 'failed' },
    { name: 'an ID token signed by another key', stranger: true, expect: 'failed' },
    { name: 'an ID token of another issuer', claims: (c) => ({ ...c, iss: 'https://evil.example' }), expect: 'failed' },
    { name: 'an ID token for another client', claims: (c) => ({ ...c, aud: OTHER_APP }), expect: 'failed' },
    { name: 'an expired ID token', claims: (c) => ({ ...c, exp: 1_000_000 }), expect: 'failed' },
    {
      name: "an ID token with another flow's nonce",
      claims: (c) => ({ ...c, nonce: 'n'.repeat(32) }),
      expect: 'expired',
    },
    { name: 'an ID token without a nonce', claims: ({ nonce: _, ...c }) => c, expect: 'expired' },
    { name: 'an ID token without a subject', claims: ({ sub: _, ...c }) => c, expect: 'expired' },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const { deps, flow, authorize, control } = await setUp();
      const started = await beginFlow(deps, flow(), { clientId: APP, now: NOW, promptLogin: false, fields: {} });
      const code = authorize(started.location);
      const state = stateOf(started.location);
      const opened = await openFlow(deps, flow(), {
        query: { state },
        cookieHeader: cookieOf(started),
        now: NOW,
      });
      assert.ok(opened.kind === 'open');
      if (c.claims) control.claims = c.claims;
      control.signWithStranger = c.stranger ?? false;
      control.tokenStatus = c.tokenStatus ?? 200;
      const redeemed = await redeemFlow(deps, flow(), opened.state, {
        clientId: c.clientId ?? APP,
        query: c.query ? c.query(code, state) : { code, state },
      });
      assert.equal(redeemed.kind === 'declined' ? `declined ${redeemed.error}` : redeemed.kind, c.expect);
    });
  }
});

describe('flowProblem', () => {
  const again = 'Go back to the application and try again.';
  const cases = [
    {
      outcome: { kind: 'expired' } as const,
      expect: { status: 400, title: 'This sign-in has expired', message: again },
    },
    {
      outcome: { kind: 'declined', error: 'access_denied' } as const,
      expect: {
        status: 400,
        title: 'Sign-in did not complete',
        message: `The sign-in ended with 'access_denied'. ${again}`,
      },
    },
    {
      outcome: { kind: 'failed' } as const,
      expect: {
        status: 502,
        title: 'Sign-in did not complete',
        message: `The sign-in could not be completed. ${again}`,
      },
    },
  ];
  for (const c of cases) {
    test(c.outcome.kind, () => assert.deepEqual(flowProblem(c.outcome, again), { kind: 'problem', ...c.expect }));
  }
});

describe('injectedEndpoints', () => {
  test("reach the server's own token and key routes; an unreadable answer is no body, a failed key fetch throws", async () => {
    const app = Fastify();
    let keysStatus = 200;
    app.post('/t/:tenant/token', async (request, reply) => {
      const form = new URLSearchParams(String(request.body));
      if (form.get('code') === 'garbled') return reply.code(500).type('text/plain').send('oops');
      return { tenant: (request.params as { tenant: string }).tenant, grant: form.get('grant_type') };
    });
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_, body, done) =>
      done(null, body),
    );
    app.get('/t/:tenant/jwks', async (_, reply) => reply.code(keysStatus).send({ keys: [] }));
    const endpoints = injectedEndpoints(app, 'console');
    assert.deepEqual(await endpoints.token(TENANT, { grant_type: 'authorization_code', code: 'c' }), {
      status: 200,
      body: { tenant: TENANT, grant: 'authorization_code' },
    });
    assert.deepEqual(await endpoints.token(TENANT, { code: 'garbled' }), { status: 500, body: undefined });
    assert.deepEqual(await endpoints.jwks(TENANT), { keys: [] });
    keysStatus = 503;
    await assert.rejects(endpoints.jwks(TENANT), /^Error: console: the tenant's keys answered 503$/);
    await app.close();
  });
});
