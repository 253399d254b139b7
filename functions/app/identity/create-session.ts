/**
 * Sign-in (email + password) and token refresh (email + refreshToken): POST /v1/sessions.
 *
 * Invariants:
 * - exactly one of password / refreshToken is given (checked by the edge); the pool is chosen by
 *   sessions.ts poolFor (unknown emails go to the client pool and fail the same way: 401 invalid_credentials)
 * - password sign-ins are throttled per account (normalised email, known or not) and per source (the request's
 *   source IP) with the policy of domain/identity/sign-in-throttle.ts: before the password is checked, a locked
 *   account or source is 429 sign_in_locked with retryAfterSeconds (nothing counted, Cognito not called); a
 *   refused password, an unknown account and Cognito's own lockout ("Password attempts exceeded") are each
 *   counted once, atomically (store/sign-in-throttle.ts), and answered 401 invalid_credentials, or 429
 *   sign_in_locked when that failure locks. Known and unknown emails take the same path (same reads, same
 *   counting, same answer); a successful password resets the account's counter
 * - every refused password sign-in is a security event: sign_in_failed (the password was checked, or the
 *   account is unknown) or sign_in_locked (refused without a check), by the source, aimed at the account
 *   (client:<id>, staff:<id>, or account:<hash> when no one has the email; never the email itself)
 * - a challenge goes back as sessions.ts sessionOutcome presents it (MFA_SETUP with the TOTP secret)
 * - tokens, passwords and secrets are never logged (nothing here logs)
 */
import { cognitoIdentity, invalidCredentials } from '#adapters/identity/cognito.ts';
import type { CommandContext } from '#app/context.ts';
import { recordSecurityEvent } from '#app/platform/record-security-event.ts';
import { DomainError, isDomainError } from '#domain/errors.ts';
import type { SignInChallenge, Tokens } from '#domain/identity/ports.ts';
import { normalizeEmail } from '#domain/identity/rules.ts';
import { ACCOUNT_POLICY, lockedUntil, retryAfterSeconds, SOURCE_POLICY } from '#domain/identity/sign-in-throttle.ts';
import { type SecurityEventKind, sourceOf } from '#domain/security/events.ts';
import { accountHash, countSignInFailure, readCounters, resetAccount, type ThrottleCounters } from '#store/sign-in-throttle.ts';
import { findEmailClaim, isActiveClaim, type UniqueEmailItem } from '#store/unique-email.ts';
import { poolFor, type SessionOutcome, sessionOutcome } from './sessions.ts';

export interface CreateSessionInput {
  email: string;
  password?: string | undefined;
  refreshToken?: string | undefined;
  /** The request's source IP (API Gateway's requestContext.identity.sourceIp), for the per-source throttle. */
  sourceIp?: string | null | undefined;
}

export const signInLocked = (retryAfterSeconds: number) =>
  new DomainError('sign_in_locked', 'rate_limited', 'Too many failed sign-in attempts; try again later', [], {
    retryAfterSeconds,
  });

export interface SignInLock {
  /** Epoch ms when sign-in is possible again (the later of the account's and the source's lock). */
  until: number;
  retryAfterSeconds: number;
  /** Which counters lock. */
  by: ('account' | 'source')[];
}

/** The lock the counters put on sign-in at `now`, if any. */
export function lockOf(c: ThrottleCounters, now: number): SignInLock | undefined {
  const account = lockedUntil(ACCOUNT_POLICY, c.account, now);
  const source = lockedUntil(SOURCE_POLICY, c.source, now);
  if (account === undefined && source === undefined) return undefined;
  const until = Math.max(account ?? 0, source ?? 0);
  const by = [...(account !== undefined ? ['account' as const] : []), ...(source !== undefined ? ['source' as const] : [])];
  return { until, retryAfterSeconds: retryAfterSeconds(until, now), by };
}

/** The account a sign-in aims at, as a security event names it: never the email. */
function accountTarget(email: string, claim: UniqueEmailItem | undefined): { target: string; clientId?: string } {
  if (claim && isActiveClaim(claim)) {
    return claim.kind === 'staff'
      ? { target: `staff:${claim.ownerId}` }
      : { target: `client:${claim.ownerId}`, clientId: claim.ownerId };
  }
  return { target: `account:${accountHash(email).slice(0, 16)}` };
}

const isSignInFailure = (err: unknown): err is DomainError =>
  isDomainError(err) && (err.code === 'invalid_credentials' || err.code === 'password_attempts_exceeded');

/** Email + password, behind the throttle (see the module invariants). */
async function passwordSignIn(
  email: string,
  password: string,
  sourceIp: string | null | undefined,
  ctx: CommandContext,
): Promise<SessionOutcome> {
  const source = sourceOf(sourceIp);
  const subject = { email, source };
  const now = Date.now();
  const [claim, counters] = await Promise.all([findEmailClaim(email), readCounters(subject, now)]);
  const account = accountTarget(email, claim);
  const record = (kind: SecurityEventKind) =>
    recordSecurityEvent({
      kind,
      by: source,
      target: account.target,
      clientId: account.clientId,
      source,
      requestId: ctx.requestId,
    });

  const locked = lockOf(counters, now);
  if (locked) {
    await record('sign_in_locked');
    throw signInLocked(locked.retryAfterSeconds);
  }
  let result: Tokens | SignInChallenge;
  try {
    // A registration still pending (or crashed half-way) signs in to nothing: its user has no profile yet.
    if (claim && !isActiveClaim(claim)) throw invalidCredentials();
    result = await cognitoIdentity.signIn(claim?.kind === 'staff' ? 'staff' : 'client', email, password);
  } catch (err) {
    if (!isSignInFailure(err)) throw err;
    const failedAt = Date.now();
    const lock = lockOf(await countSignInFailure(subject, failedAt), failedAt);
    // Cognito's lockout refused without checking the password; anything else was a checked, wrong password.
    const providerLocked = err.code === 'password_attempts_exceeded';
    await record(providerLocked ? 'sign_in_locked' : 'sign_in_failed');
    if (lock || providerLocked) throw signInLocked(lock?.retryAfterSeconds ?? 1);
    throw invalidCredentials();
  }
  if (counters.account) await resetAccount(email);
  return sessionOutcome(email, result);
}

export async function createSession(input: CreateSessionInput, ctx: CommandContext): Promise<SessionOutcome> {
  const email = normalizeEmail(input.email);
  if (input.refreshToken !== undefined) return cognitoIdentity.refresh(await poolFor(email), input.refreshToken);
  return passwordSignIn(email, input.password!, input.sourceIp, ctx);
}
