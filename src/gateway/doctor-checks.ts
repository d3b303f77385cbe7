// `portcullis doctor`: the checks, as an ordered list, each a named judgement of what the probes saw (doctor-http.ts
// sends them). Pure: observations in, one PASS/WARN/FAIL/SKIP result per check out, each with why and, when something
// is wrong, the line of proxy configuration that fixes it (deploy/ holds the whole files).
import { COOKIES, FORWARDED_FOR, fixFor, IDENTITY, ORIGINAL_URL, PROTECT, type ProxyKind } from './doctor-fixes.ts';
import { asDiagnosis, type DoctorDiagnosis, diagnosisFromLocation } from './doctor-probe.ts';

export type CheckStatus = 'PASS' | 'WARN' | 'FAIL' | 'SKIP';

export interface CheckResult {
  readonly id: string;
  readonly status: CheckStatus;
  readonly message: string;
  /** How to fix it, for WARN and FAIL. */
  readonly fix?: string;
}

export interface HttpAnswer {
  readonly status: number;
  /** Lower-case names; repeated headers joined with ', '. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** One request's outcome: an answer, or why there was none (refused, unknown host, TLS, timeout). */
export type Probe = { readonly ok: true; readonly answer: HttpAnswer } | { readonly ok: false; readonly error: string };

/** What a client might forge, as the probes send it (unique values, so a leak can be seen and named). */
export interface Forged {
  readonly identity: {
    readonly 'Remote-User': string;
    readonly 'Remote-Groups': string;
    readonly 'Remote-Email': string;
    readonly 'Remote-Name': string;
  };
  /** X-Forwarded-For entries, left to right. */
  readonly forwardedFor: readonly string[];
  readonly path: string;
  /** The port put into X-Forwarded-Host (the host stays the same, so the application still claims it). */
  readonly port: string;
  /** A cookie named as Portcullis's session cookies are. */
  readonly sessionCookie: string;
}

export const FORGED: Forged = {
  identity: {
    'Remote-User': 'doctor-forged-user',
    'Remote-Groups': 'doctor-forged-groups',
    'Remote-Email': 'doctor-forged-email@example.invalid',
    'Remote-Name': 'doctor-forged-name',
  },
  // A documentation address (RFC 5737) and the address a proxy on the same machine would have.
  forwardedFor: ['198.51.100.77', '127.0.0.1'],
  path: '/portcullis-doctor-forged',
  port: '1',
  sessionCookie: 'portcullis-gw-session=doctor-forged-session',
};

export interface Observations {
  /** The protected URL the doctor was given. */
  readonly target: URL;
  /** `--portcullis`: where the sign-in is expected (origin and path, no trailing slash). */
  readonly expectedPortcullis?: string;
  /** No session, a browser's Accept, `Portcullis-Doctor: 1`. */
  readonly browser: Probe;
  /** No session, `Accept: application/json`. */
  readonly script?: Probe;
  /** No session, forged X-Original-URL, X-Forwarded-Host/-Uri/-Proto and X-Forwarded-For. */
  readonly forgedUrl?: Probe;
  /** No session, forged identity headers and a forged Portcullis session cookie. */
  readonly forgedIdentity?: Probe;
  /** GET {portcullis}/api/authz/doctor, without and with a forged X-Forwarded-For. */
  readonly portcullisSelf?: { readonly url: string; readonly plain: Probe; readonly forged: Probe };
  /** With the admin's session cookie (`--session-cookie`), forged identity headers and a cookie of the app's own. */
  readonly session?: {
    readonly cookie: string;
    readonly probe: Probe;
    /** Sent as `Portcullis-Doctor-Echo`: its presence in the body shows the application echoes its request. */
    readonly echoMarker: string;
    /** The value of the application's own cookie the doctor sent along; it must reach the application. */
    readonly appCookieValue: string;
  };
  readonly forged: Forged;
}

/** What the checks share: the sign-in redirect (when there was one) and which proxy seems to be in front. */
export interface Context {
  readonly observations: Observations;
  readonly signIn?: SignInRedirect;
  /** The proxies the fixes are written for: the one recognised, or every one that uses the endpoint seen. */
  readonly proxies: readonly ProxyKind[];
}

export interface SignInRedirect {
  readonly status: number;
  readonly location: URL;
  /** Portcullis's public URL as the redirect names it: origin and path before `/t/{tenant}/`. */
  readonly portcullis: string;
  readonly returnUrl?: URL;
  readonly diagnosis?: DoctorDiagnosis;
}

const SIGN_IN_PATH = /^(.*)\/t\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\/gateway\/login$/i;

/** The answer as a redirect to Portcullis's gateway sign-in (`…/t/{tenant}/gateway/login?rd=…`), or undefined. */
export function signInRedirect(probe: Probe | undefined, base: URL): SignInRedirect | undefined {
  if (!probe?.ok || probe.answer.status < 300 || probe.answer.status > 399) return undefined;
  const raw = probe.answer.headers.location;
  if (raw === undefined) return undefined;
  let location: URL;
  try {
    location = new URL(raw, base);
  } catch {
    return undefined;
  }
  const match = SIGN_IN_PATH.exec(location.pathname);
  if (match === null) return undefined;
  let returnUrl: URL | undefined;
  try {
    returnUrl = new URL(location.searchParams.get('rd') ?? '');
  } catch {
    returnUrl = undefined;
  }
  return {
    status: probe.answer.status,
    location,
    portcullis: `${location.origin}${match[1]}`,
    returnUrl,
    diagnosis: diagnosisFromLocation(location),
  };
}

/** The proxy, from its Server header, else from the endpoint Portcullis saw it use. */
export function proxiesOf(observations: Observations, diagnosis: DoctorDiagnosis | undefined): ProxyKind[] {
  const server = observations.browser.ok ? (observations.browser.answer.headers.server ?? '') : '';
  if (/nginx|openresty/i.test(server)) return ['nginx'];
  if (/caddy/i.test(server)) return ['caddy'];
  if (diagnosis?.endpoint === 'auth-request') return ['nginx'];
  if (diagnosis?.endpoint === 'forward-auth') return ['caddy', 'traefik'];
  return ['nginx', 'caddy', 'traefik'];
}

const pass = (id: string, message: string): CheckResult => ({ id, status: 'PASS', message });
const skip = (id: string, message: string): CheckResult => ({ id, status: 'SKIP', message });
const warn = (id: string, message: string, fix: string): CheckResult => ({ id, status: 'WARN', message, fix });
const fail = (id: string, message: string, fix: string): CheckResult => ({ id, status: 'FAIL', message, fix });

const NO_SIGN_IN = 'not checked: the request without a session was not sent to sign in (above)';

function isLocal(url: URL): boolean {
  const host = url.hostname.toLowerCase();
  return host === 'localhost' || host.endsWith('.localhost') || /^127\.\d+\.\d+\.\d+$/.test(host) || host === '[::1]';
}

function describe(probe: Probe | undefined): string {
  if (probe === undefined) return 'no answer';
  if (!probe.ok) return probe.error;
  const location = probe.answer.headers.location;
  return `${probe.answer.status}${location ? ` to ${location}` : ''}`;
}

// The checks, in the order they are printed. Each reads the observations and returns one result.

function reachable(context: Context): CheckResult {
  const { browser, target } = context.observations;
  if (browser.ok) return pass('reachable', `${target.href} answered ${browser.answer.status}.`);
  return fail(
    'reachable',
    `${target.href} did not answer: ${browser.error}.`,
    'Check the address, DNS and the firewall; for a certificate from a private CA run with NODE_EXTRA_CA_CERTS=<ca.pem>.',
  );
}

function signIn(context: Context): CheckResult {
  const id = 'sign-in';
  const { browser, target } = context.observations;
  if (!browser.ok) return skip(id, 'not checked: no answer');
  if (context.signIn) {
    return pass(
      id,
      `Without a session the browser is sent to sign in (${context.signIn.status} to ${context.signIn.portcullis}).`,
    );
  }
  const { status, headers, body } = browser.answer;
  if (status >= 200 && status < 300) {
    return fail(
      id,
      `${target.href} answered ${status} without a session: nothing asks Portcullis before this URL.`,
      fixFor(context.proxies, PROTECT),
    );
  }
  if (status === 401) {
    return fail(
      id,
      'A browser without a session got 401 instead of a redirect to sign in.',
      fixFor(context.proxies, {
        nginx:
          'auth_request_set $portcullis_location $upstream_http_location; in the protected location and error_page 401 = @portcullis_signin; with the @portcullis_signin location of portcullis-authz.conf.',
        caddy: 'forward_auth passes Portcullis’s 302 on as it is: remove any handle_errors that turns it into a 401.',
        traefik:
          'the forwardAuth middleware passes Portcullis’s 302 on: remove any errors middleware that replaces it.',
      }),
    );
  }
  if (status === 403 && /No application is registered for this address/.test(body)) {
    return fail(
      id,
      `Portcullis knows no application for ${target.host}${target.pathname}, so it denies every request (fail closed).`,
      'Register the application for this host and path (gateway.applications in the configuration file, or the API); if it is registered, the proxy tells Portcullis another host: ' +
        fixFor(context.proxies, ORIGINAL_URL),
    );
  }
  if (status >= 500) {
    return fail(
      id,
      `${target.href} answered ${status}: the proxy could not get a usable answer from Portcullis${headers.server ? ` (Server: ${headers.server})` : ''}.`,
      fixFor(
        context.proxies,
        {
          nginx:
            "a 500 means the auth_request answer was not 200, 401 or 403: Portcullis unreachable from nginx, or a 400 because the subrequest has no X-Original-URL (proxy_set_header X-Original-URL $scheme://$http_host$request_uri;). nginx's error log says which.",
          caddy: "forward_auth's address must reach Portcullis (its port, not its public URL behind Caddy).",
          traefik: "the forwardAuth address must reach Portcullis's /api/authz/forward-auth.",
        },
        "Portcullis's log names a request it refused (gateway: badRequest).",
      ),
    );
  }
  const location = headers.location;
  if (status >= 300 && status < 400 && location !== undefined) {
    const next = new URL(location, target);
    if (target.protocol === 'http:' && next.protocol === 'https:' && next.host === target.host) {
      return fail(
        id,
        `${target.href} redirects to ${next.href}.`,
        `Run the doctor on the https address: portcullis doctor ${next.href}`,
      );
    }
    return fail(
      id,
      `Without a session the browser is sent to ${next.href}, which is not Portcullis's gateway sign-in (…/t/<tenant>/gateway/login?rd=…).`,
      'Let the proxy ask Portcullis (…/api/authz/auth-request for nginx, …/api/authz/forward-auth for Traefik and Caddy) and pass its answer on. ' +
        fixFor(context.proxies, PROTECT),
    );
  }
  return fail(
    id,
    `Without a session ${target.href} answered ${status}, not a redirect to Portcullis's sign-in.`,
    fixFor(context.proxies, PROTECT),
  );
}

function portcullisUrl(context: Context): CheckResult {
  const id = 'portcullis-url';
  if (!context.signIn) return skip(id, NO_SIGN_IN);
  const seen = context.signIn.portcullis;
  const expected = context.observations.expectedPortcullis;
  if (expected === undefined) return pass(id, `Portcullis's sign-in is at ${seen} (give --portcullis to check it).`);
  if (seen === expected) return pass(id, `The sign-in is on ${expected}, as expected.`);
  return fail(
    id,
    `The sign-in is on ${seen}, not ${expected}.`,
    `Portcullis builds the sign-in URL from its publicUrl: set publicUrl to ${expected} (or, if ${seen} is right, run the doctor with --portcullis ${seen}); a proxy in front of several Portcullis deployments may ask the wrong one.`,
  );
}

function https(context: Context): CheckResult {
  const id = 'https';
  const { target, browser } = context.observations;
  if (!browser.ok) return skip(id, 'not checked: no answer');
  const problems: string[] = [];
  const fixes: string[] = [];
  if (target.protocol === 'http:' && !isLocal(target)) {
    problems.push(`the application is served over plain http, so its session cookie crosses the network unencrypted`);
    fixes.push('Serve the application over https.');
  }
  const signInUrl = context.signIn ? new URL(context.signIn.portcullis) : undefined;
  if (signInUrl?.protocol === 'http:' && !isLocal(signInUrl)) {
    problems.push(
      `the sign-in (${context.signIn?.portcullis}) is plain http, so passwords cross the network unencrypted`,
    );
    fixes.push("Set Portcullis's publicUrl to its https:// address (cookies are then Secure and __Secure- named).");
  }
  if (problems.length > 0)
    return warn(
      id,
      `${problems.join('; ')}.`.replace(/^./, (c) => c.toUpperCase()),
      fixes.join(' '),
    );
  if (target.protocol === 'http:' || signInUrl?.protocol === 'http:') {
    return pass(id, 'Plain http, but only on loopback names (development).');
  }
  return pass(id, 'The application and the sign-in are both https.');
}

function returnUrl(context: Context): CheckResult {
  const id = 'return-url';
  if (!context.signIn) return skip(id, NO_SIGN_IN);
  const { target } = context.observations;
  const seen = context.signIn.returnUrl;
  if (seen === undefined) {
    return fail(
      id,
      'The sign-in redirect carries no return URL (rd).',
      'The redirect must be the Location Portcullis answered, unchanged.',
    );
  }
  const asked = `${target.host}${target.pathname}${target.search}`;
  const told = `${seen.host}${seen.pathname}${seen.search}`;
  if (asked !== told) {
    return fail(
      id,
      `Portcullis was told the request was for ${seen.href}, not ${target.href}: it judged another address than the browser asked for.`,
      fixFor(context.proxies, ORIGINAL_URL),
    );
  }
  if (seen.protocol !== target.protocol) {
    return warn(
      id,
      `Portcullis was told ${seen.protocol.slice(0, -1)}:// for a request made over ${target.protocol.slice(0, -1)}://: after signing in the browser returns to ${seen.href}.`,
      fixFor(context.proxies, {
        nginx:
          'TLS ends in front of nginx: build X-Original-URL from the original scheme (e.g. $http_x_forwarded_proto from that terminator) or end TLS in nginx.',
        caddy:
          "TLS ends in front of Caddy: list that terminator in Caddy's trusted_proxies so it keeps X-Forwarded-Proto.",
        traefik: "TLS ends in front of Traefik: list that terminator in the entry point's forwardedHeaders.trustedIPs.",
      }),
    );
  }
  return pass(id, 'Portcullis judged exactly the URL the browser asked for (its return address after sign-in).');
}

function scripts(context: Context): CheckResult {
  const id = 'scripts';
  const probe = context.observations.script;
  if (!context.signIn || probe === undefined) return skip(id, NO_SIGN_IN);
  if (probe.ok && probe.answer.status === 401 && probe.answer.headers.location === undefined) {
    return pass(id, 'A script (Accept: application/json) without a session gets 401, not a sign-in page.');
  }
  return warn(
    id,
    `A script (Accept: application/json) without a session got ${describe(probe)} instead of 401.`,
    fixFor(context.proxies, {
      nginx: 'the @portcullis_signin location of portcullis-authz.conf: return 401 when $portcullis_location is empty.',
      caddy: 'pass Portcullis’s 401 on unchanged (no handle_errors that redirects it).',
      traefik: 'pass Portcullis’s 401 on unchanged (no errors middleware that redirects it).',
    }),
  );
}

function forgedUrl(context: Context): CheckResult {
  const id = 'forged-url-headers';
  const { forgedUrl: probe, forged } = context.observations;
  if (!context.signIn || probe === undefined) return skip(id, NO_SIGN_IN);
  const headerNames = 'X-Original-URL, X-Forwarded-Host, X-Forwarded-Uri and X-Forwarded-Proto';
  const redirect = signInRedirect(probe, context.observations.target);
  if (redirect === undefined) {
    return fail(
      id,
      `With forged ${headerNames} the answer changed from the sign-in redirect to ${describe(probe)}: the proxy passes a client's copies to Portcullis.`,
      fixFor(context.proxies, ORIGINAL_URL),
    );
  }
  const before = context.signIn.returnUrl;
  const after = redirect.returnUrl;
  if (before === undefined || after === undefined) return skip(id, 'not checked: no return URL to compare');
  const leaked: string[] = [];
  const endpoint = context.signIn.diagnosis?.endpoint;
  if (after.pathname !== before.pathname && after.pathname.startsWith(forged.path)) {
    leaked.push(
      endpoint === 'auth-request'
        ? 'X-Original-URL'
        : endpoint === 'forward-auth'
          ? 'X-Forwarded-Uri'
          : 'X-Original-URL or X-Forwarded-Uri',
    );
  }
  if (after.port !== before.port && after.port === forged.port) leaked.push('X-Forwarded-Host');
  if (after.protocol !== before.protocol) leaked.push('X-Forwarded-Proto');
  if (leaked.length === 0 && after.href !== before.href) leaked.push(headerNames);
  if (leaked.length > 0) {
    return fail(
      id,
      `A client's ${leaked.join(', ')} reached Portcullis: it judged ${after.href} instead of the URL asked for, so a client can pick which application's policies apply.`,
      fixFor(context.proxies, ORIGINAL_URL),
    );
  }
  return pass(id, `Forged ${headerNames} were ignored.`);
}

function forgedIdentity(context: Context): CheckResult {
  const id = 'forged-identity';
  const probe = context.observations.forgedIdentity;
  if (!context.signIn || probe === undefined) return skip(id, NO_SIGN_IN);
  if (signInRedirect(probe, context.observations.target)) {
    return pass(
      id,
      'Forged Remote-User, Remote-Groups, Remote-Email, Remote-Name and a forged session cookie did not let a request in.',
    );
  }
  const through = probe.ok && probe.answer.status >= 200 && probe.answer.status < 300;
  return fail(
    id,
    through
      ? 'With forged identity headers and a forged Portcullis cookie the application answered without a sign-in.'
      : `With forged identity headers and a forged Portcullis cookie the answer changed to ${describe(probe)}.`,
    'Nothing but Portcullis’s answer may decide access: remove any rule that skips the auth request when such a header or cookie is present. ' +
      fixFor(context.proxies, PROTECT),
  );
}

function proxyTrusted(context: Context): CheckResult {
  const id = 'proxy-trusted';
  if (!context.signIn) return skip(id, NO_SIGN_IN);
  const diagnosis = context.signIn.diagnosis;
  if (diagnosis === undefined) {
    return skip(
      id,
      'not checked: Portcullis sent no diagnosis (it is older than this command, or the proxy does not pass the request’s Portcullis-Doctor header to it).',
    );
  }
  if (diagnosis.via === 'x-forwarded-for') {
    return pass(
      id,
      `Portcullis believes the proxy's X-Forwarded-For and saw this request as coming from ${diagnosis.clientIp}.`,
    );
  }
  if (diagnosis.forwardedFor) {
    return fail(
      id,
      `Portcullis does not trust the proxy: it attributes every request to the proxy's address ${diagnosis.clientIp}, so Conditional Access locations, the sign-in log and lockout see the proxy, not the user.`,
      `Add the proxy's address (${diagnosis.clientIp}) to trustedProxies in Portcullis's configuration.`,
    );
  }
  return fail(
    id,
    `The proxy sends no X-Forwarded-For to Portcullis: every request appears to come from ${diagnosis.clientIp}, so Conditional Access locations, the sign-in log and lockout see the proxy, not the user.`,
    fixFor(context.proxies, FORWARDED_FOR, `And list the proxy's address in Portcullis's trustedProxies.`),
  );
}

function forgedForwardedFor(context: Context): CheckResult {
  const id = 'forged-forwarded-for';
  const { forgedUrl: probe, forged, target } = context.observations;
  if (!context.signIn || probe === undefined) return skip(id, NO_SIGN_IN);
  const before = context.signIn.diagnosis;
  const after = signInRedirect(probe, target)?.diagnosis;
  if (before === undefined || after === undefined) {
    return skip(id, 'not checked: Portcullis sent no diagnosis for one of the probes (above)');
  }
  const spoofed = forged.forwardedFor.includes(after.clientIp);
  if (!spoofed && before.via !== 'x-forwarded-for') {
    return skip(id, "not checked: Portcullis does not read this proxy's X-Forwarded-For (above)");
  }
  if (spoofed || after.clientIp !== before.clientIp) {
    return fail(
      id,
      `A client's X-Forwarded-For: ${forged.forwardedFor.join(', ')} made Portcullis see ${after.clientIp} instead of ${before.clientIp}: anyone can claim to be at a trusted location. (Expected if you run the doctor from an address in trustedProxies: run it from another machine.)`,
      fixFor(context.proxies, FORWARDED_FOR, "And list only your own proxies in Portcullis's trustedProxies."),
    );
  }
  return pass(id, `A forged X-Forwarded-For was ignored (Portcullis still saw ${before.clientIp}).`);
}

function portcullisClientAddress(context: Context): CheckResult {
  const id = 'portcullis-client-address';
  const self = context.observations.portcullisSelf;
  if (self === undefined) return skip(id, "not checked: Portcullis's address is not known (give --portcullis)");
  const plain = diagnosisOf(self.plain);
  const forged = diagnosisOf(self.forged);
  if (plain === undefined || forged === undefined) {
    return skip(
      id,
      `not checked: ${self.url} answered ${describe(self.forged)} (a Portcullis older than this command, or the path is not passed to it).`,
    );
  }
  const throughApp = context.signIn?.diagnosis;
  if (plain.via === 'socket' && plain.forwardedFor) {
    return fail(
      id,
      `Portcullis does not trust the proxy in front of its own address: the sign-in pages see every user as ${plain.clientIp}, so Conditional Access judges the proxy's location.`,
      `Add the proxy's address (${plain.clientIp}) to trustedProxies in Portcullis's configuration.`,
    );
  }
  if (plain.via === 'x-forwarded-for') {
    if (context.observations.forged.forwardedFor.includes(forged.clientIp) || forged.clientIp !== plain.clientIp) {
      return fail(
        id,
        `On Portcullis's own address a client's X-Forwarded-For made it see ${forged.clientIp} instead of ${plain.clientIp}: at sign-in anyone can claim to be at a trusted location. (Expected if you run the doctor from an address in trustedProxies.)`,
        fixFor(
          context.proxies,
          {
            ...FORWARDED_FOR,
            nginx: FORWARDED_FOR.nginx.replace('in the auth_request location', "in Portcullis's server"),
          },
          "And list only your own proxies in Portcullis's trustedProxies.",
        ),
      );
    }
  }
  if (throughApp !== undefined && throughApp.clientIp !== plain.clientIp) {
    return warn(
      id,
      `Portcullis sees you as ${plain.clientIp} on its own address but as ${throughApp.clientIp} through the application's proxy.`,
      `If a proxy that adds no X-Forwarded-For stands in front of Portcullis, make it add one (and list it in trustedProxies); reaching the two over IPv4 and IPv6 also explains it.`,
    );
  }
  return pass(
    id,
    `On Portcullis's own address you are seen as ${plain.clientIp}, and a forged X-Forwarded-For is ignored there too.`,
  );
}

function diagnosisOf(probe: Probe): DoctorDiagnosis | undefined {
  if (!probe.ok || probe.answer.status !== 200) return undefined;
  try {
    const diagnosis = asDiagnosis(JSON.parse(probe.answer.body));
    return diagnosis?.endpoint === 'portcullis' ? diagnosis : undefined;
  } catch {
    return undefined;
  }
}

const NO_SESSION =
  'not checked: give --session-cookie (your own gateway session cookies, copied from the browser) to check what reaches the application';
const NO_SESSION_SHORT = 'not checked: no --session-cookie';

function session(context: Context): CheckResult {
  const id = 'session';
  const observed = context.observations.session;
  if (observed === undefined) return skip(id, NO_SESSION);
  const probe = observed.probe;
  if (probe.ok && probe.answer.status >= 200 && probe.answer.status < 300) {
    return pass(id, `With your session cookie the application answered ${probe.answer.status}.`);
  }
  if (signInRedirect(probe, context.observations.target)) {
    return fail(
      id,
      'Portcullis did not accept the session cookie: it sent the request to sign in.',
      'Copy both cookies named portcullis-gw-session-… and portcullis-gw-binding-… (both are needed) from a browser signed in to this application, as name=value; name=value. A session that has ended or belongs to another tenant is refused.',
    );
  }
  if (probe.ok && probe.answer.status === 403 && /5300[03]/.test(probe.answer.body)) {
    return warn(
      id,
      'With your session the request is blocked by Conditional Access from where the doctor runs, so what reaches the application cannot be seen.',
      'Run the doctor from a place your policies allow, or with a user they allow.',
    );
  }
  return fail(
    id,
    `With your session cookie the application answered ${describe(probe)}.`,
    "An allowed request must reach the application: the proxy's error log says why it did not.",
  );
}

/** The echo of the application's request, when the application shows it (an echo app such as traefik/whoami). */
function echoOf(context: Context): string | undefined {
  const observed = context.observations.session;
  if (observed === undefined || !observed.probe.ok || observed.probe.answer.status >= 300) return undefined;
  const body = observed.probe.answer.body;
  return body.includes(observed.echoMarker) ? body : undefined;
}

const NO_ECHO =
  'not checked: the application does not show the headers it received, so what reached it cannot be seen; run the doctor on an echo application (traefik/whoami, or any page that prints its request headers) behind the same configuration';
const NO_ECHO_SHORT = 'not checked: the application does not show the headers it received (above)';

/** `Remote-User: x` (text) or `"remote-user": "x"` / `"Remote-User": ["x"]` (JSON), case-insensitively. */
export function echoedHeader(echo: string, name: string): string | undefined {
  const pattern = new RegExp(`["']?${name}["']?\\s*[:=]\\s*\\[?\\s*["']?([^"'\\r\\n\\],}]*)`, 'i');
  const match = pattern.exec(echo);
  return match === null ? undefined : match[1].trim();
}

function identityHeaders(context: Context): CheckResult {
  const id = 'identity-headers';
  if (context.observations.session === undefined) return skip(id, NO_SESSION_SHORT);
  const echo = echoOf(context);
  if (echo === undefined) return skip(id, NO_ECHO);
  const user = echoedHeader(echo, 'Remote-User');
  if (user === undefined || user === '') {
    return fail(id, 'The application received no Remote-User header.', fixFor(context.proxies, IDENTITY));
  }
  if (Object.values(context.observations.forged.identity).includes(user)) {
    return fail(id, `The application received the forged Remote-User: ${user}.`, fixFor(context.proxies, IDENTITY));
  }
  return pass(id, `The application received Remote-User: ${user}.`);
}

function forgedIdentityStripped(context: Context): CheckResult {
  const id = 'forged-identity-stripped';
  if (context.observations.session === undefined) return skip(id, NO_SESSION_SHORT);
  const echo = echoOf(context);
  if (echo === undefined) return skip(id, NO_ECHO_SHORT);
  const leaked = Object.entries(context.observations.forged.identity)
    .filter(([, value]) => echo.includes(value))
    .map(([name]) => name);
  if (leaked.length > 0) {
    return fail(
      id,
      `A client's ${leaked.join(', ')} reached the application: anyone can claim to be anyone to it.`,
      fixFor(context.proxies, IDENTITY),
    );
  }
  return pass(
    id,
    "Forged Remote-User, Remote-Groups, Remote-Email and Remote-Name were replaced by Portcullis's before the application.",
  );
}

function cookies(context: Context): CheckResult {
  const id = 'portcullis-cookies';
  const observed = context.observations.session;
  if (observed === undefined) return skip(id, NO_SESSION_SHORT);
  const echo = echoOf(context);
  if (echo === undefined) return skip(id, NO_ECHO_SHORT);
  const leaked = portcullisCookies(observed.cookie)
    .filter(({ value }) => value.length >= 16 && echo.includes(value))
    .map(({ name }) => name);
  if (leaked.length > 0) {
    return fail(
      id,
      `Portcullis's cookie ${leaked.join(', ')} reached the application: the application (or anyone who can read its logs) could use your session.`,
      fixFor(context.proxies, COOKIES),
    );
  }
  if (!echo.includes(observed.appCookieValue)) {
    return warn(
      id,
      "Portcullis's cookies were removed, but so were the application's own.",
      fixFor(context.proxies, {
        nginx: 'take the Cookie header from Portcullis’s answer: proxy_set_header Cookie $portcullis_cookie; (not "").',
        caddy: 'keep the Cookie regular expression of portcullis.caddy, which removes only portcullis-… cookies.',
        traefik: 'Cookie in authResponseHeaders carries the request’s other cookies; keep it.',
      }),
    );
  }
  return pass(
    id,
    "Portcullis's cookies were removed before the application; the application's own cookies reached it.",
  );
}

/** Portcullis's cookies in a Cookie header (`portcullis-…`, optionally behind `__Host-` or `__Secure-`). */
export function portcullisCookies(header: string): { name: string; value: string }[] {
  return header
    .split(';')
    .map((pair) => pair.trim())
    .map((pair) => ({ name: pair.slice(0, Math.max(pair.indexOf('='), 0)), value: pair.slice(pair.indexOf('=') + 1) }))
    .filter(({ name }) => /^(?:__Host-|__Secure-)?portcullis-[A-Za-z0-9_-]*$/.test(name));
}

/** The checks, in order. */
export const CHECKS: readonly ((context: Context) => CheckResult)[] = [
  reachable,
  signIn,
  portcullisUrl,
  https,
  returnUrl,
  scripts,
  forgedUrl,
  forgedIdentity,
  proxyTrusted,
  forgedForwardedFor,
  portcullisClientAddress,
  session,
  identityHeaders,
  forgedIdentityStripped,
  cookies,
];

export function contextOf(observations: Observations): Context {
  const redirect = signInRedirect(observations.browser, observations.target);
  return { observations, signIn: redirect, proxies: proxiesOf(observations, redirect?.diagnosis) };
}

export function runChecks(observations: Observations): { context: Context; results: CheckResult[] } {
  const context = contextOf(observations);
  return { context, results: CHECKS.map((check) => check(context)) };
}
