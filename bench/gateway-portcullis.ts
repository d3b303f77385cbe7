// The Portcullis process of bench/gateway.bench.ts (started through bench/gateway-servers.ts): Portcullis as
// `portcullis serve` builds it (openData + createPortcullis, SQLite in a temporary data directory, initialised), with
// a registered forward-auth application, a user in four groups with a live MFA session, and the Conditional Access set
// of bench/gateway-tenant.ts. Log level BENCH_GATEWAY_LOG_LEVEL (default warn: an allowed request logs nothing, as on
// a production server whose admin keeps per-request logs off).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../src/clock.ts';
import { loadConfig } from '../src/config/load.ts';
import { directoryFor } from '../src/directory/directory.ts';
import { GatewayRegistry, gatewayCallbackUrl } from '../src/gateway/registry.ts';
import { SessionModuleGatewaySessions } from '../src/gateway/session-port.ts';
import { initialise } from '../src/init.ts';
import { createPortcullis, openData, type Portcullis } from '../src/start.ts';
import { PolicyRepository } from '../src/store/repositories/policy-repository.ts';
import { BENCH_COOKIE_DOMAIN, BENCH_HOST, BENCH_PUBLIC_URL, type Running } from './gateway-servers.ts';
import { writeBenchTenant } from './gateway-tenant.ts';

/** The running server, and what profiling it in-process needs. */
export interface RunningPortcullis extends Running {
  readonly portcullis: Portcullis;
  readonly tenantId: string;
}

export async function startPortcullis(): Promise<RunningPortcullis> {
  const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-bench-gateway-'));
  try {
    return await setUp(dataDir);
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}

async function setUp(dataDir: string): Promise<RunningPortcullis> {
  const logLevel = process.env.BENCH_GATEWAY_LOG_LEVEL ?? 'warn';
  const { config } = loadConfig({
    env: {
      PORTCULLIS_DATA_DIR: dataDir,
      PORTCULLIS_LOG_LEVEL: logLevel,
      PORTCULLIS_PUBLIC_URL: BENCH_PUBLIC_URL,
      // nginx on the same machine is the only trusted proxy; the client's address comes from its X-Forwarded-For.
      PORTCULLIS_TRUSTED_PROXIES: '127.0.0.1/32',
      PORTCULLIS_GATEWAY_COOKIE_DOMAIN: BENCH_COOKIE_DOMAIN,
    },
  });
  const opened = await openData(config);
  const { store } = opened;
  const init = await initialise(store, { publicUrl: BENCH_PUBLIC_URL, clock: systemClock });
  const tenantId = init.summary.tenant;
  const directory = directoryFor(store.forTenant(tenantId));

  const alice = await directory.users.create({
    userPrincipalName: 'alice@bench.example',
    displayName: 'Alice Émile',
    mail: 'alice@bench.example',
  });
  const breakGlass: string[] = [];
  for (const n of [1, 2]) {
    const user = await directory.users.create({ userPrincipalName: `breakglass${n}@bench.example`, displayName: 'BG' });
    breakGlass.push(user.id);
  }
  // 30 groups; Alice is in three directly, and through "Engineering" (nested) in a fourth.
  const groups: string[] = [];
  for (let i = 0; i < 30; i++) groups.push((await directory.groups.create({ displayName: `Team ${i}` })).id);
  for (const i of [0, 1, 2]) await directory.groups.addMember(groups[i], { type: 'user', id: alice.id });
  await directory.groups.addMember(groups[3], { type: 'group', id: groups[0] });
  const userGroups = groups.slice(0, 4);

  const wiki = await directory.applications.create({
    displayName: 'Wiki',
    clientType: 'public',
    redirectUris: [gatewayCallbackUrl(BENCH_PUBLIC_URL, tenantId)],
  });
  const otherApps: string[] = [];
  for (let i = 0; i < 9; i++) {
    const app = await directory.applications.create({
      displayName: `App ${i}`,
      clientType: 'public',
      redirectUris: [`http://127.0.0.1/app-${i}/callback`],
    });
    otherApps.push(app.application.appId);
  }
  // Registered as the admin API registers it (stored; the server's registry reads it at start-up).
  await new GatewayRegistry({ store, publicUrl: () => BENCH_PUBLIC_URL }).register(tenantId, {
    appId: wiki.application.appId,
    hosts: [BENCH_HOST],
  });
  const summary = await writeBenchTenant(new PolicyRepository(store.forTenant(tenantId)), {
    appId: wiki.application.appId,
    otherApps,
    userGroups,
    otherGroups: groups.slice(4),
    breakGlass,
  });

  const portcullis = createPortcullis({ config, opened });
  await portcullis.app.listen({ port: 0, host: '127.0.0.1' });
  const address = portcullis.app.server.address();
  if (address === null || typeof address !== 'object') throw new Error('the server has no TCP address');

  // The session a gateway sign-in with password and MFA ends in, made directly through the session module, and
  // named by the cookies the gateway's callback would set.
  const created = await portcullis.services.sessions(tenantId).create(alice.id, { amr: ['pwd', 'mfa'] });
  const port = new SessionModuleGatewaySessions({
    sessions: portcullis.services.sessions,
    publicUrl: () => BENCH_PUBLIC_URL,
    cookieDomain: BENCH_COOKIE_DOMAIN,
  });
  const pairs = port.cookiesFor(tenantId, created).map((line) => line.split(';')[0]);
  const names = port.cookieNames(tenantId);
  return {
    server: portcullis.app.server,
    app: portcullis.app,
    portcullis,
    tenantId,
    ready: {
      op: 'ready',
      kind: 'portcullis',
      port: address.port,
      cookie: pairs.join('; '),
      bare: {
        cookieName: names.session,
        sessions: {
          [created.sessionId]: {
            'remote-user': 'alice@bench.example',
            'remote-groups': 'Team 0,Team 1,Team 2,Team 3',
            'remote-email': 'alice@bench.example',
            'remote-name': Buffer.from('Alice Émile', 'utf8').toString('latin1'),
          },
        },
      },
      tenant: { ...summary, groups: userGroups.length, logLevel },
    },
    async close() {
      await portcullis.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
