// `portcullis audit verify` and `portcullis audit export`: walk a tenant's directory audit chain and say whether it is
// intact (naming the first record changed, removed or inserted), or write the log as JSON lines, one Graph
// directoryAudit per line. They open only the store (no master key needed) and change nothing. The flags, output and
// exit codes are a contract (docs/audit.md); change them only by adding.

import { once } from 'node:events';
import { createWriteStream, existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DirectoryAuditRepository } from './audit/directory-audit.ts';
import { type ChainResult, ChainWalk } from './audit/directory-audit-chain.ts';
import { describeFailure, type ServerIo } from './cli-server.ts';
import { loadConfig } from './config/load.ts';
import { DEFAULT_TENANT_NAME, type TenantRecord } from './directory/tenants.ts';
import { storeOptions } from './start.ts';
import { openStore, type Store } from './store/store.ts';
import { TenantRepository } from './store/tenant-repository.ts';
import type { TenantScope } from './store/tenant-scope.ts';

/** The chain is intact (verify), or the records were written (export). */
export const AUDIT_OK = 0;
/** A chain is broken (each broken tenant printed), or the data could not be opened. */
export const AUDIT_FAILED = 1;
/** The command line is wrong. */
export const AUDIT_USAGE = 2;

export const AUDIT_HELP = `Usage: portcullis audit <verify | export> [options]

  verify   Walk the directory audit log's hash chain of every tenant (or --tenant's) and check every record.
           Prints one line per tenant: the number of records and the chain head, or the first record that was
           changed, removed or inserted. Exit 0 when every chain is intact, 1 when one is not.
  export   Write a tenant's directory audit log as JSON lines (one Graph directoryAudit per line, oldest first) to
           standard output or --out. Exit 0 when written.

  --tenant <name|id>   the tenant (verify: default every tenant; export: default '${DEFAULT_TENANT_NAME}')
  --since <time>       export: only records at or after this ISO 8601 time (2026-03-01T00:00:00Z)
  --out <file>         export: write to this file (created owner-only, replaced if it exists)
  --json               verify: print the result as JSON
  --data-dir <dir>     data directory (PORTCULLIS_DATA_DIR; default ./data)
  --config <file>      YAML configuration file (PORTCULLIS_CONFIG), for a PostgreSQL store

See docs/audit.md.
`;

class UsageError extends Error {}
class AuditInputError extends Error {}

interface Flags {
  tenant?: string;
  since?: string;
  out?: string;
  json?: boolean;
  'data-dir'?: string;
  config?: string;
  help?: boolean;
}

export async function auditCommand(args: readonly string[], io: ServerIo): Promise<number> {
  const [sub, ...rest] = args;
  try {
    if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
      io.out(AUDIT_HELP);
      return sub === undefined ? AUDIT_USAGE : AUDIT_OK;
    }
    if (sub !== 'verify' && sub !== 'export') {
      throw new UsageError(`unknown subcommand '${sub}' (use 'verify' or 'export')`);
    }
    const flags = parse(sub, rest);
    if (flags.help) {
      io.out(AUDIT_HELP);
      return AUDIT_OK;
    }
    return sub === 'verify' ? await verify(flags, io) : await exportLog(flags, io);
  } catch (error) {
    const name = sub === 'verify' || sub === 'export' ? `audit ${sub}` : 'audit';
    if (error instanceof UsageError) {
      io.err(`portcullis ${name}: ${error.message}\n`);
      return AUDIT_USAGE;
    }
    const message = error instanceof AuditInputError ? error.message : describeFailure(error);
    if (message === undefined) throw error;
    io.err(`portcullis ${name}: ${message}\n`);
    return AUDIT_FAILED;
  }
}

function parse(sub: 'verify' | 'export', args: readonly string[]): Flags {
  let values: Flags;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        tenant: { type: 'string' },
        'data-dir': { type: 'string' },
        config: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        ...(sub === 'verify' ? { json: { type: 'boolean' } } : { since: { type: 'string' }, out: { type: 'string' } }),
      },
      strict: true,
      allowPositionals: false,
    }) as { values: Flags });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.tenant !== undefined && values.tenant.trim() === '') throw new UsageError('--tenant is empty');
  return values;
}

/** The configured store, without migrating or creating anything: these commands only read. */
async function openExisting(flags: Flags, io: ServerIo): Promise<Store> {
  const { config } = loadConfig({ file: flags.config, env: io.env, overrides: { dataDir: flags['data-dir'] } });
  const options = storeOptions(config);
  if (options.kind === 'sqlite' && !existsSync(options.path)) {
    throw new AuditInputError(`there is no Portcullis database at ${options.path} (give --data-dir)`);
  }
  const store = await openStore(options);
  try {
    if ((await store.pendingMigrations()).includes('0005_directory_audit')) {
      throw new AuditInputError(
        'this database has no directory audit log yet: start this version of Portcullis once (serve) to migrate it',
      );
    }
    return store;
  } catch (error) {
    await store.close();
    throw error;
  }
}

async function tenantsOf(store: Store, name: string | undefined): Promise<TenantRecord[]> {
  const tenants = new TenantRepository(store);
  if (name === undefined) return tenants.list();
  const tenant = (await tenants.getByName(name)) ?? (await tenants.get(name.toLowerCase()).catch(() => undefined));
  if (tenant) return [tenant];
  const names = (await tenants.list()).map((t) => t.name);
  throw new AuditInputError(`there is no tenant '${name}'${names.length ? ` (tenants: ${names.join(', ')})` : ''}`);
}

/**
 * Runs `fn` on one snapshot of the tenant: the chain head and every record as of one moment, so appends made
 * meanwhile by a running server are not mistaken for records added behind the head's back. PostgreSQL: a
 * REPEATABLE READ transaction; SQLite: a transaction (which holds the write lock, so writers wait for the walk).
 */
function inSnapshot<R>(store: Store, tenantId: string, fn: (scope: TenantScope) => Promise<R>): Promise<R> {
  return store.snapshot((tx) => fn(tx.forTenant(tenantId)));
}

/** Walks one tenant's chain. */
export async function verifyTenant(store: Store, tenantId: string): Promise<ChainResult> {
  return inSnapshot(store, tenantId, async (scope) => {
    const repo = new DirectoryAuditRepository(scope);
    const walk = new ChainWalk(tenantId, await repo.head());
    for await (const record of repo.walk()) if (!walk.push(record)) break;
    return walk.finish();
  });
}

async function verify(flags: Flags, io: ServerIo): Promise<number> {
  const store = await openExisting(flags, io);
  try {
    const results = [];
    for (const tenant of await tenantsOf(store, flags.tenant)) {
      results.push({ tenant, result: await verifyTenant(store, tenant.id) });
    }
    const broken = results.filter((r) => !r.result.ok).length;
    if (flags.json) {
      const json = results.map(({ tenant, result }) => ({ tenant: tenant.id, name: tenant.name, ...result }));
      io.out(`${JSON.stringify({ ok: broken === 0, tenants: json })}\n`);
    } else {
      for (const { tenant, result } of results) {
        const who = `tenant '${tenant.name}' (${tenant.id})`;
        if (result.ok) {
          const head = result.head ? `, head #${result.head.sequence} sha256:${result.head.hash}` : '';
          io.out(`${who}: intact, ${result.count} record${result.count === 1 ? '' : 's'}${head}\n`);
        } else {
          io.err(`${who}: BROKEN: ${result.problem.message}\n`);
        }
      }
      if (broken > 0) io.err(`${broken} of ${results.length} audit chains are broken\n`);
    }
    return broken === 0 ? AUDIT_OK : AUDIT_FAILED;
  } finally {
    await store.close();
  }
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;

async function exportLog(flags: Flags, io: ServerIo): Promise<number> {
  let since: number | undefined;
  if (flags.since !== undefined) {
    since = ISO_TIME.test(flags.since) ? Date.parse(flags.since) : Number.NaN;
    if (Number.isNaN(since)) {
      throw new UsageError(`--since must be an ISO 8601 time such as 2026-03-01T00:00:00Z, not '${flags.since}'`);
    }
  }
  const store = await openExisting(flags, io);
  try {
    const [tenant] = await tenantsOf(store, flags.tenant ?? DEFAULT_TENANT_NAME);
    const out = flags.out === undefined ? undefined : createWriteStream(flags.out, { mode: 0o600 });
    if (out) await Promise.race([once(out, 'open'), once(out, 'error').then(([e]) => Promise.reject(e))]);
    const write = async (line: string) => {
      if (!out) return io.out(line);
      if (!out.write(line)) await once(out, 'drain');
    };
    let count = 0;
    try {
      await inSnapshot(store, tenant.id, async (scope) => {
        for await (const record of new DirectoryAuditRepository(scope).walk({ from: since })) {
          await write(`${JSON.stringify(record.audit())}\n`);
          count++;
        }
      });
    } finally {
      if (out)
        await new Promise<void>((resolve, reject) =>
          out.end((error?: Error | null) => (error ? reject(error) : resolve())),
        );
    }
    io.err(
      `exported ${count} record${count === 1 ? '' : 's'} of tenant '${tenant.name}'${out ? ` to ${flags.out}` : ''}\n`,
    );
    return AUDIT_OK;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') {
      throw new AuditInputError(`cannot write '${flags.out}': ${code}`);
    }
    throw error;
  } finally {
    await store.close();
  }
}
