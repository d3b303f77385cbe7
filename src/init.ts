// `portcullis init` (and a first `serve`): the default tenant, its first Global Administrator and an admin API client
// for automation. Interrupted part-way (a crash, a killed process), it picks up where it stopped: the tenant is found
// again and what is missing is created; a tenant that already has a Global Administrator is initialised.
import { randomBytes } from 'node:crypto';
import { assignApplicationRole } from './admin/auth.ts';
import { DirectoryAuditLog } from './audit/directory-audit.ts';
import type { AuditActor, AuditEvent } from './audit/directory-audit-port.ts';
import { hashPassword } from './auth/password-hash.ts';
import { checkPasswordPolicy } from './auth/password-policy.ts';
import { PasswordCredentialRepository } from './auth/store/index.ts';
import type { Clock } from './clock.ts';
import { directoryFor } from './directory/directory.ts';
import { GLOBAL_ADMINISTRATOR } from './directory/roles.ts';
import { DEFAULT_TENANT_NAME, ensureDefaultTenant, type TenantRecord } from './directory/tenants.ts';
import { ADMIN_API_SCOPE } from './oidc/provider.ts';
import type { Store } from './store/store.ts';
import { TenantRepository } from './store/tenant-repository.ts';

/** The application `init` registers for scripts: client credentials for the admin API. */
export const AUTOMATION_APP_NAME = 'Portcullis admin automation';

/** What `init --json` prints: a contract scripts depend on. */
export interface InitSummary {
  readonly tenant: string;
  readonly issuer: string;
  readonly tokenEndpoint: string;
  readonly graphBaseUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly scope: string;
}

export interface InitResult {
  readonly summary: InitSummary;
  readonly tenant: TenantRecord;
  readonly admin: {
    readonly userPrincipalName: string;
    /** Present when the password was generated: show it once, it is stored only as a hash. */
    readonly generatedPassword?: string;
  };
}

export class AlreadyInitialisedError extends Error {
  override name = 'AlreadyInitialisedError';
}

/** Bad input to init (a password the policy refuses): nothing has been written. */
export class InitInputError extends Error {
  override name = 'InitInputError';
}

/** How the directory audit log names `init` (docs/audit.md). */
const INIT_ACTOR: AuditActor = { kind: 'system', displayName: 'portcullis init' };

export interface InitOptions {
  /** Issuer and other URLs are built from it. */
  readonly publicUrl: string;
  /** The administrator's password; generated (and returned once) when absent. */
  readonly adminPassword?: string;
  /** Default `admin@<host of publicUrl>`. */
  readonly adminUserPrincipalName?: string;
  readonly clock: Clock;
}

/** The tenant-facing URLs of a tenant, as `init` reports them. */
export function tenantUrls(publicUrl: string, tenantId: string): { issuer: string; graphBaseUrl: string } {
  const issuer = `${publicUrl}/t/${tenantId}`;
  return { issuer, graphBaseUrl: `${issuer}/graph/v1.0` };
}

/** True when the default tenant exists and has a Global Administrator. */
export async function isInitialised(store: Store): Promise<boolean> {
  const tenant = await new TenantRepository(store).getByName(DEFAULT_TENANT_NAME);
  if (!tenant) return false;
  const holders = await directoryFor(store.forTenant(tenant.id)).roles.list({ roleDefinitionId: GLOBAL_ADMINISTRATOR });
  return holders.length > 0;
}

export async function initialise(store: Store, options: InitOptions): Promise<InitResult> {
  const upn = options.adminUserPrincipalName ?? `admin@${new URL(options.publicUrl).hostname.replace(/^\[|\]$/g, '')}`;
  const generated = options.adminPassword === undefined ? generatePassword() : undefined;
  const password = options.adminPassword ?? (generated as string);
  const violations = checkPasswordPolicy(password, { userPrincipalName: upn });
  if (violations.length > 0) {
    throw new InitInputError(`the administrator's password is refused: ${violations.map((v) => v.message).join('; ')}`);
  }
  if (await isInitialised(store)) {
    throw new AlreadyInitialisedError(
      `the '${DEFAULT_TENANT_NAME}' tenant already has a Global Administrator: this data is initialised`,
    );
  }
  // Hash before writing anything, so a failure here leaves nothing behind.
  const phc = await hashPassword(password);

  const { tenant } = await ensureDefaultTenant(store);
  const audit = new DirectoryAuditLog();
  // The tenant's first changes, in one transaction with their directory audit records.
  const automation = await store.forTenant(tenant.id).transaction(async (scope) => {
    const record = (event: AuditEvent) => audit.record(scope, INIT_ACTOR, event);
    const directory = directoryFor(scope);
    let admin = await directory.users.getByUserPrincipalName(upn);
    if (!admin) {
      admin = await directory.users.create({ userPrincipalName: upn, displayName: 'Administrator', mail: null });
      await record({
        category: 'UserManagement',
        activityDisplayName: 'Add user',
        operationType: 'Add',
        targets: [{ id: admin.id, displayName: admin.displayName, userPrincipalName: upn, type: 'User' }],
      });
    }
    const adminTarget = { id: admin.id, displayName: admin.displayName, userPrincipalName: upn, type: 'User' } as const;
    await new PasswordCredentialRepository(scope).put({ userId: admin.id, phc, updatedAt: options.clock.now() });
    // The password itself (even its hash) is never in the log.
    await record({
      category: 'UserManagement',
      activityDisplayName: 'Reset user password',
      operationType: 'Update',
      targets: [adminTarget],
    });
    await directory.roles.assign(admin.id, GLOBAL_ADMINISTRATOR);
    await record(roleAssigned(adminTarget));
    // A retried init registers a fresh client: the secret of one from an interrupted run was never shown.
    const created = await directory.applications.create({
      displayName: AUTOMATION_APP_NAME,
      clientType: 'confidential',
      grantTypes: ['client_credentials'],
    });
    if (created.secretText === undefined) throw new Error('a confidential application was created without a secret');
    const appTarget = {
      id: created.application.id,
      displayName: AUTOMATION_APP_NAME,
      type: 'Application',
    } as const;
    await record({
      category: 'ApplicationManagement',
      activityDisplayName: 'Add application',
      operationType: 'Add',
      targets: [appTarget],
    });
    // The automation client manages everything through the admin API, as a Global Administrator.
    await assignApplicationRole(scope, created.application.appId, GLOBAL_ADMINISTRATOR);
    await record(roleAssigned(appTarget));
    return { application: created.application, secretText: created.secretText };
  });

  const { issuer, graphBaseUrl } = tenantUrls(options.publicUrl, tenant.id);
  return {
    tenant,
    admin: { userPrincipalName: upn, ...(generated === undefined ? {} : { generatedPassword: generated }) },
    summary: {
      tenant: tenant.id,
      issuer,
      tokenEndpoint: `${issuer}/token`,
      graphBaseUrl,
      clientId: automation.application.appId,
      clientSecret: automation.secretText,
      scope: ADMIN_API_SCOPE,
    },
  };
}

/** Entra's record of a role given to a user or application. */
function roleAssigned(target: AuditEvent['targets'][number]): AuditEvent {
  return {
    category: 'RoleManagement',
    activityDisplayName: 'Add member to role',
    operationType: 'Assign',
    targets: [
      target,
      {
        id: GLOBAL_ADMINISTRATOR,
        displayName: 'Global Administrator',
        type: 'Role',
        modifiedProperties: [
          { displayName: 'Role.DisplayName', oldValue: undefined, newValue: 'Global Administrator' },
          { displayName: 'Role.TemplateId', oldValue: undefined, newValue: GLOBAL_ADMINISTRATOR },
        ],
      },
    ],
  };
}

/** 24 characters from a 62-letter alphabet (about 143 bits), easy to copy by hand. */
function generatePassword(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const out: string[] = [];
  while (out.length < 24) {
    for (const byte of randomBytes(32)) {
      // 248 = 4 × 62: rejecting the rest keeps every letter equally likely.
      if (byte < 248 && out.length < 24) out.push(alphabet[byte % 62]);
    }
  }
  return out.join('');
}
