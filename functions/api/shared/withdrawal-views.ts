/**
 * The withdrawal as the API shows it, to its client (functions/api/withdrawals.ts) and to staff (the same
 * routes and functions/api/withdrawals-admin.ts), and the funding sources a withdrawal must go back to first.
 *
 * Invariants:
 * - a client sees its timeline with client-safe reasons (a confidential code shows as its neutral public
 *   code and text); staff also see the raw codes, the checks with evidence, the review, the payout, the
 *   hold, the journal, the execution and the destination account
 * - never the task tokens, never storage attributes (keys, version, index attributes, request hash)
 * - money is shown as stored: decimal strings in major units
 */
import * as z from 'zod';
import type { WithdrawalFundingSource } from '#app/payments/list-withdrawal-funding-sources.ts';
import { isCancellable, type Withdrawal } from '#app/payments/withdrawal-shared.ts';
import { text } from '#domain/messages/catalogue.ts';
import { formatAmount, formatMoney } from '#domain/money/index.ts';
import { findMethod, labelFor } from '#domain/payments/methods.ts';
import { clientReason } from '#domain/payments/reasons.ts';
import { tenantConfig } from '#shared/tenant.ts';

const Id = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_.:-]+$/);

export const WithdrawalParams = z.strictObject({ withdrawalId: Id });

export const MoneyOut = z.object({ amount: z.string(), currency: z.string() });

export const WithdrawalViewSchema = z.object({
  withdrawalId: z.string(),
  status: z.string(),
  walletId: z.string(),
  method: z.object({ id: z.string(), kind: z.string(), label: z.string() }),
  gross: MoneyOut,
  fee: MoneyOut,
  net: MoneyOut,
  destination: z.object({ display: z.string(), account: z.string().optional(), sourceId: z.string().optional() }),
  timeline: z.array(
    z.object({ status: z.string(), at: z.string(), reason: z.string().optional(), reasonText: z.string().optional() }),
  ),
  cancellable: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

const OwedView = z.object({
  currency: z.string(),
  outstanding: MoneyOut.meta({ description: 'Deposited from this source and not yet returned to it' }),
  text: z.string().meta({ example: 'Withdraw to your Visa •4242 first, up to 100.00 EUR' }),
});

export const FundingSourceView = z.object({
  sourceId: z.string(),
  method: z.object({ id: z.string(), kind: z.string(), label: z.string() }),
  display: z.string(),
  withdrawable: z.boolean().meta({ description: 'The method still pays out (it supports withdrawals)' }),
  firstUsedAt: z.string(),
  lastUsedAt: z.string(),
  owed: z.array(OwedView),
});

/**
 * The API shape of a withdrawal (see the module invariants): the client view, or with `staff` the staff view.
 */
export function withdrawalView(w: Withdrawal, locale: string, opts: { staff?: boolean } = {}) {
  const method = findMethod(tenantConfig(), w.methodId);
  const staff = opts.staff === true;
  return {
    withdrawalId: w.withdrawalId,
    status: w.status,
    walletId: w.walletId,
    method: { id: w.methodId, kind: w.methodKind, label: method ? labelFor(method, locale) : w.methodId },
    gross: w.gross,
    fee: w.fee,
    net: w.net,
    destination: staff
      ? {
          display: w.destination.display,
          account: w.destination.account,
          ...(w.destination.sourceId ? { sourceId: w.destination.sourceId } : {}),
        }
      : { display: w.destination.display },
    timeline: w.timeline.map((t) => {
      if (!t.reason) return { status: t.status, at: t.at };
      const shown = clientReason(t.reason, locale);
      return {
        status: t.status,
        at: t.at,
        ...(staff ? { reason: t.reason } : shown.code ? { reason: shown.code } : {}),
        reasonText: shown.text,
      };
    }),
    cancellable: isCancellable(w),
    createdAt: w.createdAt,
    updatedAt: w.updatedAt,
    ...(staff
      ? {
          clientId: w.clientId,
          holdId: w.holdId,
          provider: w.provider,
          checks: w.checks ?? [],
          ...(w.review ? { review: w.review } : {}),
          ...(w.payout ? { payout: w.payout } : {}),
          ...(w.journalId ? { journalId: w.journalId } : {}),
          ...(w.execution ? { execution: w.execution } : {}),
          ...(w.stalledAt ? { stalledAt: w.stalledAt } : {}),
        }
      : {}),
  };
}

/** "Withdraw to your Visa •4242 first, up to 100.00 EUR" in the locale (message 'payments.withdrawal_owed'). */
export function owedText(display: string, outstanding: { amount: bigint; currency: string }, locale: string): string {
  const { amount, currency } = outstanding;
  return text('payments.withdrawal_owed', locale, { method: display, amount: formatAmount(amount, currency), currency });
}

/** The client's funding sources (oldest first), each with what it is still owed back per currency. */
export function fundingSourceViews(
  sources: readonly WithdrawalFundingSource[],
  locale: string,
): z.infer<typeof FundingSourceView>[] {
  const cfg = tenantConfig();
  return sources.map(({ source: s, owed }) => {
    const method = findMethod(cfg, s.methodId);
    return {
      sourceId: s.sourceId,
      method: { id: s.methodId, kind: s.methodKind, label: method ? labelFor(method, locale, cfg.defaultLocale) : s.methodId },
      display: s.display,
      withdrawable: method?.directions.includes('withdrawal') ?? false,
      firstUsedAt: s.firstUsedAt,
      lastUsedAt: s.lastUsedAt,
      owed: owed.map((o) => ({
        currency: o.currency,
        outstanding: formatMoney({ amount: o.outstanding, currency: o.currency }),
        text: owedText(o.display, { amount: o.outstanding, currency: o.currency }, locale),
      })),
    };
  });
}
