// Benchmark of one ID-token signature, the floor under a refresh-token grant's CPU: every refresh signs a new ID token
// (OpenID Connect wants its `iat` to be the time of the refresh). RS256 with a 2048-bit key and ES256 (P-256), each
// through Node's three interfaces: `crypto.sign` (synchronous, on the main thread), its callback form and WebCrypto's
// `subtle.sign` (both on a libuv thread; jose, and so oidc-provider, use WebCrypto). CPU of the whole process per
// signature, one at a time, after a warm-up.
// Run: `npx node bench/signature.bench.ts` (also part of `npm run bench`). BENCH_SIGNATURES (default 1500) sets the
// signatures per row.
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';

export type SigningAlgorithm = 'RS256' | 'ES256';
export type SigningInterface = 'crypto.sign' | 'crypto.sign (callback)' | 'subtle.sign';

export interface SignatureRow {
  readonly alg: SigningAlgorithm;
  readonly via: SigningInterface;
  readonly signatures: number;
  /** Process CPU (all threads) per signature, in milliseconds. */
  readonly cpuMs: number;
  readonly perCoreSecond: number;
}

/** An ID token's signing input is about this long: header and claims, base64url. */
const SIGNING_INPUT = Buffer.alloc(600, 'e');

function keysFor(alg: SigningAlgorithm): KeyObject {
  return alg === 'RS256'
    ? generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
    : generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
}

async function signerFor(alg: SigningAlgorithm, via: SigningInterface, key: KeyObject): Promise<() => unknown> {
  // ES256 in a JWS is the raw r‖s pair (IEEE P1363), as WebCrypto gives it.
  const options = alg === 'RS256' ? key : { key, dsaEncoding: 'ieee-p1363' as const };
  if (via === 'crypto.sign') return () => sign('sha256', SIGNING_INPUT, options);
  if (via === 'crypto.sign (callback)') {
    return () =>
      new Promise((resolve, reject) =>
        sign('sha256', SIGNING_INPUT, options, (error, signature) => (error ? reject(error) : resolve(signature))),
      );
  }
  const algorithm =
    alg === 'RS256'
      ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }
      : ({ name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const);
  const cryptoKey = await crypto.subtle.importKey('jwk', key.export({ format: 'jwk' }), algorithm, false, ['sign']);
  return () => crypto.subtle.sign(algorithm, cryptoKey, SIGNING_INPUT);
}

export async function benchSignature(count = Number(process.env.BENCH_SIGNATURES ?? 1500)): Promise<SignatureRow[]> {
  if (!Number.isInteger(count) || count < 1) throw new Error(`BENCH_SIGNATURES: ${count} is not a count`);
  const rows: SignatureRow[] = [];
  for (const alg of ['RS256', 'ES256'] as const) {
    const key = keysFor(alg);
    for (const via of ['crypto.sign', 'crypto.sign (callback)', 'subtle.sign'] as const) {
      const signOnce = await signerFor(alg, via, key);
      for (let i = 0; i < 100; i++) await signOnce();
      const started = process.cpuUsage();
      for (let i = 0; i < count; i++) await signOnce();
      const used = process.cpuUsage(started);
      const cpuMs = (used.user + used.system) / 1000 / count;
      rows.push({ alg, via, signatures: count, cpuMs, perCoreSecond: 1000 / cpuMs });
    }
  }
  return rows;
}

export function formatSignature(rows: readonly SignatureRow[]): string {
  return [
    '| algorithm | interface | signatures | CPU ms per signature | signatures per core-second |',
    '|---|---|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.alg} | \`${r.via}\` | ${r.signatures.toLocaleString('en')} | ${r.cpuMs.toFixed(3)} | ` +
        `${Math.round(r.perCoreSecond).toLocaleString('en')} |`,
    ),
  ].join('\n');
}

if (import.meta.main) console.log(formatSignature(await benchSignature()));
