// The expiry banner in a real browser (Debian's Chromium through playwright-core): a small app on another loopback
// port (a registered application origin, with a strict CSP) includes session.js; the browser holds alice's session
// cookies. Both clocks are moved by the test — the server's ManualClock and Playwright's page clock, which runs seven
// minutes fast, so the banner is only on time if the script corrects for the device clock. Never sleeps.
// Screenshots go to test-artifacts/ (gitignored).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { ARTIFACTS, launch } from '../signin/browser.ts';
import { MINUTE, type SessionServer, type SignedIn, startSessionServer, T0 } from './server.ts';

/** The device clock runs this much fast: a script trusting it would warn seven minutes early. */
const DEVICE_AHEAD = 7 * MINUTE;
const iso = (ms: number) => new Date(ms).toISOString();
/** The little of the DOM that the assertions read in the page (the project compiles without the DOM library). */
type Dom = { getComputedStyle(element: unknown): { readonly position: string } };

/** The app: its page includes session.js; its sign-in page is where the script sends the user at the end. */
async function startApp(portcullis: () => string, tenantId: () => string): Promise<{ server: Server; url: string }> {
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://app').pathname;
    const csp = `default-src 'self'; script-src 'self' ${portcullis()}; connect-src ${portcullis()}; style-src 'self'`;
    if (path === '/') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': csp });
      response.end(
        '<!doctype html><html lang="en"><title>Contoso Portal</title><h1>Contoso Portal</h1><p>Quarterly figures…</p>' +
          `<script src="${portcullis()}/assets/session.js" data-tenant="${tenantId()}" ` +
          'data-signin-url="/signin" defer></script>',
      );
    } else if (path === '/signin') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': csp });
      response.end('<!doctype html><html lang="en"><title>Sign in</title><h1>Sign in to Contoso Portal</h1>');
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  return { server, url: `http://127.0.0.1:${address.port}` };
}

/**
 * A page of the app with alice's cookies, and both clocks at T0 (the page's paused, seven minutes fast). `moveTo`
 * moves both to a server time, a minute at a time so that each of the script's polls sees the server's time of its
 * own moment; after a poll it waits until the script has its answer.
 */
interface Tab {
  readonly page: Page;
  /** Server time that the page's clock stands for now. */
  at: number;
  moveTo(target: number): Promise<void>;
}

describe('Chromium: the expiry banner of session.js', () => {
  let s: SessionServer;
  let app: { server: Server; url: string };
  let profiles: string;
  const contexts: BrowserContext[] = [];
  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    profiles = mkdtempSync(join(tmpdir(), 'portcullis-session-chromium-'));
    s = await startSessionServer({ listen: true });
    app = await startApp(s.publicUrl, () => s.tenants.contoso);
    await s.registerApp([`${app.url}/callback`]);
  });
  after(async () => {
    for (const context of contexts) await context.close();
    await new Promise((resolve) => app.server.close(resolve));
    await s.close();
    rmSync(profiles, { recursive: true, force: true });
  });

  async function open(name: string, alice: SignedIn): Promise<Tab & { cspErrors: string[] }> {
    const context = await launch(join(profiles, name));
    contexts.push(context);
    await context.addCookies(
      alice.cookies.map((c) => ({ ...c, url: s.publicUrl(), httpOnly: true, sameSite: 'Lax' as const })),
    );
    const page = context.pages()[0] ?? (await context.newPage());
    const cspErrors: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) cspErrors.push(message.text());
    });
    await page.clock.install({ time: T0 + DEVICE_AHEAD });
    await page.clock.pauseAt(T0 + DEVICE_AHEAD + 1_000);
    s.clock.set(T0);
    await page.goto(app.url);
    const tab: Tab & { cspErrors: string[] } = {
      page,
      cspErrors,
      at: T0,
      async moveTo(target) {
        while (tab.at < target) {
          const next = Math.min(target, T0 + (Math.floor((tab.at - T0) / MINUTE) + 1) * MINUTE);
          s.clock.set(next);
          await page.clock.runFor(next - tab.at);
          tab.at = next;
          // The script polls once a minute (counted from its last answer, which came at a whole minute).
          if ((next - T0) % MINUTE === 0 && !page.url().endsWith('/signin')) await checked(page, next);
        }
      },
    };
    await checked(page, T0);
    return tab;
  }

  /** Waits until the script has the server's answer of server time `at`, or has left for the sign-in page. */
  async function checked(page: Page, at: number): Promise<void> {
    const answered = page.locator(`portcullis-session[data-checked="${iso(at)}"]`).waitFor({ state: 'attached' });
    const left = page.waitForURL(`${app.url}/signin`);
    // The loser stays pending until the page closes.
    answered.catch(() => {});
    left.catch(() => {});
    await Promise.race([answered, left]);
  }

  function banner(page: Page) {
    const host = page.locator('portcullis-session');
    return {
      host,
      status: page.getByRole('status'),
      stay: page.getByRole('button', { name: 'Stay signed in' }),
      again: page.getByRole('button', { name: 'Sign in again' }),
      state: () => host.getAttribute('data-state'),
    };
  }

  test('alice idles: the banner comes at warnAt and not before, counts down, and "Stay signed in" extends the session', async () => {
    await s.settle({ maximumSessionLengthMinutes: 1440, warningBeforeExpiryMinutes: 20, inactivityTimeoutMinutes: 30 });
    s.clock.set(T0);
    const alice = await s.signIn(s.users.alice);
    const tab = await open('idle', alice);
    const { page } = tab;
    const b = banner(page);

    // warnAt = T0 + 10 min (30 min idle − 20 min warning). One second before it: nothing to see.
    await tab.moveTo(T0 + 10 * MINUTE - 1_000);
    assert.equal(await b.state(), 'live');
    assert.equal(await b.stay.isHidden(), true, 'no banner before warnAt');
    assert.equal(await b.status.textContent(), '');
    await page.screenshot({ path: join(ARTIFACTS, 'session-1-before-warning.png') });

    await tab.moveTo(T0 + 10 * MINUTE);
    await b.stay.waitFor();
    assert.equal(await b.state(), 'warning');
    assert.equal(await b.status.textContent(), 'Your session ends in 20 minutes.');
    assert.equal(await b.again.isHidden(), true, 'no "Sign in again" when the end is inactivity');
    // The banner's styles apply under the app's CSP (style-src 'self', no 'unsafe-inline').
    assert.equal(
      await b.status.evaluate((p) => (globalThis as unknown as Dom).getComputedStyle(p.parentElement).position),
      'fixed',
    );

    await tab.moveTo(T0 + 11 * MINUTE);
    assert.equal(await b.status.textContent(), 'Your session ends in 19 minutes.');
    assert.equal(
      await b.host.ariaSnapshot(),
      '- status: Your session ends in 19 minutes.\n- button "Stay signed in"',
      'a polite live region and a named button',
    );
    await page.screenshot({ path: join(ARTIFACTS, 'session-2-warning-inactivity.png') });

    // By keyboard: the button is the page's first focusable element; Enter activates it.
    await page.keyboard.press('Tab');
    assert.equal(
      await b.stay.evaluate(
        (button) => (button.getRootNode() as unknown as { activeElement: unknown }).activeElement === button,
      ),
      true,
    );
    const activity = page.waitForResponse((r) => r.url().endsWith('/session/activity'));
    await page.keyboard.press('Enter');
    assert.equal((await activity).status(), 200);
    await b.stay.waitFor({ state: 'hidden' });
    assert.equal(await b.status.textContent(), 'You are still signed in.');
    assert.equal(await b.state(), 'live');
    const after = await s.sessions().check(alice.issued.sessionId, alice.issued.bindingSecret);
    assert.ok(after.live);
    assert.equal(after.idleExpiresAt, T0 + 41 * MINUTE, 'the activity counted on the server');
    await page.screenshot({ path: join(ARTIFACTS, 'session-3-stayed.png') });

    // The new warnAt (T0 + 21 min), then the idle end (T0 + 41 min): the page goes to the app's sign-in.
    await tab.moveTo(T0 + 21 * MINUTE - 1_000);
    assert.equal(await b.stay.isHidden(), true);
    await tab.moveTo(T0 + 21 * MINUTE);
    await b.stay.waitFor();
    assert.equal(await b.status.textContent(), 'Your session ends in 20 minutes.');
    await tab.moveTo(T0 + 41 * MINUTE - 1_000);
    assert.equal(page.url(), `${app.url}/`, 'still on the page one second before the end');
    assert.equal(await b.status.textContent(), 'Your session ends in 1 minute.');
    await tab.moveTo(T0 + 41 * MINUTE);
    await page.waitForURL(`${app.url}/signin`);
    await page.getByRole('heading', { name: 'Sign in to Contoso Portal' }).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'session-4-signin-after-inactivity.png') });
    assert.deepEqual(tab.cspErrors, []);
  });

  test('alice reaches the maximum length: "Sign in again", no "Stay signed in", and the sign-in page at the end', async () => {
    await s.settle({ maximumSessionLengthMinutes: 60, warningBeforeExpiryMinutes: 20, inactivityTimeoutMinutes: null });
    s.clock.set(T0);
    const alice = await s.signIn(s.users.alice);
    const tab = await open('absolute', alice);
    const { page } = tab;
    const b = banner(page);

    await tab.moveTo(T0 + 40 * MINUTE - 1_000);
    assert.equal(await b.again.isHidden(), true, 'no banner before warnAt');
    await tab.moveTo(T0 + 40 * MINUTE);
    await b.again.waitFor();
    assert.equal(await b.status.textContent(), 'Your session ends in 20 minutes.');
    assert.equal(await b.stay.isHidden(), true, 'staying signed in cannot help against the maximum length');
    assert.equal(await b.host.ariaSnapshot(), '- status: Your session ends in 20 minutes.\n- button "Sign in again"');
    await page.screenshot({ path: join(ARTIFACTS, 'session-5-warning-absolute.png') });

    await tab.moveTo(T0 + 60 * MINUTE - 1_000);
    assert.equal(page.url(), `${app.url}/`);
    await tab.moveTo(T0 + 60 * MINUTE);
    await page.waitForURL(`${app.url}/signin`);
    await page.screenshot({ path: join(ARTIFACTS, 'session-6-signin-after-maximum.png') });
    assert.deepEqual(tab.cspErrors, []);
  });

  test('"Sign in again" takes alice to the sign-in page at once', async () => {
    await s.settle({ maximumSessionLengthMinutes: 60, warningBeforeExpiryMinutes: 20, inactivityTimeoutMinutes: null });
    s.clock.set(T0);
    const alice = await s.signIn(s.users.alice);
    const tab = await open('again', alice);
    const b = banner(tab.page);
    await tab.moveTo(T0 + 45 * MINUTE);
    await b.again.click();
    await tab.page.waitForURL(`${app.url}/signin`);
  });

  test('alice signs out elsewhere: at its next status check the page goes to the sign-in page', async () => {
    await s.settle({
      maximumSessionLengthMinutes: 1440,
      warningBeforeExpiryMinutes: 20,
      inactivityTimeoutMinutes: null,
    });
    s.clock.set(T0);
    const alice = await s.signIn(s.users.alice);
    const tab = await open('signed-out', alice);
    await tab.moveTo(T0 + 2 * MINUTE);
    assert.equal(await banner(tab.page).state(), 'live');
    await s.sessions().revoke(alice.issued.sessionId);
    await tab.moveTo(T0 + 3 * MINUTE);
    await tab.page.waitForURL(`${app.url}/signin`);
  });

  test('a page opened without a session stays quiet: no banner, no redirect', async () => {
    await s.settle({
      maximumSessionLengthMinutes: 1440,
      warningBeforeExpiryMinutes: 20,
      inactivityTimeoutMinutes: null,
    });
    s.clock.set(T0);
    const context = await launch(join(profiles, 'none'));
    contexts.push(context);
    const page = context.pages()[0] ?? (await context.newPage());
    const status = page.waitForResponse((r) => r.url().endsWith('/session/status'));
    await page.goto(app.url);
    assert.equal((await status).status(), 401);
    await page.locator('portcullis-session[data-state="none"]').waitFor({ state: 'attached' });
    assert.equal(page.url(), `${app.url}/`);
    assert.equal(await banner(page).stay.isHidden(), true);
  });
});
