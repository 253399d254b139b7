/**
 * Payment email templates (en / de / es, the same locale fallback as templates.ts): the outcomes the
 * manifest rule 'payment-outcomes-to-notifications' routes to the notifications worker.
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
import { isClientSafeReason, isPaymentReasonCode, NEUTRAL_NOT_COMPLETED, paymentReasonText } from '#domain/payments/reasons.ts';
import type { EmailMessage } from './port.ts';
import { type Copy, type EmailBaseInput, GREETING, HELP, localeOf, render } from './templates.ts';

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

const DEPOSIT_COMPLETED: Copy<{ subject: (b: string) => string; body: (a: string) => string }> = {
  en: {
    subject: (b) => `${b}: your deposit has arrived`,
    body: (a) => `Your deposit has been credited to your account: ${a}.`,
  },
  de: {
    subject: (b) => `${b}: Ihre Einzahlung ist eingegangen`,
    body: (a) => `Ihre Einzahlung wurde Ihrem Konto gutgeschrieben: ${a}.`,
  },
  es: {
    subject: (b) => `${b}: su depósito ha llegado`,
    body: (a) => `Su depósito se ha abonado en su cuenta: ${a}.`,
  },
};

const DEPOSIT_FAILED: Copy<{ subject: (b: string) => string; body: (a: string) => string; next: string }> = {
  en: {
    subject: (b) => `${b}: your deposit could not be completed`,
    body: (a) => `Your deposit of ${a} could not be completed. No money was taken from your account with us.`,
    next: 'You can try again or choose another payment method.',
  },
  de: {
    subject: (b) => `${b}: Ihre Einzahlung konnte nicht abgeschlossen werden`,
    body: (a) => `Ihre Einzahlung über ${a} konnte nicht abgeschlossen werden. Ihrem Konto bei uns wurde nichts belastet.`,
    next: 'Sie können es erneut versuchen oder eine andere Zahlungsmethode wählen.',
  },
  es: {
    subject: (b) => `${b}: no se pudo completar su depósito`,
    body: (a) => `No se pudo completar su depósito de ${a}. No se ha cargado nada en su cuenta con nosotros.`,
    next: 'Puede volver a intentarlo o elegir otro método de pago.',
  },
};

const WITHDRAWAL_COMPLETED: Copy<{
  subject: (b: string) => string;
  body: (gross: string, net: string) => string;
  fee: (f: string) => string;
}> = {
  en: {
    subject: (b) => `${b}: your withdrawal has been paid out`,
    body: (g, n) => `Your withdrawal of ${g} has been paid out: ${n} is on its way to you.`,
    fee: (f) => `Fee: ${f}.`,
  },
  de: {
    subject: (b) => `${b}: Ihre Auszahlung wurde ausgeführt`,
    body: (g, n) => `Ihre Auszahlung über ${g} wurde ausgeführt: ${n} sind auf dem Weg zu Ihnen.`,
    fee: (f) => `Gebühr: ${f}.`,
  },
  es: {
    subject: (b) => `${b}: su retiro se ha pagado`,
    body: (g, n) => `Su retiro de ${g} se ha pagado: ${n} están en camino.`,
    fee: (f) => `Comisión: ${f}.`,
  },
};

const WITHDRAWAL_NOT_DONE: Copy<{
  rejected: { subject: (b: string) => string; body: (a: string) => string };
  failed: { subject: (b: string) => string; body: (a: string) => string };
  back: string;
}> = {
  en: {
    rejected: {
      subject: (b) => `${b}: your withdrawal was not approved`,
      body: (a) => `Your withdrawal request of ${a} was not approved.`,
    },
    failed: {
      subject: (b) => `${b}: your withdrawal could not be completed`,
      body: (a) => `Your withdrawal of ${a} could not be completed.`,
    },
    back: 'The amount is available in your account again.',
  },
  de: {
    rejected: {
      subject: (b) => `${b}: Ihre Auszahlung wurde nicht genehmigt`,
      body: (a) => `Ihr Auszahlungsauftrag über ${a} wurde nicht genehmigt.`,
    },
    failed: {
      subject: (b) => `${b}: Ihre Auszahlung konnte nicht ausgeführt werden`,
      body: (a) => `Ihre Auszahlung über ${a} konnte nicht ausgeführt werden.`,
    },
    back: 'Der Betrag steht Ihnen auf Ihrem Konto wieder zur Verfügung.',
  },
  es: {
    rejected: {
      subject: (b) => `${b}: su retiro no ha sido aprobado`,
      body: (a) => `Su solicitud de retiro de ${a} no ha sido aprobada.`,
    },
    failed: {
      subject: (b) => `${b}: no se pudo completar su retiro`,
      body: (a) => `No se pudo completar su retiro de ${a}.`,
    },
    back: 'El importe vuelve a estar disponible en su cuenta.',
  },
};

const REFUND_COMPLETED: Copy<{ subject: (b: string) => string; body: (a: string) => string; when: string }> = {
  en: {
    subject: (b) => `${b}: your refund is on its way`,
    body: (a) => `We have refunded ${a} of your deposit to the payment method you paid with.`,
    when: 'Depending on your bank or card issuer it can take a few business days to appear.',
  },
  de: {
    subject: (b) => `${b}: Ihre Rückerstattung ist unterwegs`,
    body: (a) => `Wir haben ${a} Ihrer Einzahlung auf das Zahlungsmittel zurückerstattet, mit dem Sie bezahlt haben.`,
    when: 'Je nach Bank oder Kartenaussteller kann es einige Werktage dauern, bis der Betrag sichtbar ist.',
  },
  es: {
    subject: (b) => `${b}: su reembolso está en camino`,
    body: (a) => `Hemos reembolsado ${a} de su depósito al método de pago con el que pagó.`,
    when: 'Según su banco o emisor de la tarjeta, puede tardar unos días hábiles en aparecer.',
  },
};

const CHARGEBACK_RECEIVED: Copy<{
  subject: (b: string) => string;
  body: (a: string) => string;
  debited: (a: string) => string;
  owed: (a: string) => string;
  paused: string;
}> = {
  en: {
    subject: (b) => `${b}: a payment of yours was disputed`,
    body: (a) => `Your bank or card issuer has reversed a deposit of ${a} at your request or its own (a chargeback).`,
    debited: (a) => `We have debited ${a} from your account.`,
    owed: (a) => `Your balance did not cover it: ${a} remains outstanding.`,
    paused: 'Withdrawals are paused while our compliance team reviews the dispute. Please contact us.',
  },
  de: {
    subject: (b) => `${b}: eine Ihrer Zahlungen wurde angefochten`,
    body: (a) => `Ihre Bank oder Ihr Kartenaussteller hat eine Einzahlung über ${a} zurückgebucht (Chargeback).`,
    debited: (a) => `Wir haben Ihrem Konto ${a} belastet.`,
    owed: (a) => `Ihr Guthaben reichte nicht aus: ${a} sind noch offen.`,
    paused: 'Auszahlungen sind ausgesetzt, während unser Compliance-Team den Fall prüft. Bitte kontaktieren Sie uns.',
  },
  es: {
    subject: (b) => `${b}: uno de sus pagos ha sido disputado`,
    body: (a) => `Su banco o emisor de la tarjeta ha revertido un depósito de ${a} (contracargo).`,
    debited: (a) => `Hemos cargado ${a} en su cuenta.`,
    owed: (a) => `Su saldo no era suficiente: quedan ${a} pendientes.`,
    paused: 'Los retiros están en pausa mientras nuestro equipo de cumplimiento revisa el caso. Contáctenos, por favor.',
  },
};

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
  const t = DEPOSIT_COMPLETED[locale];
  return render('deposit_completed', locale, i.to, t.subject(i.brandName), [
    GREETING[locale](i.firstName),
    t.body(formatPaymentAmount(i.amount, i.currency, locale)),
    HELP[locale](i.supportEmail),
  ]);
}

/** payment.deposit.failed: the amount, the client text of the reason, what to do next. */
export function depositFailedEmail(i: PaymentEmailInput): EmailMessage {
  const locale = localeOf(i);
  const t = DEPOSIT_FAILED[locale];
  return render('deposit_failed', locale, i.to, t.subject(i.brandName), [
    GREETING[locale](i.firstName),
    t.body(formatPaymentAmount(i.amount, i.currency, locale)),
    i.reason ? outcomeReasonText(i.reason, locale) : undefined,
    t.next,
    HELP[locale](i.supportEmail),
  ]);
}

/** payment.withdrawal.completed: the amount debited, what is paid out and the fee. */
export function withdrawalCompletedEmail(i: WithdrawalCompletedInput): EmailMessage {
  const locale = localeOf(i);
  const t = WITHDRAWAL_COMPLETED[locale];
  const hasFee = /[1-9]/.test(i.fee);
  return render('withdrawal_completed', locale, i.to, t.subject(i.brandName), [
    GREETING[locale](i.firstName),
    t.body(formatPaymentAmount(i.amount, i.currency, locale), formatPaymentAmount(i.net, i.currency, locale)),
    hasFee ? t.fee(formatPaymentAmount(i.fee, i.currency, locale)) : undefined,
    HELP[locale](i.supportEmail),
  ]);
}

/** payment.withdrawal.rejected / payment.withdrawal.failed: the client text of the reason, the funds are back. */
export function withdrawalNotCompletedEmail(i: PaymentEmailInput & { outcome: 'rejected' | 'failed' }): EmailMessage {
  const locale = localeOf(i);
  const t = WITHDRAWAL_NOT_DONE[locale];
  const copy = t[i.outcome];
  return render(`withdrawal_${i.outcome}`, locale, i.to, copy.subject(i.brandName), [
    GREETING[locale](i.firstName),
    copy.body(formatPaymentAmount(i.amount, i.currency, locale)),
    i.reason ? outcomeReasonText(i.reason, locale) : undefined,
    t.back,
    HELP[locale](i.supportEmail),
  ]);
}

/** payment.refund.completed: how much went back to the original payment method, and when it shows. */
export function refundCompletedEmail(i: PaymentEmailInput): EmailMessage {
  const locale = localeOf(i);
  const t = REFUND_COMPLETED[locale];
  return render('refund_completed', locale, i.to, t.subject(i.brandName), [
    GREETING[locale](i.firstName),
    t.body(formatPaymentAmount(i.amount, i.currency, locale)),
    t.when,
    HELP[locale](i.supportEmail),
  ]);
}

/**
 * payment.chargeback.received: the disputed amount, what was debited, what is still owed (when the
 * balance did not cover it) and that withdrawals are paused. The scheme's reason code is not shown.
 */
export function chargebackReceivedEmail(i: PaymentEmailInput & { fromWallet: string; owed: string }): EmailMessage {
  const locale = localeOf(i);
  const t = CHARGEBACK_RECEIVED[locale];
  const nonZero = (a: string) => /[1-9]/.test(a);
  return render('chargeback_received', locale, i.to, t.subject(i.brandName), [
    GREETING[locale](i.firstName),
    t.body(formatPaymentAmount(i.amount, i.currency, locale)),
    nonZero(i.fromWallet) ? t.debited(formatPaymentAmount(i.fromWallet, i.currency, locale)) : undefined,
    nonZero(i.owed) ? t.owed(formatPaymentAmount(i.owed, i.currency, locale)) : undefined,
    t.paused,
    HELP[locale](i.supportEmail),
  ]);
}
