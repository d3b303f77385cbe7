// The hash chain of the directory audit log, pure: the canonical text of a record, its hash, and the walk that checks
// a tenant's chain record by record (`portcullis audit verify`). Each record's hash covers the tenant, its sequence
// number, the previous record's hash and its body, so changing, removing, inserting or reordering a record breaks the
// chain at that record; the per-tenant head (last sequence and hash) catches records removed from or added at the end.
import { createHash } from 'node:crypto';

/** The previous hash of a tenant's first record. */
export const GENESIS_HASH = '0'.repeat(64);

/** Versioned, so that a later change of what the hash covers can be told apart from tampering. */
const HASH_DOMAIN = 'portcullis directory audit v1';

/**
 * JSON with object keys sorted at every depth and no whitespace: one text for one value, whatever order a caller
 * built the object in. `undefined` members are left out, as JSON.stringify does.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const member = (value as Record<string, unknown>)[key];
      if (member !== undefined) out[key] = sortKeys(member);
    }
    return out;
  }
  return value;
}

/** Lower-case hex SHA-256 over the domain, tenant, sequence, previous hash and body text, one per line. */
export function recordHash(tenantId: string, sequence: number, previousHash: string, body: string): string {
  return createHash('sha256')
    .update(`${HASH_DOMAIN}\n${tenantId}\n${sequence}\n${previousHash}\n`)
    .update(body)
    .digest('hex');
}

/** A stored record as the walk sees it: the row's chain columns and the columns derived from the body. */
export interface ChainRecord {
  readonly sequence: number;
  readonly id: string;
  readonly previousHash: string;
  readonly hash: string;
  readonly body: string;
  /** The filterable columns, which must agree with the body (a changed column would hide a record from filters). */
  readonly columns: {
    readonly activityAt: number;
    readonly category: string;
    readonly activityDisplayName: string;
    readonly operationType: string;
    readonly correlationId: string | null;
    readonly initiatedBy: string | null;
  };
}

export interface ChainHead {
  readonly sequence: number;
  readonly hash: string;
}

export type ChainProblemKind = 'changed' | 'removed' | 'inserted' | 'broken';

export interface ChainProblem {
  readonly kind: ChainProblemKind;
  /** The sequence number of the record the problem was found at (or of the first missing one). */
  readonly sequence: number;
  /** The record's id, when there is a record. */
  readonly id?: string;
  readonly message: string;
}

export type ChainResult =
  | { readonly ok: true; readonly count: number; readonly head: ChainHead | undefined }
  | { readonly ok: false; readonly count: number; readonly problem: ChainProblem };

/** The columns a record's body says it should have. */
export function columnsOf(body: Record<string, unknown>): ChainRecord['columns'] {
  const initiatedBy = body.initiatedBy as
    | { user?: { id?: string | null } | null; app?: { appId?: string | null } | null }
    | undefined;
  return {
    activityAt: Date.parse(String(body.activityDateTime)),
    category: String(body.category),
    activityDisplayName: String(body.activityDisplayName),
    operationType: String(body.operationType),
    correlationId: typeof body.correlationId === 'string' ? body.correlationId : null,
    initiatedBy: initiatedBy?.user?.id ?? initiatedBy?.app?.appId ?? null,
  };
}

/**
 * Checks one tenant's records, given in sequence order, one at a time, against the tenant's chain head (read in the
 * same snapshot); stops at the first problem.
 */
export class ChainWalk {
  readonly #tenantId: string;
  readonly #head: ChainHead | undefined;
  #expected = 1;
  #previous = GENESIS_HASH;
  #previousId: string | undefined;
  #problem: ChainProblem | undefined;

  constructor(tenantId: string, head: ChainHead | undefined) {
    this.#tenantId = tenantId;
    this.#head = head;
  }

  /** The first problem found so far. */
  get problem(): ChainProblem | undefined {
    return this.#problem;
  }

  /** Checks the next record; returns false once a problem has been found (the walk can stop). */
  push(record: ChainRecord): boolean {
    if (this.#problem) return false;
    this.#problem = this.#check(record);
    if (this.#problem) return false;
    this.#expected = record.sequence + 1;
    this.#previous = record.hash;
    this.#previousId = record.id;
    return true;
  }

  /** The result once every record has been pushed. */
  finish(): ChainResult {
    const count = this.#expected - 1;
    if (!this.#problem) this.#problem = this.#checkEnd(count);
    if (this.#problem) return { ok: false, count, problem: this.#problem };
    return { ok: true, count, head: this.#head };
  }

  #check(record: ChainRecord): ChainProblem | undefined {
    const at = `record #${record.sequence} (id ${record.id})`;
    if (record.sequence !== this.#expected) {
      const one = record.sequence === this.#expected + 1;
      const missing = one ? `record #${this.#expected} was` : `records #${this.#expected}–#${record.sequence - 1} were`;
      return { kind: 'removed', sequence: this.#expected, message: `${missing} removed (the chain goes on at ${at})` };
    }
    if (this.#head === undefined) {
      return {
        kind: 'broken',
        sequence: record.sequence,
        id: record.id,
        message: `the chain head is missing, but there is ${at}`,
      };
    }
    if (record.sequence > this.#head.sequence) {
      return {
        kind: 'inserted',
        sequence: record.sequence,
        id: record.id,
        message: `${at} was added after the last record the chain head knows (#${this.#head.sequence})`,
      };
    }
    if (recordHash(this.#tenantId, record.sequence, record.previousHash, record.body) !== record.hash) {
      return {
        kind: 'changed',
        sequence: record.sequence,
        id: record.id,
        message: `${at} was changed (or renumbered): its contents no longer match its hash`,
      };
    }
    if (record.previousHash !== this.#previous) {
      const before = this.#previousId === undefined ? 'the start of the chain' : `record #${record.sequence - 1}`;
      return {
        kind: 'inserted',
        sequence: record.sequence,
        id: record.id,
        message:
          `${at} does not follow ${before}: its previous hash is not that record's hash, so records were ` +
          'inserted, removed or reordered here, or the record before it was changed and re-hashed',
      };
    }
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(record.body) as Record<string, unknown>;
    } catch {
      return { kind: 'changed', sequence: record.sequence, id: record.id, message: `${at} is not valid JSON` };
    }
    if (body.id !== record.id) {
      return {
        kind: 'changed',
        sequence: record.sequence,
        id: record.id,
        message: `${at} was changed: its id column does not match its record's id ${JSON.stringify(body.id)}`,
      };
    }
    const expected = columnsOf(body);
    for (const [name, value] of Object.entries(expected) as [keyof ChainRecord['columns'], unknown][]) {
      if (record.columns[name] !== value) {
        return {
          kind: 'changed',
          sequence: record.sequence,
          id: record.id,
          message: `${at} was changed: its ${name} column does not match its record`,
        };
      }
    }
    return undefined;
  }

  #checkEnd(count: number): ChainProblem | undefined {
    const head = this.#head;
    if (head === undefined || (head.sequence === count && head.hash === this.#previous)) return undefined;
    if (head.sequence > count) {
      const first = count + 1;
      const missing =
        head.sequence === first
          ? `record #${first}, the last one, was`
          : `records #${first}–#${head.sequence}, the last ones, were`;
      return {
        kind: 'removed',
        sequence: first,
        message: `${missing} removed (the chain head says ${head.sequence} records)`,
      };
    }
    return {
      kind: 'changed',
      sequence: count,
      id: this.#previousId,
      message: `record #${count} (id ${this.#previousId}), the last one, does not match the chain head's hash`,
    };
  }
}
