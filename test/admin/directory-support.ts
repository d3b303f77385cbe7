// What the directory API tests share: a Portcullis over HTTPS (https-server.ts) whose admin API records changes in an
// audit writer the test can read (and make fail), tokens for applications holding given admin roles, and a fetch
// wrapper that returns status, headers and the JSON body.
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import { assignApplicationRole } from '../../src/admin/auth.ts';
import type { AuditActor, AuditEvent, DirectoryAuditWriter } from '../../src/audit/directory-audit-port.ts';
import { directoryFor } from '../../src/directory/directory.ts';
import { ADMIN_API_SCOPE } from '../../src/oidc/provider.ts';
import type { TenantScope } from '../../src/store/tenant-scope.ts';
import { type HttpsPortcullis, startHttpsPortcullis } from './https-server.ts';

export interface AuditRecord {
  readonly tenantId: string;
  readonly actor: AuditActor;
  readonly event: AuditEvent;
}

/**
 * An audit writer whose records are rows written in the change's transaction (unknown tenant_settings keys, which
 * nothing else reads): a record exists afterwards only if its change committed, as in the real log. It can be told
 * to fail, to show that a change whose audit record fails is not made either.
 */
export class RecordingAudit implements DirectoryAuditWriter {
  /** When set, `record` throws for events with this activity. */
  failOn: string | undefined;
  #sequence = 0;

  async record(tx: TenantScope, actor: AuditActor, event: AuditEvent): Promise<void> {
    if (event.activityDisplayName === this.failOn) throw new Error(`audit store unavailable (${this.failOn})`);
    const key = `${KEY_PREFIX}${String(++this.#sequence).padStart(8, '0')}`;
    const value = JSON.stringify({ tenantId: tx.tenantId, actor, event });
    await tx.insertInto('tenant_settings', { key, value, modified_at: tx.now() }).execute();
  }

  /** Every committed record of the tenant, oldest first. */
  async records(scope: TenantScope): Promise<AuditRecord[]> {
    const rows = await scope
      .selectFrom('tenant_settings')
      .select(['key', 'value'])
      .where('key', 'like', `${KEY_PREFIX}%`)
      .execute();
    return rows.sort((a, b) => (a.key < b.key ? -1 : 1)).map((r) => JSON.parse(r.value) as AuditRecord);
  }
}

const KEY_PREFIX = 'test-audit-';

export interface Answer {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies are inspected field by field.
  body: any;
}

export interface DirectoryServer {
  readonly server: HttpsPortcullis;
  readonly audit: RecordingAudit;
  /** The committed audit records, oldest first; `activity` keeps only those of one activity. */
  audits(activity?: string): Promise<AuditRecord[]>;
  /** The test tenant's scope. */
  readonly scope: TenantScope;
  /** `{issuer}/graph/v1.0` */
  readonly graph: string;
  /** The automation client's token: a Global Administrator. */
  readonly token: string;
  tokenFor(roles: readonly string[]): Promise<string>;
  /** A client-credentials token for the admin API. */
  clientToken(clientId: string, clientSecret: string): Promise<string>;
  call(method: string, path: string, options?: { token?: string; body?: unknown; raw?: string }): Promise<Answer>;
  close(): Promise<void>;
}

export async function startDirectoryServer(): Promise<DirectoryServer> {
  const audit = new RecordingAudit();
  const server = await startHttpsPortcullis({ audit });
  const graph = `${server.issuer}/graph/v1.0`;

  async function clientToken(clientId: string, clientSecret: string): Promise<string> {
    const config = await client.discovery(new URL(server.issuer), clientId, clientSecret);
    return (await client.clientCredentialsGrant(config, { scope: ADMIN_API_SCOPE })).access_token;
  }

  async function tokenFor(roles: readonly string[]): Promise<string> {
    const scope = server.store.forTenant(server.tenantId);
    const created = await directoryFor(scope).applications.create({
      displayName: `holder of ${roles.length} roles`,
      clientType: 'confidential',
      grantTypes: ['client_credentials'],
    });
    for (const role of roles) await assignApplicationRole(scope, created.application.appId, role);
    assert.ok(created.secretText);
    return clientToken(created.application.appId, created.secretText);
  }

  const token = await clientToken(server.automation.clientId, server.automation.clientSecret);

  async function call(
    method: string,
    path: string,
    options: { token?: string; body?: unknown; raw?: string } = {},
  ): Promise<Answer> {
    const url = path.startsWith('https:') ? path : `${graph}${path}`;
    const hasBody = options.body !== undefined || options.raw !== undefined;
    const response = await fetch(url, {
      method,
      headers: {
        authorization: `Bearer ${options.token ?? token}`,
        ...(hasBody ? { 'content-type': 'application/json' } : {}),
      },
      body: options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
  }

  const scope = server.store.forTenant(server.tenantId);
  const audits = async (activity?: string) =>
    (await audit.records(scope)).filter((r) => activity === undefined || r.event.activityDisplayName === activity);
  return { server, audit, audits, scope, graph, token, tokenFor, clientToken, call, close: () => server.close() };
}

/** Asserts a Graph error answer: the status, the code, and a message matching `message`. */
export function assertGraphError(answer: Answer, status: number, code: string, message?: RegExp): void {
  assert.equal(answer.status, status, JSON.stringify(answer.body));
  assert.equal(answer.body?.error?.code, code, JSON.stringify(answer.body));
  assert.ok(answer.body.error.innerError?.['request-id'], 'a request id');
  if (message) assert.match(answer.body.error.message, message);
}
