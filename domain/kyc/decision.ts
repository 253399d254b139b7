/**
 * The KYC decision and the issue catalogue.
 *
 * Invariants:
 * - no issues => 'approve'; 'approve' only when there are no issues
 * - any hard issue whose code the tenant policy does not escalate => 'reject'
 * - otherwise (review issues and/or escalated hard issues) => 'manual_review', every issue named in
 *   `reasons`; escalated hard issues (e.g. sanctions_hit) raise the review priority to 'high'
 * - client messages are client-safe: sanctions and fraud issues share one generic 'under review'
 *   message and never reveal list, score or other-client detail
 * - every issue code has en, de and es messages and a default suggested action
 */
import type { KycIssue, KycIssueCode, Severity } from './model.ts';

export interface DecisionPolicy {
  /** Hard issue codes that go to manual review (high priority) instead of automatic rejection. */
  escalate: readonly string[];
}

export type Outcome = 'approve' | 'reject' | 'manual_review';

export interface KycDecision {
  outcome: Outcome;
  issues: KycIssue[];
  /** One line per issue: '<code>:<severity>[:escalated]', in input order. */
  reasons: string[];
  /** Review queue priority; undefined unless the outcome is manual_review. */
  priority?: 'high' | 'normal';
}

export function decide(issues: readonly KycIssue[], policy: DecisionPolicy = { escalate: [] }): KycDecision {
  const escalate = new Set(policy.escalate);
  const isEscalated = (i: KycIssue) => i.severity === 'hard' && escalate.has(i.code);
  const reasons = issues.map((i) => `${i.code}:${i.severity}${isEscalated(i) ? ':escalated' : ''}`);
  const list = [...issues];
  if (list.length === 0) return { outcome: 'approve', issues: list, reasons };
  if (list.some((i) => i.severity === 'hard' && !isEscalated(i))) return { outcome: 'reject', issues: list, reasons };
  return { outcome: 'manual_review', issues: list, reasons, priority: list.some(isEscalated) ? 'high' : 'normal' };
}

export type Locale = 'en' | 'de' | 'es';

export interface IssueCatalogueEntry {
  /** Severity the checks emit by default (dob_mismatch and mrz_invalid may be either; see checks). */
  severity: Severity;
  suggestedAction: string;
  /** True when the client message is deliberately generic (sanctions, fraud). */
  confidential: boolean;
  clientMessage: Record<Locale, string>;
}

const UNDER_REVIEW: Record<Locale, string> = {
  en: 'Your application is under review. We will contact you if we need anything further.',
  de: 'Ihr Antrag wird derzeit geprüft. Wir melden uns, falls wir weitere Angaben benötigen.',
  es: 'Su solicitud está en revisión. Nos pondremos en contacto con usted si necesitamos algo más.',
};

export const ISSUE_CATALOGUE: Readonly<Record<KycIssueCode, IssueCatalogueEntry>> = {
  mrz_invalid: {
    severity: 'review',
    suggestedAction: 'request_new_document_image',
    confidential: false,
    clientMessage: {
      en: 'We could not read the machine-readable zone of your document. Please upload a clear, complete photo.',
      de: 'Die maschinenlesbare Zone Ihres Dokuments war nicht lesbar. Bitte laden Sie ein scharfes, vollständiges Foto hoch.',
      es: 'No pudimos leer la zona de lectura mecánica de su documento. Suba una foto nítida y completa.',
    },
  },
  mrz_mismatch: {
    severity: 'review',
    suggestedAction: 'manual_document_inspection',
    confidential: false,
    clientMessage: {
      en: 'We need to check your document more closely. We will contact you if anything else is needed.',
      de: 'Wir müssen Ihr Dokument genauer prüfen. Wir melden uns, falls wir weitere Angaben benötigen.',
      es: 'Necesitamos revisar su documento con más detalle. Le contactaremos si necesitamos algo más.',
    },
  },
  document_expired: {
    severity: 'hard',
    suggestedAction: 'request_new_document',
    confidential: false,
    clientMessage: {
      en: 'Your document has expired. Please upload a valid identity document.',
      de: 'Ihr Dokument ist abgelaufen. Bitte laden Sie ein gültiges Ausweisdokument hoch.',
      es: 'Su documento ha caducado. Suba un documento de identidad válido.',
    },
  },
  document_expiring_soon: {
    severity: 'review',
    suggestedAction: 'request_renewed_document_before_expiry',
    confidential: false,
    clientMessage: {
      en: 'Your document expires soon. Please upload your renewed document when you have it.',
      de: 'Ihr Dokument läuft bald ab. Bitte laden Sie das erneuerte Dokument hoch, sobald Sie es haben.',
      es: 'Su documento caduca pronto. Suba el documento renovado cuando lo tenga.',
    },
  },
  document_data_invalid: {
    severity: 'review',
    suggestedAction: 'request_new_document_image',
    confidential: false,
    clientMessage: {
      en: 'Some details on your document could not be read. Please upload a clear, complete photo.',
      de: 'Einige Angaben auf Ihrem Dokument waren nicht lesbar. Bitte laden Sie ein scharfes, vollständiges Foto hoch.',
      es: 'No pudimos leer algunos datos de su documento. Suba una foto nítida y completa.',
    },
  },
  name_mismatch: {
    severity: 'review',
    suggestedAction: 'verify_name_or_request_name_change_proof',
    confidential: false,
    clientMessage: {
      en: 'The name on your document does not match your registration. Please check your details or provide proof of a name change.',
      de: 'Der Name auf Ihrem Dokument stimmt nicht mit Ihrer Registrierung überein. Bitte prüfen Sie Ihre Angaben oder weisen Sie eine Namensänderung nach.',
      es: 'El nombre de su documento no coincide con su registro. Revise sus datos o aporte un justificante del cambio de nombre.',
    },
  },
  dob_mismatch: {
    severity: 'hard',
    suggestedAction: 'request_new_document',
    confidential: false,
    clientMessage: {
      en: 'The date of birth on your document does not match your registration.',
      de: 'Das Geburtsdatum auf Ihrem Dokument stimmt nicht mit Ihrer Registrierung überein.',
      es: 'La fecha de nacimiento de su documento no coincide con su registro.',
    },
  },
  underage: {
    severity: 'hard',
    suggestedAction: 'reject_application',
    confidential: false,
    clientMessage: {
      en: 'You must be at least 18 years old to open an account.',
      de: 'Sie müssen mindestens 18 Jahre alt sein, um ein Konto zu eröffnen.',
      es: 'Debe tener al menos 18 años para abrir una cuenta.',
    },
  },
  address_proof_too_old: {
    severity: 'review',
    suggestedAction: 'request_recent_address_proof',
    confidential: false,
    clientMessage: {
      en: 'Your proof of address is too old. Please upload one issued within the last 3 months.',
      de: 'Ihr Adressnachweis ist zu alt. Bitte laden Sie einen Nachweis der letzten 3 Monate hoch.',
      es: 'Su justificante de domicilio es demasiado antiguo. Suba uno emitido en los últimos 3 meses.',
    },
  },
  address_mismatch: {
    severity: 'review',
    suggestedAction: 'request_matching_address_proof',
    confidential: false,
    clientMessage: {
      en: 'The address on your proof of address does not match your registration.',
      de: 'Die Adresse auf Ihrem Nachweis stimmt nicht mit Ihrer Registrierung überein.',
      es: 'La dirección de su justificante no coincide con su registro.',
    },
  },
  low_confidence: {
    severity: 'review',
    suggestedAction: 'request_new_document_image',
    confidential: false,
    clientMessage: {
      en: 'Parts of your document were hard to read. Please upload a clear, complete photo.',
      de: 'Teile Ihres Dokuments waren schwer lesbar. Bitte laden Sie ein scharfes, vollständiges Foto hoch.',
      es: 'Partes de su documento eran difíciles de leer. Suba una foto nítida y completa.',
    },
  },
  duplicate_document: { severity: 'review', suggestedAction: 'fraud_review', confidential: true, clientMessage: UNDER_REVIEW },
  sanctions_hit: { severity: 'hard', suggestedAction: 'compliance_escalation', confidential: true, clientMessage: UNDER_REVIEW },
  sanctions_possible_match: {
    severity: 'review',
    suggestedAction: 'compliance_review',
    confidential: true,
    clientMessage: UNDER_REVIEW,
  },
  country_restricted: {
    severity: 'hard',
    suggestedAction: 'reject_application',
    confidential: false,
    clientMessage: {
      en: 'We are unable to offer accounts in your country.',
      de: 'Wir können in Ihrem Land leider keine Konten anbieten.',
      es: 'No podemos ofrecer cuentas en su país.',
    },
  },
  analysis_failed: {
    severity: 'review',
    suggestedAction: 'manual_document_inspection',
    confidential: false,
    clientMessage: {
      en: 'We could not process your document automatically; a specialist will check it.',
      de: 'Wir konnten Ihr Dokument nicht automatisch verarbeiten; ein Spezialist wird es prüfen.',
      es: 'No pudimos procesar su documento automáticamente; un especialista lo revisará.',
    },
  },
  verification_stalled: {
    severity: 'review',
    suggestedAction: 'manual_decision',
    confidential: false,
    clientMessage: {
      en: 'We could not finish checking your documents automatically; a specialist will review them.',
      de: 'Wir konnten die Prüfung Ihrer Dokumente nicht automatisch abschließen; ein Spezialist wird sie prüfen.',
      es: 'No pudimos completar automáticamente la revisión de sus documentos; un especialista los revisará.',
    },
  },
};

/** Client-facing messages for a set of issues (deduplicated, in order); never includes evidence. */
export function clientMessages(issues: readonly KycIssue[], locale: Locale = 'en'): string[] {
  return [...new Set(issues.map((i) => ISSUE_CATALOGUE[i.code].clientMessage[locale]))];
}
