/**
 * How the identity API modules present profiles, onboarding state and staff users (GET /v1/me, the
 * onboarding routes, the staff routes). Each module keeps its own response schema.
 *
 * Invariants:
 * - a view never shows keys, storage-only attributes or credentials; personal details are never shown back
 * - the onboarding block is the same wherever it appears (GET /v1/me, POST /v1/onboarding/profile)
 */
import type { ClientProfileItem, StaffItem } from '#app/identity/shared.ts';
import { isOnboardingStage, type KycStatus, nextStep, type OnboardingStage } from '#domain/identity/onboarding.ts';

/** The client's profile as the API shows it (no keys, no storage-only attributes, no personal details). */
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

/** The onboarding block (GET /v1/me, the onboarding routes). */
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

/** A staff user as the API shows it (no keys). */
export function staffView(s: StaffItem) {
  return {
    staffId: s.staffId,
    email: s.email,
    firstName: s.firstName,
    lastName: s.lastName,
    roles: s.roles,
    status: s.status,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
  };
}
