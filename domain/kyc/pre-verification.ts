/**
 * Deposits before KYC approval (the CySEC-style rule): where the jurisdiction enables it
 * (requirementsFor(...).preVerificationDeposit), an unverified client may deposit up to `limit` in
 * total, within `maxDays` of registering; verification must be complete before anything more.
 * Pure; the clock is passed in. Amounts are decimal strings converted to bigint minor units with
 * domain/money (never floats) and returned as canonical decimal strings.
 *
 * Invariants:
 * - a KYC-approved client is not subject to the rule: allowed, `remaining` null (no pre-verification
 *   limit applies; ordinary payment limits are checked elsewhere), no `until`, no reason
 * - not approved and no rule for the jurisdiction => not allowed, reason 'kyc_required'
 * - the window is [registeredAt, registeredAt + maxDays x 24 h): `until` is its exclusive end; at
 *   exactly `until` the window is over => not allowed, reason 'window_expired'
 * - within the window: allowed while depositedBeforeVerification < limit, `remaining` = limit - deposited;
 *   at exactly the limit (or above it, e.g. after concurrent deposits) => not allowed, reason
 *   'limit_reached', remaining 0
 * - `remaining` is in the limit's currency (the deposited amount's when there is no rule), never negative
 * - `assertDepositAllowed` accepts a deposit equal to `remaining` and refuses one minor unit more;
 *   a refusal is a DomainError: 'kyc_required' (forbidden; meta.reason says why: kyc_required or
 *   window_expired) or 'pre_verification_limit_exceeded' (unprocessable; meta.remaining)
 */
import { DomainError } from '../errors.ts';
import { formatAmount, toMinor } from '../money/index.ts';
import type { Money, OnboardingRequirements } from '../onboarding/requirements.ts';

export type PreVerificationRule = NonNullable<OnboardingRequirements['preVerificationDeposit']>;

export interface PreVerificationInput {
  now: Date;
  /** ISO instant the client registered. */
  registeredAt: string;
  kycApproved: boolean;
  /** The jurisdiction's rule; absent when it does not allow deposits before verification. */
  rule?: PreVerificationRule | undefined;
  /** Total deposited so far while unverified, in the limit's currency (decimal string, '0' allowed). */
  depositedBeforeVerification: Money;
}

export type PreVerificationRefusal = 'kyc_required' | 'window_expired' | 'limit_reached';

export interface PreVerificationAllowance {
  allowed: boolean;
  /** What may still be deposited before verification; null when no pre-verification limit applies (approved). */
  remaining: Money | null;
  /** ISO instant the pre-verification window closes (exclusive); present when a rule applies. */
  until?: string;
  reason?: PreVerificationRefusal;
}

const DAY_MS = 86_400_000;

const zero = (currency: string): Money => ({ amount: formatAmount(0n, currency), currency });

function instant(iso: string, field: string): number {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) throw new RangeError(`${field} is not an ISO instant: ${JSON.stringify(iso)}`);
  return t;
}

/** What an unverified (or verified) client may deposit now; see the module invariants. */
export function preVerificationAllowance(input: PreVerificationInput): PreVerificationAllowance {
  if (input.kycApproved) return { allowed: true, remaining: null };
  const rule = input.rule;
  if (!rule) return { allowed: false, remaining: zero(input.depositedBeforeVerification.currency), reason: 'kyc_required' };
  const currency = rule.limit.currency;
  if (input.depositedBeforeVerification.currency !== currency) {
    throw new DomainError(
      'currency_mismatch',
      'unprocessable',
      `deposits before verification must be counted in the limit currency ${currency}`,
      [],
      { expected: currency, actual: input.depositedBeforeVerification.currency },
    );
  }
  if (!Number.isSafeInteger(rule.maxDays) || rule.maxDays < 0) throw new RangeError(`maxDays must be a whole number >= 0`);
  const until = new Date(instant(input.registeredAt, 'registeredAt') + rule.maxDays * DAY_MS).toISOString();
  if (input.now.getTime() >= Date.parse(until))
    return { allowed: false, remaining: zero(currency), until, reason: 'window_expired' };
  const limit = toMinor(rule.limit.amount, currency);
  const deposited = toMinor(input.depositedBeforeVerification.amount, currency);
  const left = limit - (deposited > 0n ? deposited : 0n);
  if (left <= 0n) return { allowed: false, remaining: zero(currency), until, reason: 'limit_reached' };
  return { allowed: true, remaining: { amount: formatAmount(left, currency), currency }, until };
}

/**
 * Throws unless `amount` may be deposited under `allowance`: 'kyc_required' (forbidden) when deposits
 * before verification are not or no longer allowed, 'pre_verification_limit_exceeded' (unprocessable,
 * meta.remaining) when it is above what remains, 'currency_mismatch' when it is not in the limit's
 * currency (convert first), 'amount_not_positive' for zero or negative amounts.
 */
export function assertDepositAllowed(allowance: PreVerificationAllowance, amount: Money): void {
  if (allowance.reason === 'kyc_required' || allowance.reason === 'window_expired') {
    throw new DomainError(
      'kyc_required',
      'forbidden',
      allowance.reason === 'window_expired'
        ? 'The period for deposits before verification is over; please complete verification'
        : 'Please complete verification before depositing',
      [],
      { reason: allowance.reason, ...(allowance.until ? { until: allowance.until } : {}) },
    );
  }
  const remaining = allowance.remaining;
  if (allowance.allowed && remaining === null) return;
  if (!remaining) throw new DomainError('kyc_required', 'forbidden', 'Please complete verification before depositing', [], {});
  if (allowance.reason === 'limit_reached' || !allowance.allowed) throw limitExceeded(allowance, remaining);
  if (amount.currency !== remaining.currency) {
    throw new DomainError(
      'currency_mismatch',
      'unprocessable',
      `the pre-verification limit is in ${remaining.currency}; convert the amount first`,
      [{ field: 'currency', code: 'currency_mismatch', message: `expected ${remaining.currency}` }],
      { expected: remaining.currency, actual: amount.currency },
    );
  }
  const value = toMinor(amount.amount, amount.currency);
  if (value <= 0n) {
    throw new DomainError('amount_not_positive', 'unprocessable', 'Amount must be greater than zero', [
      { field: 'amount', code: 'amount_not_positive', message: 'Amount must be greater than zero' },
    ]);
  }
  if (value > toMinor(remaining.amount, remaining.currency)) throw limitExceeded(allowance, remaining);
}

function limitExceeded(allowance: PreVerificationAllowance, remaining: Money): DomainError {
  return new DomainError(
    'pre_verification_limit_exceeded',
    'unprocessable',
    `Before verification you may deposit at most ${remaining.amount} ${remaining.currency} more`,
    [{ field: 'amount', code: 'pre_verification_limit_exceeded', message: `at most ${remaining.amount} ${remaining.currency}` }],
    { remaining: { ...remaining }, ...(allowance.until ? { until: allowance.until } : {}) },
  );
}
