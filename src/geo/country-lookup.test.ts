// Tests for IP → country: the bundled database, both record shapes, the non-routable short cut and open errors.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import type { Ip } from '../net/ip.ts';
import {
  bundledCountryDatabasePath,
  type CountryDatabase,
  countryDatabaseFromBuffer,
  GeoDatabaseError,
  openCountryDatabase,
  openCountryDatabaseSync,
} from './country-lookup.ts';
import { type MmdbNetwork, writeMmdb } from './testing/write-mmdb.ts';

describe('the bundled database', () => {
  let db: CountryDatabase;
  before(() => {
    db = openCountryDatabaseSync();
  });

  // Blocks registered for years to national registries, root-server operators and big networks, checked against
  // the shipped data (2026-06 build). If a data update moves one, pick another from the same kind of holder.
  const known: ReadonlyArray<[name: string, address: string, country: string]> = [
    ['Google Public DNS', '8.8.8.8', 'US'],
    ['RIPE NCC over IPv6', '2001:67c:2e8::1', 'NL'],
    ['K-root, run by the RIPE NCC', '193.0.14.129', 'NL'],
    ['Google in Frankfurt over IPv6', '2a00:1450:4001::1', 'DE'],
    ['NIC.br', '200.160.0.8', 'BR'],
    ['NIC.br over IPv6', '2001:12ff::8', 'BR'],
    ['SUNET, the Swedish university network', '130.237.0.1', 'SE'],
    ['M-root, run by WIDE', '202.12.27.33', 'JP'],
    ['bob abroad on a British ISP', '81.2.69.142', 'GB'],
    ['Strato, a German host', '85.214.0.1', 'DE'],
    ['Google Public DNS seen through a dual-stack socket', '::ffff:8.8.8.8', 'US'],
    ['the same, mapped form in hex', '::ffff:808:808', 'US'],
    ['a public IPv4 host behind a stateless NAT64 translator', '64:ff9b::8.8.8.8', 'US'],
  ];
  for (const [name, address, country] of known) {
    test(`${name} (${address}) is in ${country}`, () => assert.equal(db.country(address), country));
  }

  // The bundled data places some of these in a country (192.168.0.0/16 in AU, 2001:db8::/32 in JP): the short cut
  // is what keeps such data bugs out of policy decisions.
  const unknown: ReadonlyArray<[name: string, address: string]> = [
    ['alice at headquarters behind NAT', '192.168.1.20'],
    ['alice seen through a dual-stack socket', '::ffff:192.168.1.20'],
    ['carol on the office VPN', '10.8.0.5'],
    ['dave behind his carrier’s CGNAT', '100.64.12.34'],
    ['localhost', '127.0.0.1'],
    ['IPv6 localhost', '::1'],
    ['link-local', '169.254.1.1'],
    ['IPv6 link-local', 'fe80::1'],
    ['unique-local', 'fd00::1'],
    ['TEST-NET-1', '192.0.2.10'],
    ['TEST-NET-2', '198.51.100.10'],
    ['TEST-NET-3', '203.0.113.10'],
    ['IPv6 documentation', '2001:db8::1'],
    ['multicast', '224.0.0.251'],
    ['broadcast', '255.255.255.255'],
    ['IPv4 unspecified', '0.0.0.0'],
    ['IPv6 unspecified', '::'],
    ['empty text', ''],
    ['a hostname', 'example.com'],
    ['three octets', '8.8.8'],
    ['an octet over 255', '8.8.8.256'],
    ['with a port', '8.8.8.8:443'],
    ['with whitespace', ' 8.8.8.8'],
    ['with a zone id', 'fe80::1%eth0'],
    ['two ::', '2001::4860::8888'],
    ['a header injection attempt', '8.8.8.8\r\nX-Evil: 1'],
  ];
  for (const [name, address] of unknown) {
    test(`${name} (${JSON.stringify(address)}) is unknown`, () => assert.equal(db.country(address), undefined));
  }

  test('accepts a parsed Ip as well as text', () => {
    const google: Ip = { family: 4, value: 0x0808_0808 };
    const ripeV6: Ip = { family: 6, value: 0x2001_067c_02e8_0000_0000_0000_0000_0001n };
    const mapped: Ip = { family: 6, value: 0xffff_0808_0808n };
    const privateUse: Ip = { family: 4, value: 0x0a00_0001 };
    assert.equal(db.country(google), 'US');
    assert.equal(db.country(ripeV6), 'NL');
    assert.equal(db.country(mapped), 'US');
    assert.equal(db.country(privateUse), undefined);
  });

  test('can be handed to policy compilation unbound', () => {
    const { country } = db;
    const countryOf: (ip: Ip) => string | undefined = country;
    assert.equal(countryOf({ family: 4, value: 0x0808_0808 }), 'US');
  });

  test('describes itself for --help and logs', () => {
    const info = db.databaseInfo;
    assert.equal(info.path, bundledCountryDatabasePath());
    assert.match(info.path, /dbip-country\.mmdb$/);
    assert.equal(info.bundled, true);
    assert.equal(info.ipVersion, 6);
    assert.equal(info.databaseType, 'country ipvAll');
    assert.ok(info.buildEpoch.getTime() > Date.UTC(2024, 0, 1), String(info.buildEpoch));
    assert.match(info.attribution ?? '', /db-ip\.com.*CC BY 4\.0/);
    assert.ok(Object.isFrozen(info));
  });

  test('opens the same way asynchronously', async () => {
    const again = await openCountryDatabase();
    assert.equal(again.databaseInfo.path, db.databaseInfo.path);
    assert.equal(again.country('193.0.14.129'), 'NL');
  });
});

describe('an administrator’s own database', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'portcullis-geo-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function fixture(name: string, bytes: Buffer | string): string {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    return path;
  }

  // Shaped like GeoIP2/GeoLite2 Country records (github.com/maxmind/MaxMind-DB, test-data/GeoIP2-Country-Test.json).
  const maxmindShaped: readonly MmdbNetwork[] = [
    {
      prefix: '81.2.69.0/24',
      data: {
        continent: { code: 'EU', geoname_id: 6255148, names: { en: 'Europe' } },
        country: { geoname_id: 2635167, is_in_european_union: false, iso_code: 'GB', names: { en: 'United Kingdom' } },
        registered_country: { geoname_id: 3017382, iso_code: 'FR', names: { en: 'France' } },
      },
    },
    {
      prefix: '2a02:ff80::/32',
      data: { country: { iso_code: 'DE', names: { en: 'Germany' } }, registered_country: { iso_code: 'DE' } },
    },
    // An anycast block: MaxMind gives only the registered country.
    { prefix: '214.78.120.0/22', data: { registered_country: { iso_code: 'US', names: { en: 'United States' } } } },
    // Continent only, as MaxMind answers for some blocks it cannot narrow down.
    { prefix: '5.5.5.0/24', data: { continent: { code: 'EU', names: { en: 'Europe' } } } },
    // MaxMind uses the user-assigned XK for Kosovo; Graph accepts only assigned codes, so it stays unknown.
    { prefix: '31.204.128.0/24', data: { country: { iso_code: 'XK', names: { en: 'Kosovo' } } } },
    // A private block that a home-made database might carry: the short cut answers before the data is read.
    { prefix: '10.0.0.0/8', data: { country: { iso_code: 'CA' } } },
  ];

  const countryCodeShaped: readonly MmdbNetwork[] = [
    { prefix: '8.8.8.0/24', data: { country_code: 'US' } },
    { prefix: '81.2.69.0/24', data: { country_code: 'gb' } },
    { prefix: '5.5.5.0/24', data: { country_code: 'EU' } },
    { prefix: '6.6.6.0/24', data: { country_code: 42 } },
    { prefix: '7.7.7.0/24', data: { country_code: 'US', country: { iso_code: 'CA' } } },
  ];

  const cases: ReadonlyArray<{
    name: string;
    options: Parameters<typeof writeMmdb>[0];
    lookups: ReadonlyArray<[address: string, country: string | undefined]>;
  }> = [
    {
      name: 'GeoIP2-shaped records (country.iso_code) in an IPv6 tree',
      options: { databaseType: 'GeoLite2-Country', ipVersion: 6, recordSize: 24, networks: maxmindShaped },
      lookups: [
        ['81.2.69.142', 'GB'], // country wins over registered_country
        ['::ffff:81.2.69.142', 'GB'],
        ['2a02:ff80::1', 'DE'],
        ['214.78.120.1', 'US'], // falls back to registered_country
        ['5.5.5.5', undefined],
        ['31.204.128.1', undefined],
        ['10.1.2.3', undefined],
        ['9.9.9.9', undefined], // not covered
        ['2a03::1', undefined],
      ],
    },
    {
      name: 'country_code records in an IPv4-only tree with 28-bit records',
      options: { databaseType: 'ipinfo-country', ipVersion: 4, recordSize: 28, networks: countryCodeShaped },
      lookups: [
        ['8.8.8.8', 'US'],
        ['81.2.69.142', 'GB'], // lowercase in the data
        ['5.5.5.5', undefined], // EU is not a country
        ['6.6.6.6', undefined], // not a string
        ['7.7.7.7', 'US'], // country_code first
        ['::ffff:8.8.8.8', 'US'],
        ['2001:4860:4860::8888', undefined], // an IPv4-only tree has no IPv6 answers
        ['1.1.1.1', undefined],
      ],
    },
    {
      name: 'GeoIP2-shaped records in an IPv6 tree with 32-bit records',
      options: { databaseType: 'GeoIP2-Country', ipVersion: 6, recordSize: 32, networks: maxmindShaped },
      lookups: [
        ['81.2.69.1', 'GB'],
        ['2a02:ff80:1234::1', 'DE'],
      ],
    },
  ];
  for (const { name, options, lookups } of cases) {
    test(name, () => {
      const path = fixture(`${options.databaseType}-${options.recordSize}.mmdb`, writeMmdb(options));
      const db = openCountryDatabaseSync({ path });
      for (const [address, country] of lookups) assert.equal(db.country(address), country, address);
      assert.deepEqual(
        { ...db.databaseInfo },
        {
          path,
          databaseType: options.databaseType,
          buildEpoch: new Date(1_767_225_600_000),
          ipVersion: options.ipVersion,
          bundled: false,
          attribution: undefined,
        },
      );
    });
  }

  test('a database read into memory elsewhere', () => {
    const bytes = writeMmdb({ databaseType: 'GeoLite2-Country', networks: maxmindShaped });
    const db = countryDatabaseFromBuffer(bytes, 'from-config-store');
    assert.equal(db.country('81.2.69.142'), 'GB');
    assert.equal(db.databaseInfo.path, 'from-config-store');
  });
});

describe('opening a database that cannot be used', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'portcullis-geo-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const asnOnly = writeMmdb({
    databaseType: 'GeoLite2-ASN',
    networks: [
      { prefix: '8.8.8.0/24', data: { autonomous_system_number: 15169, autonomous_system_organization: 'GOOGLE' } },
    ],
  });
  const country = writeMmdb({
    databaseType: 'Test',
    networks: [{ prefix: '8.8.8.0/24', data: { country_code: 'US' } }],
  });

  // Every record of the tree then points far past the data section.
  function damaged(bytes: Buffer): Buffer {
    const copy = Buffer.from(bytes);
    copy.fill(0xff, 0, 64);
    return copy;
  }

  const cases: ReadonlyArray<[name: string, content: Buffer | string | undefined, problem: RegExp]> = [
    ['a file that does not exist', undefined, /^no such file$/],
    ['a text file', 'country,code\nFrance,FR\n', /^not a MaxMind DB \(MMDB\) file: it has no metadata section$/],
    ['an empty file', '', /^not a MaxMind DB \(MMDB\) file/],
    ['a gzip-compressed database', gzipSync(country), /gzip-compressed.*extract the \.mmdb file/],
    ['an ASN database', asnOnly, /^it has no country_code or country\.iso_code records — is it a Country database\?/],
    ['a database without networks', writeMmdb({ databaseType: 'Empty', networks: [] }), /^it contains no records$/],
    ['a database whose search tree is overwritten', damaged(country), /^not a valid MaxMind DB \(MMDB\) file: /],
  ];
  for (const [name, content, problem] of cases) {
    test(`${name}: the error names the path and the problem`, async () => {
      const path = join(dir, name.replaceAll(' ', '-'));
      if (content !== undefined) writeFileSync(path, content);
      for (const open of [() => openCountryDatabaseSync({ path }), () => openCountryDatabase({ path })]) {
        await assert.rejects(
          async () => open(),
          (error: unknown) => {
            assert.ok(error instanceof GeoDatabaseError, String(error));
            assert.equal(error.path, path);
            assert.match(error.problem, problem);
            assert.equal(error.message, `geo: cannot open country database '${path}': ${error.problem}`);
            return true;
          },
        );
      }
    });
  }

  test('a directory', () => {
    assert.throws(() => openCountryDatabaseSync({ path: dir }), {
      name: 'GeoDatabaseError',
      message: `geo: cannot open country database '${dir}': it is a directory, not an MMDB file`,
    });
  });
});
