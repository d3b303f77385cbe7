import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  DEFAULT_PAGE_SIZE,
  type EntityType,
  encodeSkipToken,
  matches,
  mergePatch,
  ODataError,
  pageOf,
  parseDateLiteral,
  parseFilter,
  parseListQuery,
} from './odata.ts';

const LOCATION: EntityType = {
  name: 'microsoft.graph.namedLocation',
  properties: ['id', 'displayName', 'createdDateTime', 'isTrusted', 'countriesAndRegions'],
  filterable: { id: 'string', displayName: 'string', createdDateTime: 'date', isTrusted: 'boolean' },
  derivedTypes: ['microsoft.graph.ipNamedLocation', 'microsoft.graph.countryNamedLocation'],
};

const headquarters = {
  '@odata.type': '#microsoft.graph.ipNamedLocation',
  id: 'hq',
  displayName: 'Headquarters',
  isTrusted: true,
  createdDateTime: '2024-01-01T00:00:00.000Z',
};
const obrien = {
  '@odata.type': '#microsoft.graph.ipNamedLocation',
  id: 'ob',
  displayName: "O'Brien's office",
  isTrusted: false,
  createdDateTime: '2024-02-01T00:00:00.000Z',
};
const blocked = {
  '@odata.type': '#microsoft.graph.countryNamedLocation',
  id: 'bc',
  displayName: 'Blocked countries',
  createdDateTime: '2024-03-01T00:00:00.000Z',
};
const ALL = [headquarters, obrien, blocked];

describe('$filter', () => {
  const cases: Array<{ name: string; filter: string; expect: string[] }> = [
    { name: 'eq ignores letter case', filter: "displayName eq 'HEADQUARTERS'", expect: ['hq'] },
    { name: 'ne', filter: "displayName ne 'headquarters'", expect: ['ob', 'bc'] },
    { name: 'a quote written twice', filter: "displayName eq 'O''Brien''s office'", expect: ['ob'] },
    { name: 'boolean', filter: 'isTrusted eq false', expect: ['ob'] },
    { name: 'absent is null', filter: 'isTrusted eq null', expect: ['bc'] },
    { name: 'a date is not null', filter: 'createdDateTime ne null', expect: ['hq', 'ob', 'bc'] },
    {
      name: 'and binds tighter than or',
      filter: "isTrusted eq true or isTrusted eq false and id eq 'hq'",
      expect: ['hq'],
    },
    { name: 'parentheses', filter: "(isTrusted eq true or isTrusted eq false) and id eq 'ob'", expect: ['ob'] },
    { name: 'startswith', filter: "startswith(displayName,'blocked')", expect: ['bc'] },
    { name: 'isof', filter: "isof('microsoft.graph.countryNamedLocation')", expect: ['bc'] },
    { name: 'isof with #', filter: "isof('#microsoft.graph.ipNamedLocation')", expect: ['hq', 'ob'] },
    { name: 'ge on a date', filter: 'createdDateTime ge 2024-01-15T00:00:00Z', expect: ['ob', 'bc'] },
    {
      name: 'le with seven fraction digits',
      filter: 'createdDateTime le 2024-01-01T00:00:00.0000000Z',
      expect: ['hq'],
    },
    { name: 'gt with an offset', filter: 'createdDateTime gt 2024-01-01T00:30:00+01:00', expect: ['hq', 'ob', 'bc'] },
    { name: 'lt with a quoted date', filter: "createdDateTime lt '2024-01-15T00:00:00Z'", expect: ['hq'] },
    { name: 'a date eq', filter: 'createdDateTime eq 2024-02-01T00:00:00Z', expect: ['ob'] },
    { name: 'case of keywords does not matter', filter: "id EQ 'hq' OR id Eq 'bc'", expect: ['hq', 'bc'] },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const filter = parseFilter(c.filter, LOCATION);
      assert.deepEqual(
        ALL.filter((item) => matches(filter, item)).map((item) => item.id),
        c.expect,
      );
    });
  }

  const refused: Array<{ filter: string; message: RegExp }> = [
    { filter: '', message: /\$filter is empty/ },
    { filter: "displayName eq 'a' and", message: /ends where a condition was expected/ },
    {
      filter: "displayName eq 'a' 'b'",
      message: /expected 'and', 'or' or the end but found the string 'b' \(at position 20\)/,
    },
    { filter: "(displayName eq 'a'", message: /ends where '\)' was expected/ },
    { filter: "displayName has 'a'", message: /the operator 'has' is not supported/ },
    { filter: "displayName eq 'a' xor id eq 'b'", message: /expected 'and', 'or' or the end but found 'xor'/ },
    { filter: "countriesAndRegions/any(c:c eq 'PT')", message: /lambda operators \(any, all\)/ },
    {
      filter: "contains(displayName,'a')",
      message: /the function 'contains' is not supported; supported: startswith, isof/,
    },
    { filter: "frobnicate(displayName,'a')", message: /'frobnicate' is not a function/ },
    { filter: "startswith(isTrusted,'t')", message: /startswith works on text properties/ },
    {
      filter: "isof('microsoft.graph.user')",
      message: /'microsoft\.graph\.user' is not a type of microsoft\.graph\.namedLocation/,
    },
    { filter: 'isTrusted eq 1', message: /'isTrusted' is compared with true or false, not '1'/ },
    { filter: 'createdDateTime ge null', message: /'ge' cannot compare with null/ },
    { filter: 'createdDateTime ge 2024-13-01T00:00:00Z', message: /a date and time such as/ },
    { filter: "displayName eq 'a", message: /the string starting at position 16 is not closed/ },
    { filter: `${'('.repeat(40)}id eq 'a'${')'.repeat(40)}`, message: /parentheses nest deeper than 32/ },
    { filter: `id eq '${'x'.repeat(2001)}'`, message: /at most 2000 are accepted/ },
  ];
  for (const c of refused) {
    test(`refused: ${c.filter.slice(0, 60) || '(empty)'}`, () => {
      assert.throws(
        () => parseFilter(c.filter, LOCATION),
        (error: Error) => error instanceof ODataError && error.statusCode === 400 && c.message.test(error.message),
      );
    });
  }
});

describe('query options', () => {
  test('defaults, and what is echoed into the next link', () => {
    const query = parseListQuery({ $top: '2', $select: 'displayName', other: 'ignored' }, LOCATION);
    assert.equal(query.top, 2);
    assert.deepEqual(query.select, ['displayName']);
    assert.deepEqual(query.echo, { $top: '2', $select: 'displayName' });
    assert.equal(parseListQuery({}, LOCATION).top, DEFAULT_PAGE_SIZE);
  });

  for (const [name, query, message] of [
    ['a repeated option', { $top: ['1', '2'] }, /given twice/],
    ['an unknown option', { $frobnicate: '1' }, /'\$frobnicate' is not an OData query option/],
    ['$count', { $count: 'true' }, /'\$count' is not supported here/],
    ['$top too large', { $top: '1000' }, /from 1 to 999/],
    ['$top not a number', { $top: 'ten' }, /but it is 'ten'/],
    ['an empty $select entry', { $select: 'displayName,' }, /comma-separated list/],
  ] as const) {
    test(`refused: ${name}`, () => {
      assert.throws(() => parseListQuery(query, LOCATION), message);
    });
  }
});

describe('pages', () => {
  test('pages of two follow each other to the end', () => {
    const first = pageOf(ALL, { top: 2 });
    assert.deepEqual(
      first.items.map((i) => i.id),
      ['hq', 'ob'],
    );
    assert.ok(first.next);
    const token = parseListQuery({ $skiptoken: first.next }, LOCATION).skipToken;
    const second = pageOf(ALL, { top: 2, skipToken: token });
    assert.deepEqual(
      second.items.map((i) => i.id),
      ['bc'],
    );
    assert.equal(second.next, undefined);
  });

  test("when the previous page's last item is gone, the next page starts after its creation time", () => {
    const token = { id: 'gone', created: Date.parse('2024-01-15T00:00:00Z') };
    assert.deepEqual(
      pageOf(ALL, { top: 10, skipToken: token }).items.map((i) => i.id),
      ['ob', 'bc'],
    );
  });

  test('a filter applies before paging', () => {
    const page = pageOf(ALL, { top: 1, filter: parseFilter("isof('microsoft.graph.ipNamedLocation')", LOCATION) });
    assert.deepEqual(
      page.items.map((i) => i.id),
      ['hq'],
    );
    assert.ok(page.next);
  });

  test('a skip token that is not ours is refused', () => {
    assert.throws(() => parseListQuery({ $skiptoken: 'bm90IGpzb24' }, LOCATION), /\$skiptoken is not valid/);
    const wrongShape = Buffer.from(JSON.stringify({ id: 'hq' })).toString('base64url');
    assert.throws(() => parseListQuery({ $skiptoken: wrongShape }, LOCATION), /\$skiptoken is not valid/);
    assert.ok(parseListQuery({ $skiptoken: encodeSkipToken({ id: 'hq', created: null }) }, LOCATION).skipToken);
  });
});

describe('PATCH merge', () => {
  const stored = {
    id: 'p1',
    displayName: 'Block legacy authentication',
    state: 'disabled',
    createdDateTime: '2024-01-01T00:00:00.000Z',
    conditions: {
      users: { includeUsers: ['All'], excludeUsers: ['break-glass'] },
      clientAppTypes: ['exchangeActiveSync', 'other'],
    },
    grantControls: { operator: 'OR', builtInControls: ['block'] },
  };

  const cases: Array<{ name: string; patch: Record<string, unknown>; expect: Record<string, unknown> }> = [
    { name: 'a primitive', patch: { state: 'enabled' }, expect: { ...stored, state: 'enabled' } },
    {
      name: 'inside a complex value, the rest kept',
      patch: { conditions: { users: { excludeUsers: [] } } },
      expect: { ...stored, conditions: { ...stored.conditions, users: { includeUsers: ['All'], excludeUsers: [] } } },
    },
    {
      name: 'a collection is replaced, not merged',
      patch: { conditions: { clientAppTypes: ['other'] } },
      expect: { ...stored, conditions: { ...stored.conditions, clientAppTypes: ['other'] } },
    },
    { name: 'null clears', patch: { grantControls: null }, expect: { ...stored, grantControls: null } },
    {
      name: 'read-only properties and annotations are ignored',
      patch: { id: 'other', CreatedDateTime: 'x', '@odata.context': 'y', modifiedDateTime: 'z' },
      expect: stored,
    },
    {
      name: 'PascalCase names update the stored ones',
      patch: { State: 'enabled' },
      expect: { ...stored, state: 'enabled' },
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      assert.deepEqual(mergePatch(stored, c.patch), c.expect);
    });
  }
});

test('an item without a date is in no range', () => {
  for (const op of ['ge', 'le', 'gt', 'lt']) {
    assert.equal(matches(parseFilter(`createdDateTime ${op} 2024-01-01T00:00:00Z`, LOCATION), { id: 'x' }), false, op);
  }
});

test('date literals', () => {
  assert.equal(parseDateLiteral('2023-01-10T09:00:12.4417263Z'), Date.parse('2023-01-10T09:00:12.441Z'));
  assert.equal(parseDateLiteral('2023-01-10T09:00Z'), Date.parse('2023-01-10T09:00:00Z'));
  assert.equal(parseDateLiteral('2023-01-10'), undefined);
  assert.equal(parseDateLiteral('2023-02-30T00:00:00Z'), undefined);
});
