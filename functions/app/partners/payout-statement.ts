/**
 * A payout's statement (issue 16 part 4): every accrual line of the payout's window, as JSON and as CSV. Rules and
 * the CSV: domain/partners/payouts.ts; who may read it: payout-reads.ts.
 *
 * Invariants:
 * - the lines are re-listed from the partner's accrual order (gsi1) in the payout's window (from, periodEnd] and
 *   currency: lines are never marked, so the statement is the window
 * - the total is the exact bigint sum of the lines and, for a paid payout, equals its amount and its journal's;
 *   a paid payout whose window no longer sums to its amount is an invariant breach: an error (500, logged), never
 *   a statement that disagrees with the money moved
 * - the CSV has one row per line and money as decimal strings of the currency: its amount column sums to the total
 */
import { formatAmount } from '#domain/money/index.ts';
import { type StatementLine, statementCsv, statementFileName, sumLines } from '#domain/partners/payouts.ts';
import { logger } from '#shared/powertools.ts';
import { partnerLines } from '#store/partner-accruals.ts';
import { getPayout, type PayoutItem, payoutNotFound } from '#store/partner-payouts.ts';

export interface PayoutStatementResult {
  payout: PayoutItem;
  /** Every line of the window, in accrual order. */
  lines: StatementLine[];
  /** Sum of the lines, minor units. */
  total: bigint;
  /** The JSON statement (money as decimal strings of the currency). */
  json: PayoutStatementJson;
  /** The same lines as RFC 4180 CSV. */
  csv: string;
  fileName: string;
}

export interface PayoutStatementJson {
  payoutId: string;
  partnerId: string;
  status: PayoutItem['status'];
  currency: string;
  period: { from: string; end: string };
  amount: string;
  total: string;
  lineCount: number;
  journalId: string | null;
  lines: {
    lineId: string;
    sourceKey: string;
    kind: string;
    rule: string;
    tier: number;
    clientId: string;
    amount: string;
    rate: string;
    accruedAt: string;
    planId: string;
    planVersion: number;
  }[];
}

/**
 * The statement of a payout (404 payout_not_found). The partner's own view names the client of a line only when
 * the client is its own referral (tier 0): a line earned through a sub-partner shows `tier:<n>` instead, as the
 * dashboard does (a sub-partner's clients reach an ancestor as aggregates only). Staff see every client.
 */
export async function payoutStatement(payoutId: string, view: 'partner' | 'staff' = 'staff'): Promise<PayoutStatementResult> {
  const payout = await getPayout(payoutId, { consistent: true });
  if (!payout) throw payoutNotFound();
  const lines: StatementLine[] = [];
  for await (const page of partnerLines(payout.partnerId, payout.from, payout.periodEnd)) {
    for (const l of page) {
      if (l.currency !== payout.currency) continue;
      lines.push({
        lineId: l.lineId,
        sourceKey: l.sourceKey,
        kind: l.kind,
        rule: l.rule,
        tier: l.tier,
        clientId: view === 'partner' && l.tier > 0 ? `tier:${l.tier}` : l.clientId,
        amount: BigInt(l.amount),
        currency: l.currency,
        rate: l.rate,
        accruedAt: l.accruedAt,
        planId: l.planId,
        planVersion: l.planVersion,
      });
    }
  }
  const total = sumLines(lines);
  if (total !== BigInt(payout.amount) || lines.length !== payout.lines) {
    const detail = { payoutId, status: payout.status, amount: payout.amount, total: total.toString(), lines: lines.length };
    if (payout.status === 'paid') {
      logger.error('partner payout statement differs from its journal', detail);
      throw new Error(`partner payouts: the window of ${payoutId} no longer sums to its amount`);
    }
    logger.warn('partner payout statement differs from the recorded window', detail);
  }
  const fmt = (v: bigint) => formatAmount(v, payout.currency);
  return {
    payout,
    lines,
    total,
    json: {
      payoutId: payout.payoutId,
      partnerId: payout.partnerId,
      status: payout.status,
      currency: payout.currency,
      period: { from: payout.from, end: payout.periodEnd },
      amount: fmt(BigInt(payout.amount)),
      total: fmt(total),
      lineCount: lines.length,
      journalId: payout.journalId ?? null,
      lines: lines.map((l) => ({
        lineId: l.lineId,
        sourceKey: l.sourceKey,
        kind: l.kind,
        rule: l.rule,
        tier: l.tier,
        clientId: l.clientId,
        amount: fmt(l.amount),
        rate: l.rate,
        accruedAt: l.accruedAt,
        planId: l.planId,
        planVersion: l.planVersion,
      })),
    },
    csv: statementCsv(lines),
    fileName: statementFileName(payoutId),
  };
}
