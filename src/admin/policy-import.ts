// Imports exported named locations and policies into one tenant, for `portcullis import` and the admin API's import
// route: plans it against what the tenant holds (policy/import/plan.ts), adds everything in ONE transaction with an
// audit record per object, and reports what was imported (old id → new id), what was skipped and why. A dry run
// does all of it, then rolls the transaction back. docs/import.md.
import type { AuditActor, AuditEvent, DirectoryAuditWriter } from '../audit/directory-audit-port.ts';
import type { PolicyLimits } from '../policy/import/limits.ts';
import {
  hasProblems,
  type ImportKind,
  type ImportPlan,
  type LoadedExports,
  type NewIdReason,
  type PlannedObject,
  planImport,
  type SkippedObject,
} from '../policy/import/plan.ts';
import type { Problem } from '../policy/import/problems.ts';
import type { ConditionalAccessPolicy, NamedLocation } from '../policy/types.ts';
import { InvalidPolicyError, PolicyRepository } from '../store/repositories/policy-repository.ts';
import type { TenantScope } from '../store/tenant-scope.ts';

export interface ImportOptions {
  readonly limits?: PolicyLimits;
  /** Plan and check everything, write nothing. */
  readonly dryRun?: boolean;
  /** Where each added object is recorded, in the import's transaction. */
  readonly audit: DirectoryAuditWriter;
  /** Who imports: the API's caller, or `{kind: 'system', displayName: 'Portcullis CLI'}`. */
  readonly actor: AuditActor;
  /** The API request's id, so the audit records and the request's log lines meet. */
  readonly correlationId?: string;
  /** The API caller's address. */
  readonly ipAddress?: string | null;
  /** New ids; random UUIDs unless a test gives its own. */
  readonly newId?: () => string;
}

/**
 * - 'imported': everything was added, or was already present (nothing to do is success too)
 * - 'importedWithProblems': some objects were skipped for problems (`skipped[].problems`); the rest was added
 * - 'refused': nothing was added, because the import as a whole breaks a limit (`refused`)
 * A dry run says what would happen, with the same outcomes.
 */
export type ImportOutcome = 'imported' | 'importedWithProblems' | 'refused';

export interface ImportedObject {
  readonly kind: ImportKind;
  readonly displayName: string;
  /** The id in the export ('' when it had none). */
  readonly id: string;
  /** The id in the tenant. */
  readonly newId: string;
  readonly newIdReason?: NewIdReason;
  readonly file?: string;
  /** A policy's location references that now name the location's new id. */
  readonly rewritten?: readonly { field: string; from: string; to: string }[];
}

/** The report, as the CLI's --json prints it and the API returns it. */
export interface ImportReport {
  readonly tenant: string;
  readonly dryRun: boolean;
  readonly outcome: ImportOutcome;
  readonly imported: { readonly namedLocations: ImportedObject[]; readonly policies: ImportedObject[] };
  readonly skipped: readonly SkippedObject[];
  readonly refused: readonly Problem[];
  readonly warnings: readonly Problem[];
  /** The tenant's policyVersion after the import (unchanged when nothing was added, or in a dry run). */
  readonly policyVersion?: number;
}

/** Thrown at the end of a dry run (or of an import that adds nothing) to roll its transaction back. */
class RollBack extends Error {
  readonly report: ImportReport;
  constructor(report: ImportReport) {
    super('rolled back');
    this.report = report;
  }
}

export async function importIntoTenant(
  scope: TenantScope,
  loaded: LoadedExports,
  options: ImportOptions,
): Promise<ImportReport> {
  const dryRun = options.dryRun === true;
  let plan: ImportPlan | undefined;
  try {
    return await scope.transaction(async (tx) => {
      const added = await new PolicyRepository(tx, { limits: options.limits }).addAll((current) => {
        plan = planImport(loaded, current, { limits: options.limits, newId: options.newId });
        // Over a limit: nothing is added (addAll would refuse too; the plan says it in the admin's terms).
        if (plan.refused.length > 0) throw new InvalidPolicyError(plan.refused);
        return {
          locations: plan.locations.map((p) => p.value),
          policies: plan.policies.map((p) => p.value),
          result: plan,
        };
      });
      const done = added.result;
      // A dry run records nothing: it changes nothing (and a record would be rolled back anyway).
      if (!dryRun) {
        for (const [planned, value] of zip(done.locations, added.locations)) {
          await options.audit.record(tx, options.actor, auditEvent('location', planned, value, options));
        }
        for (const [planned, value] of zip(done.policies, added.policies)) {
          await options.audit.record(tx, options.actor, auditEvent('policy', planned, value, options));
        }
      }
      const nothing = done.locations.length === 0 && done.policies.length === 0;
      // Nothing added: roll the policyVersion bump back too, so caches do not recompile for nothing.
      if (dryRun || nothing) throw new RollBack(report(scope.tenantId, done, dryRun));
      return report(scope.tenantId, done, dryRun, added.version);
    });
  } catch (error) {
    if (error instanceof RollBack) return error.report;
    if (error instanceof InvalidPolicyError && plan !== undefined) {
      // The plan's own refusal, or (should the plan have missed something) the repository's: nothing was written.
      const refused = plan.refused.length > 0 ? plan.refused : error.problems;
      return report(scope.tenantId, { ...plan, refused }, dryRun);
    }
    throw error;
  }
}

function report(tenant: string, plan: ImportPlan, dryRun: boolean, policyVersion?: number): ImportReport {
  const refused = plan.refused.length > 0;
  const outcome: ImportOutcome = refused ? 'refused' : hasProblems(plan) ? 'importedWithProblems' : 'imported';
  return {
    tenant,
    dryRun,
    outcome,
    // Refused: nothing was (or would be) imported.
    imported: {
      namedLocations: refused ? [] : plan.locations.map(imported),
      policies: refused ? [] : plan.policies.map(imported),
    },
    skipped: plan.skipped,
    refused: plan.refused,
    warnings: plan.warnings,
    ...(policyVersion !== undefined ? { policyVersion } : {}),
  };
}

function imported(planned: PlannedObject<unknown>): ImportedObject {
  return {
    kind: planned.kind,
    displayName: planned.displayName,
    id: planned.id,
    newId: planned.newId,
    ...(planned.newIdReason ? { newIdReason: planned.newIdReason } : {}),
    ...(planned.file !== undefined ? { file: planned.file } : {}),
    ...(planned.rewritten.length > 0 ? { rewritten: planned.rewritten } : {}),
  };
}

/**
 * Entra's audit activities for these objects ("Add named location", "Add conditional access policy"), with the
 * stored object as the new value, and the export's id when the object was given a new one.
 */
function auditEvent(
  kind: 'location' | 'policy',
  planned: PlannedObject<unknown>,
  value: NamedLocation | ConditionalAccessPolicy,
  options: ImportOptions,
): AuditEvent {
  const property = kind === 'location' ? 'NamedLocation' : 'ConditionalAccessPolicy';
  return {
    category: 'Policy',
    activityDisplayName: kind === 'location' ? 'Add named location' : 'Add conditional access policy',
    operationType: 'Add',
    targets: [
      {
        id: value.id,
        displayName: value.displayName,
        type: kind === 'location' ? 'NamedLocation' : 'Policy',
        modifiedProperties: [
          { displayName: property, oldValue: null, newValue: value },
          ...(planned.id !== '' && planned.id !== planned.newId
            ? [{ displayName: 'ImportedFromId', oldValue: null, newValue: planned.id }]
            : []),
        ],
      },
    ],
    // The service Entra names for these records, as the single-object routes write them (conditional-access.ts).
    loggedByService: 'Conditional Access',
    additionalDetails: [
      { key: 'Operation', value: 'import' },
      ...(planned.file !== undefined ? [{ key: 'ImportedFrom', value: planned.file }] : []),
    ],
    ...(options.correlationId !== undefined ? { correlationId: options.correlationId } : {}),
    ...(options.ipAddress !== undefined ? { ipAddress: options.ipAddress } : {}),
  };
}

function zip<A, B>(as: readonly A[], bs: readonly B[]): [A, B][] {
  if (as.length !== bs.length) throw new Error(`import: ${as.length} planned but ${bs.length} stored`);
  return as.map((a, i) => [a, bs[i]]);
}
