// Tests for the test-only MMDB writer: what it writes, maxmind's reader reads back the same.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Reader } from 'maxmind';
import { type MmdbNetwork, type MmdbValue, writeMmdb } from './write-mmdb.ts';

describe('writeMmdb', () => {
  const record: MmdbValue = {
    country: { iso_code: 'SE', names: { en: 'Sweden', 'zh-CN': '瑞典' } },
    geoname_id: 2661886,
    big: 0x1_0000_0000n,
    ratio: 0.25,
    negative: -3.5,
    flags: [true, false],
    long: 'x'.repeat(300),
    longer: 'y'.repeat(70_000),
    empty: '',
    zero: 0,
  };
  const shapes: ReadonlyArray<[name: string, ipVersion: 4 | 6, recordSize: 24 | 28 | 32]> = [
    ['IPv4 tree, 24-bit records', 4, 24],
    ['IPv4 tree, 28-bit records', 4, 28],
    ['IPv4 tree, 32-bit records', 4, 32],
    ['IPv6 tree, 24-bit records', 6, 24],
    ['IPv6 tree, 28-bit records', 6, 28],
    ['IPv6 tree, 32-bit records', 6, 32],
  ];
  for (const [name, ipVersion, recordSize] of shapes) {
    test(`${name}: records, prefix lengths and metadata read back`, () => {
      const networks = [
        { prefix: '89.160.20.0/24', data: record },
        { prefix: '89.160.21.128/25', data: { country_code: 'SE' } },
        ...(ipVersion === 6 ? [{ prefix: '2001:4860::/32', data: { country_code: 'US' } }] : []),
      ];
      const reader = new Reader(
        writeMmdb({ databaseType: 'Test-DB', ipVersion, recordSize, buildEpoch: 1_700_000_000, networks }),
      );
      assert.deepEqual(reader.getWithPrefixLength('89.160.20.112'), [record, 24]);
      assert.deepEqual(reader.getWithPrefixLength('89.160.21.200'), [{ country_code: 'SE' }, 25]);
      assert.equal(reader.get('89.160.21.1'), null);
      if (ipVersion === 6) assert.deepEqual(reader.get('2001:4860:4860::8888'), { country_code: 'US' });
      assert.equal(reader.metadata.databaseType, 'Test-DB');
      assert.equal(reader.metadata.ipVersion, ipVersion);
      assert.equal(reader.metadata.recordSize, recordSize);
      assert.deepEqual(reader.metadata.buildEpoch, new Date(1_700_000_000_000));
    });
  }

  test('refuses overlapping networks rather than writing an ambiguous tree', () => {
    const networks: MmdbNetwork[] = [
      { prefix: '10.0.0.0/8', data: { a: 1 } },
      { prefix: '10.1.0.0/16', data: { b: 2 } },
    ];
    assert.throws(() => writeMmdb({ databaseType: 'T', networks }), /overlaps/);
  });
});
