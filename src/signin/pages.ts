// The sign-in pages: password or passkey, MFA prompt, enrolment (passkey or TOTP app), recovery codes, and the error
// page (blocked, locked). Forms post back to the interaction's own URL with its CSRF token; an error is announced and
// takes the focus. Passkey forms carry `data-passkey` and are driven by PASSKEY_SCRIPT.
import { ERROR_CODES } from '../errors.ts';
import { type Html, html, PASSKEY_SCRIPT_PATH, page, trusted } from './html.ts';
import type { MfaMethods } from './second-factor.ts';

export interface FormContext {
  /** The interaction's base URL, e.g. `/t/{tenant}/signin/{uid}`. */
  readonly action: string;
  readonly csrf: string;
  readonly appName: string;
}

function errorBox(message: string | undefined): Html {
  // tabindex=-1 + autofocus moves the focus (and a screen reader) to the error first.
  return message ? html`<div class="error" role="alert" id="error" tabindex="-1" autofocus>${message}</div>` : html``;
}

function csrfField(csrf: string): Html {
  return html`<input type="hidden" name="csrf" value="${csrf}">`;
}

/**
 * A form whose button runs a WebAuthn ceremony (see PASSKEY_SCRIPT): options from `{path}/options`, the answer
 * posted to `{path}` in `response`.
 */
function passkeyForm(
  form: FormContext,
  input: { path: string; ceremony: 'get' | 'create'; label: string; secondary?: boolean; autofocus?: boolean },
): Html {
  const action = `${form.action}/${input.path}`;
  return html`<form method="post" action="${action}" data-passkey="${input.ceremony}" data-options="${action}/options">
${csrfField(form.csrf)}
<input type="hidden" name="response" value="">
<button type="button"${input.secondary ? trusted(' class="secondary"') : ''}${input.autofocus ? trusted(' autofocus') : ''}>${input.label}</button>
</form>`;
}

const passkeyScript = () => html`<script src="${PASSKEY_SCRIPT_PATH}"></script>`;

export function passwordPage(form: FormContext, input: { signInName?: string; error?: string }): string {
  const focusName = !input.error && !input.signInName;
  return page({
    title: 'Sign in',
    body: html`<h1>Sign in</h1>
<p>to continue to <strong>${form.appName}</strong></p>
${errorBox(input.error)}
<form method="post" action="${form.action}/password">
${csrfField(form.csrf)}
<label for="username">Email or user name</label>
<input type="text" id="username" name="username" autocomplete="username webauthn" required value="${input.signInName ?? ''}"${focusName ? trusted(' autofocus') : ''}>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required${!focusName && !input.error ? trusted(' autofocus') : ''}>
<button type="submit">Sign in</button>
</form>
<p class="or">or</p>
${passkeyForm(form, { path: 'passkey-sign-in', ceremony: 'get', label: 'Sign in with a passkey', secondary: true })}
${passkeyScript()}`,
  });
}

export function mfaPage(form: FormContext, input: { methods: MfaMethods; error?: string }): string {
  return page({
    title: 'Verify your identity',
    body: html`<h1>Verify your identity</h1>
<p>${ERROR_CODES[50076].message}</p>
${errorBox(input.error)}
${
  input.methods.totp
    ? html`<form method="post" action="${form.action}/totp">
${csrfField(form.csrf)}
<label for="code">Code from your authenticator app</label>
<input type="text" id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]*" required${input.error ? '' : trusted(' autofocus')}>
<button type="submit">Verify</button>
</form>`
    : ''
}
${
  input.methods.passkeys
    ? html`${passkeyForm(form, {
        path: 'passkey',
        ceremony: 'get',
        label: 'Use a passkey',
        autofocus: !input.methods.totp && !input.error,
      })}
${passkeyScript()}`
    : ''
}
${
  input.methods.recoveryCodes
    ? html`<form method="post" action="${form.action}/recovery-code">
${csrfField(form.csrf)}
<label for="recovery">Or use a recovery code</label>
<input type="text" id="recovery" name="code" autocomplete="off" required>
<button type="submit" class="secondary">Use recovery code</button>
</form>`
    : ''
}`,
  });
}

/** For a user whom MFA is asked of and who has no method: a passkey, or a TOTP app (as Entra and Keycloak offer). */
export function enrolPage(form: FormContext, input: { qrSvg: string; secret: string; error?: string }): string {
  return page({
    title: 'Set up a second sign-in step',
    body: html`<h1>Set up a second sign-in step</h1>
<p>Your organisation requires a second sign-in step. Set up a passkey or an authenticator app.</p>
${errorBox(input.error)}
<h2>Set up a passkey</h2>
<p>Use your device's fingerprint, face or screen lock, or a security key. Next time, you can sign in with the passkey alone.</p>
${passkeyForm(form, { path: 'enrol-passkey', ceremony: 'create', label: 'Set up a passkey', autofocus: !input.error })}
${passkeyScript()}
<p class="or">or</p>
<h2>Set up your authenticator app</h2>
<p>Scan this code with an authenticator app, then enter the code it shows.</p>
<div class="qr" aria-hidden="true">${trusted(input.qrSvg)}</div>
<p>Cannot scan? Enter this key: <code class="secret" id="totp-secret">${input.secret}</code></p>
<form method="post" action="${form.action}/enrol">
${csrfField(form.csrf)}
<label for="code">Code from your authenticator app</label>
<input type="text" id="code" name="code" inputmode="numeric" autocomplete="one-time-code" required>
<button type="submit">Verify and continue</button>
</form>`,
  });
}

export function recoveryCodesPage(form: FormContext, codes: readonly string[]): string {
  return page({
    title: 'Your recovery codes',
    body: html`<h1>Save your recovery codes</h1>
<p>Each code signs you in once if you lose your passkey or authenticator app. They are shown only now.</p>
<ul class="codes">${codes.map((c) => html`<li>${c}</li>`)}</ul>
<form method="post" action="${form.action}/continue">
${csrfField(form.csrf)}
<button type="submit" autofocus>I have saved them, continue</button>
</form>`,
  });
}

/**
 * The page for a sign-in that cannot go on: Conditional Access blocked it, the account is locked, the request
 * expired. It shows the code, the correlation id and the time (what a help desk needs) and never which policy.
 */
export function errorPage(input: {
  code: keyof typeof ERROR_CODES;
  correlationId: string;
  at: number;
  title?: string;
}): string {
  const info = ERROR_CODES[input.code];
  return page({
    title: input.title ?? 'You cannot access this right now',
    body: html`<h1>${input.title ?? 'You cannot access this right now'}</h1>
<div class="error" role="alert" tabindex="-1" autofocus>${info.message}</div>
<dl class="details">
<dt>Error code</dt><dd id="error-code">${input.code}</dd>
<dt>Correlation ID</dt><dd id="correlation-id">${input.correlationId}</dd>
<dt>Timestamp</dt><dd id="timestamp">${new Date(input.at).toISOString()}</dd>
</dl>`,
  });
}

/** For problems without a code of their own (an expired sign-in request, a bad CSRF token). */
export function problemPage(input: { title: string; message: string; correlationId: string; at: number }): string {
  return page({
    title: input.title,
    body: html`<h1>${input.title}</h1>
<div class="error" role="alert" tabindex="-1" autofocus>${input.message}</div>
<dl class="details">
<dt>Correlation ID</dt><dd id="correlation-id">${input.correlationId}</dd>
<dt>Timestamp</dt><dd id="timestamp">${new Date(input.at).toISOString()}</dd>
</dl>`,
  });
}
