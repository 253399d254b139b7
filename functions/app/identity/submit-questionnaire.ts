/**
 * An attempt at the appropriateness questionnaire, the onboarding questionnaire step
 * (POST /v1/onboarding/questionnaire; the local demo seed).
 *
 * Invariants:
 * - the caller's own profile only (404 profile_not_found without one)
 * - accepted only when the client's requirements name the questionnaire (400 unknown_questionnaire for an
 *   id this code base does not ship, 409 questionnaire_not_required otherwise), and only until KYC is
 *   submitted (409 onboarding_locked)
 * - scored by scoreAppropriateness (400 questionnaire_incomplete / unknown_answer with field errors)
 * - every attempt is its own item (numbered from the profile's latest pointer), the profile points at the
 *   latest, one audit item per attempt ('client.questionnaire.submitted', actor = the client), one commit
 *   conditioned on the profile's version (409 conflict)
 * - a 'registered' client moves to 'profile_completed' once details and the questionnaire are in
 */
import type { CommandContext } from '#app/context.ts';
import { DomainError } from '#domain/errors.ts';
import type { Caller, Role } from '#domain/identity/roles.ts';
import { QUESTIONNAIRE_IDS, QUESTIONNAIRES, type QuestionnaireId, scoreAppropriateness } from '#domain/onboarding/index.ts';
import { actorFrom, commit } from '#store/audit.ts';
import { replaceClientProfile } from '#store/clients.ts';
import { newQuestionnaireAttempt, putQuestionnaireAttempt } from '#store/questionnaires.ts';
import { assertOnboardingOpen, type ClientProfileItem, ownClientProfile, requirementsOf, stageAfter } from './shared.ts';

/** The role the actor acts in (the edge lets clients only). */
const ACTOR_ROLES: readonly Role[] = ['client'];

export interface SubmitQuestionnaireInput {
  questionnaireId: string;
  /** Question id -> option id (bounded by the edge). */
  answers: Record<string, string>;
}

export interface QuestionnaireAttemptResult {
  questionnaireId: QuestionnaireId;
  attempt: number;
  score: number;
  maxScore: number;
  result: 'appropriate' | 'warn' | 'not_appropriate';
  blockedProducts: string[];
  warnings: string[];
}

/** Scores the caller's answers, stores the attempt and points the profile at it (one audited commit). */
export async function submitQuestionnaire(
  input: SubmitQuestionnaireInput,
  caller: Caller,
  ctx: CommandContext,
): Promise<QuestionnaireAttemptResult> {
  if (!(QUESTIONNAIRE_IDS as readonly string[]).includes(input.questionnaireId)) {
    throw new DomainError('unknown_questionnaire', 'validation', 'No questionnaire has this id', [
      { field: 'questionnaireId', code: 'unknown_questionnaire', message: `must be one of ${QUESTIONNAIRE_IDS.join(', ')}` },
    ]);
  }
  const questionnaireId = input.questionnaireId as QuestionnaireId;
  const profile = await ownClientProfile(caller);
  if (requirementsOf(profile).questionnaire !== questionnaireId) {
    throw new DomainError('questionnaire_not_required', 'conflict', 'This questionnaire is not part of your onboarding');
  }
  assertOnboardingOpen(profile);
  const scored = scoreAppropriateness(input.answers, QUESTIONNAIRES[questionnaireId]);
  const previous = profile.onboarding?.questionnaire;
  const attempt = previous?.questionnaireId === questionnaireId ? previous.attempt + 1 : 1;
  const now = (ctx.now ?? new Date()).toISOString();
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
  const item = newQuestionnaireAttempt({ clientId: profile.clientId, answers: { ...input.answers }, ...outcome }, now);
  const stage = stageAfter(profile, { details: profile.personalDetails !== undefined, answered: true });
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
      actor: actorFrom(caller, ACTOR_ROLES),
      action: 'client.questionnaire.submitted',
      entity: { type: 'client', id: profile.clientId },
      clientId: profile.clientId,
      before: { questionnaire: previous ?? null, stage: profile.onboarding?.stage ?? 'registered' },
      after: { questionnaire: outcome, answers: item.answers, stage },
      requestId: ctx.requestId,
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
