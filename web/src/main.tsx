// The admin console: asks the server who is signed in (the console session), then shows the sections. Everything it
// shows and changes goes through the tenant's Graph API (api.ts).
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { CONSOLE_PATH, type ConsoleSession, configureApi, loadSession, signOut, TENANT_ID } from './api.ts';
import { ErrorMessage, Status } from './components.tsx';
import { AuditLogPage } from './pages/audit.tsx';
import { GroupsPage } from './pages/groups.tsx';
import { LocationEditor, LocationsPage } from './pages/locations.tsx';
import { PoliciesPage, PolicyEditor } from './pages/policies.tsx';
import { SessionSettingsPage } from './pages/session-settings.tsx';
import { SignInLogPage } from './pages/signins.tsx';
import { UsersPage } from './pages/users.tsx';
import { WhatIfPage } from './pages/whatif.tsx';
import { href, useRoute } from './router.ts';
import './styles.css';

const SECTIONS = [
  { path: 'locations', label: 'Named locations' },
  { path: 'policies', label: 'Conditional Access policies' },
  { path: 'whatif', label: 'What If' },
  { path: 'signins', label: 'Sign-in logs' },
  { path: 'audit', label: 'Audit logs' },
  { path: 'session', label: 'Session settings' },
  { path: 'users', label: 'Users' },
  { path: 'groups', label: 'Groups' },
] as const;

function Section(props: { route: string[]; session: ConsoleSession }) {
  const [section, ...rest] = props.route;
  switch (section ?? 'locations') {
    case 'locations':
      return rest.length > 0 ? <LocationEditor id={rest[0]} kind={rest[1]} /> : <LocationsPage />;
    case 'policies':
      return rest.length > 0 ? <PolicyEditor id={rest[0]} session={props.session} /> : <PoliciesPage />;
    case 'whatif':
      return <WhatIfPage session={props.session} />;
    case 'signins':
      return <SignInLogPage />;
    case 'audit':
      return <AuditLogPage />;
    case 'session':
      return <SessionSettingsPage />;
    case 'users':
      return <UsersPage />;
    case 'groups':
      return <GroupsPage id={rest[0]} />;
    default:
      return (
        <>
          <h1>Not found</h1>
          <p>There is no such page of the console.</p>
        </>
      );
  }
}

function Shell(props: { session: ConsoleSession }) {
  const route = useRoute();
  const current = route[0] ?? 'locations';
  const { user, roles } = props.session;
  return (
    <>
      {/* A button, not a link: the hash is the console's route, so `#main` would navigate away. */}
      <button type="button" class="skip" onClick={() => document.getElementById('main')?.focus()}>
        Skip to content
      </button>
      <header class="top">
        <p class="brand">Portcullis admin console</p>
        <div class="who">
          <span>
            {user.displayName} ({user.userPrincipalName}) — {roles.map((r) => r.displayName).join(', ')}
          </span>
          <button type="button" class="secondary" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <div class="layout">
        <nav aria-label="Console sections">
          <ul>
            {SECTIONS.map((s) => (
              <li key={s.path}>
                <a href={href(s.path)} aria-current={current === s.path ? 'page' : undefined}>
                  {s.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <main id="main" tabindex={-1}>
          <Section key={route.join('/')} route={route} session={props.session} />
        </main>
      </div>
    </>
  );
}

function SignIn(props: { ended: boolean }) {
  return (
    <main id="main" class="signin">
      <h1>Portcullis admin console</h1>
      {props.ended ? <p role="status">Your console session has ended.</p> : null}
      <p>Sign in with your account in this tenant. You need an admin role.</p>
      <p>
        <a class="button" href={`${CONSOLE_PATH}signin`}>
          Sign in
        </a>
      </p>
      <p class="hint">Tenant {TENANT_ID}</p>
    </main>
  );
}

function App() {
  const [state, setState] = useState<
    | { kind: 'loading' }
    | { kind: 'in'; session: ConsoleSession }
    | { kind: 'out'; ended: boolean }
    | { kind: 'error'; error: unknown }
  >({ kind: 'loading' });
  useEffect(() => {
    loadSession().then(
      (session) => {
        if (!session) return setState({ kind: 'out', ended: false });
        configureApi(session, () => setState({ kind: 'out', ended: true }));
        setState({ kind: 'in', session });
      },
      (error) => setState({ kind: 'error', error }),
    );
  }, []);
  switch (state.kind) {
    case 'loading':
      return (
        <main id="main">
          <Status>Loading…</Status>
        </main>
      );
    case 'out':
      return <SignIn ended={state.ended} />;
    case 'error':
      return (
        <main id="main">
          <h1>Portcullis admin console</h1>
          <ErrorMessage error={state.error} />
        </main>
      );
    case 'in':
      return <Shell session={state.session} />;
  }
}

render(<App />, document.getElementById('app') as HTMLElement);
