// The building blocks of the configuration schema: one option (its default, documentation, environment variable and
// how a value is checked) and a section of options. The Portcullis schema itself is in schema.ts.

import { statSync } from 'node:fs';
import { quote } from '../net/quote.ts';

/** A checked value, or what the value must be (phrased to follow "option 'x' "), with an optional detail. */
export type Checked<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly must: string; readonly detail?: string };

export interface OptionSpec<T> {
  readonly kind: 'option';
  readonly doc: string;
  /** The accepted values as the docs show them: `integer, 1–65535`. */
  readonly type: string;
  readonly default: T;
  /** Shown in the docs instead of `default`, for a default computed from other options or resolved at run time. */
  readonly defaultText?: string;
  /** The environment variable that overrides the file. */
  readonly env: string;
  /** The command-line flag that overrides both, without its dashes (the CLI passes it in `overrides`). */
  readonly flag?: string;
  /** Turns the text of an environment variable or flag into the value a YAML file would hold. */
  fromText(text: string): unknown;
  check(value: unknown): Checked<T>;
  /** How a bad value appears in a problem. Secrets are never shown. */
  show(value: unknown): string;
}

export interface SectionSpec<O extends Options> {
  readonly kind: 'section';
  readonly doc: string;
  readonly options: O;
}

// biome-ignore lint/suspicious/noExplicitAny: a schema holds options of every value type.
export type Spec = OptionSpec<any> | SectionSpec<Options>;
export type Options = { readonly [key: string]: Spec };

/** The value a spec produces: the option's type, or a frozen object of the section's values. */
export type ValueOf<S> =
  S extends OptionSpec<infer T>
    ? T
    : S extends SectionSpec<infer O>
      ? { readonly [K in keyof O]: ValueOf<O[K]> }
      : never;

export function section<O extends Options>(doc: string, options: O): SectionSpec<O> {
  return { kind: 'section', doc, options };
}

/** How a value appears in a problem: quoted, bounded and with control characters escaped (see net/quote.ts). */
export function showValue(value: unknown): string {
  if (typeof value === 'string') return quote(value);
  if (value === null || typeof value !== 'object') return quote(String(value));
  return quote(JSON.stringify(value) ?? String(value));
}

/** For secrets: says what was there without showing it. */
export function showHidden(value: unknown): string {
  return typeof value === 'string' ? `a hidden value of ${value.length} characters` : `a hidden ${describeType(value)}`;
}

export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'list';
  if (typeof value === 'object') return 'mapping';
  return typeof value;
}

interface Common<T> {
  doc: string;
  env: string;
  flag?: string;
  default: T;
  defaultText?: string;
}

const identity = (text: string): unknown => text;

export function integer(options: Common<number> & { min: number; max: number; unit?: string }): OptionSpec<number> {
  const { min, max } = options;
  const must = `must be an integer between ${min} and ${max}`;
  return {
    kind: 'option',
    doc: options.doc,
    type: `integer, ${min}–${max}${options.unit ? ` ${options.unit}` : ''}`,
    default: options.default,
    defaultText: options.defaultText,
    env: options.env,
    flag: options.flag,
    // Only plain decimal digits: `0x1F`, `1e3` or `12abc` stay text and are refused, rather than read as something
    // the operator did not write.
    fromText: (text) => (/^[+-]?\d{1,15}$/.test(text.trim()) ? Number(text.trim()) : text),
    check: (value) => {
      if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max)
        return { ok: true, value };
      // YAML reads `port: "9091"` as text; say so, since the value itself looks right.
      if (typeof value === 'string' && /^\d+$/.test(value)) {
        return { ok: false, must, detail: 'it is quoted text; write the number without quotes' };
      }
      return { ok: false, must };
    },
    show: showValue,
  };
}

export function oneOf<const V extends string>(options: Common<V> & { values: readonly V[] }): OptionSpec<V> {
  const values = options.values;
  const list = values.map((v) => `'${v}'`).join(', ');
  return {
    kind: 'option',
    doc: options.doc,
    type: `one of ${values.map((v) => `\`${v}\``).join(', ')}`,
    default: options.default,
    defaultText: options.defaultText,
    env: options.env,
    flag: options.flag,
    fromText: identity,
    check: (value) =>
      typeof value === 'string' && (values as readonly string[]).includes(value)
        ? { ok: true, value: value as V }
        : { ok: false, must: `must be one of ${list}` },
    show: showValue,
  };
}

/** A string checked by `parse`, which returns the value to keep or a `Checked` failure. */
export function text<T>(
  options: Common<T> & {
    type: string;
    /** What a value must be, for values that are not text at all. */
    must: string;
    parse: (text: string) => Checked<T>;
    show?: (value: unknown) => string;
  },
): OptionSpec<T> {
  return {
    kind: 'option',
    doc: options.doc,
    type: options.type,
    default: options.default,
    defaultText: options.defaultText,
    env: options.env,
    flag: options.flag,
    fromText: identity,
    check: (value) => {
      if (typeof value !== 'string') return { ok: false, must: options.must };
      return options.parse(value);
    },
    show: options.show ?? showValue,
  };
}

/** A list: a YAML sequence, or comma-separated text in an environment variable. Each entry checked by `parse`. */
export function list<T>(
  options: Common<readonly T[]> & {
    type: string;
    /** What the list must be: `must be a list of CIDR ranges or IP addresses`. */
    must: string;
    /** What one entry must be: `a CIDR range or an IP address`. */
    entry: string;
    parse: (text: string) => Checked<T>;
  },
): OptionSpec<readonly T[]> {
  return {
    kind: 'option',
    doc: options.doc,
    type: options.type,
    default: options.default,
    defaultText: options.defaultText,
    env: options.env,
    flag: options.flag,
    fromText: (text) =>
      text
        .split(',')
        .map((entry) => entry.trim())
        .filter((entry) => entry !== ''),
    check: (value) => {
      if (!Array.isArray(value)) return { ok: false, must: options.must };
      const out: T[] = [];
      for (let i = 0; i < value.length; i++) {
        const entry: unknown = value[i];
        const checked: Checked<T> =
          typeof entry === 'string' ? options.parse(entry) : { ok: false, must: `must be ${options.entry}` };
        if (!checked.ok) {
          const why = checked.detail ?? `${showValue(entry)} is not ${options.entry}`;
          return { ok: false, must: options.must, detail: `entry ${i + 1}: ${why}` };
        }
        out.push(checked.value);
      }
      return { ok: true, value: out };
    },
    show: showValue,
  };
}

/** A path to a file that must exist and be a regular file when the option is set. */
export function optionalFile(options: Common<string | undefined>): OptionSpec<string | undefined> {
  return text<string | undefined>({
    ...options,
    type: 'path to a file',
    must: 'must be the path of a readable file',
    parse: (value) => {
      const must = 'must be the path of a readable file';
      if (value === '') return { ok: false, must };
      try {
        if (!statSync(value).isFile()) return { ok: false, must, detail: 'it is not a regular file' };
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        return { ok: false, must, detail: code === 'ENOENT' ? 'no such file' : `it cannot be read: ${code ?? error}` };
      }
      return { ok: true, value };
    },
  });
}
