/**
 * Payment messages: the client texts of the payment reason codes (domain/payments/reasons.ts keeps the
 * codes, which are confidential and which neutral text stands in for those), the two neutral sentences,
 * the generic one for an unknown code, and the withdrawal view's closed-loop hint.
 *
 * Invariants:
 * - the neutral and generic sentences name no rule, threshold, list or suspicion (they stand in for
 *   confidential AML / fraud codes)
 */
import { defineMessages, withParams } from './define.ts';

export const PAYMENT_MESSAGES = defineMessages({
  neutral_under_review: {
    en: 'Your request is being reviewed by our team. We will let you know as soon as it has been processed.',
    de: 'Ihr Auftrag wird von unserem Team geprüft. Wir informieren Sie, sobald er bearbeitet wurde.',
    es: 'Nuestro equipo está revisando su solicitud. Le informaremos en cuanto se haya procesado.',
  },
  neutral_not_completed: {
    en: 'Your request could not be completed. Please contact our support team for more information.',
    de: 'Ihr Auftrag konnte nicht ausgeführt werden. Bitte wenden Sie sich für weitere Informationen an unseren Kundenservice.',
    es: 'No se ha podido completar su solicitud. Póngase en contacto con nuestro equipo de soporte para más información.',
  },
  generic_reason: {
    en: 'Your request could not be processed as expected. Please contact our support team if you need help.',
    de: 'Ihr Auftrag konnte nicht wie erwartet bearbeitet werden. Bitte wenden Sie sich bei Fragen an unseren Kundenservice.',
    es: 'No se ha podido procesar su solicitud como se esperaba. Póngase en contacto con nuestro equipo de soporte si necesita ayuda.',
  },
  'reason.payment_declined': {
    en: 'The payment was declined by the payment provider. Please try again or use another payment method.',
    de: 'Die Zahlung wurde vom Zahlungsanbieter abgelehnt. Bitte versuchen Sie es erneut oder wählen Sie eine andere Zahlungsart.',
    es: 'El proveedor de pagos ha rechazado el pago. Inténtelo de nuevo o utilice otro método de pago.',
  },
  'reason.provider_unavailable': {
    en: 'The payment provider is temporarily unavailable. Please try again later.',
    de: 'Der Zahlungsanbieter ist vorübergehend nicht erreichbar. Bitte versuchen Sie es später erneut.',
    es: 'El proveedor de pagos no está disponible temporalmente. Inténtelo de nuevo más tarde.',
  },
  'reason.intent_expired': {
    en: 'The payment was not completed in time and has expired. Please start a new deposit.',
    de: 'Die Zahlung wurde nicht rechtzeitig abgeschlossen und ist abgelaufen. Bitte starten Sie eine neue Einzahlung.',
    es: 'El pago no se completó a tiempo y ha caducado. Inicie un nuevo depósito.',
  },
  'reason.amount_mismatch': {
    en: 'The amount received does not match the amount of your deposit request. Our team will contact you.',
    de: 'Der eingegangene Betrag stimmt nicht mit Ihrem Einzahlungsauftrag überein. Unser Team wird sich bei Ihnen melden.',
    es: 'El importe recibido no coincide con el de su solicitud de depósito. Nuestro equipo se pondrá en contacto con usted.',
  },
  'reason.kyc_not_approved': {
    en: 'Your identity verification must be approved before you can withdraw.',
    de: 'Ihre Identitätsprüfung muss abgeschlossen sein, bevor Sie eine Auszahlung vornehmen können.',
    es: 'Su verificación de identidad debe estar aprobada antes de poder retirar fondos.',
  },
  'reason.kyc_expired': {
    en: 'Your identity document has expired. Please upload a valid document to continue.',
    de: 'Ihr Ausweisdokument ist abgelaufen. Bitte laden Sie ein gültiges Dokument hoch, um fortzufahren.',
    es: 'Su documento de identidad ha caducado. Suba un documento válido para continuar.',
  },
  'reason.closed_loop': {
    en: 'Withdrawals must first be returned to the payment methods you deposited with, up to the amounts deposited.',
    de: 'Auszahlungen müssen zuerst auf die Zahlungsmittel zurückgehen, mit denen Sie eingezahlt haben, bis zur Höhe der Einzahlungen.',
    es: 'Los retiros deben devolverse primero a los métodos de pago con los que depositó, hasta los importes depositados.',
  },
  'reason.documents_requested': {
    en: 'We have asked you for documents. Your withdrawal will continue once they have been received and reviewed.',
    de: 'Wir haben Dokumente bei Ihnen angefordert. Ihre Auszahlung wird fortgesetzt, sobald diese eingegangen und geprüft sind.',
    es: 'Le hemos solicitado documentos. Su retiro continuará cuando los hayamos recibido y revisado.',
  },
  'reason.withdrawals_frozen': {
    en: 'Withdrawals from your account are on hold at the moment. Please contact our support team.',
    de: 'Auszahlungen von Ihrem Konto sind derzeit ausgesetzt. Bitte wenden Sie sich an unseren Kundenservice.',
    es: 'Los retiros de su cuenta están en espera en este momento. Póngase en contacto con nuestro equipo de soporte.',
  },
  'reason.review_expired': {
    en: 'Your withdrawal could not be reviewed in time and was not carried out. The funds are available in your wallet again.',
    de: 'Ihre Auszahlung konnte nicht rechtzeitig geprüft werden und wurde nicht ausgeführt. Der Betrag steht wieder in Ihrer Wallet zur Verfügung.',
    es: 'Su retiro no pudo revisarse a tiempo y no se ha realizado. Los fondos vuelven a estar disponibles en su monedero.',
  },
  'reason.payout_failed': {
    en: 'The payout could not be sent to your account. The funds are available in your wallet again.',
    de: 'Die Auszahlung konnte nicht an Ihr Konto gesendet werden. Der Betrag steht wieder in Ihrer Wallet zur Verfügung.',
    es: 'No se pudo enviar el pago a su cuenta. Los fondos vuelven a estar disponibles en su monedero.',
  },
  'reason.payout_expired': {
    en: 'The payment provider did not confirm the payout in time. The funds are available in your wallet again.',
    de: 'Der Zahlungsanbieter hat die Auszahlung nicht rechtzeitig bestätigt. Der Betrag steht wieder in Ihrer Wallet zur Verfügung.',
    es: 'El proveedor de pagos no confirmó el pago a tiempo. Los fondos vuelven a estar disponibles en su monedero.',
  },
  'reason.rejected_by_finance': {
    en: 'Your withdrawal was not approved. The funds are available in your wallet again. Please contact our support team for details.',
    de: 'Ihre Auszahlung wurde nicht genehmigt. Der Betrag steht wieder in Ihrer Wallet zur Verfügung. Für Einzelheiten wenden Sie sich bitte an unseren Kundenservice.',
    es: 'Su retiro no ha sido aprobado. Los fondos vuelven a estar disponibles en su monedero. Póngase en contacto con nuestro equipo de soporte para más detalles.',
  },
  'reason.cancelled_by_client': {
    en: 'You cancelled this withdrawal. The funds are available in your wallet again.',
    de: 'Sie haben diese Auszahlung storniert. Der Betrag steht wieder in Ihrer Wallet zur Verfügung.',
    es: 'Ha cancelado este retiro. Los fondos vuelven a estar disponibles en su monedero.',
  },
  'reason.insufficient_funds': {
    en: 'There are not enough available funds in your wallet for this withdrawal.',
    de: 'Ihre Wallet enthält nicht genügend verfügbares Guthaben für diese Auszahlung.',
    es: 'No hay suficientes fondos disponibles en su monedero para este retiro.',
  },
  'reason.closed_loop_violation': {
    en: 'Your withdrawal was not approved because it must first be returned to the payment method you deposited with. Please request it to that method.',
    de: 'Ihre Auszahlung wurde nicht genehmigt, da sie zuerst auf das Zahlungsmittel zurückgehen muss, mit dem Sie eingezahlt haben. Bitte beantragen Sie sie auf dieses Zahlungsmittel.',
    es: 'Su retiro no ha sido aprobado porque debe devolverse primero al método de pago con el que depositó. Solicítelo a ese método.',
  },
  'reason.source_of_funds_required': {
    en: 'Before we can process your withdrawal, we need proof of the source of your funds. Please contact our support team.',
    de: 'Bevor wir Ihre Auszahlung bearbeiten können, benötigen wir einen Nachweis über die Herkunft Ihrer Mittel. Bitte wenden Sie sich an unseren Kundenservice.',
    es: 'Antes de procesar su retiro necesitamos un justificante del origen de sus fondos. Póngase en contacto con nuestro equipo de soporte.',
  },
  'reason.third_party_account': {
    en: 'We can only pay out to an account in your own name. Please choose an account held by you.',
    de: 'Wir können nur auf ein Konto auf Ihren eigenen Namen auszahlen. Bitte wählen Sie ein Konto, dessen Inhaber Sie sind.',
    es: 'Solo podemos pagar a una cuenta a su nombre. Elija una cuenta de la que sea titular.',
  },
  'reason.other': {
    en: 'Your withdrawal was not approved. Please contact our support team for details.',
    de: 'Ihre Auszahlung wurde nicht genehmigt. Für Einzelheiten wenden Sie sich bitte an unseren Kundenservice.',
    es: 'Su retiro no ha sido aprobado. Póngase en contacto con nuestro equipo de soporte para más detalles.',
  },
  /** A funding source still owed money back (closed loop): "Withdraw to your Visa •4242 first, up to 100.00 EUR". */
  withdrawal_owed: withParams<{ method: string; amount: string; currency: string }>({
    en: (p) => `Withdraw to your ${p.method} first, up to ${p.amount} ${p.currency}`,
    de: (p) => `Zahlen Sie zuerst auf ${p.method} aus, bis zu ${p.amount} ${p.currency}`,
    es: (p) => `Retire primero a su ${p.method}, hasta ${p.amount} ${p.currency}`,
  }),
});
