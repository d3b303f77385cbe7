// The sign-in pages as oidc-provider interactions, under `/t/{tenantId}/signin/{uid}`: each handler translates the
// HTTP request into a step of signin/pipeline.ts and its outcome into a page or a redirect. Allowed sign-ins finish
// the interaction (login; consent is implied for the tenant's own applications) and the browser goes back to the app.
//
//   GET  /                          the page for the current stage: password (+ passkey), MFA prompt, or enrolment
//   POST /password                  first factor: name and password
//   POST /passkey-sign-in[/options] first factor: a usernameless passkey with user verification (also satisfies MFA)
//   POST /totp, /passkey[/options], /recovery-code   second factor
//   POST /enrol                     enrol a TOTP app (first code)
//   POST /enrol-passkey[/options]   enrol a passkey (registration ceremony)
//   POST /continue                  after the recovery codes page
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { InteractionResults } from 'oidc-provider';
import { generateTotpSecret, totpQrSvg, totpUri } from '../auth/totp.ts';
import { type RelyingParty, userHandleFor } from '../auth/webauthn.ts';
import { ERROR_CODES } from '../errors.ts';
import type { MergedSessionControls } from '../policy/evaluate.ts';
import { persistentBrowser, reauthenticationRequired } from '../session/controls.ts';
import {
  type CookieScope,
  cookieScopeFor,
  readSessionCookies,
  serializeCookie,
  sessionCookies,
} from '../session/cookies.ts';
import type { SessionRecord } from '../session/repository.ts';
import type { Sessions } from '../session/sessions.ts';
import { browserOf, devicePlatformOf } from '../signin/device-platform.ts';
import { CONTENT_SECURITY_POLICY } from '../signin/html.ts';
import {
  enrolPage,
  errorPage,
  type FormContext,
  mfaPage,
  passwordPage,
  problemPage,
  recoveryCodesPage,
} from '../signin/pages.ts';
import { confirmPasskeyEnrolment, passkeyEnrolmentOptions } from '../signin/passkey-enrolment.ts';
import { passkeySignInOptions } from '../signin/passkey-first-factor.ts';
import {
  type PipelineDeps,
  type PipelineOutcome,
  type PipelineRequest,
  passkeySignIn,
  passwordSignIn,
  secondFactorSignIn,
  sessionSignIn,
} from '../signin/pipeline.ts';
import type { SignInServices } from '../signin/ports.ts';
import {
  confirmTotpEnrolment,
  mfaMethodsOf,
  passkeyChallenge,
  relyingPartyFor,
  type SecondFactorDeps,
  type SecondFactorResult,
  verifyPasskeyStep,
  verifyRecoveryCodeStep,
  verifyTotpStep,
} from '../signin/second-factor.ts';
import { CONDITIONAL_ACCESS_CHECK, type TenantProvider } from './provider.ts';
import type { GrantSignInContext } from './refresh-check.ts';
import type { TenantProviders } from './tenant-providers.ts';

/** What the pipeline keeps between pages (server-side, under the interaction uid, expiring with it). */
type SignInState = (
  | { readonly stage: 'mfa'; readonly userId: string; readonly amr: readonly string[] }
  /**
   * `secret`: the TOTP secret being enrolled, encrypted with the tenant's data key. `passkeyUserHandle`: the WebAuthn
   * user handle of the passkey registration under way (set with its options; the browser's answer does not carry it).
   */
  | {
      readonly stage: 'enrol';
      readonly userId: string;
      readonly amr: readonly string[];
      readonly secret: string;
      readonly passkeyUserHandle?: string;
    }
  /** Signed in; the recovery codes page is showing and `continue` finishes. */
  | { readonly stage: 'done'; readonly userId: string; readonly amr: readonly string[] }
) & {
  /** The sign-in continues the browser's session (single sign-on, perhaps with an MFA step-up): no credentials. */
  readonly sso?: boolean;
};

interface Step {
  /**
   * The browser's existing session, when single sign-on is possible: oidc-provider's session asks only for Conditional
   * Access, and the Portcullis session (session/) is live, bound to this browser and of the same user.
   */
  readonly session?: {
    readonly userId: string;
    readonly amr: readonly string[];
    readonly loginTs?: number;
    readonly record: SessionRecord;
  };
  readonly tp: TenantProvider;
  readonly uid: string;
  readonly form: FormContext;
  readonly request: PipelineRequest;
  /** oidc-provider's prompt: `login`, or `consent` (answered at once for the tenant's own applications). */
  readonly prompt: string;
}

type Params = { tenant: string; uid: string };
type Req = FastifyRequest<{ Params: Params }>;

const TOTP_ISSUER = 'Portcullis';
const HTML = 'text/html; charset=utf-8';

export function registerInteractions(app: FastifyInstance, services: SignInServices, providers: TenantProviders): void {
  const clock = services.clock;

  function problem(reply: FastifyReply, request: FastifyRequest, status: number, title: string, message: string) {
    return reply
      .code(status)
      .type(HTML)
      .send(problemPage({ title, message, correlationId: request.id, at: clock.now() }));
  }
  const expired = (reply: FastifyReply, request: FastifyRequest) =>
    problem(reply, request, 400, 'This sign-in has expired', 'Go back to the application and sign in again.');

  /** Resolves tenant, interaction and application, and checks the CSRF token of a POST; otherwise answers itself. */
  async function begin(request: Req, reply: FastifyReply): Promise<Step | undefined> {
    reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
    reply.header('cache-control', 'no-store');
    const { tenant: segment, uid } = request.params;
    const tenant = await providers.resolveTenant(segment);
    // Only the id form: the interaction cookie is scoped to the issuer's path, which names the tenant by id.
    if (!tenant || tenant.id !== segment) {
      problem(reply, request, 404, 'Not found', 'There is no such sign-in page.');
      return undefined;
    }
    const tp = await providers.get(tenant.id);
    const details = await tp.provider.interactionDetails(request.raw, reply.raw).catch(() => undefined);
    if (!details || details.uid !== uid) {
      expired(reply, request);
      return undefined;
    }
    if (request.method === 'POST' && !sameToken(bodyOf(request).csrf, tp.csrfToken(uid))) {
      problem(reply, request, 403, 'This form has expired', 'Reload the page and try again.');
      return undefined;
    }
    const application = await tp.directory.applications.getByAppId(String(details.params.client_id ?? ''));
    if (!application) {
      problem(reply, request, 400, 'Unknown application', 'The application is not registered in this tenant.');
      return undefined;
    }
    const userAgent = String(request.headers['user-agent'] ?? '').slice(0, 512);
    return {
      session: await ssoSession(tp, details, services.sessions(tp.tenantId), request.headers.cookie, cookieScope(tp)),
      tp,
      uid,
      prompt: details.prompt.name,
      form: { action: `${tp.issuer}/signin/${uid}`, csrf: tp.csrfToken(uid), appName: application.displayName },
      request: {
        app: { appId: application.appId, displayName: application.displayName },
        access: {
          appId: application.appId,
          clientIp: request.clientIp,
          clientAppType: 'browser',
          devicePlatform: devicePlatformOf(userAgent),
        },
        userAgent,
        correlationId: request.id,
      },
    };
  }

  async function pipelineDeps(step: Step): Promise<PipelineDeps> {
    return {
      tenantId: step.tp.tenantId,
      directory: step.tp.directory,
      credentials: services.credentials(step.tp.scope),
      policies: await services.policies(step.tp.tenantId),
      clock,
      lockoutPolicy: services.lockoutPolicy,
      signInLog: services.signInLog,
    };
  }

  const stateOf = async (step: Step) => (await step.tp.signInStates.get(step.uid)) as SignInState | undefined;
  const saveState = (step: Step, state: SignInState) => step.tp.signInStates.put(step.uid, { ...state });
  const enrolPurpose = (step: Step) => `signin.enrol:${step.uid}`;

  /** Turns a pipeline outcome into the next page. `retry` re-renders `again` with the error message. */
  async function respond(
    step: Step,
    request: Req,
    reply: FastifyReply,
    outcome: PipelineOutcome,
    again: (error: string) => Promise<string> | string,
    sso = false,
  ) {
    switch (outcome.kind) {
      case 'retry':
        return reply
          .code(400)
          .type(HTML)
          .send(await again(ERROR_CODES[outcome.errorCode].message));
      case 'blocked':
        await step.tp.signInStates.delete(step.uid);
        return reply
          .code(403)
          .type(HTML)
          .send(errorPage({ code: outcome.errorCode, correlationId: request.id, at: clock.now() }));
      case 'mfa': {
        const state: SignInState = outcome.enrol
          ? {
              stage: 'enrol',
              userId: outcome.userId,
              amr: outcome.amr,
              secret: await services.keyring.encrypt(step.tp.tenantId, generateTotpSecret(), enrolPurpose(step)),
              sso,
            }
          : { stage: 'mfa', userId: outcome.userId, amr: outcome.amr, sso };
        await saveState(step, state);
        return reply.redirect(step.form.action, 303);
      }
      case 'allowed':
        return finish(step, request, reply, outcome.userId, outcome.amr, outcome.sessionControls, sso);
    }
  }

  /**
   * Ends the interaction with a login. Single sign-on continues the browser's session (a user request: activity;
   * an MFA step-up is recorded in it); a sign-in with credentials starts a new session, sets its two cookies, and
   * ends the one it replaces in this browser.
   */
  async function finish(
    step: Step,
    request: Req,
    reply: FastifyReply,
    userId: string,
    amr: readonly string[],
    controls: MergedSessionControls = {},
    sso = false,
  ) {
    await step.tp.signInStates.delete(step.uid);
    const sessions = services.sessions(step.tp.tenantId);
    const continued = sso && step.session?.userId === userId ? step.session : undefined;
    if (!continued && step.session) await sessions.revokeHandle(step.session.record.handle);
    let handle: string;
    if (continued) {
      handle = continued.record.handle;
      await sessions.touch(continued.record);
      if (amr.includes('mfa') && !continued.record.amr.includes('mfa')) await sessions.recordMfa(continued.record, amr);
    } else {
      const persistent = persistentBrowser(controls.persistentBrowser);
      const created = await sessions.create(userId, { amr, persistent });
      handle = created.session.handle;
      const issued = { ...created, persistent, expiresAt: created.times.expiresAt };
      reply.header(
        'set-cookie',
        sessionCookies(cookieScope(step.tp), issued, clock.now()).map((cookie) => serializeCookie(cookie)),
      );
    }
    // Single sign-on keeps the session's original authentication time (auth_time); a new sign-in starts a new one.
    const ts = continued?.loginTs;
    const signIn: GrantSignInContext = {
      devicePlatform: step.request.access.devicePlatform,
      clientAppType: step.request.access.clientAppType,
      sessionHandle: handle,
    };
    const result: InteractionResults = {
      login: {
        accountId: userId,
        amr: [...new Set([...amr, ...(continued?.record.amr ?? [])])],
        ...(ts ? { ts } : {}),
      },
      conditionalAccess: true,
      // Kept with the grant, so refresh-time checks see the device, the client app and the session of this sign-in.
      signIn,
    };
    const url = await step.tp.provider.interactionResult(request.raw, reply.raw, result, {
      mergeWithLastSubmission: false,
    });
    return reply.redirect(url, 303);
  }

  async function mfaView(step: Step, userId: string, error?: string): Promise<string> {
    return mfaPage(step.form, { methods: await mfaMethodsOf(services.credentials(step.tp.scope), userId), error });
  }

  async function enrolView(step: Step, state: Extract<SignInState, { stage: 'enrol' }>, error?: string) {
    const secret = await services.keyring.decryptText(step.tp.tenantId, state.secret, enrolPurpose(step));
    const user = await step.tp.directory.users.get(state.userId);
    const accountName = (user?.userPrincipalName ?? state.userId).replace(/:/g, '');
    const qrSvg = await totpQrSvg(totpUri({ secret, issuer: TOTP_ISSUER, accountName }));
    return enrolPage(step.form, { qrSvg, secret, error });
  }

  app.get<{ Params: Params }>('/t/:tenant/signin/:uid', async (request, reply) => {
    const step = await begin(request, reply);
    if (!step) return reply;
    if (step.prompt === 'consent') {
      // Every application is registered by the tenant's admins: consent is implied (loadExistingGrant grants it).
      return reply.redirect(await step.tp.provider.interactionResult(request.raw, reply.raw, { consent: {} }), 303);
    }
    const state = await stateOf(step);
    if (!state && step.session) {
      // Signed in already: no password, but this application's policies still apply.
      const outcome = await sessionSignIn(await pipelineDeps(step), step.request, step.session);
      const frequency = outcome.kind === 'allowed' ? outcome.sessionControls.signInFrequencyMinutes : undefined;
      if (frequency !== undefined && reauthenticationRequired(step.session.record, frequency, clock.now())) {
        // A policy's sign-in frequency has passed since this session signed in: credentials again.
        return reply.type(HTML).send(passwordPage(step.form, {}));
      }
      return respond(step, request, reply, outcome, (error) => passwordPage(step.form, { error }), true);
    }
    const body =
      state?.stage === 'mfa'
        ? await mfaView(step, state.userId)
        : state?.stage === 'enrol'
          ? await enrolView(step, state)
          : passwordPage(step.form, {});
    return reply.type(HTML).send(body);
  });

  app.post<{ Params: Params }>('/t/:tenant/signin/:uid/password', async (request, reply) => {
    const step = await begin(request, reply);
    if (!step) return reply;
    const { username, password } = bodyOf(request);
    const signInName = typeof username === 'string' ? username.slice(0, 256) : '';
    const outcome = await passwordSignIn(await pipelineDeps(step), step.request, { signInName: username, password });
    return respond(step, request, reply, outcome, (error) => passwordPage(step.form, { signInName, error }));
  });

  // Passwordless: "Sign in with a passkey" on the first page asks for a usernameless challenge (JSON in, JSON out).
  app.post<{ Params: Params }>('/t/:tenant/signin/:uid/passkey-sign-in/options', async (request, reply) => {
    const step = await begin(request, reply);
    if (!step) return reply;
    if (await stateOf(step)) return reply.code(409).send({ error: 'a sign-in is already under way in this request' });
    const options = await passkeySignInOptions(
      { credentials: services.credentials(step.tp.scope), clock },
      { challengeId: challengeIdOf(step), rp: relyingPartyFor(step.tp.issuer) },
    );
    return reply.type('application/json').send(options);
  });

  app.post<{ Params: Params }>('/t/:tenant/signin/:uid/passkey-sign-in', async (request, reply) => {
    const step = await begin(request, reply);
    if (!step) return reply;
    if (await stateOf(step)) return reply.redirect(step.form.action, 303);
    const outcome = await passkeySignIn(await pipelineDeps(step), step.request, {
      response: bodyOf(request).response,
      challengeId: challengeIdOf(step),
      rp: relyingPartyFor(step.tp.issuer),
    });
    return respond(step, request, reply, outcome, (error) => passwordPage(step.form, { error }));
  });

  function secondFactor(verify: (deps: SecondFactorDeps, input: SecondFactorInput) => Promise<SecondFactorResult>) {
    return async (request: Req, reply: FastifyReply) => {
      const step = await begin(request, reply);
      if (!step) return reply;
      const state = await stateOf(step);
      if (state?.stage !== 'mfa') return reply.redirect(step.form.action, 303);
      const body = bodyOf(request);
      const input: SecondFactorInput = {
        userId: state.userId,
        code: body.code,
        response: body.response,
        challengeId: challengeIdOf(step),
        rp: relyingPartyFor(step.tp.issuer),
        clientIp: request.clientIp,
      };
      const outcome = await secondFactorSignIn(await pipelineDeps(step), step.request, state, (deps) =>
        verify(deps, input),
      );
      return respond(step, request, reply, outcome, (error) => mfaView(step, state.userId, error), state.sso);
    };
  }
  app.post<{ Params: Params }>('/t/:tenant/signin/:uid/totp', secondFactor(verifyTotpStep));
  app.post<{ Params: Params }>('/t/:tenant/signin/:uid/passkey', secondFactor(verifyPasskeyStep));

  // The passkey button's script asks for a challenge limited to the user's passkeys (JSON in, JSON out).
  app.post<{ Params: Params }>('/t/:tenant/signin/:uid/passkey/options', async (request, reply) => {
    const step = await begin(request, reply);
    if (!step) return reply;
    const state = await stateOf(step);
    if (state?.stage !== 'mfa') return reply.code(409).send({ error: 'no second factor is expected now' });
    const options = await passkeyChallenge(
      { credentials: services.credentials(step.tp.scope), clock, lockoutPolicy: services.lockoutPolicy },
      { userId: state.userId, challengeId: challengeIdOf(step), rp: relyingPartyFor(step.tp.issuer) },
    );
    return reply.type('application/json').send(options);
  });
  app.post<{ Params: Params }>('/t/:tenant/signin/:uid/recovery-code', secondFactor(verifyRecoveryCodeStep));

  app.post<{ Params: Params }>('/t/:tenant/signin/:uid/enrol', async (request, reply) => {
    const step = await begin(request, reply);
    if (!step) return reply;
    const state = await stateOf(step);
    if (state?.stage !== 'enrol') return reply.redirect(step.form.action, 303);
    const secret = await services.keyring.decryptText(step.tp.tenantId, state.secret, enrolPurpose(step));
    let recoveryCodes: readonly string[] = [];
    const outcome = await secondFactorSignIn(await pipelineDeps(step), step.request, state, async (deps) => {
      const result = await confirmTotpEnrolment(deps, {
        userId: state.userId,
        secret,
        code: bodyOf(request).code,
        clientIp: request.clientIp,
      });
      recoveryCodes = result.recoveryCodes ?? [];
      return result;
    });
    if (outcome.kind !== 'allowed')
      return respond(step, request, reply, outcome, (error) => enrolView(step, state, error), state.sso);
    if (recoveryCodes.length === 0) {
      return finish(step, request, reply, outcome.userId, outcome.amr, outcome.sessionControls, state.sso);
    }
    // Signed in; the new recovery codes are shown once before going back to the app.
    await saveState(step, { stage: 'done', userId: outcome.userId, amr: outcome.amr, sso: state.sso });
    return reply.type(HTML).send(recoveryCodesPage(step.form, recoveryCodes));
  });

  // Passkey enrolment: the button's script asks for registration options for the user signing in.
  app.post<{ Params: Params }>('/t/:tenant/signin/:uid/enrol-passkey/options', async (request, reply) => {
    const step = await begin(request, reply);
    if (!step) return reply;
    const state = await stateOf(step);
    if (state?.stage !== 'enrol') return reply.code(409).send({ error: 'no enrolment is expected now' });
    const user = await step.tp.directory.users.get(state.userId);
    if (!user) return reply.code(409).send({ error: 'no enrolment is expected now' });
    const credentials = services.credentials(step.tp.scope);
    const userHandle = state.passkeyUserHandle ?? userHandleFor(await credentials.webauthn.listByUser(user.id));
    await saveState(step, { ...state, passkeyUserHandle: userHandle });
    const options = await passkeyEnrolmentOptions(
      { credentials, clock, lockoutPolicy: services.lockoutPolicy },
      { user, userHandle, challengeId: challengeIdOf(step), rp: relyingPartyFor(step.tp.issuer) },
    );
    return reply.type('application/json').send(options);
  });

  app.post<{ Params: Params }>('/t/:tenant/signin/:uid/enrol-passkey', async (request, reply) => {
    const step = await begin(request, reply);
    if (!step) return reply;
    const state = await stateOf(step);
    if (state?.stage !== 'enrol') return reply.redirect(step.form.action, 303);
    let recoveryCodes: readonly string[] = [];
    const outcome = await secondFactorSignIn(await pipelineDeps(step), step.request, state, async (deps) => {
      // Without a user handle no options were asked for: there is no challenge, and the answer fails closed.
      const result = await confirmPasskeyEnrolment(deps, {
        userId: state.userId,
        userHandle: state.passkeyUserHandle ?? '',
        response: bodyOf(request).response,
        challengeId: challengeIdOf(step),
        rp: relyingPartyFor(step.tp.issuer),
        name: `${browserOf(step.request.userAgent)} on ${step.request.access.devicePlatform}`,
        clientIp: request.clientIp,
      });
      recoveryCodes = result.recoveryCodes ?? [];
      return result;
    });
    if (outcome.kind !== 'allowed')
      return respond(step, request, reply, outcome, (error) => enrolView(step, state, error), state.sso);
    if (recoveryCodes.length === 0) {
      return finish(step, request, reply, outcome.userId, outcome.amr, outcome.sessionControls, state.sso);
    }
    await saveState(step, { stage: 'done', userId: outcome.userId, amr: outcome.amr, sso: state.sso });
    return reply.type(HTML).send(recoveryCodesPage(step.form, recoveryCodes));
  });

  app.post<{ Params: Params }>('/t/:tenant/signin/:uid/continue', async (request, reply) => {
    const step = await begin(request, reply);
    if (!step) return reply;
    const state = await stateOf(step);
    if (state?.stage !== 'done') return reply.redirect(step.form.action, 303);
    return finish(step, request, reply, state.userId, state.amr, {}, state.sso);
  });
}

type SecondFactorInput = {
  userId: string;
  code: unknown;
  /** The passkey assertion (JSON text) for the passkey step. */
  response: unknown;
  challengeId: string;
  rp: RelyingParty;
  clientIp: FastifyRequest['clientIp'];
};

/**
 * The browser's session, when the only login check pending is Conditional Access: the user is signed in and nothing
 * (max_age, prompt=login, another account's id_token_hint) asks for credentials again.
 */
async function ssoSession(
  tp: TenantProvider,
  details: Awaited<ReturnType<TenantProvider['provider']['interactionDetails']>>,
  sessions: Sessions,
  cookieHeader: string | undefined,
  scope: CookieScope,
): Promise<Step['session']> {
  const session = details.session;
  if (!session?.accountId || details.prompt.name !== 'login') return undefined;
  if (details.prompt.reasons.some((reason) => reason !== CONDITIONAL_ACCESS_CHECK)) return undefined;
  // Ended (absolute limit, inactivity, revoked, signed out), copied without its binding cookie, or another user's:
  // no single sign-on, credentials again.
  const { sessionId, bindingSecret } = readSessionCookies(cookieHeader, scope);
  const check = await sessions.check(sessionId, bindingSecret);
  if (!check.live || check.session.userId !== session.accountId) return undefined;
  const stored = session.cookie ? await tp.provider.Session.find(session.cookie) : undefined;
  return { userId: session.accountId, amr: check.session.amr, loginTs: stored?.loginTs, record: check.session };
}

/** The tenant's session cookies: per tenant, since every tenant's issuer is on the same host. */
export function cookieScope(tp: Pick<TenantProvider, 'issuer' | 'tenantId'>): CookieScope {
  return cookieScopeFor(tp.issuer, tp.tenantId);
}

/** One pending WebAuthn challenge per interaction. */
const challengeIdOf = (step: Step) => `signin:${step.tp.tenantId}:${step.uid}`;

function bodyOf(request: FastifyRequest): Record<string, unknown> {
  const body = request.body;
  return body !== null && typeof body === 'object' ? (body as Record<string, unknown>) : {};
}

function sameToken(presented: unknown, expected: string): boolean {
  if (typeof presented !== 'string') return false;
  const a = Buffer.from(presented);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
