/**
 * Client profiles (pk CLIENT#<clientId>, sk PROFILE). A client's id is its Cognito `sub`.
 *
 * Invariants:
 * - a profile is created together with its unique-email claim, its first audit item
 *   ('client.registered') and its 'client.registered' outbox event, in one commit
 * - the profile never stores a password or any credential
 * - emailVerified is false until the client proves it owns the address (never true at registration)
 * - gsi1 lists clients by createdAt (CLIENTS partition)
 * - an existing profile is only ever replaced whole, conditioned on the version read (optimistic
 *   concurrency), with its version bumped by one (replaceClientProfile)
 * - `personalDetails` (onboarding profile step) and `onboarding.questionnaire` (latest questionnaire
 *   result; every attempt is its own item, store/questionnaires.ts) are absent until submitted
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { isOnboardingStage, type KycStatus, nextStep, type OnboardingStage } from '#domain/identity/onboarding.ts';
import type { RegistrationProfile } from '#domain/kyc/model.ts';
import { ddb } from '#shared/clients.ts';
import { type CommitWrite, newItem, putNew, replaceVersioned, tableName } from './items.ts';
import { clientKeys } from './keys.ts';
import type { BaseItem } from './table.ts';

export type ClientType = 'retail' | 'professional';

export interface MarketingSource {
  utmSource?: string | undefined;
  utmMedium?: string | undefined;
  utmCampaign?: string | undefined;
}

export interface ClientProfileFields {
  clientId: string;
  email: string;
  firstName: string;
  lastName: string;
  dateOfBirth: string;
  countryOfResidence: string;
  jurisdiction: string;
  clientType: ClientType;
  referralCode?: string | undefined;
  marketingSource?: MarketingSource | undefined;
  locale: string;
  /**
   * Whether the client proved it owns `email`. False at registration (self-typed address); set by the
   * email-verification step of onboarding. Absent on profiles written before it existed (= false).
   */
  emailVerified?: boolean | undefined;
  status: 'active' | 'suspended' | 'closed';
  onboarding: ClientOnboarding;
  /** Verification status; absent = 'not_started'. Written with every KYC decision (functions/store/kyc-decision.ts). */
  kycStatus?: KycStatus | undefined;
  /** The latest KYC facts the rest of the system keys on (deposits, live accounts, the expiry job). */
  kyc?: ClientKyc | undefined;
  /** Set by POST /v1/onboarding/profile (PII: never logged). */
  personalDetails?: PersonalDetails | undefined;
}

export interface PersonalDetails {
  phone: string;
  nationality: string;
  address: { line1: string; line2?: string | undefined; city: string; postalCode: string; country: string };
  taxResidence: string;
  taxId?: string | undefined;
  employmentStatus: string;
  annualIncome: string;
  netWorth: string;
  sourceOfFunds: string;
  politicallyExposed: boolean;
}

/** The latest questionnaire attempt's outcome, as kept on the profile. */
export interface QuestionnaireOutcome {
  questionnaireId: string;
  attempt: number;
  score: number;
  maxScore: number;
  result: string;
  blockedProducts: string[];
  warnings: string[];
  submittedAt: string;
}

export interface ClientKyc {
  /** The latest submission (any status). */
  currentSubmissionId?: string | undefined;
  approvedAt?: string | undefined;
  /** The submission whose approval is current. */
  approvedSubmissionId?: string | undefined;
  /** YYYY-MM-DD expiry of the approved identity document. */
  identityExpiresOn?: string | undefined;
  /** Set by the daily expiry job when the approved document has expired. */
  expiredAt?: string | undefined;
  /**
   * A renewal in progress: the submission sent while the approved document was expiring soon. kycStatus stays
   * 'approved' meanwhile (deposits and trading key on it); cleared when the renewal is decided.
   */
  renewalSubmissionId?: string | undefined;
}

export interface ClientOnboarding {
  stage: OnboardingStage;
  profileCompletedAt?: string | undefined;
  questionnaire?: QuestionnaireOutcome | undefined;
}

export type ClientProfileItem = BaseItem & ClientProfileFields & { type: 'client'; gsi1pk: string; gsi1sk: string };

export function newClientProfile(fields: ClientProfileFields, now: string): ClientProfileItem {
  return newItem(
    { ...clientKeys.key(fields.clientId), type: clientKeys.type, ...fields, ...clientKeys.listIndex(now, fields.clientId) },
    now,
  ) as ClientProfileItem;
}

export const putClientProfile = (item: ClientProfileItem) => putNew(item);

/**
 * Replaces a profile read at `read.version` with `next` (version bumped, updatedAt = now); a concurrent
 * change fails the commit with 409 conflict.
 */
export function replaceClientProfile(read: ClientProfileItem, next: ClientProfileItem, now: string): CommitWrite {
  return replaceVersioned(read, next, now, 'profile');
}

/** The onboarding block the API shows (GET /v1/me, the onboarding routes). */
export function onboardingView(p: ClientProfileItem) {
  const stage: OnboardingStage = isOnboardingStage(p.onboarding?.stage) ? p.onboarding.stage : 'registered';
  const q = p.onboarding?.questionnaire;
  return {
    stage,
    kycStatus: p.kycStatus ?? ('not_started' as KycStatus),
    next: nextStep(stage),
    profileSubmitted: p.personalDetails !== undefined,
    questionnaire: q
      ? {
          id: q.questionnaireId,
          attempt: q.attempt,
          result: q.result,
          score: q.score,
          maxScore: q.maxScore,
          submittedAt: q.submittedAt,
        }
      : null,
  };
}

/** A client's profile; `consistent` reads it strongly consistent (before a version-conditioned write). */
export async function getClientProfile(
  clientId: string,
  opts: { consistent?: boolean } = {},
): Promise<ClientProfileItem | undefined> {
  const res = await ddb().send(
    new GetCommand({ TableName: tableName(), Key: clientKeys.key(clientId), ConsistentRead: opts.consistent ?? false }),
  );
  return res.Item as ClientProfileItem | undefined;
}

/** The profile as the API shows it (no keys, no storage-only attributes). */
export function clientProfileView(p: ClientProfileItem) {
  return {
    clientId: p.clientId,
    email: p.email,
    firstName: p.firstName,
    lastName: p.lastName,
    dateOfBirth: p.dateOfBirth,
    countryOfResidence: p.countryOfResidence,
    jurisdiction: p.jurisdiction,
    clientType: p.clientType,
    referralCode: p.referralCode,
    marketingSource: p.marketingSource,
    locale: p.locale,
    emailVerified: p.emailVerified ?? false,
    status: p.status,
    createdAt: p.createdAt,
    updatedAt: p.updatedAt,
  };
}

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
