// Tests for the new-password policy: NIST 800-63B lengths, no composition rules, not the user's own name.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkPasswordPolicy } from './password-policy.ts';

describe('checkPasswordPolicy', () => {
  const alice = { userPrincipalName: 'alice@contoso.com' };
  const cases: {
    name: string;
    password: unknown;
    context?: Parameters<typeof checkPasswordPolicy>[1];
    rules: string[];
    message?: RegExp;
  }[] = [
    { name: 'alice picks a long passphrase', password: 'correct horse battery staple', context: alice, rules: [] },
    {
      name: 'eight lower-case letters are enough: no composition rules',
      password: 'abcdefgh',
      context: alice,
      rules: [],
    },
    {
      name: 'seven characters are too short',
      password: 'abcdefg',
      rules: ['minLength'],
      message: /at least 8 characters long, but it has 7/,
    },
    { name: 'empty', password: '', rules: ['minLength'], message: /but it has 0/ },
    { name: 'length counts characters, not UTF-16 units: 8 emoji', password: '🔑🔑🔑🔑🔑🔑🔑🔑', rules: [] },
    { name: 'length counts characters, not bytes: 7 accented letters', password: 'ééééééé', rules: ['minLength'] },
    { name: '256 characters is the maximum', password: 'a'.repeat(256), rules: [] },
    {
      name: '257 characters is too long',
      password: 'a'.repeat(257),
      rules: ['maxLength'],
      message: /at most 256 characters long, but it has 257/,
    },
    {
      name: "alice's UPN as her password",
      password: 'alice@contoso.com',
      context: alice,
      rules: ['notUserPrincipalName'],
      message: /must not be your user name/,
    },
    {
      name: "alice's UPN in other case and padded",
      password: ' Alice@Contoso.COM ',
      context: alice,
      rules: ['notUserPrincipalName'],
    },
    {
      name: "bob's UPN local part",
      password: 'bob.builder',
      context: { userPrincipalName: 'bob.builder@contoso.com' },
      rules: ['notUserPrincipalName'],
    },
    {
      name: "carol may use bob's name",
      password: 'bob.builder',
      context: { userPrincipalName: 'carol@fabrikam.com' },
      rules: [],
    },
    {
      name: 'a short UPN is both too short and the name',
      password: 'dan',
      context: { userPrincipalName: 'dan@x.io' },
      rules: ['minLength', 'notUserPrincipalName'],
    },
    {
      name: 'a blocklisted password',
      password: 'Password123',
      context: { blocklist: new Set(['password123']) },
      rules: ['notBlocklisted'],
      message: /common or breached/,
    },
    { name: 'not a string', password: 12345678, rules: ['type'], message: /must be a string, but it is number/ },
    { name: 'null', password: null, rules: ['type'], message: /but it is null/ },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const violations = checkPasswordPolicy(c.password, c.context);
      assert.deepEqual(
        violations.map((v) => v.rule),
        c.rules,
      );
      if (c.message) assert.match(violations.map((v) => v.message).join('\n'), c.message);
    });
  }
});
