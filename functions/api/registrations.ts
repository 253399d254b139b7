/**
 * POST /v1/registrations: client self-registration.
 *
 * Invariants:
 * - bad input is rejected before anything is written, with a specific code: invalid_email,
 *   weak_password, invalid_date, date_in_future, underage, invalid_country, country_restricted,
 *   country_not_served, unsupported_locale (else the edge's generic codes)
 * - one client per normalised email per tenant (functions/api/shared/provision-user.ts): an active
 *   UNIQUE#EMAIL owner or a live reservation is 409 email_taken, and nothing new is written
 * - order: reserve email -> Cognito user (sub; an orphan of a crashed attempt is adopted) -> permanent
 *   password -> group 'client' -> ONE commit of profile + unique email (active) + audit
 *   'client.registered' + outbox 'client.registered'; if anything after the user's creation fails, the
 *   Cognito user is deleted and the reservation released (or left to expire), and the error rethrown
 * - the address is unverified: Cognito email_verified 'false', profile emailVerified false (proving
 *   it belongs to the onboarding flow)
 * - the clientId is the Cognito sub; passwords are never stored or logged
 */
import * as z from 'zod';
import { initialOnboarding } from '#domain/identity/onboarding.ts';
import {
  countryProblem,
  dateOfBirthProblem,
  isValidEmail,
  jurisdictionCode,
  normalizeEmail,
  PASSWORD_MESSAGES,
  passwordViolations,
} from '#domain/identity/rules.ts';
import { defineRoute, httpHandler } from '#middleware/http.ts';
import { tenantConfig } from '#shared/tenant.ts';
import { commit } from '#store/audit.ts';
import { clientProfileView, newClientProfile, putClientProfile } from '#store/clients.ts';
import { provisionUser } from './shared/provision-user.ts';

const DOB_MESSAGES = {
  invalid_date: 'must be a real date in the form YYYY-MM-DD',
  date_in_future: 'must not be in the future',
  underage: 'you must be at least 18 years old',
} as const;

const COUNTRY_MESSAGES = {
  country_restricted: 'we cannot accept clients resident in this country',
  country_not_served: 'we do not serve clients resident in this country yet',
} as const;

export const emailField = z
  .string()
  .trim()
  .max(254)
  .refine(isValidEmail, { message: 'must be a valid email address', params: { code: 'invalid_email' } });

export const passwordField = z
  .string()
  .max(1024)
  .superRefine((pw, ctx) => {
    for (const v of passwordViolations(pw)) {
      ctx.addIssue({ code: 'custom', message: PASSWORD_MESSAGES[v], params: { code: 'weak_password', violation: v } });
    }
  });

const name = z.string().trim().min(1).max(100);
const utm = z.string().trim().min(1).max(200);

export const RegistrationBody = z.strictObject({
  email: emailField,
  password: passwordField,
  firstName: name,
  lastName: name,
  dateOfBirth: z
    .string()
    .max(10)
    .superRefine((s, ctx) => {
      const p = dateOfBirthProblem(s, new Date());
      if (p) ctx.addIssue({ code: 'custom', message: DOB_MESSAGES[p], params: { code: p } });
    }),
  countryOfResidence: z
    .string()
    .refine((s) => /^[A-Z]{2}$/.test(s), {
      message: 'must be an ISO 3166-1 alpha-2 code such as DE',
      abort: true,
      params: { code: 'invalid_country' },
    })
    .superRefine((c, ctx) => {
      const p = countryProblem(tenantConfig(), c);
      if (p) ctx.addIssue({ code: 'custom', message: COUNTRY_MESSAGES[p], params: { code: p } });
    }),
  clientType: z.enum(['retail', 'professional']),
  referralCode: z
    .string()
    .regex(/^[A-Za-z0-9_-]{3,32}$/)
    .optional(),
  marketingSource: z
    .strictObject({ utmSource: utm.optional(), utmMedium: utm.optional(), utmCampaign: utm.optional() })
    .optional(),
  locale: z
    .string()
    .max(10)
    .refine((l) => tenantConfig().locales.includes(l), {
      message: 'is not a supported language',
      params: { code: 'unsupported_locale' },
    })
    .optional(),
});
export type RegistrationBody = z.infer<typeof RegistrationBody>;

export const RegistrationResult = z.object({
  clientId: z.string(),
  status: z.literal('active'),
  onboarding: z.object({ stage: z.literal('registered'), next: z.string() }),
});

/**
 * Registers a client through the shared provisioning (reserve email -> Cognito user, adopting an
 * orphan of an earlier attempt -> password + group -> one commit; compensates on failure).
 */
export async function registerClient(body: RegistrationBody, ctx: { requestId: string; locale: string }) {
  const cfg = tenantConfig();
  const email = normalizeEmail(body.email);
  const locale = body.locale ?? ctx.locale;
  const { result: profile } = await provisionUser({
    pool: 'client',
    user: { email, givenName: body.firstName, familyName: body.lastName, password: body.password, emailVerified: false },
    groups: ['client'],
    persist: async ({ userId: clientId, claim, now }) => {
      const profile = newClientProfile(
        {
          clientId,
          email,
          firstName: body.firstName,
          lastName: body.lastName,
          dateOfBirth: body.dateOfBirth,
          countryOfResidence: body.countryOfResidence,
          jurisdiction: jurisdictionCode(cfg, body.countryOfResidence) ?? 'UNKNOWN',
          clientType: body.clientType,
          referralCode: body.referralCode,
          marketingSource: body.marketingSource,
          locale,
          emailVerified: false,
          status: 'active',
          onboarding: { stage: 'registered' },
        },
        now,
      );
      await commit({
        writes: [putClientProfile(profile), claim],
        audit: {
          actor: { id: clientId, role: 'client' },
          action: 'client.registered',
          entity: { type: 'client', id: clientId },
          clientId,
          before: null,
          after: clientProfileView(profile),
          requestId: ctx.requestId,
        },
        outbox: [
          {
            detailType: 'client.registered',
            detail: {
              clientId,
              country: body.countryOfResidence,
              clientType: body.clientType,
              referralCode: body.referralCode ?? null,
              locale,
            },
          },
        ],
      });
      return profile;
    },
  });
  return {
    clientId: profile.clientId,
    status: profile.status,
    onboarding: { stage: 'registered' as const, next: initialOnboarding().next },
  };
}

export const routes = [
  defineRoute({
    method: 'POST',
    path: '/v1/registrations',
    operationId: 'createRegistration',
    summary: 'Register as a new client',
    tags: ['identity'],
    auth: 'public',
    body: RegistrationBody,
    idempotency: 'optional',
    responses: {
      201: { description: 'Registered', schema: RegistrationResult },
      400: { description: 'Invalid input' },
      409: { description: 'email_taken' },
    },
    handler: async ({ body, correlationId, locale }) => ({
      status: 201,
      body: await registerClient(body, { requestId: correlationId, locale }),
    }),
  }),
];

export const handler = httpHandler(...routes);
