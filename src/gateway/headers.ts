// What an allowed request carries to the application: the identity headers (Authelia's names by default) and the
// request's cookies without Portcullis's own. Pure.
import type { GatewayIdentity } from './identity.ts';

export interface IdentityHeaderNames {
  readonly user: string;
  readonly groups: string;
  readonly email: string;
  readonly name: string;
}

export const DEFAULT_HEADER_NAMES: IdentityHeaderNames = {
  user: 'Remote-User',
  groups: 'Remote-Groups',
  email: 'Remote-Email',
  name: 'Remote-Name',
};

/** `displayName`: group names (as Authelia sends them); `id`: group object ids, which never change. */
export type GroupFormat = 'displayName' | 'id';

/**
 * A header value: control characters removed, UTF-8 bytes written one per character (what Node sends as latin1),
 * so a name such as `José` reaches the application as the UTF-8 bytes of `José`, as nginx, Caddy and Traefik pass them.
 */
export function headerValue(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point.
  return Buffer.from(text.replace(/[\u0000-\u001f\u007f]/g, ''), 'utf8').toString('latin1');
}

/**
 * The identity headers, every one always present (empty when the user has no mail or no group), so a proxy that
 * copies them replaces any copy the client sent rather than passing it on.
 * Groups: comma-separated; a display name that has a comma in it is sent as the group's id instead, so the list
 * always splits back into the right groups.
 */
export function identityHeaders(
  identity: GatewayIdentity,
  names: IdentityHeaderNames,
  groupFormat: GroupFormat,
): Record<string, string> {
  const groups = identity.groups
    .map((g) => (groupFormat === 'id' || g.displayName.includes(',') ? g.id : g.displayName.trim()))
    .filter((g) => g !== '');
  return {
    [names.user]: headerValue(identity.userPrincipalName),
    [names.groups]: headerValue(groups.join(',')),
    [names.email]: headerValue(identity.mail ?? ''),
    [names.name]: headerValue(identity.displayName),
  };
}

/** Every Portcullis cookie name: `portcullis-…`, optionally behind the `__Host-` or `__Secure-` prefix. */
export const PORTCULLIS_COOKIE = /^(?:__Host-|__Secure-)?portcullis-/;

/**
 * The Cookie header for the application: the request's cookies without Portcullis's (the session and binding
 * cookies are credentials for Portcullis, not for the app). Undefined when no cookie is left.
 */
export function applicationCookies(cookieHeader: string | undefined): string | undefined {
  if (cookieHeader === undefined || cookieHeader === '') return undefined;
  const kept = cookieHeader
    .split(';')
    .map((pair) => pair.trim())
    .filter((pair) => pair !== '' && !PORTCULLIS_COOKIE.test(pair));
  return kept.length === 0 ? undefined : kept.join('; ');
}
