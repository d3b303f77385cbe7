// Loads the configuration: YAML file, then PORTCULLIS_* environment variables, then command-line flags, each
// overriding the one before; checks every option against the schema, reports every problem at once, warns about
// insecure settings, and returns a deeply frozen result.

import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import type { Cidr } from '../net/cidr.ts';
import type { PolicyLimits } from '../policy/import/limits.ts';
import { deepFreeze } from './freeze.ts';
import type { MasterKey } from './master-key.ts';
import { describeType, type OptionSpec, type Options, type SectionSpec, showValue } from './option.ts';
import { type LogLevel, type SchemaValues, schema } from './schema.ts';
import { closest } from './suggest.ts';
import { insecureSettings } from './warnings.ts';

export interface TlsConfig {
  readonly certFile: string;
  readonly keyFile: string;
}

/** The validated, frozen configuration. schema.ts documents every option. */
export interface Config {
  readonly dataDir: string;
  readonly port: number;
  readonly host: string;
  /** Origin plus optional path, never with a trailing slash: `https://id.example.com`. */
  readonly publicUrl: string;
  readonly store: { readonly postgresUrl: string | undefined };
  readonly masterKey: MasterKey | undefined;
  readonly trustedProxies: readonly Cidr[];
  /** Set when Portcullis serves HTTPS itself; both files were readable at start-up. */
  readonly tls: TlsConfig | undefined;
  readonly log: { readonly level: LogLevel };
  readonly geo: { readonly countryDatabase: string | undefined };
  readonly policyLimits: Readonly<PolicyLimits>;
  readonly lockout: SchemaValues['lockout'];
  readonly tokens: SchemaValues['tokens'];
  readonly gateway: SchemaValues['gateway'];
}

/** What the command line may override: `--data-dir`, `--port`, `--public-url`. */
export interface ConfigOverrides {
  readonly dataDir?: string;
  readonly port?: string | number;
  readonly publicUrl?: string;
}

export interface LoadConfigOptions {
  /** The YAML file; when absent, PORTCULLIS_CONFIG names it; when both are absent, no file is read. */
  readonly file?: string;
  readonly env: NodeJS.ProcessEnv;
  readonly overrides?: ConfigOverrides;
}

export interface LoadedConfig {
  readonly config: Config;
  /** Insecure or suspicious settings, to be logged loudly at start-up. They do not stop the server. */
  readonly warnings: readonly string[];
}

/** Environment variables that are not options but are understood. */
export const CONFIG_FILE_ENV = 'PORTCULLIS_CONFIG';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super(`the configuration has ${count}:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.problems = Object.freeze([...problems]);
  }
}

/** Loads and validates the configuration; throws ConfigError listing every problem. */
export function loadConfig(options: LoadConfigOptions): LoadedConfig {
  const problems: string[] = [];
  const warnings: string[] = [];
  const env = options.env;
  const file = options.file ?? nonEmpty(env[CONFIG_FILE_ENV]);
  const fileValues = file === undefined ? {} : readConfigFile(file, problems);

  const resolver = new Resolver(env, options.overrides ?? {}, problems);
  const values = resolver.section(schema, fileValues, []) as SchemaValues;
  const config = finish(values, resolver.failed, problems);
  warnings.push(...unknownEnvironment(env));
  if (problems.length > 0) throw new ConfigError(problems);
  warnings.push(...insecureSettings(config));
  return { config: deepFreeze(config), warnings: Object.freeze(warnings) };
}

function readConfigFile(file: string, problems: string[]): Record<string, unknown> {
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    problems.push(
      `config file ${showValue(file)} cannot be read: ${code === 'ENOENT' ? 'no such file' : (code ?? error)}`,
    );
    return {};
  }
  const lineCounter = new LineCounter();
  // prettyErrors off: a pretty error quotes the offending line, which may hold a secret such as the master key.
  const doc = parseDocument(source, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const yamlProblems = [...doc.errors, ...doc.warnings];
  for (const error of yamlProblems) {
    const { line, col } = lineCounter.linePos(error.pos[0]);
    problems.push(`config file ${showValue(file)}: line ${line}, column ${col}: ${error.message.split('\n')[0]}`);
  }
  if (yamlProblems.length > 0) return {};
  let value: unknown;
  try {
    value = doc.toJS();
  } catch (error) {
    problems.push(`config file ${showValue(file)}: ${(error as Error).message}`);
    return {};
  }
  if (value === null || value === undefined) return {}; // an empty file: every option takes its default
  if (!isMapping(value)) {
    problems.push(
      `config file ${showValue(file)} must hold a mapping of options but it holds a ${describeType(value)}`,
    );
    return {};
  }
  return value;
}

/** Walks the schema, taking each option from the flag, the environment, the file or the default, in that order. */
class Resolver {
  readonly failed = new Set<string>();
  readonly #env: NodeJS.ProcessEnv;
  readonly #overrides: ConfigOverrides;
  readonly #problems: string[];

  constructor(env: NodeJS.ProcessEnv, overrides: ConfigOverrides, problems: string[]) {
    this.#env = env;
    this.#overrides = overrides;
    this.#problems = problems;
  }

  section(spec: SectionSpec<Options>, fileValues: Record<string, unknown>, path: readonly string[]): unknown {
    const out: Record<string, unknown> = {};
    const prefix = path.length > 0 ? `${path.join('.')}: ` : '';
    for (const [key, child] of Object.entries(spec.options)) {
      const fileValue = Object.hasOwn(fileValues, key) ? fileValues[key] : undefined;
      if (child.kind === 'section') {
        let childValues: Record<string, unknown> = {};
        if (isMapping(fileValue)) childValues = fileValue;
        else if (fileValue !== undefined && fileValue !== null) {
          this.#problems.push(
            `${prefix}option '${key}' must be a mapping of options but it's configured as ${showValue(fileValue)}`,
          );
        }
        out[key] = this.section(child, childValues, [...path, key]);
      } else {
        out[key] = this.option(child, key, fileValue, path, prefix);
      }
    }
    for (const key of Object.keys(fileValues)) {
      if (Object.hasOwn(spec.options, key)) continue;
      const known = Object.keys(spec.options);
      const guess = closest(key, known);
      const hint =
        guess !== undefined
          ? ` (did you mean '${guess}'?)`
          : `; the options here are ${known.map((k) => `'${k}'`).join(', ')}`;
      this.#problems.push(`${prefix}option ${showValue(key)} is not a known option${hint}`);
    }
    return out;
  }

  // biome-ignore lint/suspicious/noExplicitAny: options of every value type pass through here.
  option(spec: OptionSpec<any>, key: string, fileValue: unknown, path: readonly string[], prefix: string): unknown {
    let raw: unknown;
    let value: unknown;
    let source = '';
    const flag =
      path.length === 0 && spec.flag !== undefined ? this.#overrides[key as keyof ConfigOverrides] : undefined;
    const envText = nonEmpty(this.#env[spec.env]);
    if (flag !== undefined) {
      raw = flag;
      value = typeof flag === 'string' ? spec.fromText(flag) : flag;
      source = ` by --${spec.flag}`;
    } else if (envText !== undefined) {
      raw = envText;
      value = spec.fromText(envText);
      source = ` by environment variable ${spec.env}`;
    } else if (fileValue !== undefined && fileValue !== null) {
      raw = fileValue;
      value = fileValue;
    } else {
      return spec.default;
    }
    const checked = spec.check(value);
    if (checked.ok) return checked.value;
    this.failed.add([...path, key].join('.'));
    const detail = checked.detail !== undefined ? ` (${checked.detail})` : '';
    this.#problems.push(
      `${prefix}option '${key}' ${checked.must} but it's configured as ${spec.show(raw)}${source}${detail}`,
    );
    return spec.default;
  }
}

/** The steps that involve more than one option: defaults computed from others, and options that must agree. */
function finish(values: SchemaValues, failed: ReadonlySet<string>, problems: string[]): Config {
  const ok = (...paths: string[]) => paths.every((p) => !failed.has(p));

  const { certFile, keyFile } = values.tls;
  let tls: TlsConfig | undefined;
  if (certFile !== undefined && keyFile !== undefined) tls = { certFile, keyFile };
  else if ((certFile !== undefined || keyFile !== undefined) && ok('tls.certFile', 'tls.keyFile')) {
    const [set, unset] = certFile !== undefined ? ['certFile', 'keyFile'] : ['keyFile', 'certFile'];
    problems.push(
      `tls: options 'certFile' and 'keyFile' must be set together but only '${set}' is configured, not '${unset}'`,
    );
  }

  notAbove(problems, ok, 'policyLimits', values.policyLimits, 'minRangesPerLocation', 'maxRangesPerLocation');
  notAbove(problems, ok, 'lockout', values.lockout, 'initialLockoutSeconds', 'maxLockoutSeconds');

  const publicUrl = values.publicUrl ?? `${tls ? 'https' : 'http'}://localhost:${values.port}`;
  if (ok('publicUrl', 'gateway.cookieDomain', 'gateway.applications')) gatewayProblems(values, publicUrl, problems);
  return {
    dataDir: values.dataDir,
    port: values.port,
    host: values.host,
    publicUrl,
    store: values.store,
    masterKey: values.masterKey,
    trustedProxies: values.trustedProxies,
    tls,
    log: values.log,
    geo: values.geo,
    policyLimits: values.policyLimits,
    lockout: values.lockout,
    tokens: values.tokens,
    gateway: values.gateway,
  };
}

/** The gateway's options that must agree: distinct header names, and a cookie domain that covers every host. */
function gatewayProblems(values: SchemaValues, publicUrl: string, problems: string[]): void {
  const { headers, cookieDomain, applications } = values.gateway;
  const seen = new Map<string, string>();
  for (const [key, name] of Object.entries(headers)) {
    const other = seen.get(name.toLowerCase());
    if (other !== undefined) {
      problems.push(
        `gateway.headers: options '${other}' and '${key}' must name different headers but both are '${name}'`,
      );
    }
    seen.set(name.toLowerCase(), key);
  }
  if (cookieDomain === undefined) return;
  const under = (host: string) => host === cookieDomain || host.endsWith(`.${cookieDomain}`);
  const publicHost = new URL(publicUrl).hostname;
  if (!under(publicHost)) {
    problems.push(
      `gateway: option 'cookieDomain' must be the public URL's host '${publicHost}' or a parent of it but it's configured as '${cookieDomain}'`,
    );
  }
  for (const [i, app] of applications.entries()) {
    for (const host of app.hosts) {
      const name = host.kind === 'exact' ? host.host : host.suffix.slice(1);
      if (!under(name)) {
        problems.push(
          `gateway.applications[${i}]: host '${host.text}' is not under cookieDomain '${cookieDomain}', so the session cookie would never reach it`,
        );
      }
    }
  }
}

function notAbove<S extends Record<string, unknown>>(
  problems: string[],
  ok: (...paths: string[]) => boolean,
  name: string,
  section: S,
  low: keyof S & string,
  high: keyof S & string,
): void {
  const lowValue = section[low] as number;
  const highValue = section[high] as number;
  if (lowValue > highValue && ok(`${name}.${low}`, `${name}.${high}`)) {
    problems.push(
      `${name}: option '${low}' must not be greater than option '${high}' (${highValue}) but it's configured as '${lowValue}'`,
    );
  }
}

/** Every environment variable an option reads, with where it sits in the schema. */
export function environmentVariables(): ReadonlyMap<string, string> {
  const out = new Map<string, string>();
  const walk = (spec: SectionSpec<Options>, path: readonly string[]) => {
    for (const [key, child] of Object.entries(spec.options)) {
      if (child.kind === 'section') walk(child, [...path, key]);
      else out.set(child.env, [...path, key].join('.'));
    }
  };
  walk(schema, []);
  return out;
}

/**
 * A PORTCULLIS_* variable that no option reads is probably a typo. It is a warning, not a problem: the environment
 * is shared with other tools (test harnesses, wrappers) that may use the prefix for their own settings.
 */
function unknownEnvironment(env: NodeJS.ProcessEnv): string[] {
  const known = environmentVariables();
  const names = [...known.keys(), CONFIG_FILE_ENV];
  const out: string[] = [];
  for (const name of Object.keys(env).sort()) {
    if (!name.startsWith('PORTCULLIS_') || known.has(name) || name === CONFIG_FILE_ENV) continue;
    const guess = closest(name, names);
    out.push(
      `environment variable ${name} is not a Portcullis option and is ignored${guess ? ` (did you mean ${guess}?)` : ''}`,
    );
  }
  return out;
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function nonEmpty(text: string | undefined): string | undefined {
  // An empty variable (`PORTCULLIS_PORT=` from an unset compose interpolation) means "not set", not "set to ''".
  return text === undefined || text === '' ? undefined : text;
}
