// The master key: the encodings accepted, the reasons for refusing, and that it never shows itself.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { inspect } from 'node:util';
import { MasterKey } from './master-key.ts';

const HEX = 'c0ffee00112233445566778899aabbccddeeff00112233445566778899aabbcc';
const bytes = Buffer.from(HEX, 'hex');

describe('MasterKey.parse', () => {
  const accepted: { name: string; text: string }[] = [
    { name: 'hex, lower case', text: HEX },
    { name: 'hex, upper case', text: HEX.toUpperCase() },
    { name: 'base64 with padding', text: bytes.toString('base64') },
    { name: 'base64 without padding', text: bytes.toString('base64').replace(/=$/, '') },
    { name: 'base64url', text: bytes.toString('base64url') },
    { name: 'with a trailing newline from a secret file', text: `${bytes.toString('base64')}\n` },
  ];
  for (const c of accepted) {
    test(`accepts ${c.name}`, () => {
      const key = MasterKey.parse(c.text);
      assert.ok(key instanceof MasterKey);
      assert.deepEqual(key.bytes(), bytes);
    });
  }

  const refused: { name: string; text: string; reason: string }[] = [
    { name: '16 bytes of hex (an AES-128 key)', text: HEX.slice(0, 32), reason: 'it has 32 hex digits' },
    {
      name: 'a passphrase',
      text: 'correct horse battery staple',
      reason: 'it contains characters that are neither hex nor base64',
    },
    { name: '48 bytes of base64', text: Buffer.alloc(48, 7).toString('base64'), reason: 'it has 64 characters' },
    {
      name: 'the all-zero placeholder',
      text: '0'.repeat(64),
      reason: 'it is one byte repeated, which is a placeholder rather than a random key',
    },
    { name: 'an empty value', text: '', reason: 'it contains characters that are neither hex nor base64' },
  ];
  for (const c of refused) {
    test(`refuses ${c.name}`, () => assert.equal(MasterKey.parse(c.text), c.reason));
  }
});

test('a key never shows itself and hands out copies', () => {
  const key = new MasterKey(bytes);
  assert.equal(JSON.stringify({ key }), '{"key":"[redacted]"}');
  assert.equal(`${key}`, '[redacted]');
  assert.equal(inspect(key), 'MasterKey [redacted]');
  key.bytes().fill(0);
  assert.deepEqual(key.bytes(), bytes);
  assert.throws(() => new MasterKey(Buffer.alloc(16)), /a master key is 32 bytes, not 16/);
});
