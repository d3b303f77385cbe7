// `portcullis doctor`: the fixes it prints, per proxy, as lines of configuration (deploy/ holds the whole files, and
// docs/forward-auth.md explains each line). doctor-checks.ts picks them for the proxies it recognised.

export type ProxyKind = 'nginx' | 'caddy' | 'traefik';

const NAMES: Record<ProxyKind, string> = { nginx: 'nginx', caddy: 'Caddy', traefik: 'Traefik' };

/** The fix for each of the proxies that may be in front, prefixed with its name, then what applies to all. */
export function fixFor(
  proxies: readonly ProxyKind[],
  fixes: Partial<Record<ProxyKind, string>>,
  after?: string,
): string {
  const lines = proxies.filter((p) => fixes[p] !== undefined).map((p) => `${NAMES[p]}: ${fixes[p]}`);
  return [...lines, ...(after ? [after] : [])].join(' ');
}

export const PROTECT = {
  nginx:
    'include portcullis-protect.conf in this location (auth_request /internal/portcullis/authz;) and portcullis-authz.conf in its server.',
  caddy: 'put `import portcullis <portcullis address>` in this site, before its reverse_proxy.',
  traefik: "add the portcullis forwardAuth middleware to this router's middlewares.",
};

export const ORIGINAL_URL = {
  nginx:
    'in the auth_request location: proxy_set_header X-Original-URL $scheme://$http_host$request_uri; (setting it replaces the client’s copy).',
  caddy:
    'let forward_auth set X-Forwarded-Host, -Uri and -Proto itself: no header_up for them, and no trusted_proxies that cover your clients.',
  traefik:
    'trustForwardHeader: false on the forwardAuth middleware, and forwardedHeaders.trustedIPs on the entry point only for your own proxies.',
};

export const FORWARDED_FOR = {
  nginx:
    'in the auth_request location: proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for; (it appends the address nginx saw; never pass $http_x_forwarded_for on alone).',
  caddy:
    'no header_up X-Forwarded-For in forward_auth: Caddy then sets it from the address it saw (appended to the list only from proxies in its trusted_proxies).',
  traefik:
    'trustForwardHeader: false, and forwardedHeaders.trustedIPs on the entry point only for your own proxies (never insecure: true).',
};

export const IDENTITY = {
  nginx:
    'in every protected location, next to proxy_pass: proxy_set_header Remote-User $portcullis_user; and the same for Remote-Groups, Remote-Email and Remote-Name (portcullis-protect.conf); nginx passes proxy_set_header down only to locations that set none of their own.',
  caddy:
    'inside the route, before forward_auth: request_header -Remote-User (and -Remote-Groups, -Remote-Email, -Remote-Name), then forward_auth … { copy_headers Remote-User Remote-Groups Remote-Email Remote-Name }.',
  traefik: 'list Remote-User, Remote-Groups, Remote-Email and Remote-Name in the middleware’s authResponseHeaders.',
};

export const COOKIES = {
  nginx:
    'auth_request_set $portcullis_cookie $upstream_http_cookie; and proxy_set_header Cookie $portcullis_cookie; in the protected location (portcullis-protect.conf).',
  caddy:
    'after forward_auth, inside the route: request_header Cookie "(^|;)\\s*(?:__Host-|__Secure-)?portcullis-[A-Za-z0-9_-]*=[^;]*" "$1" (portcullis.caddy).',
  traefik: 'add Cookie to the middleware’s authResponseHeaders.',
};
