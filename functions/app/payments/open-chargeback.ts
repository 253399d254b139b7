/**
 * Open the chargeback of a completed deposit (the provider's chargeback.opened webhook; money rules in
 * domain/payments/chargebacks.ts, ADR 0008).
 *
 * Invariants:
 * - one dispute is one chargeback (`chb_<hash of provider + dispute id>`) and one journal
 *   (`cb_<chargebackId>`, idempotency scope 'psp-chargeback', key `<provider>:<dispute id>`): the same
 *   dispute delivered twice, under any event id, moves money once (again: 'chargeback_already_opened')
 * - opening is ONE transaction (executeJournal's extension): the journal psp_clearing +A,
 *   wallet -min(available, A), chargeback_receivable -(the rest); the chargeback item 'open'; the
 *   deposit 'charged_back'; the client's withdrawals frozen naming the case; the compliance case 'open'
 *   with its evidence (deposit, amounts, reason code, the shortfall); the funding source's `returned`;
 *   the webhook marker; audit entries for each; outbox 'payment.chargeback.received' and
 *   'compliance.case.opened'
 * - the wallet never goes negative: the split is computed from the wallet's available balance read
 *   before the journal and checked again against the balance the journal commits over (a wallet that
 *   changed in between is re-read and the split recomputed: RETRY_POLICIES.chargebackSplit); a frozen
 *   wallet pays nothing (all of A is receivable). The shortfall is never silent: it is the receivable
 *   posting and the case evidence
 * - another currency, an amount of zero or above the deposit's gross, or a deposit that is not completed
 *   change nothing: { applied: false } with the reason
 * - the deposit stays 'charged_back' and the freeze and the case stay until compliance lifts them
 */
import { createHash } from 'node:crypto';
import { isDomainError } from '#domain/errors.ts';
import { event } from '#domain/events/index.ts';
import { formatAmount, type MoneyJson, toMinor } from '#domain/money/index.ts';
import { type ChargebackSplit, chargebackPostings, chargebackSplit } from '#domain/payments/chargebacks.ts';
import { withRetry } from '#shared/retry.ts';
import type { AuditInput } from '#store/audit.ts';
import type { CommitWrite } from '#store/items.ts';
import { accountShards, houseAccount } from '#store/ledger/accounts.ts';
import { executeJournal } from '#store/ledger/journals.ts';
import { openCaseCommit } from '#store/payments/cases.ts';
import {
  CHARGEBACK_ENTITY,
  chargebackEventDetail,
  chargebackIdFor,
  chargebackJournalId,
  chargebackSnapshot,
  getChargeback,
  newChargeback,
} from '#store/payments/chargebacks.ts';
import { fundingSourceReturn } from '#store/payments/client-state.ts';
import { DEPOSIT_ENTITY, depositSnapshot, depositTransition, getDeposit } from '#store/payments/deposits.ts';
import { raceLost } from '#store/payments/refunds.ts';
import { type Chargeback, type ChargebackContext, ChargebackIgnored, type ChargebackOutcome } from './chargeback-shared.ts';
import type { Deposit } from './deposit-shared.ts';

export interface OpenChargebackInput {
  provider: string;
  deposit: Deposit;
  dispute: { id: string; reasonCode: string };
  /** A, in the deposit's currency. */
  amount: MoneyJson;
}

/** The wallet's available balance moved between the split and the journal: recompute. */
class SplitChanged extends Error {}

const json = (amount: bigint, currency: string): MoneyJson => ({ amount: formatAmount(amount, currency), currency });

/** What the wallet can pay now: its available balance, or nothing when frozen. */
async function walletAvailable(walletId: string): Promise<bigint> {
  const shards = await accountShards(walletId);
  if (shards.some((s) => s.flags.frozen)) return 0n;
  return shards.reduce((sum, s) => sum + s.available, 0n);
}

/** Opens the chargeback of a completed deposit (see the module invariants). */
export async function openChargeback(input: OpenChargebackInput, ctx: ChargebackContext): Promise<ChargebackOutcome> {
  const { provider, dispute } = input;
  const chargebackId = chargebackIdFor(provider, dispute.id);
  if (await getChargeback(chargebackId)) return { applied: false, reason: 'chargeback_already_opened', chargebackId };
  const d = input.deposit;
  const cur = d.gross.currency;
  if (input.amount.currency !== cur) return { applied: false, reason: 'currency_mismatch' };
  const a = toMinor(input.amount.amount, cur);
  if (a <= 0n || a > toMinor(d.gross.amount, cur)) return { applied: false, reason: 'amount_mismatch' };
  if (d.status !== 'completed') return { applied: false, reason: 'deposit_not_chargeable' };

  const [clearing, receivable] = await Promise.all([
    houseAccount('psp_clearing', cur),
    houseAccount('chargeback_receivable', cur),
  ]);
  const accounts = { clearing: clearing.accountId, wallet: d.walletId, receivable: receivable.accountId };
  const journalId = chargebackJournalId(chargebackId);
  const requestHash = createHash('sha256').update(`${d.depositId}\u0000${a}\u0000${cur}`, 'utf8').digest('hex');

  const attempt = async (): Promise<Chargeback> => {
    const available = await walletAvailable(d.walletId);
    const split = chargebackSplit(a, available);
    let opened: Chargeback | undefined;
    await executeJournal(
      {
        draft: {
          journalId,
          type: 'chargeback',
          postings: chargebackPostings(accounts, split, cur),
          reference: `chargeback:${d.depositId}`,
          description: 'Chargeback of a deposit',
          metadata: {
            psp: { provider, providerRef: dispute.id, kind: 'chargeback' },
            chargebackId,
            depositId: d.depositId,
            depositProviderRef: d.providerRef,
            reasonCode: dispute.reasonCode,
          },
        },
        idempotency: { scope: 'psp-chargeback', key: `${provider}:${dispute.id}`, requestHash },
        actor: ctx.actor,
        requestId: ctx.requestId,
        clientId: d.clientId,
      },
      {
        async prepare({ balances, at }) {
          // The split must hold against the balance this transaction commits over (version-conditioned).
          // (validateJournal already refused a frozen wallet that is posted to; one not posted to is read again)
          const w = balances.get(d.walletId);
          const now = w ? w.available : await walletAvailable(d.walletId);
          if (chargebackSplit(a, now).fromWallet !== split.fromWallet) throw new SplitChanged();
          if (await getChargeback(chargebackId)) throw new ChargebackIgnored('chargeback_already_opened');
          const dep = await getDeposit(d.depositId, { consistent: true });
          if (dep?.status !== 'completed') throw new ChargebackIgnored('deposit_not_chargeable');
          const built = await openingWrites(dep, { chargebackId, journalId, provider, dispute, split, available: now, at }, ctx);
          opened = built.chargeback;
          return { adjusted: new Set<string>(), ...built.commit };
        },
      },
    );
    return opened!;
  };

  try {
    const chargeback = await withRetry(
      'chargebackSplit',
      attempt,
      (err) =>
        err instanceof SplitChanged ||
        (isDomainError(err) && (err.code === 'insufficient_funds' || err.code === 'account_frozen')),
    );
    return { applied: true, chargeback };
  } catch (err) {
    if (err instanceof ChargebackIgnored) return { applied: false, reason: err.reason, chargebackId };
    if (isDomainError(err) && err.code === 'journal_id_taken')
      return { applied: false, reason: 'chargeback_already_opened', chargebackId };
    throw err;
  }
}

async function openingWrites(
  d: Deposit,
  o: {
    chargebackId: string;
    journalId: string;
    provider: string;
    dispute: { id: string; reasonCode: string };
    split: ChargebackSplit;
    available: bigint;
    at: string;
  },
  ctx: ChargebackContext,
) {
  const cur = d.gross.currency;
  const { at, split, chargebackId } = o;
  const opened = await openCaseCommit(
    {
      kind: 'chargeback',
      clientId: d.clientId,
      subject: { type: CHARGEBACK_ENTITY, id: chargebackId },
      evidence: {
        depositId: d.depositId,
        depositProviderRef: d.providerRef,
        provider: o.provider,
        disputeId: o.dispute.id,
        reasonCode: o.dispute.reasonCode,
        depositGross: d.gross,
        depositNet: d.net,
        depositRefunded: d.refunded ?? json(0n, cur),
        amount: json(split.amount, cur),
        walletAvailableBefore: json(o.available > 0n ? o.available : 0n, cur),
        fromWallet: json(split.fromWallet, cur),
        shortfall: json(split.receivable, cur),
        journalId: o.journalId,
      },
    },
    ctx,
    at,
    { freeze: true },
  );
  const { chargeback, write: put } = newChargeback(
    {
      chargebackId,
      provider: o.provider,
      disputeId: o.dispute.id,
      reasonCode: o.dispute.reasonCode,
      depositId: d.depositId,
      depositProviderRef: d.providerRef ?? '',
      clientId: d.clientId,
      walletId: d.walletId,
      amount: json(split.amount, cur),
      fromWallet: json(split.fromWallet, cur),
      receivable: json(split.receivable, cur),
      journalId: o.journalId,
      caseId: opened.item.caseId,
      openedAt: at,
    },
    at,
  );
  const dep = depositTransition(d, 'charged_back', { at, patch: { chargebackId } });
  const writes: CommitWrite[] = [
    put,
    { ...dep.write, conditionFailedError: raceLost('deposit') },
    ...opened.writes,
    ...(ctx.marker ? [ctx.marker] : []),
  ];
  if (d.sourceId) writes.push(fundingSourceReturn(d.clientId, d.sourceId, { minor: split.amount, currency: cur }));
  const audit: AuditInput[] = [
    {
      actor: ctx.actor,
      action: 'payment.chargeback.opened',
      entity: { type: CHARGEBACK_ENTITY, id: chargebackId },
      newEntity: true,
      clientId: d.clientId,
      before: null,
      after: chargebackSnapshot(chargeback),
      requestId: ctx.requestId,
    },
    {
      actor: ctx.actor,
      action: 'payment.deposit.charged_back',
      entity: { type: DEPOSIT_ENTITY, id: d.depositId },
      clientId: d.clientId,
      before: depositSnapshot(d),
      after: { ...depositSnapshot(dep.next), chargebackId },
      requestId: ctx.requestId,
    },
    ...opened.audit,
  ];
  const outbox = [event('payment.chargeback.received', chargebackEventDetail(chargeback)), ...opened.outbox];
  return { chargeback, commit: { writes, audit, outbox } };
}
