// Single-use recovery codes: 10 random codes of 80 bits in groups people can read aloud and type, stored only as
// hashes and compared in constant time.

import { createHash, randomInt, timingSafeEqual } from 'node:crypto';

export const RECOVERY_CODE_COUNT = 10;
/** Crockford's Base32 alphabet: digits and lower-case letters without i, l, o and u, so nothing looks alike. */
export const RECOVERY_CODE_ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const GROUPS = 4;
const GROUP_LENGTH = 4;
const CODE_LENGTH = GROUPS * GROUP_LENGTH;
/** 16 characters of 5 bits each. */
export const RECOVERY_CODE_BITS = CODE_LENGTH * 5;

/** One stored code: only its hash. `usedAt` is set once it has been used (milliseconds since the epoch). */
export type StoredRecoveryCode = { readonly id: string; readonly hash: string; readonly usedAt: number | null };

/** A fresh set: `codes` to show the user once, `stored` for the database. */
export type RecoveryCodeSet = { readonly codes: readonly string[]; readonly stored: readonly StoredRecoveryCode[] };

/** `xxxx-xxxx-xxxx-xxxx` with a uniformly random character from the alphabet in each place (crypto.randomInt). */
export function generateRecoveryCode(): string {
  let raw = '';
  for (let i = 0; i < CODE_LENGTH; i++) raw += RECOVERY_CODE_ALPHABET[randomInt(RECOVERY_CODE_ALPHABET.length)];
  return formatRecoveryCode(raw);
}

function formatRecoveryCode(raw: string): string {
  const groups: string[] = [];
  for (let i = 0; i < raw.length; i += GROUP_LENGTH) groups.push(raw.slice(i, i + GROUP_LENGTH));
  return groups.join('-');
}

/**
 * Reads a code as a person may type it: any case, with or without spaces and dashes, and with the letters Crockford's
 * Base32 folds (o → 0, i and l → 1). Returns the 16 bare characters, or null when it cannot be a recovery code.
 */
export function normaliseRecoveryCode(input: string): string | null {
  if (typeof input !== 'string') return null;
  const bare = input.toLowerCase().replace(/[\s-]/g, '').replace(/o/g, '0').replace(/[il]/g, '1');
  if (bare.length !== CODE_LENGTH) return null;
  for (const ch of bare) if (!RECOVERY_CODE_ALPHABET.includes(ch)) return null;
  return bare;
}

/**
 * SHA-256 over a domain tag, the user id and the normalised code. A fast hash is enough here, unlike for passwords:
 * the code is 80 bits from a CSPRNG, not chosen by a person, so there is no dictionary to try and an exhaustive
 * search needs about 2^79 hashes per code (centuries on any GPU farm). Mixing in the user id stops one search from
 * attacking every user's codes at once.
 */
export function hashRecoveryCode(userId: string, normalisedCode: string): string {
  return createHash('sha256').update(`portcullis recovery code v1\0${userId}\0${normalisedCode}`).digest('hex');
}

/** Ten new codes for `userId`; show `codes` once and store `stored`, replacing any previous set. */
export function generateRecoveryCodes(userId: string, count: number = RECOVERY_CODE_COUNT): RecoveryCodeSet {
  const codes: string[] = [];
  const seen = new Set<string>();
  while (codes.length < count) {
    const code = generateRecoveryCode();
    if (seen.has(code)) continue;
    seen.add(code);
    codes.push(code);
  }
  const stored = codes.map((code, i) => ({
    id: String(i + 1),
    hash: hashRecoveryCode(userId, normaliseRecoveryCode(code)!),
    usedAt: null,
  }));
  return { codes, stored };
}

export type RecoveryCodeCheck =
  /** `id` names the stored code to mark used (atomically: only if it is still unused). */
  | { readonly ok: true; readonly id: string; readonly remaining: number }
  | { readonly ok: false; readonly reason: 'malformed' | 'no-match' | 'already-used' };

/**
 * Finds which stored code `input` is. Every stored hash is compared, in constant time and without stopping at the
 * first match, so the time does not tell which code matched or how many are left.
 */
export function checkRecoveryCode(
  userId: string,
  input: string,
  stored: readonly StoredRecoveryCode[],
): RecoveryCodeCheck {
  const code = normaliseRecoveryCode(input);
  if (code === null) return { ok: false, reason: 'malformed' };
  const candidate = Buffer.from(hashRecoveryCode(userId, code), 'hex');
  let match: StoredRecoveryCode | undefined;
  for (const entry of stored) {
    const hash = Buffer.from(entry.hash, 'hex');
    const equal = hash.length === candidate.length && timingSafeEqual(hash, candidate);
    if (equal && match === undefined) match = entry;
  }
  if (match === undefined) return { ok: false, reason: 'no-match' };
  if (match.usedAt !== null) return { ok: false, reason: 'already-used' };
  const remaining = stored.filter((entry) => entry.usedAt === null).length - 1;
  return { ok: true, id: match.id, remaining };
}
