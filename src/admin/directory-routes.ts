// Graph's directory API under each tenant's Graph base URL: users (users.ts), groups and their members (groups.ts),
// applications and their secrets (applications.ts). What they share — roles, paging, errors, the audit actor — is in
// directory-objects.ts; docs/admin-api.md lists the routes and which admin roles may use them.
import type { FastifyInstance } from 'fastify';
import { registerApplications } from './applications.ts';
import type { DirectoryRoutesOptions } from './directory-objects.ts';
import { registerGroups } from './groups.ts';
import { registerUsers } from './users.ts';

export type { DirectoryRoutesOptions } from './directory-objects.ts';

export function registerDirectory(app: FastifyInstance, options: DirectoryRoutesOptions): void {
  registerUsers(app, options);
  registerGroups(app, options);
  registerApplications(app, options);
}
