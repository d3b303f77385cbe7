// What an allowed request carries to the application: identity headers and the cookies that are not Portcullis's.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applicationCookies, DEFAULT_HEADER_NAMES, identityHeaders } from './headers.ts';
import type { GatewayIdentity } from './identity.ts';

const alice: GatewayIdentity = {
  subject: { userId: 'alice-id', groups: ['g1', 'g2'], roles: [], userType: 'member' },
  userPrincipalName: 'alice@contoso.example',
  displayName: 'Alice Émile',
  mail: null,
  groups: [
    { id: 'g1', displayName: 'Engineers' },
    { id: 'g2', displayName: 'Sales, EMEA' },
  ],
};

test("the application's Cookie header keeps every cookie but Portcullis's", () => {
  const cases: [string, string | undefined, string | undefined][] = [
    ['only Portcullis cookies', '__Secure-portcullis-gw-session-t=s; __Secure-portcullis-gw-binding-t=b', undefined],
    ['host and plain prefixes', '__Host-portcullis-session=s;portcullis-gw-session-t=s', undefined],
    [
      'app cookies kept in order',
      'theme=dark; portcullis-gw-session-t=s;  lang=en ; sid=1',
      'theme=dark; lang=en; sid=1',
    ],
    ['a cookie that only contains the name', 'my-portcullis-x=1; x=portcullis-y', 'my-portcullis-x=1; x=portcullis-y'],
    ['empty pairs dropped', ';; a=1 ;;', 'a=1'],
    ['nothing but separators', ' ; ; ', undefined],
    ['an empty header', '', undefined],
    ['no header', undefined, undefined],
  ];
  for (const [name, header, expected] of cases) assert.equal(applicationCookies(header), expected, name);
});

test('identity headers: UTF-8 bytes as latin1, groups by name (by id when the name has a comma), all present', () => {
  assert.deepEqual(identityHeaders(alice, DEFAULT_HEADER_NAMES, 'displayName'), {
    'Remote-User': 'alice@contoso.example',
    'Remote-Groups': 'Engineers,g2',
    'Remote-Email': '',
    'Remote-Name': Buffer.from('Alice Émile', 'utf8').toString('latin1'),
  });
  assert.equal(identityHeaders(alice, DEFAULT_HEADER_NAMES, 'id')['Remote-Groups'], 'g1,g2');
});

test("one identity's headers are built once, and again for other header names or group format", () => {
  const first = identityHeaders(alice, DEFAULT_HEADER_NAMES, 'displayName');
  assert.equal(identityHeaders(alice, DEFAULT_HEADER_NAMES, 'displayName'), first);
  assert.ok(Object.isFrozen(first));
  const renamed = { ...DEFAULT_HEADER_NAMES, user: 'X-User' };
  assert.equal(identityHeaders(alice, renamed, 'displayName')['X-User'], 'alice@contoso.example');
  assert.equal(identityHeaders(alice, DEFAULT_HEADER_NAMES, 'id')['Remote-Groups'], 'g1,g2');
  // A fresh identity object (the directory read again) gets fresh headers.
  const renamedUser = { ...alice, userPrincipalName: 'alice.smith@contoso.example' };
  assert.equal(
    identityHeaders(renamedUser, DEFAULT_HEADER_NAMES, 'displayName')['Remote-User'],
    renamedUser.userPrincipalName,
  );
});
