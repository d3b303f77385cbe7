// "Did you mean …?" for misspelt option names.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { closest } from './suggest.ts';

const options = ['dataDir', 'port', 'host', 'publicUrl', 'trustedProxies', 'masterKey'];
const cases: { typed: string; expected: string | undefined }[] = [
  { typed: 'prot', expected: 'port' },
  { typed: 'data_dir', expected: 'dataDir' },
  { typed: 'PUBLIC-URL', expected: 'publicUrl' },
  { typed: 'trustedProxy', expected: 'trustedProxies' },
  { typed: 'hots', expected: 'host' },
  { typed: 'masterkeys', expected: 'masterKey' },
  { typed: 'session', expected: undefined },
  { typed: 'x', expected: undefined },
];
for (const c of cases) {
  test(`'${c.typed}' suggests ${c.expected === undefined ? 'nothing' : `'${c.expected}'`}`, () => {
    assert.equal(closest(c.typed, options), c.expected);
  });
}
