// Tests for loading files and directories: what is found, in what order, and how each file is accounted for.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { loadExports } from './load.ts';

const root = mkdtempSync(join(tmpdir(), 'portcullis-load-'));
after(() => rmSync(root, { recursive: true, force: true }));

function write(path: string, content: unknown): string {
  const full = join(root, path);
  mkdirSync(join(full, '..'), { recursive: true });
  writeFileSync(full, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return full;
}

const hq = {
  '@odata.type': '#microsoft.graph.ipNamedLocation',
  id: 'hq',
  displayName: 'Headquarters',
  isTrusted: true,
  ipRanges: [{ '@odata.type': '#microsoft.graph.iPv4CidrRange', cidrAddress: '203.0.113.0/24' }],
};
const blockOutside = {
  id: 'p-block',
  displayName: 'Block outside HQ',
  state: 'enabled',
  conditions: {
    users: { includeUsers: ['All'] },
    applications: { includeApplications: ['All'] },
    locations: { includeLocations: ['All'], excludeLocations: ['hq'] },
  },
  grantControls: { operator: 'OR', builtInControls: ['block'] },
};
const page = (value: unknown[], extra: Record<string, unknown> = {}) => ({
  '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#identity/conditionalAccess/policies',
  ...extra,
  value,
});

describe('loadExports', () => {
  test('a directory: *.json files in name order, recursively, hidden entries and other files skipped', () => {
    const dir = join(root, 'tree');
    write('tree/b-policies.json', page([blockOutside]));
    write('tree/a/locations.JSON', [hq]);
    write('tree/notes.txt', 'not json');
    write('tree/.hidden/skip.json', [hq]);
    const result = loadExports([dir], 'auto');
    assert.deepEqual(
      result.files.map((f) => f.file),
      [join(dir, 'a/locations.JSON'), join(dir, 'b-policies.json')],
    );
    assert.deepEqual(
      [result.locations.map((l) => l.id), result.policies.map((p) => p.id), result.problems],
      [['hq'], ['p-block'], []],
    );
    assert.equal(result.sourceFile(result.policies[0]), join(dir, 'b-policies.json'));
  });

  test('a file named on the command line is read whatever its name', () => {
    const file = write('export.txt', [hq]);
    assert.deepEqual(loadExports([file], 'locations').files, [{ file, imported: 1, skipped: 0 }]);
  });

  test('a path that does not exist is a problem naming it; the other paths still load', () => {
    const missing = join(root, 'nope.json');
    const good = write('good.json', [hq]);
    const result = loadExports([missing, good], 'auto');
    assert.deepEqual(result.problems, [{ file: missing, message: 'cannot read: no such file or directory' }]);
    assert.equal(result.locations.length, 1);
  });

  test('a malformed file is reported with line and column, and skipped', () => {
    const bad = write('bad/bad.json', '[\n  {"id": "x",}\n]');
    const result = loadExports([bad], 'auto');
    assert.deepEqual(result.problems, [
      {
        file: bad,
        message:
          "line 2, column 14: Unexpected token '}': expected a property name in double quotes (a trailing comma?)",
      },
    ]);
    assert.deepEqual(result.files, [{ file: bad, imported: 0, skipped: 0, reason: 'not valid JSON' }]);
  });

  test("'auto' sorts a mixed file into locations and policies", () => {
    const file = write('mixed.json', [blockOutside, hq]);
    const result = loadExports([file], 'auto');
    assert.deepEqual([result.locations.length, result.policies.length], [1, 1]);
  });

  test('an object of the other kind is a problem when the kind is given', () => {
    const file = write('wrong.json', [hq, blockOutside]);
    const result = loadExports([file], 'locations');
    assert.deepEqual(result.problems, [
      { file, object: 'object #2', message: 'this is a Conditional Access policy, but a named location was expected' },
    ]);
    assert.deepEqual(result.files, [{ file, imported: 1, skipped: 1, reason: '1 of 2 objects had problems' }]);
  });

  test("an object that is neither, in 'auto'", () => {
    const file = write('neither.json', [{ id: 'x', displayName: 'What am I' }]);
    assert.deepEqual(loadExports([file], 'auto').problems, [
      {
        file,
        object: 'object #1',
        message:
          'neither a named location nor a Conditional Access policy: it has no @odata.type, conditions, ipRanges or ' +
          'countriesAndRegions',
      },
    ]);
  });

  test('an object with problems is skipped and counted; the rest of the file loads', () => {
    const file = write('partly.json', page([blockOutside, { ...blockOutside, id: 'p-2', state: 'sometimes' }]));
    const result = loadExports([file], 'policies');
    assert.deepEqual(
      result.policies.map((p) => p.id),
      ['p-block'],
    );
    assert.equal(result.problems.length, 1);
    assert.equal(result.problems[0].object, "policy 'Block outside HQ' (id p-2)");
    assert.deepEqual(result.files, [{ file, imported: 1, skipped: 1, reason: '1 of 2 objects had problems' }]);
  });

  test('one page of a longer list warns that objects are missing', () => {
    const file = write(
      'page1.json',
      page([blockOutside], { '@odata.nextLink': 'https://graph.microsoft.com/…&$skiptoken=x' }),
    );
    assert.deepEqual(loadExports([file], 'policies').warnings, [
      {
        file,
        message: 'the file is one page of a longer list (@odata.nextLink is set): objects on later pages are missing',
      },
    ]);
  });

  test('an empty page says the file holds nothing', () => {
    const file = write('empty-page.json', page([]));
    assert.deepEqual(loadExports([file], 'policies').files, [
      { file, imported: 0, skipped: 0, reason: 'the file holds no objects' },
    ]);
  });

  test('a file named twice, directly and through its directory, is read once', () => {
    const file = write('twice/one.json', [hq]);
    const result = loadExports([file, join(root, 'twice')], 'auto');
    assert.equal(result.files.length, 1);
    assert.equal(result.locations.length, 1);
  });

  test('problems of objects carry the file and the object', () => {
    const file = write('placeholder.json', [{ ...hq, id: '<Placeholder>' }]);
    assert.deepEqual(loadExports([file], 'auto').problems, [
      {
        file,
        object: "location 'Headquarters' (id <Placeholder>)",
        field: 'id',
        message: "'<Placeholder>' is a placeholder, not an id",
      },
    ]);
  });
});
