// Doctor mode, Portcullis's side: what Portcullis tells `portcullis doctor` (doctor.ts) about a request that reached
// it, so the proxy in front can be judged from outside. Pure. Two channels:
// - A forward-auth request that carries `Portcullis-Doctor: 1` and is sent to sign in gets its diagnosis appended to
//   the sign-in URL (`&portcullis-doctor=<base64url JSON>`): the Location is the only part of the answer that every
//   proxy passes back (nginx keeps nothing else of an auth_request answer).
// - GET /api/authz/doctor answers the diagnosis of the request itself, for the proxy in front of Portcullis's host.
// A diagnosis describes the caller's own request only: the endpoint the proxy used, the client address Portcullis
// resolved and how, and whether an X-Forwarded-For header arrived. It never lets a request through.
import type { IncomingHttpHeaders } from 'node:http';
import type { ClientIp } from '../net/client-ip.ts';

/** The request header that asks for a diagnosis (any proxy passes the client's headers to its auth request). */
export const DOCTOR_HEADER = 'portcullis-doctor';
/** The sign-in URL's query parameter that carries it back. */
export const DOCTOR_PARAM = 'portcullis-doctor';

export interface DoctorDiagnosis {
  /** Which endpoint was asked: nginx's `auth-request`, Traefik's and Caddy's `forward-auth`, or Portcullis's own host. */
  readonly endpoint: 'auth-request' | 'forward-auth' | 'portcullis';
  /** The client address as Portcullis resolved it (http/client-ip.ts): what Conditional Access and the logs see. */
  readonly clientIp: string;
  /** `x-forwarded-for`: read from that header through a trusted proxy; `socket`: the TCP peer itself. */
  readonly via: ClientIp['via'];
  /** Whether the request carried an X-Forwarded-For header at all. */
  readonly forwardedFor: boolean;
}

export function doctorRequested(headers: IncomingHttpHeaders): boolean {
  return headers[DOCTOR_HEADER] === '1';
}

export function diagnose(
  endpoint: DoctorDiagnosis['endpoint'],
  clientIp: ClientIp,
  headers: IncomingHttpHeaders,
): DoctorDiagnosis {
  const forwarded = headers['x-forwarded-for'];
  return {
    endpoint,
    clientIp: clientIp.text,
    via: clientIp.via,
    forwardedFor: forwarded !== undefined && String(forwarded).trim() !== '',
  };
}

/** The sign-in URL with the diagnosis appended (the rest of the URL, rd included, is left exactly as it was). */
export function withDiagnosis(location: string, diagnosis: DoctorDiagnosis): string {
  const value = Buffer.from(JSON.stringify(diagnosis), 'utf8').toString('base64url');
  return `${location}${location.includes('?') ? '&' : '?'}${DOCTOR_PARAM}=${value}`;
}

/** The diagnosis carried by a sign-in URL, or undefined when there is none or it is not one. */
export function diagnosisFromLocation(location: URL): DoctorDiagnosis | undefined {
  const value = location.searchParams.get(DOCTOR_PARAM);
  if (value === null) return undefined;
  try {
    return asDiagnosis(JSON.parse(Buffer.from(value, 'base64url').toString('utf8')));
  } catch {
    return undefined;
  }
}

/** Checks the shape of a diagnosis read from the network (the doctor trusts nothing it did not check). */
export function asDiagnosis(value: unknown): DoctorDiagnosis | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { endpoint, clientIp, via, forwardedFor } = value as Record<string, unknown>;
  if (endpoint !== 'auth-request' && endpoint !== 'forward-auth' && endpoint !== 'portcullis') return undefined;
  if (typeof clientIp !== 'string' || clientIp.length > 64) return undefined;
  if (via !== 'socket' && via !== 'x-forwarded-for') return undefined;
  if (typeof forwardedFor !== 'boolean') return undefined;
  return { endpoint, clientIp, via, forwardedFor };
}
