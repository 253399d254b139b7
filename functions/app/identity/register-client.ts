/**
 * Client self-registration (POST /v1/registrations; the local demo seed).
 *
 * Invariants:
 * - the input is already validated by the edge (email shape, password policy, date of birth, country,
 *   locale); here the email is normalised and the jurisdiction derived from the country of residence
 * - one client per normalised email per tenant (provision-user.ts): an active UNIQUE#EMAIL owner or a live
 *   reservation is 409 email_taken, and nothing new is written
 * - order: reserve email -> Cognito user (sub; an orphan of a crashed attempt is adopted) -> permanent
 *   password -> group 'client' -> ONE commit of profile + unique email (active) + audit
 *   'client.registered' + outbox 'client.registered'; if anything after the user's creation fails, the
 *   Cognito user is deleted and the reservation released (or left to expire), and the error rethrown
 * - the address is unverified: Cognito email_verified 'false', profile emailVerified false (proving
 *   it belongs to the onboarding flow)
 * - the clientId is the Cognito sub; the client is its own actor; passwords are never stored or logged
 * - a referral (the carried referralCode, or a recorded click of `visitorId`, per the tenant's first/last touch
 *   policy: functions/app/partners/links.ts) attributes the client to an approved partner in the same commit:
 *   referral, attribution version, the link's registrations counter, an audit entry and partner.client.attributed.
 *   An unknown code or one of a partner not approved attributes nothing and never fails the registration
 */
import type { CommandContext } from '#app/context.ts';
import { isReferralAttributionFailure, registrationReferral, resolveReferral } from '#app/partners/links.ts';
import { initialOnboarding } from '#domain/identity/onboarding.ts';
import { jurisdictionCode, normalizeEmail } from '#domain/identity/rules.ts';
import { tenantConfig } from '#shared/tenant.ts';
import { commit } from '#store/audit.ts';
import { type ClientType, type MarketingSource, newClientProfile, putClientProfile } from '#store/clients.ts';
import { provisionUser } from './provision-user.ts';
import { clientProfileRecord } from './shared.ts';

export interface RegisterClientInput {
  email: string;
  password: string;
  firstName: string;
  lastName: string;
  /** YYYY-MM-DD, checked by the edge (real date, not in the future, of age). */
  dateOfBirth: string;
  /** ISO 3166-1 alpha-2, checked by the edge against the tenant's restricted and served countries. */
  countryOfResidence: string;
  clientType: ClientType;
  referralCode?: string | undefined;
  /** The visitor id the referral clicks were recorded under (first/last touch attribution). */
  visitorId?: string | undefined;
  marketingSource?: MarketingSource | undefined;
  /** One of the tenant's locales; defaults to the request's. */
  locale?: string | undefined;
}

export interface RegisteredClient {
  clientId: string;
  status: 'active';
  onboarding: { stage: 'registered'; next: string };
}

/**
 * Registers a client through the shared provisioning (reserve email -> Cognito user, adopting an
 * orphan of an earlier attempt -> password + group -> one commit; compensates on failure).
 */
export async function registerClient(input: RegisterClientInput, ctx: CommandContext): Promise<RegisteredClient> {
  const cfg = tenantConfig();
  const email = normalizeEmail(input.email);
  const locale = input.locale ?? ctx.locale;
  // read before the user is created; never fails the registration (no attribution instead)
  const referral = await resolveReferral({ referralCode: input.referralCode, visitorId: input.visitorId });
  const { result: profile } = await provisionUser({
    pool: 'client',
    user: { email, givenName: input.firstName, familyName: input.lastName, password: input.password, emailVerified: false },
    groups: ['client'],
    persist: async ({ userId: clientId, claim, now }) => {
      const profile = newClientProfile(
        {
          clientId,
          email,
          firstName: input.firstName,
          lastName: input.lastName,
          dateOfBirth: input.dateOfBirth,
          countryOfResidence: input.countryOfResidence,
          jurisdiction: jurisdictionCode(cfg, input.countryOfResidence) ?? 'UNKNOWN',
          clientType: input.clientType,
          referralCode: input.referralCode,
          marketingSource: input.marketingSource,
          locale,
          emailVerified: false,
          status: 'active',
          onboarding: { stage: 'registered' },
        },
        now,
      );
      const write = (attribution: ReturnType<typeof registrationReferral> | undefined) =>
        commit({
          writes: [putClientProfile(profile), claim, ...(attribution?.writes ?? [])],
          audit: [
            {
              actor: { id: clientId, role: 'client' },
              action: 'client.registered',
              entity: { type: 'client', id: clientId },
              clientId,
              before: null,
              after: clientProfileRecord(profile),
              requestId: ctx.requestId,
            },
            ...(attribution ? [attribution.audit] : []),
          ],
          outbox: [
            {
              detailType: 'client.registered',
              detail: {
                clientId,
                country: input.countryOfResidence,
                clientType: input.clientType,
                referralCode: input.referralCode ?? null,
                locale,
              },
            },
            ...(attribution?.outbox ?? []),
          ],
        });
      const attribution = referral
        ? registrationReferral(clientId, referral, now, { id: clientId, role: 'client' }, ctx.requestId)
        : undefined;
      try {
        await write(attribution);
      } catch (err) {
        // the referral's own writes failed (its link vanished meanwhile): register without attribution
        if (!attribution || !isReferralAttributionFailure(err)) throw err;
        await write(undefined);
      }
      return profile;
    },
  });
  return {
    clientId: profile.clientId,
    status: 'active',
    onboarding: { stage: 'registered', next: initialOnboarding().next },
  };
}
