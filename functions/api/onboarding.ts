/**
 * The client's own onboarding: GET /v1/onboarding/form, POST /v1/onboarding/profile and
 * POST /v1/onboarding/questionnaire (clients only).
 *
 * Invariants:
 * - a client only ever reads and writes its own onboarding (looked up by its token's sub); no profile
 *   is 404 profile_not_found
 * - the form is onboardingForm() for the client's country of residence and client type, in the
 *   request's locale
 * - the personal details are strict and bounded; the address country must be the country of residence
 *   (400 address_country_mismatch); they are stored on the profile with one audit item
 *   ('client.personal_details.submitted', before/after), conditioned on the version read (409 conflict)
 * - details can be changed until KYC is submitted; afterwards 409 onboarding_locked
 * - a questionnaire is accepted only when the client's requirements name it (400 unknown_questionnaire
 *   for an id this code base does not ship, 409 questionnaire_not_required otherwise); it is scored by
 *   scoreAppropriateness (400 questionnaire_incomplete / unknown_answer with field errors); every attempt
 *   is its own item, the profile points at the latest, one audit item per attempt, one commit
 * - a 'registered' client moves to 'profile_completed' once details and any required questionnaire are in
 * - PII goes to the table and the audit trail, never to logs (nothing here logs)
 * - each route calls one use case (functions/app/identity/: get-onboarding-form, submit-personal-details,
 *   submit-questionnaire); the onboarding block is presented by functions/api/shared/identity-views.ts
 */
import * as z from 'zod';
import { getOnboardingForm } from '#app/identity/get-onboarding-form.ts';
import { submitPersonalDetails } from '#app/identity/submit-personal-details.ts';
import { submitQuestionnaire } from '#app/identity/submit-questionnaire.ts';
import type { Role } from '#domain/identity/roles.ts';
import { defineRoute, httpHandler } from '#middleware/http.ts';
import { onboardingView } from './shared/identity-views.ts';

const ALLOWED: readonly Role[] = ['client'];

/** Option ids of the form's select fields (domain/onboarding/form.ts); net worth is asked here only. */
export const EMPLOYMENT_STATUSES = ['employed', 'self_employed', 'retired', 'student', 'unemployed'] as const;
export const ANNUAL_INCOME_BANDS = ['under_25k', '25k_to_100k', 'over_100k'] as const;
export const NET_WORTH_BANDS = ['under_10k', '10k_to_50k', '50k_to_250k', 'over_250k'] as const;
export const SOURCES_OF_FUNDS = ['salary', 'savings', 'investments', 'inheritance', 'business'] as const;

const text = (max: number) => z.string().trim().min(1).max(max);
const iso2 = z
  .string()
  .max(2)
  .refine((s) => /^[A-Z]{2}$/.test(s), {
    message: 'must be an ISO 3166-1 alpha-2 code such as DE',
    params: { code: 'invalid_country' },
  });

export const PersonalDetailsBody = z.strictObject({
  phone: z
    .string()
    .max(16)
    .refine((s) => /^\+[1-9]\d{7,14}$/.test(s), {
      message: 'must be an E.164 number such as +4930123456',
      params: { code: 'invalid_phone' },
    }),
  nationality: iso2,
  address: z.strictObject({
    line1: text(200),
    line2: text(200).optional(),
    city: text(100),
    postalCode: z
      .string()
      .trim()
      .min(2)
      .max(12)
      .regex(/^[A-Za-z0-9][A-Za-z0-9 -]*$/),
    country: iso2,
  }),
  taxResidence: iso2,
  taxId: z
    .string()
    .trim()
    .min(3)
    .max(32)
    .regex(/^[A-Za-z0-9 ./-]+$/)
    .optional(),
  employmentStatus: z.enum(EMPLOYMENT_STATUSES),
  annualIncome: z.enum(ANNUAL_INCOME_BANDS),
  netWorth: z.enum(NET_WORTH_BANDS),
  sourceOfFunds: z.enum(SOURCES_OF_FUNDS),
  politicallyExposed: z.boolean(),
});
export type PersonalDetailsBody = z.infer<typeof PersonalDetailsBody>;

const questionId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9_]+$/);
const MAX_ANSWERS = 50;

export const QuestionnaireBody = z.strictObject({
  questionnaireId: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[a-z0-9-]+$/),
  answers: z.record(questionId, z.string().min(1).max(64)).refine((a) => Object.keys(a).length <= MAX_ANSWERS, {
    message: `must have at most ${MAX_ANSWERS} answers`,
    params: { code: 'too_many_answers' },
  }),
});
export type QuestionnaireBody = z.infer<typeof QuestionnaireBody>;

export const OnboardingState = z.object({
  stage: z.string(),
  kycStatus: z.string(),
  next: z.string(),
  profileSubmitted: z.boolean(),
  questionnaire: z
    .object({
      id: z.string(),
      attempt: z.number().int(),
      result: z.string(),
      score: z.number(),
      maxScore: z.number(),
      submittedAt: z.string(),
    })
    .nullable(),
  questionnaireRequired: z.string().nullable(),
});

export const QuestionnaireResult = z.object({
  questionnaireId: z.string(),
  attempt: z.number().int(),
  score: z.number().int(),
  maxScore: z.number().int(),
  result: z.enum(['appropriate', 'warn', 'not_appropriate']),
  blockedProducts: z.array(z.string()),
  warnings: z.array(z.string()),
});

const OnboardingFormSchema = z.record(z.string(), z.unknown()).meta({
  description: 'Profile fields, documents and the questionnaire (without scores), labelled in the request locale',
});

export const routes = [
  defineRoute({
    method: 'GET',
    path: '/v1/onboarding/form',
    operationId: 'getOnboardingForm',
    summary: "What the caller must provide to onboard, labelled in the caller's language",
    tags: ['onboarding'],
    auth: ALLOWED,
    responses: {
      200: { description: 'The onboarding form', schema: OnboardingFormSchema },
      404: { description: 'profile_not_found' },
    },
    handler: async ({ caller, correlationId, locale }) => ({
      status: 200,
      body: await getOnboardingForm(caller!, { requestId: correlationId, locale }),
    }),
  }),
  defineRoute({
    method: 'POST',
    path: '/v1/onboarding/profile',
    operationId: 'submitOnboardingProfile',
    summary: "Submit the caller's personal details (address, phone, tax, financial situation, PEP)",
    tags: ['onboarding'],
    auth: ALLOWED,
    body: PersonalDetailsBody,
    idempotency: 'optional',
    responses: {
      200: { description: 'The updated onboarding state', schema: OnboardingState },
      400: { description: 'validation_failed, address_country_mismatch' },
      404: { description: 'profile_not_found' },
      409: { description: 'conflict, onboarding_locked' },
    },
    handler: async ({ body, caller, correlationId, locale }) => {
      const { profile, questionnaireRequired } = await submitPersonalDetails(body, caller!, {
        requestId: correlationId,
        locale,
      });
      return { status: 200, body: { ...onboardingView(profile), questionnaireRequired } };
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/v1/onboarding/questionnaire',
    operationId: 'submitOnboardingQuestionnaire',
    summary: 'Answer the appropriateness questionnaire; every attempt is kept',
    tags: ['onboarding'],
    auth: ALLOWED,
    body: QuestionnaireBody,
    idempotency: 'optional',
    responses: {
      201: { description: 'The scored attempt', schema: QuestionnaireResult },
      400: { description: 'validation_failed, unknown_questionnaire, questionnaire_incomplete, unknown_answer' },
      404: { description: 'profile_not_found' },
      409: { description: 'questionnaire_not_required, conflict, onboarding_locked' },
    },
    handler: async ({ body, caller, correlationId, locale }) => ({
      status: 201,
      body: await submitQuestionnaire(body, caller!, { requestId: correlationId, locale }),
    }),
  }),
];

export const handler = httpHandler(...routes);
