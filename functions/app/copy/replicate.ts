/**
 * The replication executor (ADR 0017): applies one replication message to one follower's copy account. Called by
 * functions/workers/copy-executor.ts for each message of the FIFO queue (one follower's messages in order).
 *
 * Invariants:
 * - exactly once per (provider deal, subscription): the copy record is created `executing` under the copy id before
 *   the platform is asked anything; the order carries the copy id as its comment. A redelivery of a copy that
 *   ended is a no-op answering the recorded outcome; one whose lease is held is retried later (CopyBusyError);
 *   one whose lease expired (its executor crashed or timed out) first asks the platform whether the order was
 *   executed (findTrade by the copy id; for a close, the follower position's volume) and records that fill instead
 *   of sending again
 * - the lease outlives the executor's timeout, so two executors never talk to the platform about one copy
 * - an open is decided before anything is sent: the subscription is active, the strategy approved, the provider
 *   position not already closed for this follower (provider_closed_first), the signal not older than the tenant's
 *   maximum, then allocation (domain/copy/allocation.ts) and protections (domain/copy/protections.ts) with the
 *   follower's equity, peak and invested amount; each refusal is a `skipped` copy with its reason
 * - an equity stop or drawdown stops the subscription in the same transaction as the skipped copy, releases the
 *   copy account, and emits copy.subscription.changed with closePositions: the stop message that closes the
 *   copied positions follows through the fan-out, in the follower's group
 * - a close follows the follower's INITIAL ratio (allocateClose); a close of a position never copied records
 *   not_copied and leaves a tombstone so a late open of it is not copied either
 * - a platform refusal (no money, market closed, trading disabled, ...) ends the copy `failed` with the code; an
 *   unavailable platform leaves it `executing` (the message is retried, and recovery asks the platform first)
 * - the end of a copy, the link it opens or changes, the copy state (peak) and, on a protection stop, the
 *   subscription are one transaction with the audit entry (the subscription's chain) and copy.trade.executed
 */

import { tradingPlatform } from '#adapters/platforms/index.ts';
import { allocate, allocateClose, type CopyMode } from '#domain/copy/allocation.ts';
import { beforeCopy, type EquityStop, nextPeak, type ProtectionSettings } from '#domain/copy/protections.ts';
import { closingSide, copyIdFor, latencyMs, slippageMoney, slippagePoints, stopCloseIdFor } from '#domain/copy/replication.ts';
import { DomainError } from '#domain/errors.ts';
import { formatAmount, toMinor } from '#domain/money/index.ts';
import { isTradingError } from '#domain/trading/errors.ts';
import { formatPoints } from '#domain/trading/model.ts';
import type { Fill, Instrument, Platform, TradingPlatform } from '#domain/trading/port.ts';
import { tenantConfig } from '#shared/tenant.ts';
import { type AuditInput, commit, systemActor } from '#store/audit.ts';
import {
  getStrategy,
  getSubscription,
  releaseCopyAccount,
  SUBSCRIPTION_ENTITY,
  type SubscriptionItem,
  subscriptionEntity,
  subscriptionEventDetail,
  subscriptionSnapshot,
} from '#store/copy.ts';
import { followerExposure } from '#store/copy-exposure.ts';
import {
  type CopyStateItem,
  type CopyTradeItem,
  claimCopyTrade,
  copyStateEntity,
  copyTradeEntity,
  getCopyState,
  getCopyTrade,
  getPositionLink,
  markCopyIntent,
  newLinkWrite,
  openLinks,
  type PositionLinkItem,
  positionLinkEntity,
  releaseCopyTrade,
  startCopyTrade,
} from '#store/copy-trades.ts';
import type { CommitWrite } from '#store/items.ts';
import type { OutboxEvent } from '#store/outbox.ts';
import { getTradingAccount, type TradingAccountItem } from '#store/trading.ts';
import type { CommandContext } from '../context.ts';
import type { CopySignal, DealSignal, StopSignal } from './messages.ts';

/**
 * The lease, longer than the executor's 30 s timeout: an expired lease's executor is gone. COPY_LEASE_MS shortens it where no
 * executor is ever cut off mid-call (the benchmark, whose local queue runs at a hundredth of real time).
 */
export const copyLeaseMs = (): number => Number(process.env.COPY_LEASE_MS ?? 60_000);
const ACTOR = systemActor('copy-executor');

/** The copy is being executed by another executor (its lease is held): the message is retried later. */
export class CopyBusyError extends Error {
  constructor(readonly copyId: string) {
    super(`copy ${copyId} is being executed by another executor`);
    this.name = 'CopyBusyError';
  }
}

export interface ReplicateResult {
  copyId: string;
  status: CopyTradeItem['status'];
  reason?: string;
  replayed: boolean;
}

/** Test hooks: a crash between the platform's fill and the commit (fault injection). */
export const faults = { afterFill: undefined as undefined | ((copyId: string) => void) };

interface Follower {
  subscription: SubscriptionItem;
  account: TradingAccountItem;
  login: number;
  adapter: TradingPlatform;
}

/** Per container: a strategy's status for a few seconds (a hide stops new copies within them), symbol limits for a minute. */
const STRATEGY_TTL_MS = 5_000;
const LIMITS_TTL_MS = 60_000;
const strategies = new Map<string, { at: number; status: string | undefined }>();
const limits = new Map<string, { at: number; instrument: Instrument }>();

async function strategyStatus(strategyId: string): Promise<string | undefined> {
  const hit = strategies.get(strategyId);
  if (hit && Date.now() - hit.at < STRATEGY_TTL_MS) return hit.status;
  const status = (await getStrategy(strategyId))?.status;
  strategies.set(strategyId, { at: Date.now(), status });
  return status;
}

/** The symbol's volume limits (cached); `fresh` also reads its current quote from the platform. */
async function instrumentOf(adapter: TradingPlatform, symbol: string, fresh: boolean): Promise<Instrument> {
  const key = `${adapter.platform}#${adapter.server}#${symbol}`;
  const hit = limits.get(key);
  if (!fresh && hit && Date.now() - hit.at < LIMITS_TTL_MS) return hit.instrument;
  const instrument = await adapter.instrument(symbol);
  limits.set(key, { at: Date.now(), instrument });
  return instrument;
}

const ended = (c: CopyTradeItem): ReplicateResult => ({
  copyId: c.copyId,
  status: c.status,
  ...(c.reason ? { reason: c.reason } : {}),
  replayed: true,
});

async function followerOf(subscriptionId: string, accountId: string): Promise<Follower | undefined> {
  const [subscription, account] = await Promise.all([
    getSubscription(subscriptionId, { consistent: true }),
    getTradingAccount(accountId),
  ]);
  if (!subscription || !account?.login) return undefined;
  return { subscription, account, login: account.login, adapter: await tradingPlatform(account.platform as Platform) };
}

export async function replicate(signal: CopySignal, ctx: CommandContext): Promise<ReplicateResult[]> {
  const follower = await followerOf(signal.subscriptionId, signal.followerAccountId);
  if (!follower) {
    throw new DomainError('subscription_not_found', 'not_found', `No subscription ${signal.subscriptionId} with a copy account`);
  }
  if (signal.kind === 'stop') return closeAll(signal, follower, ctx);
  return [await copyDeal(signal, follower, ctx)];
}

// ------------------------------------------------------------------------------------------------ the record

function newRecord(signal: DealSignal, f: Follower, at: string, nowMs: number): CopyTradeItem {
  const s = f.subscription;
  return copyTradeEntity.item(
    {
      copyId: copyIdFor(signal.dealKey, s.subscriptionId),
      subscriptionId: s.subscriptionId,
      strategyId: s.strategyId,
      followerClientId: s.followerClientId,
      followerAccountId: s.followerAccountId,
      followerLogin: f.login,
      kind: signal.kind,
      providerDealKey: signal.dealKey,
      providerDeal: signal.deal,
      providerPositionId: signal.providerPositionId,
      symbol: signal.symbol,
      side: signal.side,
      digits: signal.digits,
      providerVolume: signal.volume,
      providerPrice: signal.price,
      providerTimeMsc: signal.providerTimeMsc,
      signalAtMsc: signal.signalAtMsc,
      status: 'executing',
      currency: s.currency,
      leaseUntil: nowMs + copyLeaseMs(),
      attempts: 1,
    },
    at,
  );
}

/**
 * The copy record, owned by this executor: created with its lease, or an existing one whose lease expired.
 * `ended` when it already ended; `recovering` when an earlier executor may have reached the platform.
 */
async function own(record: CopyTradeItem): Promise<{ record: CopyTradeItem; ended?: true; recovering?: true }> {
  if (await startCopyTrade(record)) return { record };
  const existing = await getCopyTrade(record.copyId);
  if (!existing) throw new Error(`copy ${record.copyId} vanished`);
  if (existing.status !== 'executing') return { record: existing, ended: true };
  if (!(await claimCopyTrade(record.copyId, Date.now(), copyLeaseMs()))) throw new CopyBusyError(record.copyId);
  return { record: existing, recovering: true };
}

interface Ending {
  status: 'filled' | 'skipped' | 'failed';
  reason?: string;
  volume?: bigint;
  volumeBefore?: bigint;
  fill?: Fill & { timeMsc: number };
  recovered?: boolean;
  slippage?: { points: bigint; money?: bigint };
}

function endedRecord(record: CopyTradeItem, e: Ending): CopyTradeItem {
  const next: CopyTradeItem = { ...record, status: e.status };
  delete next.leaseUntil;
  if (e.reason) next.reason = e.reason;
  if (e.volume !== undefined) next.volume = e.volume.toString();
  if (e.volumeBefore !== undefined) next.volumeBefore = e.volumeBefore.toString();
  if (e.recovered) next.recovered = true;
  if (e.fill) {
    next.fill = {
      order: e.fill.order,
      deal: e.fill.deal,
      positionId: e.fill.positionId,
      price: e.fill.price.toString(),
      volume: e.fill.volume.toString(),
      timeMsc: e.fill.timeMsc,
    };
    next.latencyMs = latencyMs(record.signalAtMsc, e.fill.timeMsc);
  }
  if (e.slippage) {
    next.slippagePoints = e.slippage.points.toString();
    if (e.slippage.money !== undefined) next.slippageMoney = formatAmount(e.slippage.money, record.currency);
  }
  return next;
}

function executedEvent(c: CopyTradeItem & { status: Ending['status'] }): OutboxEvent {
  return {
    detailType: 'copy.trade.executed',
    detail: {
      copyId: c.copyId,
      subscriptionId: c.subscriptionId,
      strategyId: c.strategyId,
      followerClientId: c.followerClientId,
      followerAccountId: c.followerAccountId,
      kind: c.kind,
      status: c.status,
      ...(c.reason ? { reason: c.reason } : {}),
      ...(c.providerDealKey ? { providerDealKey: c.providerDealKey } : {}),
      symbol: c.symbol,
      side: c.side,
      ...(c.fill ? { volume: c.fill.volume, price: formatPoints(BigInt(c.fill.price), c.digits) } : {}),
      ...(c.latencyMs !== undefined ? { latencyMs: c.latencyMs } : {}),
      ...(c.slippagePoints !== undefined ? { slippagePoints: c.slippagePoints } : {}),
      currency: c.currency,
    },
  };
}

const copySnapshot = (c: CopyTradeItem) => ({
  copyId: c.copyId,
  kind: c.kind,
  status: c.status,
  symbol: c.symbol,
  side: c.side,
  ...(c.reason ? { reason: c.reason } : {}),
  ...(c.volume ? { volume: c.volume } : {}),
  ...(c.fill ? { fill: c.fill } : {}),
  ...(c.providerDealKey ? { providerDealKey: c.providerDealKey } : {}),
});

/** Ends the copy with its other writes, its audit entry and its event. */
async function finish(
  record: CopyTradeItem,
  ending: Ending,
  extra: { writes?: CommitWrite[]; audit?: AuditInput[]; outbox?: OutboxEvent[] },
  ctx: CommandContext,
): Promise<ReplicateResult> {
  const at = new Date().toISOString();
  const next = endedRecord(record, ending);
  const after = copyTradeEntity.replaced(record, next, at);
  await commit({
    writes: [copyTradeEntity.replace(record, next, at), ...(extra.writes ?? [])],
    audit: [
      {
        actor: ACTOR,
        action: `copy.trade.${after.status}`,
        entity: { type: SUBSCRIPTION_ENTITY, id: record.subscriptionId },
        clientId: record.followerClientId,
        before: null,
        after: copySnapshot(after),
        requestId: ctx.requestId,
      },
      ...(extra.audit ?? []),
    ],
    outbox: [executedEvent({ ...after, status: ending.status }), ...(extra.outbox ?? [])],
  });
  return { copyId: after.copyId, status: after.status, ...(after.reason ? { reason: after.reason } : {}), replayed: false };
}

const platformFailure = (err: unknown): string | undefined =>
  isTradingError(err) && !err.retryable ? `platform_${err.code}` : undefined;

/** Our clock for the fill (latency is measured on one clock); the platform's own time is not comparable to it. */
const withTime = (fill: Fill): Fill & { timeMsc: number } => ({ ...fill, timeMsc: Date.now() });

// ------------------------------------------------------------------------------------------------ a provider deal

async function copyDeal(signal: DealSignal, f: Follower, ctx: CommandContext): Promise<ReplicateResult> {
  const at = new Date().toISOString();
  const owned = await own(newRecord(signal, f, at, Date.now()));
  if (owned.ended) return ended(owned.record);
  try {
    return signal.kind === 'open'
      ? await copyOpen(signal, f, owned.record, owned.recovering === true, ctx)
      : await copyClose(signal, f, owned.record, owned.recovering === true, ctx);
  } catch (err) {
    if (err instanceof NothingSent) {
      await releaseCopyTrade(owned.record.copyId);
      throw err.cause;
    }
    throw err;
  }
}

/** Wraps a failure that happened before anything was sent to the platform: the lease is released at once. */
class NothingSent extends Error {}
const beforeSending = async <T>(work: () => Promise<T>): Promise<T> => {
  try {
    return await work();
  } catch (err) {
    throw new NothingSent('failed before sending', { cause: err });
  }
};

function modeOf(s: SubscriptionItem): CopyMode {
  const a = s.allocation;
  switch (a.mode) {
    case 'balance_ratio':
    case 'equity_ratio':
      return { kind: a.mode, ratioBps: a.ratioBps ?? 10_000 };
    case 'fixed_volume':
      return { kind: 'fixed_lot', volume: BigInt(a.volume ?? '0') };
    case 'volume_multiplier':
      return { kind: 'lot_multiplier', multiplierBps: a.ratioBps ?? 10_000 };
    default:
      return { kind: a.mode };
  }
}

const needsEquity = (p: ProtectionSettings) => p.equityStop !== undefined || p.maxDrawdownBps !== undefined;

function protectionsOf(s: SubscriptionItem): ProtectionSettings {
  const p = s.protections;
  let equityStop: EquityStop | undefined;
  if (p.equityStop?.kind === 'amount') equityStop = { kind: 'amount', level: toMinor(p.equityStop.value, s.currency) };
  if (p.equityStop?.kind === 'percent') equityStop = { kind: 'percent', bps: Math.round(Number(p.equityStop.value) * 100) };
  return {
    copyStops: p.copyStops,
    ...(equityStop ? { equityStop } : {}),
    ...(p.maxDrawdownBps !== undefined ? { maxDrawdownBps: p.maxDrawdownBps } : {}),
    ...(p.maxOpenPositions !== undefined ? { maxOpenPositions: p.maxOpenPositions } : {}),
    ...(p.maxOpenVolume !== undefined ? { maxOpenVolume: BigInt(p.maxOpenVolume) } : {}),
    ...(p.maxSlippagePoints !== undefined ? { maxSlippagePoints: BigInt(p.maxSlippagePoints) } : {}),
  };
}

/** The copy state's write when the peak moved (single writer per follower: the FIFO group). */
function peakWrite(state: CopyStateItem | undefined, peak: bigint, at: string): CommitWrite[] {
  if (!state || BigInt(state.peakEquity) >= peak) return [];
  return [copyStateEntity.patch(state, { ...state, peakEquity: peak.toString() }, at)];
}

async function copyOpen(
  signal: DealSignal,
  f: Follower,
  record: CopyTradeItem,
  recovering: boolean,
  ctx: CommandContext,
): Promise<ReplicateResult> {
  const { adapter, login, subscription: s } = f;
  if (recovering) {
    const found = await adapter.findTrade(login, record.copyId, Date.parse(record.createdAt) - 60_000);
    if (found) return finishOpen(signal, f, record, withTime(found), { recovered: true }, [], ctx);
  }
  const decided = await beforeSending(async () => {
    const skip = (reason: string) => ({ skip: reason }) as const;
    if (s.status !== 'active') return skip(s.status === 'paused' ? 'subscription_paused' : 'subscription_stopped');
    if ((await strategyStatus(s.strategyId)) !== 'approved') return skip('strategy_not_followable');
    const link = await getPositionLink(s.subscriptionId, signal.providerPositionId);
    if (link?.closedFirst) return skip('provider_closed_first');
    if (Date.now() - signal.signalAtMsc > tenantConfig().copy.maxSignalAgeSeconds * 1000) return skip('signal_expired');
    const settings = protectionsOf(s);
    const mode = modeOf(s);
    // Only what this follower's mode and protections use is read: the quote (slippage limit), the account's funds
    // (proportional modes, equity stop, drawdown), its positions (position and volume limits), its copy state.
    const needsFunds = !(mode.kind === 'fixed_lot' || mode.kind === 'lot_multiplier') || needsEquity(settings);
    const needsPositions = settings.maxOpenPositions !== undefined || settings.maxOpenVolume !== undefined;
    const [instrument, state, copyState, positions] = await Promise.all([
      instrumentOf(adapter, signal.symbol, settings.maxSlippagePoints !== undefined),
      needsFunds ? adapter.accountState(login) : Promise.resolve(undefined),
      needsEquity(settings) ? getCopyState(s.subscriptionId) : Promise.resolve(undefined),
      needsPositions ? adapter.positions(login) : Promise.resolve([]),
    ]);
    const funds = { balance: state?.balance ?? 0n, equity: state?.equity ?? 0n };
    const allocation = allocate({
      mode,
      providerVolume: BigInt(signal.volume),
      provider: {
        balance: BigInt(signal.provider?.balance ?? '0'),
        equity: BigInt(signal.provider?.equity ?? '0'),
      },
      follower: funds,
      symbol: instrument,
      ...(s.allocation.maxVolume ? { maxVolume: BigInt(s.allocation.maxVolume) } : {}),
      belowMinimum: tenantConfig().copy.belowMinimum,
    });
    const peak = nextPeak(BigInt(copyState?.peakEquity ?? '0'), funds.equity);
    if (allocation.skipped) return { ...skip(allocation.skipped), copyState, peak };
    const side = signal.side;
    const decision = beforeCopy(settings, {
      equity: funds.equity,
      invested: BigInt(copyState?.invested ?? funds.equity.toString()),
      peak: BigInt(copyState?.peakEquity ?? funds.equity.toString()),
      side,
      providerPrice: BigInt(signal.price),
      followerPrice: side === 'buy' ? instrument.ask : instrument.bid,
      openPositions: positions.length,
      openVolume: positions.reduce((sum, p) => sum + p.volume, 0n),
      volume: allocation.volume,
    });
    if (decision.action === 'stop')
      return { stop: decision.reason as 'equity_stop_loss' | 'max_drawdown', copyState, peak } as const;
    if (decision.action === 'skip') return { ...skip(decision.reason), copyState, peak };
    const reason = allocation.reduced ?? (allocation.raisedToMinimum ? 'raised_to_minimum' : undefined);
    return { volume: allocation.volume, reason, copyState, peak } as const;
  });

  const at = new Date().toISOString();
  if ('stop' in decided && decided.stop) return stopByProtection(record, f, decided.stop, ctx);
  const state = 'copyState' in decided ? decided.copyState : undefined;
  const peakWrites = 'peak' in decided ? peakWrite(state, decided.peak, at) : [];
  if ('skip' in decided) return finish(record, { status: 'skipped', reason: decided.skip }, { writes: peakWrites }, ctx);

  let fill: Fill;
  try {
    fill = await adapter.marketOrder({
      login,
      symbol: signal.symbol,
      side: signal.side,
      volume: decided.volume,
      comment: record.copyId,
    });
  } catch (err) {
    const failure = platformFailure(err);
    if (failure)
      return finish(record, { status: 'failed', reason: failure, volume: decided.volume }, { writes: peakWrites }, ctx);
    throw err;
  }
  faults.afterFill?.(record.copyId);
  return finishOpen(signal, f, record, withTime(fill), decided.reason ? { reason: decided.reason } : {}, peakWrites, ctx);
}

async function finishOpen(
  signal: DealSignal,
  f: Follower,
  record: CopyTradeItem,
  fill: Fill & { timeMsc: number },
  opts: { reason?: string; recovered?: boolean },
  writes: CommitWrite[],
  ctx: CommandContext,
): Promise<ReplicateResult> {
  const at = new Date().toISOString();
  const points = slippagePoints(signal.side, BigInt(signal.price), fill.price);
  const money = slippageMoney({
    points,
    followerVolume: fill.volume,
    providerNotional: signal.notional ? BigInt(signal.notional) : undefined,
    providerVolume: BigInt(signal.volume),
    providerPrice: BigInt(signal.price),
  });
  const notional = signal.notional ? (BigInt(signal.notional) * fill.volume) / BigInt(signal.volume) : 0n;
  const exposure = followerExposure({
    symbol: signal.symbol,
    side: signal.side,
    currency: f.subscription.currency,
    volume: fill.volume,
    notional,
  });
  const link = positionLinkEntity.item(
    {
      subscriptionId: f.subscription.subscriptionId,
      providerPositionId: signal.providerPositionId,
      followerPositionId: fill.positionId,
      symbol: signal.symbol,
      digits: signal.digits,
      side: signal.side,
      followerInitialVolume: fill.volume.toString(),
      followerOpenVolume: fill.volume.toString(),
      followerOpenNotional: notional.toString(),
      providerInitialVolume: signal.volume,
      providerOpenVolume: signal.volume,
      open: true,
      openedBy: record.copyId,
    },
    at,
  );
  return finish(
    record,
    {
      status: 'filled',
      volume: fill.volume,
      fill,
      slippage: { points, ...(money !== undefined ? { money } : {}) },
      ...opts,
    },
    { writes: [...writes, newLinkWrite(link), exposure] },
    ctx,
  );
}

/** An equity stop or drawdown: the subscription stops, and its positions are closed by the stop message. */
async function stopByProtection(
  record: CopyTradeItem,
  f: Follower,
  reason: 'equity_stop_loss' | 'max_drawdown',
  ctx: CommandContext,
): Promise<ReplicateResult> {
  const s = f.subscription;
  const at = new Date().toISOString();
  const next: SubscriptionItem = { ...s, status: 'stopped', stopReason: reason, stoppedAt: at };
  const after = subscriptionEntity.replaced(s, next, at);
  return finish(
    record,
    { status: 'skipped', reason },
    {
      writes: [subscriptionEntity.replace(s, next, at), releaseCopyAccount(s.followerAccountId)],
      audit: [
        {
          actor: ACTOR,
          action: 'copy.subscription.stop',
          entity: { type: SUBSCRIPTION_ENTITY, id: s.subscriptionId },
          clientId: s.followerClientId,
          before: subscriptionSnapshot(s),
          after: subscriptionSnapshot(after),
          requestId: ctx.requestId,
        },
      ],
      outbox: [
        {
          detailType: 'copy.subscription.changed',
          detail: { ...subscriptionEventDetail(after, reason), closePositions: true },
        },
      ],
    },
    ctx,
  );
}

// ------------------------------------------------------------------------------------------------ closes

async function copyClose(
  signal: DealSignal,
  f: Follower,
  record: CopyTradeItem,
  recovering: boolean,
  ctx: CommandContext,
): Promise<ReplicateResult> {
  const { adapter, login } = f;
  const subscriptionId = f.subscription.subscriptionId;
  const link = await beforeSending(() => getPositionLink(subscriptionId, signal.providerPositionId));
  const at = new Date().toISOString();
  if (!link) {
    const tombstone = positionLinkEntity.item(
      { subscriptionId, providerPositionId: signal.providerPositionId, closedFirst: true, open: false },
      at,
    );
    return finish(record, { status: 'skipped', reason: 'not_copied' }, { writes: [newLinkWrite(tombstone)] }, ctx);
  }
  if (!link.open || link.followerPositionId === undefined) {
    return finish(record, { status: 'skipped', reason: link.closedFirst ? 'not_copied' : 'nothing_open' }, {}, ctx);
  }
  const providerOpen = BigInt(link.providerOpenVolume ?? '0');
  const providerAfter = providerOpen > BigInt(signal.volume) ? providerOpen - BigInt(signal.volume) : 0n;
  const position = await beforeSending(async () =>
    (await adapter.positions(login)).find((p) => p.positionId === link.followerPositionId),
  );
  /** The link after this close, and the exposure it takes off (the share of the open notional closed). */
  const linkAfter = (followerOpen: bigint): CommitWrite[] => {
    const { notional, writes } = closedShare(link, followerOpen, f.subscription.currency);
    return [
      positionLinkEntity.patch(
        link,
        {
          ...link,
          providerOpenVolume: providerAfter.toString(),
          followerOpenVolume: followerOpen.toString(),
          followerOpenNotional: notional.toString(),
          open: followerOpen > 0n && providerAfter > 0n,
        },
        at,
      ),
      ...writes,
    ];
  };
  const recordedOpen = BigInt(link.followerOpenVolume ?? '0');
  if (recovering && record.volumeBefore !== undefined && (!position || position.volume < BigInt(record.volumeBefore))) {
    // The crashed attempt's close was executed: record it (its price when the platform kept our comment).
    const found = await adapter.findTrade(login, record.copyId, Date.parse(record.createdAt) - 60_000);
    const remaining = position?.volume ?? 0n;
    return finish(
      record,
      {
        status: 'filled',
        volume: BigInt(record.volume ?? '0'),
        recovered: true,
        ...(found ? { fill: withTime(found) } : {}),
      },
      { writes: linkAfter(remaining) },
      ctx,
    );
  }
  if (!position) {
    return finish(record, { status: 'skipped', reason: 'position_already_closed' }, { writes: linkAfter(0n) }, ctx);
  }
  const open = position.volume < recordedOpen ? position.volume : recordedOpen;
  const instrument = await beforeSending(() => instrumentOf(adapter, signal.symbol, false));
  const close = allocateClose({
    follower: { initialVolume: BigInt(link.followerInitialVolume ?? '0'), openVolume: open },
    providerInitialVolume: BigInt(link.providerInitialVolume ?? '0'),
    providerVolumeAfter: providerAfter,
    symbol: instrument,
  });
  if (close.volume === 0n) {
    return finish(record, { status: 'skipped', reason: close.skipped ?? 'nothing_to_close' }, { writes: linkAfter(open) }, ctx);
  }
  await beforeSending(() => claimWithVolume(record, open, close.volume));
  let fill: Fill;
  try {
    fill = await adapter.closePosition(
      login,
      position.positionId,
      close.volume === position.volume ? undefined : close.volume,
      record.copyId,
    );
  } catch (err) {
    const failure = platformFailure(err);
    if (failure) return finish(record, { status: 'failed', reason: failure, volume: close.volume }, {}, ctx);
    throw err;
  }
  faults.afterFill?.(record.copyId);
  const timed = withTime(fill);
  const side = closingSide(link.side ?? 'buy');
  const points = slippagePoints(side, BigInt(signal.price), timed.price);
  return finish(
    record,
    {
      status: 'filled',
      volume: close.volume,
      volumeBefore: position.volume,
      fill: timed,
      slippage: { points },
      ...(close.raised ? { reason: close.raised } : {}),
    },
    { writes: linkAfter(position.volume - close.volume) },
    ctx,
  );
}

/** The open notional left on a link whose follower position goes to `followerOpen`, and the exposure change. */
function closedShare(
  link: PositionLinkItem,
  followerOpen: bigint,
  currency: string,
): { notional: bigint; writes: CommitWrite[] } {
  const before = BigInt(link.followerOpenVolume ?? '0');
  const notionalBefore = BigInt(link.followerOpenNotional ?? '0');
  const closed = before > followerOpen ? before - followerOpen : 0n;
  if (closed === 0n || !link.symbol || !link.side) return { notional: notionalBefore, writes: [] };
  const share = before > 0n ? (notionalBefore * closed) / before : 0n;
  return {
    notional: notionalBefore - share,
    writes: [followerExposure({ symbol: link.symbol, side: link.side, currency, volume: -closed, notional: -share })],
  };
}

/** Records on the executing copy what a close is about to do, so a crash after it can be recognised. */
async function claimWithVolume(record: CopyTradeItem, before: bigint, volume: bigint): Promise<void> {
  record.volumeBefore = before.toString();
  record.volume = volume.toString();
  await markCopyIntent(record.copyId, { volumeBefore: record.volumeBefore, volume: record.volume });
}

// ------------------------------------------------------------------------------------------------ a stop

async function closeAll(signal: StopSignal, f: Follower, ctx: CommandContext): Promise<ReplicateResult[]> {
  const links = await openLinks(f.subscription.subscriptionId);
  if (links.length === 0) return [];
  const positions = await f.adapter.positions(f.login);
  const results: ReplicateResult[] = [];
  for (const link of links) results.push(await closeOne(signal, f, link, positions, ctx));
  return results;
}

async function closeOne(
  signal: StopSignal,
  f: Follower,
  link: PositionLinkItem,
  positions: { positionId: number; volume: bigint }[],
  ctx: CommandContext,
): Promise<ReplicateResult> {
  const s = f.subscription;
  const at = new Date().toISOString();
  const followerPositionId = link.followerPositionId ?? 0;
  const record = copyTradeEntity.item(
    {
      copyId: stopCloseIdFor(s.subscriptionId, followerPositionId),
      subscriptionId: s.subscriptionId,
      strategyId: s.strategyId,
      followerClientId: s.followerClientId,
      followerAccountId: s.followerAccountId,
      followerLogin: f.login,
      kind: 'stop_close',
      providerPositionId: link.providerPositionId,
      symbol: link.symbol ?? '',
      side: closingSide(link.side ?? 'buy'),
      digits: link.digits ?? 0,
      signalAtMsc: signal.signalAtMsc,
      status: 'executing',
      currency: s.currency,
      leaseUntil: Date.now() + copyLeaseMs(),
      attempts: 1,
      reason: signal.reason,
    },
    at,
  );
  const owned = await own(record);
  if (owned.ended) return ended(owned.record);
  const closed = [
    positionLinkEntity.patch(link, { ...link, open: false, followerOpenVolume: '0', followerOpenNotional: '0' }, at),
    ...closedShare(link, 0n, s.currency).writes,
  ];
  const position = positions.find((p) => p.positionId === followerPositionId);
  if (!position && owned.recovering) {
    // The crashed attempt may have closed it: its fill, when the platform kept our comment on the close.
    const found = await f.adapter.findTrade(f.login, owned.record.copyId, Date.parse(owned.record.createdAt) - 60_000);
    if (found) {
      return finish(
        owned.record,
        { status: 'filled', reason: signal.reason, volume: found.volume, fill: withTime(found), recovered: true },
        { writes: closed },
        ctx,
      );
    }
  }
  if (!position) {
    return finish(owned.record, { status: 'skipped', reason: 'position_already_closed' }, { writes: closed }, ctx);
  }
  try {
    const fill = await f.adapter.closePosition(f.login, followerPositionId, undefined, owned.record.copyId);
    faults.afterFill?.(owned.record.copyId);
    return finish(
      owned.record,
      { status: 'filled', reason: signal.reason, volume: fill.volume, fill: withTime(fill) },
      { writes: closed },
      ctx,
    );
  } catch (err) {
    if (isTradingError(err) && err.code === 'position_not_found') {
      return finish(owned.record, { status: 'skipped', reason: 'position_already_closed' }, { writes: closed }, ctx);
    }
    const failure = platformFailure(err);
    if (failure) return finish(owned.record, { status: 'failed', reason: failure }, {}, ctx);
    throw err;
  }
}
