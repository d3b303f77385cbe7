// Users (Graph's /users): the list, a new user, turning sign-in on and off, revoking a user's sessions, and who holds
// which admin role (Graph's /roleManagement/directory/roleAssignments; only a Global Administrator changes them).
import { useState } from 'preact/hooks';
import { GRAPH_PATH, graph, type Page } from '../api.ts';
import { Checkbox, ErrorMessage, Field, FormAlert, PageHeading, Status, TextField, useLoad } from '../components.tsx';
import { type FormErrors, formErrors, NO_ERRORS } from '../errors.ts';
import { ROLES } from '../roles.ts';

interface User {
  id: string;
  displayName: string;
  userPrincipalName: string;
  accountEnabled: boolean;
  userType?: string;
  mail?: string | null;
}

const FIELDS = [
  'displayName',
  'userPrincipalName',
  'mailNickname',
  'passwordProfile',
  'accountEnabled',
  'userType',
  'mail',
];

export function UsersPage() {
  const list = useLoad(() => graph<Page<User>>('GET', '/users?$top=999'));
  const [message, setMessage] = useState('');
  const [actionError, setActionError] = useState<unknown>();

  async function act(label: string, run: () => Promise<unknown>) {
    setMessage('');
    setActionError(undefined);
    try {
      await run();
      setMessage(label);
      list.reload();
    } catch (error) {
      setActionError(error);
    }
  }

  return (
    <>
      <PageHeading>Users</PageHeading>
      <ErrorMessage error={list.error} />
      <ErrorMessage error={actionError} />
      {message ? <p role="status">{message}</p> : null}
      {list.loading && !list.value ? <Status>Loading…</Status> : null}
      {list.value ? (
        <table>
          <caption>{list.value.value.length} users</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">User principal name</th>
              <th scope="col">Type</th>
              <th scope="col">Sign-in</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {list.value.value.map((u) => (
              <tr key={u.id}>
                <td>{u.displayName}</td>
                <td>{u.userPrincipalName}</td>
                <td>{u.userType ?? 'Member'}</td>
                <td>{u.accountEnabled ? 'Allowed' : 'Blocked'}</td>
                <td class="row-actions">
                  <button
                    type="button"
                    class="secondary"
                    aria-label={`${u.accountEnabled ? 'Block' : 'Allow'} sign-in for ${u.userPrincipalName}`}
                    onClick={() =>
                      void act(`Sign-in ${u.accountEnabled ? 'blocked' : 'allowed'} for ${u.userPrincipalName}.`, () =>
                        graph('PATCH', `/users/${encodeURIComponent(u.id)}`, { accountEnabled: !u.accountEnabled }),
                      )
                    }
                  >
                    {u.accountEnabled ? 'Block sign-in' : 'Allow sign-in'}
                  </button>
                  <button
                    type="button"
                    class="secondary"
                    aria-label={`Revoke sessions of ${u.userPrincipalName}`}
                    onClick={() =>
                      void act(`Every session of ${u.userPrincipalName} has ended.`, () =>
                        graph('POST', `/users/${encodeURIComponent(u.id)}/revokeSignInSessions`),
                      )
                    }
                  >
                    Revoke sessions
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <NewUser onCreated={list.reload} />
      {list.value ? <AdminRoles users={list.value.value} /> : null}
    </>
  );
}

function NewUser(props: { onCreated: () => void }) {
  const [name, setName] = useState('');
  const [upn, setUpn] = useState('');
  const [password, setPassword] = useState('');
  const [enabled, setEnabled] = useState(true);
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);
  const [created, setCreated] = useState('');

  async function create(event: Event) {
    event.preventDefault();
    setCreated('');
    try {
      await graph('POST', '/users', {
        accountEnabled: enabled,
        displayName: name,
        mailNickname: upn.split('@')[0],
        userPrincipalName: upn,
        ...(password ? { passwordProfile: { password, forceChangePasswordNextSignIn: false } } : {}),
      });
      setErrors(NO_ERRORS);
      setCreated(`Created ${upn}.`);
      setName('');
      setUpn('');
      setPassword('');
      props.onCreated();
    } catch (error) {
      setErrors(formErrors(error, FIELDS));
    }
  }
  const f = (key: string) => errors.fields[key];
  return (
    <section aria-labelledby="h-new-user">
      <h2 id="h-new-user">New user</h2>
      <form onSubmit={create} noValidate>
        <FormAlert errors={errors} />
        <TextField label="Display name" value={name} onInput={setName} errors={f('displayName')} />
        <TextField
          label="User principal name"
          value={upn}
          onInput={setUpn}
          errors={[...(f('userPrincipalName') ?? []), ...(f('mailNickname') ?? [])]}
          hint="For example dana@contoso.example"
        />
        <TextField
          label="Password"
          type="password"
          value={password}
          onInput={setPassword}
          errors={f('passwordProfile')}
          autocomplete="new-password"
        />
        <Checkbox label="Allow sign-in" checked={enabled} onChange={setEnabled} />
        <p class="actions">
          <button type="submit">Create user</button>
          {created ? <span role="status">{created}</span> : null}
        </p>
      </form>
    </section>
  );
}

interface RoleAssignment {
  id: string;
  principalId: string;
  roleDefinitionId: string;
}

const ASSIGNMENTS = '/roleManagement/directory/roleAssignments';

interface Application {
  id: string;
  displayName: string;
}

function AdminRoles(props: { users: readonly User[] }) {
  const assignments = useLoad(() => graph<Page<RoleAssignment>>('GET', `${ASSIGNMENTS}?$top=999`));
  // Applications hold roles too (what their client-credential tokens may do); a reader without the right to list
  // applications still sees their ids.
  const applications = useLoad(() =>
    graph<Page<Application>>('GET', '/applications?$top=999&$select=id,displayName').catch(() => ({ value: [] })),
  );
  const [userId, setUserId] = useState('');
  const [roleId, setRoleId] = useState('');
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);
  const [message, setMessage] = useState('');
  const [removeError, setRemoveError] = useState<unknown>();
  const apps = applications.value?.value ?? [];
  const nameOf = (id: string) =>
    props.users.find((u) => u.id === id)?.userPrincipalName ??
    (apps.find((a) => a.id === id)?.displayName ?? id) + (apps.some((a) => a.id === id) ? ' (application)' : '');
  const roleName = (id: string) => ROLES.find((r) => r.id === id)?.label ?? id;

  async function assign(event: Event) {
    event.preventDefault();
    setMessage('');
    try {
      await graph('POST', ASSIGNMENTS, { principalId: userId, roleDefinitionId: roleId, directoryScopeId: '/' });
      setErrors(NO_ERRORS);
      setMessage(`${nameOf(userId)} now holds ${roleName(roleId)}.`);
      assignments.reload();
    } catch (error) {
      setErrors(formErrors(error, ['principalId', 'roleDefinitionId', 'directoryScopeId']));
    }
  }

  async function remove(a: RoleAssignment) {
    setMessage('');
    setRemoveError(undefined);
    try {
      await graph('DELETE', `${ASSIGNMENTS}/${encodeURIComponent(a.id)}`);
      setMessage(`${nameOf(a.principalId)} no longer holds ${roleName(a.roleDefinitionId)}.`);
      assignments.reload();
    } catch (error) {
      setRemoveError(error);
    }
  }

  const f = (key: string) => errors.fields[key];
  return (
    <section aria-labelledby="h-admin-roles">
      <h2 id="h-admin-roles">Admin roles</h2>
      <ErrorMessage error={assignments.error} />
      <ErrorMessage error={removeError} />
      {message ? <p role="status">{message}</p> : null}
      {assignments.value ? (
        <table>
          <caption>{assignments.value.value.length} role assignments</caption>
          <thead>
            <tr>
              <th scope="col">Holder</th>
              <th scope="col">Role</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {assignments.value.value.map((a) => (
              <tr key={a.id}>
                <td>{nameOf(a.principalId)}</td>
                <td>{roleName(a.roleDefinitionId)}</td>
                <td class="row-actions">
                  <button
                    type="button"
                    class="secondary"
                    aria-label={`Remove ${roleName(a.roleDefinitionId)} from ${nameOf(a.principalId)}`}
                    onClick={() => void remove(a)}
                  >
                    Remove
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <form onSubmit={assign} noValidate>
        <FormAlert errors={errors} />
        <Field label="User or application" errors={f('principalId')}>
          {(attrs) => (
            <select {...attrs} value={userId} onChange={(e) => setUserId((e.target as HTMLSelectElement).value)}>
              <option value="">Choose a user or application</option>
              <optgroup label="Users">
                {props.users.map((u) => (
                  <option key={u.id} value={u.id}>
                    {u.userPrincipalName}
                  </option>
                ))}
              </optgroup>
              {apps.length > 0 ? (
                <optgroup label="Applications">
                  {apps.map((a) => (
                    <option key={a.id} value={a.id}>
                      {a.displayName}
                    </option>
                  ))}
                </optgroup>
              ) : null}
            </select>
          )}
        </Field>
        <Field label="Role" errors={f('roleDefinitionId')}>
          {(attrs) => (
            <select {...attrs} value={roleId} onChange={(e) => setRoleId((e.target as HTMLSelectElement).value)}>
              <option value="">Choose a role</option>
              {ROLES.map((r) => (
                <option key={r.id} value={r.id}>
                  {r.label}
                </option>
              ))}
            </select>
          )}
        </Field>
        <p class="actions">
          <button type="submit">Give role</button>
        </p>
      </form>
    </section>
  );
}

/** The Graph id of a directory object, for `$ref` bodies. */
export function directoryObjectRef(id: string): { '@odata.id': string } {
  return { '@odata.id': `${location.origin}${GRAPH_PATH}/directoryObjects/${id}` };
}
