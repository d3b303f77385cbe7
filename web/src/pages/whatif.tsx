// What If: how the tenant's policies (report-only ones included) would treat one sign-in — Graph's
// POST /identity/conditionalAccess/evaluate, the same contract as `portcullis whatif`.
import { useState } from 'preact/hooks';
import { type ConsoleSession, graph } from '../api.ts';
import { Field, FormAlert, PageHeading, Status, TextField, useLoad } from '../components.tsx';
import { directoryOptions } from '../directory.ts';
import { type FormErrors, formErrors, NO_ERRORS } from '../errors.ts';
import { STATE_LABELS } from './policies.tsx';

interface WhatIfResult {
  id: string;
  displayName: string;
  state: string;
  policyApplies: boolean;
  analysisReasons: string;
  grantControls?: { operator: string; builtInControls: string[] } | null;
}

interface WhatIfAnswer {
  value: WhatIfResult[];
  decision?: {
    outcome: string;
    blocked: boolean;
    errorCode?: number | null;
    blockedBy?: string[];
    grantRequirements?: unknown;
    missingControls?: string[];
    notEnoughInformation?: boolean;
  };
}

const FIELDS = [
  'signInIdentity',
  'signInIdentity.userId',
  'signInContext',
  'signInContext.includeApplications',
  'signInConditions',
  'signInConditions.ipAddress',
  'signInConditions.country',
  'signInConditions.clientAppType',
  'signInConditions.devicePlatform',
  'signInConditions.signInRiskLevel',
  'signInConditions.userRiskLevel',
];

function Select(props: {
  label: string;
  value: string;
  onChange: (v: string) => void;
  options: readonly { id: string; label: string }[];
  errors?: readonly string[];
}) {
  return (
    <Field label={props.label} errors={props.errors}>
      {(attrs) => (
        <select {...attrs} value={props.value} onChange={(e) => props.onChange((e.target as HTMLSelectElement).value)}>
          {props.options.map((o) => (
            <option key={o.id} value={o.id}>
              {o.label}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

export function WhatIfPage(props: { session: ConsoleSession }) {
  const options = useLoad(() => directoryOptions(props.session));
  const [userId, setUserId] = useState('');
  const [appId, setAppId] = useState('');
  const [ip, setIp] = useState('');
  const [country, setCountry] = useState('');
  const [clientApp, setClientApp] = useState('browser');
  const [platform, setPlatform] = useState('');
  const [signInRisk, setSignInRisk] = useState('');
  const [userRisk, setUserRisk] = useState('');
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);
  const [answer, setAnswer] = useState<WhatIfAnswer>();
  const [busy, setBusy] = useState(false);

  async function evaluate(event: Event) {
    event.preventDefault();
    setBusy(true);
    setErrors(NO_ERRORS);
    const conditions: Record<string, string> = { clientAppType: clientApp };
    if (ip) conditions.ipAddress = ip.trim();
    if (country) conditions.country = country.trim().toUpperCase();
    if (platform) conditions.devicePlatform = platform;
    if (signInRisk) conditions.signInRiskLevel = signInRisk;
    if (userRisk) conditions.userRiskLevel = userRisk;
    try {
      setAnswer(
        await graph<WhatIfAnswer>('POST', '/identity/conditionalAccess/evaluate', {
          signInIdentity: { '@odata.type': '#microsoft.graph.userSignIn', userId: userId.trim() },
          signInContext: {
            '@odata.type': '#microsoft.graph.applicationContext',
            includeApplications: [appId || (options.value?.applications[0]?.id ?? '')],
          },
          signInConditions: conditions,
          appliedPoliciesOnly: false,
        }),
      );
    } catch (error) {
      setAnswer(undefined);
      setErrors(formErrors(error, FIELDS));
    } finally {
      setBusy(false);
    }
  }

  const f = (key: string) => errors.fields[key];
  const users = options.value?.users ?? [];
  const apps = options.value?.applications ?? [];
  const risk = [
    { id: '', label: 'Not given' },
    { id: 'none', label: 'No risk' },
    { id: 'low', label: 'Low' },
    { id: 'medium', label: 'Medium' },
    { id: 'high', label: 'High' },
  ];
  return (
    <>
      <PageHeading>What If</PageHeading>
      <p>See which policies would apply to a sign-in, and what they would do. Nothing is changed or logged.</p>
      {options.loading ? <Status>Loading the directory…</Status> : null}
      <form onSubmit={evaluate} noValidate>
        <FormAlert errors={errors} />
        <TextField
          label="User (user principal name or id)"
          value={userId}
          onInput={setUserId}
          errors={[...(f('signInIdentity') ?? []), ...(f('signInIdentity.userId') ?? [])]}
          hint={users.length > 0 ? `For example ${users[0].label}` : undefined}
          required
        />
        <Select
          label="Application"
          value={appId || (apps[0]?.id ?? '')}
          onChange={setAppId}
          options={apps}
          errors={[...(f('signInContext') ?? []), ...(f('signInContext.includeApplications') ?? [])]}
        />
        <TextField
          label="IP address"
          value={ip}
          onInput={setIp}
          errors={f('signInConditions.ipAddress')}
          hint="For example 203.0.113.9. The country comes from it unless given below."
        />
        <TextField
          label="Country (two-letter code)"
          value={country}
          onInput={setCountry}
          errors={f('signInConditions.country')}
        />
        <Select
          label="Client app"
          value={clientApp}
          onChange={setClientApp}
          options={[
            { id: 'browser', label: 'Browser' },
            { id: 'mobileAppsAndDesktopClients', label: 'Mobile apps and desktop clients' },
            { id: 'exchangeActiveSync', label: 'Exchange ActiveSync' },
            { id: 'other', label: 'Other clients' },
          ]}
          errors={f('signInConditions.clientAppType')}
        />
        <Select
          label="Device platform"
          value={platform}
          onChange={setPlatform}
          options={[
            { id: '', label: 'Not given' },
            { id: 'windows', label: 'Windows' },
            { id: 'macOS', label: 'macOS' },
            { id: 'linux', label: 'Linux' },
            { id: 'android', label: 'Android' },
            { id: 'iOS', label: 'iOS' },
            { id: 'windowsPhone', label: 'Windows Phone' },
          ]}
          errors={f('signInConditions.devicePlatform')}
        />
        <Select
          label="Sign-in risk"
          value={signInRisk}
          onChange={setSignInRisk}
          options={risk}
          errors={f('signInConditions.signInRiskLevel')}
        />
        <Select
          label="User risk"
          value={userRisk}
          onChange={setUserRisk}
          options={risk}
          errors={f('signInConditions.userRiskLevel')}
        />
        <p class="actions">
          <button type="submit" disabled={busy}>
            What If
          </button>
        </p>
      </form>
      {answer ? <WhatIfAnswerView answer={answer} /> : null}
    </>
  );
}

function WhatIfAnswerView(props: { answer: WhatIfAnswer }) {
  const { value, decision } = props.answer;
  return (
    <section aria-labelledby="h-result" class="result">
      <h2 id="h-result">Result</h2>
      {decision ? (
        <p role="status" id="whatif-decision">
          Outcome: <strong>{decision.blocked ? 'blocked' : decision.outcome}</strong>
          {decision.errorCode ? ` (error code ${decision.errorCode})` : ''}
          {decision.missingControls && decision.missingControls.length > 0
            ? ` — needs ${decision.missingControls.join(', ')}`
            : ''}
          {decision.notEnoughInformation ? ' — not enough information to decide every condition' : ''}
        </p>
      ) : null}
      <table>
        <caption>Policies</caption>
        <thead>
          <tr>
            <th scope="col">Policy</th>
            <th scope="col">State</th>
            <th scope="col">Applies</th>
            <th scope="col">Why</th>
            <th scope="col">Grant</th>
          </tr>
        </thead>
        <tbody>
          {value.map((r) => (
            <tr key={r.id}>
              <td>{r.displayName}</td>
              <td>{STATE_LABELS[r.state] ?? r.state}</td>
              <td>{r.policyApplies ? 'Applies' : 'Does not apply'}</td>
              <td>{r.analysisReasons}</td>
              <td>{r.grantControls?.builtInControls?.join(` ${r.grantControls.operator} `) ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
