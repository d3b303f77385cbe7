// Where the 256-bit master key comes from: the config file, PORTCULLIS_MASTER_KEY, or — when neither is given — a
// key generated on first start into <data-dir>/master.key (mode 0600) with a loud warning, because a key stored next
// to the database protects nothing against someone who has the data directory.
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KEY_BYTES } from './aes-gcm.ts';
import { KeyringError } from './errors.ts';

export const MASTER_KEY_ENV = 'PORTCULLIS_MASTER_KEY';
export const MASTER_KEY_FILE = 'master.key';
/** Where `rotateMasterKeyFile` stages the next key until the re-wrap has committed. */
export const NEXT_MASTER_KEY_FILE = 'master.key.next';

export interface MasterKey {
  readonly key: Uint8Array;
  /** A short fingerprint (HMAC of a fixed label under the key), stored beside each wrapped data key. */
  readonly id: string;
}

export interface LoadedMasterKey extends MasterKey {
  readonly source: 'config' | 'env' | 'file' | 'generated';
  /** Set when the key lives in the data directory: log it loudly at start-up. */
  readonly warning?: string;
}

const HEX = /^[0-9a-fA-F]{64}$/;
const BASE64 = /^[A-Za-z0-9+/_-]{43}=?$/;

/** The fingerprint: enough to tell keys apart, useless for recovering the key. */
export function masterKeyId(key: Uint8Array): string {
  return createHmac('sha256', key).update('portcullis master key id v1').digest('hex').slice(0, 16);
}

/**
 * Reads a master key written as 64 hex digits or as base64/base64url (43–44 characters) of 32 random bytes.
 * `from` names where it came from in the error; the value itself never appears in a message.
 */
export function parseMasterKey(text: string, from: string): MasterKey {
  const trimmed = typeof text === 'string' ? text.trim() : '';
  let key: Buffer | undefined;
  if (HEX.test(trimmed)) key = Buffer.from(trimmed, 'hex');
  else if (BASE64.test(trimmed)) key = Buffer.from(trimmed.replaceAll('-', '+').replaceAll('_', '/'), 'base64');
  if (!key || key.length !== KEY_BYTES) {
    throw new KeyringError(
      'invalid-master-key',
      `master key from ${from} must be ${KEY_BYTES} random bytes written as 64 hex digits or 44 base64 characters, ` +
        `but it is ${trimmed.length} characters that are neither (generate one with: openssl rand -base64 32)`,
    );
  }
  if (key.every((b) => b === 0)) {
    throw new KeyringError('invalid-master-key', `master key from ${from} is all zeros, which is not a secret`);
  }
  return { key: new Uint8Array(key), id: masterKeyId(key) };
}

/** A new random master key, as base64 (what the key file and the CLI show). */
export function generateMasterKey(): string {
  return randomBytes(KEY_BYTES).toString('base64');
}

function fileWarning(path: string, generated: boolean): string {
  const what = generated ? `generated a new master key and wrote it to ${path}` : `the master key is read from ${path}`;
  return (
    `INSECURE: ${what}. A key stored in the data directory next to the database protects nothing against anyone ` +
    `who can read that directory or its backups. Set ${MASTER_KEY_ENV} (or masterKey in the config file) to a key ` +
    `kept elsewhere: copy the key out of ${path}, set it, then delete the file.`
  );
}

export interface MasterKeyOptions {
  /** The config file's value, when set. */
  readonly configured?: string | undefined;
  /** Environment to read PORTCULLIS_MASTER_KEY from (default process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The data directory, for the generated key file. */
  readonly dataDir: string;
}

/** Resolves the master key: config, then environment, then the key file (generated when missing). */
export function loadMasterKey(options: MasterKeyOptions): LoadedMasterKey {
  const env = options.env ?? process.env;
  const fromConfig = options.configured?.trim() ? parseMasterKey(options.configured, 'the config file') : undefined;
  const envValue = env[MASTER_KEY_ENV];
  const fromEnv = envValue?.trim() ? parseMasterKey(envValue, MASTER_KEY_ENV) : undefined;
  if (fromConfig && fromEnv && fromConfig.id !== fromEnv.id) {
    throw new KeyringError(
      'invalid-master-key',
      `two different master keys are given, in the config file (key id ${fromConfig.id}) and in ${MASTER_KEY_ENV} ` +
        `(key id ${fromEnv.id}); set only one`,
    );
  }
  if (fromConfig) return { ...fromConfig, source: 'config' };
  if (fromEnv) return { ...fromEnv, source: 'env' };

  const path = join(options.dataDir, MASTER_KEY_FILE);
  const interrupted = existsSync(join(options.dataDir, NEXT_MASTER_KEY_FILE))
    ? ` A master key rotation was interrupted: if the keyring reports a wrong master key, the re-wrap committed and ` +
      `${NEXT_MASTER_KEY_FILE} holds the key in use — rename it to ${MASTER_KEY_FILE}.`
    : '';
  if (existsSync(path)) {
    const key = parseMasterKey(readFileSync(path, 'utf8'), path);
    const mode = statSync(path).mode & 0o777;
    const loose = mode & 0o077 ? ` The file is readable by others (mode ${mode.toString(8)}): chmod 600 it.` : '';
    return { ...key, source: 'file', warning: fileWarning(path, false) + loose + interrupted };
  }
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const text = generateMasterKey();
  // 'wx': never overwrite a key another process created a moment ago; that would orphan its data.
  writeFileSync(path, `${text}\n`, { mode: 0o600, flag: 'wx' });
  return { ...parseMasterKey(text, path), source: 'generated', warning: fileWarning(path, true) + interrupted };
}

/**
 * Writes `key` as the data directory's key file, atomically (a temporary file renamed over it), mode 0600.
 * `name` is MASTER_KEY_FILE or NEXT_MASTER_KEY_FILE.
 */
export function writeMasterKeyFile(dataDir: string, key: Uint8Array, name = MASTER_KEY_FILE): string {
  const path = join(dataDir, name);
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${Buffer.from(key).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  renameSync(temporary, path);
  return path;
}
