// What the console's Chromium tests share: the console built from the current sources, axe-core run in the page, and
// screenshots under test-artifacts/console/ (gitignored).
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { ARTIFACTS as ALL_ARTIFACTS } from '../signin/browser.ts';

export const ARTIFACTS = join(ALL_ARTIFACTS, 'console');
const WEB = join(import.meta.dirname, '..', '..', 'web');

/** Builds web/ into web/dist (what `npm install` does), so the test serves the sources as they are now. */
export async function buildConsole(): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const vite = await import('vite');
  await vite.build({ configFile: join(WEB, 'vite.config.ts'), logLevel: 'error' });
}

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[]; failureSummary?: string }[];
}

/**
 * Runs axe-core (WCAG 2 A and AA rules and best practices) on the page as it is now and fails on any serious or
 * critical violation, naming each with the elements it found. axe is evaluated through DevTools, which the page's
 * Content-Security-Policy does not govern, so the policy under test stays as strict as it is for real users.
 */
export async function assertAccessible(page: Page, screen: string): Promise<void> {
  await page.evaluate(AXE);
  const violations = (await page.evaluate(
    'axe.run(document, { resultTypes: ["violations"] }).then((r) => r.violations)',
  )) as AxeViolation[];
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(
    bad.map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')}`),
    [],
    `axe-core found serious or critical accessibility violations on ${screen}`,
  );
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** The Cookie header the browser would send to `url`. */
export async function cookieHeader(context: BrowserContext, url: string): Promise<string> {
  return (await context.cookies(url)).map((c) => `${c.name}=${c.value}`).join('; ');
}
