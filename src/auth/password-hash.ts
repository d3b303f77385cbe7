// Password hashing with argon2id (Node's built-in crypto.argon2), stored as a standard PHC string so hashes move
// between systems and the cost can be raised later: verification reads the parameters from the stored string.

import { argon2, randomBytes, timingSafeEqual } from 'node:crypto';

export type Argon2Algorithm = 'argon2id' | 'argon2i' | 'argon2d';

/** Cost and sizes for a new hash. Memory is in KiB, as in the PHC string's `m=`. */
export type Argon2Params = {
  readonly memoryKiB: number;
  readonly passes: number;
  readonly parallelism: number;
  readonly saltBytes: number;
  readonly hashBytes: number;
};

/**
 * OWASP Password Storage Cheat Sheet: "Use Argon2id with a minimum configuration of 19 MiB of memory, an iteration
 * count of 2, and 1 degree of parallelism." Salt 16 bytes and tag 32 bytes, as RFC 9106 section 4 recommends
 * ("salt length of 128 bits", "tag length of 256 bits").
 */
export const OWASP_ARGON2ID: Argon2Params = Object.freeze({
  memoryKiB: 19456,
  passes: 2,
  parallelism: 1,
  saltBytes: 16,
  hashBytes: 32,
});

/**
 * Ceilings on what a stored hash may ask for. A hash is read from the database (or imported from another system)
 * and each sign-in attempt pays its cost, so a crafted `m=4194304` must not become a memory exhaustion.
 */
export type Argon2Limits = {
  readonly maxMemoryKiB: number;
  readonly maxPasses: number;
  readonly maxParallelism: number;
};

export const DEFAULT_ARGON2_LIMITS: Argon2Limits = Object.freeze({
  maxMemoryKiB: 262144,
  maxPasses: 16,
  maxParallelism: 16,
});

/** A stored hash that is not a PHC argon2 string we can verify; the message names the part that is wrong. */
export class PasswordHashFormatError extends Error {
  override readonly name = 'PasswordHashFormatError';
}

/** A parsed `$argon2id$v=19$m=…,t=…,p=…$salt$hash` string. */
export type ParsedPhc = {
  readonly algorithm: Argon2Algorithm;
  readonly version: number;
  readonly memoryKiB: number;
  readonly passes: number;
  readonly parallelism: number;
  readonly salt: Buffer;
  readonly hash: Buffer;
};

const ALGORITHMS: ReadonlySet<string> = new Set(['argon2id', 'argon2i', 'argon2d']);
// The PHC string format's B64: standard alphabet, no padding, so the length is never 1 modulo 4.
const B64 = /^[A-Za-z0-9+/]+$/;
const DECIMAL = /^(0|[1-9][0-9]{0,9})$/;

type Cost = { memoryKiB: number; passes: number; parallelism: number; tagLength: number };

function derive(algorithm: Argon2Algorithm, password: string, salt: Buffer, p: Cost): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    argon2(
      algorithm,
      {
        // NIST SP 800-63B 5.1.1.2: Unicode passwords SHOULD be normalised (NFKC or NFKD) before hashing, so the same
        // password typed on two keyboards gives the same hash.
        message: Buffer.from(password.normalize('NFKC'), 'utf8'),
        nonce: salt,
        memory: p.memoryKiB,
        passes: p.passes,
        parallelism: p.parallelism,
        tagLength: p.tagLength,
      },
      (err, key) => (err ? reject(err) : resolve(key)),
    );
  });
}

function b64(bytes: Buffer): string {
  return bytes.toString('base64').replace(/=+$/, '');
}

function decodeB64(field: string, text: string): Buffer {
  if (!B64.test(text) || text.length % 4 === 1) {
    throw new PasswordHashFormatError(
      `the ${field} '${text}' is not unpadded base64 as the PHC string format writes it`,
    );
  }
  return Buffer.from(text, 'base64');
}

function checkParams(p: Argon2Params): void {
  const integer = (name: string, value: number, min: number, max: number) => {
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new RangeError(`argon2 parameter '${name}' must be an integer from ${min} to ${max}, but it is ${value}`);
    }
  };
  integer('parallelism', p.parallelism, 1, 255);
  integer('memoryKiB', p.memoryKiB, 8 * p.parallelism, 4194304);
  integer('passes', p.passes, 1, 1000);
  integer('saltBytes', p.saltBytes, 16, 64);
  integer('hashBytes', p.hashBytes, 16, 64);
}

/** Hashes a password for storage: argon2id, a fresh random salt, the result as a PHC string. */
export async function hashPassword(password: string, params: Argon2Params = OWASP_ARGON2ID): Promise<string> {
  if (typeof password !== 'string') throw new TypeError('password must be a string');
  checkParams(params);
  const salt = randomBytes(params.saltBytes);
  const hash = await derive('argon2id', password, salt, { ...params, tagLength: params.hashBytes });
  return `$argon2id$v=19$m=${params.memoryKiB},t=${params.passes},p=${params.parallelism}$${b64(salt)}$${b64(hash)}`;
}

/** Parses a PHC argon2 string, naming the first part that is wrong. Only version 19 (Argon2 1.3) is accepted. */
export function parsePhc(phc: string, limits: Argon2Limits = DEFAULT_ARGON2_LIMITS): ParsedPhc {
  if (typeof phc !== 'string') throw new PasswordHashFormatError('the stored password hash is not a string');
  const fields = phc.split('$');
  // '', algorithm, v=19, m=…,t=…,p=…, salt, hash
  if (fields.length === 5 && fields[0] === '' && fields[2].startsWith('m=')) {
    throw new PasswordHashFormatError(
      "the stored password hash has no version 'v=19' after the algorithm: it is Argon2 1.0, which is not supported",
    );
  }
  if (fields.length !== 6 || fields[0] !== '') {
    throw new PasswordHashFormatError(
      `the stored password hash is not a PHC string '$argon2id$v=19$m=…,t=…,p=…$salt$hash' (it has ${fields.length - 1} '$'-separated fields, not 5)`,
    );
  }
  const [, algorithm, versionField, paramField, saltField, hashField] = fields;
  if (!ALGORITHMS.has(algorithm)) {
    throw new PasswordHashFormatError(`the algorithm '${algorithm}' is not argon2id, argon2i or argon2d`);
  }
  const version = /^v=(\d+)$/.exec(versionField);
  if (!version) {
    throw new PasswordHashFormatError(
      `the field after the algorithm must be the version 'v=19' but it is '${versionField}'`,
    );
  }
  if (version[1] !== '19') {
    throw new PasswordHashFormatError(`version ${version[1]} is not supported; only v=19 (Argon2 1.3) is`);
  }
  const params = paramField.split(',');
  const names = params.map((kv) => kv.split('=')[0]);
  if (names.join(',') !== 'm,t,p') {
    throw new PasswordHashFormatError(
      `the parameters must be 'm=…,t=…,p=…' in that order but they are '${paramField}'`,
    );
  }
  const values = params.map((kv, i) => {
    const value = kv.slice(2);
    if (!DECIMAL.test(value)) {
      throw new PasswordHashFormatError(`parameter '${names[i]}' is '${value}', which is not a decimal number`);
    }
    return Number(value);
  });
  const [memoryKiB, passes, parallelism] = values;
  if (parallelism < 1 || parallelism > limits.maxParallelism) {
    throw new PasswordHashFormatError(`parallelism p=${parallelism} is outside 1–${limits.maxParallelism}`);
  }
  if (passes < 1 || passes > limits.maxPasses) {
    throw new PasswordHashFormatError(`passes t=${passes} is outside 1–${limits.maxPasses}`);
  }
  if (memoryKiB < 8 * parallelism || memoryKiB > limits.maxMemoryKiB) {
    throw new PasswordHashFormatError(`memory m=${memoryKiB} KiB is outside ${8 * parallelism}–${limits.maxMemoryKiB}`);
  }
  const salt = decodeB64('salt', saltField);
  const hash = decodeB64('hash', hashField);
  if (salt.length < 8) throw new PasswordHashFormatError(`the salt is ${salt.length} bytes; argon2 needs at least 8`);
  if (hash.length < 4 || hash.length > 1024) {
    throw new PasswordHashFormatError(`the hash is ${hash.length} bytes; argon2 produces 4 to 1024`);
  }
  return { algorithm: algorithm as Argon2Algorithm, version: 19, memoryKiB, passes, parallelism, salt, hash };
}

/**
 * Whether `password` matches the stored PHC string. Compares in constant time. Throws PasswordHashFormatError when
 * the stored string is malformed or asks for more than `limits` allow; the caller treats that as a failed sign-in.
 */
export async function verifyPassword(
  phc: string,
  password: string,
  limits: Argon2Limits = DEFAULT_ARGON2_LIMITS,
): Promise<boolean> {
  const parsed = parsePhc(phc, limits);
  if (typeof password !== 'string') return false;
  const actual = await derive(parsed.algorithm, password, parsed.salt, { ...parsed, tagLength: parsed.hash.length });
  return timingSafeEqual(actual, parsed.hash);
}

/**
 * Spends the same time as verifying `password` against `phc` (or against a hash with `params` when there is no
 * stored hash), without looking at the stored hash. For locked-out accounts and unknown users, so the response
 * time does not tell whether the account exists or the password was right.
 */
export async function burnVerificationTime(
  password: string,
  phc?: string,
  params: Argon2Params = OWASP_ARGON2ID,
): Promise<void> {
  let cost: Cost = {
    memoryKiB: params.memoryKiB,
    passes: params.passes,
    parallelism: params.parallelism,
    tagLength: 32,
  };
  let algorithm: Argon2Algorithm = 'argon2id';
  if (phc !== undefined) {
    try {
      const parsed = parsePhc(phc);
      cost = { ...parsed, tagLength: parsed.hash.length };
      algorithm = parsed.algorithm;
    } catch {
      // A malformed stored hash would fail verification quickly; the default cost is the better disguise.
    }
  }
  await derive(algorithm, typeof password === 'string' ? password : '', randomBytes(16), cost);
}

/**
 * Whether a stored hash was made with other parameters than `target` (another algorithm, cost, salt or hash size),
 * so the sign-in that just verified it should store a fresh hash. Any difference counts, as in argon2-cffi's
 * `check_needs_rehash`: lowering the configured cost is a deliberate choice too. A malformed hash needs a rehash.
 */
export function needsRehash(phc: string, target: Argon2Params = OWASP_ARGON2ID): boolean {
  let parsed: ParsedPhc;
  try {
    parsed = parsePhc(phc, {
      maxMemoryKiB: Number.MAX_SAFE_INTEGER,
      maxPasses: Number.MAX_SAFE_INTEGER,
      maxParallelism: Number.MAX_SAFE_INTEGER,
    });
  } catch {
    return true;
  }
  return (
    parsed.algorithm !== 'argon2id' ||
    parsed.memoryKiB !== target.memoryKiB ||
    parsed.passes !== target.passes ||
    parsed.parallelism !== target.parallelism ||
    parsed.salt.length !== target.saltBytes ||
    parsed.hash.length !== target.hashBytes
  );
}
