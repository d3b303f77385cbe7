// Input checks shared by the directory services: each failure is a PortcullisError 90001 whose detail names the
// field and the bad value, e.g. `userPrincipalName: 'alice' must look like alias@domain`.
import { PortcullisError } from '../errors.ts';

export function invalid(detail: string): PortcullisError {
  return new PortcullisError(90001, detail);
}

/** Quotes a value for an error message, shortened so a huge input cannot flood a log. */
export function show(value: unknown): string {
  const text = typeof value === 'string' ? `'${value}'` : (JSON.stringify(value) ?? String(value));
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** A required string, trimmed, 1..max characters. */
// C0 and C1 controls, and the bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069).
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const UNSAFE_TEXT = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

/** `multiline`: tabs and line breaks are allowed (descriptions), other control characters still not. */
export function requiredText(field: string, value: unknown, max: number, multiline = false): string {
  if (typeof value !== 'string') throw invalid(`${field}: must be a string but it is ${show(value)}`);
  const trimmed = value.trim();
  if (trimmed.length === 0) throw invalid(`${field}: must not be empty`);
  if (
    (multiline ? UNSAFE_TEXT.test(trimmed.replace(/[\t\r\n]/g, ' ')) : UNSAFE_TEXT.test(trimmed)) ||
    !trimmed.isWellFormed()
  ) {
    throw invalid(
      `${field}: must not contain control characters, bidirectional overrides or unpaired surrogates (they hide ` +
        'what a name really says in lists and logs)',
    );
  }
  if (trimmed.length > max) throw invalid(`${field}: must be at most ${max} characters but it has ${trimmed.length}`);
  return trimmed;
}

/** An optional string: undefined stays undefined, null or '' becomes null. */
export function optionalText(field: string, value: unknown, max: number, multiline = false): string | null | undefined {
  if (value === undefined) return undefined;
  if (value === null || value === '') return null;
  return requiredText(field, value, max, multiline);
}

export function optionalBoolean(field: string, value: unknown): boolean | undefined {
  if (value === undefined || typeof value === 'boolean') return value;
  throw invalid(`${field}: must be true or false but it is ${show(value)}`);
}

/** Graph writes times as ISO 8601 UTC without fractions: 2026-11-23T09:00:00Z. */
export function graphTime(epochMs: number): string {
  return `${new Date(epochMs).toISOString().slice(0, 19)}Z`;
}

export interface Page<T> {
  readonly items: T[];
  /** Pass as `after` to get the next page; absent on the last page. */
  readonly next?: string;
}

export interface PageRequest {
  /** At most this many items (1–999, default 100; Graph's `$top`). */
  readonly top?: number;
  /** The `next` of the previous page. */
  readonly after?: string;
}

export function pageSize(top: unknown): number {
  if (top === undefined) return 100;
  if (typeof top !== 'number' || !Number.isInteger(top) || top < 1 || top > 999) {
    throw invalid(`$top: must be a whole number from 1 to 999 but it is ${show(top)}`);
  }
  return top;
}

/** Reads one more row than asked to know whether there is a next page; the cursor is the last item's key. */
export function toPage<R, T>(rows: R[], top: number, key: (row: R) => string, map: (row: R) => T): Page<T> {
  const more = rows.length > top;
  const kept = more ? rows.slice(0, top) : rows;
  return more ? { items: kept.map(map), next: key(kept[kept.length - 1]) } : { items: kept.map(map) };
}
