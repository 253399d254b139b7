/**
 * The locale-aware description of what a client must provide to onboard: profile fields, documents
 * and the questionnaire, with labels. The body of `GET /v1/onboarding/form`. Pure: built from the
 * tenant config (requirementsFor) and the questionnaire data; option scores are never exposed.
 *
 * Invariants:
 * - the locale is the requested one when the tenant enables it (or its language, 'de-AT' -> 'de'),
 *   else the tenant's default locale; labels fall back to English for a language without texts
 * - the documents and questionnaire are exactly those requirementsFor returns for the same input
 */
import type { TenantConfig } from '../tenant/config.ts';
import type { ClientType, DocumentSide, IdentityDocumentType, InstrumentClass, ProofOfAddressType } from './catalog.ts';
import { type LocalizedText, QUESTIONNAIRES, TEXT_LOCALES, type TextLocale } from './questionnaire.ts';
import { type Money, type OnboardingConfig, requirementsFor } from './requirements.ts';

export type FormConfig = OnboardingConfig & Pick<TenantConfig, 'locales' | 'defaultLocale'>;

export type ProfileFieldType = 'text' | 'date' | 'country' | 'phone' | 'select' | 'boolean';

export interface ProfileField {
  name: string;
  type: ProfileFieldType;
  required: boolean;
  label: string;
  options?: { id: string; label: string }[];
}

export interface OnboardingForm {
  locale: string;
  jurisdiction: string;
  regulator: string;
  clientType: ClientType;
  profile: ProfileField[];
  documents: {
    identity: {
      label: string;
      /** Upload ONE of these, every side listed. */
      oneOf: { type: IdentityDocumentType; label: string; sides: { side: DocumentSide; label: string }[] }[];
    };
    proofOfAddress?: {
      label: string;
      hint: string;
      maxAgeDays: number;
      accepted: { type: ProofOfAddressType; label: string }[];
    };
    selfie?: { label: string };
  };
  questionnaire?: {
    id: string;
    title: string;
    questions: { id: string; label: string; options: { id: string; label: string }[] }[];
  };
  leverageCaps: Record<InstrumentClass, number>;
  preVerificationDeposit?: { limit: Money; maxDays: number };
}

const T = {
  firstName: { en: 'First name', de: 'Vorname', es: 'Nombre' },
  lastName: { en: 'Last name', de: 'Nachname', es: 'Apellidos' },
  dateOfBirth: { en: 'Date of birth', de: 'Geburtsdatum', es: 'Fecha de nacimiento' },
  nationality: { en: 'Nationality', de: 'Staatsangehörigkeit', es: 'Nacionalidad' },
  phone: { en: 'Phone number', de: 'Telefonnummer', es: 'Número de teléfono' },
  'address.line1': { en: 'Street and number', de: 'Straße und Hausnummer', es: 'Calle y número' },
  'address.line2': { en: 'Address line 2', de: 'Adresszusatz', es: 'Línea de dirección 2' },
  'address.city': { en: 'City', de: 'Ort', es: 'Ciudad' },
  'address.postalCode': { en: 'Postal code', de: 'Postleitzahl', es: 'Código postal' },
  'address.country': { en: 'Country of residence', de: 'Wohnsitzland', es: 'País de residencia' },
  taxResidence: { en: 'Country of tax residence', de: 'Steuerlicher Wohnsitz', es: 'País de residencia fiscal' },
  taxId: { en: 'Tax identification number', de: 'Steuer-Identifikationsnummer', es: 'Número de identificación fiscal' },
  employmentStatus: { en: 'Employment status', de: 'Beschäftigungsstatus', es: 'Situación laboral' },
  annualIncome: { en: 'Annual income (EUR)', de: 'Jahreseinkommen (EUR)', es: 'Ingresos anuales (EUR)' },
  sourceOfFunds: { en: 'Source of funds', de: 'Herkunft der Mittel', es: 'Origen de los fondos' },
  netWorth: { en: 'Net worth (EUR)', de: 'Nettovermögen (EUR)', es: 'Patrimonio neto (EUR)' },
  politicallyExposed: {
    en: 'I am, or am closely related to, a politically exposed person',
    de: 'Ich bin eine politisch exponierte Person oder stehe einer solchen nahe',
    es: 'Soy, o estoy estrechamente vinculado a, una persona con responsabilidad pública',
  },
  identity: { en: 'Proof of identity', de: 'Identitätsnachweis', es: 'Documento de identidad' },
  proofOfAddress: { en: 'Proof of address', de: 'Adressnachweis', es: 'Justificante de domicilio' },
  proofOfAddressHint: {
    en: 'Issued within the last {days} days, showing your name and address',
    de: 'Ausgestellt innerhalb der letzten {days} Tage, mit Ihrem Namen und Ihrer Adresse',
    es: 'Emitido en los últimos {days} días, con su nombre y dirección',
  },
  selfie: {
    en: 'Selfie holding your ID document',
    de: 'Selfie mit Ihrem Ausweisdokument',
    es: 'Selfie con su documento de identidad',
  },
} satisfies Record<string, LocalizedText>;

const DOCUMENT_LABELS: Record<IdentityDocumentType | ProofOfAddressType | DocumentSide, LocalizedText> = {
  passport: { en: 'Passport', de: 'Reisepass', es: 'Pasaporte' },
  national_id: { en: 'National ID card', de: 'Personalausweis', es: 'Documento nacional de identidad' },
  driving_licence: { en: 'Driving licence', de: 'Führerschein', es: 'Permiso de conducir' },
  residence_permit: { en: 'Residence permit', de: 'Aufenthaltstitel', es: 'Permiso de residencia' },
  utility_bill: { en: 'Utility bill', de: 'Versorgerrechnung', es: 'Factura de suministros' },
  bank_statement: { en: 'Bank statement', de: 'Kontoauszug', es: 'Extracto bancario' },
  tax_document: { en: 'Tax document', de: 'Steuerbescheid', es: 'Documento fiscal' },
  government_letter: { en: 'Letter from a government authority', de: 'Behördenschreiben', es: 'Carta de un organismo público' },
  front: { en: 'Front', de: 'Vorderseite', es: 'Anverso' },
  back: { en: 'Back', de: 'Rückseite', es: 'Reverso' },
};

const SELECT_OPTIONS: Record<
  'employmentStatus' | 'annualIncome' | 'netWorth' | 'sourceOfFunds',
  Record<string, LocalizedText>
> = {
  employmentStatus: {
    employed: { en: 'Employed', de: 'Angestellt', es: 'Empleado' },
    self_employed: { en: 'Self-employed', de: 'Selbstständig', es: 'Autónomo' },
    retired: { en: 'Retired', de: 'Im Ruhestand', es: 'Jubilado' },
    student: { en: 'Student', de: 'Student', es: 'Estudiante' },
    unemployed: { en: 'Unemployed', de: 'Arbeitslos', es: 'Desempleado' },
  },
  annualIncome: {
    under_25k: { en: 'Less than 25,000', de: 'Weniger als 25.000', es: 'Menos de 25.000' },
    '25k_to_100k': { en: '25,000 to 100,000', de: '25.000 bis 100.000', es: 'De 25.000 a 100.000' },
    over_100k: { en: 'More than 100,000', de: 'Mehr als 100.000', es: 'Más de 100.000' },
  },
  netWorth: {
    under_10k: { en: 'Less than 10,000', de: 'Weniger als 10.000', es: 'Menos de 10.000' },
    '10k_to_50k': { en: '10,000 to 50,000', de: '10.000 bis 50.000', es: 'De 10.000 a 50.000' },
    '50k_to_250k': { en: '50,000 to 250,000', de: '50.000 bis 250.000', es: 'De 50.000 a 250.000' },
    over_250k: { en: 'More than 250,000', de: 'Mehr als 250.000', es: 'Más de 250.000' },
  },
  sourceOfFunds: {
    salary: { en: 'Salary', de: 'Gehalt', es: 'Salario' },
    savings: { en: 'Savings', de: 'Ersparnisse', es: 'Ahorros' },
    investments: { en: 'Investments', de: 'Kapitalanlagen', es: 'Inversiones' },
    inheritance: { en: 'Inheritance', de: 'Erbschaft', es: 'Herencia' },
    business: { en: 'Business income', de: 'Geschäftseinkommen', es: 'Ingresos empresariales' },
  },
};

const PROFILE: { name: keyof typeof T; type: ProfileFieldType; required: boolean }[] = [
  { name: 'firstName', type: 'text', required: true },
  { name: 'lastName', type: 'text', required: true },
  { name: 'dateOfBirth', type: 'date', required: true },
  { name: 'nationality', type: 'country', required: true },
  { name: 'phone', type: 'phone', required: true },
  { name: 'address.line1', type: 'text', required: true },
  { name: 'address.line2', type: 'text', required: false },
  { name: 'address.city', type: 'text', required: true },
  { name: 'address.postalCode', type: 'text', required: true },
  { name: 'address.country', type: 'country', required: true },
  { name: 'taxResidence', type: 'country', required: true },
  { name: 'taxId', type: 'text', required: false },
  { name: 'employmentStatus', type: 'select', required: true },
  { name: 'annualIncome', type: 'select', required: true },
  { name: 'netWorth', type: 'select', required: true },
  { name: 'sourceOfFunds', type: 'select', required: true },
  { name: 'politicallyExposed', type: 'boolean', required: true },
];

/** The tenant locale to answer in: the requested one if enabled (or its language), else the tenant default. */
export function resolveLocale(cfg: Pick<TenantConfig, 'locales' | 'defaultLocale'>, requested: string | undefined): string {
  if (requested) {
    if (cfg.locales.includes(requested)) return requested;
    const lang = requested.split('-')[0]?.toLowerCase() ?? '';
    const match = cfg.locales.find((l) => l === lang || l.split('-')[0] === lang);
    if (match) return match;
  }
  return cfg.defaultLocale;
}

/** The text in a tenant locale ('de-DE' uses 'de'), English when there is no translation. */
export function localize(text: LocalizedText, locale: string): string {
  const lang = locale.split('-')[0] as TextLocale;
  return (TEXT_LOCALES as readonly string[]).includes(lang) ? text[lang] : text.en;
}

/** What a client resident in `country` must provide, labelled in `locale`. Throws as requirementsFor does. */
export function onboardingForm(
  cfg: FormConfig,
  input: { country: string; clientType: ClientType; locale?: string },
): OnboardingForm {
  const req = requirementsFor(cfg, input);
  const locale = resolveLocale(cfg, input.locale);
  const l = (t: LocalizedText) => localize(t, locale);
  const profile = PROFILE.map((f): ProfileField => {
    const field: ProfileField = { name: f.name, type: f.type, required: f.required, label: l(T[f.name]) };
    if (f.type === 'select') {
      const opts = SELECT_OPTIONS[f.name as keyof typeof SELECT_OPTIONS];
      field.options = Object.entries(opts).map(([id, label]) => ({ id, label: l(label) }));
    }
    return field;
  });
  const docs = req.documents;
  const q = req.questionnaire ? QUESTIONNAIRES[req.questionnaire] : undefined;
  return {
    locale,
    jurisdiction: req.jurisdiction,
    regulator: req.regulator,
    clientType: req.clientType,
    profile,
    documents: {
      identity: {
        label: l(T.identity),
        oneOf: docs.identity.accepted.map((d) => ({
          type: d.type,
          label: l(DOCUMENT_LABELS[d.type]),
          sides: d.sides.map((side) => ({ side, label: l(DOCUMENT_LABELS[side]) })),
        })),
      },
      ...(docs.proofOfAddress.required
        ? {
            proofOfAddress: {
              label: l(T.proofOfAddress),
              hint: l(T.proofOfAddressHint).replace('{days}', String(docs.proofOfAddress.maxAgeDays)),
              maxAgeDays: docs.proofOfAddress.maxAgeDays,
              accepted: docs.proofOfAddress.accepted.map((type) => ({ type, label: l(DOCUMENT_LABELS[type]) })),
            },
          }
        : {}),
      ...(docs.selfie.required ? { selfie: { label: l(T.selfie) } } : {}),
    },
    ...(q
      ? {
          questionnaire: {
            id: q.id,
            title: l(q.title),
            questions: q.questions.map((question) => ({
              id: question.id,
              label: l(question.label),
              options: question.options.map((o) => ({ id: o.id, label: l(o.label) })),
            })),
          },
        }
      : {}),
    leverageCaps: req.leverageCaps,
    ...(req.preVerificationDeposit ? { preVerificationDeposit: req.preVerificationDeposit } : {}),
  };
}
