// The built-in admin roles, with Entra's role template ids so Conditional Access policies exported from Entra
// (`includeRoles`) mean the same people here. Ids from Microsoft's "Microsoft Entra built-in roles" reference.

export interface BuiltInRole {
  /** The role template id (Graph's `roleTemplateId`, also the `roleDefinitionId` of built-in roles). */
  readonly id: string;
  readonly displayName: string;
  readonly description: string;
}

export const GLOBAL_ADMINISTRATOR = '62e90394-69f5-4237-9190-012177145e10';
export const CONDITIONAL_ACCESS_ADMINISTRATOR = 'b1be1c3e-b65d-4f19-8427-f6fa0d97feb9';
export const SECURITY_ADMINISTRATOR = '194ae4cb-b126-40b2-bd5b-6091b380977d';
export const SECURITY_READER = '5d6b6bb7-de71-4623-b4af-96380a352509';
export const REPORTS_READER = '4a5d8f65-41da-4de4-8968-e035b65339cf';
export const USER_ADMINISTRATOR = 'fe930be7-5e62-47db-91af-98c3a49a38b1';
export const APPLICATION_ADMINISTRATOR = '9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3';

export const BUILT_IN_ROLES: readonly BuiltInRole[] = Object.freeze([
  {
    id: GLOBAL_ADMINISTRATOR,
    displayName: 'Global Administrator',
    description: 'Can manage all aspects of the tenant.',
  },
  {
    id: CONDITIONAL_ACCESS_ADMINISTRATOR,
    displayName: 'Conditional Access Administrator',
    description: 'Can manage Conditional Access policies and named locations.',
  },
  {
    id: SECURITY_ADMINISTRATOR,
    displayName: 'Security Administrator',
    description: 'Can read security information and reports, and manage security configuration.',
  },
  {
    id: SECURITY_READER,
    displayName: 'Security Reader',
    description: 'Can read security information and reports.',
  },
  {
    id: REPORTS_READER,
    displayName: 'Reports Reader',
    description: 'Can read sign-in and audit reports.',
  },
  {
    id: USER_ADMINISTRATOR,
    displayName: 'User Administrator',
    description: 'Can manage all aspects of users and groups.',
  },
  {
    id: APPLICATION_ADMINISTRATOR,
    displayName: 'Application Administrator',
    description: 'Can create and manage all aspects of application registrations.',
  },
]);

const BY_ID = new Map(BUILT_IN_ROLES.map((role) => [role.id, role]));

/** The built-in role with this template id (any letter case), or undefined. */
export function builtInRole(id: unknown): BuiltInRole | undefined {
  return typeof id === 'string' ? BY_ID.get(id.trim().toLowerCase()) : undefined;
}
