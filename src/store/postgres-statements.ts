// Named (prepared) statements on PostgreSQL: a pg Client that gives each of Kysely's parameterised queries a name
// derived from its SQL text, so that each connection parses and plans it once instead of at every execution.
import { createHash } from 'node:crypto';
import pg from 'pg';

/**
 * How many distinct SQL texts get a name. Each connection keeps every statement it prepared (and its plan) until it
 * closes, so the number is bounded; our queries come from a fixed set of builders, and only `in (…)` lists of
 * different lengths make new texts. Texts beyond the bound run unnamed, as before.
 */
export const NAMED_STATEMENTS = 256;

/**
 * A query whose result columns are `*` (Kysely's `selectAll()`, `returning *`). A prepared statement fixes its result
 * columns: once a migration from another node added a column, PostgreSQL would refuse to run it again ("cached plan
 * must not change result type") on every connection that prepared it. Those stay unnamed.
 */
const STAR_COLUMNS = /(?:[\s,]|\.)\*(?:[\s,]|$)/;

/** Statement names by SQL text, for at most `limit` texts; undefined for a text that stays unnamed. */
export class StatementNames {
  readonly #names = new Map<string, string | undefined>();
  readonly #limit: number;
  #named = 0;

  constructor(limit = NAMED_STATEMENTS) {
    if (!Number.isInteger(limit) || limit < 0) {
      throw new RangeError(`the number of named statements must be a whole number ≥ 0, got ${limit}`);
    }
    this.#limit = limit;
  }

  /**
   * The name for a query with `parameterCount` parameters. Only parameterised statements are named: the rest are
   * transaction control (`begin`, `commit`), migrations' DDL and health checks, which gain nothing from it.
   */
  nameFor(text: string, parameterCount: number): string | undefined {
    if (parameterCount === 0) return undefined;
    if (this.#names.has(text)) return this.#names.get(text);
    // Texts that stay unnamed are remembered too (up to the same bound), so the test runs once per text.
    if (this.#names.size >= 2 * this.#limit) return undefined;
    let name: string | undefined;
    if (this.#named < this.#limit && !STAR_COLUMNS.test(text)) {
      // A digest of the text, so the same text has the same name on every connection, and two texts never share
      // one (pg refuses a name that was prepared with a different text on that connection).
      name = `portcullis_${createHash('sha256').update(text).digest('hex').slice(0, 32)}`;
      this.#named++;
    }
    this.#names.set(text, name);
    return name;
  }
}

type QueryCallback = (error: Error, result: pg.QueryResult) => void;

/**
 * A pg Client class (for `new pg.Pool({ Client })`) whose `query(text, values)` — the call Kysely's PostgresDialect
 * makes — runs the statement by name. pg prepares a name once per connection (it tracks which it has prepared), and
 * PostgreSQL keeps the plan in that session. Every other form of `query` passes through unchanged.
 */
export function preparingClient(names: StatementNames): typeof pg.Client {
  class PreparingClient extends pg.Client {
    // biome-ignore lint/suspicious/noExplicitAny: pg's query() is a set of overloads; this forwards whatever it is given.
    override query(config: any, values?: any, callback?: QueryCallback): any {
      if (typeof config === 'string' && Array.isArray(values) && callback === undefined) {
        const name = names.nameFor(config, values.length);
        if (name !== undefined) return super.query({ name, text: config, values });
      }
      return super.query(config, values, callback as never);
    }
  }
  return PreparingClient;
}
