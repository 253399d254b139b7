/**
 * Questionnaire attempts (pk QATTEMPTS#<clientId>, sk ATTEMPT#<questionnaireId>#<attempt>): every
 * submission of a questionnaire by a client, answers and result, kept forever as its own item.
 *
 * Invariants:
 * - declared once as an entity (questionnaireAttemptEntity): every attempt read is parsed
 * - attempts of one client and questionnaire are numbered 1, 2, 3, ... (the next number is the profile's
 *   latest pointer + 1); an attempt item is only ever created (putNew), never changed, so the history
 *   cannot be rewritten
 * - the profile's onboarding.questionnaire (store/clients.ts) points at the latest attempt; both are
 *   written in the same commit, conditioned on the profile's version
 * - answers are PII-free option ids; nothing here logs
 */
import * as z from 'zod';
import { DomainError } from '#domain/errors.ts';
import { defineEntity, type ItemOf } from './entity.ts';
import type { CommitWrite } from './items.ts';
import { questionnaireAttemptKeys } from './keys.ts';

const attemptSchema = z.object({
  clientId: z.string().min(1),
  questionnaireId: z.string().min(1),
  attempt: z.number().int().min(1),
  answers: z.record(z.string(), z.string()),
  score: z.number(),
  maxScore: z.number(),
  result: z.string(),
  blockedProducts: z.array(z.string()),
  warnings: z.array(z.string()),
  submittedAt: z.string(),
});
export type QuestionnaireAttemptFields = z.output<typeof attemptSchema>;

export const questionnaireAttemptEntity = defineEntity({
  type: questionnaireAttemptKeys.type,
  schema: attemptSchema,
  key: (a) => questionnaireAttemptKeys.key(a.clientId, a.questionnaireId, a.attempt),
});

export type QuestionnaireAttemptItem = ItemOf<typeof questionnaireAttemptEntity>;

export const newQuestionnaireAttempt = (fields: QuestionnaireAttemptFields, now: string): QuestionnaireAttemptItem =>
  questionnaireAttemptEntity.item(fields, now);

export const putQuestionnaireAttempt = (item: QuestionnaireAttemptItem): CommitWrite =>
  questionnaireAttemptEntity.putNew(
    item,
    new DomainError('conflict', 'conflict', 'Another attempt was submitted at the same time; reload and retry'),
  );

/** A client's attempts at one questionnaire, oldest first (bounded: attempts are few; one Query of `limit`). */
export async function listQuestionnaireAttempts(
  clientId: string,
  questionnaireId: string,
  limit = 100,
): Promise<QuestionnaireAttemptItem[]> {
  const pages = questionnaireAttemptEntity.queryPages({
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
    ExpressionAttributeValues: {
      ':pk': questionnaireAttemptKeys.partition(clientId),
      ':prefix': questionnaireAttemptKeys.attemptPrefix(questionnaireId),
    },
    ConsistentRead: true,
    Limit: limit,
  });
  const first = await pages.next();
  await pages.return(undefined);
  return first.done ? [] : first.value;
}
