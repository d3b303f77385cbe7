// CPU per forward-auth request of the Portcullis process alone, without nginx: wrk sends what nginx's auth_request
// subrequest sends (deploy/nginx/portcullis-authz.conf: X-Original-URL, X-Original-Method, X-Forwarded-For,
// X-Request-Id, the client's Cookie, User-Agent and Accept) straight to /api/authz/auth-request of the Portcullis
// that bench/gateway.bench.ts measures (bench/gateway-portcullis.ts), and the process's own CPU time
// (process.cpuUsage) is divided by the requests answered. On a shared machine this moves far less than requests/s,
// so it is the figure to compare two trees by (run them alternately).
//
// Run: `npx node bench/gateway-cpu.ts` — settings (environment): BENCH_GATEWAY_CPU_SECONDS (5) per round,
// BENCH_GATEWAY_CPU_ROUNDS (3), BENCH_CPU_PROF_DIR=dir for a V8 CPU profile. Needs wrk.
import { spawn } from 'node:child_process';
import type { GatewayQuestion, GatewayServerReady, GatewayUsage } from './gateway-servers.ts';
import { ServerProcess } from './server-process.ts';

const USER_AGENT =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

function wholeNumber(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a whole number above 0, not '${text}'`);
  return value;
}

/** Runs wrk for `seconds`; resolves with the requests answered (every one must be a 200). */
function wrk(port: number, cookie: string, seconds: number): Promise<number> {
  const headers = [
    'Host: portcullis',
    'X-Original-URL: http://wiki.bench.localhost/pages/welcome?tab=recent',
    'X-Original-Method: GET',
    'X-Forwarded-For: 127.0.0.1',
    'X-Request-Id: 0123456789abcdef0123456789abcdef',
    `Cookie: ${cookie}`,
    `User-Agent: ${USER_AGENT}`,
    'Accept: text/html',
  ];
  const args = ['-t1', '-c16', `-d${seconds}s`, ...headers.flatMap((h) => ['-H', h])];
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', [...args, `http://127.0.0.1:${port}/api/authz/auth-request`], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('error', reject);
    child.once('exit', () => {
      const requests = /(\d+) requests in/.exec(output);
      if (requests === null || /Non-2xx/.test(output)) reject(new Error(`wrk: not every answer was a 200:\n${output}`));
      else resolve(Number(requests[1]));
    });
  });
}

if (import.meta.main) {
  const seconds = wholeNumber('BENCH_GATEWAY_CPU_SECONDS', 5);
  const rounds = wholeNumber('BENCH_GATEWAY_CPU_ROUNDS', 3);
  const server = await ServerProcess.start<GatewayServerReady, Omit<GatewayQuestion, 'id'>>(
    new URL('./gateway-servers.ts', import.meta.url),
    'portcullis',
    { stdout: 'ignore' },
  );
  try {
    const { port, cookie } = server.ready;
    if (cookie === undefined) throw new Error('the Portcullis server came without its session');
    await wrk(port, cookie, 3); // warm-up
    const perRequest: number[] = [];
    for (let round = 1; round <= rounds; round++) {
      const before = await server.ask<GatewayUsage>({ op: 'usage' });
      const requests = await wrk(port, cookie, seconds);
      const after = await server.ask<GatewayUsage>({ op: 'usage' });
      const us = (after.cpuMicros - before.cpuMicros) / requests;
      perRequest.push(us);
      console.log(
        `round ${round}: ${requests.toLocaleString('en')} requests in ${seconds} s, ` +
          `${us.toFixed(1)} µs of Portcullis CPU per request`,
      );
    }
    const sorted = [...perRequest].sort((a, b) => a - b);
    console.log(`median: ${sorted[Math.floor(sorted.length / 2)].toFixed(1)} µs per request`);
  } finally {
    await server.stop();
  }
}
