// `portcullis serve` starts without a built console (web/dist missing, e.g. `npm install --omit=dev`): the console
// URL answers 503 with how to build it, and the sign-in and session routes still work.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../src/clock.ts';
import { loadConfig } from '../../src/config/load.ts';
import { consolePlugin } from '../../src/console/plugin.ts';
import { createTenant } from '../../src/directory/tenants.ts';
import { createLogger } from '../../src/http/logger.ts';
import { buildServer } from '../../src/server.ts';
import { Sessions } from '../../src/session/sessions.ts';
import type { SignInServices } from '../../src/signin/ports.ts';
import { type OpenedStore, openData } from '../../src/start.ts';

describe('console without a build', () => {
  let dir: string;
  let opened: OpenedStore;
  let tenantId: string;
  let app: ReturnType<typeof buildServer>;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'portcullis-console-nobuild-'));
    const clock = new ManualClock(Date.now());
    const { config } = loadConfig({
      env: { PORTCULLIS_DATA_DIR: dir, PORTCULLIS_MASTER_KEY: randomBytes(32).toString('base64') },
    });
    opened = await openData(config, clock);
    tenantId = (await createTenant(opened.store, { name: 'contoso', displayName: 'Contoso' })).id;
    const services = {
      store: opened.store,
      keyring: opened.keyring,
      clock,
      sessions: (id: string) => new Sessions(opened.store.forTenant(id)),
    } as unknown as SignInServices;
    app = buildServer({
      config,
      clock,
      logger: createLogger({ level: 'silent' }),
      readiness: async () => {},
      plugins: [consolePlugin(services, { distDir: join(dir, 'no-such-build') })],
    });
    await app.ready();
  });
  after(async () => {
    await app?.close();
    await opened?.store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the console URL says how to build it', async () => {
    const response = await app.inject({ method: 'GET', url: `/t/${tenantId}/console/` });
    assert.equal(response.statusCode, 503);
    assert.match(response.body, /The admin console is not built/);
    assert.match(response.body, /npm install/);
    assert.match(response.headers['content-security-policy'] as string, /default-src 'self'/);
  });

  test('an unknown tenant is 404, and the session route answers 401 without a session', async () => {
    const unknown = await app.inject({ method: 'GET', url: '/t/00000000-0000-4000-8000-000000000000/console/' });
    assert.equal(unknown.statusCode, 404);
    const session = await app.inject({ method: 'GET', url: `/t/${tenantId}/console/session` });
    assert.equal(session.statusCode, 401);
    assert.equal(session.json().error.code, 'InvalidAuthenticationToken');
  });
});
