// The keyring's typed failure: every decryption problem fails closed with a reason a caller can branch on and a
// message an operator can act on. Never carries key material or plaintext.

export type KeyringFailure =
  /** The master key given is not a 256-bit key (wrong length, not hex/base64, all zeros, …). */
  | 'invalid-master-key'
  /** The data keys were wrapped by a different master key than the one configured. */
  | 'wrong-master-key'
  /** The text is not a keyring ciphertext at all. */
  | 'malformed'
  /** The ciphertext names a data key version this tenant does not have. */
  | 'unknown-key-version'
  /** Authentication failed: the ciphertext was changed, or it belongs to another tenant or purpose. */
  | 'tampered';

export class KeyringError extends Error {
  override name = 'KeyringError';
  readonly reason: KeyringFailure;
  constructor(reason: KeyringFailure, message: string) {
    super(message);
    this.reason = reason;
  }
}
