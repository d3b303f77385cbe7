// Turns the bytes of an exported file into JSON values: finds the text encoding (PowerShell writes UTF-16 and
// Windows code pages as readily as UTF-8), reports malformed JSON by line and column, and unwraps Graph pages.

import { type Problem, show } from './problems.ts';

export type TextEncodingName = 'utf-8' | 'utf-16le' | 'utf-16be' | 'windows-1252';

/**
 * Decodes exported JSON text. UTF-8 (a BOM is stripped), UTF-16 LE or BE with a BOM, and UTF-16 without a BOM: JSON
 * starts with an ASCII character, so its first two bytes are `xx 00` in UTF-16 LE and `00 xx` in UTF-16 BE
 * (the detection RFC 4627 §3 describes). Bytes that are not valid UTF-8 are read as Windows-1252, which is what
 * Windows PowerShell 5.1's `Set-Content` and `Out-File -Encoding Default` write on Western-European systems.
 */
export function decodeJsonText(bytes: Uint8Array): string {
  return decodeWithEncoding(bytes).text;
}

/** `decodeJsonText`, also saying which encoding it found. */
export function decodeWithEncoding(bytes: Uint8Array): { text: string; encoding: TextEncodingName } {
  const encoding = sniffUtf16(bytes);
  if (encoding === 'utf-16le') return { text: stripBom(new TextDecoder('utf-16le').decode(bytes)), encoding };
  if (encoding === 'utf-16be')
    return { text: stripBom(new TextDecoder('utf-16le').decode(swapPairs(bytes))), encoding };
  try {
    return { text: stripBom(new TextDecoder('utf-8', { fatal: true }).decode(bytes)), encoding: 'utf-8' };
  } catch {
    return { text: new TextDecoder('windows-1252').decode(bytes), encoding: 'windows-1252' };
  }
}

function sniffUtf16(bytes: Uint8Array): 'utf-16le' | 'utf-16be' | undefined {
  if (bytes.length < 2) return undefined;
  const [b0, b1] = bytes;
  if (b0 === 0xff && b1 === 0xfe) return 'utf-16le';
  if (b0 === 0xfe && b1 === 0xff) return 'utf-16be';
  if (b0 === 0xef && b1 === 0xbb) return undefined; // the UTF-8 BOM
  if (b0 !== 0 && b1 === 0) return 'utf-16le';
  if (b0 === 0 && b1 !== 0) return 'utf-16be';
  return undefined;
}

function swapPairs(bytes: Uint8Array): Uint8Array {
  const swapped = new Uint8Array(bytes.length - (bytes.length % 2));
  for (let i = 0; i + 1 < bytes.length; i += 2) {
    swapped[i] = bytes[i + 1];
    swapped[i + 1] = bytes[i];
  }
  return swapped;
}

function stripBom(text: string): string {
  // TextDecoder drops one BOM by default; a second one (a file re-saved by two tools) is stripped here.
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

export type ParsedDocument = { ok: true; value: unknown; warning?: Problem } | { ok: false; problem: Problem };

/**
 * Decodes and parses one exported file. Malformed JSON gives one problem whose message starts with where the error
 * is: `line 4, column 17: Unexpected token '}': expected a property name in double quotes (a trailing comma?)`.
 * A file read as Windows-1252 parses but carries a warning, because a wrong guess shows up as garbled names.
 */
export function parseJsonDocument(bytes: Uint8Array, file?: string): ParsedDocument {
  const { text, encoding } = decodeWithEncoding(bytes);
  if (text.trim() === '') return { ok: false, problem: { file, message: 'the file is empty' } };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const found = locateJsonError(text);
    const message = found
      ? `${lineColumn(text, found.offset)}: ${found.message}`
      : `not valid JSON: ${(error as Error).message}`;
    return { ok: false, problem: { file, message } };
  }
  if (encoding === 'windows-1252') {
    const warning = {
      file,
      message: 'the file is not UTF-8 or UTF-16; it was read as Windows-1252 (check names with accented letters)',
    };
    return { ok: true, value, warning };
  }
  return { ok: true, value };
}

/** `line 4, column 17`, both 1-based; a column counts UTF-16 code units from the start of its line. */
function lineColumn(text: string, offset: number): string {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a || (c === 0x0d && text.charCodeAt(i + 1) !== 0x0a)) {
      line++;
      lineStart = i + 1;
    }
  }
  return `line ${line}, column ${offset - lineStart + 1}`;
}

/**
 * Finds the first syntax error in text that JSON.parse rejected. V8's messages name a position only for some errors
 * and change between versions, so this small scanner of RFC 8259's grammar gives the position and the wording.
 */
export function locateJsonError(text: string): { offset: number; message: string } | undefined {
  const scanner = new JsonScanner(text);
  try {
    scanner.skipWhitespace();
    scanner.value(0);
    scanner.skipWhitespace();
    if (scanner.pos < text.length) {
      scanner.fail(
        'after the end of the JSON value (several JSON documents in one file? put them in an array)',
        'Unexpected token',
      );
    }
  } catch (error) {
    if (error instanceof JsonSyntaxError) return { offset: error.offset, message: error.message };
    throw error;
  }
  return undefined;
}

class JsonSyntaxError extends Error {
  readonly offset: number;
  constructor(offset: number, message: string) {
    super(message);
    this.offset = offset;
  }
}

const MAX_DEPTH = 1000;

class JsonScanner {
  readonly text: string;
  pos = 0;
  constructor(text: string) {
    this.text = text;
  }

  skipWhitespace(): void {
    // RFC 8259 §2: ws = *( %x20 / %x09 / %x0A / %x0D )
    while (this.pos < this.text.length) {
      const c = this.text.charCodeAt(this.pos);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return;
      this.pos++;
    }
  }

  /** Throws at the current position: `Unexpected token 'x': expected …`, or `Unexpected end of input: expected …`. */
  fail(expected: string, lead = 'Unexpected token'): never {
    if (this.pos >= this.text.length) {
      throw new JsonSyntaxError(this.pos, `Unexpected end of input: expected ${expected}`);
    }
    const char = String.fromCodePoint(this.text.codePointAt(this.pos) ?? 0);
    const token = char === "'" ? `"'"` : show(char);
    const joiner = expected.startsWith('after') ? ' ' : ': expected ';
    throw new JsonSyntaxError(this.pos, `${lead} ${token}${joiner}${expected}`);
  }

  value(depth: number): void {
    if (depth > MAX_DEPTH) throw new JsonSyntaxError(this.pos, `nested more than ${MAX_DEPTH} levels deep`);
    const c = this.text[this.pos];
    if (c === '{') this.object(depth);
    else if (c === '[') this.array(depth);
    else if (c === '"') this.string();
    else if (c === '-' || isDigit(c)) this.number();
    else this.literal();
  }

  literal(): void {
    const c = this.text[this.pos];
    for (const literal of ['true', 'false', 'null']) {
      if (this.text.startsWith(literal, this.pos)) {
        this.pos += literal.length;
        return;
      }
    }
    if (c === "'") this.fail('a value (JSON strings use double quotes)');
    if (c !== undefined && /[A-Za-z]/.test(c))
      this.fail('a value (the JSON literals are true, false and null, in lowercase)');
    this.fail('a value');
  }

  object(depth: number): void {
    this.pos++; // {
    this.skipWhitespace();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return;
    }
    for (;;) {
      if (this.text[this.pos] !== '"') {
        const trailing = this.text[this.pos] === '}' ? ' (a trailing comma?)' : '';
        this.fail(`a property name in double quotes${trailing}`);
      }
      this.string();
      this.skipWhitespace();
      if (this.text[this.pos] !== ':') this.fail("':' after the property name");
      this.pos++;
      this.skipWhitespace();
      this.value(depth + 1);
      this.skipWhitespace();
      const next = this.text[this.pos];
      if (next === '}') {
        this.pos++;
        return;
      }
      if (next !== ',') this.fail("',' or '}' after a property value");
      this.pos++;
      this.skipWhitespace();
    }
  }

  array(depth: number): void {
    this.pos++; // [
    this.skipWhitespace();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return;
    }
    for (;;) {
      if (this.text[this.pos] === ']') this.fail('a value (a trailing comma?)');
      this.value(depth + 1);
      this.skipWhitespace();
      const next = this.text[this.pos];
      if (next === ']') {
        this.pos++;
        return;
      }
      if (next !== ',') this.fail("',' or ']' after an array element");
      this.pos++;
      this.skipWhitespace();
    }
  }

  string(): void {
    const start = this.pos;
    this.pos++; // "
    for (;;) {
      if (this.pos >= this.text.length) {
        throw new JsonSyntaxError(start, 'Unterminated string: the closing double quote is missing');
      }
      const c = this.text.charCodeAt(this.pos);
      if (c === 0x22) {
        this.pos++;
        return;
      }
      if (c < 0x20) {
        throw new JsonSyntaxError(
          this.pos,
          'Bad control character in string: a line break or tab inside a string must be escaped (\\n, \\t)',
        );
      }
      if (c === 0x5c) {
        const e = this.text[this.pos + 1];
        if (e === 'u') {
          if (!/^[0-9A-Fa-f]{4}$/.test(this.text.slice(this.pos + 2, this.pos + 6))) {
            throw new JsonSyntaxError(this.pos, 'Bad Unicode escape: \\u must be followed by four hex digits');
          }
          this.pos += 6;
          continue;
        }
        if (e === undefined || !'"\\/bfnrt'.includes(e)) {
          throw new JsonSyntaxError(
            this.pos,
            `Bad escaped character ${show(`\\${e ?? ''}`)}: a backslash in a string is written \\\\`,
          );
        }
        this.pos += 2;
        continue;
      }
      this.pos++;
    }
  }

  number(): void {
    // RFC 8259 §6: number = [ minus ] int [ frac ] [ exp ]; int = zero / ( digit1-9 *DIGIT )
    if (this.text[this.pos] === '-') this.pos++;
    const first = this.text[this.pos];
    if (first === '0') {
      this.pos++;
      if (isDigit(this.text[this.pos])) this.fail("'.' or the end of the number (no leading zeros)");
    } else if (isDigit(first)) {
      while (isDigit(this.text[this.pos])) this.pos++;
    } else {
      this.fail('a digit');
    }
    if (this.text[this.pos] === '.') {
      this.pos++;
      if (!isDigit(this.text[this.pos])) this.fail("a digit after '.'");
      while (isDigit(this.text[this.pos])) this.pos++;
    }
    if (this.text[this.pos] === 'e' || this.text[this.pos] === 'E') {
      this.pos++;
      if (this.text[this.pos] === '+' || this.text[this.pos] === '-') this.pos++;
      if (!isDigit(this.text[this.pos])) this.fail('a digit in the exponent');
      while (isDigit(this.text[this.pos])) this.pos++;
    }
  }
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

/**
 * The objects a file holds. A file may hold one object, an array of them, or a Graph page
 * (`{ "@odata.context": …, "value": [ … ] }`); an array of pages (pages saved one after another by a script) is
 * flattened. An object that holds `namedLocations` and/or `policies` arrays, as the `conditionalAccess` root does
 * when expanded, gives their items.
 */
export function documentItems(value: unknown): unknown[] {
  if (Array.isArray(value)) return value.flatMap((item) => (isGraphPage(item) ? pageItems(item) : [item]));
  if (isGraphPage(value)) return pageItems(value);
  if (isRecord(value) && !looksLikeEntity(value)) {
    const parts = ['namedLocations', 'policies'].map((key) => value[key]).filter(Array.isArray);
    if (parts.length > 0) return parts.flat();
  }
  return [value];
}

/** Whether a value is a Graph collection page: an object whose `value` is an array and that is not itself an entity. */
export function isGraphPage(value: unknown): value is Record<string, unknown> & { value: unknown[] } {
  return isRecord(value) && Array.isArray(value.value) && !looksLikeEntity(value);
}

function pageItems(page: { value: unknown[] }): unknown[] {
  return page.value;
}

function looksLikeEntity(value: Record<string, unknown>): boolean {
  return ['displayName', 'conditions', 'ipRanges', 'countriesAndRegions'].some((key) => key in value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
