/**
 * Chargebacks (pk CHARGEBACK#<chargebackId>, sk CHARGEBACK; gsi1 CHARGEBACKS#<clientId>): a disputed
 * deposit taken back by the provider. Money rules: domain/payments/chargebacks.ts; ADR 0008.
 *
 * Invariants:
 * - a chargeback id is derived from (provider, dispute id): `chb_<hash>`; one dispute is one
 *   chargeback and one journal (`cb_<chargebackId>`, idempotency scope 'psp-chargeback', key
 *   `<provider>:<dispute id>`): the same dispute delivered twice, under any event id, moves money once
 * - opening is ONE transaction (executeJournal's extension): the journal psp_clearing +A,
 *   wallet -min(available, A), chargeback_receivable -(the rest); the chargeback item 'open'; the
 *   deposit 'charged_back'; the client's withdrawals frozen naming the case; the compliance case 'open'
 *   with its evidence (deposit, amounts, reason code, the shortfall); the funding source's `returned`;
 *   the webhook marker; audit entries for each; outbox 'payment.chargeback.received' and
 *   'compliance.case.opened'
 * - the wallet never goes negative: the split is computed from the wallet's available balance read
 *   before the journal and checked again against the balance the journal commits over (a wallet that
 *   changed in between is re-read and the split recomputed); a frozen wallet pays nothing (all of A is
 *   receivable). The shortfall is never silent: it is the receivable posting and the case evidence
 * - won: ONE transaction with the exact reverse journal (`cbr_<chargebackId>`, type 'reversal'), the
 *   chargeback 'won', the funding source's `returned` lowered back, marker, audit, outbox. lost: the
 *   chargeback 'lost', no money moves. Either happens once (only from 'open')
 * - the deposit stays 'charged_back' and the freeze and the case stay until compliance lifts them
 *   (no route for that yet)
 */
import { createHash } from 'node:crypto';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { AuditActor } from '#domain/audit/chain.ts';
import { DomainError, isDomainError } from '#domain/errors.ts';
import { formatAmount, type MoneyJson, toMinor } from '#domain/money/index.ts';
import {
  type ChargebackSplit,
  type ChargebackStatus,
  chargebackPostings,
  chargebackReversalPostings,
  chargebackSplit,
} from '#domain/payments/chargebacks.ts';
import { ddb } from '#shared/clients.ts';
import { type AuditInput, commit } from '../audit.ts';
import { type CommitWrite, newItem, putNew, tableName } from '../items.ts';
import { paymentKeys } from '../keys.ts';
import { accountShards, houseAccount } from '../ledger/accounts.ts';
import { executeJournal } from '../ledger/journals.ts';
import type { BaseItem } from '../table.ts';
import { openCaseCommit } from './cases.ts';
import { fundingSourceReturn } from './client-state.ts';
import { DEPOSIT_ENTITY, depositSnapshot, depositTransition, getDeposit, type StoredDeposit } from './deposits.ts';
import { retriedReplace } from './refunds.ts';
import type { TimelineEntry } from './types.ts';

export const CHARGEBACK_ENTITY = paymentKeys.chargebackType;
const MAX_SPLIT_ATTEMPTS = 10;

export type ChargebackItem = BaseItem & {
  type: 'chargeback';
  chargebackId: string;
  provider: string;
  disputeId: string;
  reasonCode: string;
  depositId: string;
  depositProviderRef: string;
  clientId: string;
  walletId: string;
  /** A: what the provider took back. */
  amount: MoneyJson;
  /** Debited from the wallet: min(available, A). */
  fromWallet: MoneyJson;
  /** The shortfall booked to chargeback_receivable: A - fromWallet. */
  receivable: MoneyJson;
  status: ChargebackStatus;
  timeline: TimelineEntry<ChargebackStatus>[];
  journalId: string;
  reversalJournalId?: string | undefined;
  caseId: string;
  openedAt: string;
  resolvedAt?: string | undefined;
  gsi1pk: string;
  gsi1sk: string;
};

export const chargebackIdFor = (provider: string, disputeId: string) =>
  `chb_${createHash('sha256').update(`${provider}\u0000${disputeId}`, 'utf8').digest('hex').slice(0, 32)}`;
export const chargebackJournalId = (chargebackId: string) => `cb_${chargebackId}`;
export const chargebackReversalJournalId = (chargebackId: string) => `cbr_${chargebackId}`;

export async function getChargeback(chargebackId: string): Promise<ChargebackItem | undefined> {
  const res = await ddb().send(
    new GetCommand({ TableName: tableName(), Key: paymentKeys.chargeback(chargebackId), ConsistentRead: true }),
  );
  return res.Item as ChargebackItem | undefined;
}

const json = (amount: bigint, currency: string): MoneyJson => ({ amount: formatAmount(amount, currency), currency });

export const chargebackSnapshot = (c: ChargebackItem) => ({
  chargebackId: c.chargebackId,
  depositId: c.depositId,
  disputeId: c.disputeId,
  reasonCode: c.reasonCode,
  status: c.status,
  amount: c.amount,
  fromWallet: c.fromWallet,
  receivable: c.receivable,
  journalId: c.journalId,
  ...(c.reversalJournalId ? { reversalJournalId: c.reversalJournalId } : {}),
  caseId: c.caseId,
});

const chargebackEvent = (c: ChargebackItem) => ({
  chargebackId: c.chargebackId,
  depositId: c.depositId,
  clientId: c.clientId,
  walletId: c.walletId,
  amount: c.amount.amount,
  currency: c.amount.currency,
  fromWallet: c.fromWallet.amount,
  receivable: c.receivable.amount,
  reasonCode: c.reasonCode,
  caseId: c.caseId,
});

export type ChargebackOutcome =
  | { applied: true; chargeback: ChargebackItem }
  | { applied: false; reason: string; chargebackId?: string };

/** Refusals found inside the transaction's preparation: reported as 'ignored', never as an error. */
class Ignored extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}
/** The wallet's available balance moved between the split and the journal: recompute. */
class SplitChanged extends Error {}

interface Ctx {
  actor: AuditActor;
  requestId: string;
  /** The webhook event marker, committed with the change. */
  marker?: CommitWrite | undefined;
}

/** What the wallet can pay now: its available balance, or nothing when frozen. */
async function walletAvailable(walletId: string): Promise<bigint> {
  const shards = await accountShards(walletId);
  if (shards.some((s) => s.flags.frozen)) return 0n;
  return shards.reduce((sum, s) => sum + s.available, 0n);
}

export interface OpenChargebackInput {
  provider: string;
  deposit: StoredDeposit;
  dispute: { id: string; reasonCode: string };
  /** A, in the deposit's currency. */
  amount: MoneyJson;
}

/** Opens the chargeback of a completed deposit (see the module invariants). */
export async function openChargeback(input: OpenChargebackInput, ctx: Ctx): Promise<ChargebackOutcome> {
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

  for (let attempt = 0; ; attempt++) {
    const available = await walletAvailable(d.walletId);
    const split = chargebackSplit(a, available);
    let opened: ChargebackItem | undefined;
    try {
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
            if (await getChargeback(chargebackId)) throw new Ignored('chargeback_already_opened');
            const dep = await getDeposit(d.depositId, { consistent: true });
            if (dep?.status !== 'completed') throw new Ignored('deposit_not_chargeable');
            const built = await openingWrites(
              dep,
              { chargebackId, journalId, provider, dispute, split, available: now, at },
              ctx,
            );
            opened = built.chargeback;
            return { adjusted: new Set<string>(), ...built.commit };
          },
        },
      );
      return { applied: true, chargeback: opened! };
    } catch (err) {
      if (err instanceof Ignored) return { applied: false, reason: err.reason, chargebackId };
      const retry =
        err instanceof SplitChanged ||
        (isDomainError(err) && (err.code === 'insufficient_funds' || err.code === 'account_frozen'));
      if (!retry || attempt + 1 >= MAX_SPLIT_ATTEMPTS) {
        if (isDomainError(err) && err.code === 'journal_id_taken')
          return { applied: false, reason: 'chargeback_already_opened', chargebackId };
        throw err;
      }
    }
  }
}

async function openingWrites(
  d: StoredDeposit,
  o: {
    chargebackId: string;
    journalId: string;
    provider: string;
    dispute: { id: string; reasonCode: string };
    split: ChargebackSplit;
    available: bigint;
    at: string;
  },
  ctx: Ctx,
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
  const chargeback = newItem(
    {
      ...paymentKeys.chargeback(chargebackId),
      type: 'chargeback' as const,
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
      status: 'open' as ChargebackStatus,
      timeline: [{ status: 'open' as ChargebackStatus, at, reason: o.dispute.reasonCode }],
      journalId: o.journalId,
      caseId: opened.item.caseId,
      openedAt: at,
      ...paymentKeys.clientChargebacksIndex(d.clientId, at, chargebackId),
    },
    at,
  ) as ChargebackItem;
  const dep = depositTransition(d, 'charged_back', { at, patch: { chargebackId } });
  const writes: CommitWrite[] = [
    putNew(chargeback, new DomainError('chargeback_exists', 'conflict', 'This chargeback is already recorded')),
    { ...dep.write, conditionFailedError: new DomainError('concurrent_modification', 'conflict', 'The deposit changed; retry') },
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
  const outbox = [{ detailType: 'payment.chargeback.received', detail: chargebackEvent(chargeback) }, ...opened.outbox];
  return { chargeback, commit: { writes, audit, outbox } };
}

/** A dispute's outcome: won (the reverse journal) or lost (no money moves). Only an open chargeback moves. */
export async function resolveChargeback(chargebackId: string, outcome: 'won' | 'lost', ctx: Ctx): Promise<ChargebackOutcome> {
  const first = await getChargeback(chargebackId);
  if (!first) return { applied: false, reason: 'unknown_chargeback' };
  if (first.status !== 'open') return { applied: false, reason: 'chargeback_not_open', chargebackId };

  const resolved = (c: ChargebackItem, at: string, extra: Partial<ChargebackItem> = {}): ChargebackItem => ({
    ...c,
    ...extra,
    status: outcome,
    timeline: [...c.timeline, { status: outcome, at }],
    resolvedAt: at,
  });
  const auditOf = (before: ChargebackItem, after: ChargebackItem): AuditInput => ({
    actor: ctx.actor,
    action: `payment.chargeback.${outcome}`,
    entity: { type: CHARGEBACK_ENTITY, id: chargebackId },
    clientId: before.clientId,
    before: chargebackSnapshot(before),
    after: chargebackSnapshot(after),
    requestId: ctx.requestId,
  });

  if (outcome === 'lost') {
    const at = new Date().toISOString();
    const next = resolved(first, at);
    await commit({
      writes: [retriedReplace(first, next, at, 'chargeback'), ...(ctx.marker ? [ctx.marker] : [])],
      audit: auditOf(first, next),
      outbox: [{ detailType: 'payment.chargeback.lost', detail: chargebackEvent(next) }],
    });
    return { applied: true, chargeback: { ...next, version: first.version + 1, updatedAt: at } };
  }

  const cur = first.amount.currency;
  const split: ChargebackSplit = {
    amount: toMinor(first.amount.amount, cur),
    fromWallet: toMinor(first.fromWallet.amount, cur),
    receivable: toMinor(first.receivable.amount, cur),
  };
  const [clearing, receivable] = await Promise.all([
    houseAccount('psp_clearing', cur),
    houseAccount('chargeback_receivable', cur),
  ]);
  const accounts = { clearing: clearing.accountId, wallet: first.walletId, receivable: receivable.accountId };
  const journalId = chargebackReversalJournalId(chargebackId);
  let won: ChargebackItem | undefined;
  try {
    await executeJournal(
      {
        draft: {
          journalId,
          type: 'reversal',
          postings: chargebackReversalPostings(accounts, split, cur),
          reference: `chargeback:${first.depositId}`,
          description: 'Chargeback reversed: dispute won',
          metadata: {
            psp: { provider: first.provider, providerRef: first.disputeId, kind: 'chargeback' },
            chargebackId,
            depositId: first.depositId,
            reverses: first.journalId,
          },
        },
        idempotency: { scope: 'psp-chargeback-won', key: `${first.provider}:${first.disputeId}`, requestHash: chargebackId },
        actor: ctx.actor,
        requestId: ctx.requestId,
        clientId: first.clientId,
      },
      {
        async prepare({ at }) {
          const c = await getChargeback(chargebackId);
          if (c?.status !== 'open') throw new Ignored('chargeback_not_open');
          const next = resolved(c, at, { reversalJournalId: journalId });
          won = { ...next, version: c.version + 1, updatedAt: at };
          const dep = await getDeposit(c.depositId, { consistent: true });
          const writes: CommitWrite[] = [retriedReplace(c, next, at, 'chargeback'), ...(ctx.marker ? [ctx.marker] : [])];
          // The money came back from the card holder: the source's returned total goes down by A again.
          if (dep?.sourceId) writes.push(fundingSourceReturn(c.clientId, dep.sourceId, { minor: -split.amount, currency: cur }));
          return {
            adjusted: new Set<string>(),
            writes,
            audit: [auditOf(c, next)],
            outbox: [
              { detailType: 'payment.chargeback.won', detail: { ...chargebackEvent(next), reversalJournalId: journalId } },
            ],
          };
        },
      },
    );
  } catch (err) {
    if (err instanceof Ignored) return { applied: false, reason: err.reason, chargebackId };
    throw err;
  }
  return { applied: true, chargeback: won! };
}

/** The chargeback as the back office sees it. */
export function chargebackView(c: ChargebackItem) {
  return {
    ...chargebackSnapshot(c),
    clientId: c.clientId,
    walletId: c.walletId,
    provider: c.provider,
    timeline: c.timeline,
    openedAt: c.openedAt,
    ...(c.resolvedAt ? { resolvedAt: c.resolvedAt } : {}),
  };
}
