/**
 * POST /v1/registrations: client self-registration.
 *
 * Invariants:
 * - bad input is rejected before anything is written, with a specific code: invalid_email,
 *   weak_password, invalid_date, date_in_future, underage, invalid_country, country_restricted,
 *   country_not_served, unsupported_locale (else the edge's generic codes)
 * - the registration itself is the register-client use case (functions/app/identity/register-client.ts):
 *   one client per normalised email per tenant (409 email_taken), the Cognito user, profile, unique email,
 *   audit item and 'client.registered' event, or nothing that blocks a retry
 * - 201 { clientId, status 'active', onboarding { stage 'registered', next } }
 * - passwords are never stored or logged
 */
import * as z from 'zod';
import { registerClient } from '#app/identity/register-client.ts';
import { countryProblem, dateOfBirthProblem } from '#domain/identity/rules.ts';
import { defineRoute, httpHandler } from '#middleware/http.ts';
import { tenantConfig } from '#shared/tenant.ts';
import { emailField, passwordField } from './shared/identity-fields.ts';

const DOB_MESSAGES = {
  invalid_date: 'must be a real date in the form YYYY-MM-DD',
  date_in_future: 'must not be in the future',
  underage: 'you must be at least 18 years old',
} as const;

const COUNTRY_MESSAGES = {
  country_restricted: 'we cannot accept clients resident in this country',
  country_not_served: 'we do not serve clients resident in this country yet',
} as const;

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
  visitorId: z
    .string()
    .regex(/^[A-Za-z0-9_-]{8,64}$/)
    .optional()
    .meta({
      description:
        'The visitor id the referral clicks were recorded under (POST /v1/referrals/clicks): first- or last-touch attribution',
    }),
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
