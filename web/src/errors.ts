// Puts an API error next to what it is about. Portcullis's 400 messages list each problem with its field path:
// `Invalid policy (2 problems): state: …; conditions.users.includeUsers[0]: …` or
// `Invalid session settings: inactivityTimeoutMinutes must be …`. Each problem goes to the longest field key it starts
// with; the rest stays with the form.
import { ApiError } from './api.ts';

export interface FormErrors {
  /** Problems that belong to no field (or every problem of a non-400 error). */
  readonly form: string[];
  /** Field key → its problems. */
  readonly fields: Record<string, string[]>;
}

export const NO_ERRORS: FormErrors = { form: [], fields: {} };

export function formErrors(error: unknown, keys: readonly string[]): FormErrors {
  if (!(error instanceof ApiError)) return { form: [String((error as Error)?.message ?? error)], fields: {} };
  if (error.status !== 400) return { form: [error.message], fields: {} };
  const text = error.message.replace(/\.$/, '');
  const head = /^Invalid [^:]*?(?:\(\d+ problems?\))?: /.exec(text);
  const problems = head ? text.slice(head[0].length).split('; ') : [text];
  const result: FormErrors = { form: [], fields: {} };
  const sorted = [...keys].sort((a, b) => b.length - a.length);
  for (const problem of problems) {
    const key = sorted.find((k) => problem.startsWith(k) && /^[:\s.[]/.test(problem.slice(k.length)));
    if (key === undefined) result.form.push(problem);
    else {
      result.fields[key] ??= [];
      result.fields[key].push(problem);
    }
  }
  return result;
}

/** The problems of a field, and the problems under it (`conditions.users` also gets `conditions.users.x`). */
export function errorsFor(errors: FormErrors, key: string): string[] {
  return errors.fields[key] ?? [];
}
