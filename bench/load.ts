// A small closed-loop HTTP load generator for the endpoint benchmarks: a fixed number of workers, each sending its
// next request when the previous one is answered, over keep-alive connections (node:http, one socket per worker).
// Latencies go into a preallocated array, so memory stays bounded whatever the request count.
import { Agent, request as httpRequest } from 'node:http';
import { percentile } from './stats.ts';

export interface HttpResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

export interface HttpRequest {
  readonly method?: 'GET' | 'POST';
  readonly url: string;
  readonly headers?: Record<string, string>;
  /** Sent as application/x-www-form-urlencoded. */
  readonly form?: Record<string, string>;
}

/** A keep-alive client for one origin, with at most `sockets` connections. */
export class HttpClient {
  readonly #agent: Agent;
  constructor(sockets: number) {
    this.#agent = new Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets });
  }

  send(req: HttpRequest): Promise<HttpResponse> {
    const url = new URL(req.url);
    const body = req.form === undefined ? undefined : new URLSearchParams(req.form).toString();
    const headers: Record<string, string> = { ...req.headers };
    if (body !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    return new Promise((resolve, reject) => {
      const outgoing = httpRequest(
        {
          agent: this.#agent,
          method: req.method ?? (body === undefined ? 'GET' : 'POST'),
          host: url.hostname,
          port: url.port,
          path: `${url.pathname}${url.search}`,
          headers,
        },
        (incoming) => {
          const chunks: Buffer[] = [];
          incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
          incoming.on('end', () =>
            resolve({
              status: incoming.statusCode ?? 0,
              headers: incoming.headers,
              body: Buffer.concat(chunks).toString('utf8'),
            }),
          );
          incoming.on('error', reject);
        },
      );
      outgoing.on('error', reject);
      outgoing.end(body);
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}

/** `Authorization: Basic` as RFC 6749 §2.3.1 builds it (form-encoded id and secret). */
export function basicAuth(clientId: string, secret: string): string {
  const encode = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(secret)}`).toString('base64')}`;
}

export interface LoadOptions {
  readonly concurrency: number;
  /** Operations before timing starts (the same workers, so per-worker state carries over). */
  readonly warmup: number;
  /** Timed operations. */
  readonly total: number;
  /** One operation by worker `worker`; it throws when the answer is not the expected one. */
  readonly step: (worker: number) => Promise<void>;
}

export interface LoadResult {
  readonly operations: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** Runs `warmup` then `total` operations with `concurrency` workers; times only the second phase. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  await phase(options.concurrency, options.warmup, options.step, undefined);
  const latencies = new Float64Array(options.total);
  const started = performance.now();
  await phase(options.concurrency, options.total, options.step, latencies);
  const seconds = (performance.now() - started) / 1000;
  return {
    operations: options.total,
    seconds,
    perSecond: options.total / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
  };
}

async function phase(
  concurrency: number,
  count: number,
  step: (worker: number) => Promise<void>,
  latencies: Float64Array | undefined,
): Promise<void> {
  let next = 0;
  const worker = async (index: number) => {
    while (next < count) {
      const slot = next++;
      const t0 = performance.now();
      try {
        await step(index);
      } catch (error) {
        next = count; // the other workers stop too: one wrong answer fails the row
        throw error;
      }
      if (latencies) latencies[slot] = performance.now() - t0;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, (_, i) => worker(i)));
}
