// The server side of bench/token.bench.ts, run in a child process so that its CPU time and memory are its own:
// either Portcullis as `portcullis serve` builds it (openData + createPortcullis, initialised, with users, a web app
// and a Conditional Access policy), or a bare oidc-provider with its default memory adapter. It listens on
// 127.0.0.1, says where over IPC, and answers the parent's questions (CPU and memory used, hash timings, refresh
// tokens for the bare provider) until told to stop.
//
// Usage (from token.bench.ts): fork('bench/token-server.ts', ['portcullis' | 'oidc-provider']); PostgreSQL when
// BENCH_POSTGRES_URL is set, else SQLite in a temporary data directory.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';
import { hashPassword, OWASP_ARGON2ID, verifyPassword } from '../src/auth/password-hash.ts';
import { PasswordCredentialRepository } from '../src/auth/store/index.ts';
import { systemClock } from '../src/clock.ts';
import { loadConfig } from '../src/config/load.ts';
import { directoryFor } from '../src/directory/directory.ts';
import { initialise } from '../src/init.ts';
import { ADMIN_API_RESOURCE, ADMIN_API_SCOPE } from '../src/oidc/provider.ts';
import { createPortcullis, openData } from '../src/start.ts';
import { PolicyRepository } from '../src/store/repositories/policy-repository.ts';
import { percentile } from './stats.ts';

export type ServerKind = 'portcullis' | 'oidc-provider';

export interface Client {
  readonly clientId: string;
  readonly clientSecret: string;
}

/** What the child tells the parent once it listens. */
export interface ServerReady {
  readonly op: 'ready';
  readonly kind: ServerKind;
  readonly store: 'sqlite' | 'postgres' | 'memory';
  readonly url: string;
  /** The issuer; its token endpoint is `${issuer}/token`. */
  readonly issuer: string;
  /** Client credentials for the admin API (Portcullis: the client `init` registers). */
  readonly automation: Client;
  /** A confidential web app with authorization_code + refresh_token (Portcullis only: the bare one uses the API). */
  readonly web?: Client & { readonly redirectUri: string };
  /**
   * A client whose ID tokens are ES256 (`id_token_signed_response_alg`); otherwise as `web` (Portcullis) or as
   * `automation` (the bare provider), whose ID tokens are RS256.
   */
  readonly es256?: Client & { readonly redirectUri: string };
  /** Users with a password, for the sign-in flows (Portcullis only). */
  readonly users?: readonly string[];
  readonly password?: string;
}

export type Question =
  | { readonly id: number; readonly op: 'usage' }
  | { readonly id: number; readonly op: 'hash-timing'; readonly samples: number; readonly parallel: number }
  | { readonly id: number; readonly op: 'refresh-tokens'; readonly count: number; readonly clientId: string }
  | { readonly id: number; readonly op: 'stop' };

export interface Usage {
  /** User + system CPU of the whole process (the JS thread, libuv's pool where argon2 runs, GC threads). */
  readonly cpuMicros: number;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
}

export interface HashTiming {
  /** Median wall time of one hashPassword, one at a time on an idle process. */
  readonly hashMs: number;
  /** Median wall time of one verifyPassword, one at a time on an idle process. */
  readonly verifyMs: number;
  /** Process CPU per verifyPassword when `parallel` run at once (as concurrent sign-ins do). */
  readonly parallelVerifyCpuMs: number;
  readonly parallel: number;
}

const HOUR = 3600;
const DAY = 24 * HOUR;
const BENCH_USERS = 16;
const PASSWORD = 'correct horse battery staple, benchmarked';
const REDIRECT_URI = 'http://127.0.0.1/bench/callback';

export interface Running {
  readonly ready: ServerReady;
  refreshTokens?(count: number, clientId: string): Promise<string[]>;
  close(): Promise<void>;
}

export async function startPortcullis(): Promise<Running> {
  const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-bench-'));
  const postgresUrl = process.env.BENCH_POSTGRES_URL;
  const { config } = loadConfig({
    env: {
      PORTCULLIS_DATA_DIR: dataDir,
      PORTCULLIS_LOG_LEVEL: 'silent',
      ...(postgresUrl ? { PORTCULLIS_POSTGRES_URL: postgresUrl } : {}),
    },
  });
  const opened = await openData(config);
  let url = '';
  const portcullis = createPortcullis({ config, opened, housekeepingMs: 0, publicUrl: () => url });
  await portcullis.app.listen({ port: 0, host: '127.0.0.1' });
  const address = portcullis.app.server.address();
  if (address === null || typeof address !== 'object') throw new Error('the server has no TCP address');
  url = `http://127.0.0.1:${address.port}`;

  const init = await initialise(opened.store, { publicUrl: url, clock: systemClock });
  const scope = opened.store.forTenant(init.summary.tenant);
  const directory = directoryFor(scope);
  const passwords = new PasswordCredentialRepository(scope);
  const users: string[] = [];
  for (let i = 0; i < BENCH_USERS; i++) {
    const upn = `user${i}@bench.example`;
    const user = await directory.users.create({ userPrincipalName: upn, displayName: `User ${i}`, mail: upn });
    await passwords.put({ userId: user.id, phc: await hashPassword(PASSWORD), updatedAt: systemClock.now() });
    users.push(upn);
  }
  const web = await directory.applications.create({
    displayName: 'Bench portal',
    clientType: 'confidential',
    redirectUris: [REDIRECT_URI],
  });
  const es256 = await directory.applications.create({
    displayName: 'Bench portal (ES256 ID tokens)',
    clientType: 'confidential',
    redirectUris: [REDIRECT_URI],
    idTokenSignedResponseAlg: 'ES256',
  });
  // A realistic small policy set, so every sign-in and refresh evaluates a location condition: loopback is the
  // trusted headquarters, and everything outside trusted locations is blocked.
  const policies = new PolicyRepository(scope);
  await policies.createLocation({
    '@odata.type': '#microsoft.graph.ipNamedLocation',
    displayName: 'Headquarters',
    isTrusted: true,
    ipRanges: [{ '@odata.type': '#microsoft.graph.iPv4CidrRange', cidrAddress: '127.0.0.1/32' }],
  });
  await policies.createPolicy({
    displayName: 'Block outside trusted locations',
    state: 'enabled',
    conditions: {
      users: { includeUsers: ['All'] },
      applications: { includeApplications: ['All'] },
      clientAppTypes: ['all'],
      locations: { includeLocations: ['All'], excludeLocations: ['AllTrusted'] },
    },
    grantControls: { operator: 'OR', builtInControls: ['block'] },
  });

  return {
    ready: {
      op: 'ready',
      kind: 'portcullis',
      store: postgresUrl ? 'postgres' : 'sqlite',
      url,
      issuer: init.summary.issuer,
      automation: { clientId: init.summary.clientId, clientSecret: init.summary.clientSecret },
      web: { clientId: web.application.appId, clientSecret: web.secretText ?? '', redirectUri: REDIRECT_URI },
      es256: { clientId: es256.application.appId, clientSecret: es256.secretText ?? '', redirectUri: REDIRECT_URI },
      users,
      password: PASSWORD,
    },
    async close() {
      await portcullis.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * oidc-provider as its README sets it up, plus what the comparison needs: one confidential client with client
 * credentials (and a refresh grant), the same resource server (`api://portcullis`, JWT access tokens signed ES256)
 * and rotating refresh tokens. Storage is its default memory adapter.
 */
export async function startBareProvider(): Promise<Running> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true, modulusLength: 2048 });
  const jwk = { ...(await exportJWK(privateKey)), kid: 'bench', alg: 'RS256', use: 'sig' };
  const ec = await generateKeyPair('ES256', { extractable: true });
  const ecJwk = { ...(await exportJWK(ec.privateKey)), kid: 'bench-ec', alg: 'ES256', use: 'sig' };
  const automation = { clientId: 'bench-client', clientSecret: 'bench-secret-that-is-long-enough-for-hs256-0123' };
  const es256 = { clientId: 'bench-client-es256', clientSecret: automation.clientSecret, redirectUri: REDIRECT_URI };
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address !== 'object') throw new Error('the server has no TCP address');
  const url = `http://127.0.0.1:${address.port}`;
  const provider = new Provider(url, {
    clients: [
      {
        client_id: automation.clientId,
        client_secret: automation.clientSecret,
        grant_types: ['client_credentials', 'authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: [REDIRECT_URI],
      },
      {
        client_id: es256.clientId,
        client_secret: es256.clientSecret,
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: [REDIRECT_URI],
        id_token_signed_response_alg: 'ES256',
      },
    ],
    jwks: { keys: [jwk as never, ecJwk as never] },
    findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
    scopes: ['openid', 'offline_access'],
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: async (ctx, _client, oneOf) => {
          if (oneOf) return oneOf;
          const requested = String(ctx.oidc.params?.scope ?? '').split(' ');
          return requested.includes(ADMIN_API_SCOPE) ? ADMIN_API_RESOURCE : undefined;
        },
        useGrantedResource: async () => true,
        getResourceServerInfo: async () => ({
          scope: ADMIN_API_SCOPE,
          audience: ADMIN_API_RESOURCE,
          accessTokenFormat: 'jwt',
          accessTokenTTL: 3600,
          // As Portcullis signs its admin API's access tokens (src/oidc/provider.ts); ID tokens RS256 in both.
          jwt: { sign: { alg: 'ES256' } },
        }),
      },
    },
    rotateRefreshToken: true,
    // Portcullis's defaults (config `tokens`): an hour for access and ID tokens, 90 days for refresh tokens.
    ttl: {
      AccessToken: HOUR,
      ClientCredentials: HOUR,
      IdToken: HOUR,
      Grant: 90 * DAY,
      RefreshToken: 90 * DAY,
    },
  });
  server.on('request', provider.callback());
  return {
    ready: { op: 'ready', kind: 'oidc-provider', store: 'memory', url, issuer: url, automation, es256 },
    /** Refresh tokens of `clientId` issued through the provider's own models (no sign-in UI), one grant each. */
    async refreshTokens(count, clientId) {
      const client = await provider.Client.find(clientId);
      if (!client) throw new Error(`the bench client ${clientId} is missing`);
      const tokens: string[] = [];
      for (let i = 0; i < count; i++) {
        const accountId = `user${i}`;
        const grant = new provider.Grant({ accountId, clientId });
        grant.addOIDCScope('openid offline_access');
        const grantId = await grant.save();
        const token = new provider.RefreshToken({
          accountId,
          client,
          grantId,
          scope: 'openid offline_access',
          gty: 'authorization_code',
          authTime: Math.floor(Date.now() / 1000),
        });
        tokens.push(await token.save());
      }
      return tokens;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * Median time of `samples` calls of hashPassword and of verifyPassword, one at a time, in this process; then the CPU
 * of `samples` rounds of `parallel` verifications at once (memory-hard hashes slow each other down on shared caches).
 */
async function hashTiming(samples: number, parallel: number): Promise<HashTiming> {
  const hashes: number[] = [];
  const verifies: number[] = [];
  const phc = await hashPassword(PASSWORD, OWASP_ARGON2ID);
  for (let i = 0; i < samples; i++) {
    let t0 = performance.now();
    await hashPassword(PASSWORD, OWASP_ARGON2ID);
    hashes.push(performance.now() - t0);
    t0 = performance.now();
    if (!(await verifyPassword(phc, PASSWORD))) throw new Error('verifyPassword refused the right password');
    verifies.push(performance.now() - t0);
  }
  const before = process.cpuUsage();
  for (let i = 0; i < samples; i++) {
    await Promise.all(Array.from({ length: parallel }, () => verifyPassword(phc, PASSWORD)));
  }
  const cpu = process.cpuUsage(before);
  return {
    hashMs: percentile(hashes, 50),
    verifyMs: percentile(verifies, 50),
    parallelVerifyCpuMs: (cpu.user + cpu.system) / 1000 / (samples * parallel),
    parallel,
  };
}

async function main(): Promise<void> {
  const send = process.send?.bind(process);
  if (!send) throw new Error('bench/token-server.ts runs as a child of bench/token.bench.ts (it needs an IPC channel)');
  const kind = process.argv[2] as ServerKind;
  if (kind !== 'portcullis' && kind !== 'oidc-provider') {
    throw new Error(`the server kind must be 'portcullis' or 'oidc-provider', not '${kind}'`);
  }
  const running = kind === 'portcullis' ? await startPortcullis() : await startBareProvider();
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= running.close();
    return closing;
  };
  // The parent went away without saying stop (it crashed, or was interrupted): close, so no server is left behind.
  process.once('disconnect', () => {
    void close().finally(() => process.exit(0));
  });
  process.on('message', async (question: Question) => {
    try {
      switch (question.op) {
        case 'usage': {
          const cpu = process.cpuUsage();
          const memory = process.memoryUsage();
          const usage: Usage = {
            cpuMicros: cpu.user + cpu.system,
            rssBytes: memory.rss,
            heapUsedBytes: memory.heapUsed,
          };
          send({ id: question.id, answer: usage });
          break;
        }
        case 'hash-timing':
          send({ id: question.id, answer: await hashTiming(question.samples, question.parallel) });
          break;
        case 'refresh-tokens': {
          if (!running.refreshTokens) throw new Error(`${kind} does not hand out refresh tokens over IPC`);
          send({ id: question.id, answer: await running.refreshTokens(question.count, question.clientId) });
          break;
        }
        case 'stop':
          await close();
          send({ id: question.id, answer: true });
          process.disconnect();
          break;
      }
    } catch (error) {
      send({ id: question.id, error: (error as Error).stack ?? String(error) });
    }
  });
  send(running.ready);
}

if (import.meta.main) await main();
