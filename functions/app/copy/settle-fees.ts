/**
 * Copy-fee settlement (issue 15; ADR 0017 "Settlement"): what a follower owes its strategy's provider and the broker
 * at a charge point, taken for real: a platform balance operation on the follower's copy account and ONE ledger
 * journal, as a saga modelled on the wallet transfers (functions/app/trading/transfers.ts). Rules: domain/copy/fees.ts
 * and domain/copy/settlement.ts; items: functions/store/copy-fees.ts.
 *
 * Charge points: 'anniversary' (each monthly anniversary of the follower's own subscription, by the daily job),
 * 'withdrawal' (before money leaves the copy account: the transfer's hook), 'stop' (the final charge, by the consumer
 * of copy.subscription.changed and, until it succeeds, by the daily job), 'daily' (a subscription fee whose period
 * started unpaid).
 *
 * The money: the platform debits the copy account (type 'charge', negative, external id = the charge id); then ONE
 * journal posts tacc_<copy account> -total, the provider's wallet in the account currency +provider share and the
 * broker's fee income (house fee_income) +broker share (the tenant's brokerShareBps; zero shares are left out). The
 * money leaves the platform first, so the ledger never credits what was not taken.
 *
 * Invariants:
 * - exactly once per (subscription, charge point, period): the charge id is derived from them (and the refusals so
 *   far); the charge is put-if-absent `pending` with its lease and the fee state's lock (busyWith) in one
 *   transaction before the platform is asked; the platform operation carries the charge id as its external id (the
 *   adapter applies an id once); the journal carries the ledger's idempotency item (scope copy-fee-charge, key =
 *   charge id); the end of the charge, the fee state after it, the fee pair (a stop), the audit entry and
 *   copy.fee.charged are the journal's transaction
 * - the amounts are computed once, before the platform is asked, from the equity read then and the fee state
 *   (locked: no flow and no other charge moves it meanwhile), and kept on the charge with their inputs (equity
 *   before and after, mark before and after, management accrued, volume notional, period, rates, caps, split)
 * - a timeout is never guessed at: the charge stays `pending` (uncertainSince) and the fee state locked; the next
 *   run for the subscription (the daily job, a withdrawal, a stop) claims the expired lease and asks the platform
 *   (findBalanceOperation by the charge id): found, it completes; not found, it is sent again under the same id. A
 *   crash between the platform's answer and the commit is recovered the same way
 * - a platform refusal (no_money: the copy account's free margin is short) fails the charge with the code and frees
 *   the fee state, changing nothing else: the fees stay owed and the next charge point (a new charge id) takes them
 * - nothing due (total 0): no platform operation and no journal; the fee state still moves (the calendar, the
 *   management residue, the volume counted) and a stop still closes it, audited
 * - a charge point of a subscription whose fee state is locked by a wallet transfer waits ('busy')
 */

import { feePolicyOf } from '#domain/copy/config.ts';
import {
  accrueManagement,
  type ChargeBreakdown,
  type ChargePoint,
  chargeIdFor,
  computeCharge,
  type FeeBook,
  type FeeRates,
  openFeeBook,
  periodKeyOf,
  ratesWithinCaps,
} from '#domain/copy/settlement.ts';
import { DomainError, isDomainError } from '#domain/errors.ts';
import type { JournalDraft } from '#domain/ledger/index.ts';
import { formatAmount, toMinor } from '#domain/money/index.ts';
import { assertWithdrawable } from '#domain/trading/accounts.ts';
import { isTradingError } from '#domain/trading/errors.ts';
import type { BalanceResult } from '#domain/trading/port.ts';
import { logger } from '#shared/powertools.ts';
import { tenantConfig } from '#shared/tenant.ts';
import { type AuditInput, commit, systemActor } from '#store/audit.ts';
import {
  copyAccountClaimEntity,
  getStrategy,
  getSubscription,
  listFollowerSubscriptions,
  type StrategyItem,
  SUBSCRIPTION_ENTITY,
  type SubscriptionItem,
  subscriptionNotFound,
} from '#store/copy.ts';
import {
  type ChargeItem,
  chargeEntity,
  claimCharge,
  copiedPositions,
  type FeePairItem,
  type FeeStateItem,
  feePairEntity,
  feeStateEntity,
  getCharge,
  getFeePair,
  getFeeState,
  openFeeStates,
  releaseCharge,
} from '#store/copy-fees.ts';
import { getCopyState } from '#store/copy-trades.ts';
import type { CommitWrite } from '#store/items.ts';
import { subscriptionKeys } from '#store/keys.ts';
import { ensureWallet, houseAccount } from '#store/ledger/index.ts';
import { executeJournal } from '#store/ledger/journals.ts';
import type { OutboxEvent } from '#store/outbox.ts';
import { accountDeals, getTradingAccount, type TradingAccountItem } from '#store/trading.ts';
import type { CommandContext } from '../context.ts';
import { platformOf } from '../trading/shared.ts';

export type { ChargeItem } from '#store/copy-fees.ts';

export const FEE_SETTLEMENT_JOB = 'copy-fee-settlement';
/** How long one process may talk to the platform about a charge: longer than an adapter's request timeout (10 s). */
export const CHARGE_LEASE_MS = 30_000;
const JOURNAL_SCOPE = 'copy-fee-charge';
const ACTOR = systemActor('copy-fees');
const MAX_ROUNDS = 6;

/** Test hooks: a crash between the platform's answer and the commit (fault injection). */
export const faults = { afterPlatform: undefined as undefined | ((chargeId: string) => void) };

export const chargeJournalId = (chargeId: string) => `cfj_${chargeId}`;
const isChargeId = (id: string) => id.startsWith('cf_');

export type SettleOutcome =
  /** The fees were taken (replayed: by an earlier run of the same charge point). */
  | { outcome: 'charged'; charge: ChargeItem; replayed: boolean }
  /** The platform refused the charge (its code in charge.reason); the fees stay owed. */
  | { outcome: 'failed'; charge: ChargeItem; replayed: boolean }
  /** The platform did not answer: the charge is pending and asked about again by the next run. */
  | { outcome: 'pending'; charge: ChargeItem }
  /** Nothing to take now (the fee state may still have moved: the calendar, a stop closing it). */
  | { outcome: 'nothing_due'; breakdown?: ChargeBreakdown }
  /** 'anniversary' before the next anniversary. */
  | { outcome: 'not_due' }
  /** Another charge or a wallet transfer holds the fee state (or the charge's lease) now. */
  | { outcome: 'busy'; busyWith: string }
  /** The final charge was made: nothing more is charged on this subscription. */
  | { outcome: 'closed' };

export interface SettleInput {
  subscriptionId: string;
  point: ChargePoint;
  /** 'withdrawal': the amount about to leave (minor units) and the transfer it belongs to. */
  withdrawal?: { amount: bigint; transferId: string } | undefined;
}

// ------------------------------------------------------------------------------------------------ conversions

const iso = (ms: number) => new Date(ms).toISOString();

function bookOf(f: FeeStateItem): FeeBook {
  return {
    mark: BigInt(f.mark),
    managementAccrued: BigInt(f.managementAccrued),
    lastAccrualDay: f.lastAccrualDay,
    anchorMs: Date.parse(f.anchorAt),
    periodStartMs: Date.parse(f.periodStartAt),
    nextAnniversaryMs: Date.parse(f.nextAnniversaryAt),
    ...(f.paidUntil ? { paidUntilMs: Date.parse(f.paidUntil) } : {}),
    volumeNotionalCharged: BigInt(f.volumeNotionalCharged),
  };
}

/** The fee state with `book` written into it (everything else kept). */
function withBook(f: FeeStateItem, book: FeeBook): FeeStateItem {
  const next: FeeStateItem = {
    ...f,
    mark: book.mark.toString(),
    managementAccrued: book.managementAccrued.toString(),
    lastAccrualDay: book.lastAccrualDay,
    periodStartAt: iso(book.periodStartMs),
    nextAnniversaryAt: iso(book.nextAnniversaryMs),
    volumeNotionalCharged: book.volumeNotionalCharged.toString(),
  };
  if (book.paidUntilMs !== undefined) next.paidUntil = iso(book.paidUntilMs);
  else delete next.paidUntil;
  return next;
}

function ratesOf(s: StrategyItem): FeeRates {
  return {
    performanceBps: s.fees.performanceBps,
    managementBpsPerYear: s.fees.managementBpsPerYear,
    volumePerMillion: toMinor(s.fees.volumePerMillion.amount, s.currency),
    subscriptionPerMonth: toMinor(s.fees.subscriptionPerMonth.amount, s.currency),
  };
}

const policy = () => feePolicyOf(tenantConfig().copy);

/** The strategy's rates within the tenant's caps now. */
const capped = (s: StrategyItem) => ratesWithinCaps(ratesOf(s), s.currency, policy());

// ------------------------------------------------------------------------------------------------ fee state

/** A new subscription's fee state: the mark starts at its equity plus what an earlier copy of the pair left. */
export function newFeeState(s: SubscriptionItem, startEquity: bigint, carry: bigint, at: string): FeeStateItem {
  const book = openFeeBook(startEquity, Date.parse(s.createdAt), carry);
  return withBook(
    feeStateEntity.item(
      {
        subscriptionId: s.subscriptionId,
        strategyId: s.strategyId,
        followerClientId: s.followerClientId,
        followerAccountId: s.followerAccountId,
        currency: s.currency,
        mark: '0',
        managementAccrued: '0',
        lastAccrualDay: book.lastAccrualDay,
        anchorAt: s.createdAt,
        periodStartAt: s.createdAt,
        nextAnniversaryAt: iso(book.nextAnniversaryMs),
        volumeNotionalCharged: '0',
        ...(carry > 0n ? { carriedIn: carry.toString() } : {}),
        failures: 0,
      },
      at,
    ),
    book,
  );
}

/**
 * What a follow writes for its fees (functions/app/copy/subscriptions.ts, in the follow's transaction): the fee
 * state, whose mark starts at the start equity plus the pair's carry, and the pair handing its carry over. A lost
 * race on the pair is concurrent_modification (the follow reads it again).
 */
export async function feeWritesForFollow(s: SubscriptionItem, startEquity: bigint, at: string): Promise<CommitWrite[]> {
  const pair = await getFeePair(s.strategyId, s.followerClientId);
  const carry = pair ? BigInt(pair.carry) : 0n;
  const writes: CommitWrite[] = [feeStateEntity.putNew(newFeeState(s, startEquity, carry, at))];
  if (pair && carry > 0n) {
    writes.push(feePairEntity.patch(pair, { ...pair, carry: '0', takenBy: s.subscriptionId }, at, { onRace: raced() }));
  }
  return writes;
}

/** The subscription's fee state; one older than fee settlement gets one from its copy state (mark = start equity). */
async function feeStateOf(s: SubscriptionItem, ctx: CommandContext): Promise<FeeStateItem> {
  const found = await getFeeState(s.subscriptionId);
  if (found) return found;
  const copyState = await getCopyState(s.subscriptionId);
  const at = new Date().toISOString();
  const created = newFeeState(s, BigInt(copyState?.startEquity ?? '0'), 0n, at);
  try {
    await commit({
      writes: [feeStateEntity.putNew(created, new DomainError('conflict', 'conflict', 'The fee state exists'))],
      audit: audit('copy.fees.opened', s, { mark: created.mark, anchorAt: created.anchorAt }, ctx),
    });
    return created;
  } catch (err) {
    if (!(isDomainError(err) && err.code === 'conflict')) throw err;
    const winner = await getFeeState(s.subscriptionId);
    if (!winner) throw err;
    return winner;
  }
}

function audit(
  action: string,
  s: Pick<SubscriptionItem, 'subscriptionId' | 'followerClientId'>,
  after: object,
  ctx: CommandContext,
): AuditInput {
  return {
    actor: ACTOR,
    action,
    entity: { type: SUBSCRIPTION_ENTITY, id: s.subscriptionId },
    clientId: s.followerClientId,
    before: null,
    after,
    requestId: ctx.requestId,
  };
}

const raced = () => new DomainError('concurrent_modification', 'conflict', 'The copy fees changed concurrently; retry');
const isRace = (err: unknown) => isDomainError(err) && (err.code === 'concurrent_modification' || err.code === 'conflict');

// ------------------------------------------------------------------------------------------------ volume

/** The notional (minor units) of every deal of the positions the subscription copied, as the deal stream stored them. */
async function volumeNotionalOf(s: SubscriptionItem): Promise<bigint> {
  const positions = await copiedPositions(s.subscriptionId);
  if (positions.size === 0) return 0n;
  let total = 0n;
  for await (const page of accountDeals(s.followerAccountId)) {
    for (const d of page) {
      if ((d.action === 'buy' || d.action === 'sell') && positions.has(d.positionId) && d.notional) total += BigInt(d.notional);
    }
  }
  return total;
}

// ------------------------------------------------------------------------------------------------ settle

interface Context {
  subscription: SubscriptionItem;
  strategy: StrategyItem;
  account: TradingAccountItem & { login: number; ledgerAccountId: string };
}

async function contextOf(s: SubscriptionItem): Promise<Context> {
  const [strategy, account] = await Promise.all([
    getStrategy(s.strategyId, { consistent: true }),
    getTradingAccount(s.followerAccountId),
  ]);
  if (!strategy) throw new Error(`copy fees: strategy ${s.strategyId} of ${s.subscriptionId} is gone`);
  if (!account?.login || !account.ledgerAccountId) {
    throw new DomainError('trading_account_not_active', 'conflict', 'The copy account has no platform login or ledger account');
  }
  return { subscription: s, strategy, account: account as Context['account'] };
}

/** Runs one charge point of one subscription (module comment). */
export async function settleFees(input: SettleInput, ctx: CommandContext): Promise<SettleOutcome> {
  const nowMs = (ctx.now ?? new Date()).getTime();
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const s = await getSubscription(input.subscriptionId, { consistent: true });
    if (!s) throw subscriptionNotFound();
    const fee = await feeStateOf(s, ctx);
    if (fee.closedAt) return { outcome: 'closed' };
    if (fee.busyWith) {
      if (!isChargeId(fee.busyWith)) return { outcome: 'busy', busyWith: fee.busyWith };
      const before = await getCharge(fee.busyWith);
      if (before?.status !== 'pending')
        throw new Error(`copy fees: ${s.subscriptionId} is locked by ${fee.busyWith}, not pending`);
      const after = await resumeCharge(before, ctx);
      if (after.status === 'pending') {
        return after.leaseUntil && after.leaseUntil > Date.now()
          ? { outcome: 'busy', busyWith: after.chargeId }
          : { outcome: 'pending', charge: after };
      }
      if (isSameChargePoint(after, input, fee, nowMs)) return outcomeOf(after);
      continue; // an earlier charge ended: this charge point is computed on the state it left
    }
    if (input.point === 'stop' && s.status !== 'stopped') {
      throw new DomainError('subscription_not_stopped', 'conflict', 'The final charge is made when copying has stopped');
    }
    if (input.point !== 'stop' && s.status === 'stopped') return { outcome: 'not_due' };
    if (input.point === 'withdrawal' && !input.withdrawal)
      throw new Error('settleFees: a withdrawal charge needs its withdrawal');
    const book = bookOf(fee);
    if (input.point === 'anniversary' && nowMs < book.nextAnniversaryMs) return { outcome: 'not_due' };

    const c = await contextOf(s);
    const { rates, capped: cut } = capped(c.strategy);
    const adapter = await platformOf(c.account);
    const state = await adapter.accountState(c.account.login);
    const volumeTotal = input.point === 'daily' ? book.volumeNotionalCharged : await volumeNotionalOf(s);
    const b = computeCharge(book, rates, policy().brokerShareBps, s.currency, {
      point: input.point,
      nowMs,
      equity: state.equity,
      volumeNotionalTotal: volumeTotal,
      ...(input.withdrawal ? { withdrawal: input.withdrawal.amount } : {}),
    });
    if (input.withdrawal) {
      // the withdrawal must still fit the free margin and the balance once the fees are taken (422 no_money)
      assertWithdrawable(
        { ...state, freeMargin: state.freeMargin - b.total, balance: state.balance - b.total },
        input.withdrawal.amount,
      );
    }
    const periodKey = periodKeyOf(input.point, book, nowMs, input.withdrawal?.transferId);
    const chargeId = chargeIdFor(s.subscriptionId, input.point, periodKey, fee.failures);
    const at = new Date().toISOString();
    try {
      if (b.total === 0n) return await nothingDue(c, fee, b, at, ctx);
      // this charge point of this period was charged (or refused) before: its answer, not a second charge
      const existing = await getCharge(chargeId);
      if (existing?.status === 'pending') continue;
      if (existing) return { outcome: existing.status === 'completed' ? 'charged' : 'failed', charge: existing, replayed: true };
      const charge = newCharge(c, fee, b, { chargeId, periodKey, capped: cut, rates, withdrawal: input.withdrawal }, at);
      await commit({
        writes: [
          chargeEntity.putNew(charge, raced()),
          feeStateEntity.patch(fee, { ...fee, busyWith: chargeId }, at, { onRace: raced() }),
        ],
        audit: audit('copy.fee.requested', s, chargeSnapshot(charge), ctx),
      });
      return outcomeOf(await applyOnPlatform(charge, ctx));
    } catch (err) {
      if (isRace(err)) continue; // a twin started it, or the fee state moved: read again
      throw err;
    }
  }
  throw new DomainError('concurrent_modification', 'conflict', 'The copy fees kept changing concurrently; retry');
}

/** Whether `c` (a charge that held the fee state read as `fee`) is the charge `input` asks for. */
function isSameChargePoint(c: ChargeItem, input: SettleInput, fee: FeeStateItem, nowMs: number): boolean {
  if (c.point !== input.point) return false;
  const book = bookOf(fee);
  if (input.point === 'anniversary' && nowMs < book.nextAnniversaryMs) return false;
  return c.periodKey === periodKeyOf(input.point, book, nowMs, input.withdrawal?.transferId);
}

function outcomeOf(c: ChargeItem): SettleOutcome {
  if (c.status === 'completed') return { outcome: 'charged', charge: c, replayed: false };
  if (c.status === 'failed') return { outcome: 'failed', charge: c, replayed: false };
  return { outcome: 'pending', charge: c };
}

/** Nothing to take: the fee state moves (and a stop closes it, leaving its carry to the pair), audited. */
async function nothingDue(
  c: Context,
  fee: FeeStateItem,
  b: ChargeBreakdown,
  at: string,
  ctx: CommandContext,
): Promise<SettleOutcome> {
  const s = c.subscription;
  const next = withBook(fee, b.book);
  if (b.point === 'stop') next.closedAt = at;
  const changed = JSON.stringify(next) !== JSON.stringify(fee);
  if (!changed) return { outcome: 'nothing_due', breakdown: b };
  const pairWrites = b.point === 'stop' ? await carryWrites(s, b.carry ?? 0n, at) : [];
  await commit({
    writes: [feeStateEntity.patch(fee, next, at, { onRace: raced() }), ...pairWrites],
    audit: audit(
      b.point === 'stop' ? 'copy.fees.closed' : 'copy.fees.settled',
      s,
      {
        point: b.point,
        total: '0',
        equity: b.equityBefore.toString(),
        markBefore: b.markBefore.toString(),
        markAfter: b.markAfter.toString(),
        periodStart: iso(b.periodStartMs),
        periodEnd: iso(b.periodEndMs),
        ...(b.carry !== undefined ? { carry: b.carry.toString() } : {}),
      },
      ctx,
    ),
  });
  return { outcome: 'nothing_due', breakdown: b };
}

/** A stop's carry added to the pair (created on first use). */
async function carryWrites(s: SubscriptionItem, carry: bigint, at: string): Promise<CommitWrite[]> {
  const pair = await getFeePair(s.strategyId, s.followerClientId);
  if (!pair) {
    const item = feePairEntity.item(
      {
        strategyId: s.strategyId,
        followerClientId: s.followerClientId,
        carry: carry.toString(),
        currency: s.currency,
        carriedFrom: s.subscriptionId,
      },
      at,
    );
    return [feePairEntity.putNew(item, raced())];
  }
  const next: FeePairItem = { ...pair, carry: (BigInt(pair.carry) + carry).toString(), carriedFrom: s.subscriptionId };
  return [feePairEntity.patch(pair, next, at, { onRace: raced() })];
}

function newCharge(
  c: Context,
  fee: FeeStateItem,
  b: ChargeBreakdown,
  o: {
    chargeId: string;
    periodKey: string;
    capped: string[];
    rates: FeeRates;
    withdrawal?: { amount: bigint; transferId: string } | undefined;
  },
  at: string,
): ChargeItem {
  const s = c.subscription;
  const next = withBook(fee, b.book);
  return chargeEntity.item(
    {
      chargeId: o.chargeId,
      subscriptionId: s.subscriptionId,
      strategyId: s.strategyId,
      providerClientId: s.providerClientId,
      followerClientId: s.followerClientId,
      followerAccountId: s.followerAccountId,
      ledgerAccountId: c.account.ledgerAccountId,
      platform: c.account.platform,
      server: c.account.server,
      login: c.account.login,
      currency: s.currency,
      point: b.point,
      periodKey: o.periodKey,
      periodStart: iso(b.periodStartMs),
      periodEnd: iso(b.periodEndMs),
      ...(o.withdrawal ? { transferId: o.withdrawal.transferId, withdrawal: o.withdrawal.amount.toString() } : {}),
      status: 'pending',
      fees: {
        management: b.management.toString(),
        performance: b.performance.fee.toString(),
        volume: b.volume.fee.toString(),
        subscription: b.subscription.fee.toString(),
        total: b.total.toString(),
      },
      split: {
        provider: b.split.provider.toString(),
        broker: b.split.broker.toString(),
        brokerShareBps: policy().brokerShareBps,
      },
      inputs: {
        equityBefore: b.equityBefore.toString(),
        equityAfter: b.equityAfter.toString(),
        markBefore: b.markBefore.toString(),
        markAfter: b.markAfter.toString(),
        ...(b.markAfterWithdrawal !== undefined ? { markAfterWithdrawal: b.markAfterWithdrawal.toString() } : {}),
        gain: b.performance.gain.toString(),
        managementAccrued: b.managementAccrued.toString(),
        volumeNotional: b.volume.notional.toString(),
        volumeNotionalTotal: b.book.volumeNotionalCharged.toString(),
        rates: {
          performanceBps: o.rates.performanceBps,
          managementBpsPerYear: o.rates.managementBpsPerYear,
          volumePerMillion: o.rates.volumePerMillion.toString(),
          subscriptionPerMonth: o.rates.subscriptionPerMonth.toString(),
        },
        capped: o.capped,
        ...(fee.paidUntil ? { paidUntilBefore: fee.paidUntil } : {}),
        ...(next.paidUntil ? { paidUntilAfter: next.paidUntil } : {}),
        ...(b.carry !== undefined ? { carry: b.carry.toString() } : {}),
      },
      after: {
        mark: next.mark,
        managementAccrued: next.managementAccrued,
        periodStartAt: next.periodStartAt,
        nextAnniversaryAt: next.nextAnniversaryAt,
        ...(next.paidUntil ? { paidUntil: next.paidUntil } : {}),
        volumeNotionalCharged: next.volumeNotionalCharged,
      },
      leaseUntil: Date.now() + CHARGE_LEASE_MS,
      attempts: 0,
    },
    at,
  );
}

export const chargeSnapshot = (c: ChargeItem) => ({
  chargeId: c.chargeId,
  point: c.point,
  status: c.status,
  currency: c.currency,
  periodStart: c.periodStart,
  periodEnd: c.periodEnd,
  fees: c.fees,
  split: c.split,
  inputs: c.inputs,
  ...(c.transferId ? { transferId: c.transferId, withdrawal: c.withdrawal } : {}),
  ...(c.reason ? { reason: c.reason } : {}),
  ...(c.ticket ? { ticket: c.ticket } : {}),
  ...(c.journalId ? { journalId: c.journalId } : {}),
  ...(c.uncertainSince ? { uncertainSince: c.uncertainSince } : {}),
});

// ------------------------------------------------------------------------------------------------ the saga

/** Sends the balance operation (external id = charge id) and ends the charge on the answer. */
async function applyOnPlatform(c: ChargeItem, ctx: CommandContext): Promise<ChargeItem> {
  const platform = await platformOf({ platform: c.platform as TradingAccountItem['platform'] });
  let result: BalanceResult;
  try {
    result = await platform.changeBalance({
      login: c.login,
      amount: -BigInt(c.fees.total),
      type: 'charge',
      comment: 'Copy fees',
      externalId: c.chargeId,
      notBefore: Date.parse(c.createdAt),
    });
  } catch (err) {
    if (isTradingError(err) && !err.retryable) {
      // after an uncertain attempt, a refusal may be the platform refusing a second copy: ask before failing
      if (c.uncertainSince) {
        const found = await platform.findBalanceOperation(c.login, c.chargeId, Date.parse(c.createdAt)).catch(() => undefined);
        if (found) return complete(c, found.ticket, ctx);
      }
      return fail(c, err.code, ctx);
    }
    logger.warn('copy fees: the platform did not answer; the next run asks it', {
      chargeId: c.chargeId,
      error: isTradingError(err) ? err.code : (err as Error).name,
    });
    return markUncertain(c, ctx);
  }
  faults.afterPlatform?.(c.chargeId);
  return complete(c, result.ticket, ctx);
}

class Settled extends Error {}

/** The charge's journal, its end and the fee state after it: one transaction (module comment). */
async function complete(c: ChargeItem, ticket: string, ctx: CommandContext): Promise<ChargeItem> {
  const currency = c.currency;
  const provider = BigInt(c.split.provider);
  const broker = BigInt(c.split.broker);
  const ledgerCtx = { actor: ACTOR, requestId: ctx.requestId };
  const [wallet, income] = await Promise.all([
    provider > 0n ? ensureWallet(c.providerClientId, currency, ledgerCtx) : Promise.resolve(undefined),
    broker > 0n ? houseAccount('fee_income', currency) : Promise.resolve(undefined),
  ]);
  const draft: JournalDraft = {
    journalId: chargeJournalId(c.chargeId),
    type: 'fee',
    postings: [
      { accountId: c.ledgerAccountId, amount: -BigInt(c.fees.total), currency },
      ...(wallet ? [{ accountId: wallet.accountId, amount: provider, currency }] : []),
      ...(income ? [{ accountId: income.accountId, amount: broker, currency }] : []),
    ],
    reference: c.chargeId,
    description: 'Copy-trading fees',
    metadata: {
      copyFee: {
        chargeId: c.chargeId,
        subscriptionId: c.subscriptionId,
        strategyId: c.strategyId,
        point: c.point,
        periodStart: c.periodStart,
        periodEnd: c.periodEnd,
      },
      ticket,
    },
  };
  const lost = raced();
  try {
    await executeJournal(
      {
        draft,
        idempotency: { scope: JOURNAL_SCOPE, key: c.chargeId, requestHash: c.chargeId },
        actor: ACTOR,
        requestId: ctx.requestId,
        clientId: c.followerClientId,
      },
      {
        prepare: async ({ at }) => {
          const [current, fee] = await Promise.all([getCharge(c.chargeId), getFeeState(c.subscriptionId)]);
          if (current?.status !== 'pending') throw new Settled();
          if (fee?.busyWith !== c.chargeId) throw new Error(`copy fees: ${c.chargeId} does not hold its fee state`);
          const next: ChargeItem = {
            ...current,
            status: 'completed',
            ticket,
            journalId: draft.journalId,
            completedAt: at,
            attempts: current.attempts + 1,
          };
          delete next.leaseUntil;
          const after = chargeEntity.replaced(current, next, at);
          const feeAfter: FeeStateItem = {
            ...fee,
            ...current.after,
            failures: fee.failures,
            lastChargeId: c.chargeId,
            ...(c.point === 'stop' ? { closedAt: at } : {}),
          };
          if (!current.after.paidUntil) delete feeAfter.paidUntil;
          delete feeAfter.busyWith;
          const subscription = { subscriptionId: c.subscriptionId, followerClientId: c.followerClientId };
          const pair =
            c.point === 'stop'
              ? await carryWrites(
                  { ...subscription, strategyId: c.strategyId, currency } as SubscriptionItem,
                  BigInt(c.inputs.carry ?? '0'),
                  at,
                )
              : [];
          return {
            adjusted: new Set(),
            writes: [
              chargeEntity.replace(current, next, at, { onRace: lost }),
              feeStateEntity.patch(fee, feeAfter, at, { onRace: lost }),
              ...pair,
            ],
            audit: [audit('copy.fee.charged', subscription, chargeSnapshot(after), ctx)],
            outbox: [chargedEvent(after)],
          };
        },
      },
    );
  } catch (err) {
    if (!(err instanceof Settled || err === lost)) throw err;
  }
  return (await getCharge(c.chargeId)) ?? c;
}

function chargedEvent(c: ChargeItem): OutboxEvent {
  const fmt = (v: string) => formatAmount(BigInt(v), c.currency);
  return {
    detailType: 'copy.fee.charged',
    detail: {
      chargeId: c.chargeId,
      subscriptionId: c.subscriptionId,
      strategyId: c.strategyId,
      providerClientId: c.providerClientId,
      followerClientId: c.followerClientId,
      followerAccountId: c.followerAccountId,
      point: c.point,
      currency: c.currency,
      total: fmt(c.fees.total),
      management: fmt(c.fees.management),
      performance: fmt(c.fees.performance),
      volume: fmt(c.fees.volume),
      subscription: fmt(c.fees.subscription),
      providerShare: fmt(c.split.provider),
      brokerShare: fmt(c.split.broker),
      periodStart: c.periodStart,
      periodEnd: c.periodEnd,
      journalId: c.journalId ?? chargeJournalId(c.chargeId),
    },
  };
}

/** The platform refused: the charge fails with its code and frees the fee state; the fees stay owed. */
async function fail(c: ChargeItem, reason: string, ctx: CommandContext): Promise<ChargeItem> {
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const [current, fee] = await Promise.all([getCharge(c.chargeId), getFeeState(c.subscriptionId)]);
    if (current?.status !== 'pending' || !fee) return current ?? c;
    const at = new Date().toISOString();
    const next: ChargeItem = { ...current, status: 'failed', reason, attempts: current.attempts + 1 };
    delete next.leaseUntil;
    const feeAfter: FeeStateItem = { ...fee, failures: fee.failures + 1 };
    if (fee.busyWith === c.chargeId) delete feeAfter.busyWith;
    try {
      await commit({
        writes: [
          chargeEntity.replace(current, next, at, { onRace: raced() }),
          feeStateEntity.patch(fee, feeAfter, at, { onRace: raced() }),
        ],
        audit: audit('copy.fee.failed', c, chargeSnapshot(chargeEntity.replaced(current, next, at)), ctx),
      });
      logger.warn('copy fees: the platform refused a charge', { chargeId: c.chargeId, reason });
      break;
    } catch (err) {
      if (!isRace(err)) throw err;
    }
  }
  return (await getCharge(c.chargeId)) ?? c;
}

/** The platform did not answer: the charge stays pending (and its fee state locked) for the next run to ask. */
async function markUncertain(c: ChargeItem, ctx: CommandContext): Promise<ChargeItem> {
  const current = (await getCharge(c.chargeId)) ?? c;
  if (current.status !== 'pending') return current;
  const at = new Date().toISOString();
  const next: ChargeItem = { ...current, attempts: current.attempts + 1, uncertainSince: current.uncertainSince ?? at };
  delete next.leaseUntil; // done talking to the platform for now: the next run may ask at once
  try {
    await commit({
      writes: [chargeEntity.replace(current, next, at)],
      audit: audit('copy.fee.uncertain', c, chargeSnapshot(next), ctx),
    });
  } catch (err) {
    if (!isRace(err)) throw err;
  }
  return (await getCharge(c.chargeId)) ?? next;
}

/**
 * Resumes a pending charge whose process is gone (its lease expired) or that the platform did not answer: asks the
 * platform for the operation by the charge id; found, it completes; not found, it is sent again under the same id.
 * A held lease leaves it alone.
 */
async function resumeCharge(c: ChargeItem, ctx: CommandContext): Promise<ChargeItem> {
  if (c.status !== 'pending') return c;
  if (!(await claimCharge(c.chargeId, Date.now(), CHARGE_LEASE_MS))) return (await getCharge(c.chargeId)) ?? c;
  const platform = await platformOf({ platform: c.platform as TradingAccountItem['platform'] });
  let found: BalanceResult | undefined;
  try {
    found = await platform.findBalanceOperation(c.login, c.chargeId, Date.parse(c.createdAt));
  } catch (err) {
    if (isTradingError(err) && !err.retryable) throw err;
    await releaseCharge(c.chargeId);
    return { ...c, leaseUntil: 0 }; // still unreachable: the next run asks again
  }
  if (found) return complete(c, found.ticket, ctx);
  return applyOnPlatform({ ...c, uncertainSince: c.uncertainSince ?? new Date().toISOString() }, ctx);
}

// ------------------------------------------------------------------------------------------------ wallet transfers

/** A flow the fee state's mark follows: a deposit raises it, a withdrawal lowers it, by the amount. */
export type CopyFlow = { kind: 'deposit' | 'withdrawal'; amount: bigint };

const copyFeesBusy = (what: string) =>
  new DomainError(
    'copy_fees_in_progress',
    'conflict',
    `Copy-trading fees of this account are being settled (${what}); retry in a minute`,
  );

/**
 * Before a wallet transfer on a copy account (functions/app/trading/transfers.ts): a stopped copy whose final charge
 * is not made yet is charged first; a withdrawal from a live copy is charged first ('withdrawal': 422
 * withdrawal_exceeds_equity, 422 no_money when the withdrawal no longer fits after the fees, 422
 * copy_fee_charge_failed when the platform refused the fees, 409 copy_fees_in_progress while another charge or
 * transfer holds the fee state). Answers the live subscription whose fee state the transfer then locks.
 */
export async function copyFeesBeforeTransfer(
  input: { accountId: string; clientId: string; direction: 'deposit' | 'withdrawal'; amount: bigint; transferId: string },
  ctx: CommandContext,
): Promise<{ subscriptionId?: string }> {
  await settleStoppedCopies({ clientId: input.clientId, accountId: input.accountId }, ctx);
  const claim = await copyAccountClaimEntity.get(subscriptionKeys.claim(input.accountId), { consistent: true });
  if (!claim) return {};
  if (input.direction === 'withdrawal') {
    const r = await settleFees(
      {
        subscriptionId: claim.subscriptionId,
        point: 'withdrawal',
        withdrawal: { amount: input.amount, transferId: input.transferId },
      },
      ctx,
    );
    refuseUnsettled(r);
  }
  return { subscriptionId: claim.subscriptionId };
}

function refuseUnsettled(r: SettleOutcome): void {
  if (r.outcome === 'busy' || r.outcome === 'pending') throw copyFeesBusy(r.outcome === 'busy' ? r.busyWith : r.charge.chargeId);
  if (r.outcome === 'failed') {
    throw new DomainError(
      'copy_fee_charge_failed',
      'unprocessable',
      `The copy-trading fees due could not be taken from the account (${r.charge.reason ?? 'refused'})`,
      [],
      { chargeId: r.charge.chargeId, reason: r.charge.reason ?? 'refused' },
    );
  }
}

/**
 * The final charge of every stopped subscription of the client on `accountId` (or to `strategyId`) whose fees are
 * still open; refuses (409 copy_fees_in_progress, 422 copy_fee_charge_failed) when one cannot be made now.
 */
async function settleStoppedCopies(
  input: { clientId: string; accountId: string; strategyId?: string },
  ctx: CommandContext,
): Promise<void> {
  let cursor: string | undefined;
  for (let page = 0; page < 20; page++) {
    const subs = await listFollowerSubscriptions(input.clientId, { limit: 100, cursor });
    for (const s of subs.items) {
      if (s.status !== 'stopped') continue;
      if (s.followerAccountId !== input.accountId && s.strategyId !== input.strategyId) continue;
      const fee = await getFeeState(s.subscriptionId);
      if (fee?.closedAt) continue;
      refuseUnsettled(await settleFees({ subscriptionId: s.subscriptionId, point: 'stop' }, ctx));
    }
    if (!subs.hasMore || !subs.nextCursor) return;
    cursor = subs.nextCursor;
  }
}

/** Before a follow (functions/app/copy/subscriptions.ts): earlier copies of the account or the strategy settled. */
export const settlePreviousCopies = (input: { clientId: string; accountId: string; strategyId: string }, ctx: CommandContext) =>
  settleStoppedCopies(input, ctx);

/**
 * The transfer's lock on the live copy's fee state, written with the transfer's creation (409 copy_fees_in_progress
 * when a charge or another transfer holds it; a lost race is concurrent_modification, to retry).
 */
export async function lockCopyFees(subscriptionId: string, transferId: string, at: string): Promise<CommitWrite | undefined> {
  const fee = await getFeeState(subscriptionId);
  if (!fee || fee.closedAt || fee.busyWith === transferId) return undefined;
  if (fee.busyWith) throw copyFeesBusy(fee.busyWith);
  return feeStateEntity.patch(fee, { ...fee, busyWith: transferId }, at, { onRace: raced() });
}

/**
 * The end of a transfer that locked a fee state, written with the transfer's end: the lock released and, when the
 * money moved, the mark moved by it (`flow`). Nothing when the transfer does not hold it.
 */
export async function unlockCopyFees(
  subscriptionId: string,
  transferId: string,
  flow: CopyFlow | undefined,
  at: string,
  onRace: DomainError,
): Promise<CommitWrite | undefined> {
  const fee = await getFeeState(subscriptionId);
  if (fee?.busyWith !== transferId) return undefined;
  const next: FeeStateItem = { ...fee };
  delete next.busyWith;
  if (flow) {
    const mark = BigInt(fee.mark);
    next.mark = (flow.kind === 'deposit' ? mark + flow.amount : mark - flow.amount).toString();
  }
  return feeStateEntity.patch(fee, next, at, { onRace });
}

// ------------------------------------------------------------------------------------------------ stop, daily job

/** The final charge of a stopped subscription (the consumer of copy.subscription.changed). */
export async function settleStoppedCopy(input: { subscriptionId: string }, ctx: CommandContext): Promise<SettleOutcome> {
  return settleFees({ subscriptionId: input.subscriptionId, point: 'stop' }, ctx);
}

/** One day of management fee on today's equity (every day missed too), unless accrued today or the state is locked. */
async function accrueDay(s: SubscriptionItem, fee: FeeStateItem, nowMs: number, ctx: CommandContext): Promise<boolean> {
  if (fee.busyWith || fee.closedAt) return false;
  const book = bookOf(fee);
  const c = await contextOf(s);
  const { rates } = capped(c.strategy);
  if (rates.managementBpsPerYear === 0) return false;
  const probe = accrueManagement(book, 0n, rates.managementBpsPerYear, nowMs);
  if (probe.days === 0) return false;
  const equity = (await (await platformOf(c.account)).accountState(c.account.login)).equity;
  const accrued = accrueManagement(book, equity, rates.managementBpsPerYear, nowMs);
  const at = new Date().toISOString();
  try {
    await commit({
      writes: [feeStateEntity.patch(fee, withBook(fee, accrued.book), at, { onRace: raced() })],
      audit: audit(
        'copy.fees.accrued',
        s,
        {
          day: accrued.book.lastAccrualDay,
          days: accrued.days,
          equity: equity.toString(),
          managementBpsPerYear: rates.managementBpsPerYear,
          accruedBefore: book.managementAccrued.toString(),
          accruedAfter: accrued.book.managementAccrued.toString(),
        },
        ctx,
      ),
    });
    return true;
  } catch (err) {
    if (isRace(err)) return false; // moved meanwhile: tomorrow's run catches the day up
    throw err;
  }
}

export interface FeeSettlementSummary {
  checked: number;
  accrued: number;
  charged: number;
  nothingDue: number;
  refused: number;
  pending: number;
  busy: number;
  failed: number;
}

/**
 * The daily job (tenant time zone): every subscription whose fees are open accrues a day of management fee; one
 * whose monthly anniversary has come is settled ('anniversary'), one whose subscription period started unpaid pays it
 * ('daily'), a stopped one gets its final charge ('stop'), and a charge left pending is asked about.
 */
export async function runFeeSettlement(_input: Record<string, never>, ctx: CommandContext): Promise<FeeSettlementSummary> {
  const nowMs = (ctx.now ?? new Date()).getTime();
  const out: FeeSettlementSummary = {
    checked: 0,
    accrued: 0,
    charged: 0,
    nothingDue: 0,
    refused: 0,
    pending: 0,
    busy: 0,
    failed: 0,
  };
  const count = (r: SettleOutcome) => {
    if (r.outcome === 'charged' && !r.replayed) out.charged += 1;
    else if (r.outcome === 'failed' && !r.replayed) out.refused += 1;
    else if (r.outcome === 'pending') out.pending += 1;
    else if (r.outcome === 'busy') out.busy += 1;
    else if (r.outcome === 'nothing_due') out.nothingDue += 1;
  };
  for await (const page of openFeeStates()) {
    for (const fee of page) {
      out.checked += 1;
      try {
        const s = await getSubscription(fee.subscriptionId, { consistent: true });
        if (!s) continue;
        if (s.status === 'stopped') {
          count(await settleFees({ subscriptionId: s.subscriptionId, point: 'stop' }, ctx));
          continue;
        }
        if (await accrueDay(s, fee, nowMs, ctx)) out.accrued += 1;
        const current = (await getFeeState(s.subscriptionId)) ?? fee;
        if (nowMs >= Date.parse(current.nextAnniversaryAt)) {
          count(await settleFees({ subscriptionId: s.subscriptionId, point: 'anniversary' }, ctx));
          continue;
        }
        const subscriptionDue = !current.paidUntil || nowMs >= Date.parse(current.paidUntil);
        const strategy = subscriptionDue ? await getStrategy(s.strategyId) : undefined;
        const feeDue = strategy ? capped(strategy).rates.subscriptionPerMonth > 0n : false;
        if (feeDue || (current.busyWith && isChargeId(current.busyWith))) {
          count(await settleFees({ subscriptionId: s.subscriptionId, point: 'daily' }, ctx));
        }
      } catch (err) {
        out.failed += 1;
        logger.error('copy fees: settling a subscription failed', {
          subscriptionId: fee.subscriptionId,
          error: (err as Error).name,
          detail: (err as Error).message,
          code: isDomainError(err) ? err.code : undefined,
        });
      }
    }
  }
  return out;
}
