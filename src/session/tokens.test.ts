// The session secrets: shape, uniqueness, hashing, and the constant-time binding comparison's answers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bindingMatches, hashToken, hashTokenBytes, isTokenShaped, newToken } from './tokens.ts';

test('tokens are 256 random bits in base64url, and differ', () => {
  const tokens = new Set(Array.from({ length: 1000 }, newToken));
  assert.equal(tokens.size, 1000);
  for (const token of tokens) {
    assert.ok(isTokenShaped(token));
    assert.equal(Buffer.from(token, 'base64url').length, 32);
  }
});

test('the hash is SHA-256 in base64url (a known vector)', () => {
  assert.equal(hashToken('abc'), 'ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0');
  assert.deepEqual(hashTokenBytes('abc'), Buffer.from(hashToken('abc'), 'base64url'));
});

test('the binding matches only the secret whose hash is stored', () => {
  const secret = newToken();
  const stored = hashTokenBytes(secret);
  assert.equal(bindingMatches(secret, stored), true);
  for (const presented of [undefined, null, '', newToken(), secret.slice(1), `${secret} `, 42]) {
    assert.equal(bindingMatches(presented, stored), false, String(presented));
  }
  assert.equal(bindingMatches(secret, Buffer.alloc(0)), false, 'a truncated stored hash never matches');
});
