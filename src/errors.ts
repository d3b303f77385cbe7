// Every error code Portcullis shows to users or API callers, in the AADSTS style: a stable number, its HTTP status,
// whether its message is safe to show to the person signing in, and the message. A code is never reused;
// docs/errors.md lists each one (errors.test.ts fails when it does not).

export interface ErrorCodeInfo {
  readonly status: number;
  /** Safe to show to an unauthenticated user; unsafe messages are logged and replaced by a generic text. */
  readonly safe: boolean;
  readonly message: string;
}

export const ERROR_CODES = {
  50053: {
    status: 400,
    safe: true,
    message: 'Your account is temporarily locked to prevent unauthorized use. Try again later.',
  },
  50057: {
    status: 400,
    safe: true,
    message: 'The user account is disabled.',
  },
  50173: {
    status: 400,
    safe: true,
    message: 'The sign-in session has ended (signed out, revoked, or past its time limit). Sign in again.',
  },
  50076: {
    status: 401,
    safe: true,
    message: 'Multifactor authentication is required by a Conditional Access policy.',
  },
  50126: {
    status: 400,
    safe: true,
    message: 'Your account or password is incorrect.',
  },
  500121: {
    status: 400,
    safe: true,
    message: 'Authentication failed during the strong authentication request: the second factor was not accepted.',
  },
  800121: {
    status: 400,
    safe: true,
    message:
      'Your passkey was not accepted: it is not registered for an account here, or it could not be verified. ' +
      'Sign in with your password, or use another passkey.',
  },
  53000: {
    status: 403,
    safe: true,
    message: 'Access requires a device or app state that Portcullis cannot verify, so it is blocked.',
  },
  53003: {
    status: 403,
    safe: true,
    message: 'Access has been blocked by Conditional Access policies.',
  },
  90001: {
    status: 400,
    safe: true,
    message: 'The request is invalid: a field is missing or has a value that is not allowed.',
  },
} as const satisfies Record<number, ErrorCodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** An error with a stable code, for code paths that turn it into an HTTP answer or a CLI message. */
export class PortcullisError extends Error {
  override name = 'PortcullisError';
  readonly code: ErrorCode;
  readonly status: number;
  constructor(code: ErrorCode, detail?: string) {
    super(detail ? `${ERROR_CODES[code].message} ${detail}` : ERROR_CODES[code].message);
    this.code = code;
    this.status = ERROR_CODES[code].status;
  }
}
