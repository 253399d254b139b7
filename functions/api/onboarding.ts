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
 */
import * as z from 'zod';
import { DomainError } from '#domain/errors.ts';
import { stageAfterProfileStep } from '#domain/identity/onboarding.ts';
import {
  onboardingForm,
  QUESTIONNAIRE_IDS,
  QUESTIONNAIRES,
  type QuestionnaireId,
  requirementsFor,
  scoreAppropriateness,
} from '#domain/onboarding/index.ts';
import type { Role } from '#functions/manifest.ts';
import { type Caller, defineRoute, httpHandler } from '#middleware/http.ts';
import { tenantConfig } from '#shared/tenant.ts';
import { actorFrom, commit } from '#store/audit.ts';
import {
  type ClientProfileItem,
  getClientProfile,
  onboardingView,
  type PersonalDetails,
  replaceClientProfile,
} from '#store/clients.ts';
import { newQuestionnaireAttempt, putQuestionnaireAttempt } from '#store/questionnaires.ts';

const ALLOWED: readonly Role[] = ['client'];

/** Option ids of the form's select fields (domain/onboarding/form.ts); net worth is asked here only. */
export const EMPLOYMENT_STATUSES = ['employed', 'self_employed', 'retired', 'student', 'unemployed'] as const;
export const ANNUAL_INCOME_BANDS = ['under_25k', '25k_to_100k', 'over_100k'] as const;
export const NET_WORTH_BANDS = ['under_10k', '10k_to_50k', '50k_to_250k', 'over_250k'] as const;
export const SOURCES_OF_FUNDS = ['salary', 'savings', 'investments', 'inheritance', 'business'] as const;

const LOCKED_STAGES = new Set(['kyc_submitted', 'approved', 'rejected']);

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

const notFound = () => new DomainError('profile_not_found', 'not_found', 'No profile exists for this user');

async function ownProfile(caller: Caller): Promise<ClientProfileItem> {
  const profile = await getClientProfile(caller.sub);
  if (!profile) throw notFound();
  return profile;
}

const requirementsOf = (p: ClientProfileItem) =>
  requirementsFor(tenantConfig(), { country: p.countryOfResidence, clientType: p.clientType });

const stateOf = (p: ClientProfileItem) => ({
  ...onboardingView(p),
  questionnaireRequired: requirementsOf(p).questionnaire ?? null,
});

function assertNotLocked(p: ClientProfileItem): void {
  if (LOCKED_STAGES.has(p.onboarding?.stage ?? 'registered')) {
    throw new DomainError('onboarding_locked', 'conflict', 'Onboarding details cannot change once KYC was submitted');
  }
}

function nextStage(p: ClientProfileItem, details: boolean, answered: boolean) {
  return stageAfterProfileStep(p.onboarding?.stage ?? 'registered', {
    details,
    questionnaireRequired: requirementsOf(p).questionnaire !== undefined,
    questionnaireAnswered: answered,
  });
}

/** Stores the caller's personal details on its profile (one audited, version-conditioned commit). */
export async function submitPersonalDetails(body: PersonalDetailsBody, caller: Caller, requestId: string) {
  const profile = await ownProfile(caller);
  assertNotLocked(profile);
  if (body.address.country !== profile.countryOfResidence) {
    throw new DomainError('address_country_mismatch', 'validation', 'The address must be in your country of residence', [
      { field: 'address.country', code: 'address_country_mismatch', message: `must be ${profile.countryOfResidence}` },
    ]);
  }
  const details: PersonalDetails = {
    phone: body.phone,
    nationality: body.nationality,
    address: { ...body.address },
    taxResidence: body.taxResidence,
    ...(body.taxId !== undefined ? { taxId: body.taxId } : {}),
    employmentStatus: body.employmentStatus,
    annualIncome: body.annualIncome,
    netWorth: body.netWorth,
    sourceOfFunds: body.sourceOfFunds,
    politicallyExposed: body.politicallyExposed,
  };
  const now = new Date().toISOString();
  const stage = nextStage(profile, true, profile.onboarding?.questionnaire !== undefined);
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
      actor: actorFrom(caller, ALLOWED),
      action: 'client.personal_details.submitted',
      entity: { type: 'client', id: profile.clientId },
      clientId: profile.clientId,
      before: { personalDetails: profile.personalDetails ?? null, stage: profile.onboarding?.stage ?? 'registered' },
      after: { personalDetails: details, stage },
      requestId,
    },
    now: () => new Date(now),
  });
  return stateOf(next);
}

/** Scores the caller's answers, stores the attempt and points the profile at it (one audited commit). */
export async function submitQuestionnaire(body: QuestionnaireBody, caller: Caller, requestId: string) {
  if (!(QUESTIONNAIRE_IDS as readonly string[]).includes(body.questionnaireId)) {
    throw new DomainError('unknown_questionnaire', 'validation', 'No questionnaire has this id', [
      { field: 'questionnaireId', code: 'unknown_questionnaire', message: `must be one of ${QUESTIONNAIRE_IDS.join(', ')}` },
    ]);
  }
  const questionnaireId = body.questionnaireId as QuestionnaireId;
  const profile = await ownProfile(caller);
  if (requirementsOf(profile).questionnaire !== questionnaireId) {
    throw new DomainError('questionnaire_not_required', 'conflict', 'This questionnaire is not part of your onboarding');
  }
  assertNotLocked(profile);
  const scored = scoreAppropriateness(body.answers, QUESTIONNAIRES[questionnaireId]);
  const previous = profile.onboarding?.questionnaire;
  const attempt = previous?.questionnaireId === questionnaireId ? previous.attempt + 1 : 1;
  const now = new Date().toISOString();
  const outcome = {
    questionnaireId,
    attempt,
    score: scored.score,
    maxScore: scored.maxScore,
    result: scored.result,
    blockedProducts: [...scored.blockedProducts],
    warnings: [...scored.warnings],
    submittedAt: now,
  };
  const item = newQuestionnaireAttempt({ clientId: profile.clientId, answers: { ...body.answers }, ...outcome }, now);
  const stage = nextStage(profile, profile.personalDetails !== undefined, true);
  const next: ClientProfileItem = {
    ...profile,
    onboarding: {
      ...profile.onboarding,
      stage,
      questionnaire: outcome,
      ...(stage === 'profile_completed' && profile.onboarding?.stage !== stage ? { profileCompletedAt: now } : {}),
    },
  };
  await commit({
    writes: [replaceClientProfile(profile, next, now), putQuestionnaireAttempt(item)],
    audit: {
      actor: actorFrom(caller, ALLOWED),
      action: 'client.questionnaire.submitted',
      entity: { type: 'client', id: profile.clientId },
      clientId: profile.clientId,
      before: { questionnaire: previous ?? null, stage: profile.onboarding?.stage ?? 'registered' },
      after: { questionnaire: outcome, answers: item.answers, stage },
      requestId,
    },
    now: () => new Date(now),
  });
  return {
    questionnaireId,
    attempt,
    score: outcome.score,
    maxScore: outcome.maxScore,
    result: scored.result,
    blockedProducts: outcome.blockedProducts,
    warnings: outcome.warnings,
  };
}

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
    handler: async ({ caller, locale }) => {
      const profile = await ownProfile(caller!);
      const form = onboardingForm(tenantConfig(), {
        country: profile.countryOfResidence,
        clientType: profile.clientType,
        locale,
      });
      return { status: 200, body: form };
    },
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
    handler: async ({ body, caller, correlationId }) => ({
      status: 200,
      body: await submitPersonalDetails(body, caller!, correlationId),
    }),
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
    handler: async ({ body, caller, correlationId }) => ({
      status: 201,
      body: await submitQuestionnaire(body, caller!, correlationId),
    }),
  }),
];

export const handler = httpHandler(...routes);
