/**
 * KYC messages: what a client is told about its verification. The issue texts of the automated checks
 * (domain/kyc/decision.ts ISSUE_CATALOGUE), the review reasons a compliance officer picks
 * (domain/kyc/review-reasons.ts), the shared confidential and under-review sentences, and the next step
 * shown with the client's status (domain/kyc/client-status.ts). The codes stay in domain/kyc; the texts live
 * here, in every catalogue locale.
 *
 * Invariants:
 * - the confidential sentence names no rule, list or suspicion (it stands in for confidential reasons such as
 *   a sanctions or PEP hit)
 */
import { defineMessages } from './define.ts';

export const KYC_MESSAGES = defineMessages({
  'issue.under_review': {
    en: 'Your application is under review. We will contact you if we need anything further.',
    de: 'Ihr Antrag wird derzeit geprüft. Wir melden uns, falls wir weitere Angaben benötigen.',
    es: 'Su solicitud está en revisión. Nos pondremos en contacto con usted si necesitamos algo más.',
  },
  'issue.mrz_invalid': {
    en: 'We could not read the machine-readable zone of your document. Please upload a clear, complete photo.',
    de: 'Die maschinenlesbare Zone Ihres Dokuments war nicht lesbar. Bitte laden Sie ein scharfes, vollständiges Foto hoch.',
    es: 'No pudimos leer la zona de lectura mecánica de su documento. Suba una foto nítida y completa.',
  },
  'issue.mrz_mismatch': {
    en: 'We need to check your document more closely. We will contact you if anything else is needed.',
    de: 'Wir müssen Ihr Dokument genauer prüfen. Wir melden uns, falls wir weitere Angaben benötigen.',
    es: 'Necesitamos revisar su documento con más detalle. Le contactaremos si necesitamos algo más.',
  },
  'issue.document_expired': {
    en: 'Your document has expired. Please upload a valid identity document.',
    de: 'Ihr Dokument ist abgelaufen. Bitte laden Sie ein gültiges Ausweisdokument hoch.',
    es: 'Su documento ha caducado. Suba un documento de identidad válido.',
  },
  'issue.document_expiring_soon': {
    en: 'Your document expires soon. Please upload your renewed document when you have it.',
    de: 'Ihr Dokument läuft bald ab. Bitte laden Sie das erneuerte Dokument hoch, sobald Sie es haben.',
    es: 'Su documento caduca pronto. Suba el documento renovado cuando lo tenga.',
  },
  'issue.document_data_invalid': {
    en: 'Some details on your document could not be read. Please upload a clear, complete photo.',
    de: 'Einige Angaben auf Ihrem Dokument waren nicht lesbar. Bitte laden Sie ein scharfes, vollständiges Foto hoch.',
    es: 'No pudimos leer algunos datos de su documento. Suba una foto nítida y completa.',
  },
  'issue.name_mismatch': {
    en: 'The name on your document does not match your registration. Please check your details or provide proof of a name change.',
    de: 'Der Name auf Ihrem Dokument stimmt nicht mit Ihrer Registrierung überein. Bitte prüfen Sie Ihre Angaben oder weisen Sie eine Namensänderung nach.',
    es: 'El nombre de su documento no coincide con su registro. Revise sus datos o aporte un justificante del cambio de nombre.',
  },
  'issue.dob_mismatch': {
    en: 'The date of birth on your document does not match your registration.',
    de: 'Das Geburtsdatum auf Ihrem Dokument stimmt nicht mit Ihrer Registrierung überein.',
    es: 'La fecha de nacimiento de su documento no coincide con su registro.',
  },
  'issue.underage': {
    en: 'You must be at least 18 years old to open an account.',
    de: 'Sie müssen mindestens 18 Jahre alt sein, um ein Konto zu eröffnen.',
    es: 'Debe tener al menos 18 años para abrir una cuenta.',
  },
  'issue.address_proof_too_old': {
    en: 'Your proof of address is too old. Please upload one issued within the last 3 months.',
    de: 'Ihr Adressnachweis ist zu alt. Bitte laden Sie einen Nachweis der letzten 3 Monate hoch.',
    es: 'Su justificante de domicilio es demasiado antiguo. Suba uno emitido en los últimos 3 meses.',
  },
  'issue.address_mismatch': {
    en: 'The address on your proof of address does not match your registration.',
    de: 'Die Adresse auf Ihrem Nachweis stimmt nicht mit Ihrer Registrierung überein.',
    es: 'La dirección de su justificante no coincide con su registro.',
  },
  'issue.low_confidence': {
    en: 'Parts of your document were hard to read. Please upload a clear, complete photo.',
    de: 'Teile Ihres Dokuments waren schwer lesbar. Bitte laden Sie ein scharfes, vollständiges Foto hoch.',
    es: 'Partes de su documento eran difíciles de leer. Suba una foto nítida y completa.',
  },
  'issue.country_restricted': {
    en: 'We are unable to offer accounts in your country.',
    de: 'Wir können in Ihrem Land leider keine Konten anbieten.',
    es: 'No podemos ofrecer cuentas en su país.',
  },
  'issue.analysis_failed': {
    en: 'We could not process your document automatically; a specialist will check it.',
    de: 'Wir konnten Ihr Dokument nicht automatisch verarbeiten; ein Spezialist wird es prüfen.',
    es: 'No pudimos procesar su documento automáticamente; un especialista lo revisará.',
  },
  'issue.verification_stalled': {
    en: 'We could not finish checking your documents automatically; a specialist will review them.',
    de: 'Wir konnten die Prüfung Ihrer Dokumente nicht automatisch abschließen; ein Spezialist wird sie prüfen.',
    es: 'No pudimos completar automáticamente la revisión de sus documentos; un especialista los revisará.',
  },
  'review.confidential_review_message': {
    en: 'We are unable to continue with your application on the basis of the information provided. Please contact our support team.',
    de: 'Wir können Ihren Antrag auf Grundlage der vorliegenden Angaben nicht weiter bearbeiten. Bitte wenden Sie sich an unseren Kundenservice.',
    es: 'No podemos continuar con su solicitud con la información facilitada. Póngase en contacto con nuestro equipo de soporte.',
  },
  'review.document_unreadable': {
    en: 'We could not read your document. Please upload a clear, complete photo or scan.',
    de: 'Ihr Dokument war nicht lesbar. Bitte laden Sie ein scharfes, vollständiges Foto oder einen Scan hoch.',
    es: 'No pudimos leer su documento. Suba una foto o un escaneo nítido y completo.',
  },
  'review.document_expired': {
    en: 'Your identity document has expired. Please upload a valid identity document.',
    de: 'Ihr Ausweisdokument ist abgelaufen. Bitte laden Sie ein gültiges Ausweisdokument hoch.',
    es: 'Su documento de identidad ha caducado. Suba un documento de identidad válido.',
  },
  'review.document_type_not_accepted': {
    en: 'We cannot accept this type of document. Please upload one of the accepted document types.',
    de: 'Diese Art von Dokument können wir nicht akzeptieren. Bitte laden Sie eine der akzeptierten Dokumentarten hoch.',
    es: 'No podemos aceptar este tipo de documento. Suba uno de los tipos de documento aceptados.',
  },
  'review.document_incomplete': {
    en: 'Part of your document is missing. Please upload every required side with all four corners visible.',
    de: 'Ein Teil Ihres Dokuments fehlt. Bitte laden Sie alle erforderlichen Seiten hoch, mit allen vier Ecken sichtbar.',
    es: 'Falta una parte de su documento. Suba todas las caras necesarias con las cuatro esquinas visibles.',
  },
  'review.name_mismatch': {
    en: 'The name on your document does not match your registration. Please check your details or provide proof of a name change.',
    de: 'Der Name auf Ihrem Dokument stimmt nicht mit Ihrer Registrierung überein. Bitte prüfen Sie Ihre Angaben oder weisen Sie eine Namensänderung nach.',
    es: 'El nombre de su documento no coincide con su registro. Revise sus datos o aporte un justificante del cambio de nombre.',
  },
  'review.dob_mismatch': {
    en: 'The date of birth on your document does not match your registration.',
    de: 'Das Geburtsdatum auf Ihrem Dokument stimmt nicht mit Ihrer Registrierung überein.',
    es: 'La fecha de nacimiento de su documento no coincide con su registro.',
  },
  'review.address_proof_too_old': {
    en: 'Your proof of address is too old. Please upload a recent one.',
    de: 'Ihr Adressnachweis ist zu alt. Bitte laden Sie einen aktuellen Nachweis hoch.',
    es: 'Su justificante de domicilio es demasiado antiguo. Suba uno reciente.',
  },
  'review.address_mismatch': {
    en: 'The address on your proof of address does not match your registration.',
    de: 'Die Adresse auf Ihrem Nachweis stimmt nicht mit Ihrer Registrierung überein.',
    es: 'La dirección de su justificante no coincide con su registro.',
  },
  'review.address_proof_not_accepted': {
    en: 'We cannot accept this document as proof of address. Please upload a utility bill, bank statement or official letter.',
    de: 'Dieses Dokument können wir nicht als Adressnachweis akzeptieren. Bitte laden Sie eine Versorgerrechnung, einen Kontoauszug oder ein behördliches Schreiben hoch.',
    es: 'No podemos aceptar este documento como justificante de domicilio. Suba una factura de suministros, un extracto bancario o una carta oficial.',
  },
  'review.selfie_mismatch': {
    en: 'We could not match your selfie to your identity document. Please take a new selfie in good light, without glasses or a hat.',
    de: 'Ihr Selfie konnte nicht Ihrem Ausweisdokument zugeordnet werden. Bitte nehmen Sie ein neues Selfie bei gutem Licht auf, ohne Brille oder Kopfbedeckung.',
    es: 'No pudimos relacionar su selfi con su documento de identidad. Hágase un nuevo selfi con buena luz, sin gafas ni gorra.',
  },
  'review.underage': {
    en: 'You must be at least 18 years old to open an account.',
    de: 'Sie müssen mindestens 18 Jahre alt sein, um ein Konto zu eröffnen.',
    es: 'Debe tener al menos 18 años para abrir una cuenta.',
  },
  'review.country_restricted': {
    en: 'We are unable to offer accounts in your country.',
    de: 'Wir können in Ihrem Land leider keine Konten anbieten.',
    es: 'No podemos ofrecer cuentas en su país.',
  },
  'review.verified_manually': {
    en: 'Your identity has been verified.',
    de: 'Ihre Identität wurde bestätigt.',
    es: 'Su identidad ha sido verificada.',
  },
  'review.expiring_soon_accepted': {
    en: 'Your identity has been verified. Your document expires soon: please upload the renewed document when you have it.',
    de: 'Ihre Identität wurde bestätigt. Ihr Dokument läuft bald ab: Bitte laden Sie das erneuerte Dokument hoch, sobald Sie es haben.',
    es: 'Su identidad ha sido verificada. Su documento caduca pronto: suba el documento renovado cuando lo tenga.',
  },
  'review.other': {
    en: 'Our compliance team has reviewed your documents. Please check your email or contact support for details.',
    de: 'Unser Compliance-Team hat Ihre Dokumente geprüft. Details finden Sie in Ihrer E-Mail oder erhalten Sie von unserem Kundenservice.',
    es: 'Nuestro equipo de cumplimiento ha revisado sus documentos. Consulte su correo electrónico o contacte con soporte para más detalles.',
  },
  'next_action.complete_profile': {
    en: 'Complete your profile to start the verification of your account.',
    de: 'Vervollständigen Sie Ihr Profil, um mit der Verifizierung Ihres Kontos zu beginnen.',
    es: 'Complete su perfil para iniciar la verificación de su cuenta.',
  },
  'next_action.upload_documents': {
    en: 'Upload your identity documents to verify your account.',
    de: 'Laden Sie Ihre Ausweisdokumente hoch, um Ihr Konto zu verifizieren.',
    es: 'Suba sus documentos de identidad para verificar su cuenta.',
  },
  'next_action.submit_documents': {
    en: 'Upload any remaining documents and submit them for verification.',
    de: 'Laden Sie die noch fehlenden Dokumente hoch und reichen Sie sie zur Prüfung ein.',
    es: 'Suba los documentos que falten y envíelos para su verificación.',
  },
  'next_action.wait': {
    en: 'We are checking your documents and will let you know as soon as we have finished.',
    de: 'Wir prüfen Ihre Dokumente und informieren Sie, sobald die Prüfung abgeschlossen ist.',
    es: 'Estamos revisando sus documentos y le avisaremos en cuanto hayamos terminado.',
  },
  'next_action.fund_account': {
    en: 'Your account is verified. You can now fund your account.',
    de: 'Ihr Konto ist verifiziert. Sie können jetzt Geld einzahlen.',
    es: 'Su cuenta está verificada. Ya puede depositar fondos.',
  },
  'next_action.none': {
    en: 'Your account is verified. Nothing else is needed.',
    de: 'Ihr Konto ist verifiziert. Es ist nichts weiter erforderlich.',
    es: 'Su cuenta está verificada. No se necesita nada más.',
  },
  'next_action.upload_new_identity_document': {
    en: 'Your identity document has expired. Please upload a valid identity document to keep using your account.',
    de: 'Ihr Ausweisdokument ist abgelaufen. Bitte laden Sie ein gültiges Ausweisdokument hoch, um Ihr Konto weiter zu nutzen.',
    es: 'Su documento de identidad ha caducado. Suba un documento de identidad válido para seguir usando su cuenta.',
  },
  'next_action.upload_new_documents': {
    en: 'We could not verify your documents. Please upload new documents and submit them again.',
    de: 'Wir konnten Ihre Dokumente nicht verifizieren. Bitte laden Sie neue Dokumente hoch und reichen Sie sie erneut ein.',
    es: 'No pudimos verificar sus documentos. Suba documentos nuevos y envíelos de nuevo.',
  },
  'next_action.upload_requested_documents': {
    en: 'We need further documents from you. Please upload the requested documents and submit them.',
    de: 'Wir benötigen weitere Dokumente von Ihnen. Bitte laden Sie die angeforderten Dokumente hoch und reichen Sie sie ein.',
    es: 'Necesitamos más documentos. Suba los documentos solicitados y envíelos.',
  },
  'next_action.contact_support': {
    en: 'We are unable to verify your account. Please contact our support team.',
    de: 'Wir können Ihr Konto nicht verifizieren. Bitte wenden Sie sich an unseren Kundenservice.',
    es: 'No podemos verificar su cuenta. Póngase en contacto con nuestro equipo de soporte.',
  },
  'next_action.unknown_reason_message': {
    en: 'Please contact our support team for details.',
    de: 'Bitte wenden Sie sich für Details an unseren Kundenservice.',
    es: 'Póngase en contacto con nuestro equipo de soporte para más detalles.',
  },
});
