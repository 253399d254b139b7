/**
 * What the caller must provide to onboard (GET /v1/onboarding/form).
 *
 * Invariants:
 * - the caller's own profile only (404 profile_not_found without one)
 * - the form is onboardingForm() for the client's country of residence and client type, labelled in the
 *   context's locale; it carries no scores
 */
import type { CommandContext } from '#app/context.ts';
import type { Caller } from '#domain/identity/roles.ts';
import { onboardingForm } from '#domain/onboarding/index.ts';
import { tenantConfig } from '#shared/tenant.ts';
import { ownClientProfile } from './shared.ts';

export async function getOnboardingForm(caller: Caller, ctx: CommandContext): Promise<ReturnType<typeof onboardingForm>> {
  const profile = await ownClientProfile(caller);
  return onboardingForm(tenantConfig(), {
    country: profile.countryOfResidence,
    clientType: profile.clientType,
    locale: ctx.locale,
  });
}
