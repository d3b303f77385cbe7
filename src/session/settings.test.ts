// Validation of the tenant session settings: every problem reported at once, each naming the field, the allowed
// range and the value; partial updates merged over the current values; cross-field rules on the merged result.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  DEFAULT_SESSION_SETTINGS,
  mustRecheckLocation,
  parseStoredSessionSettings,
  type SessionSettings,
  SessionSettingsError,
  validateSessionSettings,
} from './settings.ts';

const TENANT = '00000000-0000-4000-8000-000000000001';
const strict: SessionSettings = {
  maximumSessionLengthMinutes: 480,
  warningBeforeExpiryMinutes: 10,
  inactivityTimeoutMinutes: 30,
  continuousLocationEnforcement: false,
};
const OFF = { continuousLocationEnforcement: false } as const;

const accepted: Array<{ name: string; input: unknown; current?: SessionSettings; expected: SessionSettings }> = [
  { name: 'an empty update keeps the defaults', input: {}, expected: DEFAULT_SESSION_SETTINGS },
  {
    name: 'the smallest values allowed',
    input: { maximumSessionLengthMinutes: 60, warningBeforeExpiryMinutes: 1, inactivityTimeoutMinutes: 5 },
    expected: { maximumSessionLengthMinutes: 60, warningBeforeExpiryMinutes: 1, inactivityTimeoutMinutes: 5, ...OFF },
  },
  {
    name: 'the largest values allowed: warning and inactivity one minute under the maximum',
    input: { maximumSessionLengthMinutes: 1440, warningBeforeExpiryMinutes: 1439, inactivityTimeoutMinutes: 1439 },
    expected: {
      maximumSessionLengthMinutes: 1440,
      warningBeforeExpiryMinutes: 1439,
      inactivityTimeoutMinutes: 1439,
      ...OFF,
    },
  },
  {
    name: 'a partial update changes only what it names',
    input: { inactivityTimeoutMinutes: 45 },
    current: strict,
    expected: { ...strict, inactivityTimeoutMinutes: 45 },
  },
  {
    name: 'null turns the inactivity timeout off',
    input: { inactivityTimeoutMinutes: null },
    current: strict,
    expected: { ...strict, inactivityTimeoutMinutes: null },
  },
  {
    name: 'continuous location enforcement is off by default',
    input: {},
    expected: { ...DEFAULT_SESSION_SETTINGS, continuousLocationEnforcement: false },
  },
  {
    name: 'continuous location enforcement switched on changes only that',
    input: { continuousLocationEnforcement: true },
    current: strict,
    expected: { ...strict, continuousLocationEnforcement: true },
  },
  {
    name: 'continuous location enforcement stays on when another field changes',
    input: { inactivityTimeoutMinutes: null },
    current: { ...strict, continuousLocationEnforcement: true },
    expected: { ...strict, inactivityTimeoutMinutes: null, continuousLocationEnforcement: true },
  },
  {
    name: 'continuous location enforcement switched off again',
    input: { continuousLocationEnforcement: false },
    current: { ...strict, continuousLocationEnforcement: true },
    expected: strict,
  },
];

for (const c of accepted) {
  test(`accepted: ${c.name}`, () => {
    const result = validateSessionSettings(c.input, c.current);
    assert.ok(result.ok, result.ok ? '' : result.problems.join('; '));
    assert.deepEqual(result.settings, c.expected);
    assert.ok(Object.isFrozen(result.settings));
  });
}

const rejected: Array<{ name: string; input: unknown; current?: SessionSettings; problems: string[] }> = [
  {
    name: 'a maximum below the range',
    input: { maximumSessionLengthMinutes: 30 },
    problems: ['maximumSessionLengthMinutes must be a whole number from 60 to 1440, but it is 30'],
  },
  {
    name: 'a maximum given as a string',
    input: { maximumSessionLengthMinutes: '1441' },
    problems: ['maximumSessionLengthMinutes must be a whole number from 60 to 1440, but it is "1441"'],
  },
  {
    name: 'a fractional maximum',
    input: { maximumSessionLengthMinutes: 90.5 },
    problems: ['maximumSessionLengthMinutes must be a whole number from 60 to 1440, but it is 90.5'],
  },
  {
    name: 'a null maximum (only the inactivity timeout can be off)',
    input: { maximumSessionLengthMinutes: null },
    problems: ['maximumSessionLengthMinutes must be a whole number from 60 to 1440, but it is null'],
  },
  {
    name: 'a zero warning',
    input: { warningBeforeExpiryMinutes: 0 },
    problems: [
      'warningBeforeExpiryMinutes must be a whole number from 1 to 1439 (less than maximumSessionLengthMinutes, 1440), but it is 0',
    ],
  },
  {
    name: 'an inactivity timeout under five minutes',
    input: { inactivityTimeoutMinutes: 2 },
    problems: [
      'inactivityTimeoutMinutes must be null (off) or a whole number from 5 to 1439 (less than maximumSessionLengthMinutes, 1440), but it is 2',
    ],
  },
  {
    name: 'an inactivity timeout equal to the maximum length',
    input: { maximumSessionLengthMinutes: 60, inactivityTimeoutMinutes: 60 },
    problems: [
      'inactivityTimeoutMinutes must be null (off) or a whole number from 5 to 59 (less than maximumSessionLengthMinutes, 60), but it is 60',
    ],
  },
  {
    name: 'shortening the maximum below the current warning and timeout names both, as current values',
    input: { maximumSessionLengthMinutes: 60 },
    current: {
      maximumSessionLengthMinutes: 1440,
      warningBeforeExpiryMinutes: 90,
      inactivityTimeoutMinutes: 120,
      ...OFF,
    },
    problems: [
      'warningBeforeExpiryMinutes must be a whole number from 1 to 59 (less than maximumSessionLengthMinutes, 60), but it is 90 (its current value)',
      'inactivityTimeoutMinutes must be null (off) or a whole number from 5 to 59 (less than maximumSessionLengthMinutes, 60), but it is 120 (its current value)',
    ],
  },
  {
    name: 'every problem at once, and an unknown field',
    input: {
      maximumSessionLengthMinutes: 10,
      warningBeforeExpiryMinutes: -1,
      inactivityTimeoutMinutes: 'off',
      maximumSessionLength: 60,
    },
    problems: [
      "'maximumSessionLength' is not a session setting (the settings are maximumSessionLengthMinutes, warningBeforeExpiryMinutes, inactivityTimeoutMinutes, continuousLocationEnforcement)",
      'maximumSessionLengthMinutes must be a whole number from 60 to 1440, but it is 10',
      'warningBeforeExpiryMinutes must be a whole number from 1 to 1439, but it is -1',
      'inactivityTimeoutMinutes must be null (off) or a whole number from 5 to 1439, but it is "off"',
    ],
  },
  {
    name: 'continuous location enforcement given as a string',
    input: { continuousLocationEnforcement: 'true' },
    problems: ['continuousLocationEnforcement must be true or false, but it is "true"'],
  },
  {
    name: 'continuous location enforcement given as a number',
    input: { continuousLocationEnforcement: 1 },
    problems: ['continuousLocationEnforcement must be true or false, but it is 1'],
  },
  {
    name: 'continuous location enforcement given as null',
    input: { continuousLocationEnforcement: null },
    problems: ['continuousLocationEnforcement must be true or false, but it is null'],
  },
  { name: 'not an object', input: [60], problems: ['session settings must be a JSON object, but it is an array'] },
  { name: 'null', input: null, problems: ['session settings must be a JSON object, but it is null'] },
];

for (const c of rejected) {
  test(`rejected: ${c.name}`, () => {
    const result = validateSessionSettings(c.input, c.current);
    assert.equal(result.ok, false);
    assert.deepEqual(!result.ok && result.problems, c.problems);
  });
}

test('stored settings from before continuous location enforcement existed read it as off', () => {
  const { continuousLocationEnforcement: _, ...older } = { ...strict, continuousLocationEnforcement: true };
  assert.deepEqual(parseStoredSessionSettings(older, TENANT), { ...older, continuousLocationEnforcement: false });
  assert.deepEqual(parseStoredSessionSettings({ ...older, continuousLocationEnforcement: true }, TENANT), {
    ...older,
    continuousLocationEnforcement: true,
  });
});

test('a warning not shorter than the inactivity timeout is allowed, with a warning for the admin', () => {
  const result = validateSessionSettings({ inactivityTimeoutMinutes: 5 });
  assert.ok(result.ok);
  assert.deepEqual(result.warnings, [
    'warningBeforeExpiryMinutes (20) is not less than inactivityTimeoutMinutes (5): the expiry warning shows as soon as a user stops being active',
  ]);
  const quiet = validateSessionSettings({ inactivityTimeoutMinutes: 30 });
  assert.ok(quiet.ok);
  assert.deepEqual(quiet.warnings, []);
});

test('stored settings must be complete and valid, or reading them fails closed', () => {
  assert.deepEqual(parseStoredSessionSettings({ ...strict }, TENANT), strict);
  for (const [value, fragment] of [
    [{ ...strict, continuousLocationEnforcement: 'yes' }, 'continuousLocationEnforcement must be true or false'],
    [{ maximumSessionLengthMinutes: 60 }, 'warningBeforeExpiryMinutes is missing'],
    [{ ...strict, maximumSessionLengthMinutes: 5000 }, 'from 60 to 1440, but it is 5000'],
    ['1440', 'must be a JSON object'],
  ] as const) {
    assert.throws(
      () => parseStoredSessionSettings(value, TENANT),
      (error: unknown) =>
        error instanceof SessionSettingsError &&
        error.message.includes(TENANT) &&
        error.message.includes(fragment) &&
        error.problems.length > 0,
      fragment,
    );
  }
});

test('the gateway re-checks location when the tenant or a policy in scope asks for it, and not by default', () => {
  const on = { ...DEFAULT_SESSION_SETTINGS, continuousLocationEnforcement: true };
  const strictPolicy = { sessionControls: { strictLocation: true as const } };
  const noPolicy = { sessionControls: {} };
  const table: Array<[string, SessionSettings, { sessionControls: object }, boolean]> = [
    ['defaults, no policy asks: not re-checked (Entra’s default)', DEFAULT_SESSION_SETTINGS, noPolicy, false],
    ['the tenant asks', on, noPolicy, true],
    ['a policy in scope asks', DEFAULT_SESSION_SETTINGS, strictPolicy, true],
    ['both ask', on, strictPolicy, true],
  ];
  for (const [name, settings, decision, want] of table)
    assert.equal(mustRecheckLocation(settings, decision), want, name);
});
