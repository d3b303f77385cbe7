// A browser stand-in for forward-auth tests: talks to one proxy port on loopback for every host name (the Host header
// says which site), from a chosen loopback source address (127.0.0.x: a client at headquarters or abroad), keeps
// cookies per RFC 6265 domain rules (so a cookie for `Domain=localhost` reaches `wiki.localhost`), and follows
// redirects by hand.
import assert from 'node:assert/strict';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';

export interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly url: URL;
}

interface Cookie {
  readonly name: string;
  readonly value: string;
  /** Lower-case domain; `hostOnly` cookies match it exactly. */
  readonly domain: string;
  readonly hostOnly: boolean;
  readonly path: string;
}

export class CookieJar {
  #cookies: Cookie[] = [];

  store(url: URL, setCookie: string[] | undefined): void {
    for (const line of setCookie ?? []) {
      const [pair, ...attributes] = line.split(';').map((p) => p.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      let domain = url.hostname;
      let hostOnly = true;
      let path = '/';
      let expired = false;
      for (const attribute of attributes) {
        const [key, v = ''] = attribute.split('=');
        if (/^domain$/i.test(key)) {
          domain = v.replace(/^\./, '').toLowerCase();
          hostOnly = false;
        } else if (/^path$/i.test(key)) path = v;
        else if (/^max-age$/i.test(key) && Number(v) <= 0) expired = true;
      }
      this.#cookies = this.#cookies.filter((c) => !(c.name === name && c.domain === domain && c.path === path));
      if (!expired) this.#cookies.push({ name, value, domain, hostOnly, path });
    }
  }

  header(url: URL): string {
    const host = url.hostname;
    return this.#cookies
      .filter((c) => (c.hostOnly ? host === c.domain : host === c.domain || host.endsWith(`.${c.domain}`)))
      .filter(
        (c) =>
          url.pathname === c.path ||
          url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`) ||
          c.path === '/',
      )
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  /** A cookie as a server on `domain` would have set it with `Domain=` (for tests that start signed in). */
  add(name: string, value: string, domain: string): void {
    this.#cookies.push({ name, value, domain, hostOnly: false, path: '/' });
  }

  names(): string[] {
    return this.#cookies.map((c) => c.name);
  }
}

export interface ClientOptions {
  /** The proxy's port on 127.0.0.1: every request goes there, whatever the URL's host. */
  readonly port: number;
  /** The source address, e.g. 127.0.0.70 (headquarters) or 127.0.0.9 (outside). */
  readonly from: string;
  readonly userAgent?: string;
}

export class ProxyClient {
  readonly jar = new CookieJar();
  readonly #options: ClientOptions;

  constructor(options: ClientOptions) {
    this.#options = options;
  }

  request(
    target: string | URL,
    init: { method?: string; headers?: Record<string, string>; form?: Record<string, string> } = {},
  ): Promise<Answer> {
    const url = new URL(target);
    const body = init.form ? new URLSearchParams(init.form).toString() : undefined;
    const cookie = this.jar.header(url);
    const headers: Record<string, string> = {
      host: url.host,
      'user-agent':
        this.#options.userAgent ??
        'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
      accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
      ...(cookie ? { cookie } : {}),
      ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      ...init.headers,
    };
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port: this.#options.port,
          localAddress: this.#options.from,
          method: init.method ?? (body ? 'POST' : 'GET'),
          path: `${url.pathname}${url.search}`,
          headers,
          agent: false,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            this.jar.store(url, res.headers['set-cookie']);
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks).toString('utf8'),
              url,
            });
          });
          res.on('error', reject);
        },
      );
      req.setTimeout(10_000, () => req.destroy(new Error(`timeout: ${url}`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  /** Follows redirects (at most 15) and returns the last answer. */
  async follow(target: string | URL, init: { form?: Record<string, string>; headers?: Record<string, string> } = {}) {
    let answer = await this.request(target, init);
    const hops: string[] = [answer.url.href];
    for (let i = 0; i < 15 && answer.status >= 300 && answer.status < 400; i++) {
      const location = answer.headers.location;
      assert.ok(location, `a ${answer.status} from ${answer.url} has a Location`);
      answer = await this.request(new URL(location, answer.url), { headers: init.headers });
      hops.push(answer.url.href);
    }
    return { answer, hops };
  }
}

export function csrfOf(page: string): string {
  const match = /name="csrf" value="([^"]+)"/.exec(page);
  assert.ok(match, `the page has a CSRF field: ${page.slice(0, 300)}`);
  return match[1];
}

export function actionOf(page: string, suffix: string): string {
  const match = new RegExp(`action="([^"]+/${suffix})"`).exec(page);
  assert.ok(match, `the page has a form posting to …/${suffix}`);
  return match[1];
}
