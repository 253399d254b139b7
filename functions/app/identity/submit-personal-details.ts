/**
 * The client's personal details, the onboarding profile step (POST /v1/onboarding/profile; the local demo seed).
 *
 * Invariants:
 * - the caller's own profile only (404 profile_not_found without one); the input is already validated by the edge
 * - the address country must be the country of residence (400 address_country_mismatch)
 * - details can be changed until KYC is submitted; afterwards 409 onboarding_locked
 * - stored on the profile with one audit item ('client.personal_details.submitted', before/after, actor = the
 *   client), conditioned on the version read (409 conflict)
 * - a 'registered' client moves to 'profile_completed' once details and any required questionnaire are in
 * - PII goes to the table and the audit trail, never to logs (nothing here logs)
 */
import type { CommandContext } from '#app/context.ts';
import { DomainError } from '#domain/errors.ts';
import type { Caller, Role } from '#domain/identity/roles.ts';
import { actorFrom, commit } from '#store/audit.ts';
import { type PersonalDetails, replaceClientProfile } from '#store/clients.ts';
import { assertOnboardingOpen, type ClientProfileItem, ownClientProfile, requirementsOf, stageAfter } from './shared.ts';

/** The role the actor acts in (the edge lets clients only). */
const ACTOR_ROLES: readonly Role[] = ['client'];

export type SubmitPersonalDetailsInput = PersonalDetails;

export interface OnboardingProgress {
  /** The profile as committed. */
  profile: ClientProfileItem;
  /** The questionnaire the client's requirements name, if any. */
  questionnaireRequired: string | null;
}

/** Stores the caller's personal details on its profile (one audited, version-conditioned commit). */
export async function submitPersonalDetails(
  input: SubmitPersonalDetailsInput,
  caller: Caller,
  ctx: CommandContext,
): Promise<OnboardingProgress> {
  const profile = await ownClientProfile(caller);
  assertOnboardingOpen(profile);
  if (input.address.country !== profile.countryOfResidence) {
    throw new DomainError('address_country_mismatch', 'validation', 'The address must be in your country of residence', [
      { field: 'address.country', code: 'address_country_mismatch', message: `must be ${profile.countryOfResidence}` },
    ]);
  }
  const details: PersonalDetails = {
    phone: input.phone,
    nationality: input.nationality,
    address: { ...input.address },
    taxResidence: input.taxResidence,
    ...(input.taxId !== undefined ? { taxId: input.taxId } : {}),
    employmentStatus: input.employmentStatus,
    annualIncome: input.annualIncome,
    netWorth: input.netWorth,
    sourceOfFunds: input.sourceOfFunds,
    politicallyExposed: input.politicallyExposed,
  };
  const now = (ctx.now ?? new Date()).toISOString();
  const stage = stageAfter(profile, { details: true, answered: profile.onboarding?.questionnaire !== undefined });
  const next: ClientProfileItem = {
    ...profile,
    personalDetails: details,
    onboarding: {
      ...profile.onboarding,
      stage,
      ...(stage === 'profile_completed' && profile.onboarding?.stage !== stage ? { profileCompletedAt: now } : {}),
    },
  };
  await commit({
    writes: [replaceClientProfile(profile, next, now)],
    audit: {
      actor: actorFrom(caller, ACTOR_ROLES),
      action: 'client.personal_details.submitted',
      entity: { type: 'client', id: profile.clientId },
      clientId: profile.clientId,
      before: { personalDetails: profile.personalDetails ?? null, stage: profile.onboarding?.stage ?? 'registered' },
      after: { personalDetails: details, stage },
      requestId: ctx.requestId,
    },
    now: () => new Date(now),
  });
  return { profile: next, questionnaireRequired: requirementsOf(next).questionnaire ?? null };
}
