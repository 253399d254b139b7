/**
 * Fan-out (ADR 0017): a provider's deal event becomes one replication message per follower; a stopped subscription
 * that closes its positions becomes one stop message. Invoked by the bus rules on trading.position.opened,
 * trading.deal.closed and copy.subscription.changed (functions/workers/copy-fanout.ts).
 *
 * Invariants:
 * - only deals of a strategy's account fan out (its account claim names the strategy); others are ignored
 * - an opening deal fans out to active subscriptions of an approved strategy only: a hidden, rejected or
 *   disconnected provider starts no new copies; a closing deal fans out to active and paused subscriptions of any
 *   strategy, so copied positions stay manageable
 * - the provider's balance and equity are read once per opening deal (not once per follower) and sent along
 * - the provider's deal moves the social exposure once (functions/store/copy-exposure.ts), whatever the strategy's
 *   status: the dealing desk sees providers' positions beside their followers'
 * - the signal time is when the back office recorded the deal: its outbox event id's (ULID) time
 * - a re-delivered event re-sends the same messages with the same deduplication ids: the queue drops them within
 *   five minutes, the executor's copy record after that
 */
import { sendMessages } from '#adapters/queues/sqs.ts';
import { copyIdFor, ulidTime } from '#domain/copy/replication.ts';
import type { EventDetail } from '#domain/events/index.ts';
import { toMinor } from '#domain/money/index.ts';
import { accountClaimEntity, getStrategy, type SubscriptionItem, strategySubscriptions } from '#store/copy.ts';
import { addProviderExposure } from '#store/copy-exposure.ts';
import { copyKeys } from '#store/keys.ts';
import type { CommandContext } from '../context.ts';
import { platformOf } from '../trading/shared.ts';
import type { DealSignal, QueuedSignal, SignalQueue, StopSignal } from './messages.ts';

type DealDetail = EventDetail<'trading.deal.closed'> & { eventId?: string };

/** The manifest's FIFO replication queue. */
export const REPLICATION_QUEUE = 'copy-replication';
const replicationQueue: SignalQueue = { send: (signals) => sendMessages(REPLICATION_QUEUE, signals) };

export interface FanOutResult {
  sent: number;
  reason?: 'not_a_strategy' | 'not_a_trade' | 'strategy_not_followable';
}

const PROPORTIONAL = new Set(['balance_proportional', 'equity_proportional', 'balance_ratio', 'equity_ratio']);

/** Points and digits of a decimal price string ("1.08512" -> 108512n, 5). */
export function pricePoints(price: string): { points: bigint; digits: number } {
  const [whole, fraction = ''] = price.split('.');
  return { points: BigInt(`${whole}${fraction}`), digits: fraction.length };
}

const signalTime = (eventId: string | undefined): number => (eventId ? ulidTime(eventId) : undefined) ?? Date.now();

export async function fanOutDeal(
  input: { kind: 'open' | 'close'; deal: DealDetail },
  _ctx: CommandContext,
  queue: SignalQueue = replicationQueue,
): Promise<FanOutResult> {
  const d = input.deal;
  if (!d.accountId) return { sent: 0, reason: 'not_a_strategy' };
  if (d.action !== 'buy' && d.action !== 'sell') return { sent: 0, reason: 'not_a_trade' };
  const claim = await accountClaimEntity.get(copyKeys.accountClaim(d.accountId));
  if (!claim) return { sent: 0, reason: 'not_a_strategy' };
  const strategy = await getStrategy(claim.strategyId, { consistent: true });
  if (!strategy) return { sent: 0, reason: 'not_a_strategy' };
  // The provider's own exposure, whatever the strategy's status (counted once per deal).
  await addProviderExposure(d.dealKey, `${d.platform}#${d.server}#${d.positionId}`, {
    kind: input.kind,
    symbol: d.symbol,
    side: input.kind === 'open' ? d.action : d.action === 'buy' ? 'sell' : 'buy',
    currency: d.currency,
    volume: BigInt(d.volume),
    notional: d.notional ? toMinor(d.notional, d.currency) : 0n,
  });
  if (input.kind === 'open' && strategy.status !== 'approved') return { sent: 0, reason: 'strategy_not_followable' };

  const subscriptions: SubscriptionItem[] = [];
  for (const status of input.kind === 'open' ? ['active'] : ['active', 'paused']) {
    for await (const page of strategySubscriptions(strategy.strategyId, status)) subscriptions.push(...page);
  }
  if (subscriptions.length === 0) return { sent: 0 };

  let provider: DealSignal['provider'];
  if (input.kind === 'open' && subscriptions.some((s) => PROPORTIONAL.has(s.allocation.mode))) {
    const adapter = await platformOf({ platform: strategy.platform as never });
    const state = await adapter.accountState(d.login);
    provider = { balance: state.balance.toString(), equity: state.equity.toString() };
  }
  const { points, digits } = pricePoints(d.price);
  const signalAtMsc = signalTime(d.eventId);
  const base = {
    kind: input.kind,
    dealKey: d.dealKey,
    deal: d.deal,
    strategyId: strategy.strategyId,
    providerLogin: d.login,
    providerPositionId: d.positionId,
    symbol: d.symbol,
    side: d.action,
    volume: d.volume,
    price: points.toString(),
    digits,
    providerTimeMsc: d.timeMsc,
    ...(d.notional ? { notional: toMinor(d.notional, d.currency).toString() } : {}),
    ...(provider ? { provider } : {}),
    signalAtMsc,
  } satisfies Omit<DealSignal, 'subscriptionId' | 'followerAccountId'>;
  const messages: QueuedSignal[] = subscriptions.map((s) => ({
    body: JSON.stringify({ ...base, subscriptionId: s.subscriptionId, followerAccountId: s.followerAccountId }),
    groupId: s.followerAccountId,
    dedupId: copyIdFor(d.dealKey, s.subscriptionId),
  }));
  await queue.send(messages);
  return { sent: messages.length };
}

/** A stop that closes the copied positions: one message in the follower's group, after everything already queued. */
export async function fanOutStop(
  input: { subscriptionId: string; followerAccountId: string; reason: string; eventId?: string },
  _ctx: CommandContext,
  queue: SignalQueue = replicationQueue,
): Promise<FanOutResult> {
  const body: StopSignal = {
    kind: 'stop',
    subscriptionId: input.subscriptionId,
    followerAccountId: input.followerAccountId,
    reason: input.reason,
    signalAtMsc: signalTime(input.eventId),
  };
  await queue.send([{ body: JSON.stringify(body), groupId: input.followerAccountId, dedupId: `stop_${input.subscriptionId}` }]);
  return { sent: 1 };
}
