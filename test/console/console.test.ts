// The admin console in a real browser (Debian's Chromium through playwright-core) against a running Portcullis built
// as `portcullis serve` builds it (test/oidc/harness.ts). Alice, a Global Administrator whom a policy asks for MFA,
// signs in with password and TOTP; creates a trusted named location (after an invalid range is refused next to its
// field); creates a blocking policy in report-only; sees it apply in What If; switches it on; then bob, whose requests
// come through a trusted proxy from an untrusted address, is blocked, and alice finds that sign-in, with the policy's
// result, in the sign-in log. axe-core checks every screen. The API refuses the console cookie without its CSRF header
// and once the Portcullis session it rides on is revoked; bob, who holds no admin role, is told so.
// Screenshots: test-artifacts/console/ (gitignored).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { generateTotpSecret, totpCodeAt } from '../../src/auth/totp.ts';
import { CONSOLE_APP_ID } from '../../src/console/console-app.ts';
import { directoryFor } from '../../src/directory/directory.ts';
import { GLOBAL_ADMINISTRATOR, REPORTS_READER } from '../../src/directory/roles.ts';
import { type Harness, PASSWORDS, requireMfaForRole, startHarness } from '../oidc/harness.ts';
import { ABROAD, authorizationUrl, forwardingProxy, launch } from '../signin/browser.ts';
import { assertAccessible, buildConsole, cookieHeader, screenshot } from './browser.ts';

const POLICY = 'Block outside trusted locations (console)';

describe('admin console in Chromium', () => {
  let h: Harness;
  let proxy: { server: Server; url: string };
  let profiles: string;
  let alice: BrowserContext;
  let page: Page;
  let consoleUrl: string;
  let graphUrl: string;
  const totpSecret = generateTotpSecret();

  before(async () => {
    await buildConsole();
    profiles = mkdtempSync(join(tmpdir(), 'portcullis-console-'));
    h = await startHarness();
    // No named locations yet (alice makes one); admins must use MFA, whatever the application.
    await h.policies.set(h.tenantId, [], [requireMfaForRole(GLOBAL_ADMINISTRATOR)]);
    const now = h.clock.now();
    await h.credentials.for(h.tenantId).totp.put({
      userId: h.users.alice,
      secret: totpSecret,
      lastUsedStep: null,
      createdAt: now,
      confirmedAt: now,
    });
    proxy = await forwardingProxy(ABROAD);
    consoleUrl = `${h.url}/t/${h.tenantId}/console/`;
    graphUrl = `${h.url}/t/${h.tenantId}/graph/v1.0`;
    alice = await launch(join(profiles, 'alice'));
    page = await alice.newPage();
  });
  after(async () => {
    await alice?.close();
    await h?.close();
    await new Promise((resolve) => proxy?.server.close(resolve));
    rmSync(profiles, { recursive: true, force: true });
  });

  test('the console is served with a CSP and cache headers', async () => {
    const index = await fetch(consoleUrl);
    assert.equal(index.status, 200);
    assert.equal(index.headers.get('cache-control'), 'no-cache');
    assert.match(index.headers.get('content-security-policy') ?? '', /script-src 'self';.*frame-ancestors 'none'/);
    const script = /src="\.\/(assets\/[^"]+\.js)"/.exec(await index.text())?.[1];
    assert.ok(script, 'index.html loads a hashed script');
    const asset = await fetch(`${consoleUrl}${script}`);
    assert.equal(asset.status, 200);
    assert.equal(asset.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.match(asset.headers.get('content-type') ?? '', /^text\/javascript/);
    assert.equal((await fetch(`${consoleUrl}assets/nothing.js`)).status, 404);
    assert.equal((await fetch(`${h.url}/t/${h.tenantId}/console`, { redirect: 'manual' })).status, 308);
    const session = await fetch(`${consoleUrl}session`);
    assert.equal(session.status, 401, 'not signed in');
  });

  test('alice signs in with password and TOTP (Conditional Access applies to the console)', async () => {
    await page.goto(consoleUrl);
    await page.getByRole('heading', { name: 'Portcullis admin console' }).waitFor();
    await assertAccessible(page, 'the sign-in landing page');
    await screenshot(page, 'console-01-landing');
    await page.getByRole('link', { name: 'Sign in' }).click();
    await page.getByLabel('Email or user name').fill('alice@contoso.example');
    await page.getByLabel('Password').fill(PASSWORDS.alice);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByLabel('Code from your authenticator app').fill(await totpCodeAt(totpSecret, h.clock.now()));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('heading', { name: 'Named locations', level: 1 }).waitFor();
    assert.equal(new URL(page.url()).pathname, `/t/${h.tenantId}/console/`);
    await assertAccessible(page, 'named locations (empty)');
    await screenshot(page, 'console-02-signed-in');
    const entry = h.log.entries.at(-1);
    assert.equal(entry?.errorCode, 0);
    assert.ok(
      entry?.evaluation?.policies.some((p) => p.displayName === 'Require MFA for admins' && p.result === 'success'),
      'the MFA policy applied to the console sign-in',
    );
    assert.equal(entry?.app?.appId, CONSOLE_APP_ID, "the console's own appId, which policies can target");
    const cookies = await alice.cookies(h.url);
    const consoleCookie = cookies.find((c) => c.name === `portcullis-console-${h.tenantId}`);
    assert.ok(consoleCookie, 'the console session cookie');
    assert.equal(consoleCookie.httpOnly, true);
    assert.equal(consoleCookie.sameSite, 'Strict');
  });

  test('alice creates a trusted named location; an invalid range is shown next to its field', async () => {
    await page.getByRole('link', { name: 'New IP ranges location' }).click();
    await page.getByLabel('Name').fill('Office');
    await page.getByLabel('IP ranges (CIDR, one per line)').fill('127.0.0.1/32\n10.0.0.0/33');
    await page.getByLabel('Mark as trusted location').check();
    await page.getByRole('button', { name: 'Create' }).click();
    const rangeError = page.locator('.field.invalid .field-errors');
    await rangeError.waitFor();
    assert.match((await rangeError.textContent()) ?? '', /ipRanges\[1\]/);
    assert.equal(
      await page.getByLabel('IP ranges (CIDR, one per line)').getAttribute('aria-invalid'),
      'true',
      'the field is marked invalid and described by its error',
    );
    await assertAccessible(page, 'the location editor with an error');
    await screenshot(page, 'console-03-location-error');
    await page.getByLabel('IP ranges (CIDR, one per line)').fill('127.0.0.1/32\n198.51.100.0/24');
    await page.getByRole('button', { name: 'Create' }).click();
    const row = page.getByRole('row', { name: /Office/ });
    await row.waitFor();
    assert.match((await row.textContent()) ?? '', /Trusted.*127\.0\.0\.1\/32, 198\.51\.100\.0\/24/);
    await assertAccessible(page, 'named locations');
    await screenshot(page, 'console-04-locations');
  });

  test('alice creates a blocking policy in report-only and sees it apply in What If', async () => {
    await page.getByRole('link', { name: 'Conditional Access policies' }).click();
    await page.getByRole('link', { name: 'New policy' }).click();
    await page.getByLabel('Name').fill(POLICY);
    await page.getByLabel('Configure locations').check();
    await page.getByRole('group', { name: 'Excluded locations' }).getByLabel('All trusted locations').check();
    await page.getByRole('radio', { name: 'Block access' }).check();
    assert.equal(await page.getByRole('radio', { name: 'Report-only' }).isChecked(), true, 'new policies start so');
    await assertAccessible(page, 'the policy editor');
    await screenshot(page, 'console-05-policy-editor');
    await page.getByRole('button', { name: 'Create' }).click();
    const row = page.getByRole('row', { name: new RegExp(POLICY.replace(/[()]/g, '\\$&')) });
    await row.waitFor();
    assert.match((await row.textContent()) ?? '', /Report-only.*Block access/);
    await assertAccessible(page, 'the policy list');

    await page.getByRole('link', { name: 'What If' }).click();
    await page.getByLabel('User (user principal name or id)').fill('bob@contoso.example');
    await page.getByLabel('IP address').fill(ABROAD);
    await page.getByRole('button', { name: 'What If' }).click();
    const result = page.getByRole('row', { name: new RegExp(POLICY.replace(/[()]/g, '\\$&')) });
    await result.waitFor();
    assert.match((await result.textContent()) ?? '', /Report-only.*Applies.*block/);
    assert.match((await page.locator('#whatif-decision').textContent()) ?? '', /Outcome: allow/, 'not enforced');
    await assertAccessible(page, 'What If with results');
    await screenshot(page, 'console-06-whatif');
  });

  test('alice switches the policy on; bob, from an untrusted address, is blocked', async () => {
    await page.getByRole('link', { name: 'Conditional Access policies' }).click();
    await page.getByRole('link', { name: POLICY }).click();
    await page.getByRole('radio', { name: 'On', exact: true }).check();
    await page.getByRole('button', { name: 'Save' }).click();
    const row = page.getByRole('row', { name: new RegExp(POLICY.replace(/[()]/g, '\\$&')) });
    await row.getByText('On', { exact: true }).waitFor();
    assert.match((await row.textContent()) ?? '', /On.*Block access/);
    await screenshot(page, 'console-07-policy-on');

    const bob = await launch(join(profiles, 'bob-abroad'), proxy.url);
    try {
      const bobPage = await bob.newPage();
      const { url } = await authorizationUrl(h);
      await bobPage.goto(url.href);
      await bobPage.getByLabel('Email or user name').fill('bob@contoso.example');
      await bobPage.getByLabel('Password').fill(PASSWORDS.bob);
      await bobPage.getByRole('button', { name: 'Sign in', exact: true }).click();
      await bobPage.locator('#error-code').waitFor();
      assert.equal(await bobPage.locator('#error-code').textContent(), '53003');
    } finally {
      await bob.close();
    }
  });

  test("alice finds bob's blocked sign-in in the sign-in log, with the policy's result", async () => {
    await page.getByRole('link', { name: 'Sign-in logs' }).click();
    await page.getByRole('heading', { name: 'Sign-in logs', level: 1 }).waitFor();
    const row = page.getByRole('row', { name: /bob@contoso\.example.*Failure \(53003\)/ });
    await row.waitFor();
    await assertAccessible(page, 'the sign-in log');
    await page.getByLabel('User name starts with').fill('bob');
    await page.getByLabel('Status').selectOption('failure');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByRole('cell', { name: ABROAD }).first().waitFor();
    await row.getByRole('button', { name: /Details/ }).click();
    const policyRow = page
      .getByRole('table', { name: 'Conditional Access policies' })
      .getByRole('row', { name: new RegExp(POLICY.replace(/[()]/g, '\\$&')) });
    await policyRow.waitFor();
    assert.match((await policyRow.textContent()) ?? '', /Failure.*Block/);
    await assertAccessible(page, 'a sign-in with its policies');
    await screenshot(page, 'console-08-signin-log');
  });

  test('the other screens: audit log, session settings (an error next to its field), users, groups', async () => {
    await page.getByRole('link', { name: 'Audit logs' }).click();
    await page.getByRole('heading', { name: 'Audit logs', level: 1 }).waitFor();
    const change = page.getByRole('row', { name: /Update conditional access policy.*alice@contoso\.example/ });
    await change.getByRole('button', { name: /Details/ }).click();
    const panel = page.locator('.details-panel');
    await panel.waitFor();
    assert.match(
      (await panel.textContent()) ?? '',
      /enabledForReportingButNotEnforced[\s\S]*enabled/,
      'old and new state',
    );
    await assertAccessible(page, 'the audit log');
    await screenshot(page, 'console-09-audit-log');

    await page.getByRole('link', { name: 'Session settings' }).click();
    await page.getByLabel('Inactivity timeout (minutes)').fill('2');
    await page.getByRole('button', { name: 'Save' }).click();
    const error = page.locator('.field.invalid .field-errors');
    await error.waitFor();
    assert.match((await error.textContent()) ?? '', /inactivityTimeoutMinutes must be null \(off\) or a whole number/);
    await assertAccessible(page, 'session settings with an error');
    await screenshot(page, 'console-10-session-settings');
    await page.getByLabel('Inactivity timeout (minutes)').fill('30');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Saved.').waitFor();

    await page.getByRole('link', { name: 'Users' }).click();
    await page.getByRole('cell', { name: 'bob@contoso.example', exact: true }).waitFor();
    await assertAccessible(page, 'users');
    await screenshot(page, 'console-11-users');

    // Admin roles: a choice left out is named next to its field; bob gets Reports Reader, then loses it.
    const roles = page.getByRole('region', { name: 'Admin roles' });
    await roles.getByRole('button', { name: 'Give role' }).click();
    await roles.locator('.field.invalid .field-errors').first().waitFor();
    assert.match((await roles.locator('.field.invalid').first().textContent()) ?? '', /principalId/);
    await roles.getByLabel('User or application').selectOption({ label: 'bob@contoso.example' });
    await roles.getByLabel('Role').selectOption({ label: 'Reports Reader' });
    await roles.getByRole('button', { name: 'Give role' }).click();
    await roles.getByText('bob@contoso.example now holds Reports Reader.').waitFor();
    const bobRole = roles.getByRole('row', { name: /bob@contoso\.example Reports Reader/ });
    await bobRole.waitFor();
    assert.deepEqual(await directoryFor(h.store.forTenant(h.tenantId)).roles.rolesOf(h.users.bob), [REPORTS_READER]);
    await assertAccessible(page, 'users with admin roles');
    await screenshot(page, 'console-11b-admin-roles');
    await roles.getByRole('button', { name: 'Remove Reports Reader from bob@contoso.example' }).click();
    await roles.getByText('bob@contoso.example no longer holds Reports Reader.').waitFor();
    assert.deepEqual(await directoryFor(h.store.forTenant(h.tenantId)).roles.rolesOf(h.users.bob), []);

    await page.getByRole('link', { name: 'Groups' }).click();
    await page.getByRole('link', { name: 'Engineers' }).click();
    await page.getByRole('cell', { name: 'alice@contoso.example', exact: true }).waitFor();
    await assertAccessible(page, 'a group');
    await screenshot(page, 'console-12-group');
  });

  test('the API refuses the console cookie without its CSRF token, and once the Portcullis session ends', async () => {
    const cookie = await cookieHeader(alice, h.url);
    const session = await fetch(`${consoleUrl}session`, { headers: { cookie } });
    assert.equal(session.status, 200);
    const { csrfToken, roles } = (await session.json()) as { csrfToken: string; roles: { displayName: string }[] };
    assert.deepEqual(
      roles.map((r) => r.displayName),
      ['Global Administrator'],
    );
    const locations = `${graphUrl}/identity/conditionalAccess/namedLocations`;
    const ask = (headers: Record<string, string>, method = 'GET') =>
      fetch(locations, {
        method,
        headers: { ...headers, ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) },
        ...(method === 'POST' ? { body: JSON.stringify({ displayName: 'x' }) } : {}),
      });

    for (const [name, headers, method] of [
      ['no CSRF header (GET)', { cookie }, 'GET'],
      ['no CSRF header (POST)', { cookie }, 'POST'],
      ['a wrong CSRF token', { cookie, 'x-csrf-token': `${csrfToken.slice(0, -2)}AA` }, 'GET'],
      ['an empty CSRF token', { cookie, 'x-csrf-token': '' }, 'GET'],
    ] as const) {
      const answer = await ask(headers, method);
      assert.equal(answer.status, 403, name);
      const body = (await answer.json()) as { error: { code: string; message: string } };
      assert.match(body.error.message, /X-CSRF-Token/, name);
    }
    assert.equal((await ask({ cookie, 'x-csrf-token': csrfToken })).status, 200, 'cookie and token');

    // The console cookie alone, without the browser's Portcullis session cookies (copied elsewhere): refused.
    const consoleOnly = cookie
      .split('; ')
      .filter((c) => c.startsWith('portcullis-console-'))
      .join('; ');
    assert.equal((await ask({ cookie: consoleOnly, 'x-csrf-token': csrfToken })).status, 401);

    // Alice ends every session of hers through the console's own API: the console session ends with them.
    const revoke = await fetch(`${graphUrl}/users/${h.users.alice}/revokeSignInSessions`, {
      method: 'POST',
      headers: { cookie, 'x-csrf-token': csrfToken },
    });
    assert.equal(revoke.status, 200);
    const afterRevoke = await ask({ cookie, 'x-csrf-token': csrfToken });
    assert.equal(afterRevoke.status, 401);
    assert.match(((await afterRevoke.json()) as { error: { message: string } }).error.message, /console session/);
    await page.reload();
    await page.getByRole('link', { name: 'Sign in' }).waitFor();
    await screenshot(page, 'console-13-session-ended');
  });

  test('bob, who holds no admin role, signs in and is told so', async () => {
    const bob = await launch(join(profiles, 'bob-console'));
    try {
      const bobPage = await bob.newPage();
      await bobPage.goto(consoleUrl);
      await bobPage.getByRole('link', { name: 'Sign in' }).click();
      await bobPage.getByLabel('Email or user name').fill('bob@contoso.example');
      await bobPage.getByLabel('Password').fill(PASSWORDS.bob);
      await bobPage.getByRole('button', { name: 'Sign in', exact: true }).click();
      await bobPage.getByRole('heading', { name: 'No admin role' }).waitFor();
      assert.match(
        (await bobPage.locator('#problem').textContent()) ?? '',
        /signed in as bob@contoso\.example, but you hold no admin role/,
      );
      await assertAccessible(bobPage, 'the no-admin-role page');
      await screenshot(bobPage, 'console-14-no-admin-role');
      const cookies = await bob.cookies(h.url);
      assert.equal(
        cookies.some((c) => c.name.startsWith('portcullis-console-')),
        false,
        'no console session',
      );
    } finally {
      await bob.close();
    }
  });
});
