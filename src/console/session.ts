// The console session: what lets the admin console call the Graph API as the signed-in admin, without a bearer token
// in the page. It is a cookie, `__Host-portcullis-console-{tenantId}` over https (`portcullis-console-{tenantId}` on
// plain-http development), HttpOnly, Path=/, SameSite=Strict, ending with the browser, whose value is sealed with the
// tenant's data key (AES-256-GCM): the handle of the Portcullis session the console sign-in ran in, the user, and a
// random CSRF token.
//
// It is tied to the Portcullis session, not a session of its own: every use checks the browser's Portcullis session
// cookies (session id and binding secret, session/cookies.ts) with the session module and requires that very session
// to be live — so sign-out, sign-out everywhere, an admin's revokeSignInSessions and the absolute and inactivity
// limits end the console too, and a console cookie copied to another browser is refused (binding). A console use is
// user activity (it counts against the inactivity limit).
//
// CSRF: the cookie alone authenticates nothing. Every API call must also send the token in `X-CSRF-Token`, compared
// in constant time with the one sealed in the cookie; the console page reads it from `GET …/console/session`, which a
// page of another origin cannot read. SameSite=Strict keeps the cookie off cross-site requests in the first place
// (Lax would be needed only if a cross-site top-level navigation had to arrive signed in, which the console, a
// same-origin single-page app, never needs); the header check holds even where SameSite does not (same-site sibling
// hosts, old browsers).
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { HttpError } from '../http/graph-error.ts';
import { cookieScopeFor, readSessionCookies } from '../session/cookies.ts';
import type { SessionRecord } from '../session/repository.ts';
import type { Sessions } from '../session/sessions.ts';

export const CSRF_HEADER = 'x-csrf-token';
const PURPOSE = 'console.session';
const COOKIE = 'portcullis-console-';

export interface ConsoleKeyring {
  encrypt(tenantId: string, plaintext: string, purpose: string): Promise<string>;
  decryptText(tenantId: string, ciphertext: string, purpose: string): Promise<string>;
}

export interface ConsoleSessionOptions {
  readonly keyring: ConsoleKeyring;
  /** The tenant's sessions (SignInServices.sessions). */
  sessions(tenantId: string): Sessions;
  /** The tenant's issuer, `{publicUrl}/t/{tenantId}`: https makes the cookie `__Host-` and Secure. */
  issuerOf(tenantId: string): string;
}

/** What the sealed cookie holds. */
interface Sealed {
  readonly v: 1;
  /** The Portcullis session's handle. */
  readonly h: string;
  /** The user's object id. */
  readonly u: string;
  /** The CSRF token. */
  readonly c: string;
}

/** A live console session: the user, the Portcullis session it rides on, and the page's CSRF token. */
export interface ConsoleSession {
  readonly userId: string;
  readonly csrfToken: string;
  readonly session: SessionRecord;
}

export type ConsoleSessionCheck =
  | ({ readonly live: true } & ConsoleSession)
  /** `none`: no console cookie; `ended`: a cookie whose Portcullis session is over, or that cannot be read. */
  | { readonly live: false; readonly reason: 'none' | 'ended' };

export function consoleCookieName(issuer: string, tenantId: string): string {
  return `${issuer.startsWith('https:') ? '__Host-' : ''}${COOKIE}${tenantId}`;
}

export class ConsoleSessions {
  readonly #options: ConsoleSessionOptions;

  constructor(options: ConsoleSessionOptions) {
    this.#options = options;
  }

  cookieName(tenantId: string): string {
    return consoleCookieName(this.#options.issuerOf(tenantId), tenantId);
  }

  /** Whether the request carries a console cookie of this tenant at all (decides which authentication applies). */
  present(tenantId: string, cookieHeader: string | undefined): boolean {
    return readCookie(cookieHeader, this.cookieName(tenantId)) !== undefined;
  }

  /** The Set-Cookie value that starts a console session on the Portcullis session `session` of `userId`. */
  async establish(tenantId: string, session: Pick<SessionRecord, 'handle' | 'userId'>): Promise<string> {
    const sealed: Sealed = { v: 1, h: session.handle, u: session.userId, c: randomBytes(32).toString('base64url') };
    const value = await this.#options.keyring.encrypt(tenantId, JSON.stringify(sealed), PURPOSE);
    return this.#cookie(tenantId, value, undefined);
  }

  /** The Set-Cookie value that deletes the console cookie. */
  cleared(tenantId: string): string {
    return this.#cookie(tenantId, '', 0);
  }

  /** The browser's live Portcullis session of this tenant (from its session and binding cookies), if any. */
  async portcullisSession(tenantId: string, cookieHeader: string | undefined, now: number) {
    const { sessionId, bindingSecret } = readSessionCookies(
      cookieHeader,
      cookieScopeFor(this.#options.issuerOf(tenantId), tenantId),
    );
    if (sessionId === undefined) return { live: false as const, present: false };
    const checked = await this.#options.sessions(tenantId).check(sessionId, bindingSecret, now);
    return checked.live ? { live: true as const, session: checked.session } : { live: false as const, present: true };
  }

  /**
   * The console session of a request: the console cookie opened, and the Portcullis session named in it live in this
   * browser. Rejects when the store cannot be read (the caller then fails closed).
   */
  async check(tenantId: string, cookieHeader: string | undefined, now: number): Promise<ConsoleSessionCheck> {
    const value = readCookie(cookieHeader, this.cookieName(tenantId));
    if (value === undefined || value === '') return { live: false, reason: 'none' };
    let sealed: Sealed;
    try {
      sealed = JSON.parse(await this.#options.keyring.decryptText(tenantId, value, PURPOSE)) as Sealed;
    } catch {
      return { live: false, reason: 'ended' };
    }
    if (sealed?.v !== 1 || typeof sealed.h !== 'string' || typeof sealed.c !== 'string') {
      return { live: false, reason: 'ended' };
    }
    const current = await this.portcullisSession(tenantId, cookieHeader, now);
    if (!current.live || current.session.handle !== sealed.h || current.session.userId !== sealed.u) {
      return { live: false, reason: 'ended' };
    }
    return { live: true, userId: sealed.u, csrfToken: sealed.c, session: current.session };
  }

  /**
   * For the Graph API: the user of a request authenticated by the console cookie and its CSRF header, or an
   * HttpError — 401 when the console session is over, 403 when the CSRF header is missing or wrong. A console use is
   * user activity of the Portcullis session.
   */
  async authenticate(
    tenantId: string,
    headers: { readonly cookie?: string; readonly [name: string]: string | string[] | undefined },
    now: number,
  ): Promise<string> {
    const checked = await this.check(tenantId, headers.cookie, now);
    if (!checked.live) {
      throw new HttpError(
        401,
        'The console session has ended (signed out, revoked or expired): sign in to the console again.',
        'InvalidAuthenticationToken',
      );
    }
    const sent = headers[CSRF_HEADER];
    if (typeof sent !== 'string' || !sameText(sent, checked.csrfToken)) {
      throw new HttpError(
        403,
        `A request with the console's session cookie must carry the session's CSRF token in the ${'X-CSRF-Token'} header.`,
        'Authorization_RequestDenied',
      );
    }
    this.#options
      .sessions(tenantId)
      .touch(checked.session, now)
      .catch(() => {});
    return checked.userId;
  }

  #cookie(tenantId: string, value: string, maxAge: number | undefined): string {
    const secure = this.#options.issuerOf(tenantId).startsWith('https:');
    return [
      `${this.cookieName(tenantId)}=${value}`,
      'Path=/',
      ...(maxAge === undefined ? [] : [`Max-Age=${maxAge}`]),
      ...(secure ? ['Secure'] : []),
      'HttpOnly',
      'SameSite=Strict',
    ].join('; ');
  }
}

export function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const pair of (header ?? '').split(';')) {
    const eq = pair.indexOf('=');
    if (eq > 0 && pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim();
  }
  return undefined;
}
