// The role matrix of the directory API (issue 6: "every route refuses the roles that must not use it"): for every
// users, groups and applications route, each built-in admin role — and a caller with none — is either let through
// (the route's own success status, on a fresh object) or refused with 403 Authorization_RequestDenied and a Graph
// error body, and then nothing changed (no audit record). The expectations are written out here, not read from
// the routes' own role lists, so a wrong list fails this test.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { directoryFor } from '../../src/directory/directory.ts';
import {
  APPLICATION_ADMINISTRATOR,
  CONDITIONAL_ACCESS_ADMINISTRATOR,
  GLOBAL_ADMINISTRATOR,
  REPORTS_READER,
  SECURITY_ADMINISTRATOR,
  SECURITY_READER,
  USER_ADMINISTRATOR,
} from '../../src/directory/roles.ts';
import { assertGraphError, type DirectoryServer, startDirectoryServer } from './directory-support.ts';

type Caller =
  | 'Global Administrator'
  | 'User Administrator'
  | 'Application Administrator'
  | 'Security Administrator'
  | 'Conditional Access Administrator'
  | 'Security Reader'
  | 'Reports Reader'
  | 'no role';

const ROLE_IDS: Record<Caller, string[]> = {
  'Global Administrator': [GLOBAL_ADMINISTRATOR],
  'User Administrator': [USER_ADMINISTRATOR],
  'Application Administrator': [APPLICATION_ADMINISTRATOR],
  'Security Administrator': [SECURITY_ADMINISTRATOR],
  'Conditional Access Administrator': [CONDITIONAL_ACCESS_ADMINISTRATOR],
  'Security Reader': [SECURITY_READER],
  'Reports Reader': [REPORTS_READER],
  'no role': [],
};

/** Entra lets these read the directory without changing it. */
const READERS: Caller[] = [
  'Security Administrator',
  'Conditional Access Administrator',
  'Security Reader',
  'Reports Reader',
];
const READ_USERS: Caller[] = ['Global Administrator', 'User Administrator', ...READERS];
const MANAGE_USERS: Caller[] = ['Global Administrator', 'User Administrator'];
const READ_APPLICATIONS: Caller[] = ['Global Administrator', 'Application Administrator', ...READERS];
const MANAGE_APPLICATIONS: Caller[] = ['Global Administrator', 'Application Administrator'];

interface Route {
  readonly name: string;
  readonly allowed: readonly Caller[];
  readonly status: number;
  /** Makes what the request needs (fresh objects) and returns the request. */
  readonly setup: (d: DirectoryServer, n: number) => Promise<{ method: string; path: string; body?: unknown }>;
}

const MS = 'https://graph.microsoft.com/v1.0/directoryObjects';

const user = (d: DirectoryServer, n: number) =>
  directoryFor(d.scope).users.create({ userPrincipalName: `target${n}@contoso.example`, displayName: `Target ${n}` });
const group = (d: DirectoryServer, n: number) => directoryFor(d.scope).groups.create({ displayName: `Group ${n}` });
const application = async (d: DirectoryServer, n: number) =>
  (
    await directoryFor(d.scope).applications.create({
      displayName: `App ${n}`,
      clientType: 'confidential',
      redirectUris: ['https://app.contoso.example/cb'],
    })
  ).application;

const ROUTES: Route[] = [
  { name: 'GET /users', allowed: READ_USERS, status: 200, setup: async () => ({ method: 'GET', path: '/users' }) },
  {
    name: 'GET /users/{id}',
    allowed: READ_USERS,
    status: 200,
    setup: async (d, n) => ({ method: 'GET', path: `/users/${(await user(d, n)).id}` }),
  },
  {
    name: 'GET /users/{id}/memberOf',
    allowed: READ_USERS,
    status: 200,
    setup: async (d, n) => ({ method: 'GET', path: `/users/${(await user(d, n)).id}/memberOf` }),
  },
  {
    name: 'POST /users',
    allowed: MANAGE_USERS,
    status: 201,
    setup: async (_d, n) => ({
      method: 'POST',
      path: '/users',
      body: { displayName: `New ${n}`, userPrincipalName: `new${n}@contoso.example` },
    }),
  },
  {
    name: 'PATCH /users/{id}',
    allowed: MANAGE_USERS,
    status: 204,
    setup: async (d, n) => ({
      method: 'PATCH',
      path: `/users/${(await user(d, n)).id}`,
      body: { displayName: 'Renamed' },
    }),
  },
  {
    name: 'DELETE /users/{id}',
    allowed: MANAGE_USERS,
    status: 204,
    setup: async (d, n) => ({ method: 'DELETE', path: `/users/${(await user(d, n)).id}` }),
  },
  { name: 'GET /groups', allowed: READ_USERS, status: 200, setup: async () => ({ method: 'GET', path: '/groups' }) },
  {
    name: 'GET /groups/{id}',
    allowed: READ_USERS,
    status: 200,
    setup: async (d, n) => ({ method: 'GET', path: `/groups/${(await group(d, n)).id}` }),
  },
  {
    name: 'GET /groups/{id}/members',
    allowed: READ_USERS,
    status: 200,
    setup: async (d, n) => ({ method: 'GET', path: `/groups/${(await group(d, n)).id}/members` }),
  },
  {
    name: 'POST /groups',
    allowed: MANAGE_USERS,
    status: 201,
    setup: async (_d, n) => ({ method: 'POST', path: '/groups', body: { displayName: `New group ${n}` } }),
  },
  {
    name: 'PATCH /groups/{id}',
    allowed: MANAGE_USERS,
    status: 204,
    setup: async (d, n) => ({ method: 'PATCH', path: `/groups/${(await group(d, n)).id}`, body: { description: 'x' } }),
  },
  {
    name: 'DELETE /groups/{id}',
    allowed: MANAGE_USERS,
    status: 204,
    setup: async (d, n) => ({ method: 'DELETE', path: `/groups/${(await group(d, n)).id}` }),
  },
  {
    name: 'POST /groups/{id}/members/$ref',
    allowed: MANAGE_USERS,
    status: 204,
    setup: async (d, n) => ({
      method: 'POST',
      path: `/groups/${(await group(d, n)).id}/members/$ref`,
      body: { '@odata.id': `${MS}/${(await user(d, n)).id}` },
    }),
  },
  {
    name: 'DELETE /groups/{id}/members/{memberId}/$ref',
    allowed: MANAGE_USERS,
    status: 204,
    setup: async (d, n) => {
      const g = await group(d, n);
      const u = await user(d, n);
      await directoryFor(d.scope).groups.addMember(g.id, { type: 'user', id: u.id });
      return { method: 'DELETE', path: `/groups/${g.id}/members/${u.id}/$ref` };
    },
  },
  {
    name: 'GET /applications',
    allowed: READ_APPLICATIONS,
    status: 200,
    setup: async () => ({ method: 'GET', path: '/applications' }),
  },
  {
    name: 'GET /applications/{id}',
    allowed: READ_APPLICATIONS,
    status: 200,
    setup: async (d, n) => ({ method: 'GET', path: `/applications/${(await application(d, n)).id}` }),
  },
  {
    name: 'POST /applications',
    allowed: MANAGE_APPLICATIONS,
    status: 201,
    setup: async (_d, n) => ({ method: 'POST', path: '/applications', body: { displayName: `New app ${n}` } }),
  },
  {
    name: 'PATCH /applications/{id}',
    allowed: MANAGE_APPLICATIONS,
    status: 204,
    setup: async (d, n) => ({
      method: 'PATCH',
      path: `/applications/${(await application(d, n)).id}`,
      body: { displayName: 'Renamed' },
    }),
  },
  {
    name: 'DELETE /applications/{id}',
    allowed: MANAGE_APPLICATIONS,
    status: 204,
    setup: async (d, n) => ({ method: 'DELETE', path: `/applications/${(await application(d, n)).id}` }),
  },
  {
    name: 'POST /applications/{id}/addPassword',
    allowed: MANAGE_APPLICATIONS,
    status: 200,
    setup: async (d, n) => ({
      method: 'POST',
      path: `/applications/${(await application(d, n)).id}/addPassword`,
      body: { passwordCredential: { displayName: 'x' } },
    }),
  },
  {
    name: 'POST /applications/{id}/removePassword',
    allowed: MANAGE_APPLICATIONS,
    status: 204,
    setup: async (d, n) => {
      const app = await application(d, n);
      const issued = await directoryFor(d.scope).applications.addSecret(app.id);
      return {
        method: 'POST',
        path: `/applications/${app.id}/removePassword`,
        body: { keyId: issued?.credential.keyId },
      };
    },
  },
];

describe('admin API: the directory routes and the admin roles', () => {
  let d: DirectoryServer;
  const tokens = new Map<Caller, string>();

  before(async () => {
    d = await startDirectoryServer();
    for (const [caller, roles] of Object.entries(ROLE_IDS)) tokens.set(caller as Caller, await d.tokenFor(roles));
  });
  after(async () => d?.close());

  let n = 0;
  for (const route of ROUTES) {
    test(`${route.name}: ${route.allowed.join(', ')}; everyone else 403`, async () => {
      for (const caller of Object.keys(ROLE_IDS) as Caller[]) {
        const request = await route.setup(d, ++n);
        const audits = (await d.audits()).length;
        const answer = await d.call(request.method, request.path, { token: tokens.get(caller), body: request.body });
        const what = `${caller} → ${request.method} ${request.path}`;
        if (route.allowed.includes(caller)) {
          assert.equal(answer.status, route.status, `${what}: ${JSON.stringify(answer.body)}`);
        } else {
          assertGraphError(answer, 403, 'Authorization_RequestDenied', /^Insufficient privileges to /);
          assert.equal((await d.audits()).length, audits, `${what}: nothing changed`);
        }
      }
    });
  }

  test('the matrix covers exactly the directory routes docs/admin-api.md lists', () => {
    const doc = readFileSync(new URL('../../docs/admin-api.md', import.meta.url), 'utf8');
    const table = doc.slice(doc.indexOf('<!-- directory routes:')).split('\n\n')[0];
    const documented = [...table.matchAll(/^\| `(GET|POST|PATCH|DELETE) ([^`]+)` \|/gm)].map((m) => `${m[1]} ${m[2]}`);
    assert.equal(documented.length, 21);
    assert.deepEqual(ROUTES.map((r) => r.name).sort(), documented.sort());
  });
});
