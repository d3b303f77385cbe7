// The correlation id of a request: which header wins, what is refused, what is made up, what every answer carries.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertUuidV7Between } from '../../test/support/uuid.ts';
import { isSafeRequestId, REQUEST_ID_HEADERS, requestIdFrom, setCommonHeaders } from './request-id.ts';

test('the proxy’s X-Request-Id wins over the client’s client-request-id', () => {
  const id = requestIdFrom({ 'x-request-id': 'a1b2c3d4e5f6a7b8', 'client-request-id': 'client-0000-0001' });
  assert.equal(id, 'a1b2c3d4e5f6a7b8');
});

test('client-request-id is used when X-Request-Id is missing or unusable', () => {
  assert.equal(requestIdFrom({ 'client-request-id': 'client-0000-0001' }), 'client-0000-0001');
  assert.equal(
    requestIdFrom({ 'x-request-id': 'has space in it', 'client-request-id': 'client-0000-0001' }),
    'client-0000-0001',
  );
});

test('without a usable id a new time-ordered UUID (version 7) is made, from the injected generator when given', () => {
  const before = Date.now();
  const id = requestIdFrom({});
  const after = Date.now();
  assertUuidV7Between(id, before, after);
  assert.equal(
    requestIdFrom({ 'x-request-id': '"><script>' }, () => 'generated-id'),
    'generated-id',
  );
});

test('only short safe tokens are taken as correlation ids', () => {
  for (const ok of ['0123abcd', 'a'.repeat(64), '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01']) {
    assert.ok(isSafeRequestId(ok), ok);
  }
  for (const bad of [
    'short',
    'a'.repeat(65),
    '-leading-dash',
    'line\nbreak-xx',
    'quote"xxxxxx',
    ['a1b2c3d4e5'],
    undefined,
  ]) {
    assert.ok(!isSafeRequestId(bad), String(bad));
  }
});

test('every answer carries the id under both names, and nosniff', () => {
  const headers = new Map<string, string>();
  setCommonHeaders({ header: (name, value) => headers.set(name, value) }, 'a1b2c3d4e5f6a7b8');
  for (const name of REQUEST_ID_HEADERS) assert.equal(headers.get(name), 'a1b2c3d4e5f6a7b8');
  assert.equal(headers.get('x-content-type-options'), 'nosniff');
});
