// The forward-auth decision for one proxied request, as an ordered list of steps (free of HTTP: the handlers in
// plugin.ts translate headers into the input and the decision into a status):
//   1. original request (method, URL) from the proxy's headers   → unreadable: badRequest (400)
//   2. application: host, then path, in the route table           → none claims it: unregistered (403, fail closed)
//   3. session from the request's cookies                          → none or ended: signIn
//   4. the session's user (subject for Conditional Access)         → gone or disabled: signIn
//   5. Conditional Access for (user, app id, client IP, country, browser, device platform), every request,
//      with `mfa` satisfied when the session did MFA               → block: blocked (53003 / 53000)
//                                                                  → MFA missing: signIn (step-up)
//      Locations as Entra judges them: by the address the session first reached this app from (its "sign-in" to
//      the app), so a user who roams keeps access until the session ends — unless continuous (strict) location
//      enforcement is on for the tenant or a policy in scope asks for it (decision.sessionControls.strictLocation):
//      then the current address decides, on every request.
//   6. allowed: the identity headers for the application.
//
// Every other condition (users, groups, roles, applications, platforms) is judged afresh on every request.
import type { ClientIp } from '../net/client-ip.ts';
import type { CompiledPolicySet } from '../policy/compile.ts';
import type { Subject } from '../policy/evaluate.ts';
import { type AccessCheck, checkAccess } from '../signin/access.ts';
import { type DetectedPlatform, devicePlatformOf } from '../signin/device-platform.ts';
import type { GatewayIdentity, IdentitySource } from './identity.ts';
import type { OriginalRequestResult } from './original-request.ts';
import { PatternError } from './patterns.ts';
import type { GatewaySessions } from './ports.ts';
import type { RouteTable } from './routes.ts';

export interface DecideDeps {
  routes(): Promise<RouteTable>;
  readonly sessions: GatewaySessions;
  policies(tenantId: string): Promise<CompiledPolicySet>;
  readonly identities: IdentitySource;
  /** Where each (session, app) was admitted from; see AdmittedAddresses. */
  readonly admitted: AdmittedAddresses;
  /** Conditional Access answers this node already gave; without it every request is evaluated afresh. */
  readonly answers?: AccessAnswers;
}

const MFA_DONE: readonly 'mfa'[] = Object.freeze(['mfa']);
const NOTHING_DONE: readonly never[] = Object.freeze([]);
/** Answers kept per (policy set, subject): a user's few addresses, browsers and apps. */
const ANSWERS_PER_SUBJECT_MAX = 64;

/**
 * Conditional Access answers already given on this node, for the same question asked again (each page, asset and API
 * call of a browser asks it). The answer depends only on what is keyed here: the compiled policy set and the subject
 * (each an object that is replaced, never changed: compile.ts makes a new set for every policy or location change,
 * identity.ts a new identity for every directory read), the app id, the client address (the country comes from it
 * through the set's own resolver), the device platform and whether MFA is done; the client app type (`browser`) and
 * the risk levels (`none`) are the same for every forward-auth request. The time only stamps `evaluatedAt`, which
 * then says when the answer was worked out. Bounded: per set and subject (held weakly, so a replaced set or identity
 * takes its answers with it) at most ANSWERS_PER_SUBJECT_MAX answers.
 */
export class AccessAnswers {
  readonly #bySet = new WeakMap<CompiledPolicySet, WeakMap<Subject, Map<string, AccessCheck>>>();

  check(
    set: CompiledPolicySet,
    subject: Subject,
    appId: string,
    clientIp: ClientIp,
    devicePlatform: DetectedPlatform,
    mfa: boolean,
    now: number,
  ): AccessCheck {
    let bySubject = this.#bySet.get(set);
    if (bySubject === undefined) {
      bySubject = new WeakMap();
      this.#bySet.set(set, bySubject);
    }
    let answers = bySubject.get(subject);
    if (answers === undefined) {
      answers = new Map();
      bySubject.set(subject, answers);
    }
    const key = `${mfa ? 'mfa' : '-'} ${devicePlatform} ${appId} ${clientIp.text}`;
    let check = answers.get(key);
    if (check === undefined) {
      check = accessCheck(set, subject, appId, clientIp, devicePlatform, mfa, now);
      if (answers.size >= ANSWERS_PER_SUBJECT_MAX) answers.clear();
      answers.set(key, check);
    }
    return check;
  }
}

function accessCheck(
  set: CompiledPolicySet,
  subject: Subject,
  appId: string,
  clientIp: ClientIp,
  devicePlatform: DetectedPlatform,
  mfa: boolean,
  now: number,
): AccessCheck {
  return checkAccess(
    set,
    subject,
    { appId, clientIp, clientAppType: 'browser', devicePlatform },
    mfa ? MFA_DONE : NOTHING_DONE,
    now,
  );
}

/**
 * The address each session was first allowed into each application from, per node (another node admits it afresh
 * from the address it then sees, as a new sign-in to the app would). Bounded: the sessions admitted longest ago go
 * first, and a forgotten entry only means the current address is judged again. Keyed by session handle, then tenant
 * and app id, the strings the session check and route table already hold: no key is built per request.
 */
export class AdmittedAddresses {
  /** session handle → tenant id → app id → address. */
  readonly #entries = new Map<string, Map<string, Map<string, ClientIp>>>();
  readonly #max: number;
  #size = 0;
  constructor(max = 100_000) {
    this.#max = max;
  }
  get(tenantId: string, handle: string, appId: string): ClientIp | undefined {
    return this.#entries.get(handle)?.get(tenantId)?.get(appId);
  }
  remember(tenantId: string, handle: string, appId: string, ip: ClientIp): void {
    let byTenant = this.#entries.get(handle);
    let byApp = byTenant?.get(tenantId);
    if (byApp?.has(appId)) return;
    while (this.#size >= this.#max) {
      const oldest = this.#entries.entries().next();
      if (oldest.done) break;
      this.#entries.delete(oldest.value[0]);
      for (const apps of oldest.value[1].values()) this.#size -= apps.size;
      if (oldest.value[1] === byTenant) byTenant = byApp = undefined;
    }
    if (byTenant === undefined) {
      byTenant = new Map();
      this.#entries.set(handle, byTenant);
    }
    if (byApp === undefined) {
      byApp = new Map();
      byTenant.set(tenantId, byApp);
    }
    byApp.set(appId, ip);
    this.#size++;
  }
  /** Addresses held now. */
  get size(): number {
    return this.#size;
  }
}

/** User-Agent → platform: a node sees the same few agents on every request, and devicePlatformOf tries six patterns. */
const platforms = new Map<string, DetectedPlatform>();
const PLATFORMS_MAX = 1024;

function platformOf(userAgent: string): DetectedPlatform {
  let platform = platforms.get(userAgent);
  if (platform === undefined) {
    platform = devicePlatformOf(userAgent);
    if (platforms.size >= PLATFORMS_MAX) platforms.clear();
    platforms.set(userAgent, platform);
  }
  return platform;
}

export interface DecideInput {
  readonly original: OriginalRequestResult;
  readonly cookieHeader: string | undefined;
  readonly clientIp: ClientIp;
  readonly userAgent: string;
  readonly now: number;
}

export type GatewayDecision =
  | { readonly kind: 'badRequest'; readonly problem: string }
  | { readonly kind: 'unregistered'; readonly host: string }
  | {
      readonly kind: 'signIn';
      readonly tenantId: string;
      readonly appId: string;
      readonly returnUrl: URL;
      readonly method: string;
      /** `none`/`ended` from the session check, `user` when the account is gone, `mfa` for step-up. */
      readonly reason: 'none' | 'ended' | 'user' | 'mfa';
    }
  | {
      readonly kind: 'blocked';
      readonly tenantId: string;
      readonly appId: string;
      readonly userId: string;
      readonly errorCode: 53003 | 53000;
      readonly check: AccessCheck;
    }
  | {
      readonly kind: 'allow';
      readonly tenantId: string;
      readonly appId: string;
      readonly identity: GatewayIdentity;
      readonly check: AccessCheck;
    };

export async function decide(deps: DecideDeps, input: DecideInput): Promise<GatewayDecision> {
  // 1. The original request.
  if (!input.original.ok) return { kind: 'badRequest', problem: input.original.problem };
  const { url, method } = input.original.request;

  // 2. The application.
  let route: ReturnType<RouteTable['match']>;
  try {
    route = (await deps.routes()).matchRequest(url);
  } catch (error) {
    if (error instanceof PatternError) return { kind: 'badRequest', problem: `the request path: ${error.message}` };
    throw error;
  }
  if (!route) return { kind: 'unregistered', host: url.host };
  const { tenantId, appId } = route.entry;
  const signIn = (reason: 'none' | 'ended' | 'user' | 'mfa') =>
    ({ kind: 'signIn', tenantId, appId, returnUrl: url, method, reason }) as const;

  // 3. The session.
  const session = await deps.sessions.check(tenantId, input.cookieHeader, input.now);
  if (!session.live) return signIn(session.reason);

  // 4. The user.
  const identity = await deps.identities.identity(tenantId, session.userId, input.now);
  if (!identity) return signIn('user');

  // 5. Conditional Access, on every request.
  const policies = await deps.policies(tenantId);
  const platform = platformOf(input.userAgent);
  const answers = deps.answers;
  const evaluateFrom = (clientIp: ClientIp) =>
    answers === undefined
      ? accessCheck(policies, identity.subject, appId, clientIp, platform, session.mfa, input.now)
      : answers.check(policies, identity.subject, appId, clientIp, platform, session.mfa, input.now);
  let check = evaluateFrom(input.clientIp);
  if (check.verdict.kind !== 'allow') {
    // Refused from here: was this session admitted to this app from elsewhere, with locations judged at sign-in?
    const admittedFrom = deps.admitted.get(tenantId, session.handle, appId);
    if (admittedFrom !== undefined && admittedFrom.text !== input.clientIp.text) {
      const atSignIn = evaluateFrom(admittedFrom);
      const strict =
        atSignIn.evaluation.decision.sessionControls.strictLocation === true ||
        check.evaluation.decision.sessionControls.strictLocation === true ||
        (await deps.sessions.continuousLocationEnforcement(tenantId));
      if (!strict) check = atSignIn;
    }
  }
  const { verdict } = check;
  if (verdict.kind === 'block') {
    return { kind: 'blocked', tenantId, appId, userId: session.userId, errorCode: verdict.errorCode, check };
  }
  if (verdict.kind === 'mfa') {
    // MFA done and a policy still asks for it: nothing a new sign-in would change; fail closed.
    if (session.mfa) return { kind: 'blocked', tenantId, appId, userId: session.userId, errorCode: 53000, check };
    return signIn('mfa');
  }

  // 6. Allowed.
  deps.admitted.remember(tenantId, session.handle, appId, input.clientIp);
  return { kind: 'allow', tenantId, appId, identity, check };
}
