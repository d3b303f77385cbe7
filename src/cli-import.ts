// `portcullis import --tenant <t> [--data-dir DIR] [--config FILE] [--dry-run] [--json] <files or dirs>`: Entra
// exports into a tenant of the data directory (or PostgreSQL), as admin/policy-import.ts does it for the API too.
// The flags, the report and the exit codes are a contract (README, docs/import.md); change them only by adding.
import { parseArgs } from 'node:util';
import { type ImportReport, importIntoTenant } from './admin/policy-import.ts';
import { DirectoryAuditLog } from './audit/directory-audit.ts';
import type { ServerIo } from './cli-server.ts';
import { describeFailure } from './cli-server.ts';
import { loadConfig } from './config/load.ts';
import { loadExports } from './policy/import/load.ts';
import type { SkippedObject } from './policy/import/plan.ts';
import { formatProblem, show } from './policy/import/problems.ts';
import { openData } from './start.ts';
import { TenantRepository } from './store/tenant-repository.ts';

/** Everything was imported, or was already present (a second run of the same import exits 0). */
export const IMPORT_OK = 0;
/** Some objects were skipped for problems (each printed, naming the field); everything else was imported. */
export const IMPORT_SKIPPED = 1;
/** The command line is wrong: an unknown flag, no --tenant, no file, a tenant that does not exist. */
export const IMPORT_USAGE = 2;
/** Nothing was imported: the import as a whole breaks a limit, or the data could not be opened. */
export const IMPORT_NOTHING = 3;

export const IMPORT_HELP = `Usage: portcullis import --tenant <name or id> [options] <file or dir>...

Imports named locations and Conditional Access policies exported from Entra (Graph Explorer, Graph PowerShell,
backup tools; the files 'validate' reads) into a tenant: named locations first, each keeping its id when the
tenant has none by it and given a new one when the id is taken; policies' location references rewritten to the new
ids; then the policies. All in one transaction. Objects already in the tenant (the same content) are skipped.

  --tenant <name|id>   the tenant to import into (required)
  --dry-run            check and report everything, write nothing
  --json               print the report as JSON (docs/import.md)
  --data-dir <dir>     data directory (PORTCULLIS_DATA_DIR; default ./data)
  --config <file>      YAML configuration file (PORTCULLIS_CONFIG); its policyLimits apply

Exit codes: 0 everything imported or already present; 1 some objects skipped for problems (printed), the rest
imported; 2 the command line is wrong; 3 nothing imported (a limit would be exceeded, or the data cannot be
opened). A running server sees the import within a second (docs/import.md).
`;

class UsageError extends Error {}

interface ImportFlags {
  tenant?: string;
  'dry-run'?: boolean;
  json?: boolean;
  'data-dir'?: string;
  config?: string;
  help?: boolean;
}

export async function importCommand(args: readonly string[], io: ServerIo): Promise<number> {
  try {
    return await run(args, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`portcullis import: ${error.message}\n`);
      return IMPORT_USAGE;
    }
    const message = describeFailure(error);
    if (message === undefined) throw error;
    io.err(`portcullis import: ${message}\n`);
    return IMPORT_NOTHING;
  }
}

async function run(args: readonly string[], io: ServerIo): Promise<number> {
  let parsed: { values: ImportFlags; positionals: string[] };
  try {
    parsed = parseArgs({
      args: [...args],
      options: {
        tenant: { type: 'string' },
        'dry-run': { type: 'boolean' },
        json: { type: 'boolean' },
        'data-dir': { type: 'string' },
        config: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: true,
    }) as { values: ImportFlags; positionals: string[] };
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values: flags, positionals: paths } = parsed;
  if (flags.help) {
    io.out(IMPORT_HELP);
    return IMPORT_OK;
  }
  if (flags.tenant === undefined || flags.tenant.trim() === '') {
    throw new UsageError('--tenant <name or id> is required');
  }
  if (paths.length === 0) throw new UsageError('give the exported files or directories to import');

  const { config } = loadConfig({ file: flags.config, env: io.env, overrides: { dataDir: flags['data-dir'] } });
  // Read the files before opening the data: a typo in a path costs nothing.
  const loaded = loadExports(paths, 'auto');
  const opened = await openData(config);
  try {
    const tenants = new TenantRepository(opened.store);
    const tenant = (await tenants.getByName(flags.tenant)) ?? (await tenants.get(flags.tenant.toLowerCase()));
    if (!tenant) {
      const names = (await tenants.list()).map((t) => t.name);
      throw new UsageError(
        `there is no tenant ${show(flags.tenant)}` +
          (names.length > 0
            ? ` (tenants: ${names.join(', ')})`
            : ' (the data is not initialised: run portcullis init)'),
      );
    }
    const report = await importIntoTenant(opened.store.forTenant(tenant.id), loaded, {
      limits: config.policyLimits,
      dryRun: flags['dry-run'] === true,
      audit: new DirectoryAuditLog(),
      actor: { kind: 'system', displayName: 'Portcullis CLI' },
    });
    if (flags.json) io.out(`${JSON.stringify(report, null, 2)}\n`);
    else {
      for (const warning of report.warnings) io.err(`warning: ${formatProblem(warning)}\n`);
      io.out(reportText(report, tenant.name));
    }
    return report.outcome === 'refused'
      ? IMPORT_NOTHING
      : report.outcome === 'importedWithProblems'
        ? IMPORT_SKIPPED
        : IMPORT_OK;
  } finally {
    await opened.store.close();
  }
}

/** The report for people: what was imported (old id → new id), what was skipped and why, then a summary line. */
export function reportText(report: ImportReport, tenantName: string): string {
  const lines: string[] = [];
  const dry = report.dryRun;
  const where = `tenant '${tenantName}' (${report.tenant})`;
  if (report.outcome === 'refused') {
    lines.push(`Nothing ${dry ? 'would be' : 'was'} imported into ${where}:`);
    for (const problem of report.refused) lines.push(`  ${formatProblem(problem)}`);
  }
  const imported = [...report.imported.namedLocations, ...report.imported.policies];
  if (imported.length > 0) {
    lines.push(`${dry ? 'Would import' : 'Imported'} into ${where}:`);
    for (const item of imported) {
      const noun = item.kind === 'namedLocation' ? 'named location' : 'policy';
      const id =
        item.newIdReason === undefined
          ? item.newId
          : `${item.id === '' ? '(no id)' : item.id} → ${item.newId} (${NEW_ID_REASONS[item.newIdReason]})`;
      lines.push(`  ${noun} ${show(item.displayName, 128)}: ${id}`);
      for (const r of item.rewritten ?? []) lines.push(`    ${r.field}: ${r.from} → ${r.to}`);
    }
  }
  if (report.skipped.length > 0) {
    lines.push(report.outcome === 'refused' ? 'Also skipped:' : 'Skipped:');
    for (const item of report.skipped) {
      const as = item.presentAs !== undefined && item.presentAs !== item.id ? ` as ${item.presentAs}` : '';
      lines.push(`  ${describeSkipped(item)}: ${SKIP_REASONS[item.reason]}${as}`);
      for (const problem of item.problems) lines.push(`    ${formatProblem(problem)}`);
    }
  }
  lines.push(summary(report));
  return `${lines.join('\n')}\n`;
}

const NEW_ID_REASONS = {
  taken: 'the id is taken in this tenant',
  missing: 'it had no id',
  notAGuid: 'the id is not a GUID',
  reserved: "the id is the MFA trusted IPs' reserved one",
} as const;

const SKIP_REASONS = {
  alreadyPresent: 'already present',
  duplicate: 'the same object is earlier in this import',
  invalid: 'invalid',
  unknownLocation: 'names a named location that is not imported',
} as const;

function describeSkipped(item: SkippedObject): string {
  if (item.kind === 'file') return item.file ?? 'a file';
  const noun = item.kind === 'namedLocation' ? 'named location' : item.kind === 'policy' ? 'policy' : 'object';
  const name = item.displayName !== undefined ? ` ${show(item.displayName, 128)}` : '';
  const id = item.id !== undefined ? ` (id ${item.id})` : '';
  return `${noun}${name}${id}`;
}

function summary(report: ImportReport): string {
  const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
  const present = report.skipped.filter((s) => s.reason === 'alreadyPresent' || s.reason === 'duplicate').length;
  const problems = report.skipped.length - present;
  const parts = [
    `${count(report.imported.namedLocations.length, 'named location', 'named locations')} and ` +
      `${count(report.imported.policies.length, 'policy', 'policies')} ${report.dryRun ? 'would be imported' : 'imported'}`,
    `${present} already present`,
    `${problems} skipped for problems`,
  ];
  const head =
    report.outcome === 'refused' ? `Refused${report.dryRun ? ' (dry run)' : ''}: nothing imported` : parts.join(', ');
  return `${head}${report.dryRun && report.outcome !== 'refused' ? ' (dry run: nothing was written)' : ''}.`;
}
