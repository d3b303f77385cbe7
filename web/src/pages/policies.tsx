// Conditional Access policies: the list (with each policy's state), and an editor for every condition Portcullis
// evaluates — users, groups and roles; applications and user actions; locations; client app types; device platforms;
// sign-in and user risk — the grant controls (block, or controls joined by AND / OR), the session controls, and the
// state (on, off, report-only). The editor works on Graph's conditionalAccessPolicy JSON as it is.
import { useState } from 'preact/hooks';
import { type ConsoleSession, graph, type Page } from '../api.ts';
import {
  Checkbox,
  ErrorMessage,
  FieldErrors,
  FormAlert,
  formatDate,
  type Option,
  PageHeading,
  Picker,
  Radios,
  Status,
  TextField,
  useLoad,
} from '../components.tsx';
import { type DirectoryOptions, directoryOptions } from '../directory.ts';
import { type FormErrors, formErrors, NO_ERRORS } from '../errors.ts';
import { ROLES } from '../roles.ts';
import { go, href } from '../router.ts';

const BASE = '/identity/conditionalAccess/policies';

type State = 'enabled' | 'disabled' | 'enabledForReportingButNotEnforced';

export interface Policy {
  id?: string;
  displayName: string;
  state: State;
  createdDateTime?: string;
  modifiedDateTime?: string;
  conditions: {
    users: {
      includeUsers: string[];
      excludeUsers: string[];
      includeGroups: string[];
      excludeGroups: string[];
      includeRoles: string[];
      excludeRoles: string[];
    };
    applications: { includeApplications: string[]; excludeApplications: string[]; includeUserActions: string[] };
    locations?: { includeLocations: string[]; excludeLocations: string[] } | null;
    clientAppTypes: string[];
    platforms?: { includePlatforms: string[]; excludePlatforms: string[] } | null;
    signInRiskLevels: string[];
    userRiskLevels: string[];
  };
  grantControls?: { operator: 'AND' | 'OR'; builtInControls: string[] } | null;
  sessionControls?: {
    signInFrequency?: {
      isEnabled: boolean;
      value?: number | null;
      type?: 'hours' | 'days' | null;
      frequencyInterval?: 'timeBased' | 'everyTime';
      authenticationType?: string;
    } | null;
    persistentBrowser?: { isEnabled: boolean; mode: 'always' | 'never' } | null;
    [other: string]: unknown;
  } | null;
}

export const STATE_LABELS: Record<string, string> = {
  enabled: 'On',
  disabled: 'Off',
  enabledForReportingButNotEnforced: 'Report-only',
};

function grantSummary(p: Policy): string {
  const controls = p.grantControls?.builtInControls ?? [];
  if (controls.includes('block')) return 'Block access';
  if (controls.length === 0) return '—';
  return `Require ${controls.join(p.grantControls?.operator === 'AND' ? ' and ' : ' or ')}`;
}

export function PoliciesPage() {
  const list = useLoad(() => graph<Page<Policy>>('GET', `${BASE}?$top=999`));
  return (
    <>
      <PageHeading>Conditional Access policies</PageHeading>
      <p>
        Every applicable policy applies; block wins; report-only policies are evaluated and logged but not enforced.
      </p>
      <p class="actions">
        <a class="button" href={href('policies', 'new')}>
          New policy
        </a>
      </p>
      <ErrorMessage error={list.error} />
      {list.loading ? <Status>Loading…</Status> : null}
      {list.value ? (
        <table>
          <caption>{list.value.value.length} policies</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">State</th>
              <th scope="col">Grant</th>
              <th scope="col">Modified</th>
            </tr>
          </thead>
          <tbody>
            {list.value.value.map((p) => (
              <tr key={p.id}>
                <td>
                  <a href={href('policies', p.id ?? '')}>{p.displayName}</a>
                </td>
                <td>
                  <span class={`state state-${p.state}`}>{STATE_LABELS[p.state] ?? p.state}</span>
                </td>
                <td>{grantSummary(p)}</td>
                <td>{formatDate(p.modifiedDateTime)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </>
  );
}

function newPolicy(): Policy {
  return {
    displayName: '',
    state: 'enabledForReportingButNotEnforced',
    conditions: {
      users: {
        includeUsers: ['All'],
        excludeUsers: [],
        includeGroups: [],
        excludeGroups: [],
        includeRoles: [],
        excludeRoles: [],
      },
      applications: { includeApplications: ['All'], excludeApplications: [], includeUserActions: [] },
      locations: null,
      clientAppTypes: ['all'],
      platforms: null,
      signInRiskLevels: [],
      userRiskLevels: [],
    },
    grantControls: { operator: 'OR', builtInControls: ['mfa'] },
    sessionControls: null,
  };
}

/** Fills the lists Graph may leave out, so the editor can rely on them. */
function normalised(p: Policy): Policy {
  const c = p.conditions ?? ({} as Policy['conditions']);
  const users = c.users ?? ({} as Policy['conditions']['users']);
  const apps = c.applications ?? ({} as Policy['conditions']['applications']);
  return {
    ...p,
    conditions: {
      ...c,
      users: {
        includeUsers: users.includeUsers ?? [],
        excludeUsers: users.excludeUsers ?? [],
        includeGroups: users.includeGroups ?? [],
        excludeGroups: users.excludeGroups ?? [],
        includeRoles: users.includeRoles ?? [],
        excludeRoles: users.excludeRoles ?? [],
      },
      applications: {
        includeApplications: apps.includeApplications ?? [],
        excludeApplications: apps.excludeApplications ?? [],
        includeUserActions: apps.includeUserActions ?? [],
      },
      clientAppTypes: c.clientAppTypes ?? ['all'],
      signInRiskLevels: c.signInRiskLevels ?? [],
      userRiskLevels: c.userRiskLevels ?? [],
    },
  };
}

export function PolicyEditor(props: { id: string; session: ConsoleSession }) {
  const isNew = props.id === 'new';
  const loaded = useLoad(async () => {
    const [policy, options] = await Promise.all([
      isNew ? Promise.resolve(newPolicy()) : graph<Policy>('GET', `${BASE}/${encodeURIComponent(props.id)}`),
      directoryOptions(props.session),
    ]);
    return { policy: normalised(policy), options };
  }, [props.id]);
  if (loaded.error) {
    return (
      <>
        <PageHeading>Conditional Access policy</PageHeading>
        <ErrorMessage error={loaded.error} />
      </>
    );
  }
  if (!loaded.value) return <Status>Loading…</Status>;
  return <PolicyForm initial={loaded.value.policy} options={loaded.value.options} isNew={isNew} />;
}

const FIELDS = [
  'displayName',
  'state',
  'conditions',
  'conditions.users',
  'conditions.applications',
  'conditions.locations',
  'conditions.clientAppTypes',
  'conditions.platforms',
  'conditions.signInRiskLevels',
  'conditions.userRiskLevels',
  'grantControls',
  'sessionControls',
];

const CLIENT_APPS: readonly Option[] = [
  { id: 'all', label: 'All client apps' },
  { id: 'browser', label: 'Browser' },
  { id: 'mobileAppsAndDesktopClients', label: 'Mobile apps and desktop clients' },
  { id: 'exchangeActiveSync', label: 'Exchange ActiveSync clients' },
  { id: 'other', label: 'Other clients' },
];
const PLATFORMS: readonly Option[] = [
  { id: 'all', label: 'Any device' },
  { id: 'android', label: 'Android' },
  { id: 'iOS', label: 'iOS' },
  { id: 'windows', label: 'Windows' },
  { id: 'windowsPhone', label: 'Windows Phone' },
  { id: 'macOS', label: 'macOS' },
  { id: 'linux', label: 'Linux' },
];
const RISK: readonly Option[] = [
  { id: 'high', label: 'High' },
  { id: 'medium', label: 'Medium' },
  { id: 'low', label: 'Low' },
  { id: 'none', label: 'No risk' },
];
const CONTROLS: readonly Option[] = [
  { id: 'mfa', label: 'Require multifactor authentication' },
  { id: 'compliantDevice', label: 'Require device to be marked as compliant (not verifiable: fails closed)' },
  { id: 'domainJoinedDevice', label: 'Require hybrid joined device (not verifiable: fails closed)' },
  { id: 'approvedApplication', label: 'Require approved client app (not verifiable: fails closed)' },
  { id: 'compliantApplication', label: 'Require app protection policy (not verifiable: fails closed)' },
  { id: 'passwordChange', label: 'Require password change' },
];
const USER_ACTIONS: readonly Option[] = [
  { id: 'urn:user:registersecurityinfo', label: 'Register security information' },
  { id: 'urn:user:registerdevice', label: 'Register or join devices' },
];

type UsersMode = 'None' | 'All' | 'select';
type AppsMode = 'None' | 'All' | 'select' | 'actions';
type LocationsMode = 'All' | 'AllTrusted' | 'select';

function PolicyForm(props: { initial: Policy; options: DirectoryOptions; isNew: boolean }) {
  const { options, isNew } = props;
  const [p, setP] = useState<Policy>(props.initial);
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);
  const [busy, setBusy] = useState(false);
  const update = (change: (draft: Policy) => void) =>
    setP((current) => {
      const draft = structuredClone(current);
      change(draft);
      return draft;
    });
  const users = p.conditions.users;
  const apps = p.conditions.applications;
  const usersMode: UsersMode = users.includeUsers.includes('All')
    ? 'All'
    : users.includeUsers.includes('None')
      ? 'None'
      : 'select';
  const appsMode: AppsMode =
    apps.includeUserActions.length > 0
      ? 'actions'
      : apps.includeApplications.includes('All')
        ? 'All'
        : apps.includeApplications.includes('None')
          ? 'None'
          : 'select';
  const locations = p.conditions.locations;
  const locationsMode: LocationsMode = locations?.includeLocations.includes('All')
    ? 'All'
    : locations?.includeLocations.includes('AllTrusted')
      ? 'AllTrusted'
      : 'select';
  const platforms = p.conditions.platforms;
  const grant = p.grantControls;
  const blocks = grant?.builtInControls.includes('block') === true;
  const frequency = p.sessionControls?.signInFrequency ?? null;
  const persistent = p.sessionControls?.persistentBrowser ?? null;
  const f = (key: string) => errors.fields[key];

  async function save(event: Event) {
    event.preventDefault();
    setBusy(true);
    const body = {
      displayName: p.displayName,
      state: p.state,
      conditions: p.conditions,
      grantControls: p.grantControls ?? null,
      sessionControls: p.sessionControls ?? null,
    };
    try {
      if (isNew) await graph('POST', BASE, body);
      else await graph('PATCH', `${BASE}/${encodeURIComponent(p.id ?? '')}`, body);
      go('policies');
    } catch (error) {
      setErrors(formErrors(error, FIELDS));
      document.querySelector<HTMLElement>('.alert')?.focus();
    } finally {
      setBusy(false);
    }
  }

  async function remove() {
    if (!confirm(`Delete the policy '${props.initial.displayName}'?`)) return;
    try {
      await graph('DELETE', `${BASE}/${encodeURIComponent(p.id ?? '')}`);
      go('policies');
    } catch (error) {
      setErrors(formErrors(error, FIELDS));
    }
  }

  const locationOptions: Option[] = [{ id: 'AllTrusted', label: 'All trusted locations' }, ...options.locations];
  return (
    <>
      <PageHeading>{isNew ? 'New Conditional Access policy' : `Policy: ${props.initial.displayName}`}</PageHeading>
      <p>
        <a href={href('policies')}>Back to policies</a>
      </p>
      <form onSubmit={save} noValidate>
        <FormAlert errors={errors} />
        <TextField
          label="Name"
          value={p.displayName}
          onInput={(v) => update((d) => (d.displayName = v))}
          errors={f('displayName')}
          required
        />

        <section aria-labelledby="h-users">
          <h2 id="h-users">Users</h2>
          <FieldErrors id="users-err" errors={f('conditions.users')} />
          <Radios<UsersMode>
            legend="Include"
            value={usersMode}
            onChange={(mode) =>
              update((d) => {
                const u = d.conditions.users;
                if (mode === 'select') {
                  u.includeUsers = u.includeUsers.filter((x) => x !== 'All' && x !== 'None');
                } else {
                  u.includeUsers = [mode];
                  u.includeGroups = [];
                  u.includeRoles = [];
                }
              })
            }
            options={[
              { value: 'None', label: 'No users' },
              { value: 'All', label: 'All users' },
              { value: 'select', label: 'Select users, groups and roles' },
            ]}
          />
          {usersMode === 'select' ? (
            <>
              <Picker
                legend="Include users"
                options={[{ id: 'GuestsOrExternalUsers', label: 'Guest or external users' }, ...options.users]}
                value={users.includeUsers}
                onChange={(v) => update((d) => (d.conditions.users.includeUsers = v))}
              />
              <Picker
                legend="Include groups"
                options={options.groups}
                value={users.includeGroups}
                onChange={(v) => update((d) => (d.conditions.users.includeGroups = v))}
              />
              <Picker
                legend="Include directory roles"
                options={ROLES}
                value={users.includeRoles}
                onChange={(v) => update((d) => (d.conditions.users.includeRoles = v))}
              />
            </>
          ) : null}
          <Picker
            legend="Exclude users"
            options={[{ id: 'GuestsOrExternalUsers', label: 'Guest or external users' }, ...options.users]}
            value={users.excludeUsers}
            onChange={(v) => update((d) => (d.conditions.users.excludeUsers = v))}
          />
          <Picker
            legend="Exclude groups"
            options={options.groups}
            value={users.excludeGroups}
            onChange={(v) => update((d) => (d.conditions.users.excludeGroups = v))}
          />
          <Picker
            legend="Exclude directory roles"
            options={ROLES}
            value={users.excludeRoles}
            onChange={(v) => update((d) => (d.conditions.users.excludeRoles = v))}
          />
        </section>

        <section aria-labelledby="h-apps">
          <h2 id="h-apps">Target resources</h2>
          <FieldErrors id="apps-err" errors={f('conditions.applications')} />
          <Radios<AppsMode>
            legend="Include"
            value={appsMode}
            onChange={(mode) =>
              update((d) => {
                const a = d.conditions.applications;
                if (mode === 'actions') {
                  a.includeApplications = [];
                  a.excludeApplications = [];
                  a.includeUserActions = a.includeUserActions.length > 0 ? a.includeUserActions : [USER_ACTIONS[0].id];
                } else {
                  a.includeUserActions = [];
                  a.includeApplications =
                    mode === 'select' ? a.includeApplications.filter((x) => x !== 'All' && x !== 'None') : [mode];
                }
              })
            }
            options={[
              { value: 'None', label: 'No applications' },
              { value: 'All', label: 'All applications' },
              { value: 'select', label: 'Select applications' },
              { value: 'actions', label: 'User actions' },
            ]}
          />
          {appsMode === 'select' ? (
            <Picker
              legend="Include applications"
              options={options.applications}
              value={apps.includeApplications}
              onChange={(v) => update((d) => (d.conditions.applications.includeApplications = v))}
              otherLabel="Other application (client) ids, one per line"
            />
          ) : null}
          {appsMode === 'actions' ? (
            <Picker
              legend="User actions"
              options={USER_ACTIONS}
              other={false}
              value={apps.includeUserActions}
              onChange={(v) => update((d) => (d.conditions.applications.includeUserActions = v))}
            />
          ) : (
            <Picker
              legend="Exclude applications"
              options={options.applications}
              value={apps.excludeApplications}
              onChange={(v) => update((d) => (d.conditions.applications.excludeApplications = v))}
              otherLabel="Other application (client) ids, one per line"
            />
          )}
        </section>

        <section aria-labelledby="h-conditions">
          <h2 id="h-conditions">Conditions</h2>
          <h3>Locations</h3>
          <FieldErrors id="locations-err" errors={f('conditions.locations')} />
          <Checkbox
            label="Configure locations"
            checked={locations != null}
            onChange={(on) =>
              update((d) => {
                d.conditions.locations = on ? { includeLocations: ['All'], excludeLocations: [] } : null;
              })
            }
          />
          {locations ? (
            <>
              <Radios<LocationsMode>
                legend="Include locations"
                value={locationsMode}
                onChange={(mode) =>
                  update((d) => {
                    const l = d.conditions.locations;
                    if (!l) return;
                    l.includeLocations =
                      mode === 'select' ? l.includeLocations.filter((x) => x !== 'All' && x !== 'AllTrusted') : [mode];
                  })
                }
                options={[
                  { value: 'All', label: 'Any location' },
                  { value: 'AllTrusted', label: 'All trusted locations' },
                  { value: 'select', label: 'Selected locations' },
                ]}
              />
              {locationsMode === 'select' ? (
                <Picker
                  legend="Included locations"
                  options={options.locations}
                  value={locations.includeLocations}
                  onChange={(v) =>
                    update((d) => {
                      if (d.conditions.locations) d.conditions.locations.includeLocations = v;
                    })
                  }
                />
              ) : null}
              <Picker
                legend="Excluded locations"
                options={locationOptions}
                value={locations.excludeLocations}
                onChange={(v) =>
                  update((d) => {
                    if (d.conditions.locations) d.conditions.locations.excludeLocations = v;
                  })
                }
              />
            </>
          ) : null}

          <h3>Client apps</h3>
          <Picker
            legend="Client app types"
            options={CLIENT_APPS}
            other={false}
            value={p.conditions.clientAppTypes}
            onChange={(v) => update((d) => (d.conditions.clientAppTypes = v))}
            errors={f('conditions.clientAppTypes')}
          />

          <h3>Device platforms</h3>
          <FieldErrors id="platforms-err" errors={f('conditions.platforms')} />
          <Checkbox
            label="Configure device platforms"
            checked={platforms != null}
            onChange={(on) =>
              update((d) => {
                d.conditions.platforms = on ? { includePlatforms: ['all'], excludePlatforms: [] } : null;
              })
            }
          />
          {platforms ? (
            <>
              <Picker
                legend="Include platforms"
                options={PLATFORMS}
                other={false}
                value={platforms.includePlatforms}
                onChange={(v) =>
                  update((d) => {
                    if (d.conditions.platforms) d.conditions.platforms.includePlatforms = v;
                  })
                }
              />
              <Picker
                legend="Exclude platforms"
                options={PLATFORMS.filter((o) => o.id !== 'all')}
                other={false}
                value={platforms.excludePlatforms}
                onChange={(v) =>
                  update((d) => {
                    if (d.conditions.platforms) d.conditions.platforms.excludePlatforms = v;
                  })
                }
              />
            </>
          ) : null}

          <h3>Risk</h3>
          <Picker
            legend="Sign-in risk levels"
            options={RISK}
            other={false}
            value={p.conditions.signInRiskLevels}
            onChange={(v) => update((d) => (d.conditions.signInRiskLevels = v))}
            errors={f('conditions.signInRiskLevels')}
          />
          <Picker
            legend="User risk levels"
            options={RISK}
            other={false}
            value={p.conditions.userRiskLevels}
            onChange={(v) => update((d) => (d.conditions.userRiskLevels = v))}
            errors={f('conditions.userRiskLevels')}
          />
        </section>

        <section aria-labelledby="h-grant">
          <h2 id="h-grant">Grant</h2>
          <FieldErrors id="grant-err" errors={f('grantControls')} />
          <Radios<'block' | 'grant' | 'none'>
            legend="Access"
            value={grant == null ? 'none' : blocks ? 'block' : 'grant'}
            onChange={(mode) =>
              update((d) => {
                d.grantControls =
                  mode === 'none'
                    ? null
                    : mode === 'block'
                      ? { operator: 'OR', builtInControls: ['block'] }
                      : { operator: d.grantControls?.operator ?? 'OR', builtInControls: ['mfa'] };
              })
            }
            options={[
              { value: 'block', label: 'Block access' },
              { value: 'grant', label: 'Grant access with controls' },
              { value: 'none', label: 'No grant controls (session controls only)' },
            ]}
          />
          {grant && !blocks ? (
            <>
              <Picker
                legend="Controls"
                options={CONTROLS}
                other={false}
                value={grant.builtInControls}
                onChange={(v) =>
                  update((d) => {
                    if (d.grantControls) d.grantControls.builtInControls = v;
                  })
                }
              />
              <Radios<'AND' | 'OR'>
                legend="For multiple controls"
                value={grant.operator}
                onChange={(op) =>
                  update((d) => {
                    if (d.grantControls) d.grantControls.operator = op;
                  })
                }
                options={[
                  { value: 'AND', label: 'Require all the selected controls (AND)' },
                  { value: 'OR', label: 'Require one of the selected controls (OR)' },
                ]}
              />
            </>
          ) : null}
        </section>

        <section aria-labelledby="h-session">
          <h2 id="h-session">Session</h2>
          <FieldErrors id="session-err" errors={f('sessionControls')} />
          <Checkbox
            label="Sign-in frequency"
            checked={frequency?.isEnabled === true}
            onChange={(on) =>
              update((d) => {
                d.sessionControls ??= {};
                d.sessionControls.signInFrequency = on
                  ? {
                      isEnabled: true,
                      value: 8,
                      type: 'hours',
                      frequencyInterval: 'timeBased',
                      authenticationType: 'primaryAndSecondaryAuthentication',
                    }
                  : null;
              })
            }
          />
          {frequency?.isEnabled ? (
            <div class="inline">
              <Radios<'timeBased' | 'everyTime'>
                legend="Ask for credentials again"
                value={frequency.frequencyInterval ?? 'timeBased'}
                onChange={(interval) =>
                  update((d) => {
                    const s = d.sessionControls?.signInFrequency;
                    if (!s) return;
                    s.frequencyInterval = interval;
                    s.value = interval === 'everyTime' ? null : (s.value ?? 8);
                    s.type = interval === 'everyTime' ? null : (s.type ?? 'hours');
                  })
                }
                options={[
                  { value: 'timeBased', label: 'Periodically' },
                  { value: 'everyTime', label: 'Every time' },
                ]}
              />
              {frequency.frequencyInterval !== 'everyTime' ? (
                <>
                  <TextField
                    label="Frequency value"
                    type="number"
                    value={String(frequency.value ?? '')}
                    onInput={(v) =>
                      update((d) => {
                        const s = d.sessionControls?.signInFrequency;
                        if (s) s.value = v === '' ? null : Number(v);
                      })
                    }
                  />
                  <Radios<'hours' | 'days'>
                    legend="Unit"
                    value={frequency.type ?? 'hours'}
                    onChange={(unit) =>
                      update((d) => {
                        const s = d.sessionControls?.signInFrequency;
                        if (s) s.type = unit;
                      })
                    }
                    options={[
                      { value: 'hours', label: 'Hours' },
                      { value: 'days', label: 'Days' },
                    ]}
                  />
                </>
              ) : null}
            </div>
          ) : null}
          <Checkbox
            label="Persistent browser session"
            checked={persistent?.isEnabled === true}
            onChange={(on) =>
              update((d) => {
                d.sessionControls ??= {};
                d.sessionControls.persistentBrowser = on ? { isEnabled: true, mode: 'never' } : null;
              })
            }
          />
          {persistent?.isEnabled ? (
            <Radios<'always' | 'never'>
              legend="Persistent browser"
              value={persistent.mode}
              onChange={(mode) =>
                update((d) => {
                  const s = d.sessionControls?.persistentBrowser;
                  if (s) s.mode = mode;
                })
              }
              options={[
                { value: 'always', label: 'Always persistent' },
                { value: 'never', label: 'Never persistent' },
              ]}
            />
          ) : null}
        </section>

        <section aria-labelledby="h-state">
          <h2 id="h-state">Enable policy</h2>
          <Radios<State>
            legend="State"
            value={p.state}
            onChange={(state) => update((d) => (d.state = state))}
            options={[
              { value: 'enabledForReportingButNotEnforced', label: 'Report-only' },
              { value: 'enabled', label: 'On' },
              { value: 'disabled', label: 'Off' },
            ]}
            errors={f('state')}
          />
        </section>

        <p class="actions">
          <button type="submit" disabled={busy}>
            {isNew ? 'Create' : 'Save'}
          </button>
          {isNew ? null : (
            <button type="button" class="danger" onClick={() => void remove()}>
              Delete
            </button>
          )}
          {p.modifiedDateTime ? <span class="hint">Last modified {formatDate(p.modifiedDateTime)}</span> : null}
        </p>
      </form>
    </>
  );
}
