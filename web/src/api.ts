// The console's only way to the server: the Graph API of its own tenant (base `/t/{tenantId}/graph/v1.0`), called
// with the console session cookie (sent by the browser) and the session's CSRF token in X-CSRF-Token. Errors keep the
// Graph error body's message, which names the field.

/** `/t/{tenantId}/console/` → the tenant id and the URL paths the console uses. */
const match = /^(.*\/t\/([^/]+))\/console\//.exec(location.pathname);
export const TENANT_PATH = match ? match[1] : '';
export const TENANT_ID = match ? decodeURIComponent(match[2]) : '';
export const GRAPH_PATH = `${TENANT_PATH}/graph/v1.0`;
export const CONSOLE_PATH = `${TENANT_PATH}/console/`;

export interface Role {
  readonly id: string;
  readonly displayName: string;
}

export interface ConsoleSession {
  readonly tenantId: string;
  readonly graphBaseUrl: string;
  readonly consoleAppId: string;
  readonly csrfToken: string;
  readonly user: { readonly id: string; readonly displayName: string; readonly userPrincipalName: string };
  readonly roles: readonly Role[];
}

/** An answer other than 2xx: the HTTP status, Graph's error code and message. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

let csrfToken = '';
/** Called when the API says the session has ended (401): the app shows the sign-in page. */
let onSignedOut: () => void = () => {};

export function configureApi(session: ConsoleSession, signedOut: () => void): void {
  csrfToken = session.csrfToken;
  onSignedOut = signedOut;
}

async function errorOf(response: Response): Promise<ApiError> {
  let code = String(response.status);
  let message = `The server answered ${response.status} ${response.statusText}.`;
  try {
    const body = (await response.json()) as { error?: { code?: string; message?: string } };
    if (body?.error?.message) message = body.error.message;
    if (body?.error?.code) code = body.error.code;
  } catch {
    // Not a Graph error body: keep the status line.
  }
  return new ApiError(response.status, code, message);
}

/** The console session, or undefined when not signed in (401). */
export async function loadSession(): Promise<ConsoleSession | undefined> {
  const response = await fetch(`${CONSOLE_PATH}session`, { credentials: 'same-origin', cache: 'no-store' });
  if (response.status === 401) return undefined;
  if (!response.ok) throw await errorOf(response);
  return (await response.json()) as ConsoleSession;
}

export async function signOut(): Promise<void> {
  const response = await fetch(`${CONSOLE_PATH}signout`, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'x-csrf-token': csrfToken },
  });
  const body = (await response.json().catch(() => ({}))) as { location?: string };
  location.assign(body.location ?? CONSOLE_PATH);
}

/**
 * A Graph call: `path` below the Graph base (`/identity/conditionalAccess/policies`), or an `@odata.nextLink` as the
 * server wrote it (only its path and query are used, so the console works whatever host name the server was given).
 */
export async function graph<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
  const url = /^https?:/.test(path) ? localPath(path) : `${GRAPH_PATH}${path}`;
  const response = await fetch(url, {
    method,
    credentials: 'same-origin',
    cache: 'no-store',
    headers: {
      accept: 'application/json',
      'x-csrf-token': csrfToken,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (response.status === 401) {
    const error = await errorOf(response);
    onSignedOut();
    throw error;
  }
  if (!response.ok) throw await errorOf(response);
  if (response.status === 204 || response.headers.get('content-length') === '0') return undefined as T;
  const text = await response.text();
  return (text === '' ? undefined : JSON.parse(text)) as T;
}

function localPath(url: string): string {
  const parsed = new URL(url);
  return parsed.pathname + parsed.search;
}

/** A Graph collection page. */
export interface Page<T> {
  readonly value: T[];
  readonly '@odata.nextLink'?: string;
}

/** Every item of a collection (following nextLink), for the pickers; an empty list when the caller may not read it. */
export async function all<T>(path: string, limit = 2000): Promise<T[]> {
  const items: T[] = [];
  let next: string | undefined = path;
  while (next !== undefined && items.length < limit) {
    const page: Page<T> = await graph<Page<T>>('GET', next);
    items.push(...page.value);
    next = page['@odata.nextLink'];
  }
  return items;
}

/** An OData string literal: single quotes, a quote inside doubled. */
export function quote(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}
