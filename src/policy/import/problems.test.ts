// Tests for how problems are named and printed.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { describeObject, formatProblem, type Problem, show } from './problems.ts';

describe('formatProblem', () => {
  const cases: Array<{ name: string; problem: Problem; line: string }> = [
    {
      name: 'every part, in order',
      problem: {
        file: 'exports/locations.json',
        object: "location 'HQ' (id 3f1c9b2e)",
        field: 'ipRanges[3].cidrAddress',
        message: "'10.0.0.0/33' is not a valid CIDR range: prefix length 33 is larger than 32",
      },
      line:
        "exports/locations.json: location 'HQ' (id 3f1c9b2e): ipRanges[3].cidrAddress: '10.0.0.0/33' is not a valid " +
        'CIDR range: prefix length 33 is larger than 32',
    },
    {
      name: 'a file-level problem',
      problem: { file: 'exports/policies.json', message: 'line 4, column 17: Unexpected token' },
      line: 'exports/policies.json: line 4, column 17: Unexpected token',
    },
    {
      name: 'a set-level problem',
      problem: { message: '196 named locations is more than the limit of 195' },
      line: '196 named locations is more than the limit of 195',
    },
  ];
  for (const c of cases) test(c.name, () => assert.equal(formatProblem(c.problem), c.line));
});

describe('describeObject', () => {
  const cases: Array<{ name: string; args: Parameters<typeof describeObject>; is: string }> = [
    {
      name: 'named, with id',
      args: ['location', 'Headquarters', '3f1c', 1],
      is: "location 'Headquarters' (id 3f1c)",
    },
    { name: 'named, no id yet', args: ['policy', 'Require MFA', '', 2], is: "policy 'Require MFA'" },
    { name: 'unnamed: its position', args: ['policy', undefined, undefined, 3], is: 'policy #3' },
    { name: 'blank name: its position', args: ['policy', '  ', 'p1', 3], is: 'policy #3 (id p1)' },
    { name: 'control characters escaped', args: ['policy', 'a\nb', undefined, 1], is: "policy 'a\\x0ab'" },
  ];
  for (const c of cases) test(c.name, () => assert.equal(describeObject(...c.args), c.is));
});

describe('show', () => {
  test('strings quoted, other values as JSON', () => {
    assert.equal(show('x'), "'x'");
    assert.equal(show(3), '3');
    assert.equal(show(null), 'null');
    assert.equal(show(undefined), 'nothing');
  });
  test('long values are cut', () => assert.equal(show('a'.repeat(100)), `'${'a'.repeat(64)}…'`));
});
