// Reads exported named locations and Conditional Access policies from files and directories (the CLI's `import` and
// `validate`, and the admin API's import): decodes, parses, normalizes, and says per file what it took and why not.
// It does not validate the set as a whole; pass the result to validatePolicySet, with `fileOf: result.sourceFile`.

import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ConditionalAccessPolicy, NamedLocation } from '../types.ts';
import { documentItems, isGraphPage, parseJsonDocument } from './decode.ts';
import { normalizeNamedLocation, normalizePolicy, prop } from './normalize.ts';
import type { Problem } from './problems.ts';

export type ExportKind = 'locations' | 'policies' | 'auto';

export interface LoadedFile {
  file: string;
  imported: number;
  skipped: number;
  /** Why something in the file was not imported, or why the file holds nothing. */
  reason?: string;
}

/** An object the loader did not take: what it seemed to be, its id and name as exported, and why. */
export interface RejectedObject {
  file: string;
  /** Undefined when it was neither a named location nor a policy. */
  kind?: 'locations' | 'policies';
  id?: string;
  displayName?: string;
  problems: Problem[];
}

export interface LoadResult {
  locations: NamedLocation[];
  policies: ConditionalAccessPolicy[];
  problems: Problem[];
  warnings: Problem[];
  files: LoadedFile[];
  /** Each object that was not taken, with its problems (which are in `problems` too); file-level problems are not. */
  rejected: RejectedObject[];
  /** The file a returned location or policy came from (for validatePolicySet's `fileOf`). */
  sourceFile: (item: NamedLocation | ConditionalAccessPolicy) => string | undefined;
}

/**
 * Loads every path: a file is read whatever its name; a directory is searched recursively for `*.json` files, in
 * name order so that results are the same on every machine (entries whose names start with '.' are skipped).
 * `kind` says what the files hold; 'auto' decides per object, by `@odata.type` or else by shape.
 * Unreadable paths, malformed files and objects with problems are reported and skipped; the rest is returned.
 */
export function loadExports(paths: string[], kind: ExportKind): LoadResult {
  const acc = new Accumulator();
  const found: string[] = [];
  const seen = new Set<string>();
  for (const path of paths) collect(path, true, found, seen, acc.problems);

  for (const file of found) {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(file);
    } catch (error) {
      acc.problems.push({ file, message: `cannot read the file: ${reason(error)}` });
      acc.files.push({ file, imported: 0, skipped: 0, reason: 'unreadable' });
      continue;
    }
    const parsed = parseJsonDocument(bytes, file);
    if (!parsed.ok) {
      acc.problems.push(parsed.problem);
      acc.files.push({ file, imported: 0, skipped: 0, reason: 'not valid JSON' });
      continue;
    }
    if (parsed.warning !== undefined) acc.warnings.push(parsed.warning);
    loadDocument(file, parsed.value, kind, acc);
  }
  return acc.result();
}

/**
 * Loads documents already parsed (a request body, for the admin API's import) as loadExports loads files: each
 * `value` may be what a file may hold, and `source` names it where a file name would stand (`body.policies`).
 */
export function loadDocuments(documents: readonly { source: string; value: unknown }[], kind: ExportKind): LoadResult {
  const acc = new Accumulator();
  for (const document of documents) loadDocument(document.source, document.value, kind, acc);
  return acc.result();
}

class Accumulator {
  readonly problems: Problem[] = [];
  readonly warnings: Problem[] = [];
  readonly files: LoadedFile[] = [];
  readonly rejected: RejectedObject[] = [];
  readonly locations: NamedLocation[] = [];
  readonly policies: ConditionalAccessPolicy[] = [];
  readonly sources = new WeakMap<object, string>();

  result(): LoadResult {
    const { locations, policies, problems, warnings, files, rejected, sources } = this;
    return { locations, policies, problems, warnings, files, rejected, sourceFile: (item) => sources.get(item) };
  }
}

/** One parsed document: its objects normalized and added to `acc`, with what was skipped and why. */
function loadDocument(file: string, value: unknown, kind: ExportKind, acc: Accumulator): void {
  const { problems, warnings, locations, policies, sources } = acc;
  const pages = Array.isArray(value) ? value : [value];
  if (pages.some((page) => isGraphPage(page) && typeof page['@odata.nextLink'] === 'string')) {
    warnings.push({
      file,
      message: 'the file is one page of a longer list (@odata.nextLink is set): objects on later pages are missing',
    });
  }

  const items = documentItems(value);
  let imported = 0;
  items.forEach((item, index) => {
    const ctx = { file, index };
    const itemKind = classify(item);
    const reject = (found: Problem[], as?: 'locations' | 'policies') => {
      problems.push(...found);
      acc.rejected.push({ file, kind: as, ...identity(item), problems: found });
    };
    if (kind !== 'auto' && itemKind !== undefined && itemKind !== kind) {
      const is = itemKind === 'policies' ? 'a Conditional Access policy' : 'a named location';
      const expected = kind === 'policies' ? 'a Conditional Access policy' : 'a named location';
      reject([{ file, object: `object #${index + 1}`, message: `this is ${is}, but ${expected} was expected` }]);
      return;
    }
    const chosen = kind === 'auto' ? itemKind : kind;
    if (chosen === undefined) {
      reject([
        {
          file,
          object: `object #${index + 1}`,
          message:
            'neither a named location nor a Conditional Access policy: it has no @odata.type, conditions, ' +
            'ipRanges or countriesAndRegions',
        },
      ]);
      return;
    }
    let loaded: NamedLocation | ConditionalAccessPolicy | undefined;
    if (chosen === 'locations') {
      const result = normalizeNamedLocation(item, ctx);
      warnings.push(...result.warnings);
      loaded = result.location;
      if (loaded !== undefined) locations.push(loaded);
      else reject(result.problems, chosen);
    } else {
      const result = normalizePolicy(item, ctx);
      warnings.push(...result.warnings);
      loaded = result.policy;
      if (loaded !== undefined) policies.push(loaded);
      else reject(result.problems, chosen);
    }
    if (loaded === undefined) return;
    sources.set(loaded, file);
    imported++;
  });
  const skipped = items.length - imported;
  const entry: LoadedFile = { file, imported, skipped };
  if (items.length === 0) entry.reason = 'the file holds no objects';
  else if (skipped > 0) entry.reason = `${skipped} of ${items.length} objects had problems`;
  acc.files.push(entry);
}

function collect(path: string, explicit: boolean, out: string[], seen: Set<string>, problems: Problem[]): void {
  let real: string;
  let isDirectory: boolean;
  try {
    const stat = statSync(path);
    isDirectory = stat.isDirectory();
    real = realpathSync(path);
    if (!isDirectory && !stat.isFile()) {
      if (explicit) problems.push({ file: path, message: 'not a file or a directory' });
      return;
    }
  } catch (error) {
    problems.push({ file: path, message: `cannot read: ${reason(error)}` });
    return;
  }
  if (seen.has(real)) return; // the same file or directory named twice, or a symbolic link loop
  seen.add(real);
  if (!isDirectory) {
    out.push(path);
    return;
  }
  let names: string[];
  try {
    names = readdirSync(path);
  } catch (error) {
    problems.push({ file: path, message: `cannot read the directory: ${reason(error)}` });
    return;
  }
  // Code-point order, not locale order: the same on every machine.
  for (const name of names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (name.startsWith('.')) continue;
    const child = join(path, name);
    let childIsDirectory = false;
    try {
      childIsDirectory = statSync(child).isDirectory();
    } catch {
      // reported by collect below
    }
    if (childIsDirectory || name.toLowerCase().endsWith('.json')) collect(child, false, out, seen, problems);
  }
}

/** What an object is, by its @odata.type or, without one, by the properties only one of the two kinds has. */
function classify(item: unknown): 'locations' | 'policies' | undefined {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return undefined;
  const record = item as Record<string, unknown>;
  const type = prop(record, '@odata.type');
  if (typeof type === 'string') {
    const name = type.toLowerCase();
    if (name.includes('namedlocation')) return 'locations';
    if (name.includes('conditionalaccesspolicy')) return 'policies';
  }
  if (['conditions', 'grantControls', 'sessionControls', 'state'].some((key) => prop(record, key) !== undefined)) {
    return 'policies';
  }
  const locationKeys = ['ipRanges', 'countriesAndRegions', 'isTrusted', 'includeUnknownCountriesAndRegions'];
  if (locationKeys.some((key) => prop(record, key) !== undefined)) return 'locations';
  return undefined;
}

/** The id and display name of an object that was not taken, when it has them as strings. */
function identity(item: unknown): { id?: string; displayName?: string } {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return {};
  const out: { id?: string; displayName?: string } = {};
  const id = prop(item as Record<string, unknown>, 'id');
  const displayName = prop(item as Record<string, unknown>, 'displayName');
  if (typeof id === 'string' && id.trim() !== '') out.id = id.trim();
  if (typeof displayName === 'string' && displayName.trim() !== '') out.displayName = displayName;
  return out;
}

function reason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'it is a directory';
  return error instanceof Error ? error.message : String(error);
}
