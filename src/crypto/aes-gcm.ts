// AES-256-GCM sealing with node:crypto: a fresh 96-bit random IV per message (NIST SP 800-38D §8.2.2), the 128-bit
// tag appended, and associated data that binds the ciphertext to where it belongs.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export const KEY_BYTES = 32;
export const IV_BYTES = 12;
export const TAG_BYTES = 16;

export interface Sealed {
  readonly iv: Buffer;
  /** Ciphertext followed by the authentication tag. */
  readonly data: Buffer;
}

export function seal(key: Uint8Array, plaintext: Uint8Array, aad: string): Sealed {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const data = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return { iv, data };
}

/** Returns the plaintext, or undefined when the tag does not verify (changed data, wrong key, wrong AAD). */
export function open(key: Uint8Array, sealed: Sealed, aad: string): Buffer | undefined {
  if (sealed.iv.length !== IV_BYTES || sealed.data.length < TAG_BYTES) return undefined;
  const tagAt = sealed.data.length - TAG_BYTES;
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(sealed.data.subarray(tagAt));
  try {
    return Buffer.concat([decipher.update(sealed.data.subarray(0, tagAt)), decipher.final()]);
  } catch {
    return undefined;
  }
}
