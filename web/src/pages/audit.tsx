// The directory audit log (Graph's GET /auditLogs/directoryAudits): who changed what and when, with the old and new
// values of each change; filters on activity, category and dates; paging.
import { useState } from 'preact/hooks';
import { quote } from '../api.ts';
import { Field, FormAlert, formatDate, PageHeading, Status, TextField, usePagedLog } from '../components.tsx';

interface DirectoryAudit {
  id: string;
  category: string;
  correlationId: string;
  result: string;
  resultReason?: string | null;
  activityDisplayName: string;
  activityDateTime: string;
  operationType: string;
  initiatedBy: {
    user?: {
      id?: string;
      displayName?: string | null;
      userPrincipalName?: string | null;
      ipAddress?: string | null;
    } | null;
    app?: { appId?: string | null; displayName?: string | null } | null;
  };
  targetResources: {
    id: string;
    displayName?: string | null;
    type?: string;
    userPrincipalName?: string | null;
    modifiedProperties?: { displayName: string; oldValue: unknown; newValue: unknown }[];
  }[];
}

const CATEGORIES = ['Policy', 'UserManagement', 'GroupManagement', 'ApplicationManagement', 'RoleManagement', 'Other'];

function initiator(a: DirectoryAudit): string {
  const user = a.initiatedBy?.user;
  if (user && (user.userPrincipalName || user.displayName)) return user.userPrincipalName ?? user.displayName ?? '';
  const app = a.initiatedBy?.app;
  return app?.displayName ?? app?.appId ?? '—';
}

function show(value: unknown): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export function AuditLogPage() {
  const [form, setForm] = useState({ activity: '', category: '', from: '', to: '' });
  const { query, setQuery, entries, errors, loading, more } = usePagedLog<DirectoryAudit>('/auditLogs/directoryAudits');
  const [selected, setSelected] = useState<DirectoryAudit>();

  function apply(event: Event) {
    event.preventDefault();
    const parts: string[] = [];
    if (form.activity.trim()) parts.push(`startswith(activityDisplayName, ${quote(form.activity.trim())})`);
    if (form.category) parts.push(`category eq ${quote(form.category)}`);
    if (form.from) parts.push(`activityDateTime ge ${new Date(form.from).toISOString()}`);
    if (form.to) parts.push(`activityDateTime le ${new Date(form.to).toISOString()}`);
    setSelected(undefined);
    setQuery(parts.join(' and '));
  }

  const set = (key: keyof typeof form) => (value: string) => setForm((f) => ({ ...f, [key]: value }));
  return (
    <>
      <PageHeading>Audit logs</PageHeading>
      <form class="filters" onSubmit={apply}>
        <TextField label="Activity starts with" value={form.activity} onInput={set('activity')} />
        <Field label="Category">
          {(attrs) => (
            <select
              {...attrs}
              value={form.category}
              onChange={(e) => set('category')((e.target as HTMLSelectElement).value)}
            >
              <option value="">Any</option>
              {CATEGORIES.map((c) => (
                <option key={c} value={c}>
                  {c}
                </option>
              ))}
            </select>
          )}
        </Field>
        <TextField label="From" type="datetime-local" value={form.from} onInput={set('from')} />
        <TextField label="To" type="datetime-local" value={form.to} onInput={set('to')} />
        <p class="actions">
          <button type="submit">Apply filters</button>
        </p>
      </form>
      <FormAlert errors={errors} />
      {loading ? <Status>Loading…</Status> : null}
      <table>
        <caption>
          {entries.length} changes{query ? ' matching the filters' : ''}
        </caption>
        <thead>
          <tr>
            <th scope="col">Date</th>
            <th scope="col">Activity</th>
            <th scope="col">Category</th>
            <th scope="col">By</th>
            <th scope="col">Target</th>
            <th scope="col">Result</th>
            <th scope="col">Details</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((a) => (
            <tr key={a.id} class={selected?.id === a.id ? 'selected' : undefined}>
              <td>{formatDate(a.activityDateTime)}</td>
              <td>{a.activityDisplayName}</td>
              <td>{a.category}</td>
              <td>{initiator(a)}</td>
              <td>{a.targetResources.map((t) => t.displayName ?? t.userPrincipalName ?? t.id).join(', ')}</td>
              <td>{a.result}</td>
              <td>
                <button
                  type="button"
                  class="link"
                  onClick={() => setSelected(a)}
                  aria-label={`Details of '${a.activityDisplayName}' at ${formatDate(a.activityDateTime)}`}
                >
                  Details
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {more ? (
        <p>
          <button type="button" class="secondary" onClick={more}>
            More changes
          </button>
        </p>
      ) : null}
      {selected ? (
        <section aria-labelledby="h-audit-details" class="details-panel">
          <h2 id="h-audit-details" tabindex={-1} ref={(el) => el?.focus()}>
            {selected.activityDisplayName} at {formatDate(selected.activityDateTime)}
          </h2>
          <p>
            By {initiator(selected)}; correlation ID {selected.correlationId}
          </p>
          {selected.targetResources.map((t) => (
            <table key={t.id}>
              <caption>
                {t.type ?? 'Target'} {t.displayName ?? t.userPrincipalName ?? t.id}
              </caption>
              <thead>
                <tr>
                  <th scope="col">Property</th>
                  <th scope="col">Old value</th>
                  <th scope="col">New value</th>
                </tr>
              </thead>
              <tbody>
                {(t.modifiedProperties ?? []).map((m) => (
                  <tr key={m.displayName}>
                    <td>{m.displayName}</td>
                    <td class="value">{show(m.oldValue)}</td>
                    <td class="value">{show(m.newValue)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ))}
        </section>
      ) : null}
    </>
  );
}
