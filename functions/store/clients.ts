/**
 * Client profiles (pk CLIENT#<clientId>, sk PROFILE). A client's id is its Cognito `sub`. Declared once as
 * an entity (clientEntity, functions/store/entity.ts): the schema below is the stored profile.
 *
 * Invariants:
 * - every profile read is parsed (a malformed one is a StoredItemError naming the attribute)
 * - a profile is created together with its unique-email claim, its first audit item
 *   ('client.registered') and its 'client.registered' outbox event, in one commit
 * - the profile never stores a password or any credential
 * - emailVerified is false until the client proves it owns the address (never true at registration)
 * - gsi1 lists clients by createdAt (CLIENTS partition)
 * - an existing profile is only ever replaced whole, conditioned on the version read (optimistic
 *   concurrency), with its version bumped by one (replaceClientProfile)
 * - `personalDetails` (onboarding profile step) and `onboarding.questionnaire` (latest questionnaire
 *   result; every attempt is its own item, store/questionnaires.ts) are absent until submitted
 * - item I/O only: the API's views live with the API (functions/api/shared/identity-views.ts), the audit
 *   record with the use cases (functions/app/identity/shared.ts)
 */
import * as z from 'zod';
import { type KycStatus, ONBOARDING_STAGES } from '#domain/identity/onboarding.ts';
import type { RegistrationProfile } from '#domain/kyc/model.ts';
import { defineEntity, type ItemOf } from './entity.ts';
import type { CommitWrite } from './items.ts';
import { clientKeys } from './keys.ts';
import { nested, oneOf, optionalString } from './schemas.ts';

export type ClientType = 'retail' | 'professional';

const marketingSourceSchema = nested({
  utmSource: optionalString(),
  utmMedium: optionalString(),
  utmCampaign: optionalString(),
});
export type MarketingSource = z.output<typeof marketingSourceSchema>;

const personalDetailsSchema = nested({
  phone: z.string(),
  nationality: z.string(),
  address: nested({
    line1: z.string(),
    line2: optionalString(),
    city: z.string(),
    postalCode: z.string(),
    country: z.string(),
  }),
  taxResidence: z.string(),
  taxId: optionalString(),
  employmentStatus: z.string(),
  annualIncome: z.string(),
  netWorth: z.string(),
  sourceOfFunds: z.string(),
  politicallyExposed: z.boolean(),
});
export type PersonalDetails = z.output<typeof personalDetailsSchema>;

/** The latest questionnaire attempt's outcome, as kept on the profile. */
const questionnaireOutcomeSchema = nested({
  questionnaireId: z.string(),
  attempt: z.number().int(),
  score: z.number(),
  maxScore: z.number(),
  result: z.string(),
  blockedProducts: z.array(z.string()),
  warnings: z.array(z.string()),
  submittedAt: z.string(),
});
export type QuestionnaireOutcome = z.output<typeof questionnaireOutcomeSchema>;

const clientKycSchema = nested({
  /** The latest submission (any status). */
  currentSubmissionId: optionalString(),
  approvedAt: optionalString(),
  /** The submission whose approval is current. */
  approvedSubmissionId: optionalString(),
  /** YYYY-MM-DD expiry of the approved identity document. */
  identityExpiresOn: optionalString(),
  /** Set by the daily expiry job when the approved document has expired. */
  expiredAt: optionalString(),
  /**
   * A renewal in progress: the submission sent while the approved document was expiring soon. kycStatus stays
   * 'approved' meanwhile (deposits and trading key on it); cleared when the renewal is decided.
   */
  renewalSubmissionId: optionalString(),
});
export type ClientKyc = z.output<typeof clientKycSchema>;

const onboardingSchema = nested({
  stage: z.enum(ONBOARDING_STAGES),
  profileCompletedAt: optionalString(),
  questionnaire: questionnaireOutcomeSchema.optional(),
});
export type ClientOnboarding = z.output<typeof onboardingSchema>;

const clientProfileSchema = z.object({
  clientId: z.string().min(1),
  email: z.string().min(1),
  firstName: z.string(),
  lastName: z.string(),
  dateOfBirth: z.string(),
  countryOfResidence: z.string(),
  jurisdiction: z.string(),
  clientType: oneOf<ClientType>({ retail: true, professional: true }),
  referralCode: optionalString(),
  marketingSource: marketingSourceSchema.optional(),
  locale: z.string(),
  /**
   * Whether the client proved it owns `email`. False at registration (self-typed address); set by the
   * email-verification step of onboarding. Absent on profiles written before it existed (= false).
   */
  emailVerified: z.boolean().optional(),
  status: z.enum(['active', 'suspended', 'closed']),
  onboarding: onboardingSchema,
  /** Verification status; absent = 'not_started'. Written with every KYC decision (functions/app/kyc/decisions.ts). */
  kycStatus: oneOf<KycStatus>({
    not_started: true,
    in_review: true,
    approved: true,
    rejected: true,
    action_required: true,
  }).optional(),
  /** The latest KYC facts the rest of the system keys on (deposits, live accounts, the expiry job). */
  kyc: clientKycSchema.optional(),
  /** Set by POST /v1/onboarding/profile (PII: never logged). */
  personalDetails: personalDetailsSchema.optional(),
});
export type ClientProfileFields = z.output<typeof clientProfileSchema>;

export const clientEntity = defineEntity({
  type: clientKeys.type,
  schema: clientProfileSchema,
  key: (c) => clientKeys.key(c.clientId),
  indexes: (c) => clientKeys.listIndex(c.createdAt, c.clientId),
  what: 'profile',
});

export type ClientProfileItem = ItemOf<typeof clientEntity>;

export const newClientProfile = (fields: ClientProfileFields, now: string): ClientProfileItem => clientEntity.item(fields, now);

export const putClientProfile = (item: ClientProfileItem) => clientEntity.putNew(item);

/**
 * Replaces a profile read at `read.version` with `next` (version bumped, updatedAt = now); a concurrent
 * change fails the commit with 409 conflict.
 */
export function replaceClientProfile(read: ClientProfileItem, next: ClientProfileItem, now: string): CommitWrite {
  return clientEntity.replace(read, next, now);
}

/** A client's profile; `consistent` reads it strongly consistent (before a version-conditioned write). */
export const getClientProfile = (clientId: string, opts: { consistent?: boolean } = {}): Promise<ClientProfileItem | undefined> =>
  clientEntity.get(clientKeys.key(clientId), opts);

/** The registration data KYC documents are checked against (and shown beside them to a reviewer). */
export function registrationProfileOf(p: ClientProfileItem): RegistrationProfile {
  const a = p.personalDetails?.address;
  return {
    givenNames: p.firstName,
    surname: p.lastName,
    dateOfBirth: p.dateOfBirth,
    country: p.countryOfResidence,
    ...(a
      ? { address: { lines: [a.line1, ...(a.line2 ? [a.line2] : []), a.city], postalCode: a.postalCode, country: a.country } }
      : {}),
  };
}
