// Recognising constraint violations the same way on SQLite (node:sqlite) and PostgreSQL (pg), so repositories can
// turn "already exists" into a clear message instead of a driver error.

function field(error: unknown, name: string): unknown {
  return typeof error === 'object' && error !== null ? (error as Record<string, unknown>)[name] : undefined;
}

// SQLite extended result codes (https://www.sqlite.org/rescode.html): SQLITE_CONSTRAINT_UNIQUE 2067,
// SQLITE_CONSTRAINT_PRIMARYKEY 1555, SQLITE_CONSTRAINT_FOREIGNKEY 787. PostgreSQL SQLSTATE: 23505 unique_violation,
// 23503 foreign_key_violation.

/** A unique index or primary key refused the row. */
export function isUniqueViolation(error: unknown): boolean {
  const errcode = field(error, 'errcode');
  return field(error, 'code') === '23505' || errcode === 2067 || errcode === 1555;
}

/** A foreign key refused the row (it points at nothing in this tenant). */
export function isForeignKeyViolation(error: unknown): boolean {
  return field(error, 'code') === '23503' || field(error, 'errcode') === 787;
}
