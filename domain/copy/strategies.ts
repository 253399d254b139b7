/**
 * Strategies: a provider's live trading account offered for copying, and its moderation (issue 15). Pure.
 *
 * Invariants:
 * - a strategy is submitted 'pending_review'; staff approve or reject it, and may hide an approved one or show a
 *   hidden one again; a rejected strategy stays rejected (the provider submits a new one). Any other decision is
 *   409 strategy_decision_not_allowed, naming the status
 * - every decision carries a reason (kept in the audit entry and on the strategy)
 * - only an approved, public strategy is listed in the marketplace and may be followed; a hidden one takes no new
 *   followers, and its existing copies stay manageable
 * - a strategy id is derived from (provider, Idempotency-Key), so a retried submission finds the same strategy
 */
import { createHash } from 'node:crypto';
import { DomainError } from '../errors.ts';

export const STRATEGY_STATUSES = ['pending_review', 'approved', 'rejected', 'hidden'] as const;
export type StrategyStatus = (typeof STRATEGY_STATUSES)[number];

export const STRATEGY_DECISIONS = ['approve', 'reject', 'hide', 'show'] as const;
export type StrategyDecision = (typeof STRATEGY_DECISIONS)[number];

export const STRATEGY_VISIBILITIES = ['public', 'private'] as const;
export type StrategyVisibility = (typeof STRATEGY_VISIBILITIES)[number];

/** A strategy younger than this many days is shown as new, not ranked (statistics.ts isRanked). */
export const DEFAULT_MIN_RANKED_DAYS = 30;

const NEXT: Readonly<Record<StrategyStatus, Partial<Record<StrategyDecision, StrategyStatus>>>> = {
  pending_review: { approve: 'approved', reject: 'rejected' },
  approved: { hide: 'hidden' },
  hidden: { show: 'approved' },
  rejected: {},
};

/** The status a decision moves a strategy to, or 409 strategy_decision_not_allowed. */
export function decide(status: StrategyStatus, decision: StrategyDecision): StrategyStatus {
  const next = NEXT[status][decision];
  if (!next) {
    throw new DomainError(
      'strategy_decision_not_allowed',
      'conflict',
      `A ${status.replace('_', ' ')} strategy cannot be given the decision '${decision}'`,
      [],
      { status },
    );
  }
  return next;
}

/** Whether the marketplace lists it and a client may start following it. */
export const isFollowable = (s: { status: StrategyStatus; visibility: StrategyVisibility }) =>
  s.status === 'approved' && s.visibility === 'public';

export const strategyIdFor = (clientId: string, idempotencyKey: string) =>
  `st_${createHash('sha256').update(`${clientId}\u0000${idempotencyKey}`, 'utf8').digest('hex').slice(0, 29)}`;
