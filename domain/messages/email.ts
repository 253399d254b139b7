/**
 * E-mail messages: the subjects and paragraphs of every e-mail template (functions/adapters/email/
 * templates.ts for welcome and KYC, payment-templates.ts for payments), by template; `greeting` and
 * `help` open and close every e-mail.
 *
 * Invariants:
 * - no personal data in a message beyond the parameters it is given (first name, brand, support address,
 *   amounts, the client's own document expiry day)
 * - no reason code in any text: reasons reach e-mails only as their client texts (payments.ts, domain/kyc)
 */
import { defineMessages, withParams } from './define.ts';

type Brand = { brand: string };
type Amount = { amount: string };

export const EMAIL_MESSAGES = defineMessages({
  greeting: withParams<{ name: string }>({
    en: (p) => `Hello ${p.name},`,
    de: (p) => `Hallo ${p.name},`,
    es: (p) => `Hola ${p.name}:`,
  }),
  help: withParams<{ support: string }>({
    en: (p) => `Questions? Write to ${p.support}.`,
    de: (p) => `Fragen? Schreiben Sie an ${p.support}.`,
    es: (p) => `¿Preguntas? Escriba a ${p.support}.`,
  }),

  // ---- welcome
  'welcome.subject': withParams<Brand>({
    en: (p) => `Welcome to ${p.brand}`,
    de: (p) => `Willkommen bei ${p.brand}`,
    es: (p) => `Bienvenido a ${p.brand}`,
  }),
  'welcome.body': withParams<Brand>({
    en: (p) => `Your ${p.brand} account has been created. The next step is to complete your profile.`,
    de: (p) => `Ihr ${p.brand}-Konto wurde eröffnet. Als Nächstes vervollständigen Sie bitte Ihr Profil.`,
    es: (p) => `Su cuenta de ${p.brand} ha sido creada. El siguiente paso es completar su perfil.`,
  }),

  // ---- kyc_approved
  'kyc_approved.subject': withParams<Brand>({
    en: (p) => `Your ${p.brand} account is verified`,
    de: (p) => `Ihr ${p.brand}-Konto ist verifiziert`,
    es: (p) => `Su cuenta de ${p.brand} está verificada`,
  }),
  'kyc_approved.body': withParams<Brand>({
    en: (p) => `Good news: we have verified your identity and your ${p.brand} account is verified.`,
    de: (p) => `Gute Nachrichten: Wir haben Ihre Identität bestätigt, Ihr ${p.brand}-Konto ist verifiziert.`,
    es: (p) => `Buenas noticias: hemos verificado su identidad y su cuenta de ${p.brand} está verificada.`,
  }),
  'kyc_approved.next': {
    en: 'You can now fund your account.',
    de: 'Sie können jetzt Geld auf Ihr Konto einzahlen.',
    es: 'Ya puede depositar fondos en su cuenta.',
  },

  // ---- document categories and the "upload again" lists (kyc_rejected_resubmit, kyc_documents_requested)
  'category.identity': { en: 'Identity document', de: 'Ausweisdokument', es: 'Documento de identidad' },
  'category.proof_of_address': { en: 'Proof of address', de: 'Adressnachweis', es: 'Justificante de domicilio' },
  'category.selfie': { en: 'Selfie', de: 'Selfie', es: 'Selfi' },
  'upload_again.documents': {
    en: 'Documents to upload again:',
    de: 'Bitte laden Sie diese Dokumente erneut hoch:',
    es: 'Documentos que debe volver a subir:',
  },
  'upload_again.reasons': { en: 'What we found:', de: 'Was wir festgestellt haben:', es: 'Lo que hemos detectado:' },

  // ---- kyc_rejected_resubmit
  'kyc_rejected_resubmit.subject': withParams<Brand>({
    en: (p) => `${p.brand}: please upload new documents`,
    de: (p) => `${p.brand}: Bitte laden Sie neue Dokumente hoch`,
    es: (p) => `${p.brand}: suba documentos nuevos`,
  }),
  'kyc_rejected_resubmit.body': {
    en: 'We could not verify your documents. Please upload new documents and submit them again.',
    de: 'Wir konnten Ihre Dokumente nicht verifizieren. Bitte laden Sie neue Dokumente hoch und reichen Sie sie erneut ein.',
    es: 'No pudimos verificar sus documentos. Suba documentos nuevos y envíelos de nuevo.',
  },

  // ---- kyc_rejected_final
  'kyc_rejected_final.subject': withParams<Brand>({
    en: (p) => `Your ${p.brand} application`,
    de: (p) => `Ihr Antrag bei ${p.brand}`,
    es: (p) => `Su solicitud en ${p.brand}`,
  }),
  'kyc_rejected_final.body': withParams<Brand>({
    en: (p) => `We are sorry, but we cannot open a ${p.brand} account for you.`,
    de: (p) => `Es tut uns leid, aber wir können kein ${p.brand}-Konto für Sie eröffnen.`,
    es: (p) => `Lo sentimos, pero no podemos abrir una cuenta de ${p.brand} para usted.`,
  }),
  'kyc_rejected_final.contact': withParams<{ support: string }>({
    en: (p) => `If you have any questions, please contact our support team at ${p.support}.`,
    de: (p) => `Bei Fragen wenden Sie sich bitte an unseren Kundenservice unter ${p.support}.`,
    es: (p) => `Si tiene alguna pregunta, póngase en contacto con nuestro equipo de soporte en ${p.support}.`,
  }),

  // ---- kyc_documents_requested
  'kyc_documents_requested.subject': withParams<Brand>({
    en: (p) => `${p.brand}: we need further documents`,
    de: (p) => `${p.brand}: Wir benötigen weitere Dokumente`,
    es: (p) => `${p.brand}: necesitamos más documentos`,
  }),
  'kyc_documents_requested.body': {
    en: 'To complete the verification of your account we need further documents from you.',
    de: 'Um die Verifizierung Ihres Kontos abzuschließen, benötigen wir weitere Dokumente von Ihnen.',
    es: 'Para completar la verificación de su cuenta necesitamos más documentos.',
  },
  'kyc_documents_requested.upload': {
    en: 'Please upload the requested documents and submit them.',
    de: 'Bitte laden Sie die angeforderten Dokumente hoch und reichen Sie sie ein.',
    es: 'Suba los documentos solicitados y envíelos.',
  },

  // ---- kyc_document_expiring
  'kyc_document_expiring.subject': withParams<{ day: string }>({
    en: (p) => `Your identity document expires on ${p.day}`,
    de: (p) => `Ihr Ausweisdokument läuft am ${p.day} ab`,
    es: (p) => `Su documento de identidad caduca el ${p.day}`,
  }),
  'kyc_document_expiring.body': withParams<{ brand: string; day: string; left: string }>({
    en: (p) => `The identity document you verified with ${p.brand} expires on ${p.day} (${p.left}).`,
    de: (p) => `Das Ausweisdokument, mit dem Sie sich bei ${p.brand} verifiziert haben, läuft am ${p.day} ab (${p.left}).`,
    es: (p) => `El documento de identidad con el que se verificó en ${p.brand} caduca el ${p.day} (${p.left}).`,
  }),
  'kyc_document_expiring.upload': {
    en: 'Please upload your renewed identity document before then, so that your account stays verified.',
    de: 'Bitte laden Sie Ihr erneuertes Ausweisdokument vorher hoch, damit Ihr Konto verifiziert bleibt.',
    es: 'Suba su documento de identidad renovado antes de esa fecha para que su cuenta siga verificada.',
  },
  /** The days left until the expiry: 0 or less is "today". */
  'kyc_document_expiring.left': withParams<{ days: number }>({
    en: (p) => (p.days <= 0 ? 'today' : p.days === 1 ? '1 day left' : `${p.days} days left`),
    de: (p) => (p.days <= 0 ? 'heute' : p.days === 1 ? 'noch 1 Tag' : `noch ${p.days} Tage`),
    es: (p) => (p.days <= 0 ? 'hoy' : p.days === 1 ? 'queda 1 día' : `quedan ${p.days} días`),
  }),

  // ---- kyc_expired
  'kyc_expired.subject': withParams<Brand>({
    en: (p) => `${p.brand}: your verification needs to be renewed`,
    de: (p) => `${p.brand}: Ihre Verifizierung muss erneuert werden`,
    es: (p) => `${p.brand}: debe renovar su verificación`,
  }),
  'kyc_expired.body': withParams<{ day: string }>({
    en: (p) => `Your identity document expired on ${p.day}, so the verification of your account needs to be renewed.`,
    de: (p) => `Ihr Ausweisdokument ist am ${p.day} abgelaufen, daher muss die Verifizierung Ihres Kontos erneuert werden.`,
    es: (p) => `Su documento de identidad caducó el ${p.day}, por lo que la verificación de su cuenta debe renovarse.`,
  }),
  'kyc_expired.upload': {
    en: 'Please upload a valid identity document.',
    de: 'Bitte laden Sie ein gültiges Ausweisdokument hoch.',
    es: 'Suba un documento de identidad válido.',
  },
  'kyc_expired.limits': {
    en: 'Until we have verified it, trading and withdrawals on your account may be limited.',
    de: 'Bis wir es geprüft haben, können Handel und Auszahlungen auf Ihrem Konto eingeschränkt sein.',
    es: 'Hasta que lo hayamos verificado, las operaciones y las retiradas de su cuenta pueden estar limitadas.',
  },

  // ---- deposit_completed
  'deposit_completed.subject': withParams<Brand>({
    en: (p) => `${p.brand}: your deposit has arrived`,
    de: (p) => `${p.brand}: Ihre Einzahlung ist eingegangen`,
    es: (p) => `${p.brand}: su depósito ha llegado`,
  }),
  'deposit_completed.body': withParams<Amount>({
    en: (p) => `Your deposit has been credited to your account: ${p.amount}.`,
    de: (p) => `Ihre Einzahlung wurde Ihrem Konto gutgeschrieben: ${p.amount}.`,
    es: (p) => `Su depósito se ha abonado en su cuenta: ${p.amount}.`,
  }),

  // ---- deposit_failed
  'deposit_failed.subject': withParams<Brand>({
    en: (p) => `${p.brand}: your deposit could not be completed`,
    de: (p) => `${p.brand}: Ihre Einzahlung konnte nicht abgeschlossen werden`,
    es: (p) => `${p.brand}: no se pudo completar su depósito`,
  }),
  'deposit_failed.body': withParams<Amount>({
    en: (p) => `Your deposit of ${p.amount} could not be completed. No money was taken from your account with us.`,
    de: (p) => `Ihre Einzahlung über ${p.amount} konnte nicht abgeschlossen werden. Ihrem Konto bei uns wurde nichts belastet.`,
    es: (p) => `No se pudo completar su depósito de ${p.amount}. No se ha cargado nada en su cuenta con nosotros.`,
  }),
  'deposit_failed.next': {
    en: 'You can try again or choose another payment method.',
    de: 'Sie können es erneut versuchen oder eine andere Zahlungsmethode wählen.',
    es: 'Puede volver a intentarlo o elegir otro método de pago.',
  },

  // ---- withdrawal_completed
  'withdrawal_completed.subject': withParams<Brand>({
    en: (p) => `${p.brand}: your withdrawal has been paid out`,
    de: (p) => `${p.brand}: Ihre Auszahlung wurde ausgeführt`,
    es: (p) => `${p.brand}: su retiro se ha pagado`,
  }),
  'withdrawal_completed.body': withParams<{ gross: string; net: string }>({
    en: (p) => `Your withdrawal of ${p.gross} has been paid out: ${p.net} is on its way to you.`,
    de: (p) => `Ihre Auszahlung über ${p.gross} wurde ausgeführt: ${p.net} sind auf dem Weg zu Ihnen.`,
    es: (p) => `Su retiro de ${p.gross} se ha pagado: ${p.net} están en camino.`,
  }),
  'withdrawal_completed.fee': withParams<{ fee: string }>({
    en: (p) => `Fee: ${p.fee}.`,
    de: (p) => `Gebühr: ${p.fee}.`,
    es: (p) => `Comisión: ${p.fee}.`,
  }),

  // ---- withdrawal_rejected, withdrawal_failed
  'withdrawal_rejected.subject': withParams<Brand>({
    en: (p) => `${p.brand}: your withdrawal was not approved`,
    de: (p) => `${p.brand}: Ihre Auszahlung wurde nicht genehmigt`,
    es: (p) => `${p.brand}: su retiro no ha sido aprobado`,
  }),
  'withdrawal_rejected.body': withParams<Amount>({
    en: (p) => `Your withdrawal request of ${p.amount} was not approved.`,
    de: (p) => `Ihr Auszahlungsauftrag über ${p.amount} wurde nicht genehmigt.`,
    es: (p) => `Su solicitud de retiro de ${p.amount} no ha sido aprobada.`,
  }),
  'withdrawal_failed.subject': withParams<Brand>({
    en: (p) => `${p.brand}: your withdrawal could not be completed`,
    de: (p) => `${p.brand}: Ihre Auszahlung konnte nicht ausgeführt werden`,
    es: (p) => `${p.brand}: no se pudo completar su retiro`,
  }),
  'withdrawal_failed.body': withParams<Amount>({
    en: (p) => `Your withdrawal of ${p.amount} could not be completed.`,
    de: (p) => `Ihre Auszahlung über ${p.amount} konnte nicht ausgeführt werden.`,
    es: (p) => `No se pudo completar su retiro de ${p.amount}.`,
  }),
  'withdrawal_not_completed.back': {
    en: 'The amount is available in your account again.',
    de: 'Der Betrag steht Ihnen auf Ihrem Konto wieder zur Verfügung.',
    es: 'El importe vuelve a estar disponible en su cuenta.',
  },

  // ---- refund_completed
  'refund_completed.subject': withParams<Brand>({
    en: (p) => `${p.brand}: your refund is on its way`,
    de: (p) => `${p.brand}: Ihre Rückerstattung ist unterwegs`,
    es: (p) => `${p.brand}: su reembolso está en camino`,
  }),
  'refund_completed.body': withParams<Amount>({
    en: (p) => `We have refunded ${p.amount} of your deposit to the payment method you paid with.`,
    de: (p) => `Wir haben ${p.amount} Ihrer Einzahlung auf das Zahlungsmittel zurückerstattet, mit dem Sie bezahlt haben.`,
    es: (p) => `Hemos reembolsado ${p.amount} de su depósito al método de pago con el que pagó.`,
  }),
  'refund_completed.when': {
    en: 'Depending on your bank or card issuer it can take a few business days to appear.',
    de: 'Je nach Bank oder Kartenaussteller kann es einige Werktage dauern, bis der Betrag sichtbar ist.',
    es: 'Según su banco o emisor de la tarjeta, puede tardar unos días hábiles en aparecer.',
  },

  // ---- chargeback_received
  'chargeback_received.subject': withParams<Brand>({
    en: (p) => `${p.brand}: a payment of yours was disputed`,
    de: (p) => `${p.brand}: eine Ihrer Zahlungen wurde angefochten`,
    es: (p) => `${p.brand}: uno de sus pagos ha sido disputado`,
  }),
  'chargeback_received.body': withParams<Amount>({
    en: (p) => `Your bank or card issuer has reversed a deposit of ${p.amount} at your request or its own (a chargeback).`,
    de: (p) => `Ihre Bank oder Ihr Kartenaussteller hat eine Einzahlung über ${p.amount} zurückgebucht (Chargeback).`,
    es: (p) => `Su banco o emisor de la tarjeta ha revertido un depósito de ${p.amount} (contracargo).`,
  }),
  'chargeback_received.debited': withParams<Amount>({
    en: (p) => `We have debited ${p.amount} from your account.`,
    de: (p) => `Wir haben Ihrem Konto ${p.amount} belastet.`,
    es: (p) => `Hemos cargado ${p.amount} en su cuenta.`,
  }),
  'chargeback_received.owed': withParams<Amount>({
    en: (p) => `Your balance did not cover it: ${p.amount} remains outstanding.`,
    de: (p) => `Ihr Guthaben reichte nicht aus: ${p.amount} sind noch offen.`,
    es: (p) => `Su saldo no era suficiente: quedan ${p.amount} pendientes.`,
  }),
  'chargeback_received.paused': {
    en: 'Withdrawals are paused while our compliance team reviews the dispute. Please contact us.',
    de: 'Auszahlungen sind ausgesetzt, während unser Compliance-Team den Fall prüft. Bitte kontaktieren Sie uns.',
    es: 'Los retiros están en pausa mientras nuestro equipo de cumplimiento revisa el caso. Contáctenos, por favor.',
  },
});
