// The chain walk on records in memory: an intact chain passes; each kind of tampering is found at the record it
// touched — changed, re-hashed, removed (middle, end, all), inserted (middle, end), reordered, a column edited.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildDirectoryAudit } from './directory-audit.ts';
import {
  type ChainHead,
  type ChainRecord,
  ChainWalk,
  canonicalJson,
  columnsOf,
  GENESIS_HASH,
  recordHash,
} from './directory-audit-chain.ts';

const TENANT = 'c0000000-0000-4000-8000-000000000001';
const T0 = Date.UTC(2026, 2, 2, 9, 0, 0);

function body(n: number): string {
  return canonicalJson(
    buildDirectoryAudit(
      { kind: 'user', id: 'a11ce', userPrincipalName: 'alice@contoso.example' },
      {
        category: 'Policy',
        activityDisplayName: 'Update named location',
        operationType: 'Update',
        targets: [
          {
            id: `loc-${n}`,
            type: 'NamedLocation',
            modifiedProperties: [{ displayName: 'isTrusted', oldValue: false, newValue: true }],
          },
        ],
      },
      T0 + n * 1000,
      `r-${n}`,
    ),
  );
}

/** A correct chain of `count` records, linked from `previous`, starting at `first`. */
function chain(count: number, first = 1, previous = GENESIS_HASH, tenant = TENANT): ChainRecord[] {
  const out: ChainRecord[] = [];
  for (let sequence = first; sequence < first + count; sequence++) {
    out.push(seal(sequence, previous, body(sequence), tenant));
    previous = out[out.length - 1].hash;
  }
  return out;
}

function seal(sequence: number, previousHash: string, text: string, tenant = TENANT): ChainRecord {
  const parsed = JSON.parse(text) as Record<string, unknown>;
  return {
    sequence,
    id: String(parsed.id),
    previousHash,
    hash: recordHash(tenant, sequence, previousHash, text),
    body: text,
    columns: columnsOf(parsed),
  };
}

function headOf(records: readonly ChainRecord[]): ChainHead | undefined {
  const last = records[records.length - 1];
  return last && { sequence: last.sequence, hash: last.hash };
}

function walk(records: readonly ChainRecord[], head: ChainHead | undefined, tenant = TENANT) {
  const w = new ChainWalk(tenant, head);
  for (const record of records) if (!w.push(record)) break;
  return w.finish();
}

test('canonical JSON sorts keys at every depth and drops undefined', () => {
  assert.equal(
    canonicalJson({ b: 1, a: { d: [2, { z: 1, y: undefined, x: 0 }], c: null } }),
    '{"a":{"c":null,"d":[2,{"x":0,"z":1}]},"b":1}',
  );
});

test('an intact chain, and an empty one, pass', () => {
  const records = chain(5);
  assert.deepEqual(walk(records, headOf(records)), { ok: true, count: 5, head: headOf(records) });
  assert.deepEqual(walk([], undefined), { ok: true, count: 0, head: undefined });
});

interface Case {
  readonly name: string;
  /** Tampers with a correct chain of 5 and its head. */
  readonly tamper: (records: ChainRecord[], head: ChainHead) => { records: ChainRecord[]; head: ChainHead | undefined };
  readonly kind: string;
  readonly sequence: number;
  readonly message: RegExp;
}

const cases: Case[] = [
  {
    name: "record 3's JSON changed",
    tamper: (r, head) => {
      r[2] = { ...r[2], body: r[2].body.replace('"isTrusted"', '"displayName"') };
      return { records: r, head };
    },
    kind: 'changed',
    sequence: 3,
    message: /record #3 \(id r-3\) was changed/,
  },
  {
    name: 'record 3 changed and re-hashed: record 4 no longer follows it',
    tamper: (r, head) => {
      r[2] = seal(3, r[2].previousHash, r[2].body.replace('true', 'false'));
      return { records: r, head };
    },
    kind: 'inserted',
    sequence: 4,
    message: /record #4 \(id r-4\) does not follow record #3/,
  },
  {
    name: "record 2's category column edited (hiding it from filters)",
    tamper: (r, head) => {
      r[1] = { ...r[1], columns: { ...r[1].columns, category: 'UserManagement' } };
      return { records: r, head };
    },
    kind: 'changed',
    sequence: 2,
    message: /record #2 \(id r-2\) was changed: its category column/,
  },
  {
    name: 'record 3 removed',
    tamper: (r, head) => ({ records: [r[0], r[1], r[3], r[4]], head }),
    kind: 'removed',
    sequence: 3,
    message: /record #3 was removed \(the chain goes on at record #4 \(id r-4\)\)/,
  },
  {
    name: 'records 2–3 removed and the rest renumbered',
    tamper: (r, head) => ({
      records: [r[0], { ...r[3], sequence: 2 }, { ...r[4], sequence: 3 }],
      head: { sequence: 3, hash: head.hash },
    }),
    kind: 'changed',
    sequence: 2,
    message: /record #2 \(id r-4\) was changed \(or renumbered\)/,
  },
  {
    name: 'the last record removed',
    tamper: (r, head) => ({ records: r.slice(0, 4), head }),
    kind: 'removed',
    sequence: 5,
    message: /record #5, the last one, was removed/,
  },
  {
    name: 'every record removed, the head kept',
    tamper: (_r, head) => ({ records: [], head }),
    kind: 'removed',
    sequence: 1,
    message: /records #1–#5, the last ones, were removed/,
  },
  {
    name: 'a record appended behind the head’s back',
    tamper: (r, head) => ({ records: [...r, ...chain(1, 6, r[4].hash)], head }),
    kind: 'inserted',
    sequence: 6,
    message: /record #6 \(id r-6\) was added after the last record the chain head knows \(#5\)/,
  },
  {
    name: 'a forged record inserted as #3 and the rest renumbered',
    tamper: (r, head) => {
      const forged = seal(3, r[1].hash, body(99));
      const renumbered = r.slice(2).map((x) => ({ ...x, sequence: x.sequence + 1 }));
      return { records: [r[0], r[1], forged, ...renumbered], head: { sequence: 6, hash: head.hash } };
    },
    kind: 'changed',
    sequence: 4,
    message: /record #4 \(id r-3\) was changed \(or renumbered\)/,
  },
  {
    name: 'records 2 and 3 swapped',
    tamper: (r, head) => ({
      records: [r[0], { ...r[2], sequence: 2 }, { ...r[1], sequence: 3 }, r[3], r[4]],
      head,
    }),
    kind: 'changed',
    sequence: 2,
    message: /record #2 \(id r-3\)/,
  },
  {
    name: "the last record's hash no longer the head's",
    tamper: (r, head) => ({ records: r, head: { ...head, hash: GENESIS_HASH } }),
    kind: 'changed',
    sequence: 5,
    message: /record #5 \(id r-5\), the last one, does not match the chain head/,
  },
  {
    name: 'the chain head deleted',
    tamper: (r) => ({ records: r, head: undefined }),
    kind: 'broken',
    sequence: 1,
    message: /the chain head is missing/,
  },
  {
    name: "another tenant's chain copied in",
    tamper: (_r, head) => ({ records: chain(5, 1, GENESIS_HASH, 'f0000000-0000-4000-8000-000000000002'), head }),
    kind: 'changed',
    sequence: 1,
    message: /record #1 \(id r-1\) was changed/,
  },
];

for (const c of cases) {
  test(`tampering is found where it happened: ${c.name}`, () => {
    const records = chain(5);
    const tampered = c.tamper(records, headOf(records) as ChainHead);
    const result = walk(tampered.records, tampered.head);
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.equal(result.problem.kind, c.kind);
    assert.equal(result.problem.sequence, c.sequence);
    assert.match(result.problem.message, c.message);
  });
}
