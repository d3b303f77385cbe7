// What the gateway needs from the rest of Portcullis, as small interfaces: browser sessions (the session module
// implements them; src/gateway/testing/memory-sessions.ts is an in-memory stand-in for tests only), the tenant's
// compiled policies and its directory. The composition root wires the real ones.
import type { CompiledPolicySet } from '../policy/compile.ts';
import type { Store } from '../store/store.ts';

/** A live session as the gateway needs it: who, how they signed in, and whether MFA was done. */
export interface GatewaySession {
  readonly live: true;
  readonly userId: string;
  /** RFC 8176 methods of the sign-in (`pwd`, `mfa`, `otp`, `hwk`, …). */
  readonly amr: readonly string[];
  /** The session has satisfied MFA (Conditional Access's `mfa` grant control). */
  readonly mfa: boolean;
  /** Sign-in time, epoch ms. */
  readonly authTime: number;
  /** Names the session (not a credential): where the gateway remembers the address each app admitted it from. */
  readonly handle: string;
}

/**
 * No usable session. `none`: the request carries no session cookie (sign in; single sign-on may apply). `ended`: it
 * carries one that is over — expired (absolute or inactivity), revoked, or presented by another browser — so the
 * next sign-in asks for credentials again (`prompt=login`).
 */
export interface NoGatewaySession {
  readonly live: false;
  readonly reason: 'none' | 'ended';
}

export type GatewaySessionCheck = GatewaySession | NoGatewaySession;

export interface EstablishedSession {
  /** Set-Cookie header values for the response to the gateway's callback (session and binding cookies). */
  readonly setCookie: readonly string[];
}

export interface GatewaySessions {
  /**
   * The session named by the cookies of a forward-auth request, for one tenant. Called for every request through the
   * proxy, so it counts as user activity (throttled by the implementation). Rejects when the store cannot be read:
   * the gateway then answers 500 and the proxy denies (fail closed).
   */
  check(tenantId: string, cookieHeader: string | undefined, now: number): Promise<GatewaySessionCheck>;
  /**
   * The tenant's continuous (strict) location enforcement switch (session settings): when on, every request's
   * current address is held against the location conditions.
   */
  continuousLocationEnforcement(tenantId: string): Promise<boolean>;
  /**
   * A new session after the gateway's sign-in (OIDC code flow) completed. The cookies it returns must reach every
   * application host (a cookie domain covering them and Portcullis), and their names must start with `portcullis-`
   * (after an optional `__Host-` or `__Secure-` prefix): that is how the proxies and the gateway strip Portcullis's
   * cookies before a request reaches an application.
   */
  establish(
    input: {
      readonly tenantId: string;
      readonly userId: string;
      readonly amr: readonly string[];
      /** Sign-in time (the ID token's auth_time), epoch ms. */
      readonly authTime: number;
    },
    now: number,
  ): Promise<EstablishedSession>;
}

/** What the gateway plugin takes from the composition root. */
export interface GatewayDeps {
  readonly store: Store;
  /** The tenant's compiled named locations and policies (SignInServices.policies). */
  policies(tenantId: string): Promise<CompiledPolicySet>;
  readonly sessions: GatewaySessions;
  /** The keyring's encrypt/decrypt (the sign-in state cookie is sealed with the tenant's data key). */
  readonly keyring: {
    encrypt(tenantId: string, plaintext: string, purpose: string): Promise<string>;
    decryptText(tenantId: string, ciphertext: string, purpose: string): Promise<string>;
  };
}
