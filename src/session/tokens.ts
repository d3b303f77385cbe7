// The two browser secrets of a session — the session id (session cookie) and the binding secret (binding cookie) —
// and their hashes: 256 random bits each, base64url; the store keeps only SHA-256 of each.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** 32 bytes in base64url without padding. */
const TOKEN = /^[A-Za-z0-9_-]{43}$/;
const TOKEN_BYTES = 32;

/** A fresh 256-bit secret, base64url. */
export function newToken(): string {
  return randomBytes(TOKEN_BYTES).toString('base64url');
}

/** Whether a cookie value has the shape of one of our tokens (checked before any hashing or store read). */
export function isTokenShaped(value: unknown): value is string {
  return typeof value === 'string' && TOKEN.test(value);
}

/**
 * SHA-256 of a token, base64url: what the store keeps and what logs and the admin API may show. A plain hash, not a
 * slow one or an HMAC, suffices: the token is 256 random bits, so the hash cannot be reversed by guessing.
 */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/** SHA-256 of a token as bytes, for the constant-time comparison. */
export function hashTokenBytes(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/**
 * Whether `presented` (the binding cookie, possibly missing or malformed) hashes to `storedHash` (32 bytes),
 * compared in constant time: always one hash and one 32-byte comparison, whatever was presented.
 */
export function bindingMatches(presented: unknown, storedHash: Buffer): boolean {
  const candidate = hashTokenBytes(typeof presented === 'string' ? presented : '');
  return storedHash.length === candidate.length && timingSafeEqual(candidate, storedHash) && isTokenShaped(presented);
}
