/**
 * The sign-in throttle policy: how many failed password sign-ins an account and a source (client IP)
 * may have before they are locked out, and for how long. Pure; the clock is passed in.
 *
 * Policy (the numbers, and why):
 * - per ACCOUNT (the normalised email, whether or not an account has it): the first 5 failures are free;
 *   from the 6th on, each failure locks the account for 1 s, 2 s, 4 s, ... doubling up to 15 minutes.
 *   This is Cognito's own lockout (5 free attempts, then 1 s doubling to about 15 minutes), so our answer
 *   and Cognito's agree, and a user who mistypes a few times never waits
 * - per SOURCE (requestContext.identity.sourceIp; an IPv6 address counts as its /64, which one subscriber
 *   usually holds whole): the first 100 failures are free, then the same doubling from 1 s to 15 minutes.
 *   Higher than per account because a NAT (an office, a mobile carrier's CGNAT) hides many users behind one
 *   address; low enough that one address trying many accounts (credential stuffing) gets ~115 guesses an
 *   hour instead of 14 a second
 * - a counter forgets its failures one hour after its last one (RESET_AFTER_SECONDS); a successful sign-in
 *   resets the ACCOUNT counter, never the source counter (an attacker holding one valid account must not
 *   be able to clear its address's record)
 * - attempts refused while locked are not failures: they never reach the password check and never extend
 *   the lockout. A lockout therefore ends at most 15 minutes after the last real failure; keeping an account
 *   locked takes a fresh failure at least every 15 minutes, each of which is counted per source and recorded
 *   as a security event (and 20 in an hour open a compliance case)
 * - the answer is the same whether or not the account exists: 401 invalid_credentials while not locked,
 *   429 sign_in_locked with Retry-After once locked, both counted the same way
 */

export interface ThrottlePolicy {
  /** Failures that cost nothing. */
  freeFailures: number;
  /** The first lockout, after failure freeFailures + 1; each further failure doubles it. */
  baseLockSeconds: number;
  maxLockSeconds: number;
  /** A counter with no failure for this long starts again from zero. */
  resetAfterSeconds: number;
}

export const ACCOUNT_POLICY: ThrottlePolicy = {
  freeFailures: 5,
  baseLockSeconds: 1,
  maxLockSeconds: 15 * 60,
  resetAfterSeconds: 60 * 60,
};

export const SOURCE_POLICY: ThrottlePolicy = {
  freeFailures: 100,
  baseLockSeconds: 1,
  maxLockSeconds: 15 * 60,
  resetAfterSeconds: 60 * 60,
};

/** A counter as stored: failures so far and the time (epoch ms) of the last one. */
export interface FailureCounter {
  failures: number;
  lastFailureAt: number;
}

/** How long failure number `failures` locks out for (0 while free). */
export function lockSeconds(policy: ThrottlePolicy, failures: number): number {
  if (failures <= policy.freeFailures) return 0;
  const doublings = failures - policy.freeFailures - 1;
  // 2 ** 30 s is far past any cap; bounding the exponent keeps the arithmetic finite.
  return Math.min(policy.maxLockSeconds, policy.baseLockSeconds * 2 ** Math.min(doublings, 30));
}

/** The counter as it counts at `now`: zero once it is older than the policy's reset window. */
export function liveCounter(
  policy: ThrottlePolicy,
  counter: FailureCounter | undefined,
  now: number,
): FailureCounter | undefined {
  if (!counter || counter.failures <= 0) return undefined;
  return now - counter.lastFailureAt >= policy.resetAfterSeconds * 1000 ? undefined : counter;
}

/** Epoch ms until which the counter locks sign-in, or undefined when it does not lock at `now`. */
export function lockedUntil(policy: ThrottlePolicy, counter: FailureCounter | undefined, now: number): number | undefined {
  const live = liveCounter(policy, counter, now);
  if (!live) return undefined;
  const until = live.lastFailureAt + lockSeconds(policy, live.failures) * 1000;
  return until > now ? until : undefined;
}

/** Whole seconds to wait (Retry-After) until `until`, at least 1. */
export const retryAfterSeconds = (until: number, now: number) => Math.max(1, Math.ceil((until - now) / 1000));
