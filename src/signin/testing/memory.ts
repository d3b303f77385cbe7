// In-memory stand-ins for the store-backed credential ports, sign-in log and policy cache, for unit tests of the
// pipeline. The server (src/start.ts) and the end-to-end tests (test/oidc/harness.ts) use the store-backed ones.
import { randomBytes } from 'node:crypto';
import type {
  LockoutStatePort,
  PasswordCredential,
  RecoveryCodeRecord,
  TotpCredential,
  WebAuthnCredentialRecord,
} from '../../auth/ports.ts';
import type { PendingChallenge } from '../../auth/webauthn-challenge.ts';
import { type CompiledPolicySet, compilePolicySet } from '../../policy/compile.ts';
import type { ConditionalAccessPolicy, NamedLocation } from '../../policy/types.ts';
import type { CredentialPorts, SignInAttempt, SignInLogSink } from '../ports.ts';

export class MemoryCredentials {
  readonly #tenants = new Map<string, CredentialPorts>();

  for(tenantId: string): CredentialPorts {
    let ports = this.#tenants.get(tenantId);
    if (!ports) {
      ports = memoryPorts();
      this.#tenants.set(tenantId, ports);
    }
    return ports;
  }
}

export function memoryPorts(): CredentialPorts {
  const passwords = new Map<string, PasswordCredential>();
  const totp = new Map<string, TotpCredential>();
  const codes = new Map<string, RecoveryCodeRecord[]>();
  const passkeys = new Map<string, WebAuthnCredentialRecord>();
  const challenges = new Map<string, PendingChallenge>();
  const lockouts = new Map<string, object>();
  const key = randomBytes(32);
  const lockoutPort: LockoutStatePort = {
    async update(k, change) {
      const { next, result } = change(lockouts.get(k));
      if (next === undefined) lockouts.delete(k);
      else lockouts.set(k, next);
      return result;
    },
  };
  return {
    passwords: {
      get: async (id) => passwords.get(id),
      put: async (c) => void passwords.set(c.userId, c),
      delete: async (id) => void passwords.delete(id),
    },
    totp: {
      get: async (id) => totp.get(id),
      put: async (c) => void totp.set(c.userId, c),
      delete: async (id) => void totp.delete(id),
      async markStepUsed(id, step) {
        const c = totp.get(id);
        if (!c || (c.lastUsedStep !== null && c.lastUsedStep >= step)) return false;
        totp.set(id, { ...c, lastUsedStep: step });
        return true;
      },
    },
    recoveryCodes: {
      list: async (id) => [...(codes.get(id) ?? [])],
      replaceAll: async (id, records) => void codes.set(id, [...records]),
      async markUsed(id, codeId, at) {
        const list = codes.get(id) ?? [];
        const i = list.findIndex((c) => c.id === codeId && c.usedAt === null);
        if (i < 0) return false;
        list[i] = { ...list[i], usedAt: at };
        return true;
      },
    },
    webauthn: {
      listByUser: async (id) => [...passkeys.values()].filter((p) => p.userId === id),
      getById: async (id) => passkeys.get(id),
      put: async (r) => void passkeys.set(r.credentialId, r),
      delete: async (_u, id) => void passkeys.delete(id),
      async recordUse(id, update) {
        const p = passkeys.get(id);
        if (!p || p.counter !== update.expectedCounter) return false;
        passkeys.set(id, { ...p, counter: update.counter, lastUsedAt: update.lastUsedAt, backedUp: update.backedUp });
        return true;
      },
      disable: async (id, at) => {
        const p = passkeys.get(id);
        if (p) passkeys.set(id, { ...p, disabledAt: at });
      },
    },
    challenges: {
      put: async (id, c) => void challenges.set(id, c),
      async take(id) {
        const c = challenges.get(id);
        challenges.delete(id);
        return c;
      },
    },
    lockouts: lockoutPort,
    badPasswordKey: async () => key,
  };
}

export class MemorySignInLog implements SignInLogSink {
  readonly entries: SignInAttempt[] = [];
  async append(attempt: SignInAttempt): Promise<void> {
    this.entries.push(attempt);
  }
}

/** A tenant's policies held in memory; `set` recompiles. */
export class MemoryPolicies {
  readonly #sets = new Map<string, CompiledPolicySet>();
  readonly #empty = compilePolicySet([], []);
  set(tenantId: string, locations: readonly NamedLocation[], policies: readonly ConditionalAccessPolicy[]): void {
    this.#sets.set(tenantId, compilePolicySet(locations, policies));
  }
  async get(tenantId: string): Promise<CompiledPolicySet> {
    return this.#sets.get(tenantId) ?? this.#empty;
  }
}
