// `portcullis doctor`: the probes, sent from the admin's machine to the protected URL and to Portcullis, as a
// client (or an attacker) would send them. Never follows a redirect; a probe that gets no answer records why.
// What they are judged by is doctor-checks.ts.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import type { Forged, HttpAnswer, Observations, Probe } from './doctor-checks.ts';
import { signInRedirect } from './doctor-checks.ts';
import { DOCTOR_HEADER } from './doctor-probe.ts';

export interface HttpRequest {
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
}

/** Sends one GET and resolves with the answer; rejects when there is none (refused, DNS, TLS, timeout). */
export type Transport = (request: HttpRequest) => Promise<HttpAnswer>;

export interface NodeTransportOptions {
  /** Per request; default 10 seconds. */
  readonly timeoutMs?: number;
  /** Bodies are read up to this many bytes (an echo of the request is small); default 256 KiB. */
  readonly maxBodyBytes?: number;
  /** Connect here instead of the URL's host (the Host header and TLS name stay the URL's): tests on loopback. */
  readonly connectTo?: { readonly host: string; readonly port: number };
  /** The local address to send from (tests: a loopback client that is not a trusted proxy). */
  readonly localAddress?: string;
}

export function nodeTransport(options: NodeTransportOptions = {}): Transport {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxBody = options.maxBodyBytes ?? 256 * 1024;
  return ({ url, headers }) =>
    new Promise((resolve, reject) => {
      const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
      const hostname = url.hostname.replace(/^\[|\]$/g, '');
      const request = send(
        {
          method: 'GET',
          host: options.connectTo?.host ?? hostname,
          port: options.connectTo?.port ?? (Number(url.port) || undefined),
          // TLS names only: RFC 6066 has no server name for an address.
          servername: isIP(hostname) === 0 ? hostname : undefined,
          path: `${url.pathname}${url.search}`,
          headers: { host: url.host, ...headers },
          localAddress: options.localAddress,
          agent: false,
        },
        (response) => {
          const chunks: Buffer[] = [];
          let size = 0;
          response.on('data', (chunk: Buffer) => {
            if (size < maxBody) chunks.push(chunk);
            size += chunk.length;
          });
          response.on('end', () => {
            const flat: Record<string, string> = {};
            for (const [name, value] of Object.entries(response.headers)) {
              if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
            }
            resolve({
              status: response.statusCode ?? 0,
              headers: flat,
              body: Buffer.concat(chunks).subarray(0, maxBody).toString('utf8'),
            });
          });
          response.on('error', reject);
        },
      );
      request.setTimeout(timeoutMs, () => request.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
      request.on('error', reject);
      request.end();
    });
}

async function probe(transport: Transport, url: URL, headers: Record<string, string>): Promise<Probe> {
  try {
    return { ok: true, answer: await transport({ url, headers }) };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const message = (error as Error).message;
    return { ok: false, error: code && !message.includes(code) ? `${code}: ${message}` : message };
  }
}

const BROWSER = {
  accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
  'user-agent': 'Mozilla/5.0 (compatible; portcullis-doctor)',
  [DOCTOR_HEADER]: '1',
};

export interface ObserveInput {
  readonly target: URL;
  readonly expectedPortcullis?: string;
  readonly sessionCookie?: string;
  readonly forged: Forged;
  /** Random text, unique to this run (marks the echo and the application's own cookie). */
  readonly nonce: string;
}

/**
 * Sends the probes, one after another: a browser without a session first (its sign-in redirect names Portcullis when
 * --portcullis does not), then a script, forged URL headers, forged identity headers, Portcullis's own address, and
 * the admin's session when given.
 */
export async function observe(input: ObserveInput, transport: Transport): Promise<Observations> {
  const { target, forged } = input;
  const browser = await probe(transport, target, BROWSER);
  if (!browser.ok) return { target, expectedPortcullis: input.expectedPortcullis, browser, forged };

  const script = await probe(transport, target, { ...BROWSER, accept: 'application/json' });
  const otherScheme = target.protocol === 'https:' ? 'http' : 'https';
  const forgedUrl = await probe(transport, target, {
    ...BROWSER,
    'x-original-url': `${target.origin}${forged.path}`,
    'x-forwarded-host': `${target.hostname}:${forged.port}`,
    'x-forwarded-uri': forged.path,
    'x-forwarded-proto': otherScheme,
    'x-forwarded-for': forged.forwardedFor.join(', '),
  });
  const forgedIdentity = await probe(transport, target, {
    ...BROWSER,
    ...forged.identity,
    cookie: forged.sessionCookie,
  });

  const portcullis = input.expectedPortcullis ?? signInRedirect(browser, target)?.portcullis;
  let portcullisSelf: Observations['portcullisSelf'];
  if (portcullis !== undefined) {
    const url = new URL(`${portcullis}/api/authz/doctor`);
    const json = { accept: 'application/json', 'user-agent': BROWSER['user-agent'] };
    portcullisSelf = {
      url: url.href,
      plain: await probe(transport, url, json),
      forged: await probe(transport, url, { ...json, 'x-forwarded-for': forged.forwardedFor.join(', ') }),
    };
  }

  let session: Observations['session'];
  if (input.sessionCookie !== undefined) {
    const echoMarker = `portcullis-doctor-echo-${input.nonce}`;
    const appCookieValue = `doctor-app-${input.nonce}`;
    const cookie = `${input.sessionCookie}; doctor-app-cookie=${appCookieValue}`;
    session = {
      cookie: input.sessionCookie,
      echoMarker,
      appCookieValue,
      probe: await probe(transport, target, {
        ...BROWSER,
        ...forged.identity,
        'portcullis-doctor-echo': echoMarker,
        cookie,
      }),
    };
  }

  return {
    target,
    expectedPortcullis: input.expectedPortcullis,
    browser,
    script,
    forgedUrl,
    forgedIdentity,
    portcullisSelf,
    session,
    forged,
  };
}
