// Escaping and the page frame for the sign-in pages: every dynamic value goes through `escapeHtml`, pages carry
// `lang`, a title and one stylesheet from our own origin, and are served with a `default-src 'self'` CSP.

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ENTITIES[c]);
}

/** A tagged template that escapes every interpolated value unless it is already `Html`. */
export class Html {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
  toString(): string {
    return this.text;
  }
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1];
  return new Html(out);
}

function render(value: unknown): string {
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === undefined || value === null || value === false) return '';
  return escapeHtml(value);
}

/** Trusted markup we generated ourselves (the QR code SVG); never user input. */
export function trusted(markup: string): Html {
  return new Html(markup);
}

/** Served under `/assets/signin.css` so the CSP needs no 'unsafe-inline'. */
export const STYLESHEET_PATH = '/assets/signin.css';

/** The passkey buttons' script (the only script of the sign-in pages), from our own origin like the stylesheet. */
export const PASSKEY_SCRIPT_PATH = '/assets/passkey.js';

/**
 * Every `form[data-passkey]` has a button that asks the server for options (`data-options`, JSON with the CSRF
 * token), runs the WebAuthn ceremony — `create` to register a passkey, `get` to sign in with one — and posts the
 * browser's answer in the form's `response` field. A cancelled or failed ceremony posts an empty answer, which the
 * server refuses with its usual message (and logs).
 */
export const PASSKEY_SCRIPT = `// Passkeys on the sign-in pages: registration ("create") and sign-in or second factor ("get").
for (const form of document.querySelectorAll('form[data-passkey]')) {
  const button = form.querySelector('button');
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      const answer = await fetch(form.dataset.options, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ csrf: form.elements.csrf.value }),
      });
      if (!answer.ok) throw new Error('no passkey challenge');
      const options = await answer.json();
      const credential =
        form.dataset.passkey === 'create'
          ? await navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options) })
          : await navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options) });
      form.elements.response.value = JSON.stringify(credential.toJSON());
    } catch {
      form.elements.response.value = '';
    }
    form.submit();
  });
}
`;

export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; img-src 'self' data:; form-action 'self' http: https:; frame-ancestors 'none'; base-uri 'none'";

/**
 * A page. `sessionOf`: the tenant whose signed-in session the page is shown in — the page then carries the expiry
 * warning (session.js), as every Portcullis page shown to a signed-in user does.
 */
export function page(input: { title: string; body: Html; lang?: string; sessionOf?: string }): string {
  const warning =
    input.sessionOf === undefined
      ? html``
      : html`<script src="/assets/session.js" data-tenant="${input.sessionOf}" defer></script>`;
  return html`<!doctype html>
<html lang="${input.lang ?? 'en'}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${input.title} – Portcullis</title>
<link rel="stylesheet" href="${STYLESHEET_PATH}">
${warning}
</head>
<body>
<main>
${input.body}
</main>
</body>
</html>
`.text;
}

export const STYLESHEET = `
body{font-family:system-ui,sans-serif;background:#f3f4f6;color:#111827;margin:0}
main{max-width:26rem;margin:3rem auto;background:#fff;padding:2rem;border-radius:.5rem;box-shadow:0 1px 3px rgba(0,0,0,.2)}
h1{font-size:1.4rem;margin-top:0}
label{display:block;margin:.75rem 0 .25rem;font-weight:600}
input[type=text],input[type=password],input[type=email]{width:100%;box-sizing:border-box;padding:.5rem;font-size:1rem}
button{margin-top:1rem;padding:.6rem 1rem;font-size:1rem;background:#1d4ed8;color:#fff;border:0;border-radius:.25rem;cursor:pointer}
button.secondary{background:#6b7280}
h2{font-size:1.1rem;margin:1.5rem 0 .5rem}
p.or{text-align:center;color:#6b7280;margin:1.5rem 0 0}
.error{border-left:4px solid #b91c1c;background:#fef2f2;padding:.75rem;margin-bottom:1rem}
.error:focus{outline:2px solid #b91c1c}
dl.details{font-size:.85rem;color:#374151}
dl.details dt{font-weight:600}
dl.details dd{margin:0 0 .5rem 0;font-family:monospace;word-break:break-all}
.qr svg{width:12rem;height:12rem}
code.secret{word-break:break-all}
ul.codes{font-family:monospace}
`;
