// `portcullis <command>`: the command-line contract. Commands, flags, output and exit codes here are depended on by
// scripts exactly as written; change them only by adding.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { auditCommand } from './cli-audit.ts';
import { importCommand } from './cli-import.ts';
import {
  DATA_OPTIONS,
  describeFailure,
  initCommand,
  keysRotateCommand,
  type ServerIo,
  serveCommand,
} from './cli-server.ts';
import { doctorOptions, runDoctor } from './gateway/doctor.ts';
import type { CountryLookup } from './geo/country-lookup.ts';
import { compilePolicySet } from './policy/compile.ts';
import { EvaluationInputError } from './policy/evaluate.ts';
import { parseJsonDocument } from './policy/import/decode.ts';
import { DEFAULT_LIMITS, type PolicyLimits } from './policy/import/limits.ts';
import { loadExports } from './policy/import/load.ts';
import { formatProblem } from './policy/import/problems.ts';
import { validatePolicySet } from './policy/import/validate.ts';
import type { ConditionalAccessPolicy, NamedLocation } from './policy/types.ts';
import { type DirectoryUser, directoryResolver, WhatIfInputError, whatIf } from './policy/whatif.ts';

/** Exit codes: 0 success, 1 the input has problems (each printed), 2 the command line itself is wrong. */
const EXIT_OK = 0;
const EXIT_INVALID = 1;
const EXIT_USAGE = 2;

interface Io extends ServerIo {
  now: () => number;
}

const defaultIo: Io = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  now: () => Date.now(),
  readStdin: async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
  get stdinIsTerminal() {
    return process.stdin.isTTY === true;
  },
  env: process.env,
};

const HELP = `Usage: portcullis <command> [options]

Commands:
  serve      Run the server. On an empty data directory it first does what init does and prints the result.
               --data-dir <dir>         data directory (PORTCULLIS_DATA_DIR; default ./data)
               --port <n>               TCP port (PORTCULLIS_PORT; default 9091)
               --public-url <url>       the URL people reach it by (PORTCULLIS_PUBLIC_URL; default
                                        http://localhost:<port>)
               --config <file>          YAML configuration file (PORTCULLIS_CONFIG); see docs/configuration.md
  init       Create the default tenant, a Global Administrator and an admin API client; same options as serve, and
               --json                   print {"tenant", "issuer", "tokenEndpoint", "graphBaseUrl", "clientId",
                                        "clientSecret", "scope"} on standard output (the rest on standard error)
               --admin <upn>            the administrator's user principal name (default admin@<public URL host>)
             The administrator's password is read from standard input when it is not a terminal; otherwise (or
             when standard input is empty) one is generated and shown once. Exit 1 when already initialised.
  keys       keys rotate: a new data key for every tenant, and the master key replaced (a new key file in the
             data directory, or with --new-master-key-stdin the new configured key read from standard input).
             Same options as serve. Stop the servers first when the master key changes.
  validate   Check named locations and Conditional Access policies (Entra exports as they are)
               --locations <file|dir>   named locations: one object, an array, or a Graph page { "value": [...] }
               --policies <file|dir>    Conditional Access policies, same forms
               --limit <name>=<n>       override a limit (repeatable): ${Object.keys(DEFAULT_LIMITS).join(', ')}
             Exit 0 when valid; otherwise 1 and one line per problem naming file, object and field.
  whatif     Evaluate a sign-in against the policies, like Graph's POST /identity/conditionalAccess/evaluate
               --locations <file|dir>   named locations
               --policies <file|dir>    Conditional Access policies
               --directory <file>       {"users": [{"id", "userPrincipalName", "userType", "groups", "roles"}]}
               --request <file>         the body of POST /identity/conditionalAccess/evaluate
               --geo-db <file.mmdb>     your own MMDB country database instead of the bundled one
               --mfa-trusted-ip <cidr>  an MFA trusted IP range (location 00000000-0000-0000-0000-000000000000),
                                        repeatable
             Prints {"value": [...whatIfAnalysisResult], "decision": {...}} as JSON.
  import     import --tenant <name|id> <files or dirs>: Entra exports into a tenant (locations first, ids kept where
             free, references rewritten), in one transaction; a report of what was imported and skipped, and why
               --dry-run                check and report, write nothing
               --json                   print the report as JSON
               --data-dir, --config     as for serve
             Exit 0 all imported or already present, 1 some skipped for problems, 2 usage, 3 nothing imported.
             See docs/import.md.
  audit      audit verify: check every tenant's directory audit hash chain (--tenant for one); exit 1 naming the first
             record changed, removed or inserted. audit export: a tenant's directory audit log as JSON lines
             (--tenant, default 'default'; --since <ISO time>; --out <file>, default standard output). --data-dir,
             --config as for serve. See docs/audit.md.
  doctor     doctor <url of a protected application>: checks the reverse proxy in front of it from here (asks
             Portcullis first, passes the right headers, strips forged ones); one PASS/WARN/FAIL line per check
               --portcullis <url>       Portcullis's public URL, to check the sign-in goes there
               --session-cookie <c>     your gateway session cookies from the browser ('portcullis-gw-session-…=…;
                                        portcullis-gw-binding-…=…'): also checks what reaches the application
               --session-cookie-stdin   read them from standard input instead (keeps them out of shell history)
               --json                   print the report as JSON
             Exit 0 when no check failed, 1 when one did. See docs/forward-auth.md, "Checking your proxy".
  help       Show this help (also --help, -h)
  version    Print the version (also --version)

Run 'portcullis <command> --help' for one command's options.
`;

export async function main(argv: readonly string[], io: Io = defaultIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.out(HELP);
        return command === undefined ? EXIT_USAGE : EXIT_OK;
      case 'version':
      case '--version':
        io.out(`${readVersion()}\n`);
        return EXIT_OK;
      case 'serve':
        return await dataCommand('serve', rest, io, {}, async (flags) => {
          await serveCommand(flags, io);
        });
      case 'init':
        return await dataCommand('init', rest, io, { json: { type: 'boolean' }, admin: { type: 'string' } }, (flags) =>
          initCommand(flags, io),
        );
      case 'keys':
        return await keysCommand(rest, io);
      case 'validate':
        return validateCommand(rest, io);
      case 'whatif':
        return await whatIfCommand(rest, io);
      case 'doctor':
        return await doctorCommand(rest, io);
      case 'import':
        return await importCommand(rest, io);
      case 'audit':
        return await auditCommand(rest, io);
      default:
        io.err(`portcullis: unknown command '${command}'\n\n${HELP}`);
        return EXIT_USAGE;
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`portcullis ${command}: ${error.message}\n`);
      return EXIT_USAGE;
    }
    if (error instanceof InputError || error instanceof WhatIfInputError || error instanceof EvaluationInputError) {
      io.err(`portcullis ${command}: ${error.message}\n`);
      return EXIT_INVALID;
    }
    throw error;
  }
}

class UsageError extends Error {}
class InputError extends Error {}

type OptionSpec = Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }>;
type OptionValues = { values: Record<string, string | boolean | (string | boolean)[] | undefined> };

function parse(args: readonly string[], options: OptionSpec): OptionValues {
  try {
    return parseArgs({ args: [...args], options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** Parses the data-directory flags plus `extra`, runs `run`, and turns known failures into a message and exit 1. */
async function dataCommand(
  name: string,
  args: readonly string[],
  io: Io,
  extra: OptionSpec,
  run: (flags: Record<string, string | boolean | undefined>) => Promise<void>,
): Promise<number> {
  const { values, positionals } = parseWithPositionals(args, { ...DATA_OPTIONS, ...extra });
  if (values.help) {
    io.out(HELP);
    return EXIT_OK;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  try {
    await run(values as Record<string, string | boolean | undefined>);
    return EXIT_OK;
  } catch (error) {
    const message = describeFailure(error);
    if (message === undefined) throw error;
    io.err(`portcullis ${name}: ${message}\n`);
    return EXIT_INVALID;
  }
}

async function keysCommand(args: readonly string[], io: Io): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'rotate') {
    return dataCommand('keys rotate', rest, io, { 'new-master-key-stdin': { type: 'boolean' } }, (flags) =>
      keysRotateCommand(flags, io),
    );
  }
  if (sub === undefined || sub === '--help' || sub === '-h') {
    io.out(HELP);
    return sub === undefined ? EXIT_USAGE : EXIT_OK;
  }
  throw new UsageError(`unknown subcommand '${sub}' (the only one is 'keys rotate')`);
}

function parseWithPositionals(args: readonly string[], options: OptionSpec) {
  try {
    return parseArgs({
      args: [...args],
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: true,
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function validateCommand(args: readonly string[], io: Io): number {
  const { values } = parse(args, {
    locations: { type: 'string', multiple: true },
    policies: { type: 'string', multiple: true },
    limit: { type: 'string', multiple: true },
  });
  if (values.help) {
    io.out(HELP);
    return EXIT_OK;
  }
  const locationPaths = (values.locations as string[] | undefined) ?? [];
  const policyPaths = (values.policies as string[] | undefined) ?? [];
  if (locationPaths.length === 0 && policyPaths.length === 0) {
    throw new UsageError('give --locations <file|dir>, --policies <file|dir>, or both');
  }
  const limits = parseLimits((values.limit as string[] | undefined) ?? []);
  const loaded = loadBoth(locationPaths, policyPaths);
  for (const warning of loaded.warnings) io.err(`warning: ${formatProblem(warning)}\n`);
  const problems = [
    ...loaded.problems,
    ...validatePolicySet({ locations: loaded.locations, policies: loaded.policies }, limits, { fileOf: loaded.fileOf }),
  ];
  if (problems.length > 0) {
    for (const problem of problems) io.out(`${formatProblem(problem)}\n`);
    io.err(`${problems.length} problem${problems.length === 1 ? '' : 's'} found\n`);
    return EXIT_INVALID;
  }
  io.out(`valid: ${loaded.locations.length} named locations, ${loaded.policies.length} policies\n`);
  return EXIT_OK;
}

async function whatIfCommand(args: readonly string[], io: Io): Promise<number> {
  const { values } = parse(args, {
    locations: { type: 'string', multiple: true },
    policies: { type: 'string', multiple: true },
    directory: { type: 'string' },
    request: { type: 'string' },
    'geo-db': { type: 'string' },
    'mfa-trusted-ip': { type: 'string', multiple: true },
    limit: { type: 'string', multiple: true },
  });
  if (values.help) {
    io.out(HELP);
    return EXIT_OK;
  }
  const policyPaths = (values.policies as string[] | undefined) ?? [];
  const locationPaths = (values.locations as string[] | undefined) ?? [];
  if (policyPaths.length === 0) throw new UsageError('--policies <file|dir> is required');
  if (typeof values.directory !== 'string') throw new UsageError('--directory <file> is required');
  if (typeof values.request !== 'string') throw new UsageError('--request <file> is required');
  const limits = parseLimits((values.limit as string[] | undefined) ?? []);

  const loaded = loadBoth(locationPaths, policyPaths);
  for (const warning of loaded.warnings) io.err(`warning: ${formatProblem(warning)}\n`);
  const problems = [
    ...loaded.problems,
    ...validatePolicySet({ locations: loaded.locations, policies: loaded.policies }, limits, { fileOf: loaded.fileOf }),
  ];
  if (problems.length > 0) {
    for (const problem of problems) io.err(`${formatProblem(problem)}\n`);
    io.err('the policies are not valid; run `portcullis validate` for details\n');
    return EXIT_INVALID;
  }

  const directory = readJsonFile(values.directory, 'directory');
  const users = (directory as { users?: unknown }).users;
  if (!Array.isArray(users) || users.some((u) => typeof u?.id !== 'string')) {
    throw new InputError(`${values.directory}: must be {"users": [{"id": "...", ...}]} with an id for every user`);
  }
  const body = readJsonFile(values.request, 'request');

  const needsCountry = loaded.locations.some((l) => l['@odata.type'] === '#microsoft.graph.countryNamedLocation');
  const countries = needsCountry ? await openCountries(values['geo-db'] as string | undefined) : undefined;
  const set = compilePolicySet(loaded.locations, loaded.policies, {
    mfaTrustedIps: (values['mfa-trusted-ip'] as string[] | undefined) ?? [],
    countryOf: countries ? (ip) => countries.country(ip) : undefined,
  });
  const result = whatIf(set, directoryResolver(users as DirectoryUser[]), body, io.now());
  io.out(`${JSON.stringify(result, null, 2)}\n`);
  return EXIT_OK;
}

async function doctorCommand(args: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parseWithPositionals(args, {
    portcullis: { type: 'string' },
    json: { type: 'boolean' },
    'session-cookie': { type: 'string' },
    'session-cookie-stdin': { type: 'boolean' },
  });
  if (values.help) {
    io.out(HELP);
    return EXIT_OK;
  }
  const flags = values as Record<string, string | boolean | undefined>;
  let sessionCookie = flags['session-cookie'] as string | undefined;
  if (flags['session-cookie-stdin']) {
    if (sessionCookie !== undefined) throw new UsageError('give --session-cookie or --session-cookie-stdin, not both');
    if (io.stdinIsTerminal) throw new UsageError('--session-cookie-stdin reads standard input, which is a terminal');
    sessionCookie = await io.readStdin();
  }
  const parsed = doctorOptions({
    positionals,
    portcullis: flags.portcullis as string | undefined,
    json: flags.json as boolean | undefined,
    sessionCookie,
  });
  if (!parsed.ok) throw new UsageError(parsed.problem);
  return runDoctor(parsed.options, io);
}

function loadBoth(locationPaths: string[], policyPaths: string[]) {
  const locations = locationPaths.length ? loadExports(locationPaths, 'locations') : undefined;
  const policies = policyPaths.length ? loadExports(policyPaths, 'policies') : undefined;
  const all = [locations, policies].filter((x) => x !== undefined);
  const loaded = {
    locations: all.flatMap((x) => x.locations) as NamedLocation[],
    policies: all.flatMap((x) => x.policies) as ConditionalAccessPolicy[],
    problems: all.flatMap((x) => x.problems),
    warnings: all.flatMap((x) => x.warnings),
    fileOf: (item: NamedLocation | ConditionalAccessPolicy) => {
      for (const x of all) {
        const file = x.sourceFile(item);
        if (file) return file;
      }
      return undefined;
    },
  };
  // Objects without an id (hand-written files) get one, as the store would give them.
  for (const item of [...loaded.locations, ...loaded.policies]) if (!item.id) item.id = crypto.randomUUID();
  return loaded;
}

function parseLimits(specs: readonly string[]): PolicyLimits {
  const limits: Record<string, number> = { ...DEFAULT_LIMITS };
  for (const spec of specs) {
    const match = /^([A-Za-z0-9]+)=(\d+)$/.exec(spec);
    if (!match || !(match[1] in DEFAULT_LIMITS)) {
      throw new UsageError(
        `--limit '${spec}' must be <name>=<whole number> with a name from: ${Object.keys(DEFAULT_LIMITS).join(', ')}`,
      );
    }
    limits[match[1]] = Number(match[2]);
  }
  return limits as unknown as PolicyLimits;
}

function readJsonFile(path: string, what: string): unknown {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new InputError(`cannot read ${what} file '${path}': ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
  const parsed = parseJsonDocument(bytes, path);
  if (!parsed.ok) throw new InputError(formatProblem(parsed.problem));
  return parsed.value;
}

async function openCountries(path: string | undefined): Promise<CountryLookup> {
  const { openCountryDatabaseSync } = await import('./geo/country-lookup.ts');
  try {
    return openCountryDatabaseSync(path ? { path } : {});
  } catch (error) {
    throw new InputError((error as Error).message);
  }
}

function readVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

if (import.meta.main) {
  process.exitCode = await main(process.argv.slice(2));
}
