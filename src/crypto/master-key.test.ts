// Where the master key comes from and how bad keys are refused: config, environment, or a generated key file with
// a loud warning; a key is never echoed in an error.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { KeyringError } from './errors.ts';
import { loadMasterKey, masterKeyId, NEXT_MASTER_KEY_FILE, parseMasterKey } from './master-key.ts';

const HEX_KEY = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff';
const BYTES = Buffer.from(HEX_KEY, 'hex');
const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-masterkey-'));
  dirs.push(dir);
  return dir;
}

const goodKeys = [
  { name: '64 hex digits', text: HEX_KEY },
  { name: 'upper-case hex with surrounding whitespace', text: `  ${HEX_KEY.toUpperCase()}\n` },
  { name: 'base64 with padding', text: BYTES.toString('base64') },
  { name: 'base64url without padding', text: BYTES.toString('base64url') },
];
for (const c of goodKeys) {
  test(`parseMasterKey accepts ${c.name}`, () => {
    const key = parseMasterKey(c.text, 'test');
    assert.deepEqual(Buffer.from(key.key), BYTES);
    assert.equal(key.id, masterKeyId(BYTES));
    assert.match(key.id, /^[0-9a-f]{16}$/);
  });
}

const badKeys = [
  { name: 'a 128-bit key', text: BYTES.subarray(0, 16).toString('hex'), message: /32 random bytes/ },
  { name: 'a passphrase', text: 'correct horse battery staple', message: /28 characters that are neither/ },
  { name: 'an empty string', text: '', message: /0 characters/ },
  { name: 'all zeros', text: '0'.repeat(64), message: /all zeros/ },
];
for (const c of badKeys) {
  test(`parseMasterKey refuses ${c.name}, without echoing it`, () => {
    assert.throws(
      () => parseMasterKey(c.text, 'PORTCULLIS_MASTER_KEY'),
      (error: unknown) =>
        error instanceof KeyringError &&
        error.reason === 'invalid-master-key' &&
        c.message.test(error.message) &&
        error.message.includes('PORTCULLIS_MASTER_KEY') &&
        (c.text.length < 8 || !error.message.includes(c.text)),
    );
  });
}

test('the config file wins when only it is set', () => {
  const key = loadMasterKey({ configured: HEX_KEY, env: {}, dataDir: dataDir() });
  assert.equal(key.source, 'config');
  assert.equal(key.warning, undefined);
});

test('PORTCULLIS_MASTER_KEY is used when the config has none', () => {
  const key = loadMasterKey({ env: { PORTCULLIS_MASTER_KEY: BYTES.toString('base64') }, dataDir: dataDir() });
  assert.equal(key.source, 'env');
  assert.equal(key.id, masterKeyId(BYTES));
});

test('the same key in config and environment is fine; two different keys are refused', () => {
  const dir = dataDir();
  assert.equal(
    loadMasterKey({ configured: HEX_KEY, env: { PORTCULLIS_MASTER_KEY: HEX_KEY }, dataDir: dir }).source,
    'config',
  );
  const other = Buffer.alloc(32, 7).toString('hex');
  assert.throws(
    () => loadMasterKey({ configured: HEX_KEY, env: { PORTCULLIS_MASTER_KEY: other }, dataDir: dir }),
    /two different master keys/,
  );
});

test('with neither, a key is generated into master.key (0600) with a loud warning, then read back', () => {
  const dir = join(dataDir(), 'nested', 'data');
  const first = loadMasterKey({ env: {}, dataDir: dir });
  assert.equal(first.source, 'generated');
  assert.match(first.warning ?? '', /INSECURE: generated a new master key/);
  assert.equal(statSync(join(dir, 'master.key')).mode & 0o777, 0o600);
  const again = loadMasterKey({ env: {}, dataDir: dir });
  assert.equal(again.source, 'file');
  assert.equal(again.id, first.id);
  assert.match(again.warning ?? '', /INSECURE: the master key is read from/);
});

test('a key file others can read is called out', () => {
  const dir = dataDir();
  writeFileSync(join(dir, 'master.key'), `${HEX_KEY}\n`);
  chmodSync(join(dir, 'master.key'), 0o644);
  assert.match(loadMasterKey({ env: {}, dataDir: dir }).warning ?? '', /readable by others \(mode 644\)/);
});

test('a corrupt key file is an error naming the file', () => {
  const dir = dataDir();
  writeFileSync(join(dir, 'master.key'), 'not a key\n', { mode: 0o600 });
  assert.throws(() => loadMasterKey({ env: {}, dataDir: dir }), /master\.key must be 32 random bytes/);
});

test('an interrupted rotation is reported', () => {
  const dir = dataDir();
  writeFileSync(join(dir, 'master.key'), `${HEX_KEY}\n`, { mode: 0o600 });
  writeFileSync(join(dir, NEXT_MASTER_KEY_FILE), `${HEX_KEY}\n`, { mode: 0o600 });
  assert.match(loadMasterKey({ env: {}, dataDir: dir }).warning ?? '', /rotation was interrupted/);
  assert.equal(readFileSync(join(dir, 'master.key'), 'utf8').trim(), HEX_KEY);
});
