/**
 * Resolve a chargeback with the dispute's outcome (the provider's chargeback.won / chargeback.lost
 * webhook; money rules in domain/payments/chargebacks.ts, ADR 0008).
 *
 * Invariants:
 * - only an open chargeback moves, once: anything else is { applied: false, reason: 'chargeback_not_open' }
 *   (an unknown one 'unknown_chargeback')
 * - won: ONE transaction with the exact reverse journal (`cbr_<chargebackId>`, type 'reversal',
 *   idempotency scope 'psp-chargeback-won'), the chargeback 'won', the funding source's `returned`
 *   lowered back, the webhook marker, audit and outbox 'payment.chargeback.won'
 * - lost: the chargeback 'lost' with the marker, audit and outbox 'payment.chargeback.lost'; no money moves
 * - the deposit stays 'charged_back'; the freeze and the case stay until compliance closes the case
 */

import { toMinor } from '#domain/money/index.ts';
import type { ChargebackSplit } from '#domain/payments/chargebacks.ts';
import { chargebackReversalPostings } from '#domain/payments/chargebacks.ts';
import { type AuditInput, commit } from '#store/audit.ts';
import type { CommitWrite } from '#store/items.ts';
import { houseAccount } from '#store/ledger/accounts.ts';
import { executeJournal } from '#store/ledger/journals.ts';
import {
  CHARGEBACK_ENTITY,
  chargebackEventDetail,
  chargebackReversalJournalId,
  chargebackSnapshot,
  getChargeback,
} from '#store/payments/chargebacks.ts';
import { fundingSourceReturn } from '#store/payments/client-state.ts';
import { getDeposit } from '#store/payments/deposits.ts';
import { retriedReplace } from '#store/payments/refunds.ts';
import { type Chargeback, type ChargebackContext, ChargebackIgnored, type ChargebackOutcome } from './chargeback-shared.ts';

export interface ResolveChargebackInput {
  chargebackId: string;
  outcome: 'won' | 'lost';
}

/** A dispute's outcome: won (the reverse journal) or lost (no money moves). Only an open chargeback moves. */
export async function resolveChargeback(input: ResolveChargebackInput, ctx: ChargebackContext): Promise<ChargebackOutcome> {
  const { chargebackId, outcome } = input;
  const first = await getChargeback(chargebackId);
  if (!first) return { applied: false, reason: 'unknown_chargeback' };
  if (first.status !== 'open') return { applied: false, reason: 'chargeback_not_open', chargebackId };

  const resolved = (c: Chargeback, at: string, extra: Partial<Chargeback> = {}): Chargeback => ({
    ...c,
    ...extra,
    status: outcome,
    timeline: [...c.timeline, { status: outcome, at }],
    resolvedAt: at,
  });
  const auditOf = (before: Chargeback, after: Chargeback): AuditInput => ({
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
      outbox: [{ detailType: 'payment.chargeback.lost', detail: chargebackEventDetail(next) }],
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
  let won: Chargeback | undefined;
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
          if (c?.status !== 'open') throw new ChargebackIgnored('chargeback_not_open');
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
              { detailType: 'payment.chargeback.won', detail: { ...chargebackEventDetail(next), reversalJournalId: journalId } },
            ],
          };
        },
      },
    );
  } catch (err) {
    if (err instanceof ChargebackIgnored) return { applied: false, reason: err.reason, chargebackId };
    throw err;
  }
  return { applied: true, chargeback: won! };
}
