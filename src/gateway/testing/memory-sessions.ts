// An in-memory GatewaySessions for tests ONLY: one cookie, a Map, an absolute limit and revocation, nothing stored.
// The real implementation is the session module (src/session/: store-backed sessions, browser binding, inactivity),
// wired in by the composition root; this stand-in keeps the gateway's tests independent of it.
import { randomBytes } from 'node:crypto';
import type { EstablishedSession, GatewaySessionCheck, GatewaySessions } from '../ports.ts';

interface MemorySession {
  readonly tenantId: string;
  readonly userId: string;
  readonly amr: readonly string[];
  readonly authTime: number;
  readonly createdAt: number;
  revoked: boolean;
}

export interface MemorySessionsOptions {
  /** `Domain=` of the cookie (one sign-in for every host under it); host-only when absent. */
  readonly cookieDomain?: string;
  /** https: the cookie is Secure and named with the `__Secure-` prefix. */
  readonly secure?: boolean;
  /** Absolute session length; default 8 hours. */
  readonly maxAgeMs?: number;
}

export class MemoryGatewaySessions implements GatewaySessions {
  readonly cookieName: string;
  readonly #options: MemorySessionsOptions;
  readonly #maxAgeMs: number;
  readonly #sessions = new Map<string, MemorySession>();
  /** Every check, in order (tests look at what the gateway asked). */
  readonly checks: { tenantId: string; live: boolean }[] = [];
  /** The tenant switch continuous location enforcement, for tests to turn on. */
  strictLocation = false;

  constructor(options: MemorySessionsOptions = {}) {
    this.#options = options;
    this.#maxAgeMs = options.maxAgeMs ?? 8 * 60 * 60_000;
    this.cookieName = `${options.secure ? '__Secure-' : ''}portcullis-gw-session`;
  }

  async continuousLocationEnforcement(_tenantId: string): Promise<boolean> {
    return this.strictLocation;
  }

  async check(tenantId: string, cookieHeader: string | undefined, now: number): Promise<GatewaySessionCheck> {
    const token = this.#token(cookieHeader);
    const session = token === undefined ? undefined : this.#sessions.get(token);
    let result: GatewaySessionCheck;
    if (token === undefined || (session?.tenantId !== undefined && session.tenantId !== tenantId)) {
      // No cookie, or another tenant's session: nothing of this tenant's to end.
      result = { live: false, reason: 'none' };
    } else if (session === undefined) {
      // A cookie that names no session (forgotten, or never issued here).
      result = { live: false, reason: 'ended' };
    } else if (session.revoked || now >= session.createdAt + this.#maxAgeMs) {
      result = { live: false, reason: 'ended' };
    } else {
      result = {
        live: true,
        userId: session.userId,
        amr: session.amr,
        mfa: session.amr.includes('mfa'),
        authTime: session.authTime,
        handle: `memory:${token}`,
      };
    }
    this.checks.push({ tenantId, live: result.live });
    return result;
  }

  async establish(
    input: { tenantId: string; userId: string; amr: readonly string[]; authTime: number },
    now: number,
  ): Promise<EstablishedSession> {
    const token = this.#create(input, now);
    return { setCookie: [this.#cookie(token)] };
  }

  /** A session without signing in, for tests that start signed in: the Cookie header value that carries it. */
  signedIn(input: { tenantId: string; userId: string; amr: readonly string[] }, now: number): string {
    return `${this.cookieName}=${this.#create({ ...input, authTime: now }, now)}`;
  }

  /** Ends every session of a user (sign-out everywhere). */
  revokeUser(userId: string): void {
    for (const session of this.#sessions.values()) if (session.userId === userId) session.revoked = true;
  }

  #create(input: { tenantId: string; userId: string; amr: readonly string[]; authTime: number }, now: number) {
    const token = randomBytes(32).toString('base64url');
    this.#sessions.set(token, { ...input, amr: [...input.amr], createdAt: now, revoked: false });
    return token;
  }

  #cookie(token: string): string {
    return [
      `${this.cookieName}=${token}`,
      'Path=/',
      ...(this.#options.cookieDomain ? [`Domain=${this.#options.cookieDomain}`] : []),
      ...(this.#options.secure ? ['Secure'] : []),
      'HttpOnly',
      'SameSite=Lax',
    ].join('; ');
  }

  #token(cookieHeader: string | undefined): string | undefined {
    for (const pair of (cookieHeader ?? '').split(';')) {
      const eq = pair.indexOf('=');
      if (eq > 0 && pair.slice(0, eq).trim() === this.cookieName) return pair.slice(eq + 1).trim();
    }
    return undefined;
  }
}
