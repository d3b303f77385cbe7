// Conditional Access session controls applied to a session: sign-in frequency (must the user authenticate again
// before this session may be used for a new sign-in?) and persistent browser session (may the cookies outlive the
// browser window?). Pure: the caller passes the policy decision's controls and the time.
import type { SignInFrequencySessionControl } from '../policy/types.ts';
import type { SessionRecord } from './repository.ts';

const MINUTE_MS = 60_000;

/**
 * With `everyTime`, Entra does not prompt again within five minutes of the last authentication, allowing for clock
 * skew ("Require reauthentication every time": "factors for five minutes of clock skew"). Portcullis does the same.
 */
export const EVERY_TIME_GRACE_MS = 5 * MINUTE_MS;

/**
 * A sign-in frequency, as either form the code meets it in:
 * - the Graph `signInFrequency` session control of a policy (`{ isEnabled, value, type: 'hours' | 'days' }`, or
 *   `{ isEnabled, frequencyInterval: 'everyTime' }`; `authenticationType: 'secondaryAuthentication'` counts from the
 *   last MFA instead of the sign-in);
 * - the minutes of a decision's merged `sessionControls.signInFrequencyMinutes` (policy/evaluate.ts), 0 = every time;
 * - null or undefined: no sign-in frequency applies.
 */
export type SignInFrequency = SignInFrequencySessionControl | number | null | undefined;

/** The frequency in minutes (0 = every time), or undefined when none applies or the control is incomplete. */
export function signInFrequencyMinutes(frequency: SignInFrequency): number | undefined {
  if (frequency === null || frequency === undefined) return undefined;
  if (typeof frequency === 'number') {
    if (!Number.isFinite(frequency) || frequency < 0) {
      throw new RangeError(`sign-in frequency must be a number of minutes (0 = every time), but it is ${frequency}`);
    }
    return frequency;
  }
  if (!frequency.isEnabled) return undefined;
  if (frequency.frequencyInterval === 'everyTime') return 0;
  const value = frequency.value;
  if (typeof value !== 'number' || !(value > 0)) return undefined;
  if (frequency.type === 'days') return value * 1440;
  if (frequency.type === 'hours') return value * 60;
  return undefined;
}

/**
 * Whether the session's authentication is too old under the sign-in frequency, so that using it for a sign-in (a
 * new app, an OIDC authorization request with an existing session) needs the user to authenticate again. Counts from
 * the sign-in (`createdAt`), or from the last MFA for `secondaryAuthentication` (a session with no MFA must do it).
 * `everyTime` (0 minutes) allows only an authentication within EVERY_TIME_GRACE_MS.
 */
export function reauthenticationRequired(
  session: Pick<SessionRecord, 'createdAt' | 'mfaAt'>,
  frequency: SignInFrequency,
  now: number,
): boolean {
  const minutes = signInFrequencyMinutes(frequency);
  if (minutes === undefined) return false;
  const secondaryOnly = typeof frequency === 'object' && frequency?.authenticationType === 'secondaryAuthentication';
  const since = secondaryOnly ? session.mfaAt : session.createdAt;
  if (since === null) return true;
  const allowedMs = minutes === 0 ? EVERY_TIME_GRACE_MS : minutes * MINUTE_MS;
  return now - since >= allowedMs;
}

/**
 * Whether the session cookies are persistent (they outlive the browser window, until the session's absolute end):
 * `always` and `never` come from a Conditional Access persistent-browser control and override the user's choice;
 * without the control, the user's "Stay signed in" answer decides (default: not persistent).
 */
export function persistentBrowser(mode: 'always' | 'never' | undefined, staySignedIn = false): boolean {
  if (mode === 'always') return true;
  if (mode === 'never') return false;
  return staySignedIn;
}
