/**
 * Reading copy-fee charges (issue 15; the charges themselves: settle-fees.ts): a follower reads the charges of its
 * own subscription (GET /v1/subscriptions/{id}/charges), a provider the fee income of its own strategy (GET
 * /v1/strategies/{id}/fees), staff who read trading accounts any strategy's.
 *
 * Invariants:
 * - a follower reads its own subscriptions' charges only: another's is 404 subscription_not_found (a cross-client
 *   probe), never 403
 * - a strategy's fee income is read by its provider and by staff in TRADING_STAFF_READERS; anyone else gets 404
 *   strategy_not_found (a cross-client probe for a client), so strategy ids cannot be probed for income
 * - reads only
 */
import type { Caller } from '#domain/identity/roles.ts';
import { crossClientProbe } from '#domain/security/probes.ts';
import { getStrategy, getSubscription, strategyNotFound, subscriptionNotFound } from '#store/copy.ts';
import { type ChargeItem, listStrategyCharges, listSubscriptionCharges } from '#store/copy-fees.ts';
import type { Page } from '#store/pagination.ts';
import type { CommandContext } from '../context.ts';
import { TRADING_STAFF_READERS } from '../trading/shared.ts';

export type { ChargeItem } from '#store/copy-fees.ts';

/** The charges of one of the caller's subscriptions, newest first. */
export async function listMyCharges(
  input: { subscriptionId: string; limit: number; cursor?: string | undefined },
  caller: Caller,
  _ctx: CommandContext,
): Promise<Page<ChargeItem>> {
  const s = await getSubscription(input.subscriptionId, { consistent: true });
  if (!s || s.followerClientId !== caller.sub || !caller.roles.includes('client')) {
    throw crossClientProbe(subscriptionNotFound(), caller, s?.followerClientId ?? caller.sub);
  }
  return listSubscriptionCharges(input.subscriptionId, input);
}

/** A strategy's charges (the fee income its provider and the broker share), newest first. */
export async function listStrategyFees(
  input: { strategyId: string; limit: number; cursor?: string | undefined },
  caller: Caller,
  _ctx: CommandContext,
): Promise<Page<ChargeItem>> {
  const strategy = await getStrategy(input.strategyId, { consistent: true });
  const staff = caller.isStaff && caller.roles.some((r) => TRADING_STAFF_READERS.includes(r));
  if (!strategy || (!staff && (strategy.providerClientId !== caller.sub || !caller.roles.includes('client')))) {
    throw crossClientProbe(strategyNotFound(), caller, strategy?.providerClientId ?? caller.sub);
  }
  return listStrategyCharges(input.strategyId, input);
}
