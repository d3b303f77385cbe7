// `portcullis init`, `serve` and `keys rotate` as separate processes, on SQLite and on a real PostgreSQL: the
// contract of `init --json`, a first `serve` that initialises, a restart that keeps the data, migrations applied at
// start-up, secrets never stored in plain text, and master key rotation.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { decodeJwt } from 'jose';
import * as client from 'openid-client';
import { verifyPassword } from '../../src/auth/password-hash.ts';
import { PasswordCredentialRepository } from '../../src/auth/store/index.ts';
import { loadConfig } from '../../src/config/load.ts';
import { directoryFor } from '../../src/directory/directory.ts';
import { GLOBAL_ADMINISTRATOR } from '../../src/directory/roles.ts';
import type { InitSummary } from '../../src/init.ts';
import { ADMIN_API_RESOURCE, ADMIN_API_SCOPE } from '../../src/oidc/provider.ts';
import { openData } from '../../src/start.ts';
import { TenantRepository } from '../../src/store/tenant-repository.ts';
import { storesUnderTest } from '../support/stores.ts';
import { freePort, run, Served } from './process.ts';

const insecure = { execute: [client.allowInsecureRequests] };
const PASSWORD = 'a long and unusual pass phrase 7';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-serve-'));
  dirs.push(dir);
  return dir;
}

async function clientCredentials(summary: Pick<InitSummary, 'issuer' | 'clientId' | 'clientSecret'>) {
  const config = await client.discovery(
    new URL(summary.issuer),
    summary.clientId,
    summary.clientSecret,
    undefined,
    insecure,
  );
  return client.clientCredentialsGrant(config, { scope: ADMIN_API_SCOPE });
}

/** The banner's admin API client, as `serve` prints it on a first start. */
function bannerClient(stderr: string): { clientId: string; clientSecret: string } {
  const clientId = /client id\s+(\S+)/.exec(stderr)?.[1];
  const clientSecret = /client secret\s+(\S+)/.exec(stderr)?.[1];
  assert.ok(clientId && clientSecret, `the banner shows the admin API client:\n${stderr}`);
  return { clientId, clientSecret };
}

for (const db of storesUnderTest()) {
  describe(`${db.name}: portcullis init`, () => {
    test('--json prints exactly the contract; the password from stdin is the one stored, as a hash', async () => {
      const dir = dataDir();
      const env = await db.emptyDatabaseEnv();
      const port = await freePort();
      const result = await run(['init', '--json', '--data-dir', dir, '--port', String(port)], {
        env,
        stdin: `${PASSWORD}\n`,
      });
      assert.equal(result.code, 0, result.stderr);
      const summary = JSON.parse(result.stdout) as InitSummary;
      assert.deepEqual(Object.keys(summary), [
        'tenant',
        'issuer',
        'tokenEndpoint',
        'graphBaseUrl',
        'clientId',
        'clientSecret',
        'scope',
      ]);
      const issuer = `http://localhost:${port}/t/${summary.tenant}`;
      assert.equal(summary.issuer, issuer);
      assert.equal(summary.tokenEndpoint, `${issuer}/token`);
      assert.equal(summary.graphBaseUrl, `${issuer}/graph/v1.0`);
      assert.equal(summary.scope, ADMIN_API_SCOPE);
      assert.match(result.stderr, /Global Administrator: admin@localhost/);
      assert.doesNotMatch(result.stderr, new RegExp(PASSWORD), 'a password given on stdin is never echoed');

      const { config } = loadConfig({ env: { ...env, PORTCULLIS_DATA_DIR: dir } });
      const opened = await openData(config);
      try {
        assert.deepEqual(opened.migrated, [], 'init applied every migration');
        const tenant = await new TenantRepository(opened.store).get(summary.tenant);
        assert.equal(tenant?.name, 'default');
        const directory = directoryFor(opened.store.forTenant(summary.tenant));
        const admin = await directory.users.getByUserPrincipalName('admin@localhost');
        assert.ok(admin);
        assert.deepEqual(await directory.roles.rolesOf(admin.id), [GLOBAL_ADMINISTRATOR]);
        const stored = await new PasswordCredentialRepository(opened.store.forTenant(summary.tenant)).get(admin.id);
        assert.match(stored?.phc ?? '', /^\$argon2id\$/);
        assert.equal(await verifyPassword(stored?.phc ?? '', PASSWORD), true);
        const apps = await directory.applications.list();
        assert.deepEqual(
          apps.items.map((a) => [a.appId, a.grantTypes]),
          [[summary.clientId, ['client_credentials']]],
        );
      } finally {
        await opened.store.close();
      }
      if (db.name === 'sqlite') {
        const bytes = readFileSync(join(dir, 'portcullis.db'));
        for (const secret of [PASSWORD, summary.clientSecret]) {
          assert.equal(bytes.includes(secret), false, 'no secret is stored in plain text');
        }
      }
    });

    test('a second init refuses and changes nothing; a refused password writes nothing', async () => {
      const env = await db.emptyDatabaseEnv();
      const weak = dataDir();
      const refused = await run(['init', '--json', '--data-dir', weak], { env, stdin: 'short\n' });
      assert.equal(refused.code, 1);
      assert.equal(refused.stdout, '');
      assert.match(refused.stderr, /portcullis init: the administrator's password is refused: .*8/);
      const { config } = loadConfig({ env: { ...env, PORTCULLIS_DATA_DIR: weak } });
      const opened = await openData(config);
      assert.deepEqual(await new TenantRepository(opened.store).list(), [], 'no tenant was created');
      await opened.store.close();

      const first = await run(['init', '--json', '--data-dir', weak], { env, stdin: PASSWORD });
      assert.equal(first.code, 0, first.stderr);
      const again = await run(['init', '--json', '--data-dir', weak], { env });
      assert.equal(again.code, 1);
      assert.equal(again.stdout, '');
      assert.match(again.stderr, /already has a Global Administrator/);
    });
  });

  describe(`${db.name}: portcullis serve`, () => {
    test('on an empty data directory: initialises, prints the discovery URL, serves; a restart keeps the data', async () => {
      const dir = dataDir();
      const env = await db.emptyDatabaseEnv();
      const port = await freePort();
      const args = ['--data-dir', dir, '--port', String(port)];
      const first = new Served(args, env);
      try {
        const [, discovery] = await first.waitFor(/OpenID Connect discovery: (\S+)/);
        const issuer = discovery.replace('/.well-known/openid-configuration', '');
        assert.match(first.stderr, /This data directory was empty, so it has been initialised/);
        assert.match(first.stderr, /Password: \S{24} {3}\(generated; shown only this once\)/);
        const { clientId, clientSecret } = bannerClient(first.stderr);

        assert.equal((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 200);
        const [, consoleUrl] = first.stderr.match(/Admin console: (\S+)/) ?? [];
        assert.equal(consoleUrl, `${issuer}/console/`);
        const consolePage = await fetch(consoleUrl);
        assert.equal(consolePage.status, 200, 'npm install built the console');
        assert.match(await consolePage.text(), /<html/i);
        const metadata = (await (await fetch(discovery)).json()) as { issuer: string };
        assert.equal(metadata.issuer, issuer);
        const tokens = await clientCredentials({ issuer, clientId, clientSecret });
        assert.equal(decodeJwt(tokens.access_token).aud, ADMIN_API_RESOURCE);
        const settings = await fetch(`${issuer}/graph/v1.0/policies/sessionSettings`, {
          headers: { authorization: `Bearer ${tokens.access_token}` },
        });
        assert.equal(settings.status, 200, 'the automation client is a Global Administrator of the admin API');
        assert.equal(
          ((await settings.json()) as { maximumSessionLengthMinutes: number }).maximumSessionLengthMinutes,
          1440,
        );
        assert.equal(await first.stop(), 0, 'SIGTERM shuts down cleanly');
        assert.match(first.stdout, /received SIGTERM; shutting down/);

        const second = new Served(args, env);
        try {
          const [, again] = await second.waitFor(/OpenID Connect discovery: (\S+)/);
          assert.equal(again, discovery, 'the same tenant');
          assert.doesNotMatch(second.stderr, /initialised|client secret/, 'no second init, no secret shown');
          const later = await clientCredentials({ issuer, clientId, clientSecret });
          assert.equal(decodeJwt(later.access_token).iss, issuer, 'signing keys and the client survived the restart');
        } finally {
          assert.equal(await second.stop(), 0);
        }
      } finally {
        await first.stop();
      }
    });
  });
}

describe('portcullis serve: refusals', () => {
  test('bad configuration: every problem named, exit 1, nothing listening', async () => {
    const result = await run(['serve', '--data-dir', dataDir(), '--port', '70000', '--public-url', 'ftp://x']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /portcullis serve: the configuration has 2 problems/);
    assert.match(result.stderr, /port/);
    assert.match(result.stderr, /publicUrl/);
    assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
  });

  test('a port already in use is reported, exit 1', async () => {
    const dir = dataDir();
    const port = await freePort();
    const first = new Served(['--data-dir', dir, '--port', String(port)], {});
    try {
      await first.waitFor(/OpenID Connect discovery/);
      const second = await run(['serve', '--data-dir', dir, '--port', String(port)]);
      assert.equal(second.code, 1);
      assert.match(second.stderr, /portcullis serve: cannot listen: .*EADDRINUSE/);
    } finally {
      await first.stop();
    }
  });
});

describe('portcullis serve started by an older system Node', () => {
  const systemNode = '/usr/bin/node';
  const older =
    existsSync(systemNode) && !execFileSync(systemNode, ['--version'], { encoding: 'utf8' }).startsWith('v24');
  test('re-runs on the pinned Node 24 and passes SIGTERM on for a clean shutdown', {
    skip: !older && 'no older system Node',
  }, async () => {
    const port = await freePort();
    const served = new Served(['--data-dir', dataDir(), '--port', String(port)], {}, systemNode);
    await served.waitFor(/OpenID Connect discovery/);
    assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
    assert.equal(await served.stop(), 0);
    assert.match(served.stdout, /received SIGTERM; shutting down/);
    await assert.rejects(fetch(`http://127.0.0.1:${port}/healthz`), 'the server process ended too');
  });
});

describe('portcullis keys rotate', () => {
  test('with the key file: new data keys, a new key file; the old key no longer opens the data', async () => {
    const dir = dataDir();
    const init = await run(['init', '--json', '--data-dir', dir], { stdin: PASSWORD });
    assert.equal(init.code, 0, init.stderr);
    const summary = JSON.parse(init.stdout) as InitSummary;
    const oldKey = readFileSync(join(dir, 'master.key'), 'utf8').trim();

    const rotated = await run(['keys', 'rotate', '--data-dir', dir]);
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.match(rotated.stdout, new RegExp(`tenant ${summary.tenant}: data key version \\d+`));
    assert.match(rotated.stdout, /re-wrapped \d+ data keys under a new master key/);
    const newKey = readFileSync(join(dir, 'master.key'), 'utf8').trim();
    assert.notEqual(newKey, oldKey);

    const port = await freePort();
    const served = new Served(['--data-dir', dir, '--port', String(port)], {});
    try {
      const [, discovery] = await served.waitFor(/OpenID Connect discovery: (\S+)/);
      const issuer = discovery.replace('/.well-known/openid-configuration', '');
      const tokens = await clientCredentials({
        issuer,
        clientId: summary.clientId,
        clientSecret: summary.clientSecret,
      });
      assert.ok(tokens.access_token, 'the signing keys decrypt under the rotated keys');
    } finally {
      assert.equal(await served.stop(), 0);
    }

    const stale = await run(['serve', '--data-dir', dir, '--port', String(port)], {
      env: { PORTCULLIS_MASTER_KEY: oldKey },
    });
    assert.equal(stale.code, 1);
    assert.match(stale.stderr, /portcullis serve: .*master key/);
  });

  test('with a configured key: the new key comes on stdin; then only the new key opens the data', async () => {
    const dir = dataDir();
    const oldKey = Buffer.from(Array.from({ length: 32 }, (_, i) => i + 7)).toString('base64');
    const newKey = Buffer.from(Array.from({ length: 32 }, (_, i) => i * 3 + 9)).toString('base64');
    const init = await run(['init', '--json', '--data-dir', dir], {
      env: { PORTCULLIS_MASTER_KEY: oldKey },
      stdin: PASSWORD,
    });
    assert.equal(init.code, 0, init.stderr);
    assert.doesNotMatch(init.stderr, /INSECURE/, 'a configured key is not the data directory key file');

    const without = await run(['keys', 'rotate', '--data-dir', dir], { env: { PORTCULLIS_MASTER_KEY: oldKey } });
    assert.equal(without.code, 0, without.stderr);
    assert.match(without.stdout, /the master key is configured .* so it was kept/);

    const rotated = await run(['keys', 'rotate', '--new-master-key-stdin', '--data-dir', dir], {
      env: { PORTCULLIS_MASTER_KEY: oldKey },
      stdin: `${newKey}\n`,
    });
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.match(rotated.stdout, /re-wrapped \d+ data keys under the new master key/);

    const stale = await run(['keys', 'rotate', '--data-dir', dir], { env: { PORTCULLIS_MASTER_KEY: oldKey } });
    assert.equal(stale.code, 1);
    assert.match(stale.stderr, /master key/);
    const fresh = await run(['keys', 'rotate', '--data-dir', dir], { env: { PORTCULLIS_MASTER_KEY: newKey } });
    assert.equal(fresh.code, 0, fresh.stderr);
  });
});
