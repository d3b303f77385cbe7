// The two cookies of a browser session and how they are written and read:
// - the session cookie `__Host-portcullis-session` (HttpOnly, Secure, Path=/, SameSite=Lax): the session id, sent on
//   top-level navigations from other sites too, so OIDC redirects from apps arrive with it;
// - the binding cookie `__Host-portcullis-binding` (HttpOnly, Secure, Path=/, SameSite=Lax): the binding secret,
//   whose hash the session stores. A copied session id alone is refused (docs/sessions.md: what binding does and
//   does not stop). Lax, not Strict: an app on another site sends the browser to the authorization endpoint by a
//   top-level navigation, where a Strict cookie is withheld, and single sign-on would then always fail the binding.
//   Binding is against a copied cookie, not against cross-site requests (the forms carry CSRF tokens).
// `__Host-` makes the browser refuse them unless Secure, host-only (no Domain) and Path=/, so a sibling subdomain
// cannot set or overwrite them.
//
// Plain HTTP (development on http://localhost): Chromium and Firefox treat http://localhost as a secure context and
// accept Secure and `__Host-` cookies there, Safari does not. So over http:// the cookies are named without the
// prefix (`portcullis-session`, `portcullis-binding`) and are not Secure — the same behaviour in every browser.
// Config already warns about plain HTTP anywhere but loopback; cookies on localhost are shared by all its ports.

export const SESSION_COOKIE = '__Host-portcullis-session';
export const BINDING_COOKIE = '__Host-portcullis-binding';
/** The names over plain HTTP (loopback development only). */
export const INSECURE_SESSION_COOKIE = 'portcullis-session';
export const INSECURE_BINDING_COOKIE = 'portcullis-binding';

export interface CookieScope {
  /** Whether Portcullis is reached over https (its public URL); see cookieScopeFor. */
  readonly secure: boolean;
  /**
   * The tenant's name, when several tenants are served on one host: each then gets its own pair of cookies
   * (`__Host-portcullis-session-contoso`), so signing in to one does not replace the other's session. Omit it for a
   * host that serves one tenant.
   */
  readonly tenant?: string;
}

export interface CookieDefinition {
  readonly name: string;
  readonly value: string;
  readonly httpOnly: true;
  readonly secure: boolean;
  readonly sameSite: 'Lax';
  readonly path: '/';
  /** Seconds; absent for a cookie that ends with the browser session. 0 deletes the cookie. */
  readonly maxAge?: number;
}

/** A tenant name (DNS-label-like, directory/tenants.ts) is a valid cookie-name token. */
const TENANT = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** `secure` from the public URL: https → the `__Host-` cookies; http → the plain names. */
export function cookieScopeFor(publicUrl: string | URL, tenant?: string): CookieScope {
  const url = typeof publicUrl === 'string' ? new URL(publicUrl) : publicUrl;
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new TypeError(`cookies: the public URL must be http or https, but it is ${url.protocol}`);
  }
  return tenant === undefined ? { secure: url.protocol === 'https:' } : { secure: url.protocol === 'https:', tenant };
}

export function cookieNames(scope: CookieScope): { readonly session: string; readonly binding: string } {
  if (scope.tenant !== undefined && !TENANT.test(scope.tenant)) {
    throw new TypeError(`cookies: tenant must be a tenant name (a-z, 0-9, inner hyphens), but it is '${scope.tenant}'`);
  }
  const suffix = scope.tenant === undefined ? '' : `-${scope.tenant}`;
  return scope.secure
    ? { session: SESSION_COOKIE + suffix, binding: BINDING_COOKIE + suffix }
    : { session: INSECURE_SESSION_COOKIE + suffix, binding: INSECURE_BINDING_COOKIE + suffix };
}

export interface IssuedSession {
  readonly sessionId: string;
  readonly bindingSecret: string;
  /** Persistent cookies last until `expiresAt`; others end with the browser session (see controls.ts persistentBrowser). */
  readonly persistent: boolean;
  /** The session's absolute end (epoch ms). */
  readonly expiresAt: number;
}

/** The two Set-Cookie definitions after a sign-in: session cookie first, binding cookie second. */
export function sessionCookies(
  scope: CookieScope,
  issued: IssuedSession,
  now: number,
): [CookieDefinition, CookieDefinition] {
  const names = cookieNames(scope);
  const maxAge = issued.persistent ? { maxAge: Math.max(0, Math.ceil((issued.expiresAt - now) / 1000)) } : {};
  const common = { httpOnly: true, secure: scope.secure, path: '/', ...maxAge } as const;
  return [
    { name: names.session, value: issued.sessionId, sameSite: 'Lax', ...common },
    { name: names.binding, value: issued.bindingSecret, sameSite: 'Lax', ...common },
  ];
}

/** The definitions that delete both cookies (sign-out, or a session found ended). */
export function clearedSessionCookies(scope: CookieScope): [CookieDefinition, CookieDefinition] {
  const names = cookieNames(scope);
  const common = { value: '', httpOnly: true, secure: scope.secure, path: '/', maxAge: 0 } as const;
  return [
    { name: names.session, sameSite: 'Lax', ...common },
    { name: names.binding, sameSite: 'Lax', ...common },
  ];
}

/** A Set-Cookie header value. Values are base64url tokens (or empty), which need no encoding. */
export function serializeCookie(cookie: CookieDefinition): string {
  if (!/^[A-Za-z0-9_-]*$/.test(cookie.value)) throw new TypeError(`cookie ${cookie.name}: the value must be base64url`);
  const parts = [`${cookie.name}=${cookie.value}`, `Path=${cookie.path}`];
  if (cookie.maxAge !== undefined) parts.push(`Max-Age=${cookie.maxAge}`);
  if (cookie.secure) parts.push('Secure');
  parts.push('HttpOnly', `SameSite=${cookie.sameSite}`);
  return parts.join('; ');
}

/**
 * The session id and binding secret from a Cookie request header (values as sent; Sessions.check validates them).
 * With a name repeated, the first wins (browsers send the most specific path first; `__Host-` cookies have one).
 */
export function readSessionCookies(
  cookieHeader: string | readonly string[] | undefined,
  scope: CookieScope,
): { readonly sessionId?: string; readonly bindingSecret?: string } {
  if (cookieHeader === undefined) return {};
  const header = typeof cookieHeader === 'string' ? cookieHeader : cookieHeader.join('; ');
  const names = cookieNames(scope);
  let sessionId: string | undefined;
  let bindingSecret: string | undefined;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq < 0) continue;
    const name = pair.slice(0, eq).trim();
    if (name === names.session) sessionId ??= pair.slice(eq + 1).trim();
    else if (name === names.binding) bindingSecret ??= pair.slice(eq + 1).trim();
  }
  return {
    ...(sessionId === undefined ? {} : { sessionId }),
    ...(bindingSecret === undefined ? {} : { bindingSecret }),
  };
}
