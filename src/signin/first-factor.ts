// The first factor of the sign-in pipeline: a sign-in name and password, checked by auth/ under smart lockout, then
// the account itself (enabled). Unknown names answer exactly like wrong passwords (50126).

import type { LockoutPolicy } from '../auth/lockout.ts';
import { hashPassword } from '../auth/password-hash.ts';
import { signInWithPassword } from '../auth/password-sign-in.ts';
import type { Clock } from '../clock.ts';
import type { Directory } from '../directory/directory.ts';
import type { User } from '../directory/users.ts';
import type { ClientIp } from '../net/client-ip.ts';
import type { CompiledPolicySet } from '../policy/compile.ts';
import type { CredentialPorts } from './ports.ts';

export type FirstFactorResult =
  | { readonly ok: true; readonly user: User; readonly amr: readonly string[] }
  | {
      readonly ok: false;
      readonly errorCode: 50126 | 50053 | 50057;
      readonly user?: User;
      /** For the sign-in log only. */
      readonly failureReason: string;
    };

export interface FirstFactorDeps {
  readonly directory: Directory;
  readonly credentials: CredentialPorts;
  readonly clock: Clock;
  readonly lockoutPolicy?: LockoutPolicy;
  /** To tell whether the client is in a trusted location (failures there count apart, see accountLockoutKey). */
  readonly policies: CompiledPolicySet;
}

const MAX_NAME = 256;
const MAX_PASSWORD = 1024;

export async function passwordFirstFactor(
  deps: FirstFactorDeps,
  input: { signInName: unknown; password: unknown; clientIp: ClientIp },
): Promise<FirstFactorResult> {
  const signInName = typeof input.signInName === 'string' ? input.signInName.trim().slice(0, MAX_NAME) : '';
  const password = typeof input.password === 'string' ? input.password.slice(0, MAX_PASSWORD) : '';
  const user = signInName ? await deps.directory.users.getByUserPrincipalName(signInName) : undefined;
  const stored = user ? await deps.credentials.passwords.get(user.id) : undefined;
  const result = await signInWithPassword(
    {
      lockouts: deps.credentials.lockouts,
      clock: deps.clock,
      policy: deps.lockoutPolicy,
      badPasswordKey: await deps.credentials.badPasswordKey(),
    },
    {
      signInName,
      ip: input.clientIp.text,
      fromTrustedLocation: inTrustedLocation(deps.policies, input.clientIp),
      password,
      phc: stored?.phc ?? null,
    },
  );
  if (result.outcome === 'locked') {
    return { ok: false, errorCode: 50053, user, failureReason: `smart lockout: ${result.reason}` };
  }
  if (result.outcome === 'invalid-credentials' || !user) {
    const why = !user ? 'no user with this sign-in name' : !stored ? 'the user has no password' : 'wrong password';
    return {
      ok: false,
      errorCode: 50126,
      user,
      failureReason: 'problem' in result && result.problem ? result.problem : why,
    };
  }
  if (result.rehash) {
    await deps.credentials.passwords.put({
      userId: user.id,
      phc: await hashPassword(password),
      updatedAt: deps.clock.now(),
    });
  }
  // Checked after the password, as Entra does: a disabled account is not revealed to someone without the password.
  if (!user.accountEnabled) return { ok: false, errorCode: 50057, user, failureReason: 'the account is disabled' };
  return { ok: true, user, amr: ['pwd'] };
}

function inTrustedLocation(set: CompiledPolicySet, clientIp: ClientIp): boolean {
  for (const index of set.ipIndex.lookup(clientIp.ip)) if (set.trustedMask[index] === 1) return true;
  return false;
}
