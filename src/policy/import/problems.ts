// What the importer and the validator report: one problem per thing that is wrong, each saying where it is
// (file, the object as a person finds it, the JSON path) and naming the offending value.

import { quote } from '../../net/quote.ts';

export interface Problem {
  /** The file as the user named it (`exports/locations.json`); absent when the object did not come from a file. */
  file?: string;
  /** How a person finds the object: `location 'Headquarters' (id 3f1c…)`, or `policy #3` when it has no name. */
  object?: string;
  /** A JSON path inside the object, in Graph's names: `ipRanges[3].cidrAddress`. */
  field?: string;
  message: string;
}

/** One line: `exports/locations.json: location 'HQ' (id …): ipRanges[3].cidrAddress: '10.0.0.0/33' is not …`. */
export function formatProblem(p: Problem): string {
  const where = [p.file, p.object, p.field].filter((part) => part !== undefined && part !== '');
  return [...where, p.message].join(': ');
}

/**
 * Names an object the way the admin console shows it. `position` is 1-based: the n-th object in its file (or in the
 * list being validated), used only when the object has no usable display name.
 */
export function describeObject(
  kind: 'location' | 'policy',
  displayName: unknown,
  id: unknown,
  position: number,
): string {
  const name = typeof displayName === 'string' && displayName.trim() !== '' ? quote(displayName) : undefined;
  const shownId = typeof id === 'string' && id !== '' ? quote(id) : undefined;
  const head = name !== undefined ? `${kind} ${name}` : `${kind} #${position}`;
  // Quoting the id keeps a hostile export from forging log lines; the quotes are stripped for the usual GUID.
  return shownId !== undefined ? `${head} (id ${shownId.slice(1, -1)})` : head;
}

/** Quotes any JSON value for a message: strings in single quotes (bounded, control characters escaped), others as JSON. */
export function show(value: unknown): string {
  if (typeof value === 'string') return quote(value);
  if (value === undefined) return 'nothing';
  const json = JSON.stringify(value) ?? String(value);
  return json.length > 64 ? `${json.slice(0, 64)}…` : json;
}

/** The JSON type of a value, as people say it: `null`, `a number`, `an array`, `an object`, `a string`, `a boolean`. */
export function jsonTypeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return 'a string';
    case 'number':
      return 'a number';
    case 'boolean':
      return 'a boolean';
    case 'object':
      return 'an object';
    default:
      return 'nothing';
  }
}
