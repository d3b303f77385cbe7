// The sign-in pipeline without HTTP, on a real store's directory and in-memory credentials: each persona's attempt
// ends in the expected outcome and writes exactly one sign-in log entry with the same client address.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { storesUnderTest } from '../../test/support/stores.ts';
import { twoTenants } from '../../test/support/tenants.ts';
import { hashPassword } from '../auth/password-hash.ts';
import { SoftAuthenticator } from '../auth/testing/soft-authenticator.ts';
import { generateUserHandle, passkeyRegistrationOptions, verifyPasskeyRegistration } from '../auth/webauthn.ts';
import { ManualClock } from '../clock.ts';
import { directoryFor } from '../directory/directory.ts';
import { GLOBAL_ADMINISTRATOR } from '../directory/roles.ts';
import type { ClientIp } from '../net/client-ip.ts';
import { parseIp } from '../net/ip.ts';
import { compilePolicySet } from '../policy/compile.ts';
import type { ConditionalAccessPolicy, NamedLocation } from '../policy/types.ts';
import { passkeySignInOptions } from './passkey-first-factor.ts';
import { type PipelineDeps, passkeySignIn, passwordSignIn } from './pipeline.ts';
import { relyingPartyFor } from './second-factor.ts';
import { MemorySignInLog, memoryPorts } from './testing/memory.ts';

const HQ: NamedLocation = {
  '@odata.type': '#microsoft.graph.ipNamedLocation',
  id: 'hq',
  displayName: 'Headquarters',
  isTrusted: true,
  ipRanges: [{ '@odata.type': '#microsoft.graph.iPv4CidrRange', cidrAddress: '198.51.100.0/24' }],
};
const none = {
  includeUsers: [],
  excludeUsers: [],
  includeGroups: [],
  excludeGroups: [],
  includeRoles: [],
  excludeRoles: [],
};
const base = {
  state: 'enabled' as const,
  conditions: {
    users: { ...none, includeUsers: ['All'] },
    applications: { includeApplications: ['All'], excludeApplications: [], includeUserActions: [] },
    clientAppTypes: ['all' as const],
    signInRiskLevels: [],
    userRiskLevels: [],
  },
};
const POLICIES: ConditionalAccessPolicy[] = [
  {
    ...base,
    id: 'block',
    displayName: 'Block outside trusted locations',
    conditions: { ...base.conditions, locations: { includeLocations: ['All'], excludeLocations: ['AllTrusted'] } },
    grantControls: { operator: 'OR', builtInControls: ['block'] },
  },
  {
    ...base,
    id: 'mfa',
    displayName: 'MFA for admins',
    conditions: { ...base.conditions, users: { ...none, includeRoles: [GLOBAL_ADMINISTRATOR] } },
    grantControls: { operator: 'OR', builtInControls: ['mfa'] },
  },
];

const ip = (text: string): ClientIp => ({ ip: parseIp(text), text, via: 'socket' });

test('sign-in pipeline: each persona ends where expected, with one log entry per attempt', async (t) => {
  const clock = new ManualClock(Date.UTC(2026, 10, 23, 9));
  const store = await storesUnderTest()[0].open({ clock });
  const { contoso } = await twoTenants(store);
  const directory = directoryFor(store.forTenant(contoso));
  const credentials = memoryPorts();
  const log = new MemorySignInLog();
  const password = 'a long enough password';
  const phc = await hashPassword(password);
  const make = async (upn: string, extra: { admin?: boolean; disabled?: boolean } = {}) => {
    const user = await directory.users.create({
      userPrincipalName: upn,
      displayName: upn,
      accountEnabled: !extra.disabled,
    });
    await credentials.passwords.put({ userId: user.id, phc, updatedAt: clock.now() });
    if (extra.admin) await directory.roles.assign(user.id, GLOBAL_ADMINISTRATOR);
    return user;
  };
  await make('alice@contoso.example', { admin: true });
  await make('bob@contoso.example');
  await make('dave@contoso.example', { disabled: true });
  const deps: PipelineDeps = {
    tenantId: contoso,
    directory,
    credentials,
    policies: compilePolicySet([HQ], POLICIES),
    clock,
    signInLog: log,
  };
  const request = (address: string) => ({
    app: { appId: 'app-1', displayName: 'Portal' },
    access: {
      appId: 'app-1',
      clientIp: ip(address),
      clientAppType: 'browser' as const,
      devicePlatform: 'windows' as const,
    },
    userAgent: 'test',
    correlationId: `c-${address}`,
  });

  const cases = [
    {
      name: 'bob at headquarters is allowed',
      upn: 'bob@contoso.example',
      pw: password,
      at: '198.51.100.7',
      expected: { kind: 'allowed' },
      code: 0,
    },
    {
      name: 'bob abroad is blocked',
      upn: 'bob@contoso.example',
      pw: password,
      at: '203.0.113.9',
      expected: { kind: 'blocked', errorCode: 53003 },
      code: 53003,
    },
    {
      name: 'alice must do MFA and has no method: enrol',
      upn: 'alice@contoso.example',
      pw: password,
      at: '198.51.100.7',
      expected: { kind: 'mfa', enrol: true },
      code: 50076,
    },
    {
      name: 'bob mistypes his password',
      upn: 'bob@contoso.example',
      pw: 'wrong',
      at: '198.51.100.7',
      expected: { kind: 'retry', errorCode: 50126 },
      code: 50126,
    },
    {
      name: 'an unknown name answers like a wrong password',
      upn: 'nobody@contoso.example',
      pw: password,
      at: '198.51.100.7',
      expected: { kind: 'retry', errorCode: 50126 },
      code: 50126,
    },
    {
      name: 'disabled dave learns it only with the right password',
      upn: 'dave@contoso.example',
      pw: password,
      at: '198.51.100.7',
      expected: { kind: 'retry', errorCode: 50057 },
      code: 50057,
    },
    {
      name: 'disabled dave with a wrong password gets 50126',
      upn: 'dave@contoso.example',
      pw: 'wrong',
      at: '198.51.100.7',
      expected: { kind: 'retry', errorCode: 50126 },
      code: 50126,
    },
  ];
  for (const c of cases) {
    await t.test(c.name, async () => {
      const before = log.entries.length;
      const outcome = await passwordSignIn(deps, request(c.at), { signInName: c.upn, password: c.pw });
      for (const [key, value] of Object.entries(c.expected))
        assert.equal((outcome as Record<string, unknown>)[key], value);
      assert.equal(log.entries.length, before + 1, 'one entry per attempt');
      const entry = log.entries.at(-1);
      assert.equal(entry?.errorCode, c.code);
      assert.equal(entry?.ipAddress, c.at);
      assert.equal(entry?.correlationId, `c-${c.at}`);
    });
  }

  await t.test(
    'bob abroad guessing passwords is locked out (50053) and then refused even with the right one',
    async () => {
      // Each guess is a different wrong password (a repeated one counts once); the threshold is 10.
      for (let i = 0; i < 10; i++) {
        await passwordSignIn(deps, request('203.0.113.9'), {
          signInName: 'bob@contoso.example',
          password: `guess ${i}`,
        });
      }
      const outcome = await passwordSignIn(deps, request('203.0.113.9'), {
        signInName: 'bob@contoso.example',
        password,
      });
      assert.deepEqual(outcome, { kind: 'retry', errorCode: 50053 });
      assert.equal(log.entries.at(-1)?.errorCode, 50053);
    },
  );

  await t.test(
    'lockout abroad does not lock bob out at headquarters (failures count apart in trusted locations)',
    async () => {
      const outcome = await passwordSignIn(deps, request('198.51.100.7'), {
        signInName: 'bob@contoso.example',
        password,
      });
      assert.equal(outcome.kind, 'allowed');
    },
  );
});

test('sign-in pipeline: malformed input is a wrong password, not a crash', async () => {
  const store = await storesUnderTest()[0].open();
  const { contoso } = await twoTenants(store);
  const log = new MemorySignInLog();
  const deps: PipelineDeps = {
    tenantId: contoso,
    directory: directoryFor(store.forTenant(contoso)),
    credentials: memoryPorts(),
    policies: compilePolicySet([], []),
    clock: new ManualClock(),
    signInLog: log,
  };
  const request = {
    app: { appId: 'a', displayName: 'A' },
    access: {
      appId: 'a',
      clientIp: ip('192.0.2.1'),
      clientAppType: 'browser' as const,
      devicePlatform: 'unknown' as const,
    },
    userAgent: '',
    correlationId: 'c',
  };
  for (const input of [
    { signInName: ['x'], password: { a: 1 } },
    { signInName: undefined, password: undefined },
  ]) {
    assert.deepEqual(await passwordSignIn(deps, request, input), { kind: 'retry', errorCode: 50126 });
  }
});

test('sign-in pipeline: a passkey alone is the first factor and MFA, then Conditional Access runs as usual', async (t) => {
  const clock = new ManualClock(Date.UTC(2026, 10, 23, 9));
  const store = await storesUnderTest()[0].open({ clock });
  const { contoso } = await twoTenants(store);
  const directory = directoryFor(store.forTenant(contoso));
  const credentials = memoryPorts();
  const log = new MemorySignInLog();
  const deps: PipelineDeps = {
    tenantId: contoso,
    directory,
    credentials,
    policies: compilePolicySet([HQ], POLICIES),
    clock,
    signInLog: log,
  };
  const origin = 'https://login.contoso.example';
  const rp = relyingPartyFor(`${origin}/t/${contoso}`);
  const authenticatorOf = async (upn: string, admin: boolean) => {
    const user = await directory.users.create({ userPrincipalName: upn, displayName: upn });
    if (admin) await directory.roles.assign(user.id, GLOBAL_ADMINISTRATOR);
    const authenticator = new SoftAuthenticator({ origin });
    const persona = { id: user.id, userHandle: generateUserHandle(), name: upn, displayName: upn };
    const { options, pending } = await passkeyRegistrationOptions({
      rp,
      user: persona,
      existing: [],
      now: clock.now(),
    });
    const registered = await verifyPasskeyRegistration({
      rp,
      response: authenticator.create(options),
      pending,
      user: persona,
      existing: [],
      name: 'Laptop',
      now: clock.now(),
    });
    assert.ok(registered.ok);
    await credentials.webauthn.put(registered.credential);
    return authenticator;
  };
  const alices = await authenticatorOf('alice@contoso.example', true);
  const bobs = await authenticatorOf('bob@contoso.example', false);
  const stranger = new SoftAuthenticator({ origin });
  stranger.create({
    challenge: 'AA',
    rp: { id: rp.rpId, name: 'x' },
    user: { id: 'AA', name: 'x', displayName: 'x' },
    pubKeyCredParams: [{ alg: -7, type: 'public-key' }],
  });
  const request = (address: string) => ({
    app: { appId: 'app-1', displayName: 'Portal' },
    access: {
      appId: 'app-1',
      clientIp: ip(address),
      clientAppType: 'browser' as const,
      devicePlatform: 'windows' as const,
    },
    userAgent: 'test',
    correlationId: `c-${address}`,
  });

  const cases = [
    {
      name: 'alice (MFA required for her role) at headquarters is allowed at once: the passkey satisfied MFA',
      authenticator: alices,
      at: '198.51.100.7',
      expected: { kind: 'allowed', amr: ['hwk', 'mfa'] },
      code: 0,
      user: 'alice@contoso.example',
    },
    {
      name: 'bob abroad is blocked (53003), as after a password',
      authenticator: bobs,
      at: '203.0.113.9',
      expected: { kind: 'blocked', errorCode: 53003 },
      code: 53003,
      user: 'bob@contoso.example',
    },
    {
      name: 'a passkey nobody registered here is refused (800121) before Conditional Access',
      authenticator: stranger,
      at: '198.51.100.7',
      expected: { kind: 'retry', errorCode: 800121 },
      code: 800121,
      user: undefined,
    },
  ];
  for (const c of cases) {
    await t.test(c.name, async () => {
      const before = log.entries.length;
      const challengeId = `c:${c.name}`;
      const options = await passkeySignInOptions(deps, { challengeId, rp });
      const outcome = await passkeySignIn(deps, request(c.at), {
        response: JSON.stringify(c.authenticator.get(options)),
        challengeId,
        rp,
      });
      for (const [key, value] of Object.entries(c.expected))
        assert.deepEqual((outcome as Record<string, unknown>)[key], value);
      assert.equal(log.entries.length, before + 1, 'one entry per attempt');
      const entry = log.entries.at(-1);
      assert.equal(entry?.errorCode, c.code);
      assert.equal(entry?.ipAddress, c.at);
      assert.equal(entry?.user?.userPrincipalName, c.user);
      assert.equal(entry?.evaluation === undefined, c.code === 800121, 'Conditional Access ran after a good passkey');
    });
  }
});
