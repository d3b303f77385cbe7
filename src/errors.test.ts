// Every code in errors.ts is documented in docs/errors.md, and every documented code exists.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ERROR_CODES } from './errors.ts';

const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
const documented = new Set([...doc.matchAll(/^\|\s*(\d{5,6})\s*\|/gm)].map((m) => Number(m[1])));

test('every error code is documented in docs/errors.md', () => {
  const missing = Object.keys(ERROR_CODES)
    .map(Number)
    .filter((code) => !documented.has(code));
  assert.deepEqual(missing, [], `add these codes to docs/errors.md: ${missing.join(', ')}`);
});

test('docs/errors.md lists no code that errors.ts does not define', () => {
  const unknown = [...documented].filter((code) => !(code in ERROR_CODES));
  assert.deepEqual(unknown, []);
});
