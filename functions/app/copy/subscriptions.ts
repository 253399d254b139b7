/**
 * Following a strategy (issue 15): POST /v1/strategies/{id}/subscriptions starts a subscription with a dedicated
 * live copy account; POST /v1/subscriptions/{id}/{pause|resume|stop} changes it; the follower lists and reads its
 * own. A subscription records who follows what, how (allocation) and within which limits (protections); the copies
 * themselves are made by replication (fan-out.ts, replicate.ts; ADR 0017).
 *
 * Invariants:
 * - a follow is checked whole before anything is written: the strategy is followable (approved, public; else 404
 *   strategy_not_found, or 409 strategy_not_followable to its own provider), the follower is not its provider (422
 *   cannot_follow_own_strategy), its KYC is approved (403 kyc_required), its appropriateness result does not
 *   forbid the product (403 product_not_appropriate), the copy account is its own live active account in the
 *   strategy's currency and not the strategy's (404 / 409 / 422 currency_mismatch / 422 copy_account_is_strategy),
 *   its equity on the platform is at least the strategy's minimum (422 below_min_investment), and the allocation
 *   has the parameters its mode needs (422 allocation_parameter_required)
 * - exactly once per Idempotency-Key; the subscription, the copy account's claim (one live subscription per
 *   account: 409 account_already_copying), the audit entry and copy.subscription.started are one transaction
 * - pause / resume / stop follow active <-> paused -> stopped (409 subscription_change_not_allowed); a stop
 *   releases the copy account; each change is audited with copy.subscription.changed. A stop closes the copied
 *   positions (closePositions, the default: the replication executor closes them in the follower's queue group,
 *   after every copy already queued) or keeps them open and detached
 * - the subscription's copy state (start equity, peak, money invested: the protections' bases) is written with it,
 *   and so is its fee state (functions/app/copy/settle-fees.ts): the high-water mark starts at the start equity plus
 *   what an earlier stopped copy of the same follower and strategy left above its equity (the fee pair's carry, taken
 *   over in the same transaction); an earlier copy of the account or the strategy that stopped without its final
 *   charge yet is charged first (409 copy_fees_in_progress / 422 copy_fee_charge_failed when it cannot be now)
 * - a stop's final fee charge is made by the consumer of copy.subscription.changed (functions/workers/copy-fees.ts),
 *   after the stop is committed, and by the daily job until it succeeds
 * - a follower reads and changes its own subscriptions only (404 subscription_not_found otherwise)
 */

import { createHash } from 'node:crypto';
import type { StrategyVisibility } from '#domain/copy/strategies.ts';
import { isFollowable } from '#domain/copy/strategies.ts';
import { DomainError, isDomainError } from '#domain/errors.ts';
import type { Caller, Role } from '#domain/identity/roles.ts';
import { formatAmount, toMinor } from '#domain/money/index.ts';
import { crossClientProbe } from '#domain/security/probes.ts';
import { actorFrom, commit } from '#store/audit.ts';
import { getClientProfile } from '#store/clients.ts';
import {
  type ALLOCATION_MODES,
  getStrategy,
  getSubscription,
  listFollowerSubscriptions,
  newSubscriptionWrites,
  releaseCopyAccount,
  SUBSCRIPTION_ENTITY,
  type SubscriptionItem,
  strategyNotFound,
  subscriptionEntity,
  subscriptionEventDetail,
  subscriptionNotFound,
  subscriptionSnapshot,
} from '#store/copy.ts';
import { copyStateEntity, listSubscriptionCopies } from '#store/copy-trades.ts';
import type { CommandContext } from '../context.ts';
import { accountState, activeLogin, idempotencyKeyReused, ownAccount, requestHashOf, requireKey } from '../trading/shared.ts';
import { feeWritesForFollow, settlePreviousCopies } from './settle-fees.ts';

export type { SubscriptionItem } from '#store/copy.ts';

const FOLLOWERS: readonly Role[] = ['client'];

export interface FollowInput {
  strategyId: string;
  accountId: string;
  allocation: { mode: (typeof ALLOCATION_MODES)[number]; ratioBps?: number; volume?: string; maxVolume?: string };
  protections: SubscriptionItem['protections'];
}

const subscriptionIdFor = (clientId: string, key: string) =>
  `sub_${createHash('sha256').update(`${clientId}\u0000${key}`, 'utf8').digest('hex').slice(0, 28)}`;

const refuse = (code: string, kind: 'unprocessable' | 'conflict' | 'forbidden', message: string, field?: string): never => {
  throw new DomainError(code, kind, message, field ? [{ field, code, message }] : []);
};

function checkAllocation(a: FollowInput['allocation']): void {
  const needsRatio = a.mode === 'balance_ratio' || a.mode === 'equity_ratio' || a.mode === 'volume_multiplier';
  if (needsRatio && !a.ratioBps)
    refuse('allocation_parameter_required', 'unprocessable', `${a.mode} needs ratioBps`, 'allocation.ratioBps');
  if (a.mode === 'fixed_volume' && !a.volume)
    refuse('allocation_parameter_required', 'unprocessable', 'fixed_volume needs volume', 'allocation.volume');
}

export async function follow(
  input: FollowInput,
  caller: Caller,
  ctx: CommandContext,
): Promise<{ subscription: SubscriptionItem; replayed: boolean }> {
  const key = requireKey(ctx.idempotencyKey, 'Following a strategy');
  const actor = actorFrom(caller, FOLLOWERS);
  const subscriptionId = subscriptionIdFor(caller.sub, key);
  const requestHash = requestHashOf(input);
  const prior = await getSubscription(subscriptionId, { consistent: true });
  if (prior) {
    if (prior.requestHash !== requestHash) throw idempotencyKeyReused();
    return { subscription: prior, replayed: true };
  }
  const strategy = await getStrategy(input.strategyId, { consistent: true });
  if (!strategy || (!isFollowable(strategy) && strategy.providerClientId !== caller.sub)) throw strategyNotFound();
  if (strategy.providerClientId === caller.sub) {
    refuse('cannot_follow_own_strategy', 'unprocessable', 'A provider cannot follow its own strategy', 'strategyId');
  }
  if (!isFollowable({ status: strategy.status, visibility: strategy.visibility as StrategyVisibility })) {
    refuse('strategy_not_followable', 'conflict', 'This strategy takes no followers now');
  }
  const profile = await getClientProfile(caller.sub);
  if (profile?.kycStatus !== 'approved')
    refuse('kyc_required', 'forbidden', 'Your identity must be verified before you copy a strategy');
  if (profile?.onboarding?.questionnaire?.result === 'not_appropriate') {
    refuse('product_not_appropriate', 'forbidden', 'Your appropriateness assessment does not allow copy trading');
  }
  const account = await ownAccount(input.accountId, caller);
  activeLogin(account);
  if (account.kind !== 'live')
    refuse('copy_account_must_be_live', 'unprocessable', 'A copy account is a live account', 'accountId');
  if (account.accountId === strategy.accountId) {
    refuse('copy_account_is_strategy', 'unprocessable', 'The strategy’s own account cannot copy it', 'accountId');
  }
  if (account.currency !== strategy.currency) {
    refuse('currency_mismatch', 'unprocessable', `This strategy is copied into ${strategy.currency} accounts`, 'accountId');
  }
  checkAllocation(input.allocation);
  // an earlier copy on this account or of this strategy, stopped but not finally charged yet, is charged first: its
  // equity is this account's, and what it leaves (the carry) becomes part of this copy's high-water mark
  await settlePreviousCopies({ clientId: caller.sub, accountId: account.accountId, strategyId: strategy.strategyId }, ctx);
  const minimum = toMinor(strategy.minInvestment.amount, strategy.currency);
  const state = await accountState(account, { fresh: true });
  if (state.equity < minimum) {
    refuse(
      'below_min_investment',
      'unprocessable',
      `This strategy needs at least ${formatAmount(minimum, strategy.currency)} ${strategy.currency} in the copy account (it has ${formatAmount(state.equity, strategy.currency)})`,
      'accountId',
    );
  }
  const at = new Date().toISOString();
  const subscription = subscriptionEntity.item(
    {
      subscriptionId,
      strategyId: strategy.strategyId,
      providerClientId: strategy.providerClientId,
      followerClientId: caller.sub,
      followerAccountId: account.accountId,
      currency: strategy.currency,
      allocation: input.allocation,
      protections: input.protections,
      status: 'active',
      idempotencyKey: key,
      requestHash,
    },
    at,
  );
  const copyState = copyStateEntity.item(
    {
      subscriptionId,
      currency: strategy.currency,
      startEquity: state.equity.toString(),
      peakEquity: state.equity.toString(),
      invested: state.equity.toString(),
    },
    at,
  );
  const feeWrites = await feeWritesForFollow(subscription, state.equity, at);
  try {
    await commit({
      writes: [...newSubscriptionWrites(subscription, at), copyStateEntity.putNew(copyState), ...feeWrites],
      audit: {
        actor,
        action: 'copy.subscription.started',
        entity: { type: SUBSCRIPTION_ENTITY, id: subscriptionId },
        newEntity: true,
        clientId: caller.sub,
        before: null,
        after: subscriptionSnapshot(subscription),
        requestId: ctx.requestId,
      },
      outbox: [{ detailType: 'copy.subscription.started', detail: subscriptionEventDetail(subscription) }],
    });
  } catch (err) {
    if (isDomainError(err) && err.code === 'subscription_exists') return follow(input, caller, ctx);
    // the fee pair's carry was taken by a concurrent follow of the same pair: read it again
    if (isDomainError(err) && err.code === 'concurrent_modification') return follow(input, caller, ctx);
    throw err;
  }
  return { subscription, replayed: false };
}

const CHANGES = {
  pause: { from: ['active'], to: 'paused' },
  resume: { from: ['paused'], to: 'active' },
  stop: { from: ['active', 'paused'], to: 'stopped' },
} as const;
export type SubscriptionChange = keyof typeof CHANGES;

async function own(id: string, caller: Caller): Promise<SubscriptionItem> {
  const s = await getSubscription(id, { consistent: true });
  if (!s || s.followerClientId !== caller.sub)
    throw crossClientProbe(subscriptionNotFound(), caller, s?.followerClientId ?? caller.sub);
  return s;
}

export async function changeSubscription(
  input: {
    subscriptionId: string;
    change: SubscriptionChange;
    reason?: string | undefined;
    /** A stop: close the copied positions (default) or keep them and detach. */
    closePositions?: boolean | undefined;
  },
  caller: Caller,
  ctx: CommandContext,
): Promise<SubscriptionItem> {
  const actor = actorFrom(caller, FOLLOWERS);
  const s = await own(input.subscriptionId, caller);
  const rule = CHANGES[input.change];
  if (!(rule.from as readonly string[]).includes(s.status)) {
    refuse('subscription_change_not_allowed', 'conflict', `A ${s.status} subscription cannot ${input.change}`);
  }
  const at = new Date().toISOString();
  const reason = input.reason ?? (input.change === 'stop' ? 'stopped_by_follower' : undefined);
  const next: SubscriptionItem = {
    ...s,
    status: rule.to,
    ...(input.change === 'stop' ? { stopReason: reason, stoppedAt: at } : {}),
  };
  const after = subscriptionEntity.replaced(s, next, at);
  await commit({
    writes: [
      subscriptionEntity.replace(s, next, at),
      ...(input.change === 'stop' ? [releaseCopyAccount(s.followerAccountId)] : []),
    ],
    audit: {
      actor,
      action: `copy.subscription.${input.change}`,
      entity: { type: SUBSCRIPTION_ENTITY, id: s.subscriptionId },
      clientId: s.followerClientId,
      before: subscriptionSnapshot(s),
      after: subscriptionSnapshot(after),
      requestId: ctx.requestId,
    },
    outbox: [
      {
        detailType: 'copy.subscription.changed',
        detail: {
          ...subscriptionEventDetail(after, reason),
          ...(input.change === 'stop' ? { closePositions: input.closePositions ?? true } : {}),
        },
      },
    ],
  });
  return after;
}

export const readSubscription = (input: { subscriptionId: string }, caller: Caller, _ctx: CommandContext) =>
  own(input.subscriptionId, caller);

export const listMySubscriptions = (
  input: { limit: number; cursor?: string | undefined },
  caller: Caller,
  _ctx: CommandContext,
) => listFollowerSubscriptions(caller.sub, input);

export type { CopyTradeItem } from '#store/copy-trades.ts';

/** The copies of one of the caller's subscriptions, newest first: fills, latency, slippage, skips with reasons. */
export async function listCopies(
  input: { subscriptionId: string; limit: number; cursor?: string | undefined },
  caller: Caller,
  _ctx: CommandContext,
) {
  await own(input.subscriptionId, caller);
  return listSubscriptionCopies(input.subscriptionId, input);
}
