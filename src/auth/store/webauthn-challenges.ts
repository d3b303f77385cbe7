// WebAuthnChallengePort on the store: pending challenges in webauthn_challenges under a server-chosen id, taken
// (read and deleted) in one statement so that a challenge is answered at most once, even by racing requests.
import type { WebauthnChallengesTable } from '../../store/repositories/schema.ts';
import type { TenantScope } from '../../store/tenant-scope.ts';
import type { WebAuthnChallengePort } from '../ports.ts';
import type { ChallengePurpose, PendingChallenge } from '../webauthn-challenge.ts';

const PURPOSES: readonly ChallengePurpose[] = ['registration', 'authentication'];

export class WebAuthnChallengeRepository implements WebAuthnChallengePort {
  readonly #scope: TenantScope;
  constructor(scope: TenantScope) {
    this.#scope = scope;
  }

  async put(id: string, challenge: PendingChallenge): Promise<void> {
    if (typeof id !== 'string' || id.length === 0) throw new TypeError('WebAuthn challenge: the id must not be empty');
    if (!PURPOSES.includes(challenge?.purpose)) {
      throw new TypeError(
        `WebAuthn challenge: purpose must be registration or authentication, not ${challenge?.purpose}`,
      );
    }
    const row: Omit<WebauthnChallengesTable, 'tenant_id'> = {
      id,
      challenge: challenge.challenge,
      purpose: challenge.purpose,
      user_id: challenge.userId,
      issued_at: challenge.issuedAt,
      expires_at: challenge.expiresAt,
    };
    const { id: _id, ...changes } = row;
    await this.#scope
      .insertInto('webauthn_challenges', row)
      .onConflict((oc) => oc.columns(['tenant_id', 'id']).doUpdateSet(changes))
      .execute();
  }

  /** `DELETE … RETURNING`: of two concurrent takes, one gets the challenge and the other nothing. */
  async take(id: string): Promise<PendingChallenge | undefined> {
    const row = await this.#scope
      .deleteFrom('webauthn_challenges')
      .where('id', '=', id)
      .returning(['challenge', 'purpose', 'user_id', 'issued_at', 'expires_at'])
      .executeTakeFirst();
    if (row === undefined) return undefined;
    return {
      challenge: row.challenge,
      purpose: row.purpose,
      userId: row.user_id,
      issuedAt: row.issued_at,
      expiresAt: row.expires_at,
    };
  }

  /** Deletes challenges that expired before the store's clock's now; returns how many. For periodic housekeeping. */
  async purgeExpired(): Promise<number> {
    const result = await this.#scope
      .deleteFrom('webauthn_challenges')
      .where('expires_at', '<=', this.#scope.now())
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
