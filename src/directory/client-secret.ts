// Client secrets for confidential OIDC clients: 256 random bits, shown once, stored only as a SHA-256 hash. A slow
// password hash buys nothing for a secret with that much entropy; SHA-256 is what high-entropy tokens use.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export interface NewSecret {
  /** The secret to hand to the client, once. */
  readonly secret: string;
  /** What to store: base64url SHA-256 of the secret. */
  readonly hash: string;
  /** Graph's `hint`: the first three characters, to tell secrets apart in a list. */
  readonly hint: string;
}

export function hashClientSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('base64url');
}

export function generateClientSecret(): NewSecret {
  const secret = randomBytes(32).toString('base64url');
  return { secret, hash: hashClientSecret(secret), hint: secret.slice(0, 3) };
}

/** Compares in constant time (over the digests, which have a fixed length whatever the input). */
export function secretMatches(secret: string, hash: string): boolean {
  const presented = createHash('sha256').update(secret, 'utf8').digest();
  const stored = Buffer.from(hash, 'base64url');
  return stored.length === presented.length && timingSafeEqual(presented, stored);
}
