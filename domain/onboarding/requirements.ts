/**
 * What a client must provide and may be offered, by country of residence and client type.
 * Pure functions over the tenant config: the rules are data (cfg.onboarding), not code branches.
 *
 * Invariants:
 * - a restricted country is refused before a jurisdiction is looked up (`country_restricted`
 *   wins over `country_not_served`, as in domain/identity/rules.ts)
 * - every enabled jurisdiction has rules for both client types (defaults when the tenant file has none)
 * - leverage is N for N:1; a requested leverage above the configured cap is refused with the cap in meta
 * - the pre-verification deposit allowance appears only when the jurisdiction enables it
 */
import { DomainError } from '../errors.ts';
import { countryProblem } from '../identity/rules.ts';
import type { TenantConfig } from '../tenant/config.ts';
import type {
  ClientType,
  DocumentSide,
  IdentityDocumentType,
  InstrumentClass,
  ProofOfAddressType,
  QuestionnaireId,
} from './catalog.ts';
import { CLIENT_TYPES, INSTRUMENT_CLASSES } from './catalog.ts';

export type OnboardingConfig = Pick<TenantConfig, 'jurisdictions' | 'restrictedCountries' | 'onboarding'>;

export interface Money {
  amount: string;
  currency: string;
}

export interface DocumentRequirements {
  /** The client uploads one of these, every listed side. */
  identity: { accepted: { type: IdentityDocumentType; sides: DocumentSide[] }[] };
  proofOfAddress: { required: boolean; maxAgeDays: number; accepted: ProofOfAddressType[] };
  selfie: { required: boolean };
}

export interface OnboardingRequirements {
  jurisdiction: string;
  regulator: string;
  clientType: ClientType;
  documents: DocumentRequirements;
  questionnaire?: QuestionnaireId;
  leverageCaps: Record<InstrumentClass, number>;
  preVerificationDeposit?: { limit: Money; maxDays: number };
}

const COUNTRY_MESSAGES = {
  country_restricted: 'we cannot accept clients resident in this country',
  country_not_served: 'we do not serve clients resident in this country yet',
} as const;

function assertClientType(clientType: string): asserts clientType is ClientType {
  if (!(CLIENT_TYPES as readonly string[]).includes(clientType)) {
    throw new DomainError('invalid_client_type', 'validation', `clientType must be one of ${CLIENT_TYPES.join(', ')}`, [
      { field: 'clientType', code: 'invalid_client_type', message: `must be one of ${CLIENT_TYPES.join(', ')}` },
    ]);
  }
}

function rulesFor(cfg: OnboardingConfig, jurisdiction: string, clientType: ClientType) {
  const j = cfg.jurisdictions.find((x) => x.code === jurisdiction);
  const rules = j && cfg.onboarding.jurisdictions[j.code];
  if (!j || !rules) {
    throw new DomainError('unknown_jurisdiction', 'validation', `jurisdiction ${jurisdiction} is not enabled`, [
      { field: 'jurisdiction', code: 'unknown_jurisdiction', message: 'not an enabled jurisdiction' },
    ]);
  }
  return { jurisdiction: j, rules, byType: rules[clientType] };
}

/** The jurisdiction serving a country of residence; DomainError `country_restricted` / `country_not_served` otherwise. */
export function jurisdictionForCountry(cfg: OnboardingConfig, country: string): TenantConfig['jurisdictions'][number] {
  const c = country.trim().toUpperCase();
  const problem = countryProblem(cfg, c);
  const j = problem ? undefined : cfg.jurisdictions.find((x) => x.countries.includes(c));
  if (problem || !j) {
    const code = problem ?? 'country_not_served';
    throw new DomainError(
      code,
      'validation',
      COUNTRY_MESSAGES[code],
      [{ field: 'country', code, message: COUNTRY_MESSAGES[code] }],
      {
        country: c,
      },
    );
  }
  return j;
}

/** Everything a client resident in `country` must provide, and the limits that apply, as the tenant configured them. */
export function requirementsFor(
  cfg: OnboardingConfig,
  input: { country: string; clientType: ClientType },
): OnboardingRequirements {
  assertClientType(input.clientType);
  const j = jurisdictionForCountry(cfg, input.country);
  const { rules, byType } = rulesFor(cfg, j.code, input.clientType);
  const docs = byType.documents;
  const pvd = rules.preVerificationDeposit;
  return {
    jurisdiction: j.code,
    regulator: j.regulator,
    clientType: input.clientType,
    documents: {
      identity: { accepted: docs.identity.accepted.map((d) => ({ type: d.type, sides: [...d.sides] })) },
      proofOfAddress: { ...docs.proofOfAddress, accepted: [...docs.proofOfAddress.accepted] },
      selfie: { ...docs.selfie },
    },
    ...(byType.questionnaire ? { questionnaire: byType.questionnaire } : {}),
    leverageCaps: { ...byType.leverageCaps },
    ...(pvd?.enabled ? { preVerificationDeposit: { limit: { ...pvd.limit }, maxDays: pvd.maxDays } } : {}),
  };
}

export interface LeverageQuery {
  jurisdiction: string;
  clientType: ClientType;
  instrumentClass: InstrumentClass;
}

/** The highest leverage (N for N:1) the tenant allows for this jurisdiction, client type and instrument class. */
export function maxLeverage(cfg: OnboardingConfig, q: LeverageQuery): number {
  assertClientType(q.clientType);
  if (!(INSTRUMENT_CLASSES as readonly string[]).includes(q.instrumentClass)) {
    throw new DomainError(
      'unknown_instrument_class',
      'validation',
      `instrumentClass must be one of ${INSTRUMENT_CLASSES.join(', ')}`,
      [
        {
          field: 'instrumentClass',
          code: 'unknown_instrument_class',
          message: `must be one of ${INSTRUMENT_CLASSES.join(', ')}`,
        },
      ],
    );
  }
  return rulesFor(cfg, q.jurisdiction, q.clientType).byType.leverageCaps[q.instrumentClass];
}

/** Throws DomainError `leverage_above_cap` (meta.cap = the allowed maximum) when `leverage` exceeds the cap. */
export function assertLeverageAllowed(cfg: OnboardingConfig, q: LeverageQuery & { leverage: number }): void {
  if (!Number.isInteger(q.leverage) || q.leverage < 1) {
    throw new DomainError('invalid_leverage', 'validation', 'leverage must be a whole number N >= 1 (for N:1)', [
      { field: 'leverage', code: 'invalid_leverage', message: 'must be a whole number N >= 1 (for N:1)' },
    ]);
  }
  const cap = maxLeverage(cfg, q);
  if (q.leverage > cap) {
    throw new DomainError(
      'leverage_above_cap',
      'unprocessable',
      `leverage ${q.leverage}:1 exceeds the ${cap}:1 cap for ${q.clientType} ${q.instrumentClass} in ${q.jurisdiction}`,
      [{ field: 'leverage', code: 'leverage_above_cap', message: `must be at most ${cap}` }],
      { cap, requested: q.leverage, jurisdiction: q.jurisdiction, clientType: q.clientType, instrumentClass: q.instrumentClass },
    );
  }
}
