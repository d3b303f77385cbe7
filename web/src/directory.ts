// What the pickers offer: the tenant's users, groups, applications and named locations, each read once per editor
// (an empty list when the admin may not read it or the API does not have it: the ids can still be typed).
import { all, type ConsoleSession } from './api.ts';
import type { Option } from './components.tsx';

export interface DirectoryOptions {
  readonly users: Option[];
  readonly groups: Option[];
  readonly applications: Option[];
  readonly locations: Option[];
}

const quiet = <T>(promise: Promise<T[]>) => promise.catch(() => [] as T[]);

export async function directoryOptions(session: ConsoleSession): Promise<DirectoryOptions> {
  const [users, groups, applications, locations] = await Promise.all([
    quiet(all<{ id: string; displayName: string; userPrincipalName: string }>('/users?$top=999')),
    quiet(all<{ id: string; displayName: string }>('/groups?$top=999')),
    quiet(all<{ appId: string; displayName: string }>('/applications?$top=999')),
    quiet(all<{ id: string; displayName: string }>('/identity/conditionalAccess/namedLocations?$top=999')),
  ]);
  const apps = applications.map((a) => ({ id: a.appId, label: a.displayName }));
  if (!apps.some((a) => a.id === session.consoleAppId)) {
    apps.unshift({ id: session.consoleAppId, label: 'Portcullis admin console' });
  }
  return {
    users: users.map((u) => ({ id: u.id, label: `${u.displayName} (${u.userPrincipalName})` })),
    groups: groups.map((g) => ({ id: g.id, label: g.displayName })),
    applications: apps,
    locations: locations.map((l) => ({ id: l.id, label: l.displayName })),
  };
}
