// The configured master key (it wraps every tenant's data keys): 32 bytes written as base64 or hex, kept out of logs,
// JSON and error messages, and handed out only as a fresh copy.

import { inspect } from 'node:util';

export const MASTER_KEY_BYTES = 32;

const HEX = /^[0-9a-fA-F]{64}$/;
// 32 bytes are 43 base64 characters and one '=' of padding; standard and URL-safe alphabets, padding optional.
const BASE64 = /^[A-Za-z0-9+/]{43}=?$/;
const BASE64URL = /^[A-Za-z0-9_-]{43}=?$/;

export class MasterKey {
  readonly #bytes: Buffer;

  constructor(bytes: Uint8Array) {
    if (bytes.length !== MASTER_KEY_BYTES) {
      throw new RangeError(`a master key is ${MASTER_KEY_BYTES} bytes, not ${bytes.length}`);
    }
    this.#bytes = Buffer.from(bytes);
  }

  /** Reads the configured text; returns the key, or why the text is not one (never quoting the text). */
  static parse(text: string): MasterKey | string {
    const trimmed = text.trim();
    let bytes: Buffer;
    if (HEX.test(trimmed)) bytes = Buffer.from(trimmed, 'hex');
    else if (BASE64.test(trimmed)) bytes = Buffer.from(trimmed, 'base64');
    else if (BASE64URL.test(trimmed)) bytes = Buffer.from(trimmed, 'base64url');
    else return describeBadLength(trimmed);
    // A key that is one byte repeated (all zeros from a template, say) is a placeholder, not a secret.
    if (bytes.every((b) => b === bytes[0]))
      return 'it is one byte repeated, which is a placeholder rather than a random key';
    return new MasterKey(bytes);
  }

  /** A copy of the key; callers may wipe it when done without harming the configuration. */
  bytes(): Buffer {
    return Buffer.from(this.#bytes);
  }

  toJSON(): string {
    return '[redacted]';
  }

  toString(): string {
    return '[redacted]';
  }

  [inspect.custom](): string {
    return 'MasterKey [redacted]';
  }
}

function describeBadLength(text: string): string {
  if (/^[0-9a-fA-F]+$/.test(text)) return `it has ${text.length} hex digits`;
  if (/^[A-Za-z0-9+/_-]+=*$/.test(text)) return `it has ${text.length} characters`;
  return 'it contains characters that are neither hex nor base64';
}
