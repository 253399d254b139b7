/**
 * Money between a client's wallet and its live trading account, as a saga with compensation
 * (POST /v1/trading-accounts/{id}/transfers; the resolver job; ADR 0016). Rules: domain/trading/accounts.ts.
 *
 * Steps:
 * - deposit (wallet -> account): ONE transaction posts the journal wallet -> `tacc_<account>` (the wallet's funds
 *   checked by the ledger: 422 insufficient_funds) and puts the transfer 'pending' with its audit entry. Then the
 *   platform is credited with external id = transfer id. Applied: the transfer is 'completed'. Refused: ONE
 *   transaction posts the reversal journal back to the wallet and fails the transfer with the platform's code
 * - withdrawal (account -> wallet): the platform's free margin is checked (422 no_money, naming it), the transfer
 *   is put 'pending', then the platform is debited with external id = transfer id. Applied: ONE transaction posts
 *   the journal `tacc_<account>` -> wallet and completes the transfer. Refused: the transfer fails; nothing moved
 *
 * Invariants:
 * - the ledger journal and the platform operation each happen exactly once: the journals carry the ledger's
 *   idempotency item (scope trading-transfer / trading-transfer-reversal, key = transfer id), the platform
 *   operation carries the transfer id as its external id (the adapter applies an id once), and every transition
 *   of the transfer is conditioned on the version read, so a request and the resolver racing on one transfer
 *   settle it once
 * - a timeout or an unreachable platform is never guessed at: the transfer stays 'pending' (`uncertainSince`
 *   set) and the resolver (resolveTransfer) asks the platform for the operation by its external id; found, it is
 *   completed; not found, the operation is sent again under the same external id. A refusal that follows an
 *   uncertain attempt is checked against the platform's operations before the transfer is failed
 * - one process at a time talks to the platform about a transfer: the request that created it holds its lease
 *   (LEASE_MS); a replay or the resolver asks the platform only after claiming an expired lease, so two
 *   changeBalance calls with one external id never run at once (the adapters' duplicate check is a read)
 * - a transfer request is checked completely before anything is written: the account (404, 409 not active,
 *   422 demo_account_transfer, 403 trading_account_disabled), the amount (parseMoney codes, 422 currency_mismatch),
 *   the first-deposit minimum, the wallet's funds, the free margin; any refusal changes nothing
 * - exactly once per Idempotency-Key: the transfer id is derived from (account, key); a retry answers the same
 *   transfer (resolved first if it is pending), another request under the key is 422 idempotency_key_reused
 * - a copy account (functions/app/copy/settle-fees.ts): before a new transfer, a stopped copy of the account whose
 *   final fees are not charged yet is charged, and a withdrawal from a live copy first takes the fees due ('withdrawal'
 *   charge: 422 withdrawal_exceeds_equity when the amount is more than the equity after them, 422 no_money when it
 *   no longer fits the free margin, 422 copy_fee_charge_failed, 409 copy_fees_in_progress), before anything of the
 *   transfer moves. The transfer then locks the copy's fee state in the transaction that creates it and releases it in
 *   the one that ends it, where a completed transfer moves the high-water mark by its amount (up for a deposit, down
 *   for a withdrawal): no charge reads the account's equity while a transfer is in flight, and a refused transfer
 *   never moves the mark
 */
import { DomainError, isDomainError } from '#domain/errors.ts';
import type { Caller, Role } from '#domain/identity/roles.ts';
import type { JournalDraft } from '#domain/ledger/index.ts';
import { formatAmount, type MoneyJson, parseMoney, toMinor } from '#domain/money/index.ts';
import { typeAmount } from '#domain/trading/account-types.ts';
import {
  assertFirstDeposit,
  assertWithdrawable,
  type TransferDirection,
  tradingTransferIdFor,
} from '#domain/trading/accounts.ts';
import { isTradingError } from '#domain/trading/errors.ts';
import type { BalanceResult } from '#domain/trading/port.ts';
import { logger } from '#shared/powertools.ts';
import { type AuditInput, actorFrom, commit, systemActor } from '#store/audit.ts';
import type { CommitWrite } from '#store/items.ts';
import { tradingKeys } from '#store/keys.ts';
import { getAccount, walletId } from '#store/ledger/index.ts';
import { executeJournal } from '#store/ledger/journals.ts';
import type { OutboxEvent } from '#store/outbox.ts';
import {
  claimTransfer,
  getTradingAccount,
  getTransfer,
  listAccountTransfers,
  pendingTransfers,
  TRANSFER_ENTITY,
  type TransferItem,
  transferEntity,
  transferEventDetail,
  transferNotFound,
  transferSnapshot,
} from '#store/trading.ts';
import type { CommandContext } from '../context.ts';
import { copyFeesBeforeTransfer, lockCopyFees, unlockCopyFees } from '../copy/settle-fees.ts';
import {
  accountState,
  activeLogin,
  forgetState,
  idempotencyKeyReused,
  ownAccount,
  platformOf,
  readableAccount,
  requestHashOf,
  requireKey,
  typeOf,
} from './shared.ts';

const MOVERS: readonly Role[] = ['client'];
const JOURNAL_SCOPE = 'trading-transfer';
/** How long one process may talk to the platform about a transfer: longer than an adapter's request timeout (10 s). */
export const LEASE_MS = 30_000;
const REVERSAL_SCOPE = 'trading-transfer-reversal';

export interface TransferInput {
  accountId: string;
  direction: TransferDirection;
  amount: MoneyJson;
}

type Actor = ReturnType<typeof actorFrom>;
interface SagaCtx {
  actor: Actor;
  requestId: string;
  /** The clock leases are claimed against (tests, replays); default now. */
  now?: Date | undefined;
}

export const transferJournalId = (transferId: string) => `tj_${transferId}`;
export const reversalJournalId = (transferId: string) => `tjr_${transferId}`;

/** Requests a transfer and runs it as far as the platform lets it now (module comment). */
export async function createTransfer(
  input: TransferInput,
  caller: Caller,
  ctx: CommandContext,
): Promise<{ transfer: TransferItem; replayed: boolean }> {
  const key = requireKey(ctx.idempotencyKey, 'A transfer');
  const actor = actorFrom(caller, MOVERS);
  const account = await ownAccount(input.accountId, caller);
  const transferId = tradingTransferIdFor(account.accountId, key);
  const requestHash = requestHashOf(input);
  const sagaCtx: SagaCtx = { actor, requestId: ctx.requestId };

  const prior = await getTransfer(transferId, { consistent: true });
  if (prior) {
    if (prior.requestHash !== requestHash) throw idempotencyKeyReused();
    return { transfer: prior.status === 'pending' ? await resolveTransfer(prior, sagaCtx) : prior, replayed: true };
  }

  const login = activeLogin(account);
  if (account.kind !== 'live' || !account.ledgerAccountId) {
    throw new DomainError('demo_account_transfer', 'unprocessable', 'Money cannot move to or from a demo account');
  }
  if (account.access === 'disabled') {
    throw new DomainError('trading_account_disabled', 'forbidden', 'This trading account is disabled; contact support');
  }
  if (input.amount?.currency !== account.currency) {
    throw new DomainError(
      'currency_mismatch',
      'unprocessable',
      `The account is in ${account.currency}`,
      [{ field: 'amount.currency', code: 'currency_mismatch', message: `Must be ${account.currency}` }],
      { currency: account.currency },
    );
  }
  const amount = parseMoney(input.amount, [account.currency]);
  if (amount.amount <= 0n) {
    throw new DomainError('amount_not_positive', 'unprocessable', 'Amount must be greater than zero', [
      { field: 'amount', code: 'amount_not_positive', message: 'Amount must be greater than zero' },
    ]);
  }
  const wallet = walletId(account.clientId, account.currency);
  const base = {
    transferId,
    accountId: account.accountId,
    clientId: account.clientId,
    walletId: wallet,
    ledgerAccountId: account.ledgerAccountId,
    platform: account.platform,
    server: account.server,
    login,
    direction: input.direction,
    amount: { amount: formatAmount(amount.amount, account.currency), currency: account.currency },
    status: 'pending' as const,
    attempts: 0,
    // this request talks to the platform first; a twin or the resolver only after the lease expired
    leaseUntil: new Date(Date.now() + LEASE_MS).toISOString(),
    idempotencyKey: key,
    requestHash,
  };

  let transfer: TransferItem;
  if (input.direction === 'deposit') {
    if (!account.firstDepositAt) {
      const type = typeOf(account);
      assertFirstDeposit(
        amount.amount,
        type ? typeAmount(type, 'minFirstDeposit', account.currency) : undefined,
        account.currency,
      );
    }
    if (!(await getAccount(wallet))) {
      throw new DomainError('insufficient_funds', 'unprocessable', `You have no ${account.currency} wallet balance to move`);
    }
    const copy = await copyFeesBeforeTransfer(
      { accountId: account.accountId, clientId: account.clientId, direction: 'deposit', amount: amount.amount, transferId },
      ctx,
    );
    const draft = journal(transferJournalId(transferId), wallet, account.ledgerAccountId, amount.amount, account.currency, {
      transferId,
      tradingAccountId: account.accountId,
      direction: 'deposit',
    });
    let created: TransferItem | undefined;
    const twinWon = new DomainError('transfer_exists', 'conflict', 'The transfer exists');
    let replayed: boolean;
    try {
      ({ replayed } = await executeJournal(
        {
          draft,
          idempotency: { scope: JOURNAL_SCOPE, key: transferId, requestHash },
          actor,
          requestId: ctx.requestId,
          clientId: account.clientId,
        },
        {
          prepare: async ({ at }) => {
            // a twin of this request (same key) posted it while this one was reading: answer as its replay
            if (await getTransfer(transferId, { consistent: true })) throw twinWon;
            created = transferEntity.item(
              {
                ...base,
                journalId: draft.journalId,
                ...(copy.subscriptionId ? { copySubscriptionId: copy.subscriptionId } : {}),
              },
              at,
            );
            const lock = copy.subscriptionId ? await lockCopyFees(copy.subscriptionId, transferId, at) : undefined;
            return {
              adjusted: new Set(),
              writes: [
                transferEntity.putNew(created, new DomainError('transfer_exists', 'conflict', 'The transfer exists')),
                ...(lock ? [lock] : []),
              ],
              audit: [requestedAudit(created, sagaCtx)],
              outbox: [],
            };
          },
        },
      ));
    } catch (err) {
      const twin =
        err === twinWon || (isDomainError(err) && (err.code === 'transfer_exists' || err.code === 'concurrent_modification'));
      if (twin && (await getTransfer(transferId, { consistent: true }))) return createTransfer(input, caller, ctx);
      throw err;
    }
    if (replayed || !created) return createTransfer(input, caller, ctx);
    transfer = created;
  } else {
    // fees owed on a copy account are taken first; the free margin is then read after them
    const copy = await copyFeesBeforeTransfer(
      { accountId: account.accountId, clientId: account.clientId, direction: 'withdrawal', amount: amount.amount, transferId },
      ctx,
    );
    assertWithdrawable(await accountState(account, { fresh: true }), amount.amount);
    const at = new Date().toISOString();
    transfer = transferEntity.item({ ...base, ...(copy.subscriptionId ? { copySubscriptionId: copy.subscriptionId } : {}) }, at);
    const lock = copy.subscriptionId ? await lockCopyFees(copy.subscriptionId, transferId, at) : undefined;
    try {
      await commit({
        writes: [
          transferEntity.putNew(transfer, new DomainError('transfer_exists', 'conflict', 'The transfer exists')),
          ...(lock ? [lock] : []),
        ],
        audit: requestedAudit(transfer, sagaCtx),
      });
    } catch (err) {
      // a twin created it, or the copy's fee state moved since it was read: start over (the fee charge replays)
      if (isDomainError(err) && (err.code === 'transfer_exists' || err.code === 'concurrent_modification')) {
        return createTransfer(input, caller, ctx);
      }
      throw err;
    }
  }
  return { transfer: await applyOnPlatform(transfer, sagaCtx), replayed: false };
}

function requestedAudit(t: TransferItem, ctx: SagaCtx): AuditInput {
  return {
    actor: ctx.actor,
    action: 'trading.transfer.requested',
    entity: { type: TRANSFER_ENTITY, id: t.transferId },
    newEntity: true,
    clientId: t.clientId,
    before: null,
    after: transferSnapshot(t),
    requestId: ctx.requestId,
  };
}

function journal(
  journalId: string,
  from: string,
  to: string,
  amount: bigint,
  currency: string,
  metadata: Record<string, unknown>,
): JournalDraft {
  return {
    journalId,
    type: 'transfer',
    postings: [
      { accountId: from, amount: -amount, currency },
      { accountId: to, amount, currency },
    ],
    reference: String(metadata.transferId),
    metadata,
  };
}

const signedAmount = (t: TransferItem) => {
  const minor = toMinor(t.amount.amount, t.amount.currency);
  return t.direction === 'deposit' ? minor : -minor;
};

/** Sends the balance operation (external id = transfer id) and settles the transfer on the answer. */
async function applyOnPlatform(t: TransferItem, ctx: SagaCtx): Promise<TransferItem> {
  const platform = await platformOf(t);
  let result: BalanceResult;
  try {
    result = await platform.changeBalance({
      login: t.login,
      amount: signedAmount(t),
      type: 'balance',
      comment: t.direction === 'deposit' ? 'From wallet' : 'To wallet',
      externalId: t.transferId,
      notBefore: Date.parse(t.createdAt),
    });
  } catch (err) {
    if (isTradingError(err) && !err.retryable) {
      // after an uncertain attempt, a refusal may be the platform refusing a second copy: ask before failing
      if (t.uncertainSince) {
        const found = await platform.findBalanceOperation(t.login, t.transferId, Date.parse(t.createdAt)).catch(() => undefined);
        if (found) return settle(t, { ticket: found.ticket }, ctx);
      }
      return settle(t, { failed: err.code }, ctx);
    }
    logger.warn('trading transfer: the platform did not answer; the resolver will ask it', {
      transferId: t.transferId,
      error: isTradingError(err) ? err.code : (err as Error).name,
    });
    return markUncertain(t, ctx);
  } finally {
    forgetState(t);
  }
  return settle(t, { ticket: result.ticket }, ctx);
}

async function markUncertain(t: TransferItem, ctx: SagaCtx): Promise<TransferItem> {
  const current = (await getTransfer(t.transferId, { consistent: true })) ?? t;
  if (current.status !== 'pending') return current;
  const at = new Date().toISOString();
  // done talking to the platform for now: the lease is released, so the resolver may ask at once
  const { leaseUntil: _released, ...rest } = current;
  const next = { ...rest, attempts: current.attempts + 1, uncertainSince: current.uncertainSince ?? at } as TransferItem;
  try {
    await commit({
      writes: [transferEntity.replace(current, next, at)],
      audit: {
        actor: ctx.actor,
        action: 'trading.transfer.uncertain',
        entity: { type: TRANSFER_ENTITY, id: t.transferId },
        clientId: t.clientId,
        before: transferSnapshot(current),
        after: transferSnapshot(next),
        requestId: ctx.requestId,
      },
    });
  } catch (err) {
    if (!(isDomainError(err) && err.code === 'conflict')) throw err;
  }
  return (await getTransfer(t.transferId, { consistent: true })) ?? next;
}

class Settled extends Error {}

/** Completes (the platform applied it: `ticket`) or fails (`failed`: its code) a pending transfer, once. */
async function settle(t: TransferItem, outcome: { ticket: string } | { failed: string }, ctx: SagaCtx): Promise<TransferItem> {
  const completed = 'ticket' in outcome;
  const raced = new DomainError('concurrent_modification', 'conflict', 'The transfer was settled concurrently');
  const transition = (current: TransferItem, at: string) => {
    const next: TransferItem = completed
      ? { ...current, status: 'completed', ticket: outcome.ticket, completedAt: at, attempts: current.attempts + 1 }
      : { ...current, status: 'failed', reason: outcome.failed, attempts: current.attempts + 1 };
    const after = transferEntity.replaced(current, next, at);
    return {
      // a lost race is retried by the journal's loop (concurrent_modification): its re-read then finds it settled
      write: transferEntity.replace(current, next, at, { onRace: raced }),
      audit: {
        actor: ctx.actor,
        action: completed ? 'trading.transfer.completed' : 'trading.transfer.failed',
        entity: { type: TRANSFER_ENTITY, id: current.transferId },
        clientId: current.clientId,
        before: transferSnapshot(current),
        after: transferSnapshot(after),
        requestId: ctx.requestId,
      } satisfies AuditInput,
      outbox: completed
        ? ({ detailType: 'trading.transfer.completed', detail: transferEventDetail(after) } satisfies OutboxEvent)
        : ({ detailType: 'trading.transfer.failed', detail: transferEventDetail(after) } satisfies OutboxEvent),
    };
  };
  // a transfer on a copy account releases the fee state it locked; completed, the mark moves by the amount
  const copyUnlock = async (current: TransferItem, at: string, onRace: DomainError): Promise<CommitWrite[]> => {
    if (!current.copySubscriptionId) return [];
    const flow = completed
      ? { kind: current.direction, amount: toMinor(current.amount.amount, current.amount.currency) }
      : undefined;
    const w = await unlockCopyFees(current.copySubscriptionId, current.transferId, flow, at, onRace);
    return w ? [w] : [];
  };
  const readPending = async () => {
    const current = await getTransfer(t.transferId, { consistent: true });
    if (current?.status !== 'pending') throw new Settled();
    return current;
  };
  const currency = t.amount.currency;
  const amount = toMinor(t.amount.amount, currency);
  // money moves back (refused deposit) or in (applied withdrawal) in the same transaction as the transition
  const journalOf = (): { draft: JournalDraft; scope: string } | undefined => {
    if (completed && t.direction === 'withdrawal') {
      return {
        draft: journal(transferJournalId(t.transferId), t.ledgerAccountId, t.walletId, amount, currency, {
          transferId: t.transferId,
          tradingAccountId: t.accountId,
          direction: 'withdrawal',
        }),
        scope: JOURNAL_SCOPE,
      };
    }
    if (!completed && t.direction === 'deposit') {
      const draft = journal(reversalJournalId(t.transferId), t.ledgerAccountId, t.walletId, amount, currency, {
        transferId: t.transferId,
        tradingAccountId: t.accountId,
        reverses: transferJournalId(t.transferId),
      });
      return { draft: { ...draft, type: 'reversal' }, scope: REVERSAL_SCOPE };
    }
    return undefined;
  };
  try {
    const j = journalOf();
    if (j) {
      await executeJournal(
        {
          draft: j.draft,
          idempotency: { scope: j.scope, key: t.transferId, requestHash: t.requestHash },
          actor: ctx.actor,
          requestId: ctx.requestId,
          clientId: t.clientId,
        },
        {
          prepare: async ({ at }) => {
            const current = await readPending();
            const s = transition(
              { ...current, ...(completed ? { journalId: j.draft.journalId } : { reversalJournalId: j.draft.journalId }) },
              at,
            );
            const unlock = await copyUnlock(current, at, raced);
            return { adjusted: new Set(), writes: [s.write, ...unlock], audit: [s.audit], outbox: [s.outbox] };
          },
        },
      );
    } else {
      // the copy fee state's write may lose a race with the daily accrual: read both again
      const feeRaced = new DomainError('concurrent_modification', 'conflict', 'The copy fee state changed concurrently');
      for (let round = 0; ; round++) {
        const current = await readPending();
        const at = new Date().toISOString();
        const s = transition(current, at);
        const writes: CommitWrite[] = [s.write];
        if (completed && t.direction === 'deposit') writes.push(firstDepositWrite(t.accountId, at));
        writes.push(...(await copyUnlock(current, at, feeRaced)));
        try {
          await commit({ writes, audit: s.audit, outbox: [s.outbox] });
          break;
        } catch (err) {
          if (err !== feeRaced || round >= 4) throw err;
        }
      }
    }
  } catch (err) {
    if (!(err instanceof Settled || err === raced)) throw err;
  }
  return (await getTransfer(t.transferId, { consistent: true })) ?? t;
}

/** Marks the account's first completed deposit (the type's minimum applies until then); later ones change nothing. */
function firstDepositWrite(accountId: string, at: string): CommitWrite {
  return {
    Update: {
      Key: tradingKeys.account(accountId),
      UpdateExpression: 'SET firstDepositAt = if_not_exists(firstDepositAt, :t)',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeValues: { ':t': at },
    },
  };
}

/**
 * Settles a pending transfer by asking the platform (never by guessing): the operation found by its external id
 * completes it; not found, it is sent again under the same external id.
 */
export async function resolveTransfer(t: TransferItem, ctx: SagaCtx): Promise<TransferItem> {
  if (t.status !== 'pending') return t;
  const now = ctx.now ?? new Date();
  // another process (the request itself, a twin, the resolver) is talking to the platform about it: leave it
  if (!(await claimTransfer(t.transferId, now, new Date(now.getTime() + LEASE_MS)))) return t;
  const platform = await platformOf(t);
  let found: BalanceResult | undefined;
  try {
    found = await platform.findBalanceOperation(t.login, t.transferId, Date.parse(t.createdAt));
  } catch (err) {
    if (isTradingError(err) && !err.retryable) throw err;
    return t; // still unreachable: the next run asks again
  }
  if (found) return settle(t, { ticket: found.ticket }, ctx);
  return applyOnPlatform({ ...t, uncertainSince: t.uncertainSince ?? new Date().toISOString() }, ctx);
}

/** One transfer of an account the caller may read. */
export async function getTradingTransfer(
  input: { accountId: string; transferId: string },
  caller: Caller,
  _ctx: CommandContext,
): Promise<TransferItem> {
  await readableAccount(input.accountId, caller);
  const t = await getTransfer(input.transferId, { consistent: true });
  if (!t || t.accountId !== input.accountId) throw transferNotFound();
  return t;
}

export async function listTradingTransfers(
  input: { accountId: string; limit: number; cursor?: string | undefined },
  caller: Caller,
  _ctx: CommandContext,
) {
  await readableAccount(input.accountId, caller);
  return listAccountTransfers(input.accountId, { limit: input.limit, cursor: input.cursor });
}

export const TRANSFER_RESOLVER_JOB = 'trading-transfer-resolver';

/** The resolver job: every pending transfer older than `minAgeMs`, asked of its platform (at most `max`). */
export async function resolvePendingTransfers(
  input: { minAgeMs: number; max: number },
  ctx: CommandContext,
): Promise<{ checked: number; completed: number; failed: number; pending: number }> {
  const list = await pendingTransfers(new Date((ctx.now ?? new Date()).getTime() - input.minAgeMs), input.max);
  const sagaCtx: SagaCtx = { actor: systemActor(TRANSFER_RESOLVER_JOB), requestId: ctx.requestId, now: ctx.now };
  const out = { checked: list.length, completed: 0, failed: 0, pending: 0 };
  for (const t of list) {
    let r: TransferItem = t;
    try {
      const account = await getTradingAccount(t.accountId);
      if (account) r = await resolveTransfer(t, sagaCtx);
    } catch (err) {
      logger.error('trading transfer: resolving failed', { transferId: t.transferId, error: (err as Error).name });
    }
    out[r.status === 'completed' ? 'completed' : r.status === 'failed' ? 'failed' : 'pending'] += 1;
  }
  return out;
}
