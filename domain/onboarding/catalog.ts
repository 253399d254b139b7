/**
 * The fixed vocabulary of onboarding rules: instrument classes, identity document types, document
 * sides and questionnaire ids. Tenant files refer to these names; the values per jurisdiction and
 * client type are data in the tenant config (domain/tenant/config.ts), never code branches.
 * No imports: the tenant config schema depends on this module.
 */

/**
 * Instrument classes as ESMA's product intervention measures group them (ESMA 2018, FCA PS19/18,
 * ASIC CFD product intervention order 2020 use the same grouping).
 */
export const INSTRUMENT_CLASSES = [
  'fx_major',
  'fx_minor',
  'gold',
  'index_major',
  'index_minor',
  'commodity',
  'equity',
  'crypto',
] as const;
export type InstrumentClass = (typeof INSTRUMENT_CLASSES)[number];

/** Maximum leverage (N for N:1) a retail client may be given under ESMA / FCA / ASIC rules. */
export const ESMA_RETAIL_LEVERAGE: Readonly<Record<InstrumentClass, number>> = {
  fx_major: 30,
  fx_minor: 20,
  gold: 20,
  index_major: 20,
  index_minor: 10,
  commodity: 10,
  equity: 5,
  crypto: 2,
};

/** The highest leverage a tenant file may configure for any class and client type. */
export const MAX_CONFIGURABLE_LEVERAGE = 3000;

export const CLIENT_TYPES = ['retail', 'professional'] as const;
export type ClientType = (typeof CLIENT_TYPES)[number];

export const IDENTITY_DOCUMENT_TYPES = ['passport', 'national_id', 'driving_licence', 'residence_permit'] as const;
export type IdentityDocumentType = (typeof IDENTITY_DOCUMENT_TYPES)[number];

export const DOCUMENT_SIDES = ['front', 'back'] as const;
export type DocumentSide = (typeof DOCUMENT_SIDES)[number];

export const PROOF_OF_ADDRESS_TYPES = ['utility_bill', 'bank_statement', 'tax_document', 'government_letter'] as const;
export type ProofOfAddressType = (typeof PROOF_OF_ADDRESS_TYPES)[number];

/** The questionnaires this code base ships (see questionnaire.ts). */
export const QUESTIONNAIRE_IDS = ['mifid2-appropriateness'] as const;
export type QuestionnaireId = (typeof QUESTIONNAIRE_IDS)[number];
