/**
 * Payment email templates (en / de / es, the same locale fallback as templates.ts): the outcomes the
 * manifest rule 'payment-outcomes-to-notifications' routes to the notifications worker. The texts are
 * the message catalogue's (domain/messages/email.ts); this module assembles and renders them.
 *
 * Templates: 'deposit_completed', 'deposit_failed', 'withdrawal_completed', 'withdrawal_rejected',
 * 'withdrawal_failed', 'refund_completed', 'chargeback_received'.
 *
 * Invariants:
 * - every template exists in 'en', 'de' and 'es'
 * - amounts are the event's decimal strings, shown with the locale's decimal separator and the currency
 *   code; never parsed into a float
 * - a reason reaches the email only as its client text from the payment reason catalogue
 *   (domain/payments/reasons.ts paymentReasonText): a code never appears, and a confidential reason
 *   (AML, fraud) reads as the catalogue's neutral "could not be completed" sentence (these emails report
 *   final outcomes, never "under review"); an unknown code reads as its generic sentence
 * - inputs are escaped before they go into HTML; text and HTML carry the same paragraphs
 * - no personal data beyond the first name
 */
import type { Locale } from '#domain/kyc/decision.ts';
import { text } from '#domain/messages/catalogue.ts';
import { isClientSafeReason, isPaymentReasonCode, NEUTRAL_NOT_COMPLETED, paymentReasonText } from '#domain/payments/reasons.ts';
import type { EmailMessage } from './port.ts';
import { type EmailBaseInput, greeting, help, localeOf, render } from './templates.ts';

export interface PaymentEmailInput extends EmailBaseInput {
  /** Decimal string, e.g. '97.50'. */
  amount: string;
  currency: string;
  /** A reason code (failed / rejected), shown only as its client text. */
  reason?: string | undefined;
}

export interface WithdrawalCompletedInput extends PaymentEmailInput {
  /** What is paid out (the amount less the fee), decimal string. */
  net: string;
  /** The fee, decimal string ('0.00' when none). */
  fee: string;
}

/** '1234.50' + 'EUR' in the locale: '1234.50 EUR' (en), '1234,50 EUR' (de, es). A decimal string, never a float. */
export function formatPaymentAmount(amount: string, currency: string, locale: Locale): string {
  return `${locale === 'en' ? amount : amount.replace('.', ',')} ${currency}`;
}

/** The client text of a final outcome's reason (see the module invariants). */
export function outcomeReasonText(code: string, locale: Locale): string {
  return isPaymentReasonCode(code) && !isClientSafeReason(code) ? NEUTRAL_NOT_COMPLETED[locale] : paymentReasonText(code, locale);
}

/** payment.deposit.completed: what was credited (the net). */
export function depositCompletedEmail(i: PaymentEmailInput): EmailMessage {
  const locale = localeOf(i);
  return render('deposit_completed', locale, i.to, text('email.deposit_completed.subject', locale, { brand: i.brandName }), [
    greeting(locale, i.firstName),
    text('email.deposit_completed.body', locale, { amount: formatPaymentAmount(i.amount, i.currency, locale) }),
    help(locale, i.supportEmail),
  ]);
}

/** payment.deposit.failed: the amount, the client text of the reason, what to do next. */
export function depositFailedEmail(i: PaymentEmailInput): EmailMessage {
  const locale = localeOf(i);
  return render('deposit_failed', locale, i.to, text('email.deposit_failed.subject', locale, { brand: i.brandName }), [
    greeting(locale, i.firstName),
    text('email.deposit_failed.body', locale, { amount: formatPaymentAmount(i.amount, i.currency, locale) }),
    i.reason ? outcomeReasonText(i.reason, locale) : undefined,
    text('email.deposit_failed.next', locale),
    help(locale, i.supportEmail),
  ]);
}

/** payment.withdrawal.completed: the amount debited, what is paid out and the fee. */
export function withdrawalCompletedEmail(i: WithdrawalCompletedInput): EmailMessage {
  const locale = localeOf(i);
  const hasFee = /[1-9]/.test(i.fee);
  const money = (a: string) => formatPaymentAmount(a, i.currency, locale);
  return render(
    'withdrawal_completed',
    locale,
    i.to,
    text('email.withdrawal_completed.subject', locale, { brand: i.brandName }),
    [
      greeting(locale, i.firstName),
      text('email.withdrawal_completed.body', locale, { gross: money(i.amount), net: money(i.net) }),
      hasFee ? text('email.withdrawal_completed.fee', locale, { fee: money(i.fee) }) : undefined,
      help(locale, i.supportEmail),
    ],
  );
}

/** payment.withdrawal.rejected / payment.withdrawal.failed: the client text of the reason, the funds are back. */
export function withdrawalNotCompletedEmail(i: PaymentEmailInput & { outcome: 'rejected' | 'failed' }): EmailMessage {
  const locale = localeOf(i);
  const template = `withdrawal_${i.outcome}` as const;
  return render(template, locale, i.to, text(`email.${template}.subject`, locale, { brand: i.brandName }), [
    greeting(locale, i.firstName),
    text(`email.${template}.body`, locale, { amount: formatPaymentAmount(i.amount, i.currency, locale) }),
    i.reason ? outcomeReasonText(i.reason, locale) : undefined,
    text('email.withdrawal_not_completed.back', locale),
    help(locale, i.supportEmail),
  ]);
}

/** payment.refund.completed: how much went back to the original payment method, and when it shows. */
export function refundCompletedEmail(i: PaymentEmailInput): EmailMessage {
  const locale = localeOf(i);
  return render('refund_completed', locale, i.to, text('email.refund_completed.subject', locale, { brand: i.brandName }), [
    greeting(locale, i.firstName),
    text('email.refund_completed.body', locale, { amount: formatPaymentAmount(i.amount, i.currency, locale) }),
    text('email.refund_completed.when', locale),
    help(locale, i.supportEmail),
  ]);
}

/**
 * payment.chargeback.received: the disputed amount, what was debited, what is still owed (when the
 * balance did not cover it) and that withdrawals are paused. The scheme's reason code is not shown.
 */
export function chargebackReceivedEmail(i: PaymentEmailInput & { fromWallet: string; owed: string }): EmailMessage {
  const locale = localeOf(i);
  const nonZero = (a: string) => /[1-9]/.test(a);
  const money = (a: string) => formatPaymentAmount(a, i.currency, locale);
  return render('chargeback_received', locale, i.to, text('email.chargeback_received.subject', locale, { brand: i.brandName }), [
    greeting(locale, i.firstName),
    text('email.chargeback_received.body', locale, { amount: money(i.amount) }),
    nonZero(i.fromWallet) ? text('email.chargeback_received.debited', locale, { amount: money(i.fromWallet) }) : undefined,
    nonZero(i.owed) ? text('email.chargeback_received.owed', locale, { amount: money(i.owed) }) : undefined,
    text('email.chargeback_received.paused', locale),
    help(locale, i.supportEmail),
  ]);
}
