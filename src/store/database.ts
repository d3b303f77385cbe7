// The database schema as Kysely sees it: one interface per table, written by hand to match the migrations.
// Conventions (see migrations/0001_initial.ts): ids are text (UUIDs), times are integer epoch milliseconds, JSON is
// text, booleans are integers 0/1 — the same representation on SQLite and PostgreSQL.

/** Milliseconds since the Unix epoch (what `Clock.now()` returns). */
export type EpochMs = number;
/** 0 or 1: SQLite has no boolean type, so both databases store integers. */
export type Flag = 0 | 1;

export interface TenantsTable {
  id: string;
  /** Short, URL-safe, unique: tenant-facing URLs name the tenant by it (`default`). */
  name: string;
  display_name: string;
  created_at: EpochMs;
  modified_at: EpochMs;
}

export interface DataKeysTable {
  tenant_id: string;
  version: number;
  /** AES-256-GCM of the data key under the master key: base64url(iv ‖ ciphertext ‖ tag). */
  wrapped_key: string;
  /** Which master key wrapped it, so a wrong master key is reported as such. */
  master_key_id: string;
  created_at: EpochMs;
}

export interface UsersTable {
  tenant_id: string;
  id: string;
  user_principal_name: string;
  /** Lower-cased user principal name: the unique, case-insensitive lookup key. */
  upn_key: string;
  display_name: string;
  mail: string | null;
  user_type: 'member' | 'guest';
  account_enabled: Flag;
  created_at: EpochMs;
  modified_at: EpochMs;
}

export interface GroupsTable {
  tenant_id: string;
  id: string;
  display_name: string;
  description: string | null;
  mail_nickname: string | null;
  created_at: EpochMs;
  modified_at: EpochMs;
}

export interface GroupMembersTable {
  tenant_id: string;
  group_id: string;
  member_type: 'user' | 'group';
  member_id: string;
  created_at: EpochMs;
}

export interface RoleAssignmentsTable {
  tenant_id: string;
  id: string;
  /** Entra role template id, lower case. */
  role_definition_id: string;
  /** The user the role is assigned to. */
  principal_id: string;
  created_at: EpochMs;
}

export interface ApplicationsTable {
  tenant_id: string;
  /** Object id. */
  id: string;
  /** The OAuth client_id. */
  app_id: string;
  display_name: string;
  client_type: 'public' | 'confidential';
  /** JSON array of strings. */
  redirect_uris: string;
  /** JSON array of strings. */
  post_logout_redirect_uris: string;
  /** JSON array of grant type names. */
  grant_types: string;
  /** JSON array of stored client secrets (hashes only); see directory/applications.ts. */
  client_secrets: string;
  /** OpenID Connect's id_token_signed_response_alg: 'RS256' or 'ES256'; null is RS256 (0007_id_token_alg). */
  id_token_signed_response_alg: string | null;
  created_at: EpochMs;
  modified_at: EpochMs;
}

export interface PasswordCredentialsTable {
  tenant_id: string;
  user_id: string;
  /** PHC string, e.g. `$argon2id$v=19$m=…`. */
  hash: string;
  created_at: EpochMs;
  modified_at: EpochMs;
}

export interface TotpCredentialsTable {
  tenant_id: string;
  id: string;
  user_id: string;
  /** The shared secret, encrypted by the keyring. */
  secret_ciphertext: string;
  confirmed: Flag;
  /** RFC 6238 §5.2: a verifier must not accept the same time step twice. */
  last_used_step: number | null;
  created_at: EpochMs;
  confirmed_at: EpochMs | null;
}

export interface RecoveryCodesTable {
  tenant_id: string;
  id: string;
  user_id: string;
  code_hash: string;
  created_at: EpochMs;
  used_at: EpochMs | null;
}

export interface WebauthnCredentialsTable {
  tenant_id: string;
  /** Credential id, base64url. */
  id: string;
  user_id: string;
  /** COSE public key, base64url. */
  public_key: string;
  counter: number;
  /** JSON array of AuthenticatorTransport names. */
  transports: string;
  device_type: string | null;
  backed_up: Flag;
  display_name: string | null;
  created_at: EpochMs;
  last_used_at: EpochMs | null;
}

export interface LockoutsTable {
  tenant_id: string;
  subject_type: 'user' | 'ip';
  /** A user id or an IP address (or prefix), by subject_type. */
  subject: string;
  failures: number;
  level: number;
  locked_until: EpochMs | null;
  last_failure_at: EpochMs | null;
}

export interface OidcPayloadsTable {
  tenant_id: string;
  /** oidc-provider model name: Session, AccessToken, AuthorizationCode, … */
  model: string;
  id: string;
  /** The payload as JSON. */
  payload: string;
  grant_id: string | null;
  uid: string | null;
  user_code: string | null;
  expires_at: EpochMs | null;
  consumed_at: EpochMs | null;
}

export interface SigningKeysTable {
  tenant_id: string;
  /** JWK `kid`. */
  id: string;
  alg: string;
  /** The private JWK as JSON, encrypted by the keyring. */
  jwk_ciphertext: string;
  created_at: EpochMs;
  retired_at: EpochMs | null;
}

/** Named locations and Conditional Access policies: the Graph JSON body is the record. */
export interface GraphDocumentTable {
  tenant_id: string;
  id: string;
  body: string;
  created_at: EpochMs;
  modified_at: EpochMs;
}

export interface SignInLogsTable {
  tenant_id: string;
  id: string;
  created_at: EpochMs;
  user_id: string | null;
  app_id: string | null;
  /** Graph `signIn.status.errorCode`: 0 is success. */
  status_error_code: number;
  correlation_id: string | null;
  /** The Graph `signIn` object as JSON. */
  body: string;
}

export interface Database {
  tenants: TenantsTable;
  data_keys: DataKeysTable;
  users: UsersTable;
  groups: GroupsTable;
  group_members: GroupMembersTable;
  role_assignments: RoleAssignmentsTable;
  applications: ApplicationsTable;
  password_credentials: PasswordCredentialsTable;
  totp_credentials: TotpCredentialsTable;
  recovery_codes: RecoveryCodesTable;
  webauthn_credentials: WebauthnCredentialsTable;
  lockouts: LockoutsTable;
  oidc_payloads: OidcPayloadsTable;
  signing_keys: SigningKeysTable;
  named_locations: GraphDocumentTable;
  ca_policies: GraphDocumentTable;
  sign_in_logs: SignInLogsTable;
}

/** Every table except `tenants` belongs to one tenant and is reached only through a `TenantScope`. */
export type TenantTable = Exclude<keyof Database, 'tenants'>;
