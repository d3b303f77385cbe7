// Graph's applications API over the directory (directory/applications.ts). Graph's `application` describes platforms
// (`web`, `spa`, `publicClient`); a Portcullis application is one OIDC client, either confidential (a web app:
// `web.redirectUris`, secrets) or public (`publicClient.redirectUris`, PKCE, no secret). Secrets come only from
// addPassword, are shown once in its answer and kept as hashes. Every change is recorded in the directory audit log.
// One property is Portcullis's own: `idTokenSignedResponseAlg` ('RS256', the default, or 'ES256'), how the
// application's ID tokens are signed; Graph tools that do not know it leave it as it is.
//
//   GET    /applications                       a Graph page: $top, $select, $filter, @odata.nextLink
//   GET    /applications/{id}                  $select
//   POST   /applications                       201 with the created application
//   PATCH  /applications/{id}                  204
//   DELETE /applications/{id}                  204
//   POST   /applications/{id}/addPassword      200 passwordCredential with secretText (the only time it is shown)
//   POST   /applications/{id}/removePassword   204
import type { FastifyInstance } from 'fastify';
import type { AuditEvent, AuditModifiedProperty } from '../audit/directory-audit-port.ts';
import {
  type Application,
  DEFAULT_ID_TOKEN_SIGNING_ALGORITHM,
  type GrantType,
  type PasswordCredential,
} from '../directory/applications.ts';
import { directoryFor } from '../directory/directory.ts';
import { builtInRole, GLOBAL_ADMINISTRATOR } from '../directory/roles.ts';
import { HttpError } from '../http/graph-error.ts';
import { quote } from '../net/quote.ts';
import type { TenantScope } from '../store/tenant-scope.ts';
import { auditContextOf, recordChange } from './audit-actor.ts';
import { applicationRoles, type Principal, removeApplicationRole, requireRole } from './auth.ts';
import {
  badRequest,
  changes,
  type DirectoryRoutesOptions,
  directoryWrite,
  isPlainObject,
  knownProperties,
  LOGGED_BY,
  MANAGE_APPLICATIONS,
  noStore,
  notFound,
  objectBody,
  READ_APPLICATIONS,
  registerCollectionReads,
} from './directory-objects.ts';
import { type EntityType, parseDateLiteral } from './odata.ts';

type Params = { tenant: string };
type ItemParams = Params & { id: string };

export const APPLICATION: EntityType = {
  name: 'microsoft.graph.application',
  properties: [
    'id',
    'appId',
    'displayName',
    'createdDateTime',
    'signInAudience',
    'isFallbackPublicClient',
    'web',
    'spa',
    'publicClient',
    'passwordCredentials',
    'keyCredentials',
    'idTokenSignedResponseAlg',
  ],
  filterable: {
    id: 'string',
    appId: 'string',
    displayName: 'string',
    signInAudience: 'string',
    isFallbackPublicClient: 'boolean',
    createdDateTime: 'date',
    idTokenSignedResponseAlg: 'string',
  },
};

const WRITABLE = [
  'displayName',
  'web',
  'spa',
  'publicClient',
  'isFallbackPublicClient',
  'signInAudience',
  'keyCredentials',
  'passwordCredentials',
  'requiredResourceAccess',
  'idTokenSignedResponseAlg',
];
/** The one sign-in audience Portcullis has: the tenant's own accounts. */
const AUDIENCE = 'AzureADMyOrg';
const AUDITED = ['displayName', 'web', 'publicClient', 'idTokenSignedResponseAlg'];
const SECRETS_ACTIVITY = 'Update application – Certificates and secrets management';

/** Graph's `application` for a directory application. */
export function graphApplication(app: Application): Record<string, unknown> {
  const confidential = app.clientType === 'confidential';
  return {
    id: app.id,
    appId: app.appId,
    displayName: app.displayName,
    createdDateTime: app.createdDateTime,
    signInAudience: AUDIENCE,
    isFallbackPublicClient: !confidential,
    web: {
      redirectUris: confidential ? [...app.redirectUris] : [],
      logoutUrl: null,
      implicitGrantSettings: { enableAccessTokenIssuance: false, enableIdTokenIssuance: false },
    },
    spa: { redirectUris: [] },
    publicClient: { redirectUris: confidential ? [] : [...app.redirectUris] },
    passwordCredentials: app.passwordCredentials.map((c) => graphPasswordCredential(c)),
    keyCredentials: [],
    // A Portcullis extension (Graph has no such property; Entra signs with RS256 only): OpenID Connect's
    // id_token_signed_response_alg, camel-cased.
    idTokenSignedResponseAlg: app.idTokenSignedResponseAlg,
  };
}

/** The ID-token algorithm a request asks for: undefined to leave it, null for the default (RS256). */
function idTokenAlgOf(body: Record<string, unknown>): { idTokenSignedResponseAlg?: string } {
  const value = body.idTokenSignedResponseAlg;
  if (value === undefined) return {};
  return { idTokenSignedResponseAlg: value === null ? DEFAULT_ID_TOKEN_SIGNING_ALGORITHM : (value as string) };
}

function graphPasswordCredential(c: PasswordCredential, secretText: string | null = null): Record<string, unknown> {
  return {
    customKeyIdentifier: null,
    displayName: c.displayName,
    endDateTime: c.endDateTime,
    hint: c.hint,
    keyId: c.keyId,
    secretText,
    startDateTime: c.startDateTime,
  };
}

export function registerApplications(app: FastifyInstance, options: DirectoryRoutesOptions): void {
  const path = `${options.prefix}/applications`;
  const urls = (tenantId: string) => ({
    self: `${options.graphBase(tenantId)}/applications`,
    context: `${options.graphBase(tenantId)}/$metadata#applications`,
  });

  registerCollectionReads(app, options, {
    segment: 'applications',
    entity: APPLICATION,
    roles: READ_APPLICATIONS,
    noun: 'applications',
    list: (scope) => (r) => directoryFor(scope).applications.list(r),
    find: (scope, id) => directoryFor(scope).applications.get(id),
    shape: graphApplication,
  });

  app.post<{ Params: Params }>(path, async (request, reply) => {
    const { scope, principal } = await options.caller(request);
    requireRole(principal, MANAGE_APPLICATIONS, 'create applications');
    const body = knownProperties(objectBody(request.body, 'an application'), APPLICATION.name, WRITABLE);
    const platform = platformOf(body, undefined);
    const context = await auditContextOf(request, scope, principal);
    const created = await directoryWrite(
      () =>
        scope.transaction(async (tx) => {
          const { application } = await directoryFor(tx).applications.create({
            displayName: body.displayName as string,
            clientType: platform.clientType,
            redirectUris: platform.redirectUris,
            // Entra accepts a post-logout redirect only to a registered redirect URI: the same list.
            postLogoutRedirectUris: platform.redirectUris,
            grantTypes: grantsFor(platform.clientType, platform.redirectUris, undefined),
            ...idTokenAlgOf(body),
            initialSecret: false,
          });
          const shaped = graphApplication(application);
          await recordChange(options.audit, tx, context, {
            ...applicationEvent('Add application', 'Add', application, changes(undefined, shaped, AUDITED)),
          });
          return shaped;
        }),
      { redirectUris: platform.field, postLogoutRedirectUris: platform.field },
    );
    return noStore(reply)
      .code(201)
      .header('location', `${urls(scope.tenantId).self}/${created.id}`)
      .send({ '@odata.context': `${urls(scope.tenantId).context}/$entity`, ...created });
  });

  app.patch<{ Params: ItemParams }>(`${path}/:id`, async (request, reply) => {
    const { scope, principal } = await options.caller(request);
    requireRole(principal, MANAGE_APPLICATIONS, 'change applications');
    const body = knownProperties(objectBody(request.body, 'the properties to change'), APPLICATION.name, WRITABLE);
    const current = await directoryFor(scope).applications.get(request.params.id);
    if (!current) throw notFound(request.params.id);
    await requireAuthorityOver(scope, principal, current, 'change');
    const platform = platformOf(body, current);
    const context = await auditContextOf(request, scope, principal);
    await directoryWrite(
      () =>
        scope.transaction(async (tx) => {
          const urisChange = platform.given;
          const updated = await directoryFor(tx).applications.update(current.id, {
            ...(body.displayName !== undefined ? { displayName: body.displayName as string } : {}),
            ...idTokenAlgOf(body),
            ...(urisChange
              ? {
                  redirectUris: platform.redirectUris,
                  postLogoutRedirectUris: platform.redirectUris,
                  grantTypes: grantsFor(current.clientType, platform.redirectUris, current.grantTypes),
                }
              : {}),
          });
          if (!updated) throw notFound(request.params.id);
          const modified = changes(graphApplication(current), graphApplication(updated), AUDITED);
          if (modified.length > 0) {
            await recordChange(options.audit, tx, context, {
              ...applicationEvent('Update application', 'Update', updated, modified),
            });
          }
        }),
      { redirectUris: platform.field, postLogoutRedirectUris: platform.field },
    );
    return noStore(reply).code(204).send();
  });

  app.delete<{ Params: ItemParams }>(`${path}/:id`, async (request, reply) => {
    const { scope, principal } = await options.caller(request);
    requireRole(principal, MANAGE_APPLICATIONS, 'delete applications');
    const current = await directoryFor(scope).applications.get(request.params.id);
    if (!current) throw notFound(request.params.id);
    await requireAuthorityOver(scope, principal, current, 'delete');
    const context = await auditContextOf(request, scope, principal);
    await scope.transaction(async (tx) => {
      if (!(await directoryFor(tx).applications.delete(current.id))) throw notFound(request.params.id);
      // Its admin roles go with it (they are kept by appId, outside the application's row).
      await removeApplicationRole(tx, current.appId);
      await recordChange(options.audit, tx, context, {
        ...applicationEvent(
          'Delete application',
          'Delete',
          current,
          changes(graphApplication(current), undefined, AUDITED),
        ),
      });
    });
    return noStore(reply).code(204).send();
  });

  app.post<{ Params: ItemParams }>(`${path}/:id/addPassword`, async (request, reply) => {
    const { scope, principal } = await options.caller(request);
    requireRole(principal, MANAGE_APPLICATIONS, 'add secrets to applications');
    const body = objectBody(request.body ?? {}, 'an addPassword request {"passwordCredential": {…}}');
    const credential = body.passwordCredential ?? {};
    if (!isPlainObject(credential)) throw badRequest('passwordCredential: must be an object.');
    for (const key of Object.keys(credential)) {
      if (
        !['displayName', 'endDateTime', 'keyId', 'secretText', 'hint', 'customKeyIdentifier'].includes(key) &&
        !key.startsWith('@')
      ) {
        throw badRequest(`passwordCredential.${key}: not supported; give displayName and endDateTime.`);
      }
      if (['keyId', 'secretText', 'hint', 'customKeyIdentifier'].includes(key) && credential[key] !== null) {
        throw badRequest(`passwordCredential.${key}: is set by Portcullis, not by the request.`);
      }
    }
    let endTime: number | undefined;
    if (credential.endDateTime !== undefined && credential.endDateTime !== null) {
      endTime = typeof credential.endDateTime === 'string' ? parseDateLiteral(credential.endDateTime) : undefined;
      if (endTime === undefined) {
        throw badRequest('passwordCredential.endDateTime: must be a date and time such as 2027-01-31T00:00:00Z.');
      }
    }
    const current = await directoryFor(scope).applications.get(request.params.id);
    if (!current) throw notFound(request.params.id);
    await requireAuthorityOver(scope, principal, current, 'add a secret to');
    const context = await auditContextOf(request, scope, principal);
    const issued = await directoryWrite(
      () =>
        scope.transaction(async (tx) => {
          const result = await directoryFor(tx).applications.addSecret(current.id, {
            displayName: (credential.displayName ?? undefined) as string | undefined,
            ...(endTime === undefined ? {} : { endTime }),
          });
          if (!result) throw notFound(request.params.id);
          await recordChange(options.audit, tx, context, {
            ...applicationEvent(SECRETS_ACTIVITY, 'Update', result.application, [
              secretsChange(current.passwordCredentials, result.application.passwordCredentials),
            ]),
          });
          return result;
        }),
      {
        displayName: 'passwordCredential.displayName',
        endDateTime: 'passwordCredential.endDateTime',
        clientType: 'publicClient',
      },
    );
    return noStore(reply).send({
      '@odata.context': `${options.graphBase(scope.tenantId)}/$metadata#microsoft.graph.passwordCredential`,
      ...graphPasswordCredential(issued.credential, issued.secretText),
    });
  });

  app.post<{ Params: ItemParams }>(`${path}/:id/removePassword`, async (request, reply) => {
    const { scope, principal } = await options.caller(request);
    requireRole(principal, MANAGE_APPLICATIONS, 'remove secrets from applications');
    const body = objectBody(request.body, 'a removePassword request {"keyId": "…"}');
    if (typeof body.keyId !== 'string' || body.keyId.trim() === '') {
      throw badRequest("keyId: must be the keyId of one of the application's passwordCredentials.");
    }
    const keyId = body.keyId;
    const current = await directoryFor(scope).applications.get(request.params.id);
    if (!current) throw notFound(request.params.id);
    await requireAuthorityOver(scope, principal, current, 'remove a secret from');
    const context = await auditContextOf(request, scope, principal);
    await scope.transaction(async (tx) => {
      const directory = directoryFor(tx);
      if (!(await directory.applications.removeSecret(current.id, keyId))) {
        throw badRequest(`keyId: the application has no password credential ${quote(keyId)}.`);
      }
      const after = (await directory.applications.get(current.id)) ?? current;
      await recordChange(options.audit, tx, context, {
        ...applicationEvent(SECRETS_ACTIVITY, 'Update', after, [
          secretsChange(current.passwordCredentials, after.passwordCredentials),
        ]),
      });
    });
    return noStore(reply).code(204).send();
  });
}

interface Platform {
  readonly clientType: 'public' | 'confidential';
  readonly redirectUris: string[];
  /** Whether the request named redirect URIs (on PATCH, whether they change). */
  readonly given: boolean;
  /** The field the redirect URIs came from, for messages: `web.redirectUris` or `publicClient.redirectUris`. */
  readonly field: string;
}

/**
 * The client type and redirect URIs a request describes. A create is a public client when it names
 * `publicClient.redirectUris` or sets `isFallbackPublicClient`; otherwise a web app (confidential). A change keeps the
 * client type, and refuses URIs for the other kind of client.
 */
function platformOf(body: Record<string, unknown>, current: Application | undefined): Platform {
  if (body.signInAudience !== undefined && body.signInAudience !== AUDIENCE && body.signInAudience !== null) {
    throw badRequest(`signInAudience: Portcullis applications serve the tenant's own accounts; must be '${AUDIENCE}'.`);
  }
  for (const name of ['keyCredentials', 'passwordCredentials', 'requiredResourceAccess']) {
    const value = body[name];
    if (value !== undefined && value !== null && !(Array.isArray(value) && value.length === 0)) {
      throw badRequest(
        name === 'passwordCredentials'
          ? 'passwordCredentials: add secrets with POST /applications/{id}/addPassword (the secret is generated and shown once).'
          : `${name}: not supported by Portcullis; must be [] or left out.`,
      );
    }
  }
  const web = uris(body, 'web', ['redirectUris', 'logoutUrl', 'implicitGrantSettings', 'homePageUrl']);
  const spa = uris(body, 'spa', ['redirectUris']);
  const pub = uris(body, 'publicClient', ['redirectUris']);
  if (spa !== undefined && spa.length > 0) {
    throw badRequest(
      'spa.redirectUris: Portcullis treats a single-page app as a public client (authorization code with PKCE); ' +
        'put these URIs in publicClient.redirectUris.',
    );
  }
  const fallback = body.isFallbackPublicClient;
  if (fallback !== undefined && fallback !== null && typeof fallback !== 'boolean') {
    throw badRequest('isFallbackPublicClient: must be true or false.');
  }
  const webGiven = web !== undefined && web.length > 0;
  const pubGiven = pub !== undefined && pub.length > 0;
  if (current === undefined && webGiven && pubGiven) {
    throw badRequest(
      'web.redirectUris, publicClient.redirectUris: a Portcullis application is either a web app (confidential, ' +
        'web.redirectUris) or a public client (publicClient.redirectUris), not both; register two applications.',
    );
  }
  const clientType =
    current?.clientType ?? (pubGiven || fallback === true ? ('public' as const) : ('confidential' as const));
  if (current && typeof fallback === 'boolean' && fallback !== (current.clientType === 'public')) {
    throw badRequest('isFallbackPublicClient: the client type is fixed when the application is created.');
  }
  if (clientType === 'confidential' && pubGiven) {
    throw badRequest(
      'publicClient.redirectUris: this is a web application (confidential client); a Portcullis application is ' +
        'either a web app (web.redirectUris) or a public client (publicClient.redirectUris), not both.',
    );
  }
  if (clientType === 'public' && webGiven) {
    throw badRequest(
      'web.redirectUris: this is a public client; a Portcullis application is either a web app (web.redirectUris) ' +
        'or a public client (publicClient.redirectUris), not both.',
    );
  }
  const field = clientType === 'public' ? 'publicClient.redirectUris' : 'web.redirectUris';
  const given = clientType === 'public' ? pub : web;
  if (clientType === 'public' && (given ?? current?.redirectUris ?? []).length === 0) {
    throw badRequest(`${field}: a public client needs at least one redirect URI.`);
  }
  return {
    clientType,
    redirectUris: given ?? [...(current?.redirectUris ?? [])],
    given: given !== undefined,
    field,
  };
}

/** The redirect URIs of one platform object (`web`, `spa`, `publicClient`), or undefined when it is not given. */
function uris(body: Record<string, unknown>, name: string, allowed: readonly string[]): string[] | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (!isPlainObject(value)) throw badRequest(`${name}: must be an object such as {"redirectUris": [...]}.`);
  for (const [key, inner] of Object.entries(value)) {
    if (key.startsWith('@')) continue;
    if (!allowed.includes(key)) throw badRequest(`${name}.${key}: not supported by Portcullis.`);
    if (key === 'logoutUrl' || key === 'homePageUrl') {
      if (inner !== null) throw badRequest(`${name}.${key}: not supported by Portcullis; must be null.`);
    }
    if (key === 'implicitGrantSettings') {
      const settings = isPlainObject(inner) ? inner : {};
      for (const flag of ['enableIdTokenIssuance', 'enableAccessTokenIssuance']) {
        if (settings[flag] === true) {
          throw badRequest(
            `${name}.implicitGrantSettings.${flag}: the implicit flow is not supported; use the authorization code flow.`,
          );
        }
      }
    }
  }
  const list = value.redirectUris;
  if (list === undefined) return undefined;
  if (!Array.isArray(list)) throw badRequest(`${name}.redirectUris: must be a list of URIs.`);
  return list as string[];
}

/**
 * The OAuth grants that go with the redirect URIs. A public client signs people in (authorization code with PKCE).
 * A web app signs people in when it has redirect URIs, and may always use client credentials, as in Entra. On a
 * change, the grants an application has stay, except what the redirect URIs now allow or no longer allow.
 */
function grantsFor(
  clientType: 'public' | 'confidential',
  redirectUris: readonly string[],
  current: readonly GrantType[] | undefined,
): GrantType[] {
  const signIn: GrantType[] = ['authorization_code', 'refresh_token'];
  if (clientType === 'public') return signIn;
  if (current === undefined)
    return redirectUris.length > 0 ? [...signIn, 'client_credentials'] : ['client_credentials'];
  const others = current.filter((g) => !signIn.includes(g));
  if (redirectUris.length === 0) return others.length > 0 ? others : ['client_credentials'];
  return current.includes('authorization_code') ? [...current] : [...signIn, ...others];
}

/**
 * An application that holds admin roles (the automation client `init` registers is a Global Administrator) can be
 * changed only by a Global Administrator: otherwise an Application Administrator could add a secret to it and act
 * with its roles.
 */
async function requireAuthorityOver(scope: TenantScope, principal: Principal, target: Application, verb: string) {
  if (principal.roles.has(GLOBAL_ADMINISTRATOR)) return;
  const held = await applicationRoles(scope, target.appId);
  if (held.length === 0) return;
  const names = held.map((r) => builtInRole(r)?.displayName ?? r).join(', ');
  throw new HttpError(
    403,
    `Insufficient privileges to ${verb} the application ${quote(target.displayName)}: it holds ${names}, ` +
      'and only a Global Administrator can change such an application.',
    'Authorization_RequestDenied',
  );
}

function secretsChange(
  before: readonly PasswordCredential[],
  after: readonly PasswordCredential[],
): AuditModifiedProperty {
  // The key ids, names and expiry of the secrets: never the secret, nor its hint (the first characters of it).
  const describe = (list: readonly PasswordCredential[]) =>
    list.map((c) => ({ keyId: c.keyId, displayName: c.displayName, endDateTime: c.endDateTime }));
  return { displayName: 'KeyDescription', oldValue: describe(before), newValue: describe(after) };
}

function applicationEvent(
  activityDisplayName: string,
  operationType: AuditEvent['operationType'],
  application: Application,
  modifiedProperties: AuditModifiedProperty[],
): AuditEvent {
  return {
    category: 'ApplicationManagement',
    activityDisplayName,
    operationType,
    targets: [{ id: application.id, type: 'Application', displayName: application.displayName, modifiedProperties }],
    loggedByService: LOGGED_BY,
  };
}
