// Session settings (GET / PATCH /policies/sessionSettings): maximum session length, warning before expiry,
// inactivity timeout and continuous location enforcement, each with the server's problem next to it.
import { useState } from 'preact/hooks';
import { graph } from '../api.ts';
import {
  Checkbox,
  ErrorMessage,
  FieldErrors,
  FormAlert,
  PageHeading,
  Status,
  TextField,
  useLoad,
} from '../components.tsx';
import { type FormErrors, formErrors, NO_ERRORS } from '../errors.ts';

interface SessionSettings {
  maximumSessionLengthMinutes: number;
  warningBeforeExpiryMinutes: number;
  inactivityTimeoutMinutes: number | null;
  continuousLocationEnforcement: boolean;
}

const FIELDS = [
  'maximumSessionLengthMinutes',
  'warningBeforeExpiryMinutes',
  'inactivityTimeoutMinutes',
  'continuousLocationEnforcement',
];

export function SessionSettingsPage() {
  const loaded = useLoad(() => graph<SessionSettings>('GET', '/policies/sessionSettings'));
  return (
    <>
      <PageHeading>Session settings</PageHeading>
      <p>How long a sign-in lasts in this tenant. Changes apply to every session at its next check.</p>
      <ErrorMessage error={loaded.error} />
      {loaded.value ? <SessionForm initial={loaded.value} /> : loaded.loading ? <Status>Loading…</Status> : null}
    </>
  );
}

function whole(text: string): number | string {
  return /^\s*-?\d+\s*$/.test(text) ? Number(text) : text;
}

function SessionForm(props: { initial: SessionSettings }) {
  const [maximum, setMaximum] = useState(String(props.initial.maximumSessionLengthMinutes));
  const [warning, setWarning] = useState(String(props.initial.warningBeforeExpiryMinutes));
  const [inactivity, setInactivity] = useState(
    props.initial.inactivityTimeoutMinutes === null ? '' : String(props.initial.inactivityTimeoutMinutes),
  );
  const [strict, setStrict] = useState(props.initial.continuousLocationEnforcement === true);
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);
  const [saved, setSaved] = useState(false);

  async function save(event: Event) {
    event.preventDefault();
    setSaved(false);
    try {
      await graph('PATCH', '/policies/sessionSettings', {
        maximumSessionLengthMinutes: whole(maximum),
        warningBeforeExpiryMinutes: whole(warning),
        inactivityTimeoutMinutes: inactivity.trim() === '' ? null : whole(inactivity),
        continuousLocationEnforcement: strict,
      });
      setErrors(NO_ERRORS);
      setSaved(true);
    } catch (error) {
      setErrors(formErrors(error, FIELDS));
    }
  }
  const f = (key: string) => errors.fields[key];
  return (
    <form onSubmit={save} noValidate>
      <FormAlert errors={errors} />
      <TextField
        label="Maximum session length (minutes)"
        hint="60 to 1440. After this, people sign in again, whatever they are doing."
        value={maximum}
        onInput={setMaximum}
        errors={f('maximumSessionLengthMinutes')}
        type="number"
      />
      <TextField
        label="Warning before expiry (minutes)"
        value={warning}
        onInput={setWarning}
        errors={f('warningBeforeExpiryMinutes')}
        type="number"
      />
      <TextField
        label="Inactivity timeout (minutes)"
        hint="Empty: off. From 5, and less than the maximum session length."
        value={inactivity}
        onInput={setInactivity}
        errors={f('inactivityTimeoutMinutes')}
        type="number"
      />
      <Checkbox
        label="Continuous location enforcement (check the current address on every forward-auth request)"
        checked={strict}
        onChange={setStrict}
      />
      <FieldErrors id="strict-err" errors={f('continuousLocationEnforcement')} />
      <p class="actions">
        <button type="submit">Save</button>
        {saved ? <span role="status">Saved.</span> : null}
      </p>
    </form>
  );
}
