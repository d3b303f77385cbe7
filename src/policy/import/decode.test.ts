// Tests for reading exported bytes: text encodings, JSON errors by line and column, and what a file holds.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeJsonText, decodeWithEncoding, documentItems, parseJsonDocument } from './decode.ts';

const JSON_TEXT = '{"displayName": "VPN egress (Zürich)"}';

function utf16le(text: string, bom: boolean): Uint8Array {
  const body = Buffer.from(text, 'utf16le');
  return bom ? Buffer.concat([Buffer.from([0xff, 0xfe]), body]) : body;
}

function utf16be(text: string, bom: boolean): Uint8Array {
  const le = Buffer.from(text, 'utf16le');
  const be = Buffer.alloc(le.length);
  for (let i = 0; i < le.length; i += 2) {
    be[i] = le[i + 1];
    be[i + 1] = le[i];
  }
  return bom ? Buffer.concat([Buffer.from([0xfe, 0xff]), be]) : be;
}

describe('decodeJsonText', () => {
  const cases: Array<{ name: string; bytes: Uint8Array; encoding: string }> = [
    { name: 'UTF-8 without BOM (PowerShell 7)', bytes: Buffer.from(JSON_TEXT, 'utf8'), encoding: 'utf-8' },
    {
      name: 'UTF-8 with BOM (Out-File -Encoding utf8 in PowerShell 5.1)',
      bytes: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON_TEXT, 'utf8')]),
      encoding: 'utf-8',
    },
    { name: 'UTF-16 LE with BOM (Out-File in PowerShell 5.1)', bytes: utf16le(JSON_TEXT, true), encoding: 'utf-16le' },
    { name: 'UTF-16 LE without BOM', bytes: utf16le(JSON_TEXT, false), encoding: 'utf-16le' },
    { name: 'UTF-16 BE with BOM', bytes: utf16be(JSON_TEXT, true), encoding: 'utf-16be' },
    { name: 'UTF-16 BE without BOM', bytes: utf16be(JSON_TEXT, false), encoding: 'utf-16be' },
    {
      name: 'Windows-1252 (Set-Content in PowerShell 5.1)',
      bytes: Buffer.from(JSON_TEXT, 'latin1'),
      encoding: 'windows-1252',
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      assert.equal(decodeJsonText(c.bytes), JSON_TEXT);
      assert.equal(decodeWithEncoding(c.bytes).encoding, c.encoding);
    });
  }

  test('a UTF-16 array starting with a line break is still UTF-16', () => {
    assert.equal(decodeJsonText(utf16le('[\r\n]', false)), '[\r\n]');
  });
  test('one byte is not enough to be UTF-16', () => assert.equal(decodeJsonText(Buffer.from('1')), '1'));
});

describe('parseJsonDocument', () => {
  test('a UTF-16 LE file with BOM parses', () => {
    assert.deepEqual(parseJsonDocument(utf16le(JSON_TEXT, true)), {
      ok: true,
      value: { displayName: 'VPN egress (Zürich)' },
    });
  });

  test('a file read as Windows-1252 parses with a warning', () => {
    const parsed = parseJsonDocument(Buffer.from(JSON_TEXT, 'latin1'), 'old.json');
    assert.equal(parsed.ok, true);
    assert.ok(parsed.ok && parsed.warning?.message.includes('Windows-1252'));
    assert.equal(parsed.ok && parsed.warning?.file, 'old.json');
  });

  const malformed: Array<{ name: string; text: string; message: string }> = [
    {
      name: 'a non-JSON word, at line 4 column 17',
      text: '{\n    "displayName": "Headquarters",\n    "@odata.type": "#microsoft.graph.ipNamedLocation",\n    "isTrusted":yes\n}',
      message:
        "line 4, column 17: Unexpected token 'y': expected a value (the JSON literals are true, false and null, in lowercase)",
    },
    {
      name: 'a trailing comma in an array',
      text: '{\n    "ipRanges": [\n        "10.0.0.0/8",\n    ]\n}',
      message: "line 4, column 5: Unexpected token ']': expected a value (a trailing comma?)",
    },
    {
      name: 'a trailing comma in an object',
      text: '{\n  "state": "enabled",\n}',
      message: "line 3, column 1: Unexpected token '}': expected a property name in double quotes (a trailing comma?)",
    },
    {
      name: 'a missing comma',
      text: '{\n  "state": "enabled"\n  "displayName": "x"\n}',
      message: `line 3, column 3: Unexpected token '"': expected ',' or '}' after a property value`,
    },
    {
      name: 'single-quoted names',
      text: "{'state': 'enabled'}",
      message: `line 1, column 2: Unexpected token "'": expected a property name in double quotes`,
    },
    {
      name: 'Python-style True',
      text: '{"isTrusted": True}',
      message:
        "line 1, column 15: Unexpected token 'T': expected a value (the JSON literals are true, false and null, in lowercase)",
    },
    {
      name: 'an unterminated string',
      text: '{"displayName": "HQ}',
      message: 'line 1, column 17: Unterminated string: the closing double quote is missing',
    },
    {
      name: 'a truncated file',
      text: '[{"id": "a"}',
      message: "line 1, column 13: Unexpected end of input: expected ',' or ']' after an array element",
    },
    {
      name: 'two documents in one file',
      text: '{"id": "a"}\n{"id": "b"}',
      message:
        "line 2, column 1: Unexpected token '{' after the end of the JSON value (several JSON documents in one " +
        'file? put them in an array)',
    },
    {
      name: 'CRLF counts as one line break',
      text: '{\r\n  "id": "a",\r\n}',
      message: "line 3, column 1: Unexpected token '}': expected a property name in double quotes (a trailing comma?)",
    },
    {
      name: 'a raw line break inside a string',
      text: '{"displayName": "Head\nquarters"}',
      message:
        'line 1, column 22: Bad control character in string: a line break or tab inside a string must be escaped (\\n, \\t)',
    },
    {
      name: 'an unescaped backslash',
      text: '{"path": "C:\\Users"}',
      message: "line 1, column 13: Bad escaped character '\\U': a backslash in a string is written \\\\",
    },
    {
      name: 'a leading zero',
      text: '{"value": 012}',
      message: "line 1, column 12: Unexpected token '1': expected '.' or the end of the number (no leading zeros)",
    },
  ];
  for (const c of malformed) {
    test(`malformed: ${c.name}`, () => {
      assert.deepEqual(parseJsonDocument(Buffer.from(c.text, 'utf8'), 'exports/x.json'), {
        ok: false,
        problem: { file: 'exports/x.json', message: c.message },
      });
    });
  }

  test('the position is the same in a UTF-16 LE file with BOM', () => {
    const parsed = parseJsonDocument(utf16le('{\r\n  "state": "enabled",\r\n}', true));
    assert.ok(!parsed.ok && parsed.problem.message.startsWith('line 3, column 1: '));
  });

  test('an empty file', () => {
    assert.deepEqual(parseJsonDocument(Buffer.from(' \r\n'), 'e.json'), {
      ok: false,
      problem: { file: 'e.json', message: 'the file is empty' },
    });
  });
});

describe('documentItems', () => {
  const location = { '@odata.type': '#microsoft.graph.ipNamedLocation', displayName: 'HQ', ipRanges: [] };
  const policy = { displayName: 'P', conditions: {} };
  const entityWithValue = { displayName: 'x', value: [] };
  const cases: Array<{ name: string; value: unknown; items: unknown[] }> = [
    { name: 'one object', value: policy, items: [policy] },
    { name: 'an array', value: [policy, location], items: [policy, location] },
    {
      name: 'a Graph page',
      value: { '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#policies', value: [policy] },
      items: [policy],
    },
    { name: 'an empty Graph page', value: { '@odata.context': 'x', value: [] }, items: [] },
    { name: 'a page without @odata.context', value: { value: [policy] }, items: [policy] },
    {
      name: 'pages saved one after another in an array',
      value: [
        { '@odata.context': 'x', '@odata.nextLink': 'y', value: [policy] },
        { '@odata.context': 'x', value: [location] },
      ],
      items: [policy, location],
    },
    {
      name: 'the conditionalAccess root, expanded',
      value: { id: 'root', namedLocations: [location], policies: [policy] },
      items: [location, policy],
    },
    { name: 'an entity that has a value property is not a page', value: entityWithValue, items: [entityWithValue] },
    { name: 'null stays an item (normalizing reports it)', value: null, items: [null] },
  ];
  for (const c of cases) test(c.name, () => assert.deepEqual(documentItems(c.value), c.items));
});
