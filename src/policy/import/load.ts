// Reads exported named locations and Conditional Access policies from files and directories (the CLI's `import` and
// `validate`, and later the server's import): decodes, parses, normalizes, and says per file what it took and why not.
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

export interface LoadResult {
  locations: NamedLocation[];
  policies: ConditionalAccessPolicy[];
  problems: Problem[];
  warnings: Problem[];
  files: LoadedFile[];
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
  const problems: Problem[] = [];
  const warnings: Problem[] = [];
  const files: LoadedFile[] = [];
  const locations: NamedLocation[] = [];
  const policies: ConditionalAccessPolicy[] = [];
  const sources = new WeakMap<object, string>();

  const found: string[] = [];
  const seen = new Set<string>();
  for (const path of paths) collect(path, true, found, seen, problems);

  for (const file of found) {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(file);
    } catch (error) {
      problems.push({ file, message: `cannot read the file: ${reason(error)}` });
      files.push({ file, imported: 0, skipped: 0, reason: 'unreadable' });
      continue;
    }
    const parsed = parseJsonDocument(bytes, file);
    if (!parsed.ok) {
      problems.push(parsed.problem);
      files.push({ file, imported: 0, skipped: 0, reason: 'not valid JSON' });
      continue;
    }
    if (parsed.warning !== undefined) warnings.push(parsed.warning);
    const pages = Array.isArray(parsed.value) ? parsed.value : [parsed.value];
    if (pages.some((page) => isGraphPage(page) && typeof page['@odata.nextLink'] === 'string')) {
      warnings.push({
        file,
        message: 'the file is one page of a longer list (@odata.nextLink is set): objects on later pages are missing',
      });
    }

    const items = documentItems(parsed.value);
    let imported = 0;
    items.forEach((item, index) => {
      const ctx = { file, index };
      const itemKind = classify(item);
      if (kind !== 'auto' && itemKind !== undefined && itemKind !== kind) {
        const is = itemKind === 'policies' ? 'a Conditional Access policy' : 'a named location';
        const expected = kind === 'policies' ? 'a Conditional Access policy' : 'a named location';
        problems.push({ file, object: `object #${index + 1}`, message: `this is ${is}, but ${expected} was expected` });
        return;
      }
      const chosen = kind === 'auto' ? itemKind : kind;
      if (chosen === undefined) {
        problems.push({
          file,
          object: `object #${index + 1}`,
          message:
            'neither a named location nor a Conditional Access policy: it has no @odata.type, conditions, ' +
            'ipRanges or countriesAndRegions',
        });
        return;
      }
      let loaded: NamedLocation | ConditionalAccessPolicy | undefined;
      if (chosen === 'locations') {
        const result = normalizeNamedLocation(item, ctx);
        problems.push(...result.problems);
        warnings.push(...result.warnings);
        loaded = result.location;
        if (loaded !== undefined) locations.push(loaded);
      } else {
        const result = normalizePolicy(item, ctx);
        problems.push(...result.problems);
        warnings.push(...result.warnings);
        loaded = result.policy;
        if (loaded !== undefined) policies.push(loaded);
      }
      if (loaded === undefined) return;
      sources.set(loaded, file);
      imported++;
    });
    const skipped = items.length - imported;
    const entry: LoadedFile = { file, imported, skipped };
    if (items.length === 0) entry.reason = 'the file holds no objects';
    else if (skipped > 0) entry.reason = `${skipped} of ${items.length} objects had problems`;
    files.push(entry);
  }

  return { locations, policies, problems, warnings, files, sourceFile: (item) => sources.get(item) };
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

function reason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'it is a directory';
  return error instanceof Error ? error.message : String(error);
}
