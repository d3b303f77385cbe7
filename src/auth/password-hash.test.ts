// Tests for argon2id password hashing: published vectors verify, new hashes are portable PHC strings, malformed
// stored hashes are refused with a message naming the part that is wrong, and rehash detection.

import assert from 'node:assert/strict';
import { argon2Sync } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  burnVerificationTime,
  hashPassword,
  needsRehash,
  OWASP_ARGON2ID,
  PasswordHashFormatError,
  parsePhc,
  verifyPassword,
} from './password-hash.ts';

// Cheap parameters for tests that are about the format, not the cost.
const CHEAP = { memoryKiB: 256, passes: 2, parallelism: 1, saltBytes: 16, hashBytes: 32 };

describe('the argon2 primitive', () => {
  test('Node computes the RFC 9106 section 5.3 Argon2id test vector', () => {
    const tag = argon2Sync('argon2id', {
      message: Buffer.alloc(32, 1),
      nonce: Buffer.alloc(16, 2),
      secret: Buffer.alloc(8, 3),
      associatedData: Buffer.alloc(12, 4),
      memory: 32,
      passes: 3,
      parallelism: 4,
      tagLength: 32,
    });
    assert.equal(tag.toString('hex'), '0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659');
  });
});

describe('verifyPassword accepts PHC strings from the reference implementation', () => {
  // phc-winner-argon2 src/test.c, the Argon2id cases for version 0x13: salt "somesalt", 32-byte tags.
  const cases: { name: string; phc: string; password: string; matches: boolean }[] = [
    {
      name: 'the canonical vector (m=65536, t=2, p=1)',
      phc: '$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc',
      password: 'password',
      matches: true,
    },
    {
      name: 'small memory (m=256, t=2, p=1)',
      phc: '$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4',
      password: 'password',
      matches: true,
    },
    {
      name: 'two lanes (m=256, t=2, p=2)',
      phc: '$argon2id$v=19$m=256,t=2,p=2$c29tZXNhbHQ$bQk8UB/VmZZF4Oo79iDXuL5/0ttZwg2f/5U52iv1cDc',
      password: 'password',
      matches: true,
    },
    {
      name: 'the same vector with a wrong password',
      phc: '$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4',
      password: 'passwore',
      matches: false,
    },
    {
      name: 'the same vector with the password in upper case',
      phc: '$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4',
      password: 'PASSWORD',
      matches: false,
    },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      assert.equal(await verifyPassword(c.phc, c.password), c.matches);
    });
  }
});

describe('hashPassword', () => {
  test("alice's new hash is a PHC string with OWASP's parameters and verifies", async () => {
    const phc = await hashPassword('correct horse battery staple');
    assert.match(phc, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    assert.equal(await verifyPassword(phc, 'correct horse battery staple'), true);
    assert.equal(await verifyPassword(phc, 'correct horse battery stapler'), false);
    assert.equal(needsRehash(phc), false);
  });

  test('two hashes of the same password differ (fresh salt)', async () => {
    const [a, b] = await Promise.all([hashPassword('hunter2hunter2', CHEAP), hashPassword('hunter2hunter2', CHEAP)]);
    assert.notEqual(a, b);
    assert.notEqual(parsePhc(a).salt.toString('hex'), parsePhc(b).salt.toString('hex'));
  });

  test("bob's password typed composed or decomposed is the same password (NFKC)", async () => {
    const phc = await hashPassword('Crème brûlée 2026', CHEAP);
    assert.equal(await verifyPassword(phc, 'Cre\u0300me bru\u0302le\u0301e 2026'), true);
  });

  test('refuses parameters below what argon2 and we allow, naming the parameter', async () => {
    await assert.rejects(hashPassword('x', { ...CHEAP, saltBytes: 8 }), /argon2 parameter 'saltBytes' must be/);
    await assert.rejects(hashPassword('x', { ...CHEAP, memoryKiB: 4 }), /argon2 parameter 'memoryKiB' must be/);
  });
});

describe('parsePhc refuses malformed stored hashes, naming what is wrong', () => {
  const good = '$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4';
  const cases: { name: string; phc: string; message: RegExp }[] = [
    { name: 'empty', phc: '', message: /not a PHC string/ },
    {
      name: 'a bcrypt hash',
      phc: '$2b$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ012',
      message: /not a PHC string/,
    },
    { name: 'scrypt', phc: good.replace('argon2id', 'scrypt'), message: /algorithm 'scrypt' is not argon2id/ },
    {
      name: 'no version (Argon2 1.0)',
      phc: '$argon2id$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR',
      message: /no version 'v=19'.*Argon2 1\.0/,
    },
    { name: 'version 16', phc: good.replace('v=19', 'v=16'), message: /version 16 is not supported/ },
    {
      name: 'parameters out of order',
      phc: good.replace('m=256,t=2,p=1', 't=2,m=256,p=1'),
      message: /'m=…,t=…,p=…' in that order/,
    },
    { name: 'a keyid parameter', phc: good.replace('p=1', 'p=1,keyid=abc'), message: /in that order/ },
    { name: 'hex memory', phc: good.replace('m=256', 'm=0x100'), message: /parameter 'm' is '0x100'/ },
    {
      name: 'memory above the limit',
      phc: good.replace('m=256', 'm=4194304'),
      message: /memory m=4194304 KiB is outside 8–262144/,
    },
    {
      name: 'memory below 8 per lane',
      phc: good.replace('m=256,t=2,p=1', 'm=8,t=2,p=2'),
      message: /memory m=8 KiB is outside 16–/,
    },
    { name: 'too many passes', phc: good.replace('t=2', 't=100'), message: /passes t=100 is outside 1–16/ },
    { name: 'zero lanes', phc: good.replace('p=1', 'p=0'), message: /parallelism p=0 is outside/ },
    {
      name: 'padded base64 salt',
      phc: good.replace('c29tZXNhbHQ', 'c29tZXNhbHQ='),
      message: /the salt 'c29tZXNhbHQ=' is not unpadded base64/,
    },
    { name: 'base64url hash', phc: good.replace('MCHGi/4', 'MCHGi_4'), message: /the hash .* is not unpadded base64/ },
    { name: 'salt shorter than 8 bytes', phc: good.replace('c29tZXNhbHQ', 'c29tZQ'), message: /the salt is 4 bytes/ },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      assert.throws(
        () => parsePhc(c.phc),
        (e: unknown) => e instanceof PasswordHashFormatError && c.message.test(e.message),
      );
      await assert.rejects(verifyPassword(c.phc, 'password'), PasswordHashFormatError);
    });
  }
});

describe('needsRehash', () => {
  const salt = 'c29tZXNhbHRzb21lc2FsdA'; // 16 bytes
  const tag = 'nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4'; // 32 bytes
  const cases: { name: string; phc: string; expected: boolean }[] = [
    { name: "OWASP's parameters", phc: `$argon2id$v=19$m=19456,t=2,p=1$${salt}$${tag}`, expected: false },
    { name: 'more memory than configured', phc: `$argon2id$v=19$m=65536,t=2,p=1$${salt}$${tag}`, expected: true },
    { name: 'less memory than configured', phc: `$argon2id$v=19$m=4096,t=2,p=1$${salt}$${tag}`, expected: true },
    { name: 'more passes', phc: `$argon2id$v=19$m=19456,t=3,p=1$${salt}$${tag}`, expected: true },
    { name: 'argon2i', phc: `$argon2i$v=19$m=19456,t=2,p=1$${salt}$${tag}`, expected: true },
    { name: 'an 8-byte salt', phc: `$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$${tag}`, expected: true },
    { name: 'a 16-byte tag', phc: `$argon2id$v=19$m=19456,t=2,p=1$${salt}$nf65EOgLrQMR/uIPnA4rEg`, expected: true },
    { name: 'a malformed hash', phc: 'not a hash', expected: true },
  ];
  for (const c of cases) {
    test(c.name, () => assert.equal(needsRehash(c.phc), c.expected));
  }
  test('against a raised target, the OWASP hash needs a rehash', () => {
    assert.equal(needsRehash(`$argon2id$v=19$m=19456,t=2,p=1$${salt}$${tag}`, { ...OWASP_ARGON2ID, passes: 3 }), true);
  });
});

describe('burnVerificationTime', () => {
  test('runs for an unknown user, a stored hash and a malformed hash without throwing', async () => {
    await burnVerificationTime('guess', undefined, CHEAP);
    await burnVerificationTime(
      'guess',
      '$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4',
    );
    await burnVerificationTime('guess', 'garbage', CHEAP);
  });
});
