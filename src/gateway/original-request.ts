// The request a reverse proxy asks about, read from the headers it sends with its subrequest. Pure.
// - nginx `auth_request` (/api/authz/auth-request): X-Original-URL (absolute) and X-Original-Method.
// - Traefik `ForwardAuth` and Caddy `forward_auth` (/api/authz/forward-auth): X-Forwarded-Proto, X-Forwarded-Host,
//   X-Forwarded-Uri and X-Forwarded-Method.
// The client address is not read here: request.clientIp already went through the trusted proxies.
import type { IncomingHttpHeaders } from 'node:http';

export interface OriginalRequest {
  readonly method: string;
  /** Absolute http(s) URL of the request the proxy received. */
  readonly url: URL;
}

export type OriginalRequestResult =
  | { readonly ok: true; readonly request: OriginalRequest }
  | { readonly ok: false; readonly problem: string };

const METHOD = /^[A-Z]{1,20}$/;
const MAX_URL = 8192;

/**
 * X-Original-URL value → its parsed URL, or the problem with it: a page's requests repeat the same few URLs, and
 * parsing one costs about 1.5 µs. The URLs handed out are shared between requests, so nothing may change them (the
 * gateway only reads them). At most URLS_MAX; when full it starts again empty.
 */
const parsedUrls = new Map<string, URL | string>();
const URLS_MAX = 1024;

function single(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value[value.length - 1] : value;
}

function methodOf(headers: IncomingHttpHeaders, name: string): string | { problem: string } {
  const value = single(headers, name)?.trim().toUpperCase();
  if (value === undefined || value === '') return 'GET';
  return METHOD.test(value) ? value : { problem: `${name} is not an HTTP method` };
}

function absolute(text: string, header: string, method: string, expectedHost?: string): OriginalRequestResult {
  if (text.length > MAX_URL) return { ok: false, problem: `${header} is longer than ${MAX_URL} characters` };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, problem: `${header} does not make an absolute URL` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { ok: false, problem: `${header} must be an http or https URL` };
  }
  if (url.username !== '' || url.password !== '') return { ok: false, problem: `${header} must not carry credentials` };
  // `//evil.example/x` as a request target stays a path on the original host, never another host.
  if (expectedHost !== undefined && url.host !== expectedHost) {
    return { ok: false, problem: 'X-Forwarded-Uri must be a path' };
  }
  return { ok: true, request: { method, url } };
}

/** nginx: `proxy_set_header X-Original-URL $scheme://$http_host$request_uri;`. */
export function fromAuthRequest(headers: IncomingHttpHeaders): OriginalRequestResult {
  const text = single(headers, 'x-original-url');
  if (text === undefined || text === '') {
    return { ok: false, problem: 'the proxy sent no X-Original-URL (see deploy/nginx in the Portcullis docs)' };
  }
  const method = methodOf(headers, 'x-original-method');
  if (typeof method !== 'string') return { ok: false, problem: method.problem };
  let parsed = parsedUrls.get(text);
  if (parsed === undefined) {
    const result = absolute(text.trim(), 'X-Original-URL', method);
    parsed = result.ok ? result.request.url : result.problem;
    if (parsedUrls.size >= URLS_MAX) parsedUrls.clear();
    parsedUrls.set(text, parsed);
  }
  return typeof parsed === 'string' ? { ok: false, problem: parsed } : { ok: true, request: { method, url: parsed } };
}

/** Traefik and Caddy: X-Forwarded-Proto, -Host, -Uri and -Method. */
export function fromForwardAuth(headers: IncomingHttpHeaders): OriginalRequestResult {
  const proto = (single(headers, 'x-forwarded-proto') ?? '').trim().toLowerCase();
  const host = (single(headers, 'x-forwarded-host') ?? '').trim();
  const uri = single(headers, 'x-forwarded-uri') ?? '/';
  if (proto !== 'http' && proto !== 'https') {
    return { ok: false, problem: 'X-Forwarded-Proto must be http or https' };
  }
  if (host === '' || /[\s/\\?#@,]/.test(host)) {
    return { ok: false, problem: 'X-Forwarded-Host must be the host (and port) of the original request' };
  }
  if (!uri.startsWith('/')) return { ok: false, problem: 'X-Forwarded-Uri must start with /' };
  const method = methodOf(headers, 'x-forwarded-method');
  if (typeof method !== 'string') return { ok: false, problem: method.problem };
  let expected: string;
  try {
    expected = new URL(`${proto}://${host}/`).host;
  } catch {
    return { ok: false, problem: 'X-Forwarded-Host must be the host (and port) of the original request' };
  }
  return absolute(`${proto}://${host}${uri}`, 'X-Forwarded-Host and X-Forwarded-Uri', method, expected);
}

/** Scripts get 401 instead of a redirect to a sign-in page they cannot show. */
export function wantsJson(headers: IncomingHttpHeaders): boolean {
  const accept = single(headers, 'accept') ?? '';
  const xhr = (single(headers, 'x-requested-with') ?? '').toLowerCase() === 'xmlhttprequest';
  return xhr || /\bapplication\/(?:[\w.+-]+\+)?json\b/i.test(accept);
}
