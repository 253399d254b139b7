/**
 * The deposit as the API shows it: to its client (GET /v1/deposits...), to staff (the same with the
 * staff fields) and in the back office's lists (payments-admin.ts, withdrawals-admin.ts).
 *
 * Invariants:
 * - the view never shows storage attributes (keys, version, index attributes, request hash)
 * - a client sees each timeline reason as localised text besides its code
 * - provider, providerRef, clientId and journalId are for staff only
 * - the provider's next action is shown only while the deposit is open (created / pending)
 */

import type { DepositWithRefunds, StoredDeposit } from '#app/payments/deposit-shared.ts';
import { toMinor } from '#domain/money/index.ts';
import { findMethod, labelFor } from '#domain/payments/methods.ts';
import type { NextAction } from '#domain/payments/ports.ts';
import { paymentReasonText } from '#domain/payments/reasons.ts';
import type { DepositStatus } from '#domain/payments/status.ts';
import { tenantConfig } from '#shared/tenant.ts';

const isOpen = (s: DepositStatus) => s === 'created' || s === 'pending';

/** The deposit as the API shows it (see the module invariants). */
export function depositView(d: StoredDeposit, locale: string, opts: { staff?: boolean } = {}) {
  const cfg = tenantConfig();
  const method = findMethod(cfg, d.methodId);
  return {
    depositId: d.depositId,
    status: d.status,
    walletId: d.walletId,
    method: {
      id: d.methodId,
      kind: d.methodKind,
      label: method ? labelFor(method, locale, cfg.defaultLocale) : d.methodId,
    },
    gross: d.gross,
    fee: d.fee,
    net: d.net,
    ...(d.nextAction && isOpen(d.status) ? { nextAction: d.nextAction as NextAction } : {}),
    intentExpiresAt: d.intentExpiresAt,
    firstDeposit: d.firstDeposit ?? false,
    ...(d.refunded ? { refunded: d.refunded } : {}),
    ...(d.sourceDisplay ? { source: d.sourceDisplay } : {}),
    timeline: d.timeline.map((e) => ({
      status: e.status,
      at: e.at,
      ...(e.reason ? { reason: e.reason, reasonText: paymentReasonText(e.reason, locale) } : {}),
    })),
    ...(d.completedAt ? { completedAt: d.completedAt } : {}),
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
    ...(opts.staff
      ? {
          clientId: d.clientId,
          provider: d.provider,
          ...(d.providerRef ? { providerRef: d.providerRef } : {}),
          ...(d.journalId ? { journalId: d.journalId } : {}),
        }
      : {}),
  };
}

export type DepositView = ReturnType<typeof depositView>;

/** The deposit in the back office: the staff view plus its pending refunds and chargeback. */
export function adminDepositView(d: DepositWithRefunds, locale: string) {
  return {
    ...depositView(d, locale, { staff: true }),
    ...(d.refundsPending && toMinor(d.refundsPending.amount, d.refundsPending.currency) > 0n
      ? { refundsPending: d.refundsPending }
      : {}),
    ...(d.chargebackId ? { chargebackId: d.chargebackId } : {}),
  };
}
