/**
 * The automatic compliance checks of a withdrawal request and the approval outcome they lead to
 * (step 1 of step-functions/withdrawal-approval.asl.json; docs/decisions/0008-payments.md). Pure: the
 * clock, the client's facts and the tenant policy are passed in; nothing is read or written here.
 *
 * Invariants:
 * - amounts are bigint minor units of ONE currency, the withdrawal's (`gross.currency`); policy amounts
 *   are read in that currency; other currencies' deposits and counters are ignored; no floats anywhere
 *   (percent rules compare `a * 100 >= b * percent` exactly)
 * - every assessment has exactly one result per check, in CHECK_ORDER, each with evidence a reviewer
 *   can act on (amounts as money JSON, dates ISO); `reasons` are the failing checks' reasons in that order
 * - nothing is rejected automatically: the outcome is 'approve' or 'review', never 'reject'
 * - 'approve' only when every check passed AND a tenant auto-approval limit exists for the currency AND
 *   gross <= that limit; a clean request without a limit or above it goes to review with the single
 *   reason manual_review
 * - kyc_valid: status 'approved' and the identity document valid through its expiry date (UTC calendar
 *   day of `now`); an unreadable expiry date counts as expired (a human looks), never a guess
 * - closed loop (closedLoopPlan): a source's outstanding = deposited - returned (never below 0). While
 *   any source has outstanding, money goes back to those sources, each at most its outstanding; a
 *   source may take more (profits) only when no OTHER source has outstanding; an account that is no
 *   source only when no source has outstanding at all
 * - aml_round_trip counts deposits completed at or after `now - roundTripHours` (later ones too: clock
 *   skew never hides a deposit); an unreadable completion time counts as recent
 * - the assessment is deterministic: the same input gives the same result
 */
import { epochDay, todayEpochDay } from '../kyc/dates.ts';
import { formatAmount, type Money, type MoneyJson, toMinor } from '../money/index.ts';
import type { WithdrawalPolicy } from '../tenant/config.ts';

export const CHECK_ORDER = [
  'kyc_valid',
  'closed_loop',
  'aml_large_amount',
  'aml_round_trip',
  'documents_requested',
  'withdrawals_frozen',
] as const;
export type WithdrawalCheckName = (typeof CHECK_ORDER)[number];

/** One automatic check's outcome (stored on the withdrawal item: functions/store/payments/types.ts). */
export interface WithdrawalCheckResult {
  check: WithdrawalCheckName;
  passed: boolean;
  /** The machine reason when it failed (domain/payments/reasons.ts). */
  reason?: string | undefined;
  /** What the check saw (amounts as money JSON, dates ISO): shown to reviewers. */
  evidence: Record<string, unknown>;
}

/** A funding source as the closed-loop rule sees it (functions/store/payments/client-state.ts FundingSource). */
export interface ClosedLoopSource {
  sourceId: string;
  methodId: string;
  /** Masked, for the client: 'Visa •4242'. */
  display: string;
  /** The payout account (IBAN, address, card token), when known: matched with isSameAccount. */
  account?: string | undefined;
  /** Minor units per currency. */
  deposited: Record<string, bigint>;
  returned: Record<string, bigint>;
}

export interface WithdrawalDestination {
  /** The funding source the payout goes to (card, e-wallet), when the client picked one. */
  sourceId?: string | undefined;
  /** Where the payout goes (IBAN, crypto address, card token). */
  account: string;
}

export interface WithdrawalCheckInput {
  now: Date;
  /** The withdrawal's gross; its currency is the currency of every amount below. */
  gross: Money;
  methodId: string;
  destination: WithdrawalDestination;
  /** domain/tenant/config.ts payments.withdrawals */
  policy: WithdrawalPolicy;
  kyc: { status: string; identityExpiresOn?: string | undefined; documentsRequested: boolean };
  frozen?: { reason: string } | undefined;
  sources: ClosedLoopSource[];
  /** Completed deposits in this currency (any age: the round-trip check applies the window). */
  recentDeposits: { depositId: string; completedAt: string; gross: Money }[];
  /** Moved into trading accounts since the earliest deposit in the window (0 until trading accounts exist). */
  tradingTurnover: Money;
}

export interface WithdrawalAssessment {
  checks: WithdrawalCheckResult[];
  outcome: 'approve' | 'review';
  /** The failing checks' reasons, in check order (manual_review when clean but not automatic); empty when approved. */
  reasons: string[];
  /** The tenant limit for the currency (absent: never automatic). */
  autoApproveLimit?: Money | undefined;
}

export interface ClosedLoopOwed {
  sourceId: string;
  methodId: string;
  display: string;
  /** deposited - returned in the currency, > 0. */
  outstanding: bigint;
}

export interface ClosedLoopPlan {
  allowed: boolean;
  /** The sources money must go back to first (outstanding > 0), in the order given. */
  owed: ClosedLoopOwed[];
  /** Sum of `owed`. */
  totalOwed: bigint;
  /** The source the destination is, when it is one. */
  destinationSourceId?: string | undefined;
  /** What the destination source is still owed (0 when it is none or owed nothing). */
  destinationOutstanding: bigint;
  /** The most this destination may receive now; null = no closed-loop limit. */
  maxToDestination: bigint | null;
}

/** Account identifiers compared loosely: surrounding and inner whitespace ignored, case-insensitive. */
export function normalizeAccount(account: string): string {
  return account.replace(/\s+/g, '').toUpperCase();
}

/** Same IBAN / address / token after normalisation (an empty account never matches). */
export function isSameAccount(a: string, b: string): boolean {
  const na = normalizeAccount(a);
  return na !== '' && na === normalizeAccount(b);
}

const amountIn = (m: Record<string, bigint>, currency: string): bigint => m[currency] ?? 0n;

function outstandingOf(s: ClosedLoopSource, currency: string): bigint {
  const left = amountIn(s.deposited, currency) - amountIn(s.returned, currency);
  return left > 0n ? left : 0n;
}

/** Is the destination this source? By source id, else by account; with `methodId`, only a source of that method. */
function isDestination(s: ClosedLoopSource, destination: WithdrawalDestination, methodId: string | undefined): boolean {
  if (methodId !== undefined && s.methodId !== methodId) return false;
  if (destination.sourceId !== undefined) return s.sourceId === destination.sourceId;
  return s.account !== undefined && isSameAccount(s.account, destination.account);
}

/**
 * Where money must go back first, and whether `gross` to `destination` respects it (see the module
 * invariants). `methodId`, when given, restricts the destination match to sources of that method.
 */
export function closedLoopPlan(
  sources: readonly ClosedLoopSource[],
  currency: string,
  destination: WithdrawalDestination,
  gross: bigint,
  methodId?: string,
): ClosedLoopPlan {
  const owed: ClosedLoopOwed[] = [];
  for (const s of sources) {
    const outstanding = outstandingOf(s, currency);
    if (outstanding > 0n) owed.push({ sourceId: s.sourceId, methodId: s.methodId, display: s.display, outstanding });
  }
  const totalOwed = owed.reduce((sum, o) => sum + o.outstanding, 0n);
  const target = sources.find((s) => isDestination(s, destination, methodId));
  const destinationOutstanding = target ? outstandingOf(target, currency) : 0n;
  const othersOwe = owed.some((o) => o.sourceId !== target?.sourceId);
  const maxToDestination = othersOwe ? destinationOutstanding : null;
  return {
    allowed: maxToDestination === null || gross <= maxToDestination,
    owed,
    totalOwed,
    destinationSourceId: target?.sourceId,
    destinationOutstanding,
    maxToDestination,
  };
}

const money = (amount: bigint, currency: string): MoneyJson => ({ amount: formatAmount(amount, currency), currency });

/** ceil(a / b) for a >= 0, b > 0. */
const ceilDiv = (a: bigint, b: bigint): bigint => (a + b - 1n) / b;

function policyLimit(map: Record<string, string>, currency: string): bigint | undefined {
  const raw = Object.hasOwn(map, currency) ? map[currency] : undefined;
  return raw === undefined ? undefined : toMinor(raw, currency);
}

function checkKyc(input: WithdrawalCheckInput): WithdrawalCheckResult {
  const { status, identityExpiresOn } = input.kyc;
  const evidence: Record<string, unknown> = { status, identityExpiresOn: identityExpiresOn ?? null };
  if (status !== 'approved') return { check: 'kyc_valid', passed: false, reason: 'kyc_not_approved', evidence };
  if (identityExpiresOn !== undefined) {
    const day = epochDay(identityExpiresOn);
    const expired = day === undefined || day < todayEpochDay(input.now);
    if (day === undefined) evidence.identityExpiresOnInvalid = true;
    if (expired) return { check: 'kyc_valid', passed: false, reason: 'kyc_expired', evidence };
  }
  return { check: 'kyc_valid', passed: true, evidence };
}

function checkClosedLoop(input: WithdrawalCheckInput): WithdrawalCheckResult {
  const currency = input.gross.currency;
  const plan = closedLoopPlan(input.sources, currency, input.destination, input.gross.amount, input.methodId);
  const evidence = {
    destination: { sourceId: plan.destinationSourceId ?? null, isSource: plan.destinationSourceId !== undefined },
    owed: plan.owed.map((o) => ({
      sourceId: o.sourceId,
      methodId: o.methodId,
      display: o.display,
      outstanding: money(o.outstanding, currency),
    })),
    totalOwed: money(plan.totalOwed, currency),
    destinationOutstanding: money(plan.destinationOutstanding, currency),
    maxToDestination: plan.maxToDestination === null ? null : money(plan.maxToDestination, currency),
    gross: money(input.gross.amount, currency),
  };
  return plan.allowed
    ? { check: 'closed_loop', passed: true, evidence }
    : { check: 'closed_loop', passed: false, reason: 'closed_loop', evidence };
}

function checkLargeAmount(input: WithdrawalCheckInput): WithdrawalCheckResult {
  const { amount, currency } = input.gross;
  const limit = policyLimit(input.policy.largeAmount, currency);
  const evidence = { gross: money(amount, currency), largeAmount: limit === undefined ? null : money(limit, currency) };
  return limit !== undefined && amount >= limit
    ? { check: 'aml_large_amount', passed: false, reason: 'aml_large_amount', evidence }
    : { check: 'aml_large_amount', passed: true, evidence };
}

function checkRoundTrip(input: WithdrawalCheckInput): WithdrawalCheckResult {
  const { amount, currency } = input.gross;
  const { roundTripHours, roundTripSharePercent, minTurnoverPercent } = input.policy;
  const windowStartMs = input.now.getTime() - roundTripHours * 3_600_000;
  const recent = input.recentDeposits.filter((d) => {
    if (d.gross.currency !== currency) return false;
    const at = Date.parse(d.completedAt);
    return Number.isNaN(at) || at >= windowStartMs;
  });
  const total = recent.reduce((sum, d) => sum + d.gross.amount, 0n);
  const turnover = input.tradingTurnover.amount;
  const share = BigInt(roundTripSharePercent);
  const minTurnover = BigInt(minTurnoverPercent);
  const flagged = total > 0n && amount * 100n >= total * share && turnover * 100n < total * minTurnover;
  const evidence = {
    windowHours: roundTripHours,
    windowStart: new Date(windowStartMs).toISOString(),
    recentDeposits: recent.map((d) => ({
      depositId: d.depositId,
      completedAt: d.completedAt,
      gross: money(d.gross.amount, currency),
    })),
    recentTotal: money(total, currency),
    gross: money(amount, currency),
    sharePercent: roundTripSharePercent,
    /** The smallest gross that counts as "most of" the recent deposits. */
    flaggedFromGross: money(ceilDiv(total * share, 100n), currency),
    tradingTurnover: money(turnover, currency),
    minTurnoverPercent,
    /** Trading turnover at or above this clears the rule. */
    requiredTurnover: money(ceilDiv(total * minTurnover, 100n), currency),
  };
  return flagged
    ? { check: 'aml_round_trip', passed: false, reason: 'aml_round_trip', evidence }
    : { check: 'aml_round_trip', passed: true, evidence };
}

function checkDocuments(input: WithdrawalCheckInput): WithdrawalCheckResult {
  const evidence = { documentsRequested: input.kyc.documentsRequested };
  return input.kyc.documentsRequested
    ? { check: 'documents_requested', passed: false, reason: 'documents_requested', evidence }
    : { check: 'documents_requested', passed: true, evidence };
}

function checkFrozen(input: WithdrawalCheckInput): WithdrawalCheckResult {
  return input.frozen
    ? {
        check: 'withdrawals_frozen',
        passed: false,
        reason: 'withdrawals_frozen',
        evidence: { frozen: true, reason: input.frozen.reason },
      }
    : { check: 'withdrawals_frozen', passed: true, evidence: { frozen: false } };
}

function assertInput(input: WithdrawalCheckInput): void {
  const { amount, currency } = input.gross;
  if (amount <= 0n) throw new RangeError(`withdrawal-checks: gross must be positive, got ${amount}`);
  const t = input.tradingTurnover;
  if (t.amount < 0n) throw new RangeError('withdrawal-checks: trading turnover must not be negative');
  if (t.amount !== 0n && t.currency !== currency) {
    throw new RangeError(`withdrawal-checks: trading turnover in ${t.currency}, withdrawal in ${currency}`);
  }
}

/** Runs every check and decides approve / review (see the module invariants). */
export function assessWithdrawal(input: WithdrawalCheckInput): WithdrawalAssessment {
  assertInput(input);
  const checks = [
    checkKyc(input),
    checkClosedLoop(input),
    checkLargeAmount(input),
    checkRoundTrip(input),
    checkDocuments(input),
    checkFrozen(input),
  ];
  const { amount, currency } = input.gross;
  const limit = policyLimit(input.policy.autoApproveMax, currency);
  const autoApproveLimit = limit === undefined ? undefined : { amount: limit, currency };
  const reasons = checks.filter((c) => !c.passed).map((c) => c.reason!);
  if (reasons.length > 0) return { checks, outcome: 'review', reasons, autoApproveLimit };
  if (limit === undefined || amount > limit) return { checks, outcome: 'review', reasons: ['manual_review'], autoApproveLimit };
  return { checks, outcome: 'approve', reasons: [], autoApproveLimit };
}
