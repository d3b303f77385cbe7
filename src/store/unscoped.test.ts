// The escape hatch stays small: outside tests, only these files may touch `unscoped` (the raw, tenant-less
// database). Adding a file here is a decision to review, not a convenience.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';

const ALLOWED = new Set(['src/store/store.ts', 'src/store/tenant-repository.ts']);
const root = new URL('../..', import.meta.url).pathname;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

test('only the store and the tenant repository use the unscoped database', () => {
  const users = sources(join(root, 'src'))
    .filter((path) => /\bunscoped\b/.test(readFileSync(path, 'utf8')))
    .map((path) => relative(root, path));
  assert.deepEqual(
    users.filter((path) => !ALLOWED.has(path)),
    [],
  );
});
