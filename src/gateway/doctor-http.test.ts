// The doctor's transport on loopback: the Host header and TLS name are the URL's wherever it connects, redirects are
// never followed, big bodies are cut, and a certificate the machine does not trust is a reported failure.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { FORGED } from './doctor-checks.ts';
import { nodeTransport, observe } from './doctor-http.ts';

const servers: Server[] = [];
after(async () => {
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function listen(server: Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

test('the Host is the URL’s, a redirect is returned as it is, repeated headers are joined, bodies are cut', async () => {
  const seen: IncomingHttpHeaders[] = [];
  const port = await listen(
    createServer((request, response) => {
      seen.push(request.headers);
      if (request.url === '/big') return response.end('x'.repeat(10_000));
      response.writeHead(302, { location: '/elsewhere', 'set-cookie': ['a=1', 'b=2'] });
      response.end();
    }),
  );
  const transport = nodeTransport({ connectTo: { host: '127.0.0.1', port }, maxBodyBytes: 100 });
  const redirect = await transport({
    url: new URL('http://wiki.example.com/page?x=1'),
    headers: { 'remote-user': 'z' },
  });
  assert.equal(redirect.status, 302);
  assert.equal(redirect.headers.location, '/elsewhere');
  assert.equal(redirect.headers['set-cookie'], 'a=1, b=2');
  assert.equal(seen[0].host, 'wiki.example.com');
  assert.equal(seen[0]['remote-user'], 'z');
  assert.equal(seen.length, 1, 'not followed');
  const big = await transport({ url: new URL('http://wiki.example.com/big'), headers: {} });
  assert.equal(big.body.length, 100);
});

test('a certificate this machine does not trust: the probe records why, and nothing else is sent', async () => {
  const fixtures = new URL('../http/fixtures/', import.meta.url);
  let requests = 0;
  const port = await listen(
    createHttpsServer(
      {
        cert: readFileSync(new URL('localhost-cert.pem', fixtures)),
        key: readFileSync(new URL('localhost-key.pem', fixtures)),
      },
      (_request, response) => {
        requests++;
        response.end();
      },
    ) as unknown as Server,
  );
  const observations = await observe(
    { target: new URL(`https://localhost:${port}/`), forged: FORGED, nonce: 'n' },
    nodeTransport(),
  );
  assert.equal(observations.browser.ok, false);
  if (!observations.browser.ok) assert.match(observations.browser.error, /SELF_SIGNED|self-signed|UNABLE_TO_VERIFY/i);
  assert.equal(observations.script, undefined);
  assert.equal(requests, 0);
});

test('an address nobody listens on is reported, not thrown', async () => {
  const closed = createServer();
  const port = await listen(closed);
  closed.close();
  const observations = await observe(
    { target: new URL(`http://127.0.0.1:${port}/`), forged: FORGED, nonce: 'n' },
    nodeTransport(),
  );
  assert.equal(observations.browser.ok, false);
  if (!observations.browser.ok) assert.match(observations.browser.error, /ECONNREFUSED/);
});
