// Groups (Graph's /groups): the list, a new group, and a group's members (add with `members/$ref`, remove).
import { useState } from 'preact/hooks';
import { all, graph, type Page } from '../api.ts';
import { ErrorMessage, Field, FormAlert, PageHeading, Status, TextField, useLoad } from '../components.tsx';
import { type FormErrors, formErrors, NO_ERRORS } from '../errors.ts';
import { href } from '../router.ts';
import { directoryObjectRef } from './users.tsx';

interface Group {
  id: string;
  displayName: string;
  description?: string | null;
  mailNickname?: string;
}

interface Member {
  id: string;
  '@odata.type'?: string;
  displayName?: string;
  userPrincipalName?: string;
}

export function GroupsPage(props: { id?: string }) {
  return props.id ? <GroupMembers id={props.id} /> : <GroupList />;
}

function GroupList() {
  const list = useLoad(() => graph<Page<Group>>('GET', '/groups?$top=999'));
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);

  async function create(event: Event) {
    event.preventDefault();
    try {
      await graph('POST', '/groups', {
        displayName: name,
        ...(description ? { description } : {}),
        mailEnabled: false,
        mailNickname: name.replace(/[^A-Za-z0-9]/g, '').slice(0, 64) || 'group',
        securityEnabled: true,
      });
      setErrors(NO_ERRORS);
      setName('');
      setDescription('');
      list.reload();
    } catch (error) {
      setErrors(formErrors(error, ['displayName', 'description', 'mailNickname']));
    }
  }
  return (
    <>
      <PageHeading>Groups</PageHeading>
      <ErrorMessage error={list.error} />
      {list.loading && !list.value ? <Status>Loading…</Status> : null}
      {list.value ? (
        <table>
          <caption>{list.value.value.length} groups</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Description</th>
            </tr>
          </thead>
          <tbody>
            {list.value.value.map((g) => (
              <tr key={g.id}>
                <td>
                  <a href={href('groups', g.id)}>{g.displayName}</a>
                </td>
                <td>{g.description ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <section aria-labelledby="h-new-group">
        <h2 id="h-new-group">New group</h2>
        <form onSubmit={create} noValidate>
          <FormAlert errors={errors} />
          <TextField label="Group name" value={name} onInput={setName} errors={errors.fields.displayName} />
          <TextField
            label="Description"
            value={description}
            onInput={setDescription}
            errors={errors.fields.description}
          />
          <p class="actions">
            <button type="submit">Create group</button>
          </p>
        </form>
      </section>
    </>
  );
}

function GroupMembers(props: { id: string }) {
  const path = `/groups/${encodeURIComponent(props.id)}`;
  const group = useLoad(() => graph<Group>('GET', path), [props.id]);
  const members = useLoad(() => all<Member>(`${path}/members?$top=999`), [props.id]);
  const users = useLoad(() =>
    all<{ id: string; displayName: string; userPrincipalName: string }>('/users?$top=999').catch(() => []),
  );
  const [pick, setPick] = useState('');
  const [error, setError] = useState<unknown>();

  async function change(run: () => Promise<unknown>) {
    setError(undefined);
    try {
      await run();
      members.reload();
    } catch (e) {
      setError(e);
    }
  }
  const memberIds = new Set((members.value ?? []).map((m) => m.id));
  const candidates = (users.value ?? []).filter((u) => !memberIds.has(u.id));
  return (
    <>
      <PageHeading>Group: {group.value?.displayName ?? ''}</PageHeading>
      <p>
        <a href={href('groups')}>Back to groups</a>
      </p>
      <ErrorMessage error={group.error ?? members.error} />
      <ErrorMessage error={error} />
      {members.loading && !members.value ? <Status>Loading…</Status> : null}
      <table>
        <caption>{members.value?.length ?? 0} members</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">User principal name</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {(members.value ?? []).map((m) => (
            <tr key={m.id}>
              <td>{m.displayName ?? m.id}</td>
              <td>{m.userPrincipalName ?? ''}</td>
              <td>
                <button
                  type="button"
                  class="secondary"
                  aria-label={`Remove ${m.displayName ?? m.id} from the group`}
                  onClick={() => void change(() => graph('DELETE', `${path}/members/${encodeURIComponent(m.id)}/$ref`))}
                >
                  Remove
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (pick) void change(() => graph('POST', `${path}/members/$ref`, directoryObjectRef(pick)));
        }}
      >
        <FormAlert errors={NO_ERRORS} />
        <Field label="Add a member">
          {(attrs) => (
            <select {...attrs} value={pick} onChange={(e) => setPick((e.target as HTMLSelectElement).value)}>
              <option value="">Choose a user</option>
              {candidates.map((u) => (
                <option key={u.id} value={u.id}>
                  {u.displayName} ({u.userPrincipalName})
                </option>
              ))}
            </select>
          )}
        </Field>
        <p class="actions">
          <button type="submit">Add member</button>
        </p>
      </form>
    </>
  );
}
