// The built-in admin roles (Entra's role template ids, as src/directory/roles.ts), for the policy editor's pickers.
import type { Option } from './components.tsx';

export const ROLES: readonly Option[] = [
  { id: '62e90394-69f5-4237-9190-012177145e10', label: 'Global Administrator' },
  { id: 'b1be1c3e-b65d-4f19-8427-f6fa0d97feb9', label: 'Conditional Access Administrator' },
  { id: '194ae4cb-b126-40b2-bd5b-6091b380977d', label: 'Security Administrator' },
  { id: '5d6b6bb7-de71-4623-b4af-96380a352509', label: 'Security Reader' },
  { id: '4a5d8f65-41da-4de4-8968-e035b65339cf', label: 'Reports Reader' },
  { id: 'fe930be7-5e62-47db-91af-98c3a49a38b1', label: 'User Administrator' },
  { id: '9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3', label: 'Application Administrator' },
];
