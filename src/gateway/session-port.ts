// GatewaySessions on the session module (src/session/): the store-backed sessions with their absolute and
// inactivity limits, revocation and browser binding, behind two cookies that reach every application host.
//
// The session module's own cookies are `__Host-` (host-only): they never leave Portcullis's host name. Forward auth
// needs the browser to present its session on the applications' hosts, so a gateway sign-in creates a session of its
// own and names it in two domain cookies (`gateway.cookieDomain`), one pair per tenant:
//   `__Secure-portcullis-gw-session-{tenantId}` (SameSite=Lax: sent on the top-level navigation back from sign-in)
//   `__Secure-portcullis-gw-binding-{tenantId}` (SameSite=Lax too: a navigation from another site to the app must
//   still carry it, and the proxy, not the browser, decides what the app sees)
// Over plain http (development on localhost) the names lose the `__Secure-` prefix and the Secure flag.
// Sign-out everywhere and an admin's revokeSignInSessions end these sessions as well (they are the user's sessions).
import type { Sessions } from '../session/sessions.ts';
import type { EstablishedSession, GatewaySessionCheck, GatewaySessions } from './ports.ts';

export interface SessionPortOptions {
  /** The tenant's sessions (SignInServices.sessions). */
  sessions(tenantId: string): Sessions;
  /** The public URL: https makes the cookies Secure and `__Secure-`. */
  publicUrl(): string;
  /** `gateway.cookieDomain`; host-only cookies when absent. */
  readonly cookieDomain?: string;
  readonly logger?: { warn(object: object, message: string): void };
}

export class SessionModuleGatewaySessions implements GatewaySessions {
  readonly #options: SessionPortOptions;
  /** Each tenant's Sessions and cookie names, made once: forward auth asks on every request. */
  readonly #byTenant = new Map<string, Sessions>();
  readonly #names = new Map<
    string,
    { prefix: string; names: { readonly session: string; readonly binding: string } }
  >();

  constructor(options: SessionPortOptions) {
    this.#options = options;
  }

  /** The cookie names for a tenant (exported for tests and for the docs). */
  cookieNames(tenantId: string): { readonly session: string; readonly binding: string } {
    const prefix = this.#secure() ? '__Secure-' : '';
    const known = this.#names.get(tenantId);
    if (known?.prefix === prefix) return known.names;
    const names = Object.freeze({
      session: `${prefix}portcullis-gw-session-${tenantId}`,
      binding: `${prefix}portcullis-gw-binding-${tenantId}`,
    });
    this.#names.set(tenantId, { prefix, names });
    return names;
  }

  async check(tenantId: string, cookieHeader: string | undefined, now: number): Promise<GatewaySessionCheck> {
    const names = this.cookieNames(tenantId);
    const sessionId = readCookie(cookieHeader, names.session);
    if (sessionId === undefined) return { live: false, reason: 'none' };
    const sessions = this.#sessions(tenantId);
    const checked = await sessions.check(sessionId, readCookie(cookieHeader, names.binding), now);
    if (!checked.live) return { live: false, reason: 'ended' };
    // A request through the proxy is user activity (written at most once a minute; a failed write never denies).
    sessions.touch(checked.session, now).catch((error) => {
      this.#options.logger?.warn({ err: error }, 'gateway: recording session activity failed');
    });
    return {
      live: true,
      userId: checked.session.userId,
      amr: checked.session.amr,
      mfa: checked.session.mfaAt !== null,
      authTime: checked.session.createdAt,
      handle: checked.session.handle,
    };
  }

  async continuousLocationEnforcement(tenantId: string): Promise<boolean> {
    return (await this.#sessions(tenantId).settings()).continuousLocationEnforcement === true;
  }

  #sessions(tenantId: string): Sessions {
    let sessions = this.#byTenant.get(tenantId);
    if (sessions === undefined) {
      sessions = this.#options.sessions(tenantId);
      this.#byTenant.set(tenantId, sessions);
    }
    return sessions;
  }

  /**
   * Not persistent (they end with the browser), as the session module's own cookies are unless Conditional Access's
   * persistent browser control says otherwise; the session's limits are enforced on the server either way.
   */
  async establish(
    input: { tenantId: string; userId: string; amr: readonly string[]; authTime: number },
    _now: number,
  ): Promise<EstablishedSession> {
    const created = await this.#options.sessions(input.tenantId).create(input.userId, { amr: input.amr });
    return { setCookie: this.cookiesFor(input.tenantId, created) };
  }

  /** The Set-Cookie values that name a session created by the session module. */
  cookiesFor(tenantId: string, created: { sessionId: string; bindingSecret: string }): string[] {
    const names = this.cookieNames(tenantId);
    return [this.#cookie(names.session, created.sessionId), this.#cookie(names.binding, created.bindingSecret)];
  }

  #secure(): boolean {
    return this.#options.publicUrl().startsWith('https:');
  }

  #cookie(name: string, value: string): string {
    return [
      `${name}=${value}`,
      'Path=/',
      ...(this.#options.cookieDomain ? [`Domain=${this.#options.cookieDomain}`] : []),
      ...(this.#secure() ? ['Secure'] : []),
      'HttpOnly',
      'SameSite=Lax',
    ].join('; ');
  }
}

/** The value of the first cookie called `name` (names compared exactly, spaces around names and values ignored). */
function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  // Scanned in place rather than split: it runs twice on every forward-auth request.
  let start = 0;
  while (start < header.length) {
    let end = header.indexOf(';', start);
    if (end < 0) end = header.length;
    const eq = header.indexOf('=', start);
    if (eq > start && eq < end && header.slice(start, eq).trim() === name) return header.slice(eq + 1, end).trim();
    start = end + 1;
  }
  return undefined;
}
