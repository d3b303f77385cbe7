// What the importer and the validator report: one problem per thing that is wrong, each saying where it is
// (file, the object as a person finds it, the JSON path) and naming the offending value.

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
  // Entra allows display names of 256 characters; 128 is enough to tell policies apart on one line.
  const name = typeof displayName === 'string' && displayName.trim() !== '' ? show(displayName, 128) : undefined;
  const head = name !== undefined ? `${kind} ${name}` : `${kind} #${position}`;
  return typeof id === 'string' && id !== '' ? `${head} (id ${escapeControls(bound(id, 64))})` : head;
}

/**
 * Quotes any JSON value for a message: a string in single quotes, others as JSON; bounded in length and with control
 * characters escaped, so that a hostile export cannot flood or forge log lines through a problem message.
 */
export function show(value: unknown, max = 64): string {
  if (typeof value === 'string') return `'${escapeControls(bound(value, max))}'`;
  if (value === undefined) return 'nothing';
  return escapeControls(bound(JSON.stringify(value) ?? String(value), max));
}

function bound(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function escapeControls(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
  return text.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
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
