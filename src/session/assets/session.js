// Portcullis's expiry warning for applications (docs/sessions.md, "Warning before expiry"), served at
// /assets/session.js. Include it in the app's pages:
//
//   <script src="https://id.example.com/assets/session.js" data-tenant="TENANT-ID" data-signin-url="/login" defer></script>
//
// It asks Portcullis when the session ends (GET {base}/t/{tenant}/session/status, which is not activity), shows an
// accessible banner from `warnAt`, offers "Stay signed in" (POST …/session/activity, which is) when the session would
// end by inactivity and "Sign in again" when by its maximum length, and takes the page to the sign-in URL at the end
// (or when the session was ended elsewhere). Times are the server's: the device clock is corrected by `now`.
// The DOM is built with textContent only and styled inside a shadow root, so the app's CSP, Trusted Types and CSS
// are not in the way. Plain script, no build step.
(() => {
  const PREFIX = 'Portcullis session.js:';
  const guard = Symbol.for('portcullis.session');
  if (window[guard]) return;
  const script = document.currentScript;
  if (!(script instanceof HTMLScriptElement) || script.src === '') {
    console.error(PREFIX, 'include it with <script src=".../assets/session.js" data-tenant="...">');
    return;
  }
  const tenant = script.dataset.tenant;
  if (!tenant) {
    console.error(PREFIX, 'the data-tenant attribute (the tenant id) is missing');
    return;
  }
  window[guard] = true;

  /** Where to go when the session ends, or for "Sign in again": data-signin-url, else this page again. */
  let signInUrl;
  if (script.dataset.signinUrl) {
    try {
      const url = new URL(script.dataset.signinUrl, document.baseURI);
      if (url.protocol === 'https:' || url.protocol === 'http:') signInUrl = url.href;
    } catch {
      // reported below
    }
    if (signInUrl === undefined)
      console.error(PREFIX, 'data-signin-url must be an http(s) URL; the page reloads instead');
  }

  // The script is served at {base}/assets/session.js; the endpoints are under the same base.
  const base = new URL('../', script.src);
  const statusUrl = new URL(`t/${encodeURIComponent(tenant)}/session/status`, base).href;
  const activityUrl = new URL(`t/${encodeURIComponent(tenant)}/session/activity`, base).href;

  const POLL_MS = 60_000;
  const MINUTE_MS = 60_000;
  /** Status requests are at least this far apart, whatever the timers say. */
  const MIN_GAP_MS = 1_000;

  /** The last live answer, in server time: { warnAt, endAt, endsBy }; undefined when there is no live session. */
  let times;
  /** Server time − device time. */
  let skew = 0;
  let seenLive = false;
  let polledAt = Number.NEGATIVE_INFINITY;
  let inFlight = false;
  let leaving = false;
  let timer;

  // The banner. The live region (role=status) is in the page from the start, visually hidden while there is nothing
  // to say, so that screen readers announce what is written into it later.
  const host = document.createElement('portcullis-session');
  host.dataset.state = 'starting';
  const root = host.attachShadow({ mode: 'open' });
  const CSS = `
:host { all: initial; }
.banner { position: fixed; left: 0; right: 0; bottom: 0; z-index: 2147483647; box-sizing: border-box;
  display: flex; flex-wrap: wrap; align-items: center; justify-content: center; gap: 0.5rem 1rem;
  padding: 0.75rem 1rem; border-top: 2px solid #8a6d00; background: #fff4ce; color: #1b1b1b;
  box-shadow: 0 -2px 8px rgb(0 0 0 / 0.15); font: 16px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
.banner.closed { width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden; clip-path: inset(50%);
  white-space: nowrap; border: 0; box-shadow: none; }
.text { margin: 0; }
.actions { display: flex; gap: 0.5rem; }
button { font: inherit; padding: 0.4rem 0.9rem; border-radius: 4px; border: 1px solid #1b1b1b; cursor: pointer;
  background: #1b1b1b; color: #ffffff; }
button:hover { background: #3a3a3a; }
button:focus-visible { outline: 3px solid #0b5cad; outline-offset: 2px; }
button:disabled { cursor: progress; opacity: 0.7; }
[hidden] { display: none !important; }
@media (prefers-color-scheme: dark) {
  .banner { background: #3d3000; color: #fff8e1; border-top-color: #e0b000; }
  button { background: #fff8e1; color: #1b1b1b; border-color: #fff8e1; }
  button:hover { background: #ffffff; }
}
@media (forced-colors: active) { .banner { border: 2px solid CanvasText; } }
`;
  if (typeof CSSStyleSheet === 'function' && 'adoptedStyleSheets' in root && 'replaceSync' in CSSStyleSheet.prototype) {
    // A constructed stylesheet is not an inline style: an app whose CSP has no style-src 'unsafe-inline' allows it.
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    root.adoptedStyleSheets = [sheet];
  } else {
    const style = document.createElement('style');
    style.textContent = CSS;
    root.append(style);
  }
  const banner = element('div', 'banner closed');
  const text = element('p', 'text');
  text.setAttribute('role', 'status');
  text.setAttribute('aria-live', 'polite');
  text.setAttribute('aria-atomic', 'true');
  const actions = element('div', 'actions');
  const stay = element('button', 'stay');
  stay.type = 'button';
  stay.textContent = 'Stay signed in';
  const again = element('button', 'again');
  again.type = 'button';
  again.textContent = 'Sign in again';
  actions.append(stay, again);
  actions.hidden = true;
  banner.append(text, actions);
  root.append(banner);
  stay.addEventListener('click', staySignedIn);
  again.addEventListener('click', goToSignIn);

  function element(tag, className) {
    const node = document.createElement(tag);
    node.className = className;
    return node;
  }

  function say(message) {
    if (text.textContent !== message) text.textContent = message;
  }

  function setState(state) {
    host.dataset.state = state;
  }

  /** Asks the server; resolves to the new times, undefined for "no live session" (401), or rejects. */
  async function ask(url, init) {
    const sentAt = Date.now();
    const response = await fetch(url, { credentials: 'include', cache: 'no-store', ...init });
    const receivedAt = Date.now();
    if (response.status === 401) return undefined;
    if (!response.ok) throw new Error(`${url} answered ${response.status}`);
    const body = await response.json();
    const now = Date.parse(body.now);
    const expiresAt = Date.parse(body.expiresAt);
    const warnAt = Date.parse(body.warnAt);
    const idle = body.idleExpiresAt === undefined ? Number.POSITIVE_INFINITY : Date.parse(body.idleExpiresAt);
    if ([now, expiresAt, warnAt, idle].some(Number.isNaN)) throw new Error(`${url} answered an unexpected body`);
    // The server's clock against the midpoint of the request: a device clock that is off does not move the banner.
    skew = now - (sentAt + receivedAt) / 2;
    host.dataset.checked = body.now;
    return {
      warnAt,
      endAt: Math.min(expiresAt, idle),
      endsBy: body.endsBy === 'inactivity' ? 'inactivity' : 'absolute',
    };
  }

  /** What an answer means: new times, or — once a session was seen — the end (signed out, revoked or expired). */
  function apply(answer) {
    const wasWarning = host.dataset.state === 'warning';
    times = answer;
    if (answer === undefined) {
      if (seenLive) leave();
      else setState('none');
      return;
    }
    seenLive = true;
    if (wasWarning && serverNow() < answer.warnAt) say('You are still signed in.');
  }

  function serverNow() {
    return Date.now() + skew;
  }

  function poll() {
    if (inFlight || leaving) return;
    inFlight = true;
    ask(statusUrl, { headers: { accept: 'application/json' } })
      .then(apply, (error) => {
        // The server could not be asked (network, or it failed): keep the last answer, unless its end has come.
        if (times !== undefined && serverNow() >= times.endAt) leave();
        else console.warn(PREFIX, error);
      })
      .finally(() => {
        inFlight = false;
        polledAt = Date.now();
        schedule();
      });
  }

  /** Shows what is due now, then sleeps until the next thing is: a poll, warnAt, the next minute, or the end. */
  function schedule() {
    clearTimeout(timer);
    if (leaving || inFlight) return;
    const deviceNow = Date.now();
    let wake = Math.max(polledAt + POLL_MS - deviceNow, 0);
    if (times === undefined) {
      close();
    } else {
      const now = serverNow();
      const left = times.endAt - now;
      if (left <= 0) {
        // The end, by the last answer. Ask once more (activity elsewhere may have moved it); a 401 then leaves.
        const gap = polledAt + MIN_GAP_MS - deviceNow;
        if (gap <= 0) poll();
        else timer = setTimeout(poll, gap);
        return;
      }
      if (now < times.warnAt) {
        close();
        wake = Math.min(wake, times.warnAt - now);
      } else {
        const minutes = Math.ceil(left / MINUTE_MS);
        warn(minutes);
        // Until the count drops by one, or the end.
        wake = Math.min(wake, left - (minutes - 1) * MINUTE_MS);
      }
    }
    timer = setTimeout(() => (Date.now() >= polledAt + POLL_MS ? poll() : schedule()), wake);
  }

  function close() {
    if (seenLive) setState('live');
    banner.classList.add('closed');
    actions.hidden = true;
  }

  function warn(minutes) {
    setState('warning');
    say(`Your session ends in ${minutes === 1 ? '1 minute' : `${minutes} minutes`}.`);
    stay.hidden = times.endsBy !== 'inactivity';
    again.hidden = times.endsBy !== 'absolute';
    actions.hidden = false;
    banner.classList.remove('closed');
  }

  async function staySignedIn() {
    stay.disabled = true;
    try {
      apply(await ask(activityUrl, { method: 'POST', headers: { 'X-Portcullis-Session': '1' } }));
      polledAt = Date.now();
    } catch (error) {
      console.warn(PREFIX, error);
      say('Your session could not be extended. Try again.');
    } finally {
      stay.disabled = false;
      schedule();
    }
  }

  function goToSignIn() {
    if (signInUrl === undefined) window.location.reload();
    else window.location.assign(signInUrl);
  }

  function leave() {
    if (leaving) return;
    leaving = true;
    clearTimeout(timer);
    setState('ended');
    actions.hidden = true;
    banner.classList.remove('closed');
    say('Your session has ended. Taking you to sign in.');
    goToSignIn();
  }

  // Timers sleep with the device and are slowed in background tabs: look again when the page is back.
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') poll();
  });
  window.addEventListener('pageshow', (event) => {
    if (event.persisted) poll();
  });

  function start() {
    document.body.append(host);
    poll();
  }
  if (document.body) start();
  else document.addEventListener('DOMContentLoaded', start, { once: true });
})();
