// Conditional Access session controls on a session: sign-in frequency (hours, days, every time, secondary
// authentication only) and the persistent-browser mode.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  EVERY_TIME_GRACE_MS,
  persistentBrowser,
  reauthenticationRequired,
  type SignInFrequency,
  signInFrequencyMinutes,
} from './controls.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const T0 = Date.UTC(2026, 2, 2, 9, 0, 0);
/** Alice signed in with a password at T0 and did MFA an hour later. */
const alice = { createdAt: T0, mfaAt: T0 + HOUR };
/** Bob signed in with a password only. */
const bob = { createdAt: T0, mfaAt: null };

const cases: Array<{
  name: string;
  session: { createdAt: number; mfaAt: number | null };
  frequency: SignInFrequency;
  at: number;
  required: boolean;
}> = [
  { name: 'no control: never', session: alice, frequency: undefined, at: T0 + 100 * HOUR, required: false },
  {
    name: 'a disabled control: never',
    session: alice,
    frequency: { isEnabled: false, type: 'hours', value: 1 },
    at: T0 + 100 * HOUR,
    required: false,
  },
  {
    name: 'every 4 hours, 1 ms before',
    session: alice,
    frequency: { isEnabled: true, type: 'hours', value: 4 },
    at: T0 + 4 * HOUR - 1,
    required: false,
  },
  {
    name: 'every 4 hours, at 4 hours',
    session: alice,
    frequency: { isEnabled: true, type: 'hours', value: 4, frequencyInterval: 'timeBased' },
    at: T0 + 4 * HOUR,
    required: true,
  },
  {
    name: 'every day, after 23 hours',
    session: alice,
    frequency: { isEnabled: true, type: 'days', value: 1 },
    at: T0 + 23 * HOUR,
    required: false,
  },
  {
    name: 'every day, after 24 hours',
    session: alice,
    frequency: { isEnabled: true, type: 'days', value: 1 },
    at: T0 + 24 * HOUR,
    required: true,
  },
  {
    name: 'every time, within the five-minute grace',
    session: alice,
    frequency: { isEnabled: true, frequencyInterval: 'everyTime' },
    at: T0 + EVERY_TIME_GRACE_MS - 1,
    required: false,
  },
  {
    name: 'every time, after the grace',
    session: alice,
    frequency: { isEnabled: true, frequencyInterval: 'everyTime' },
    at: T0 + EVERY_TIME_GRACE_MS,
    required: true,
  },
  {
    name: 'secondary authentication counts from the last MFA (alice: an hour after sign-in)',
    session: alice,
    frequency: { isEnabled: true, type: 'hours', value: 2, authenticationType: 'secondaryAuthentication' },
    at: T0 + 2.5 * HOUR,
    required: false,
  },
  {
    name: 'secondary authentication for bob, who never did MFA: required',
    session: bob,
    frequency: { isEnabled: true, type: 'hours', value: 2, authenticationType: 'secondaryAuthentication' },
    at: T0 + MINUTE,
    required: true,
  },
  { name: 'merged decision minutes: 60, after 59', session: bob, frequency: 60, at: T0 + 59 * MINUTE, required: false },
  { name: 'merged decision minutes: 60, after 60', session: bob, frequency: 60, at: T0 + HOUR, required: true },
  { name: 'merged decision minutes: 0 is every time', session: bob, frequency: 0, at: T0 + 6 * MINUTE, required: true },
];

for (const c of cases) {
  test(`sign-in frequency: ${c.name}`, () => {
    assert.equal(reauthenticationRequired(c.session, c.frequency, c.at), c.required);
  });
}

test('sign-in frequency in minutes, from either form', () => {
  assert.equal(signInFrequencyMinutes({ isEnabled: true, type: 'hours', value: 12 }), 720);
  assert.equal(signInFrequencyMinutes({ isEnabled: true, type: 'days', value: 7 }), 10_080);
  assert.equal(signInFrequencyMinutes({ isEnabled: true, frequencyInterval: 'everyTime' }), 0);
  assert.equal(signInFrequencyMinutes({ isEnabled: true, type: 'hours', value: null }), undefined);
  assert.equal(signInFrequencyMinutes(null), undefined);
  assert.equal(signInFrequencyMinutes(90), 90);
  assert.throws(() => signInFrequencyMinutes(-1), /number of minutes/);
});

test('persistent browser: always and never override the user’s choice; without the control the user decides', () => {
  assert.equal(persistentBrowser('always', false), true);
  assert.equal(persistentBrowser('never', true), false);
  assert.equal(persistentBrowser(undefined, true), true);
  assert.equal(persistentBrowser(undefined), false);
});
