// Plans an import of exported named locations and policies into one tenant (`portcullis import`, the admin API's
// import): locations first, each keeping its id where the tenant has none by it and given a new one where the id is
// taken; the policies' location references rewritten to the ids the locations end up with; then the policies. Pure:
// it takes what was loaded and what the tenant holds, and says what to add and what is skipped, and why.
// Writing the plan (one transaction, audit records) is admin/policy-import.ts's.
//
// The rules, for each object in the order loaded (docs/import.md):
//  - invalid (the problem names the field)                                   → skipped, reason 'invalid'
//  - a policy naming a location that is neither imported nor in the tenant   → skipped, reason 'unknownLocation'
//  - its id is free in the tenant                                            → added with that id
//  - its id is taken by an object with the same content (dates aside)        → skipped, reason 'alreadyPresent'
//  - its id is taken by a different object, or it has no id, or its id is not a GUID, or (a location) it is the
//    MFA trusted IPs' reserved id: an object with the same content already in the tenant makes it 'alreadyPresent'
//    (re-running an import adds nothing); otherwise it is added with a new id and references to it are rewritten
//  - the same id earlier in this import: the same content → 'duplicate'; other content → 'invalid' (the first one
//    keeps the id, and references to it mean the first one)
// Finally the tenant's counts after the import are checked against the limits: over a limit, nothing is added.

import { type ConditionalAccessPolicy, MFA_TRUSTED_IPS_LOCATION_ID, type NamedLocation } from '../types.ts';
import { DEFAULT_LIMITS, type PolicyLimits } from './limits.ts';
import type { LoadResult } from './load.ts';
import { describeObject, type Problem, show } from './problems.ts';
import { validateLocations, validatePolicies } from './validate.ts';

export type ImportKind = 'namedLocation' | 'policy';

/**
 * Why an object was not added: 'alreadyPresent' and 'duplicate' are what an admin expects of a second run (nothing
 * is wrong); 'invalid' and 'unknownLocation' mean the export has a problem, which `problems` names.
 */
export type SkipReason = 'alreadyPresent' | 'duplicate' | 'invalid' | 'unknownLocation';

/** Why an object is added under a new id. */
export type NewIdReason = 'taken' | 'missing' | 'notAGuid' | 'reserved';

export interface PlannedObject<T> {
  readonly kind: ImportKind;
  readonly displayName: string;
  /** The id in the export; '' when it had none. */
  readonly id: string;
  /** The id it is added under: `id` when that was free. */
  readonly newId: string;
  readonly newIdReason?: NewIdReason;
  readonly file?: string;
  /** What is stored: `newId`, location references rewritten, no dates (the store sets them, as Graph's POST does). */
  readonly value: T;
  /** The location references of a policy that now name another id. */
  readonly rewritten: readonly { field: string; from: string; to: string }[];
}

export interface SkippedObject {
  /** 'file' for a file that could not be read or parsed; 'object' for one that is neither kind. */
  readonly kind: ImportKind | 'file' | 'object';
  readonly displayName?: string;
  readonly id?: string;
  readonly file?: string;
  readonly reason: SkipReason;
  /** For 'alreadyPresent' and 'duplicate': the id of the object in the tenant (or added earlier) it is the same as. */
  readonly presentAs?: string;
  /** For 'invalid' and 'unknownLocation': each problem, naming the field. */
  readonly problems: readonly Problem[];
}

export interface ImportPlan {
  readonly locations: readonly PlannedObject<NamedLocation>[];
  readonly policies: readonly PlannedObject<ConditionalAccessPolicy>[];
  readonly skipped: readonly SkippedObject[];
  /** Problems of the import as a whole (a limit would be exceeded): when there are any, nothing may be added. */
  readonly refused: readonly Problem[];
  /** Parts that are kept but not evaluated (from the loader). */
  readonly warnings: readonly Problem[];
}

export interface TenantContents {
  readonly locations: readonly NamedLocation[];
  readonly policies: readonly ConditionalAccessPolicy[];
}

export interface PlanOptions {
  readonly limits?: PolicyLimits;
  /** New ids; random UUIDs unless a test gives its own. */
  readonly newId?: () => string;
}

export type LoadedExports = Pick<
  LoadResult,
  'locations' | 'policies' | 'problems' | 'warnings' | 'rejected' | 'sourceFile'
>;

/** Graph's ids of named locations and policies are GUIDs; Portcullis keeps only ids of that form. */
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Location values that are not ids of named locations (validate.ts's list). */
const SPECIAL_LOCATIONS: ReadonlySet<string> = new Set(['All', 'AllTrusted', MFA_TRUSTED_IPS_LOCATION_ID]);

export function planImport(loaded: LoadedExports, tenant: TenantContents, options: PlanOptions = {}): ImportPlan {
  const limits = options.limits ?? DEFAULT_LIMITS;
  const newId = options.newId ?? (() => crypto.randomUUID());
  // Counts are checked once, for the whole import, at the end; each object alone is checked against the rest.
  const perObject: PolicyLimits = { ...limits, maxNamedLocations: Infinity, maxPolicies: Infinity };
  const skipped: SkippedObject[] = [...loaderSkips(loaded)];

  // --- named locations -----------------------------------------------------------------------------------------
  const locations = new IdPlanner<NamedLocation>('namedLocation', tenant.locations, newId);
  /** Exported location id → the id in the tenant that references to it now mean. */
  const locationIds = new Map<string, string>();
  /** Exported ids of locations that were not imported because they are invalid. */
  const failedLocations = new Set(
    loaded.rejected.filter((r) => r.kind === 'locations' && r.id !== undefined).map((r) => r.id as string),
  );
  for (const location of loaded.locations) {
    const file = loaded.sourceFile(location);
    const problems = validateLocations([location], perObject, { fileOf: () => file });
    if (problems.length > 0) {
      skipped.push(invalid('namedLocation', location, file, problems));
      if (location.id !== '') failedLocations.add(location.id);
      continue;
    }
    const reserved = location.id === MFA_TRUSTED_IPS_LOCATION_ID;
    const outcome = locations.place(location, file, undated(location), reserved);
    if (outcome.skipped) skipped.push(outcome.skipped);
    // The reserved id keeps meaning "MFA trusted IPs" in policies: Entra never has a named location by it.
    if (outcome.target !== undefined && location.id !== '' && !reserved) locationIds.set(location.id, outcome.target);
  }

  // --- policies ------------------------------------------------------------------------------------------------
  const policies = new IdPlanner<ConditionalAccessPolicy>('policy', tenant.policies, newId);
  const tenantLocationIds = new Set(tenant.locations.map((l) => l.id));
  const knownIds = new Set([...tenantLocationIds, ...locations.added.map((p) => p.newId)]);
  for (const policy of loaded.policies) {
    const file = loaded.sourceFile(policy);
    const object = describeObject('policy', policy.displayName, policy.id, 1);
    const unknown: Problem[] = [];
    const rewritten: { field: string; from: string; to: string }[] = [];
    const conditions = { ...policy.conditions };
    if (policy.conditions.locations) {
      const refs = { ...policy.conditions.locations };
      for (const side of ['includeLocations', 'excludeLocations'] as const) {
        refs[side] = (refs[side] ?? []).map((ref, i) => {
          const field = `conditions.locations.${side}[${i}]`;
          if (SPECIAL_LOCATIONS.has(ref)) return ref;
          const to = locationIds.get(ref);
          if (to !== undefined) {
            if (to !== ref) rewritten.push({ field, from: ref, to });
            return to;
          }
          if (failedLocations.has(ref)) {
            unknown.push(at(file, object, field, `named location ${show(ref)} is in this import but was not imported`));
          } else if (!tenantLocationIds.has(ref)) {
            unknown.push(
              at(file, object, field, `named location ${show(ref)} is neither in this import nor in the tenant`),
            );
          }
          return ref;
        });
      }
      conditions.locations = refs;
    }
    if (unknown.length > 0) {
      skipped.push({ ...identify('policy', policy, file), reason: 'unknownLocation', problems: unknown });
      continue;
    }
    const value: ConditionalAccessPolicy = { ...undated(policy), conditions };
    const problems = validatePolicies([value], knownIds, perObject, { fileOf: () => file });
    if (problems.length > 0) {
      skipped.push(invalid('policy', policy, file, problems));
      continue;
    }
    const outcome = policies.place(policy, file, value, false, rewritten);
    if (outcome.skipped) skipped.push(outcome.skipped);
  }

  // --- the tenant's counts after the import ---------------------------------------------------------------------
  const refused: Problem[] = [];
  const count = (have: number, adding: number, max: number, noun: string) => {
    if (adding > 0 && have + adding > max) {
      refused.push({
        message:
          `importing ${adding} ${noun} would give the tenant ${have + adding} (it has ${have}), ` +
          `more than the limit of ${max}`,
      });
    }
  };
  count(tenant.locations.length, locations.added.length, limits.maxNamedLocations, 'named locations');
  count(tenant.policies.length, policies.added.length, limits.maxPolicies, 'policies');

  return {
    locations: locations.added,
    policies: policies.added,
    skipped,
    refused,
    warnings: loaded.warnings,
  };
}

/** Whether an import's outcome needs the admin's attention: something was skipped for a problem, or it was refused. */
export function hasProblems(plan: Pick<ImportPlan, 'skipped' | 'refused'>): boolean {
  return plan.refused.length > 0 || plan.skipped.some((s) => s.reason === 'invalid' || s.reason === 'unknownLocation');
}

/**
 * Decides each object's id against the tenant's objects of its kind and those added before it. Content is compared
 * only where an id meets another object, and the by-content indexes are built only when an object cannot keep its
 * id: at Entra's largest set (195 locations × 2000 ranges) writing out every object is most of the planning time.
 */
class IdPlanner<T extends NamedLocation | ConditionalAccessPolicy> {
  readonly added: PlannedObject<T>[] = [];
  readonly #kind: ImportKind;
  readonly #current: readonly T[];
  readonly #currentById: ReadonlyMap<string, T>;
  #currentByContent: Map<string, string> | undefined;
  #addedByContent: Map<string, string> | undefined;
  /** Exported id → the first object by it in this import, and the id references to it now mean. */
  readonly #seen = new Map<string, { value: T; target: string; displayName: string }>();
  readonly #used: Set<string>;
  readonly #newId: () => string;
  readonly #contents = new WeakMap<object, string>();

  constructor(kind: ImportKind, current: readonly T[], newId: () => string) {
    this.#kind = kind;
    this.#current = current;
    this.#currentById = new Map(current.map((item) => [item.id, item]));
    this.#used = new Set(current.map((item) => item.id));
    this.#newId = newId;
  }

  /**
   * Where `original` (as exported) goes, `value` being what would be stored. `target` is the id that references to
   * the exported id now mean (undefined when the object is skipped as ambiguous).
   */
  place(
    original: T,
    file: string | undefined,
    value: T,
    reserved: boolean,
    rewritten: PlannedObject<T>['rewritten'] = [],
  ): { target?: string; skipped?: SkippedObject } {
    const id = original.id;
    const who = identify(this.#kind, original, file);

    if (id !== '') {
      const first = this.#seen.get(id);
      if (first !== undefined) {
        if (this.#same(first.value, value)) {
          return { target: first.target, skipped: { ...who, reason: 'duplicate', presentAs: first.target } };
        }
        const noun = this.#kind === 'policy' ? 'policy' : 'location';
        const object = describeObject(noun, original.displayName, id, 1);
        const message = `${show(id)} is also the id of ${noun} ${show(first.displayName)}, earlier in this import, which differs`;
        return { skipped: { ...who, reason: 'invalid', problems: [at(file, object, 'id', message)] } };
      }
    }

    const remember = (target: string) => {
      if (id !== '') this.#seen.set(id, { value, target, displayName: original.displayName });
      return target;
    };

    let reason: NewIdReason | undefined;
    if (id === '') reason = 'missing';
    else if (!GUID.test(id)) reason = 'notAGuid';
    else if (reserved) reason = 'reserved';
    else {
      const current = this.#currentById.get(id);
      if (current === undefined && !this.#used.has(id)) {
        return { target: remember(this.#add(original, file, value, id, undefined, rewritten)) };
      }
      if (current !== undefined && this.#same(current, value)) {
        return { target: remember(id), skipped: { ...who, reason: 'alreadyPresent', presentAs: id } };
      }
      reason = 'taken';
    }

    // It cannot keep its id: the same object already here (under any id) makes it present; else a new id.
    const content = this.#content(value);
    const present = this.#presentByContent().get(content);
    if (present !== undefined) {
      return { target: remember(present), skipped: { ...who, reason: 'alreadyPresent', presentAs: present } };
    }
    const earlier = this.#addedIndex().get(content);
    if (earlier !== undefined) {
      return { target: remember(earlier), skipped: { ...who, reason: 'duplicate', presentAs: earlier } };
    }
    let fresh = this.#newId();
    while (this.#used.has(fresh)) fresh = this.#newId();
    return { target: remember(this.#add(original, file, value, fresh, reason, rewritten)) };
  }

  #add(
    original: T,
    file: string | undefined,
    value: T,
    newId: string,
    newIdReason: NewIdReason | undefined,
    rewritten: PlannedObject<T>['rewritten'],
  ): string {
    this.#used.add(newId);
    this.added.push({
      kind: this.#kind,
      displayName: original.displayName,
      id: original.id,
      newId,
      ...(newIdReason ? { newIdReason } : {}),
      ...(file !== undefined ? { file } : {}),
      value: { ...value, id: newId },
      rewritten,
    });
    this.#addedByContent?.set(this.#content(value), newId);
    return newId;
  }

  /** The tenant's objects by content; among equal ones the first by id, so every run chooses the same. */
  #presentByContent(): Map<string, string> {
    if (this.#currentByContent === undefined) {
      this.#currentByContent = new Map();
      for (const item of [...this.#current].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
        const key = this.#content(item);
        if (!this.#currentByContent.has(key)) this.#currentByContent.set(key, item.id);
      }
    }
    return this.#currentByContent;
  }

  /** What this import adds, by content (kept up to date by #add once built). */
  #addedIndex(): Map<string, string> {
    if (this.#addedByContent === undefined) {
      this.#addedByContent = new Map();
      for (const planned of this.added) {
        const key = this.#content(planned.value);
        if (!this.#addedByContent.has(key)) this.#addedByContent.set(key, planned.newId);
      }
    }
    return this.#addedByContent;
  }

  /** Equal content: the plain JSON text first (normalized objects list their members in one order), else by content. */
  #same(a: T, b: T): boolean {
    return plainContentOf(a) === plainContentOf(b) || this.#content(a) === this.#content(b);
  }

  #content(item: T): string {
    let content = this.#contents.get(item);
    if (content === undefined) {
      content = contentOf(item);
      this.#contents.set(item, content);
    }
    return content;
  }
}

/** What the loader could not take: files it could not read or parse, and objects with problems. */
function loaderSkips(loaded: LoadedExports): SkippedObject[] {
  const out: SkippedObject[] = [];
  for (const problem of loaded.problems) {
    if (problem.object !== undefined) continue; // an object's: in `rejected`
    out.push({
      kind: 'file',
      ...(problem.file !== undefined ? { file: problem.file } : {}),
      reason: 'invalid',
      problems: [problem],
    });
  }
  for (const rejected of loaded.rejected) {
    const kind = rejected.kind === 'locations' ? 'namedLocation' : rejected.kind === 'policies' ? 'policy' : 'object';
    out.push({
      kind,
      ...(rejected.displayName !== undefined ? { displayName: rejected.displayName } : {}),
      ...(rejected.id !== undefined ? { id: rejected.id } : {}),
      file: rejected.file,
      reason: 'invalid',
      problems: rejected.problems,
    });
  }
  return out;
}

function identify(
  kind: ImportKind,
  item: NamedLocation | ConditionalAccessPolicy,
  file: string | undefined,
): Pick<SkippedObject, 'kind' | 'displayName' | 'id' | 'file'> & { problems: readonly Problem[] } {
  return {
    kind,
    displayName: item.displayName,
    ...(item.id !== '' ? { id: item.id } : {}),
    ...(file !== undefined ? { file } : {}),
    problems: [],
  };
}

function invalid(
  kind: ImportKind,
  item: NamedLocation | ConditionalAccessPolicy,
  file: string | undefined,
  problems: Problem[],
): SkippedObject {
  return { ...identify(kind, item, file), reason: 'invalid', problems };
}

function at(file: string | undefined, object: string, field: string, message: string): Problem {
  return { ...(file !== undefined ? { file } : {}), object, field, message };
}

/** The object without its dates: the store gives an added object its own, as Graph's POST does. */
function undated<T extends NamedLocation | ConditionalAccessPolicy>(item: T): T {
  const { createdDateTime: _created, modifiedDateTime: _modified, ...rest } = item;
  return rest as T;
}

/** The object as JSON text without its id and dates, members in the order they have. */
function plainContentOf(item: NamedLocation | ConditionalAccessPolicy): string {
  const { id: _id, createdDateTime: _created, modifiedDateTime: _modified, ...rest } = item;
  return JSON.stringify(rest);
}

/**
 * What makes two objects the same for an import: everything but the id and the dates, with members in a fixed order
 * (so that a stored object whose members were written in another order still compares equal).
 */
function contentOf(item: NamedLocation | ConditionalAccessPolicy): string {
  const { id: _id, createdDateTime: _created, modifiedDateTime: _modified, ...rest } = item;
  return JSON.stringify(rest, (_key, value) =>
    typeof value === 'object' && value !== null && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : value,
  );
}
