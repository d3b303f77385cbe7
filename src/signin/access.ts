// The Conditional Access step of sign-in and of every refresh: build the evaluator's request from what the HTTP
// layer resolved (client IP, User-Agent, client app type), evaluate, and reduce the decision to what the pipeline
// does next — allow, ask for MFA, or block with a code. Pure: no I/O, the time comes in.

import type { ClientIp } from '../net/client-ip.ts';
import type { CompiledPolicySet } from '../policy/compile.ts';
import { type Evaluation, evaluate, type SignInRequest, type Subject } from '../policy/evaluate.ts';
import type { BuiltInControl, ClientAppType } from '../policy/types.ts';
import type { DetectedPlatform } from './device-platform.ts';

export interface AccessContext {
  readonly appId: string;
  readonly clientIp: ClientIp;
  readonly clientAppType: ClientAppType;
  readonly devicePlatform: DetectedPlatform;
}

export type AccessVerdict =
  | { readonly kind: 'allow' }
  /** A policy asks for MFA and nothing else that is missing. */
  | { readonly kind: 'mfa'; readonly errorCode: 50076 }
  | { readonly kind: 'block'; readonly errorCode: 53003 | 53000 };

export interface AccessCheck {
  readonly evaluation: Evaluation;
  readonly verdict: AccessVerdict;
  /** The country the evaluator saw: from the compiled set's geo lookup, '' when unknown. */
  readonly country: string;
}

export function signInRequest(context: AccessContext): SignInRequest {
  return {
    application: context.appId,
    ipAddress: context.clientIp.ip,
    clientAppType: context.clientAppType,
    devicePlatform: context.devicePlatform,
    // Portcullis has no risk signal; Entra reports `none` when risk detection is not licensed either.
    signInRiskLevel: 'none',
    userRiskLevel: 'none',
  };
}

export function checkAccess(
  set: CompiledPolicySet,
  subject: Subject,
  context: AccessContext,
  satisfied: readonly BuiltInControl[],
  now: number,
): AccessCheck {
  const evaluation = evaluate(set, subject, signInRequest(context), satisfied, now);
  const country = set.countryOf?.(context.clientIp.ip) ?? '';
  return { evaluation, verdict: verdictOf(evaluation), country };
}

export function verdictOf(evaluation: Evaluation): AccessVerdict {
  const { decision } = evaluation;
  if (decision.outcome === 'allow') return { kind: 'allow' };
  if (decision.outcome === 'block') return { kind: 'block', errorCode: decision.errorCode === 53000 ? 53000 : 53003 };
  // A challenge Portcullis can answer only with MFA; any other missing control (passwordChange has no flow yet)
  // fails closed as a block.
  if (decision.missingControls.every((control) => control === 'mfa')) return { kind: 'mfa', errorCode: 50076 };
  return { kind: 'block', errorCode: 53000 };
}
