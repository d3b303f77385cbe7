// End times and the warning, from a session, its last activity and the settings: pure arithmetic, at the edges.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { endReasonAt, sessionStatusBody, sessionTimes } from './limits.ts';
import type { SessionRecord } from './repository.ts';
import { DEFAULT_SESSION_SETTINGS } from './settings.ts';

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 2, 2, 9, 0, 0);

const alice: SessionRecord = {
  handle: 'h',
  userId: 'alice',
  createdAt: T0,
  amr: ['pwd'],
  mfaAt: null,
  lastActivityAt: T0,
  latestEndAt: T0 + 1440 * MINUTE,
  persistent: false,
  endedAt: null,
  endReason: null,
};

const cases: Array<{
  name: string;
  session?: Partial<SessionRecord>;
  settings?: Partial<typeof DEFAULT_SESSION_SETTINGS>;
  lastActivityAt?: number;
  now: number;
  expected: { expiresAt: number; idleExpiresAt?: number; warnAt: number; endsBy: string; ended?: string };
}> = [
  {
    name: 'defaults: absolute end a day after sign-in, warning 20 minutes before, no idle end',
    now: T0,
    expected: { expiresAt: T0 + 1440 * MINUTE, warnAt: T0 + 1420 * MINUTE, endsBy: 'absolute' },
  },
  {
    name: 'one millisecond before the absolute end: live',
    now: T0 + 1440 * MINUTE - 1,
    expected: { expiresAt: T0 + 1440 * MINUTE, warnAt: T0 + 1420 * MINUTE, endsBy: 'absolute' },
  },
  {
    name: 'at the absolute end: ended',
    now: T0 + 1440 * MINUTE,
    expected: { expiresAt: T0 + 1440 * MINUTE, warnAt: T0 + 1420 * MINUTE, endsBy: 'absolute', ended: 'absolute' },
  },
  {
    name: 'a shorter current maximum wins over the stored latest end',
    settings: { maximumSessionLengthMinutes: 60 },
    now: T0 + 60 * MINUTE,
    expected: { expiresAt: T0 + 60 * MINUTE, warnAt: T0 + 40 * MINUTE, endsBy: 'absolute', ended: 'absolute' },
  },
  {
    name: 'a longer current maximum does not extend the stored latest end',
    session: { latestEndAt: T0 + 60 * MINUTE },
    now: T0,
    expected: { expiresAt: T0 + 60 * MINUTE, warnAt: T0 + 40 * MINUTE, endsBy: 'absolute' },
  },
  {
    name: 'inactivity: the idle end counts from the last activity and comes first',
    settings: { inactivityTimeoutMinutes: 30 },
    lastActivityAt: T0 + 100 * MINUTE,
    now: T0 + 129 * MINUTE,
    expected: {
      expiresAt: T0 + 1440 * MINUTE,
      idleExpiresAt: T0 + 130 * MINUTE,
      warnAt: T0 + 110 * MINUTE,
      endsBy: 'inactivity',
    },
  },
  {
    name: 'inactivity: ended exactly at the idle end',
    settings: { inactivityTimeoutMinutes: 30 },
    now: T0 + 30 * MINUTE,
    expected: {
      expiresAt: T0 + 1440 * MINUTE,
      idleExpiresAt: T0 + 30 * MINUTE,
      warnAt: T0 + 10 * MINUTE,
      endsBy: 'inactivity',
      ended: 'inactivity',
    },
  },
  {
    name: 'both ends passed: the earlier one is the reason',
    settings: { maximumSessionLengthMinutes: 60, inactivityTimeoutMinutes: 30 },
    lastActivityAt: T0 + 50 * MINUTE,
    now: T0 + 90 * MINUTE,
    expected: {
      expiresAt: T0 + 60 * MINUTE,
      idleExpiresAt: T0 + 80 * MINUTE,
      warnAt: T0 + 40 * MINUTE,
      endsBy: 'absolute',
      ended: 'absolute',
    },
  },
  {
    name: 'a warning longer than the idle timeout gives a warnAt before the last activity: warn now',
    settings: { inactivityTimeoutMinutes: 5 },
    now: T0,
    expected: {
      expiresAt: T0 + 1440 * MINUTE,
      idleExpiresAt: T0 + 5 * MINUTE,
      warnAt: T0 - 15 * MINUTE,
      endsBy: 'inactivity',
    },
  },
  {
    name: 'a revoked session is ended whatever its times',
    session: { endedAt: T0 + MINUTE, endReason: 'revoked' },
    now: T0 + 2 * MINUTE,
    expected: { expiresAt: T0 + 1440 * MINUTE, warnAt: T0 + 1420 * MINUTE, endsBy: 'absolute', ended: 'revoked' },
  },
];

for (const c of cases) {
  test(c.name, () => {
    const session = { ...alice, ...c.session };
    const times = sessionTimes(session, c.lastActivityAt ?? session.lastActivityAt, {
      ...DEFAULT_SESSION_SETTINGS,
      ...c.settings,
    });
    const { ended, ...expectedTimes } = c.expected;
    assert.deepEqual(times, expectedTimes);
    assert.equal(endReasonAt(session, times, c.now), ended);
  });
}

test('the status body carries ISO times, idleExpiresAt only with an inactivity timeout', () => {
  const withIdle = sessionTimes(alice, T0, { ...DEFAULT_SESSION_SETTINGS, inactivityTimeoutMinutes: 30 });
  assert.deepEqual(sessionStatusBody(withIdle, T0), {
    expiresAt: '2026-03-03T09:00:00.000Z',
    idleExpiresAt: '2026-03-02T09:30:00.000Z',
    warnAt: '2026-03-02T09:10:00.000Z',
    endsBy: 'inactivity',
    now: '2026-03-02T09:00:00.000Z',
  });
  const body = sessionStatusBody(sessionTimes(alice, T0, DEFAULT_SESSION_SETTINGS), T0);
  assert.equal('idleExpiresAt' in body, false);
});
