// docs/configuration.md is generated from the schema; this fails when someone changed the schema and not the doc.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { renderConfigurationDoc } from './docs.ts';
import { environmentVariables } from './load.ts';

const committed = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');

test('docs/configuration.md is up to date (regenerate: npx node src/config/docs.ts > docs/configuration.md)', () => {
  assert.equal(committed, renderConfigurationDoc());
});

test('the doc names every option and its environment variable', () => {
  for (const [env, path] of environmentVariables()) {
    assert.ok(committed.includes(`\`${path}\``), path);
    assert.ok(committed.includes(`\`${env}\``), env);
  }
});
