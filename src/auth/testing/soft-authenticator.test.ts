// Tests for the test authenticator's own CBOR encoder against RFC 8949 Appendix A, so WebAuthn tests rest on it.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { encodeCbor } from './soft-authenticator.ts';

describe('encodeCbor matches RFC 8949 Appendix A', () => {
  const cases: { name: string; value: Parameters<typeof encodeCbor>[0]; hex: string }[] = [
    { name: '0', value: 0, hex: '00' },
    { name: '23', value: 23, hex: '17' },
    { name: '24', value: 24, hex: '1818' },
    { name: '100', value: 100, hex: '1864' },
    { name: '1000', value: 1000, hex: '1903e8' },
    { name: '1000000', value: 1000000, hex: '1a000f4240' },
    { name: '-1', value: -1, hex: '20' },
    { name: '-100', value: -100, hex: '3863' },
    { name: '"a"', value: 'a', hex: '6161' },
    { name: '"IETF"', value: 'IETF', hex: '6449455446' },
    { name: "h'01020304'", value: Uint8Array.from([1, 2, 3, 4]), hex: '4401020304' },
    {
      name: '{1: 2, 3: 4}',
      value: new Map([
        [1, 2],
        [3, 4],
      ]),
      hex: 'a201020304',
    },
    {
      name: '{"a": "A", "b": "B"}',
      value: new Map([
        ['a', 'A'],
        ['b', 'B'],
      ]),
      hex: 'a26161614161626142',
    },
  ];
  for (const c of cases) test(c.name, () => assert.equal(encodeCbor(c.value).toString('hex'), c.hex));
});
