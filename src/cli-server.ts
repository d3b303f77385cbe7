// The commands that work on a data directory: `serve`, `init` and `keys rotate`. Their flags, output and exit codes
// are a contract (README, "Command line"); change them only by adding.

import { systemClock } from './clock.ts';
import { type Config, ConfigError, loadConfig } from './config/load.ts';
import { KeyringError } from './crypto/errors.ts';
import { parseMasterKey } from './crypto/master-key.ts';
import { rotateAllDataKeys, rotateMasterKeyFile } from './crypto/rotation.ts';
import { DEFAULT_TENANT_NAME } from './directory/tenants.ts';
import { GeoDatabaseError } from './geo/country-lookup.ts';
import { createLogger } from './http/logger.ts';
import { handleShutdownSignals } from './http/shutdown.ts';
import {
  AlreadyInitialisedError,
  InitInputError,
  type InitResult,
  initialise,
  isInitialised,
  tenantUrls,
} from './init.ts';
import { logConfigWarnings } from './server.ts';
import { createPortcullis, openData } from './start.ts';
import { StoreError } from './store/store.ts';
import { TenantRepository } from './store/tenant-repository.ts';

export interface ServerIo {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Everything on standard input up to its end; not called when standard input is a terminal. */
  readStdin: () => Promise<string>;
  readonly stdinIsTerminal: boolean;
  readonly env: NodeJS.ProcessEnv;
}

/** Thrown for input the command cannot use; the message is printed and the exit code is 1. */
export class CommandInputError extends Error {}

/** Flags `serve`, `init` and `keys rotate` share, with their environment equivalents (docs/configuration.md). */
export const DATA_OPTIONS = {
  config: { type: 'string' },
  'data-dir': { type: 'string' },
  port: { type: 'string' },
  'public-url': { type: 'string' },
} as const;

type DataFlags = { config?: string; 'data-dir'?: string; port?: string; 'public-url'?: string };

function configFrom(flags: DataFlags, io: ServerIo): { config: Config; warnings: readonly string[] } {
  return loadConfig({
    file: flags.config,
    env: io.env,
    overrides: { dataDir: flags['data-dir'], port: flags.port, publicUrl: flags['public-url'] },
  });
}

/** Known failures become a message and exit code 1; anything else is a bug and is rethrown. */
export function describeFailure(error: unknown): string | undefined {
  if (
    error instanceof ConfigError ||
    error instanceof KeyringError ||
    error instanceof StoreError ||
    error instanceof GeoDatabaseError ||
    error instanceof AlreadyInitialisedError ||
    error instanceof InitInputError ||
    error instanceof CommandInputError
  ) {
    return error.message;
  }
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
    return `cannot listen: ${(error as Error).message}`;
  }
  return undefined;
}

export async function initCommand(flags: DataFlags & { json?: boolean; admin?: string }, io: ServerIo): Promise<void> {
  const { config } = configFrom(flags, io);
  const password = io.stdinIsTerminal ? undefined : passwordFrom(await io.readStdin());
  const opened = await openData(config);
  try {
    const result = await initialise(opened.store, {
      publicUrl: config.publicUrl,
      adminPassword: password,
      adminUserPrincipalName: flags.admin,
      clock: systemClock,
    });
    if (opened.masterKey.warning) io.err(`warning: ${opened.masterKey.warning}\n`);
    if (flags.json) {
      io.out(`${JSON.stringify(result.summary)}\n`);
      // Standard output is the contract's JSON alone; the administrator's sign-in goes to standard error.
      io.err(adminLines(result).join('\n'));
    } else {
      io.out(initReport(result).join('\n'));
    }
  } finally {
    await opened.store.close();
  }
}

/** One trailing newline (what `echo` and here-strings add) is not part of the password. */
function passwordFrom(text: string): string | undefined {
  const password = text.replace(/\r?\n$/, '');
  return password === '' ? undefined : password;
}

function adminLines(result: InitResult): string[] {
  const { admin } = result;
  return [
    `Global Administrator: ${admin.userPrincipalName}`,
    admin.generatedPassword === undefined
      ? 'Password: the one given on standard input'
      : `Password: ${admin.generatedPassword}   (generated; shown only this once)`,
    '',
  ];
}

function initReport(result: InitResult): string[] {
  const { summary } = result;
  return [
    `Initialised tenant '${result.tenant.name}' (${summary.tenant}).`,
    '',
    ...adminLines(result),
    `Admin console: ${summary.issuer}/console/`,
    `OpenID Connect discovery: ${summary.issuer}/.well-known/openid-configuration`,
    '',
    'Admin API client (client credentials; the secret is shown only this once):',
    `  token endpoint  ${summary.tokenEndpoint}`,
    `  client id       ${summary.clientId}`,
    `  client secret   ${summary.clientSecret}`,
    `  scope           ${summary.scope}`,
    `  Graph base URL  ${summary.graphBaseUrl}`,
    '',
  ];
}

export interface Serving {
  readonly url: string;
  close(): Promise<void>;
}

/** Starts the server; resolves once it listens (the process then lives until SIGTERM or SIGINT). */
export async function serveCommand(flags: DataFlags, io: ServerIo, options: { signals?: boolean } = {}) {
  const { config, warnings } = configFrom(flags, io);
  const logger = createLogger({ level: config.log.level });
  logConfigWarnings(logger, warnings);
  const opened = await openData(config);
  if (opened.masterKey.warning) logger.warn({ insecureSetting: true }, opened.masterKey.warning);
  if (opened.migrated.length > 0) logger.info({ migrations: opened.migrated }, 'applied database migrations');
  let portcullis: ReturnType<typeof createPortcullis>;
  try {
    portcullis = createPortcullis({ config, opened, logger });
  } catch (error) {
    await opened.store.close();
    throw error;
  }
  try {
    await portcullis.app.listen({ port: config.port, host: config.host });
    const first = (await isInitialised(opened.store))
      ? undefined
      : await initialise(opened.store, { publicUrl: config.publicUrl, clock: systemClock });
    const tenant = first?.tenant ?? (await new TenantRepository(opened.store).getByName(DEFAULT_TENANT_NAME));
    io.err(serveBanner(config, first, tenant?.id).join('\n'));
  } catch (error) {
    await portcullis.close();
    throw error;
  }
  if (options.signals !== false) {
    handleShutdownSignals({ server: { close: () => portcullis.close() }, logger });
  }
  return { url: config.publicUrl, close: () => portcullis.close() } satisfies Serving;
}

function serveBanner(config: Config, first: InitResult | undefined, tenantId: string | undefined): string[] {
  const lines = [`Portcullis is listening on ${config.host}:${config.port} as ${config.publicUrl}`];
  if (first) lines.push('', 'This data directory was empty, so it has been initialised.', '', ...initReport(first));
  else if (tenantId) {
    const { issuer } = tenantUrls(config.publicUrl, tenantId);
    lines.push(
      `Admin console: ${issuer}/console/`,
      `OpenID Connect discovery: ${issuer}/.well-known/openid-configuration`,
    );
  }
  lines.push('');
  return lines;
}

/**
 * `keys rotate`: a new data key version for every tenant (new secrets are sealed with it; old ones still open), and
 * the master key replaced — a new key file when the key lives in the data directory, or the key given on standard
 * input (`--new-master-key-stdin`) when it is configured. Run with the servers stopped when the master key changes.
 */
export async function keysRotateCommand(flags: DataFlags & { 'new-master-key-stdin'?: boolean }, io: ServerIo) {
  const { config } = configFrom(flags, io);
  const newKey = flags['new-master-key-stdin'] ? parseMasterKey(await io.readStdin(), 'standard input') : undefined;
  const opened = await openData(config);
  try {
    if (newKey && opened.masterKey.source !== 'config') {
      throw new CommandInputError(
        'the master key is the key file in the data directory, not a configured one: run without ' +
          '--new-master-key-stdin and a new key file is generated',
      );
    }
    const versions = await rotateAllDataKeys(opened.store, opened.keyring);
    for (const [tenantId, version] of versions) io.out(`tenant ${tenantId}: data key version ${version}\n`);
    if (newKey) {
      const { masterKeyId, rewrapped } = await opened.keyring.rotateMasterKey(newKey);
      io.out(
        `re-wrapped ${rewrapped} data keys under the new master key (id ${masterKeyId}); set PORTCULLIS_MASTER_KEY ` +
          '(or masterKey) to it before the next start\n',
      );
    } else if (opened.masterKey.source === 'file' || opened.masterKey.source === 'generated') {
      const { masterKeyId, rewrapped, path } = await rotateMasterKeyFile(opened.keyring, config.dataDir);
      io.out(`re-wrapped ${rewrapped} data keys under a new master key (id ${masterKeyId}) in ${path}\n`);
    } else {
      io.out(
        'the master key is configured (config or PORTCULLIS_MASTER_KEY), so it was kept; to replace it, run again ' +
          'with --new-master-key-stdin and the new key on standard input\n',
      );
    }
  } finally {
    await opened.store.close();
  }
}
