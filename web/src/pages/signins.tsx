// The sign-in log (Graph's GET /auditLogs/signIns): newest first, filters on user, status, Conditional Access result
// and dates, paging, and each sign-in's details with every policy's result (appliedConditionalAccessPolicies).
import { useState } from 'preact/hooks';
import { quote } from '../api.ts';
import { Field, FormAlert, formatDate, PageHeading, Status, TextField, usePagedLog } from '../components.tsx';

export interface SignIn {
  id: string;
  createdDateTime: string;
  userDisplayName: string | null;
  userPrincipalName: string | null;
  appId: string | null;
  appDisplayName: string | null;
  ipAddress: string;
  clientAppUsed: string;
  correlationId: string;
  conditionalAccessStatus: string;
  status: { errorCode: number; failureReason: string | null; additionalDetails: string | null };
  deviceDetail?: { operatingSystem?: string; browser?: string };
  location?: { countryOrRegion?: string | null };
  appliedConditionalAccessPolicies: {
    id: string;
    displayName: string;
    enforcedGrantControls: string[];
    enforcedSessionControls: string[];
    result: string;
  }[];
}

const RESULT_LABELS: Record<string, string> = {
  success: 'Success',
  failure: 'Failure',
  notApplied: 'Not applied',
  notEnabled: 'Not enabled',
  reportOnlySuccess: 'Report-only: success',
  reportOnlyFailure: 'Report-only: failure',
  reportOnlyNotApplied: 'Report-only: not applied',
  reportOnlyInterrupted: 'Report-only: interrupted',
};

function filterOf(form: { user: string; status: string; ca: string; from: string; to: string }): string {
  const parts: string[] = [];
  if (form.user.trim()) parts.push(`startswith(userPrincipalName, ${quote(form.user.trim())})`);
  if (form.status === 'success') parts.push('status/errorCode eq 0');
  if (form.status === 'failure') parts.push('status/errorCode ne 0');
  if (form.ca) parts.push(`conditionalAccessStatus eq ${quote(form.ca)}`);
  if (form.from) parts.push(`createdDateTime ge ${new Date(form.from).toISOString()}`);
  if (form.to) parts.push(`createdDateTime le ${new Date(form.to).toISOString()}`);
  return parts.join(' and ');
}

export function SignInLogPage() {
  const [form, setForm] = useState({ user: '', status: '', ca: '', from: '', to: '' });
  const { query, setQuery, entries, errors, loading, more } = usePagedLog<SignIn>('/auditLogs/signIns');
  const [selected, setSelected] = useState<SignIn>();

  const set = (key: keyof typeof form) => (value: string) => setForm((f) => ({ ...f, [key]: value }));
  return (
    <>
      <PageHeading>Sign-in logs</PageHeading>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          setSelected(undefined);
          setQuery(filterOf(form));
        }}
      >
        <TextField label="User name starts with" value={form.user} onInput={set('user')} />
        <Field label="Status">
          {(attrs) => (
            <select
              {...attrs}
              value={form.status}
              onChange={(e) => set('status')((e.target as HTMLSelectElement).value)}
            >
              <option value="">Any</option>
              <option value="success">Success</option>
              <option value="failure">Failure</option>
            </select>
          )}
        </Field>
        <Field label="Conditional Access">
          {(attrs) => (
            <select {...attrs} value={form.ca} onChange={(e) => set('ca')((e.target as HTMLSelectElement).value)}>
              <option value="">Any</option>
              <option value="success">Success</option>
              <option value="failure">Failure</option>
              <option value="notApplied">Not applied</option>
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
          {entries.length} sign-ins{query ? ' matching the filters' : ''}
        </caption>
        <thead>
          <tr>
            <th scope="col">Date</th>
            <th scope="col">User</th>
            <th scope="col">Application</th>
            <th scope="col">IP address</th>
            <th scope="col">Status</th>
            <th scope="col">Conditional Access</th>
            <th scope="col">Details</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((s) => (
            <tr key={s.id} class={selected?.id === s.id ? 'selected' : undefined}>
              <td>{formatDate(s.createdDateTime)}</td>
              <td>{s.userPrincipalName ?? s.userDisplayName ?? '—'}</td>
              <td>{s.appDisplayName ?? s.appId ?? '—'}</td>
              <td>{s.ipAddress}</td>
              <td>{s.status.errorCode === 0 ? 'Success' : `Failure (${s.status.errorCode})`}</td>
              <td>{s.conditionalAccessStatus}</td>
              <td>
                <button
                  type="button"
                  class="link"
                  onClick={() => setSelected(s)}
                  aria-label={`Details of the sign-in at ${formatDate(s.createdDateTime)} by ${s.userPrincipalName ?? 'unknown user'}`}
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
            More sign-ins
          </button>
        </p>
      ) : null}
      {selected ? <SignInDetails entry={selected} /> : null}
    </>
  );
}

function SignInDetails(props: { entry: SignIn }) {
  const s = props.entry;
  return (
    <section aria-labelledby="h-details" class="details-panel">
      <h2 id="h-details" tabindex={-1} ref={(el) => el?.focus()}>
        Sign-in by {s.userPrincipalName ?? 'unknown user'} at {formatDate(s.createdDateTime)}
      </h2>
      <dl>
        <dt>Status</dt>
        <dd>
          {s.status.errorCode === 0 ? 'Success' : `Failure: error ${s.status.errorCode}`}
          {s.status.failureReason ? ` — ${s.status.failureReason}` : ''}
        </dd>
        <dt>Application</dt>
        <dd>
          {s.appDisplayName ?? '—'} ({s.appId ?? '—'})
        </dd>
        <dt>IP address and country</dt>
        <dd>
          {s.ipAddress} {s.location?.countryOrRegion ?? '(no country)'}
        </dd>
        <dt>Client app, device</dt>
        <dd>
          {s.clientAppUsed}, {s.deviceDetail?.operatingSystem ?? ''} {s.deviceDetail?.browser ?? ''}
        </dd>
        <dt>Correlation ID</dt>
        <dd>{s.correlationId}</dd>
      </dl>
      <table>
        <caption>Conditional Access policies</caption>
        <thead>
          <tr>
            <th scope="col">Policy</th>
            <th scope="col">Result</th>
            <th scope="col">Grant controls</th>
            <th scope="col">Session controls</th>
          </tr>
        </thead>
        <tbody>
          {s.appliedConditionalAccessPolicies.map((p) => (
            <tr key={p.id}>
              <td>{p.displayName}</td>
              <td>{RESULT_LABELS[p.result] ?? p.result}</td>
              <td>{p.enforcedGrantControls.join(', ')}</td>
              <td>{p.enforcedSessionControls.join(', ')}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
