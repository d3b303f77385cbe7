// TOTP (RFC 6238) second factor with otplib: secrets, the otpauth:// enrolment URI and its QR code, and verification
// with a ±1 step window that refuses a code already accepted (replay), by returning the time step the caller stores.

import { generate, generateSecret, generateURI, verify } from 'otplib';
import QRCode from 'qrcode';

/** What authenticator apps expect (Google Authenticator's key URI format): SHA-1, 6 digits, 30-second steps. */
export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;
/** RFC 6238 section 5.2 allows "at most one time step" of network delay; we accept one step either side. */
export const TOTP_WINDOW_STEPS = 1;
/** RFC 4226 section 4 asks for 160-bit shared secrets ("RECOMMENDED"); authenticator apps take 20 bytes well. */
export const TOTP_SECRET_BYTES = 20;

export type TotpAlgorithm = 'sha1' | 'sha256' | 'sha512';

/** Knobs the RFC allows; users always get the defaults above, tests use the RFC's own 8-digit vectors. */
export type TotpOptions = {
  readonly algorithm?: TotpAlgorithm;
  readonly digits?: 6 | 7 | 8;
  readonly periodSeconds?: number;
};

/** A secret as authenticator apps read it: Base32 text (RFC 4648), or the raw bytes. */
export type TotpSecret = string | Uint8Array;

/** A new random 160-bit secret, Base32-encoded (32 characters) for the URI and for manual entry. */
export function generateTotpSecret(): string {
  return generateSecret({ length: TOTP_SECRET_BYTES });
}

/**
 * The `otpauth://totp/Issuer:account?secret=…&issuer=Issuer` URI (Google Authenticator's key URI format) that
 * authenticator apps read from the QR code. The issuer appears both as the label prefix and as the parameter, as
 * that format recommends, so every app shows it.
 */
export function totpUri(input: { secret: string; issuer: string; accountName: string }): string {
  if (!input.issuer || input.issuer.includes(':')) {
    throw new TypeError(`TOTP issuer must be non-empty and contain no ':' but it is '${input.issuer}'`);
  }
  if (!input.accountName || input.accountName.includes(':')) {
    throw new TypeError(`TOTP account name must be non-empty and contain no ':' but it is '${input.accountName}'`);
  }
  return generateURI({ issuer: input.issuer, label: input.accountName, secret: input.secret });
}

/** The enrolment QR code as an SVG document, to embed in the enrolment page. */
export function totpQrSvg(uri: string): Promise<string> {
  // Error correction M: what authenticator enrolment pages commonly use; the URI stays well inside version 10.
  return QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
}

/** The enrolment QR code as a `data:image/png;base64,…` URL, for an <img> without a separate request. */
export function totpQrDataUrl(uri: string): Promise<string> {
  return QRCode.toDataURL(uri, { errorCorrectionLevel: 'M', margin: 2 });
}

/** The code for `timeMs` (milliseconds since the epoch). For tests and for showing what an app should display. */
export function totpCodeAt(secret: TotpSecret, timeMs: number, options: TotpOptions = {}): Promise<string> {
  return generate({
    secret,
    epoch: Math.floor(timeMs / 1000),
    algorithm: options.algorithm ?? 'sha1',
    digits: options.digits ?? TOTP_DIGITS,
    period: options.periodSeconds ?? TOTP_PERIOD_SECONDS,
  });
}

/** The RFC 6238 time step T = floor((unix time − T0) / X) for `timeMs`, with T0 = 0. */
export function totpStepAt(timeMs: number, periodSeconds: number = TOTP_PERIOD_SECONDS): number {
  return Math.floor(Math.floor(timeMs / 1000) / periodSeconds);
}

export type TotpVerification =
  /** `step` is the time step the code belongs to: store it as the user's `lastUsedStep`. */
  | { readonly ok: true; readonly step: number; readonly driftSteps: number }
  | {
      readonly ok: false;
      /**
       * `malformed`: not a code of the right number of digits. `invalid`: no match in the window. `replayed`: it
       * matches a step at or before `lastUsedStep`, i.e. it (or a later code) was already accepted.
       */
      readonly reason: 'malformed' | 'invalid' | 'replayed';
    };

/** Accepts what people type: spaces and dashes between digit groups ("123 456") are ignored. */
export function normaliseTotpInput(input: string): string {
  return input.replace(/[\s-]/g, '');
}

/**
 * Verifies a code at `nowMs` within ±1 step. A code whose step is at or before `lastUsedStep` is refused as
 * `replayed`: a code can be used once, and no earlier code after a later one. On success the caller must store the
 * returned step as the new `lastUsedStep` atomically (compare-and-set: only if it is still below that step), so two
 * requests racing with the same code cannot both win.
 */
export async function verifyTotp(input: {
  secret: TotpSecret;
  code: string;
  nowMs: number;
  lastUsedStep: number | null;
  options?: TotpOptions;
}): Promise<TotpVerification> {
  const digits = input.options?.digits ?? TOTP_DIGITS;
  const code = typeof input.code === 'string' ? normaliseTotpInput(input.code) : '';
  if (!new RegExp(`^[0-9]{${digits}}$`).test(code)) return { ok: false, reason: 'malformed' };
  const period = input.options?.periodSeconds ?? TOTP_PERIOD_SECONDS;
  const common = {
    secret: input.secret,
    token: code,
    epoch: Math.floor(input.nowMs / 1000),
    epochTolerance: TOTP_WINDOW_STEPS * period,
    algorithm: input.options?.algorithm ?? 'sha1',
    digits,
    period,
  } as const;
  const fresh =
    input.lastUsedStep === null ? await verify(common) : await verify({ ...common, afterTimeStep: input.lastUsedStep });
  if (fresh.valid) {
    // delta is the matched step relative to the current one (RFC 6238 T = floor(unix time / X), T0 = 0).
    return { ok: true, step: totpStepAt(input.nowMs, period) + fresh.delta, driftSteps: fresh.delta };
  }
  // Only to tell a replay from a wrong code in the sign-in log; both are refused.
  if (input.lastUsedStep !== null && (await verify(common)).valid) return { ok: false, reason: 'replayed' };
  return { ok: false, reason: 'invalid' };
}
