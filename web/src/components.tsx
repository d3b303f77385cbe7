// Small accessible building blocks: labelled fields whose errors are announced and tied to the input
// (aria-describedby, aria-invalid), option pickers as fieldsets of checkboxes, alerts, a data loader hook, and a paged log reader.
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, graph, type Page } from './api.ts';
import { type FormErrors, formErrors, NO_ERRORS } from './errors.ts';

let counter = 0;
export function useId(prefix: string): string {
  const ref = useRef('');
  if (ref.current === '') ref.current = `${prefix}-${++counter}`;
  return ref.current;
}

export function FieldErrors(props: { id: string; errors?: readonly string[] }) {
  if (!props.errors || props.errors.length === 0) return null;
  return (
    <ul class="field-errors" id={props.id}>
      {props.errors.map((e) => (
        <li key={e}>{e}</li>
      ))}
    </ul>
  );
}

interface FieldProps {
  label: string;
  errors?: readonly string[];
  hint?: string;
  children: (attrs: { id: string; 'aria-describedby'?: string; 'aria-invalid'?: 'true' }) => ComponentChildren;
}

/** A label, the control (given its id and descriptions), a hint and the field's errors. */
export function Field(props: FieldProps) {
  const id = useId('f');
  const hasErrors = (props.errors?.length ?? 0) > 0;
  const described = [props.hint ? `${id}-hint` : '', hasErrors ? `${id}-err` : ''].filter(Boolean).join(' ');
  return (
    <div class={`field${hasErrors ? ' invalid' : ''}`}>
      <label for={id}>{props.label}</label>
      {props.children({
        id,
        ...(described ? { 'aria-describedby': described } : {}),
        ...(hasErrors ? { 'aria-invalid': 'true' as const } : {}),
      })}
      {props.hint ? (
        <p class="hint" id={`${id}-hint`}>
          {props.hint}
        </p>
      ) : null}
      <FieldErrors id={`${id}-err`} errors={props.errors} />
    </div>
  );
}

export function TextField(props: {
  label: string;
  value: string;
  onInput: (value: string) => void;
  errors?: readonly string[];
  hint?: string;
  type?: 'text' | 'number' | 'password' | 'datetime-local';
  required?: boolean;
  multiline?: boolean;
  autocomplete?: string;
}) {
  return (
    <Field label={props.label} errors={props.errors} hint={props.hint}>
      {(attrs) =>
        props.multiline ? (
          <textarea
            {...attrs}
            rows={5}
            value={props.value}
            onInput={(e) => props.onInput((e.target as HTMLTextAreaElement).value)}
          />
        ) : (
          <input
            {...attrs}
            type={(props.type ?? 'text') as 'text'}
            value={props.value}
            required={props.required}
            autocomplete={props.autocomplete ?? 'off'}
            onInput={(e) => props.onInput((e.target as HTMLInputElement).value)}
          />
        )
      }
    </Field>
  );
}

export function Checkbox(props: { label: string; checked: boolean; onChange: (checked: boolean) => void }) {
  const id = useId('c');
  return (
    <div class="check">
      <input
        id={id}
        type="checkbox"
        checked={props.checked}
        onChange={(e) => props.onChange((e.target as HTMLInputElement).checked)}
      />
      <label for={id}>{props.label}</label>
    </div>
  );
}

export function Radios<T extends string>(props: {
  legend: string;
  value: T;
  options: readonly { value: T; label: string }[];
  onChange: (value: T) => void;
  errors?: readonly string[];
}) {
  const name = useId('r');
  return (
    <fieldset class="radios">
      <legend>{props.legend}</legend>
      {props.options.map((o) => (
        <div class="check" key={o.value}>
          <input
            id={`${name}-${o.value}`}
            type="radio"
            name={name}
            value={o.value}
            checked={props.value === o.value}
            onChange={() => props.onChange(o.value)}
          />
          <label for={`${name}-${o.value}`}>{o.label}</label>
        </div>
      ))}
      <FieldErrors id={`${name}-err`} errors={props.errors} />
    </fieldset>
  );
}

export interface Option {
  readonly id: string;
  readonly label: string;
}

/**
 * Chooses ids: a checkbox per known option, and a text box for ids the console does not list (one per line), so
 * a policy that names a user, group or app the console cannot read is still edited without losing anything.
 */
export function Picker(props: {
  legend: string;
  options: readonly Option[];
  value: readonly string[];
  onChange: (value: string[]) => void;
  errors?: readonly string[];
  otherLabel?: string;
  /** Whether ids other than the options may be typed (not for fixed lists such as client app types). */
  other?: boolean;
}) {
  const id = useId('p');
  const known = new Set(props.options.map((o) => o.id));
  const others = props.value.filter((v) => !known.has(v));
  // The text as typed (kept while typing); the ids in it reach `value` at once.
  const [otherText, setOtherText] = useState(others.join('\n'));
  const chosen = props.value.filter((v) => known.has(v));
  const toggle = (optionId: string, on: boolean) => {
    const next = on ? [...chosen, optionId] : chosen.filter((v) => v !== optionId);
    props.onChange([...next, ...others]);
  };
  const hasErrors = (props.errors?.length ?? 0) > 0;
  return (
    <fieldset class={`picker${hasErrors ? ' invalid' : ''}`} aria-describedby={hasErrors ? `${id}-err` : undefined}>
      <legend>{props.legend}</legend>
      {props.options.length > 0 ? (
        <div class="picker-options">
          {props.options.map((o) => (
            <Checkbox key={o.id} label={o.label} checked={chosen.includes(o.id)} onChange={(on) => toggle(o.id, on)} />
          ))}
        </div>
      ) : null}
      {props.other === false ? null : (
        <>
          <label for={`${id}-other`}>{props.otherLabel ?? 'Other ids (one per line)'}</label>
          <textarea
            id={`${id}-other`}
            rows={2}
            value={otherText}
            onInput={(e) => {
              const text = (e.target as HTMLTextAreaElement).value;
              setOtherText(text);
              const ids = text
                .split(/[\n,]/)
                .map((s) => s.trim())
                .filter(Boolean);
              props.onChange([...chosen, ...ids]);
            }}
          />
        </>
      )}
      <FieldErrors id={`${id}-err`} errors={props.errors} />
    </fieldset>
  );
}

/** The form's own problems (not tied to a field), announced. */
export function FormAlert(props: { errors: FormErrors }) {
  const count = props.errors.form.length + Object.values(props.errors.fields).flat().length;
  if (count === 0) return null;
  return (
    <div class="alert" role="alert">
      <p>
        {count === 1 ? 'There is a problem' : `There are ${count} problems`}
        {props.errors.form.length > 0 ? ':' : ' (shown next to the fields).'}
      </p>
      {props.errors.form.length > 0 ? (
        <ul>
          {props.errors.form.map((e) => (
            <li key={e}>{e}</li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

export function ErrorMessage(props: { error: unknown }) {
  if (!props.error) return null;
  const message = props.error instanceof ApiError ? props.error.message : String((props.error as Error).message);
  return (
    <div class="alert" role="alert">
      <p>{message}</p>
    </div>
  );
}

export function Status(props: { children: ComponentChildren }) {
  return (
    <p class="status" role="status">
      {props.children}
    </p>
  );
}

/** Loads data (again when `deps` change or `reload` is called): value, error, loading. */
export function useLoad<T>(load: () => Promise<T>, deps: readonly unknown[] = []) {
  const [state, setState] = useState<{ value?: T; error?: unknown; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (value) => live && setState({ value, loading: false }),
      (error) => live && setState({ error, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

/**
 * A log collection read a page at a time (the sign-in and audit logs): the first `$top=50` page for the `$filter`
 * in `query`, read again whenever it changes, and `more()` appends the page `@odata.nextLink` names.
 */
export function usePagedLog<T>(collection: string) {
  const [query, setQuery] = useState('');
  const [pages, setPages] = useState<Page<T>[]>([]);
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);
  const [loading, setLoading] = useState(true);

  async function load(path: string, append: boolean) {
    setLoading(true);
    try {
      const page = await graph<Page<T>>('GET', path);
      setPages((current) => (append ? [...current, page] : [page]));
      setErrors(NO_ERRORS);
    } catch (error) {
      setErrors(formErrors(error, []));
      if (!append) setPages([]);
    } finally {
      setLoading(false);
    }
  }

  useEffect(() => {
    const filter = query ? `&$filter=${encodeURIComponent(query)}` : '';
    void load(`${collection}?$top=50${filter}`, false);
  }, [collection, query]);

  const next = pages.at(-1)?.['@odata.nextLink'];
  return {
    query,
    setQuery,
    entries: pages.flatMap((p) => p.value),
    errors,
    loading,
    more: next === undefined ? undefined : () => void load(next, true),
  };
}

/** A page's heading, focused when the page opens so screen readers announce it. */
export function PageHeading(props: { children: ComponentChildren }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    ref.current?.focus();
  }, []);
  return (
    <h1 tabindex={-1} ref={ref}>
      {props.children}
    </h1>
  );
}

export function formatDate(iso: string | undefined | null): string {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}
