// Tests for recovery codes: format and entropy, hashes only, forgiving input, single use, per-user hashing.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  checkRecoveryCode,
  generateRecoveryCodes,
  hashRecoveryCode,
  normaliseRecoveryCode,
  RECOVERY_CODE_ALPHABET,
  RECOVERY_CODE_BITS,
  type StoredRecoveryCode,
} from './recovery-codes.ts';

describe('generateRecoveryCodes', () => {
  test('alice gets ten distinct codes of at least 50 bits in groups, and only hashes are stored', () => {
    const { codes, stored } = generateRecoveryCodes('alice');
    assert.equal(codes.length, 10);
    assert.equal(new Set(codes).size, 10);
    for (const code of codes) assert.match(code, /^[0-9a-hjkmnp-tv-z]{4}(-[0-9a-hjkmnp-tv-z]{4}){3}$/);
    assert.ok(RECOVERY_CODE_BITS >= 50);
    assert.equal(RECOVERY_CODE_ALPHABET.length, 32);
    assert.equal(stored.length, 10);
    for (const [i, s] of stored.entries()) {
      assert.match(s.hash, /^[0-9a-f]{64}$/);
      assert.equal(s.usedAt, null);
      assert.ok(
        !JSON.stringify(s).includes(codes[i].replaceAll('-', '')),
        'the stored record does not contain the code',
      );
    }
  });

  test('characters are spread over the whole alphabet', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 20; i++) {
      for (const ch of generateRecoveryCodes('x').codes.join('').replaceAll('-', ''))
        counts.set(ch, (counts.get(ch) ?? 0) + 1);
    }
    // 3200 characters over 32 symbols: about 100 each; every symbol appears, none is wildly over-represented.
    assert.equal(counts.size, 32);
    for (const n of counts.values()) assert.ok(n > 40 && n < 180, `count ${n}`);
  });
});

describe('normaliseRecoveryCode', () => {
  const cases: { name: string; input: string; expected: string | null }[] = [
    { name: 'as printed', input: '7k2m-9x4q-ab3d-0fgh', expected: '7k2m9x4qab3d0fgh' },
    { name: 'upper case', input: '7K2M-9X4Q-AB3D-0FGH', expected: '7k2m9x4qab3d0fgh' },
    { name: 'spaces instead of dashes', input: ' 7k2m 9x4q ab3d 0fgh ', expected: '7k2m9x4qab3d0fgh' },
    { name: 'no separators', input: '7k2m9x4qab3d0fgh', expected: '7k2m9x4qab3d0fgh' },
    { name: 'letter O for zero and I, L for one', input: '7k2m-9x4q-ab3d-OfgI', expected: '7k2m9x4qab3d0fg1' },
    { name: 'l for one', input: 'lk2m-9x4q-ab3d-0fgh', expected: '1k2m9x4qab3d0fgh' },
    { name: 'too short', input: '7k2m-9x4q-ab3d', expected: null },
    { name: 'too long', input: '7k2m-9x4q-ab3d-0fgh-1', expected: null },
    { name: 'u is not in the alphabet', input: 'uk2m-9x4q-ab3d-0fgh', expected: null },
    { name: 'punctuation', input: '7k2m_9x4q_ab3d_0fgh', expected: null },
  ];
  for (const c of cases) test(c.name, () => assert.equal(normaliseRecoveryCode(c.input), c.expected));
});

describe('checkRecoveryCode', () => {
  const { codes, stored } = generateRecoveryCodes('alice');
  const used = (records: readonly StoredRecoveryCode[], id: string): StoredRecoveryCode[] =>
    records.map((r) => (r.id === id ? { ...r, usedAt: Date.UTC(2026, 0, 2) } : r));

  const cases: {
    name: string;
    userId: string;
    input: string;
    records: readonly StoredRecoveryCode[];
    expected: ReturnType<typeof checkRecoveryCode>;
  }[] = [
    {
      name: "alice's third code",
      userId: 'alice',
      input: codes[2],
      records: stored,
      expected: { ok: true, id: stored[2].id, remaining: 9 },
    },
    {
      name: "alice's code typed loosely",
      userId: 'alice',
      input: codes[0].toUpperCase().replaceAll('-', ' '),
      records: stored,
      expected: { ok: true, id: stored[0].id, remaining: 9 },
    },
    {
      name: "alice's code used a second time",
      userId: 'alice',
      input: codes[2],
      records: used(stored, stored[2].id),
      expected: { ok: false, reason: 'already-used' },
    },
    {
      name: 'the last unused code',
      userId: 'alice',
      input: codes[9],
      records: stored.slice(0, 9).reduce((r, s) => used(r, s.id), [...stored]),
      expected: { ok: true, id: stored[9].id, remaining: 0 },
    },
    {
      name: "bob tries alice's code against his own set",
      userId: 'bob',
      input: codes[2],
      records: generateRecoveryCodes('bob').stored,
      expected: { ok: false, reason: 'no-match' },
    },
    {
      name: "alice's code checked as bob's against alice's hashes (hashes are per user)",
      userId: 'bob',
      input: codes[2],
      records: stored,
      expected: { ok: false, reason: 'no-match' },
    },
    {
      name: 'a made-up code',
      userId: 'alice',
      input: '0000-0000-0000-0000',
      records: stored,
      expected: { ok: false, reason: 'no-match' },
    },
    {
      name: 'a TOTP code typed into the wrong box',
      userId: 'alice',
      input: '123456',
      records: stored,
      expected: { ok: false, reason: 'malformed' },
    },
    {
      name: 'no codes stored',
      userId: 'alice',
      input: codes[0],
      records: [],
      expected: { ok: false, reason: 'no-match' },
    },
  ];
  for (const c of cases)
    test(c.name, () => assert.deepEqual(checkRecoveryCode(c.userId, c.input, c.records), c.expected));

  test('the hash binds the user id', () => {
    assert.notEqual(hashRecoveryCode('alice', '7k2m9x4qab3d0fgh'), hashRecoveryCode('bob', '7k2m9x4qab3d0fgh'));
  });
});
