// A tenant's session settings (issue 4): maximum session length, the warning before expiry, the inactivity timeout
// and continuous (strict) location enforcement, with their defaults and the validation that reports every problem.
// Pure: settings-store.ts stores them.
//
// JSON shape (what the admin API reads and writes, and what tenant_settings holds under 'sessionSettings'):
//
//   {
//     "maximumSessionLengthMinutes": 1440,   // whole minutes, 60–1440; default 1440 (Entra's and Dynamics' maximum)
//     "warningBeforeExpiryMinutes": 20,      // whole minutes, 1 up to less than the maximum length; default 20
//     "inactivityTimeoutMinutes": null,      // null = off (the default), or whole minutes from 5 up to less than the
//                                            // maximum length
//     "continuousLocationEnforcement": false // true: the gateway re-evaluates location conditions on every request;
//   }                                        // default false (Entra's default); stored settings without it read false
//
// An update is a partial object (PATCH): the fields it names are merged over the current values, and the rules that
// relate two fields are checked on the merged result.

import type { MergedSessionControls } from '../policy/evaluate.ts';

export interface SessionSettings {
  /** A session ends this many minutes after sign-in, whatever the activity. */
  readonly maximumSessionLengthMinutes: number;
  /** The expiry warning (`warnAt`) comes this many minutes before the session's end. */
  readonly warningBeforeExpiryMinutes: number;
  /** A session ends after this many minutes without user activity; null: no inactivity timeout. */
  readonly inactivityTimeoutMinutes: number | null;
  /**
   * Strict location enforcement for every policy of the tenant: the gateway re-evaluates location conditions on every
   * forward-auth request, so a user who leaves the trusted network loses access at once. Off by default, as in Entra,
   * where it is asked for per policy (continuous access evaluation `strictLocation`; see docs/sessions.md).
   */
  readonly continuousLocationEnforcement: boolean;
}

export const DEFAULT_SESSION_SETTINGS: SessionSettings = Object.freeze({
  maximumSessionLengthMinutes: 1440,
  warningBeforeExpiryMinutes: 20,
  inactivityTimeoutMinutes: null,
  continuousLocationEnforcement: false,
});

/** The allowed ranges, in minutes. The upper bounds of the warning and the inactivity timeout are "less than the maximum length". */
export const SESSION_SETTING_LIMITS = Object.freeze({
  maximumSessionLengthMinutes: Object.freeze({ min: 60, max: 1440 }),
  warningBeforeExpiryMinutes: Object.freeze({ min: 1 }),
  inactivityTimeoutMinutes: Object.freeze({ min: 5 }),
});

const FIELDS = [
  'maximumSessionLengthMinutes',
  'warningBeforeExpiryMinutes',
  'inactivityTimeoutMinutes',
  'continuousLocationEnforcement',
] as const;
type Field = (typeof FIELDS)[number];
/** Fields added after settings were first stored: a stored object without one reads as its default. */
const ADDED_LATER: readonly Field[] = ['continuousLocationEnforcement'];

export type SessionSettingsValidation =
  | {
      readonly ok: true;
      /** The merged, complete settings (frozen). */
      readonly settings: SessionSettings;
      /** Allowed but probably unintended combinations, to show to the admin. */
      readonly warnings: readonly string[];
    }
  | { readonly ok: false; readonly problems: readonly string[] };

/** How a bad value is shown in a message: JSON, shortened. */
function show(value: unknown): string {
  if (value === undefined) return 'missing';
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/** Added when a cross-field rule fails on a value the update did not name (PATCH over the current settings). */
const CURRENT = ' (its current value)';

function isWhole(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value);
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

/**
 * Checks `input` — a partial update, or a complete settings object — merged over `current` (the defaults when not
 * given). Returns the merged settings, or every problem, each naming the field, the allowed range and the value:
 * `maximumSessionLengthMinutes must be a whole number from 60 to 1440, but it is 30`.
 */
export function validateSessionSettings(
  input: unknown,
  current: SessionSettings = DEFAULT_SESSION_SETTINGS,
): SessionSettingsValidation {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return { ok: false, problems: [`session settings must be a JSON object, but it is ${kindOf(input)}`] };
  }
  const patch = input as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of Object.keys(patch)) {
    if (!(FIELDS as readonly string[]).includes(key)) {
      problems.push(`'${key}' is not a session setting (the settings are ${FIELDS.join(', ')})`);
    }
  }
  const has = (field: Field) => Object.hasOwn(patch, field);

  const maxLimits = SESSION_SETTING_LIMITS.maximumSessionLengthMinutes;
  let maximum: number | undefined = current.maximumSessionLengthMinutes;
  if (has('maximumSessionLengthMinutes')) {
    const value = patch.maximumSessionLengthMinutes;
    if (isWhole(value) && value >= maxLimits.min && value <= maxLimits.max) maximum = value;
    else {
      maximum = undefined;
      problems.push(
        `maximumSessionLengthMinutes must be a whole number from ${maxLimits.min} to ${maxLimits.max}, but it is ${show(value)}`,
      );
    }
  }
  // With the maximum itself wrong, the other fields are held to the widest range only, so that one mistake is not
  // reported three times.
  const below = maximum ?? maxLimits.max;
  const suffix = maximum === undefined ? '' : ` (less than maximumSessionLengthMinutes, ${below})`;

  const warningMin = SESSION_SETTING_LIMITS.warningBeforeExpiryMinutes.min;
  const warning = has('warningBeforeExpiryMinutes')
    ? patch.warningBeforeExpiryMinutes
    : current.warningBeforeExpiryMinutes;
  const warningOk = isWhole(warning) && warning >= warningMin && warning < below;
  if (!warningOk) {
    problems.push(
      `warningBeforeExpiryMinutes must be a whole number from ${warningMin} to ${below - 1}${suffix}, but it is ${show(warning)}${has('warningBeforeExpiryMinutes') ? '' : CURRENT}`,
    );
  }

  const idleMin = SESSION_SETTING_LIMITS.inactivityTimeoutMinutes.min;
  const idle = has('inactivityTimeoutMinutes') ? patch.inactivityTimeoutMinutes : current.inactivityTimeoutMinutes;
  const idleOk = idle === null || (isWhole(idle) && idle >= idleMin && idle < below);
  if (!idleOk) {
    problems.push(
      `inactivityTimeoutMinutes must be null (off) or a whole number from ${idleMin} to ${below - 1}${suffix}, but it is ${show(idle)}${has('inactivityTimeoutMinutes') ? '' : CURRENT}`,
    );
  }

  const strict = has('continuousLocationEnforcement')
    ? patch.continuousLocationEnforcement
    : (current.continuousLocationEnforcement ?? DEFAULT_SESSION_SETTINGS.continuousLocationEnforcement);
  if (typeof strict !== 'boolean') {
    problems.push(`continuousLocationEnforcement must be true or false, but it is ${show(strict)}`);
  }

  if (problems.length > 0 || maximum === undefined) return { ok: false, problems };
  const settings: SessionSettings = Object.freeze({
    maximumSessionLengthMinutes: maximum,
    warningBeforeExpiryMinutes: warning as number,
    inactivityTimeoutMinutes: idle as number | null,
    continuousLocationEnforcement: strict as boolean,
  });
  const warnings: string[] = [];
  if (
    settings.inactivityTimeoutMinutes !== null &&
    settings.warningBeforeExpiryMinutes >= settings.inactivityTimeoutMinutes
  ) {
    warnings.push(
      `warningBeforeExpiryMinutes (${settings.warningBeforeExpiryMinutes}) is not less than inactivityTimeoutMinutes ` +
        `(${settings.inactivityTimeoutMinutes}): the expiry warning shows as soon as a user stops being active`,
    );
  }
  return { ok: true, settings, warnings };
}

/**
 * The gateway's question for a session: must each request's location conditions be re-evaluated with that request's
 * address? Yes when the tenant asks for it for every policy (`continuousLocationEnforcement`), or when a decision
 * for the session has `sessionControls.strictLocation` (an enforced policy in scope asks for it: Entra's
 * "Strictly enforce location policies"). Either switch alone is enough; neither is on by default.
 */
export function mustRecheckLocation(
  settings: Pick<SessionSettings, 'continuousLocationEnforcement'>,
  decision: { readonly sessionControls: MergedSessionControls },
): boolean {
  return settings.continuousLocationEnforcement === true || decision.sessionControls.strictLocation === true;
}

/** A stored value that is not valid settings: reads fail closed with this, naming the tenant and every problem. */
export class SessionSettingsError extends Error {
  override name = 'SessionSettingsError';
  readonly problems: readonly string[];
  constructor(message: string, problems: readonly string[] = []) {
    super(message);
    this.problems = problems;
  }
}

/**
 * Settings as stored: a complete object (every field present, nothing else; a field added later, such as
 * continuousLocationEnforcement, may be absent and reads as its default). Throws SessionSettingsError otherwise — a
 * corrupt or hand-edited row must not quietly become the defaults, which may be longer than what the admin set.
 */
export function parseStoredSessionSettings(value: unknown, tenantId: string): SessionSettings {
  const missing =
    value !== null && typeof value === 'object' && !Array.isArray(value)
      ? FIELDS.filter((f) => !ADDED_LATER.includes(f) && !Object.hasOwn(value, f))
      : [];
  const result = validateSessionSettings(value);
  const problems = [...missing.map((f) => `${f} is missing`), ...(result.ok ? [] : result.problems)];
  if (result.ok && problems.length === 0) return result.settings;
  throw new SessionSettingsError(
    `tenant ${tenantId}: the stored session settings are invalid, so sessions cannot be checked: ${problems.join('; ')}`,
    problems,
  );
}
