// `portcullis doctor <url>`: checks, from the admin's machine, that the reverse proxy in front of a protected
// application asks Portcullis, passes the right headers and strips the dangerous ones (docs/forward-auth.md,
// "Checking your proxy"). The pipeline: options → probes (doctor-http.ts) → checks (doctor-checks.ts) → report.
// Exit 0 when no check failed, 1 when one did; the command line itself (cli.ts) exits 2 for usage errors.
import { randomBytes } from 'node:crypto';
import { type CheckResult, type CheckStatus, FORGED, portcullisCookies, runChecks } from './doctor-checks.ts';
import { nodeTransport, observe, type Transport } from './doctor-http.ts';

export interface DoctorOptions {
  readonly url: URL;
  /** Portcullis's public URL, origin and path without a trailing slash. */
  readonly portcullis?: string;
  readonly json: boolean;
  /** The admin's gateway session cookies, as a Cookie header (`name=value; name=value`). */
  readonly sessionCookie?: string;
}

export type DoctorOptionsResult = { ok: true; options: DoctorOptions } | { ok: false; problem: string };

function httpUrl(text: string, what: string): URL | string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `${what} '${text}' is not an absolute URL (such as https://wiki.example.com/)`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `${what} '${text}' must be an http or https URL`;
  if (url.username !== '' || url.password !== '') return `${what} '${text}' must not carry a user name or password`;
  url.hash = '';
  return url;
}

/** Checks the command line's values; a problem is a usage error (exit 2). */
export function doctorOptions(input: {
  positionals: readonly string[];
  portcullis?: string;
  json?: boolean;
  sessionCookie?: string;
}): DoctorOptionsResult {
  if (input.positionals.length === 0) {
    return {
      ok: false,
      problem: 'give the URL of a protected application, e.g. portcullis doctor https://wiki.example.com/',
    };
  }
  if (input.positionals.length > 1) return { ok: false, problem: `unexpected argument '${input.positionals[1]}'` };
  const url = httpUrl(input.positionals[0], 'the URL');
  if (typeof url === 'string') return { ok: false, problem: url };
  let portcullis: string | undefined;
  if (input.portcullis !== undefined) {
    const parsed = httpUrl(input.portcullis, '--portcullis');
    if (typeof parsed === 'string') return { ok: false, problem: parsed };
    if (parsed.search !== '') return { ok: false, problem: `--portcullis '${input.portcullis}' must not have a query` };
    portcullis = `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}`;
  }
  let sessionCookie: string | undefined;
  if (input.sessionCookie !== undefined) {
    sessionCookie = input.sessionCookie.trim().replace(/^cookie:\s*/i, '');
    if (/[\r\n]/.test(sessionCookie) || portcullisCookies(sessionCookie).length === 0) {
      return {
        ok: false,
        problem:
          "--session-cookie must be Portcullis's gateway cookies as one Cookie header, e.g. 'portcullis-gw-session-<tenant>=…; portcullis-gw-binding-<tenant>=…'",
      };
    }
  }
  return { ok: true, options: { url, portcullis, json: input.json === true, sessionCookie } };
}

export interface DoctorReport {
  readonly url: string;
  readonly portcullis: string | null;
  /** The proxies the fixes are written for (one when it was recognised). */
  readonly proxy: readonly string[];
  /** The endpoint Portcullis saw the proxy use, when it said. */
  readonly endpoint: string | null;
  readonly checks: readonly CheckResult[];
  readonly summary: Readonly<Record<'pass' | 'warn' | 'fail' | 'skip', number>>;
}

export async function doctor(options: DoctorOptions, transport: Transport): Promise<DoctorReport> {
  const observations = await observe(
    {
      target: options.url,
      expectedPortcullis: options.portcullis,
      sessionCookie: options.sessionCookie,
      forged: FORGED,
      nonce: randomBytes(12).toString('hex'),
    },
    transport,
  );
  const { context, results } = runChecks(observations);
  const count = (status: CheckStatus) => results.filter((r) => r.status === status).length;
  return {
    url: options.url.href,
    portcullis: options.portcullis ?? context.signIn?.portcullis ?? null,
    proxy: context.proxies,
    endpoint: context.signIn?.diagnosis?.endpoint ?? null,
    checks: results,
    summary: { pass: count('PASS'), warn: count('WARN'), fail: count('FAIL'), skip: count('SKIP') },
  };
}

/** One line per check (`PASS  id  message`), the fix indented under a WARN or FAIL, then the counts. */
export function formatReport(report: DoctorReport): string {
  const lines = [
    `portcullis doctor ${report.url}`,
    `  proxy: ${report.proxy.join(' or ')}${report.endpoint ? ` (${report.endpoint})` : ''}; Portcullis: ${report.portcullis ?? 'unknown'}`,
    '',
  ];
  const width = Math.max(...report.checks.map((c) => c.id.length));
  for (const check of report.checks) {
    lines.push(`${check.status}  ${check.id.padEnd(width)}  ${check.message}`);
    if (check.fix) lines.push(`      ${' '.repeat(width)}  fix: ${check.fix}`);
  }
  const { pass, warn, fail, skip } = report.summary;
  lines.push('', `${pass} passed, ${warn} warning${warn === 1 ? '' : 's'}, ${fail} failed, ${skip} skipped`);
  return `${lines.join('\n')}\n`;
}

export async function runDoctor(
  options: DoctorOptions,
  io: { out: (text: string) => void },
  transport: Transport = nodeTransport(),
): Promise<number> {
  const report = await doctor(options, transport);
  io.out(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  return report.summary.fail > 0 ? 1 : 0;
}
