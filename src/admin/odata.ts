// The OData query options the admin API's lists understand: the subset of Microsoft Graph's that issue 6 names —
// `$top` (page size), `$select`, `$filter` (eq, ne, and, or, parentheses, startswith, ge/le/gt/lt on dates, isof) —
// and `$skiptoken`, which only our own `@odata.nextLink` writes. Anything else is a 400 that says what is not
// supported, rather than an answer that silently ignores part of the question. Pure: no I/O.
import { HttpError } from '../http/graph-error.ts';
import { quote } from '../net/quote.ts';

export type PropertyKind = 'string' | 'boolean' | 'date' | 'number';

/** What the options may name for one Graph entity type. */
export interface EntityType {
  /** Graph's qualified name, for messages: `microsoft.graph.conditionalAccessPolicy`. */
  readonly name: string;
  /** The properties `$select` may name. */
  readonly properties: readonly string[];
  /** The properties `$filter` may compare, with their kind. */
  readonly filterable: Readonly<Record<string, PropertyKind>>;
  /** Derived types `isof(…)` may name, qualified: `microsoft.graph.ipNamedLocation`. */
  readonly derivedTypes?: readonly string[];
}

export type Filter =
  | { readonly kind: 'and' | 'or'; readonly left: Filter; readonly right: Filter }
  | {
      readonly kind: 'compare';
      readonly op: ComparisonOperator;
      readonly property: string;
      readonly propertyKind: PropertyKind;
      readonly value: Literal;
    }
  | { readonly kind: 'startswith'; readonly property: string; readonly prefix: string }
  | { readonly kind: 'isof'; readonly type: string };

type ComparisonOperator = 'eq' | 'ne' | 'ge' | 'le' | 'gt' | 'lt';
type Literal =
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'boolean'; readonly value: boolean }
  | { readonly type: 'date'; readonly value: number }
  | { readonly type: 'number'; readonly value: number }
  | { readonly type: 'null' };

/** Where the previous page ended: the last item's id, and its creation time for when that item has gone since. */
export interface SkipToken {
  readonly id: string;
  readonly created: number | null;
}

export interface ListQuery {
  /** Items per page: `$top`, or DEFAULT_PAGE_SIZE. */
  readonly top: number;
  readonly select?: readonly string[];
  readonly filter?: Filter;
  readonly skipToken?: SkipToken;
  /** The options as the caller wrote them, to repeat in `@odata.nextLink`. */
  readonly echo: { readonly $top?: string; readonly $select?: string; readonly $filter?: string };
}

/** Graph pages without `$top` too; clients follow `@odata.nextLink`. */
export const DEFAULT_PAGE_SIZE = 100;
/** Graph's usual upper bound for `$top`. */
export const MAX_PAGE_SIZE = 999;

const MAX_FILTER_LENGTH = 2000;
const MAX_NESTING = 32;

/** System query options Graph has that these lists do not support: named so the 400 can say so. */
const UNSUPPORTED_OPTIONS = [
  '$orderby',
  '$count',
  '$skip',
  '$expand',
  '$search',
  '$format',
  '$levels',
  '$apply',
  '$compute',
  '$deltatoken',
];
const LIST_OPTIONS = ['$top', '$filter', '$skiptoken'];
const FUNCTIONS_NOT_SUPPORTED = [
  'endswith',
  'contains',
  'substring',
  'substringof',
  'tolower',
  'toupper',
  'length',
  'indexof',
  'trim',
  'concat',
  'year',
  'month',
  'day',
  'hour',
  'minute',
  'second',
  'date',
  'time',
  'now',
  'cast',
];
const OPERATORS_NOT_SUPPORTED = ['has', 'in', 'add', 'sub', 'mul', 'div', 'divby', 'mod'];

export class ODataError extends HttpError {
  constructor(message: string) {
    super(400, message);
  }
}

type RawQuery = Record<string, unknown>;

/** Reads `$top`, `$select`, `$filter` and `$skiptoken` of a list request; a 400 for anything else starting with `$`. */
export function parseListQuery(query: unknown, entity: EntityType): ListQuery {
  const options = systemOptions(query, ['$top', '$select', '$filter', '$skiptoken']);
  const echo: { $top?: string; $select?: string; $filter?: string } = {};
  let top = DEFAULT_PAGE_SIZE;
  if (options.$top !== undefined) {
    echo.$top = options.$top;
    if (!/^\d{1,4}$/.test(options.$top.trim()) || Number(options.$top) < 1 || Number(options.$top) > MAX_PAGE_SIZE) {
      throw new ODataError(`$top must be a whole number from 1 to ${MAX_PAGE_SIZE}, but it is ${quote(options.$top)}.`);
    }
    top = Number(options.$top);
  }
  let select: string[] | undefined;
  if (options.$select !== undefined) {
    echo.$select = options.$select;
    select = parseSelect(options.$select, entity);
  }
  let filter: Filter | undefined;
  if (options.$filter !== undefined) {
    echo.$filter = options.$filter;
    filter = parseFilter(options.$filter, entity);
  }
  const skipToken = options.$skiptoken === undefined ? undefined : decodeSkipToken(options.$skiptoken);
  return { top, select, filter, skipToken, echo };
}

/** Reads `$select` of a request for one item; a 400 for any other `$` option. */
export function parseItemQuery(query: unknown, entity: EntityType): { select?: readonly string[] } {
  const options = systemOptions(query, ['$select']);
  return options.$select === undefined ? {} : { select: parseSelect(options.$select, entity) };
}

function systemOptions(query: unknown, allowed: readonly string[]): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  const raw = (typeof query === 'object' && query !== null ? query : {}) as RawQuery;
  for (const [key, value] of Object.entries(raw)) {
    // Only system query options are ours to judge; Graph ignores custom ones, and so do we.
    if (!key.startsWith('$')) continue;
    const name = key.toLowerCase();
    if (!allowed.includes(name)) {
      const supported = allowed.filter((a) => a !== '$skiptoken').join(', ');
      throw new ODataError(
        UNSUPPORTED_OPTIONS.includes(name) || LIST_OPTIONS.includes(name)
          ? `The query option ${quote(key)} is not supported here; supported: ${supported}.`
          : `${quote(key)} is not an OData query option; supported here: ${supported}.`,
      );
    }
    if (Array.isArray(value) || out[name] !== undefined)
      throw new ODataError(`The query option ${key} is given twice.`);
    out[name] = String(value);
  }
  return out;
}

function parseSelect(text: string, entity: EntityType): string[] {
  const names = text.split(',').map((name) => name.trim());
  if (names.some((name) => name === '')) {
    throw new ODataError(`$select must be a comma-separated list of property names, but it is ${quote(text)}.`);
  }
  if (names.includes('*')) return [...entity.properties];
  for (const name of names) {
    if (!entity.properties.includes(name)) {
      throw new ODataError(
        `$select: could not find a property named ${quote(name)} on type '${entity.name}'; ` +
          `its properties are ${entity.properties.join(', ')}.`,
      );
    }
  }
  return [...new Set(names)];
}

/** The item with only the selected properties (and its `@odata.type`, which Graph always writes for derived types). */
export function project(item: object, select: readonly string[] | undefined): Record<string, unknown> {
  const record = item as Record<string, unknown>;
  if (select === undefined) return { ...record };
  const out: Record<string, unknown> = {};
  if (record['@odata.type'] !== undefined) out['@odata.type'] = record['@odata.type'];
  for (const name of select) if (name in record) out[name] = record[name];
  return out;
}

/**
 * One page of `items` (already in the store's order): those matching the filter, after the skip token, at most
 * `top` of them, and the token for the next page when there are more.
 */
export function pageOf<T extends { id: string; createdDateTime?: string | null }>(
  items: readonly T[],
  query: Pick<ListQuery, 'top' | 'filter' | 'skipToken'>,
): { items: T[]; next?: string } {
  const matching = query.filter ? items.filter((item) => matches(query.filter as Filter, item)) : [...items];
  let start = 0;
  const token = query.skipToken;
  if (token !== undefined) {
    const at = matching.findIndex((item) => item.id === token.id);
    if (at >= 0) start = at + 1;
    else {
      // The last item of the previous page is gone (deleted, or no longer matching): go on after its creation time.
      const after = matching.findIndex((item) => (timeOf(item.createdDateTime) ?? -1) > (token.created ?? -1));
      start = after >= 0 ? after : matching.length;
    }
  }
  const page = matching.slice(start, start + query.top);
  if (start + query.top >= matching.length || page.length === 0) return { items: page };
  const last = page[page.length - 1];
  return { items: page, next: encodeSkipToken({ id: last.id, created: timeOf(last.createdDateTime) }) };
}

export function encodeSkipToken(token: SkipToken): string {
  return Buffer.from(JSON.stringify([token.id, token.created])).toString('base64url');
}

function decodeSkipToken(text: string): SkipToken {
  try {
    const value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown;
    if (
      Array.isArray(value) &&
      value.length === 2 &&
      typeof value[0] === 'string' &&
      (value[1] === null || Number.isFinite(value[1]))
    ) {
      return { id: value[0], created: value[1] };
    }
  } catch {
    // reported below
  }
  throw new ODataError('$skiptoken is not valid: use the @odata.nextLink of the previous page as it is.');
}

/** The query string of the next page's link: the caller's options again, and where this page ended. */
export function nextLinkQuery(query: Pick<ListQuery, 'echo'>, skipToken: string): string {
  const parts = Object.entries(query.echo)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([name, value]) => `${name}=${encodeURIComponent(value)}`);
  parts.push(`$skiptoken=${skipToken}`);
  return parts.join('&');
}

// --- PATCH -----------------------------------------------------------------------------------------------------------

/** Properties a PATCH cannot change: OData says to ignore them ("Update an Entity"); the store sets them. */
const READ_ONLY = new Set(['id', 'createddatetime', 'modifieddatetime']);

/**
 * OData PATCH ("Update an Entity"): properties in the body replace the stored ones — collections and primitives
 * wholesale, complex values (`conditions`, `grantControls`, …) property by property at every depth — and the rest stay.
 * Names match without regard to case, so a body in the SDKs' PascalCase updates the stored camelCase property.
 */
export function mergePatch(current: object, patch: Record<string, unknown>, top = true): Record<string, unknown> {
  const out: Record<string, unknown> = { ...(current as Record<string, unknown>) };
  for (const [key, value] of Object.entries(patch)) {
    const lower = key.toLowerCase();
    if (top && (READ_ONLY.has(lower) || (lower.startsWith('@odata.') && lower !== '@odata.type'))) continue;
    const existing = Object.keys(out).find((k) => k.toLowerCase() === lower) ?? key;
    const before = out[existing];
    out[existing] = isPlainObject(before) && isPlainObject(value) ? mergePatch(before, value, false) : value;
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// --- $filter --------------------------------------------------------------------------------------------------------

type Token =
  | { readonly kind: 'punct'; readonly text: '(' | ')' | ','; readonly at: number }
  | { readonly kind: 'string'; readonly value: string; readonly at: number }
  | { readonly kind: 'word'; readonly text: string; readonly at: number };

const DATE_LITERAL = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?(Z|[+-]\d{2}:\d{2})$/i;
const PROPERTY_PATH = /^[A-Za-z_][A-Za-z0-9_]*(?:\/[A-Za-z_][A-Za-z0-9_]*)*$/;

/** Parses a `$filter` expression for `entity`; an ODataError naming what is wrong or not supported. */
export function parseFilter(text: string, entity: EntityType): Filter {
  if (text.trim() === '') throw new ODataError('$filter is empty.');
  if (text.length > MAX_FILTER_LENGTH) {
    throw new ODataError(`$filter is ${text.length} characters long; at most ${MAX_FILTER_LENGTH} are accepted.`);
  }
  return new FilterParser(tokenize(text), entity).parse();
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === '(' || c === ')' || c === ',') {
      tokens.push({ kind: 'punct', text: c, at: i });
      i++;
    } else if (c === "'") {
      // OData string literal: single quotes, a quote inside written twice.
      const at = i;
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new ODataError(`$filter: the string starting at position ${at + 1} is not closed.`);
        if (text[i] === "'") {
          if (text[i + 1] === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += text[i++];
      }
      tokens.push({ kind: 'string', value, at });
    } else {
      const at = i;
      while (i < text.length && !/[\s(),']/.test(text[i])) i++;
      tokens.push({ kind: 'word', text: text.slice(at, i), at });
    }
  }
  return tokens;
}

class FilterParser {
  readonly #tokens: Token[];
  readonly #entity: EntityType;
  #next = 0;
  #depth = 0;

  constructor(tokens: Token[], entity: EntityType) {
    this.#tokens = tokens;
    this.#entity = entity;
  }

  parse(): Filter {
    const filter = this.#or();
    const extra = this.#peek();
    if (extra !== undefined) throw this.#error(extra, `expected 'and', 'or' or the end but found ${describe(extra)}`);
    return filter;
  }

  #or(): Filter {
    let left = this.#and();
    while (this.#isWord(this.#peek(), 'or')) {
      this.#next++;
      left = { kind: 'or', left, right: this.#and() };
    }
    return left;
  }

  #and(): Filter {
    let left = this.#primary();
    while (this.#isWord(this.#peek(), 'and')) {
      this.#next++;
      left = { kind: 'and', left, right: this.#primary() };
    }
    return left;
  }

  #primary(): Filter {
    const token = this.#take('a condition');
    if (token.kind === 'punct' && token.text === '(') {
      if (++this.#depth > MAX_NESTING) throw this.#error(token, `parentheses nest deeper than ${MAX_NESTING}`);
      const inner = this.#or();
      this.#expectPunct(')');
      this.#depth--;
      return inner;
    }
    if (token.kind !== 'word') throw this.#error(token, `expected a condition but found ${describe(token)}`);
    const word = token.text.toLowerCase();
    if (word === 'not') throw this.#error(token, "'not' is not supported; use 'ne' or rewrite the condition");
    const following = this.#peek();
    if (following?.kind === 'punct' && following.text === '(') return this.#call(token);
    return this.#comparison(token);
  }

  #call(name: Token & { kind: 'word' }): Filter {
    const fn = name.text.toLowerCase();
    this.#next++; // '('
    if (fn === 'startswith') {
      const property = this.#property(this.#take('a property name'));
      this.#expectPunct(',');
      const prefix = this.#take('a string');
      if (prefix.kind !== 'string') throw this.#error(prefix, `startswith needs a string in single quotes`);
      this.#expectPunct(')');
      if (property.kind !== 'string') {
        throw this.#error(name, `startswith works on text properties, and ${quote(property.name)} is not one`);
      }
      return { kind: 'startswith', property: property.name, prefix: prefix.value };
    }
    if (fn === 'isof') {
      const type = this.#take('a type name');
      if (type.kind !== 'string') throw this.#error(type, `isof needs a type name in single quotes`);
      this.#expectPunct(')');
      const wanted = type.value.replace(/^#/, '').toLowerCase();
      const known = (this.#entity.derivedTypes ?? []).find((t) => t.toLowerCase() === wanted);
      if (!known) {
        const types = this.#entity.derivedTypes ?? [];
        throw this.#error(
          type,
          `${quote(type.value)} is not a type of ${this.#entity.name}` +
            (types.length ? `; use one of ${types.map((t) => `'${t}'`).join(', ')}` : ''),
        );
      }
      return { kind: 'isof', type: known };
    }
    if (/\/(any|all)$/i.test(name.text)) {
      throw this.#error(name, 'lambda operators (any, all) on collections are not supported');
    }
    const reason = FUNCTIONS_NOT_SUPPORTED.includes(fn)
      ? `the function ${quote(name.text)} is not supported`
      : `${quote(name.text)} is not a function`;
    throw this.#error(name, `${reason}; supported: startswith, isof`);
  }

  #comparison(first: Token & { kind: 'word' }): Filter {
    const property = this.#property(first);
    const opToken = this.#take('an operator');
    const op = opToken.kind === 'word' ? opToken.text.toLowerCase() : '';
    if (!['eq', 'ne', 'ge', 'le', 'gt', 'lt'].includes(op)) {
      const reason = OPERATORS_NOT_SUPPORTED.includes(op)
        ? `the operator ${quote(op)} is not supported`
        : `expected an operator after ${quote(property.name)} but found ${describe(opToken)}`;
      throw this.#error(opToken, `${reason}; supported: eq, ne, and, or, startswith, and ge, le, gt, lt on dates`);
    }
    const valueToken = this.#take('a value');
    const value = this.#literal(valueToken, property);
    const ordering = op !== 'eq' && op !== 'ne';
    if (ordering && property.kind !== 'date') {
      throw this.#error(
        opToken,
        `${quote(op)} compares dates only (${this.#dateProperties()}), not ${quote(property.name)}`,
      );
    }
    if (ordering && value.type === 'null') throw this.#error(valueToken, `${quote(op)} cannot compare with null`);
    return {
      kind: 'compare',
      op: op as ComparisonOperator,
      property: property.name,
      propertyKind: property.kind,
      value,
    };
  }

  #literal(token: Token, property: { name: string; kind: PropertyKind }): Literal {
    const expected =
      property.kind === 'string'
        ? 'a string in single quotes'
        : property.kind === 'boolean'
          ? 'true or false'
          : property.kind === 'number'
            ? 'a whole number'
            : 'a date and time such as 2026-01-31T00:00:00Z';
    if (token.kind === 'word' && token.text.toLowerCase() === 'null') return { type: 'null' };
    if (property.kind === 'string' && token.kind === 'string') return { type: 'string', value: token.value };
    if (property.kind === 'boolean' && token.kind === 'word' && /^(true|false)$/i.test(token.text)) {
      return { type: 'boolean', value: token.text.toLowerCase() === 'true' };
    }
    if (property.kind === 'number' && token.kind === 'word' && /^-?\d{1,15}$/.test(token.text)) {
      return { type: 'number', value: Number(token.text) };
    }
    if (property.kind === 'date') {
      const text = token.kind === 'string' ? token.value : token.kind === 'word' ? token.text : '';
      const time = parseDateLiteral(text);
      if (time !== undefined) return { type: 'date', value: time };
    }
    const found =
      token.kind === 'word' && property.kind === 'string'
        ? `${describe(token)} (text needs single quotes)`
        : describe(token);
    throw this.#error(token, `${quote(property.name)} is compared with ${expected}, not ${found}`);
  }

  #property(token: Token): { name: string; kind: PropertyKind } {
    if (token.kind !== 'word' || !PROPERTY_PATH.test(token.text)) {
      throw this.#error(token, `expected a property name but found ${describe(token)}`);
    }
    const kind = Object.hasOwn(this.#entity.filterable, token.text) ? this.#entity.filterable[token.text] : undefined;
    if (kind === undefined) {
      const known = this.#entity.properties.includes(token.text.split('/')[0]);
      throw this.#error(
        token,
        (known
          ? `filtering on ${quote(token.text)} is not supported`
          : `could not find a property named ${quote(token.text)} on type '${this.#entity.name}'`) +
          `; filterable: ${Object.keys(this.#entity.filterable).join(', ')}`,
      );
    }
    return { name: token.text, kind };
  }

  #dateProperties(): string {
    return Object.entries(this.#entity.filterable)
      .filter(([, kind]) => kind === 'date')
      .map(([name]) => name)
      .join(', ');
  }

  #peek(): Token | undefined {
    return this.#tokens[this.#next];
  }

  #take(what: string): Token {
    const token = this.#tokens[this.#next++];
    if (token === undefined) throw new ODataError(`$filter ends where ${what} was expected.`);
    return token;
  }

  #expectPunct(text: '(' | ')' | ','): void {
    const token = this.#take(`'${text}'`);
    if (token.kind !== 'punct' || token.text !== text) {
      throw this.#error(token, `expected '${text}' but found ${describe(token)}`);
    }
  }

  #isWord(token: Token | undefined, word: string): boolean {
    return token?.kind === 'word' && token.text.toLowerCase() === word;
  }

  #error(token: Token, message: string): ODataError {
    return new ODataError(`$filter: ${message} (at position ${token.at + 1}).`);
  }
}

function describe(token: Token): string {
  if (token.kind === 'string') return `the string ${quote(token.value)}`;
  return quote(token.text);
}

/** An OData DateTimeOffset (`2026-01-31T09:00:00Z`, fractions up to 7 digits, or an offset) as epoch milliseconds. */
export function parseDateLiteral(text: string): number | undefined {
  const m = DATE_LITERAL.exec(text.trim());
  if (!m) return undefined;
  // Date.parse rolls 30 February over into March; a date that does not exist is not a date.
  const [year, month, day] = m[1].split('-').map(Number);
  const probe = new Date(Date.UTC(year, month - 1, day));
  if (probe.getUTCMonth() !== month - 1 || probe.getUTCDate() !== day) return undefined;
  const fraction = (m[4] ?? '').padEnd(3, '0').slice(0, 3);
  const time = Date.parse(`${m[1]}T${m[2]}:${m[3] ?? '00'}.${fraction}${m[5].toUpperCase()}`);
  return Number.isNaN(time) ? undefined : time;
}

function timeOf(value: unknown): number | null {
  return typeof value === 'string' ? (parseDateLiteral(value) ?? null) : null;
}

/** Whether an item satisfies the filter. Text compares without regard to letter case, as Entra's directory does. */
export function matches(filter: Filter, item: object): boolean {
  const record = item as Record<string, unknown>;
  switch (filter.kind) {
    case 'and':
      return matches(filter.left, item) && matches(filter.right, item);
    case 'or':
      return matches(filter.left, item) || matches(filter.right, item);
    case 'isof':
      return (
        typeof record['@odata.type'] === 'string' &&
        record['@odata.type'].toLowerCase() === `#${filter.type}`.toLowerCase()
      );
    case 'startswith': {
      const value = record[filter.property];
      return typeof value === 'string' && value.toLowerCase().startsWith(filter.prefix.toLowerCase());
    }
    case 'compare':
      return compare(filter, record[filter.property]);
  }
}

function compare(filter: Filter & { kind: 'compare' }, actual: unknown): boolean {
  const { op, value } = filter;
  if (value.type === 'null') {
    const isNull = actual === null || actual === undefined;
    return op === 'eq' ? isNull : !isNull;
  }
  let equal: boolean;
  let order: number | undefined;
  if (value.type === 'string') {
    equal = typeof actual === 'string' && actual.toLowerCase() === value.value.toLowerCase();
  } else if (value.type === 'boolean') {
    equal = actual === value.value;
  } else if (value.type === 'number') {
    equal = actual === value.value;
  } else {
    const time = timeOf(actual);
    equal = time === value.value;
    order = time === null ? undefined : Math.sign(time - value.value);
  }
  switch (op) {
    case 'eq':
      return equal;
    case 'ne':
      return !equal;
    case 'ge':
      return order !== undefined && order >= 0;
    case 'le':
      return order !== undefined && order <= 0;
    case 'gt':
      return order !== undefined && order > 0;
    case 'lt':
      return order !== undefined && order < 0;
  }
}
