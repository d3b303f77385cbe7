// One tenant's named locations, Conditional Access policies and MFA trusted IPs, stored as Graph JSON, with the
// tenant's policyVersion: bumped in the same transaction as every change, so caches can tell they are stale.
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { PortcullisError } from '../../errors.ts';
import { CidrParseError, parseCidr } from '../../net/cidr.ts';
import { DEFAULT_LIMITS, type PolicyLimits } from '../../policy/import/limits.ts';
import { normalizeNamedLocation, normalizePolicy } from '../../policy/import/normalize.ts';
import { formatProblem, type Problem } from '../../policy/import/problems.ts';
import { validateLocations, validatePolicies } from '../../policy/import/validate.ts';
import type { ConditionalAccessPolicy, NamedLocation } from '../../policy/types.ts';
import type { TenantScope } from '../tenant-scope.ts';
import './schema.ts';
import { SETTING_KEYS, TenantSettings } from './tenant-settings.ts';

/** A write refused because the object (or what it would do to the set) is invalid: Graph's 400, code 90001. */
export class InvalidPolicyError extends PortcullisError {
  override name = 'InvalidPolicyError';
  /** Every problem found, each naming the object, the field and the value (policy/import/problems.ts). */
  readonly problems: readonly Problem[];
  constructor(problems: readonly Problem[]) {
    super(90001, problems.map(formatProblem).join('; '));
    this.problems = problems;
  }
}

/** What a create or replace stored, with the importer's warnings (parts Portcullis keeps but does not evaluate). */
export interface Saved<T> {
  readonly value: T;
  readonly warnings: readonly Problem[];
  /** The tenant's policyVersion after this change. */
  readonly version: number;
}

/** Everything the compiled policy set is built from, read at one policyVersion. */
export interface PolicySnapshot {
  readonly version: number;
  readonly locations: readonly NamedLocation[];
  readonly policies: readonly ConditionalAccessPolicy[];
  readonly mfaTrustedIps: readonly string[];
}

/** What `addAll`'s chooser returns: the objects to add, with their ids, and what the caller wants back. */
export interface Additions<R> {
  readonly locations: readonly NamedLocation[];
  readonly policies: readonly ConditionalAccessPolicy[];
  readonly result: R;
}

/** What `addAll` stored (with the store's dates), at which policyVersion, and the chooser's result. */
export interface Added<R> {
  readonly version: number;
  readonly locations: readonly NamedLocation[];
  readonly policies: readonly ConditionalAccessPolicy[];
  readonly result: R;
}

export interface PolicyRepositoryOptions {
  /** Entra's limits unless configured otherwise (policy/import/limits.ts). */
  readonly limits?: PolicyLimits;
}

type DocumentTable = 'named_locations' | 'ca_policies';

/** Reads beside a concurrent change are retried this often before giving up (each retry sees a newer version). */
const SNAPSHOT_ATTEMPTS = 5;

function graphTime(ms: number): string {
  return new Date(ms).toISOString();
}

function parseBody<T>(tenantId: string, table: DocumentTable, id: string, body: string): T {
  try {
    return JSON.parse(body) as T;
  } catch (error) {
    // Fail closed: a policy we cannot read must not silently disappear from evaluation.
    throw new Error(`tenant ${tenantId}: ${table} row '${id}' is not valid JSON (${(error as Error).message})`);
  }
}

function notAnObject(kind: string, value: unknown): InvalidPolicyError {
  return new InvalidPolicyError([
    {
      message: `a ${kind} must be a JSON object, not ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`,
    },
  ]);
}

export class PolicyRepository {
  readonly #scope: TenantScope;
  readonly #limits: PolicyLimits;

  constructor(scope: TenantScope, options: PolicyRepositoryOptions = {}) {
    this.#scope = scope;
    this.#limits = options.limits ?? DEFAULT_LIMITS;
  }

  /** The tenant's policyVersion: 0 before the first change, then one more with every change. */
  async version(): Promise<number> {
    return readVersion(this.#scope);
  }

  // --- named locations ---------------------------------------------------------------------------------------------

  async listLocations(): Promise<NamedLocation[]> {
    return listDocuments<NamedLocation>(this.#scope, 'named_locations');
  }

  async getLocation(id: string): Promise<NamedLocation | undefined> {
    return getDocument<NamedLocation>(this.#scope, 'named_locations', id);
  }

  /** Graph `POST namedLocations`: a new id, createdDateTime and modifiedDateTime from the store's clock. */
  async createLocation(input: unknown): Promise<Saved<NamedLocation>> {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) throw notAnObject('named location', input);
    return this.#scope.transaction(async (tx) => {
      const version = await bumpVersion(tx);
      const now = tx.now();
      const { location, warnings } = this.#checkLocation({ ...input, id: randomUUID() });
      const count = await countDocuments(tx, 'named_locations');
      if (count + 1 > this.#limits.maxNamedLocations) {
        throw new InvalidPolicyError([
          {
            message: `the tenant already has ${count} named locations, the limit is ${this.#limits.maxNamedLocations}`,
          },
        ]);
      }
      const value = { ...location, createdDateTime: graphTime(now), modifiedDateTime: graphTime(now) };
      await insertDocument(tx, 'named_locations', value, now);
      return { value, warnings, version };
    });
  }

  /**
   * Replaces a named location (the stored id and createdDateTime are kept); undefined when there is none. The kind
   * (`@odata.type`) cannot change, as in Graph, since policies refer to the location for what it is.
   */
  async replaceLocation(id: string, input: unknown): Promise<Saved<NamedLocation> | undefined> {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) throw notAnObject('named location', input);
    return change(this.#scope, async (tx) => {
      const version = await bumpVersion(tx);
      const current = await getDocument<NamedLocation>(tx, 'named_locations', id);
      if (current === undefined) throw new Missing();
      const { location, warnings } = this.#checkLocation({ ...input, id });
      if (location['@odata.type'] !== current['@odata.type']) {
        throw new InvalidPolicyError([
          {
            object: `location '${current.displayName}' (id ${id})`,
            field: '@odata.type',
            message: `is '${current['@odata.type']}' and cannot change to '${location['@odata.type']}': create a new location instead`,
          },
        ]);
      }
      const now = tx.now();
      const value = { ...location, createdDateTime: current.createdDateTime ?? null, modifiedDateTime: graphTime(now) };
      await updateDocument(tx, 'named_locations', value, now);
      return { value, warnings, version };
    });
  }

  /**
   * Deletes a named location; false when there is none. Refused, as in Entra, while the location is trusted (mark it
   * untrusted first) or while a policy refers to it (a policy would otherwise name a location that does not exist).
   */
  async deleteLocation(id: string): Promise<boolean> {
    const deleted = await change(this.#scope, async (tx) => {
      await bumpVersion(tx);
      const current = await getDocument<NamedLocation>(tx, 'named_locations', id);
      if (current === undefined) throw new Missing();
      const object = `location '${current.displayName}' (id ${id})`;
      if (current['@odata.type'] === '#microsoft.graph.ipNamedLocation' && current.isTrusted) {
        throw new InvalidPolicyError([
          { object, message: 'a trusted location cannot be deleted: set isTrusted to false first' },
        ]);
      }
      const users = (await listDocuments<ConditionalAccessPolicy>(tx, 'ca_policies')).filter((policy) => {
        const locations = policy.conditions?.locations;
        return [...(locations?.includeLocations ?? []), ...(locations?.excludeLocations ?? [])].includes(id);
      });
      if (users.length > 0) {
        throw new InvalidPolicyError(
          users.map((policy) => ({
            object,
            message: `policy '${policy.displayName}' (id ${policy.id}) refers to it: remove it from the policy's conditions.locations first`,
          })),
        );
      }
      await tx.deleteFrom('named_locations').where('id', '=', id).execute();
      return true;
    });
    return deleted === true;
  }

  // --- Conditional Access policies --------------------------------------------------------------------------------

  async listPolicies(): Promise<ConditionalAccessPolicy[]> {
    return listDocuments<ConditionalAccessPolicy>(this.#scope, 'ca_policies');
  }

  async getPolicy(id: string): Promise<ConditionalAccessPolicy | undefined> {
    return getDocument<ConditionalAccessPolicy>(this.#scope, 'ca_policies', id);
  }

  /** Graph `POST policies`: a new id; every named location it refers to must exist in this tenant. */
  async createPolicy(input: unknown): Promise<Saved<ConditionalAccessPolicy>> {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) throw notAnObject('policy', input);
    return this.#scope.transaction(async (tx) => {
      const version = await bumpVersion(tx);
      const { policy, warnings } = await this.#checkPolicy(tx, { ...input, id: randomUUID() });
      const count = await countDocuments(tx, 'ca_policies');
      if (count + 1 > this.#limits.maxPolicies) {
        throw new InvalidPolicyError([
          { message: `the tenant already has ${count} policies, the limit is ${this.#limits.maxPolicies}` },
        ]);
      }
      const now = tx.now();
      const value = { ...policy, createdDateTime: graphTime(now), modifiedDateTime: graphTime(now) };
      await insertDocument(tx, 'ca_policies', value, now);
      return { value, warnings, version };
    });
  }

  /** Replaces a policy (the stored id and createdDateTime are kept); undefined when there is none. */
  async replacePolicy(id: string, input: unknown): Promise<Saved<ConditionalAccessPolicy> | undefined> {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) throw notAnObject('policy', input);
    return change(this.#scope, async (tx) => {
      const version = await bumpVersion(tx);
      const current = await getDocument<ConditionalAccessPolicy>(tx, 'ca_policies', id);
      if (current === undefined) throw new Missing();
      const { policy, warnings } = await this.#checkPolicy(tx, { ...input, id });
      const now = tx.now();
      const value = { ...policy, createdDateTime: current.createdDateTime ?? null, modifiedDateTime: graphTime(now) };
      await updateDocument(tx, 'ca_policies', value, now);
      return { value, warnings, version };
    });
  }

  async deletePolicy(id: string): Promise<boolean> {
    const deleted = await change(this.#scope, async (tx) => {
      await bumpVersion(tx);
      const result = await tx.deleteFrom('ca_policies').where('id', '=', id).executeTakeFirst();
      if (result.numDeletedRows === 0n) throw new Missing();
      return true;
    });
    return deleted === true;
  }

  // --- import ------------------------------------------------------------------------------------------------------

  /**
   * Adds named locations and policies under the ids they carry, all or nothing (`portcullis import` and the admin
   * API's import, which decide the ids: policy/import/plan.ts). `choose` is given the tenant's locations and policies,
   * read after the tenant's policy lock is taken, so nothing changes them before this transaction ends; it returns
   * what to add and anything the caller wants back. Each addition is checked as create checks one object, its id must
   * be free, and the counts after it must be within the limits: any problem throws InvalidPolicyError and nothing is
   * written. Joins the caller's transaction, so audit records written there commit or roll back with the objects.
   */
  async addAll<R>(
    choose: (current: { locations: NamedLocation[]; policies: ConditionalAccessPolicy[] }) => Additions<R>,
  ): Promise<Added<R>> {
    return this.#scope.transaction(async (tx) => {
      const version = await bumpVersion(tx);
      const current = {
        locations: await listDocuments<NamedLocation>(tx, 'named_locations'),
        policies: await listDocuments<ConditionalAccessPolicy>(tx, 'ca_policies'),
      };
      const chosen = choose(current);
      const problems: Problem[] = [];
      const checkIds = (kind: string, have: readonly { id: string }[], adding: readonly { id: unknown }[]) => {
        const taken = new Set(have.map((item) => item.id));
        for (const item of adding) {
          if (typeof item.id !== 'string' || item.id === '')
            problems.push({ field: 'id', message: `a ${kind} to add has no id` });
          else if (taken.has(item.id))
            problems.push({ field: 'id', message: `a ${kind} with id '${item.id}' already exists` });
          taken.add(item.id as string);
        }
      };
      checkIds('named location', current.locations, chosen.locations);
      checkIds('policy', current.policies, chosen.policies);
      if (current.locations.length + chosen.locations.length > this.#limits.maxNamedLocations) {
        problems.push({
          message: `${current.locations.length + chosen.locations.length} named locations is more than the limit of ${this.#limits.maxNamedLocations}`,
        });
      }
      if (current.policies.length + chosen.policies.length > this.#limits.maxPolicies) {
        problems.push({
          message: `${current.policies.length + chosen.policies.length} policies is more than the limit of ${this.#limits.maxPolicies}`,
        });
      }
      if (problems.length > 0) throw new InvalidPolicyError(problems);

      const now = tx.now();
      const dated = { createdDateTime: graphTime(now), modifiedDateTime: graphTime(now) };
      const locations: NamedLocation[] = [];
      for (const input of chosen.locations) {
        const { location } = this.#checkLocation(input);
        const value = { ...location, ...dated };
        await insertDocument(tx, 'named_locations', value, now);
        locations.push(value);
      }
      const policies: ConditionalAccessPolicy[] = [];
      for (const input of chosen.policies) {
        // Checked against the locations inserted above, which this transaction sees.
        const { policy } = await this.#checkPolicy(tx, input);
        const value = { ...policy, ...dated };
        await insertDocument(tx, 'ca_policies', value, now);
        policies.push(value);
      }
      return { version, locations, policies, result: chosen.result };
    });
  }

  // --- MFA trusted IPs ---------------------------------------------------------------------------------------------

  /** Entra's legacy "MFA trusted IPs" (location id 00000000-0000-0000-0000-000000000000), as CIDR strings. */
  async getMfaTrustedIps(): Promise<string[]> {
    return readMfaTrustedIps(this.#scope);
  }

  /**
   * Replaces the MFA trusted IPs. Each entry must be an IPv4 or IPv6 CIDR range (a bare address is taken as a single
   * host) no broader than the limits allow for named locations; every bad entry is reported.
   */
  async setMfaTrustedIps(cidrs: readonly string[]): Promise<number> {
    const value = checkMfaTrustedIps(cidrs, this.#limits);
    return this.#scope.transaction(async (tx) => {
      const version = await bumpVersion(tx);
      await new TenantSettings(tx).put(SETTING_KEYS.mfaTrustedIps, value);
      return version;
    });
  }

  // --- for the compiled policy cache ---------------------------------------------------------------------------------

  /**
   * Everything compilePolicySet needs, at one version. Read without a long transaction: the version is read before
   * and after, and since every change bumps it in its own transaction, equal versions mean no change committed in
   * between (PostgreSQL's READ COMMITTED gives each statement its own snapshot, so this is what makes it consistent).
   */
  async snapshot(): Promise<PolicySnapshot> {
    for (let attempt = 1; ; attempt++) {
      const before = await readVersion(this.#scope);
      const [locations, policies, mfaTrustedIps] = await Promise.all([
        this.listLocations(),
        this.listPolicies(),
        readMfaTrustedIps(this.#scope),
      ]);
      const after = await readVersion(this.#scope);
      if (before === after) return { version: after, locations, policies, mfaTrustedIps };
      if (attempt >= SNAPSHOT_ATTEMPTS) {
        throw new Error(
          `tenant ${this.#scope.tenantId}: policies changed during each of ${SNAPSHOT_ATTEMPTS} reads; try again`,
        );
      }
    }
  }

  // --- checks ------------------------------------------------------------------------------------------------------

  #checkLocation(raw: object): { location: NamedLocation; warnings: Problem[] } {
    const normalized = normalizeNamedLocation(raw, { index: 0 });
    const location = normalized.location;
    const problems = location
      ? [...normalized.problems, ...validateLocations([location], this.#limits)]
      : normalized.problems;
    if (!location || problems.length > 0) throw new InvalidPolicyError(problems);
    return { location, warnings: normalized.warnings };
  }

  async #checkPolicy(tx: TenantScope, raw: object): Promise<{ policy: ConditionalAccessPolicy; warnings: Problem[] }> {
    const normalized = normalizePolicy(raw, { index: 0 });
    const policy = normalized.policy;
    if (!policy || normalized.problems.length > 0) throw new InvalidPolicyError(normalized.problems);
    const ids = await tx.selectFrom('named_locations').select('id').execute();
    const problems = validatePolicies([policy], new Set(ids.map((row) => row.id)), this.#limits);
    if (problems.length > 0) throw new InvalidPolicyError(problems);
    return { policy, warnings: normalized.warnings };
  }
}

/** Thrown inside a changing transaction that finds nothing to change, so the version bump rolls back with it. */
class Missing extends Error {}

/** Runs a change in one transaction; undefined when it threw Missing (nothing was changed, the version stays). */
async function change<T>(scope: TenantScope, fn: (tx: TenantScope) => Promise<T>): Promise<T | undefined> {
  try {
    return await scope.transaction(fn);
  } catch (error) {
    if (error instanceof Missing) return undefined;
    throw error;
  }
}

/**
 * Bumps the tenant's policyVersion and returns the new value. Called first in every changing transaction: the upsert
 * takes the row lock on PostgreSQL (SQLite's transactions take the write lock at BEGIN IMMEDIATE), so changes to
 * one tenant's policies run one after another and each sees the last one's result.
 */
async function bumpVersion(tx: TenantScope): Promise<number> {
  const row = await tx
    .insertInto('policy_versions', { version: 1, modified_at: tx.now() })
    .onConflict((oc) =>
      oc.column('tenant_id').doUpdateSet({
        version: sql<number>`${sql.ref('policy_versions.version')} + 1`,
        modified_at: tx.now(),
      }),
    )
    .returning('version')
    .executeTakeFirstOrThrow();
  return Number(row.version);
}

async function readVersion(scope: TenantScope): Promise<number> {
  const row = await scope.selectFrom('policy_versions').select('version').executeTakeFirst();
  return row === undefined ? 0 : Number(row.version);
}

async function readMfaTrustedIps(scope: TenantScope): Promise<string[]> {
  const value = await new TenantSettings(scope).get(SETTING_KEYS.mfaTrustedIps);
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    // Fail closed: the list widens "trusted"; a damaged one must not be read as anything.
    throw new Error(`tenant ${scope.tenantId}: setting 'mfaTrustedIps' is not a list of CIDR strings`);
  }
  return value;
}

function checkMfaTrustedIps(cidrs: unknown, limits: PolicyLimits): string[] {
  if (!Array.isArray(cidrs))
    throw new InvalidPolicyError([{ field: 'mfaTrustedIps', message: 'must be a list of CIDR ranges' }]);
  const problems: Problem[] = [];
  const out: string[] = [];
  cidrs.forEach((entry: unknown, i) => {
    const field = `mfaTrustedIps[${i}]`;
    if (typeof entry !== 'string') {
      problems.push({ field, message: `expected a CIDR string but found ${JSON.stringify(entry)}` });
      return;
    }
    try {
      const range = parseCidr(entry.trim());
      const min = range.family === 4 ? limits.minIpv4PrefixLength : limits.minIpv6PrefixLength;
      if (range.prefixLength < min) {
        problems.push({ field, message: `'${entry}' is broader than /${min}, the broadest range allowed` });
      } else out.push(entry.trim());
    } catch (error) {
      if (!(error instanceof CidrParseError)) throw error;
      problems.push({ field, message: error.message });
    }
  });
  if (out.length > limits.maxRangesPerLocation) {
    problems.push({
      field: 'mfaTrustedIps',
      message: `${out.length} ranges is more than the limit of ${limits.maxRangesPerLocation}`,
    });
  }
  if (problems.length > 0) throw new InvalidPolicyError(problems);
  return out;
}

// --- the Graph JSON documents ---------------------------------------------------------------------------------------

async function listDocuments<T>(scope: TenantScope, table: DocumentTable): Promise<T[]> {
  // Creation order, then id: the order Graph lists them in is unspecified; a stable one keeps compiles repeatable.
  const rows = await scope.selectFrom(table).select(['id', 'body']).orderBy('created_at').orderBy('id').execute();
  return rows.map((row) => parseBody<T>(scope.tenantId, table, row.id, row.body));
}

async function getDocument<T>(scope: TenantScope, table: DocumentTable, id: string): Promise<T | undefined> {
  if (typeof id !== 'string') return undefined;
  const row = await scope.selectFrom(table).select('body').where('id', '=', id).executeTakeFirst();
  return row === undefined ? undefined : parseBody<T>(scope.tenantId, table, id, row.body);
}

async function countDocuments(scope: TenantScope, table: DocumentTable): Promise<number> {
  const row = await scope
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

async function insertDocument(scope: TenantScope, table: DocumentTable, value: { id: string }, now: number) {
  await scope
    .insertInto(table, { id: value.id, body: JSON.stringify(value), created_at: now, modified_at: now })
    .execute();
}

async function updateDocument(scope: TenantScope, table: DocumentTable, value: { id: string }, now: number) {
  await scope
    .updateTable(table, { body: JSON.stringify(value), modified_at: now })
    .where('id', '=', value.id)
    .execute();
}
