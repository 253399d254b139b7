/**
 * What the identity use cases (registration, staff, sign-in, me, onboarding) share: the caller's own
 * profile, the onboarding step rules, and the records the audit trail keeps of a profile and a staff user.
 *
 * Invariants:
 * - a caller's own profile is looked up by its token's sub, never by a parameter; none is 404 profile_not_found
 * - onboarding details and questionnaire answers change only until KYC is submitted (409 onboarding_locked)
 * - the audit records are the key-free fields the trail has always kept ('client.registered', 'staff.created');
 *   they are decoupled from the API's views on purpose, so a change of presentation never changes the trail
 */
import { DomainError } from '#domain/errors.ts';
import { stageAfterProfileStep } from '#domain/identity/onboarding.ts';
import type { Caller } from '#domain/identity/roles.ts';
import { requirementsFor } from '#domain/onboarding/index.ts';
import { tenantConfig } from '#shared/tenant.ts';
import { type ClientProfileItem, getClientProfile } from '#store/clients.ts';
import type { StaffItem } from '#store/staff.ts';

/** The item types the identity use cases return; edges present them (functions/api/shared/identity-views.ts). */
export type { ClientProfileItem, StaffItem };

export const profileNotFound = () => new DomainError('profile_not_found', 'not_found', 'No profile exists for this user');

/** The caller's own client profile (by its token's sub); 404 profile_not_found when it has none. */
export async function ownClientProfile(caller: Caller): Promise<ClientProfileItem> {
  const profile = await getClientProfile(caller.sub);
  if (!profile) throw profileNotFound();
  return profile;
}

/** What the tenant requires of this client to onboard (documents, questionnaire), by country and client type. */
export const requirementsOf = (p: ClientProfileItem) =>
  requirementsFor(tenantConfig(), { country: p.countryOfResidence, clientType: p.clientType });

const LOCKED_STAGES = new Set(['kyc_submitted', 'approved', 'rejected']);

export function assertOnboardingOpen(p: ClientProfileItem): void {
  if (LOCKED_STAGES.has(p.onboarding?.stage ?? 'registered')) {
    throw new DomainError('onboarding_locked', 'conflict', 'Onboarding details cannot change once KYC was submitted');
  }
}

/** The stage after a profile step, given whether details and the questionnaire (if required) are in. */
export function stageAfter(p: ClientProfileItem, step: { details: boolean; answered: boolean }) {
  return stageAfterProfileStep(p.onboarding?.stage ?? 'registered', {
    details: step.details,
    questionnaireRequired: requirementsOf(p).questionnaire !== undefined,
    questionnaireAnswered: step.answered,
  });
}

/** A client profile as the audit trail records it (no keys, no storage-only attributes). */
export function clientProfileRecord(p: ClientProfileItem) {
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

/** A staff user as the audit trail records it (no keys). */
export function staffRecord(s: StaffItem) {
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
