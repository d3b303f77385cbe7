// A software WebAuthn authenticator plus the browser's part of the ceremony, for tests: it answers the options the
// server sends with attestation and assertion responses built byte for byte as WebAuthn Level 3 specifies.

import { createHash, createPrivateKey, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';

// --- a minimal CBOR encoder (RFC 8949), independent of the library under test ---------------------------------------

type Cbor = number | string | Uint8Array | Map<number | string, Cbor>;

function head(major: number, length: number): Buffer {
  if (length < 24) return Buffer.from([(major << 5) | length]);
  if (length < 0x100) return Buffer.from([(major << 5) | 24, length]);
  if (length < 0x10000) return Buffer.from([(major << 5) | 25, length >> 8, length & 0xff]);
  const b = Buffer.alloc(5);
  b[0] = (major << 5) | 26;
  b.writeUInt32BE(length, 1);
  return b;
}

/** Encodes integers, text, byte strings and maps, keeping map keys in the order given (CTAP2 canonical order). */
export function encodeCbor(value: Cbor): Buffer {
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new TypeError('only integers');
    return value >= 0 ? head(0, value) : head(1, -1 - value);
  }
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return Buffer.concat([head(3, bytes.length), bytes]);
  }
  if (value instanceof Uint8Array) return Buffer.concat([head(2, value.length), value]);
  const parts: Buffer[] = [head(5, value.size)];
  for (const [k, v] of value) parts.push(encodeCbor(k), encodeCbor(v));
  return Buffer.concat(parts);
}

// --- the authenticator -----------------------------------------------------------------------------------------------

const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest();

/** Authenticator data flags (WebAuthn Level 3 section 6.1). */
const UP = 0x01;
const UV = 0x04;
const BE = 0x08;
const BS = 0x10;
const AT = 0x40;

type StoredKey = { privateKey: KeyObject; rpId: string; userHandle: string; signCount: number };

export type SoftAuthenticatorOptions = {
  /** The page origin the "browser" reports in clientDataJSON. */
  origin: string;
  /** Whether the authenticator verifies the user (sets UV). Default true, as a platform passkey does. */
  userVerification?: boolean;
  /** Whether it keeps a signature counter (security keys) or always reports 0 (synced passkeys). Default true. */
  counter?: boolean;
  /** Whether credentials are backed up (synced passkeys set BE and BS). Default false. */
  backedUp?: boolean;
  /** AAGUID of this model; all zeros by default, as many authenticators send with `none` attestation. */
  aaguid?: Uint8Array;
};

type CreationOptions = {
  challenge: string;
  rp: { id?: string; name: string };
  user: { id: string; name: string; displayName: string };
  pubKeyCredParams: { alg: number; type: string }[];
  excludeCredentials?: { id: string }[];
};

type RequestOptions = {
  challenge: string;
  rpId?: string;
  allowCredentials?: { id: string }[];
};

export class SoftAuthenticator {
  readonly #keys: Map<string, StoredKey>;
  readonly #options: Required<SoftAuthenticatorOptions>;

  constructor(options: SoftAuthenticatorOptions, keys?: Map<string, StoredKey>) {
    this.#options = {
      userVerification: true,
      counter: true,
      backedUp: false,
      aaguid: new Uint8Array(16),
      ...options,
    };
    this.#keys = keys ?? new Map();
  }

  /**
   * A second authenticator holding copies of the same private keys and counters: what an attacker's clone is. With
   * `options`, it also behaves differently, e.g. reports another origin, as a browser on a phishing page would.
   */
  clone(options: Partial<SoftAuthenticatorOptions> = {}): SoftAuthenticator {
    const copies = new Map<string, StoredKey>();
    for (const [id, key] of this.#keys) {
      copies.set(id, {
        ...key,
        privateKey: createPrivateKey(key.privateKey.export({ format: 'pem', type: 'pkcs8' })),
      });
    }
    return new SoftAuthenticator({ ...this.#options, ...options }, copies);
  }

  /** The ids of the credentials this authenticator holds. */
  credentialIds(): string[] {
    return [...this.#keys.keys()];
  }

  #flags(extra: number): number {
    let flags = UP | extra;
    if (this.#options.userVerification) flags |= UV;
    if (this.#options.backedUp) flags |= BE | BS;
    return flags;
  }

  #clientData(type: 'webauthn.create' | 'webauthn.get', challenge: string): Buffer {
    return Buffer.from(JSON.stringify({ type, challenge, origin: this.#options.origin, crossOrigin: false }), 'utf8');
  }

  /** navigator.credentials.create(): makes an ES256 (P-256) key pair and a `none` attestation. */
  create(options: CreationOptions) {
    const rpId = options.rp.id ?? new URL(this.#options.origin).hostname;
    if (!options.pubKeyCredParams.some((p) => p.alg === -7)) throw new Error('the RP does not accept ES256');
    if (options.excludeCredentials?.some((c) => this.#keys.has(c.id))) {
      throw new Error('InvalidStateError: this authenticator already holds an excluded credential');
    }
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' });
    // COSE_Key for ES256 (RFC 9053): kty 2 (EC2), alg -7, crv 1 (P-256), x, y.
    const coseKey = encodeCbor(
      new Map<number, Cbor>([
        [1, 2],
        [3, -7],
        [-1, 1],
        [-2, Buffer.from(jwk.x!, 'base64url')],
        [-3, Buffer.from(jwk.y!, 'base64url')],
      ]),
    );
    const credentialId = randomBytes(32);
    const id = credentialId.toString('base64url');
    const signCount = 0;
    const credLength = Buffer.alloc(2);
    credLength.writeUInt16BE(credentialId.length);
    const authData = Buffer.concat([
      sha256(rpId),
      Buffer.from([this.#flags(AT)]),
      u32(signCount),
      this.#options.aaguid,
      credLength,
      credentialId,
      coseKey,
    ]);
    this.#keys.set(id, { privateKey, rpId, userHandle: options.user.id, signCount });
    const attestationObject = encodeCbor(
      new Map<string, Cbor>([
        ['fmt', 'none'],
        ['attStmt', new Map()],
        ['authData', authData],
      ]),
    );
    return {
      id,
      rawId: id,
      type: 'public-key' as const,
      authenticatorAttachment: 'platform' as const,
      clientExtensionResults: {},
      response: {
        clientDataJSON: this.#clientData('webauthn.create', options.challenge).toString('base64url'),
        attestationObject: attestationObject.toString('base64url'),
        transports: ['internal' as const],
      },
    };
  }

  /**
   * navigator.credentials.get(): signs authenticatorData ‖ SHA-256(clientDataJSON) with the credential's key
   * (ECDSA, DER-encoded as WebAuthn requires). `credentialId` picks one when several match.
   */
  get(options: RequestOptions, credentialId?: string) {
    const rpId = options.rpId ?? new URL(this.#options.origin).hostname;
    const allowed = options.allowCredentials?.map((c) => c.id);
    const candidates = [...this.#keys.entries()].filter(
      ([id, key]) => key.rpId === rpId && (allowed === undefined || allowed.includes(id)),
    );
    const chosen = credentialId === undefined ? candidates[0] : candidates.find(([id]) => id === credentialId);
    if (!chosen) throw new Error('NotAllowedError: no credential for this RP on this authenticator');
    const [id, key] = chosen;
    if (this.#options.counter) key.signCount += 1;
    const authData = Buffer.concat([sha256(rpId), Buffer.from([this.#flags(0)]), u32(key.signCount)]);
    const clientDataJSON = this.#clientData('webauthn.get', options.challenge);
    const signature = sign('sha256', Buffer.concat([authData, sha256(clientDataJSON)]), {
      key: key.privateKey,
      dsaEncoding: 'der',
    });
    return {
      id,
      rawId: id,
      type: 'public-key' as const,
      authenticatorAttachment: 'platform' as const,
      clientExtensionResults: {},
      response: {
        clientDataJSON: clientDataJSON.toString('base64url'),
        authenticatorData: authData.toString('base64url'),
        signature: signature.toString('base64url'),
        userHandle: key.userHandle,
      },
    };
  }

  /** Sets a credential's counter, to replay an old state. */
  setSignCount(credentialId: string, signCount: number): void {
    const key = this.#keys.get(credentialId);
    if (!key) throw new Error(`no credential '${credentialId}'`);
    key.signCount = signCount;
  }
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}
