/**
 * Questionnaire attempts (pk QATTEMPTS#<clientId>, sk ATTEMPT#<questionnaireId>#<attempt>): every
 * submission of a questionnaire by a client, answers and result, kept forever as its own item.
 *
 * Invariants:
 * - attempts of one client and questionnaire are numbered 1, 2, 3, ... (the next number is the profile's
 *   latest pointer + 1); an attempt item is only ever created (putNew), never changed, so the history
 *   cannot be rewritten
 * - the profile's onboarding.questionnaire (store/clients.ts) points at the latest attempt; both are
 *   written in the same commit, conditioned on the profile's version
 * - answers are PII-free option ids; nothing here logs
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { DomainError } from '#domain/errors.ts';
import { ddb } from '#shared/clients.ts';
import { type CommitWrite, newItem, putNew, tableName } from './items.ts';
import { questionnaireAttemptKeys } from './keys.ts';
import type { BaseItem } from './table.ts';

export interface QuestionnaireAttemptFields {
  clientId: string;
  questionnaireId: string;
  attempt: number;
  answers: Record<string, string>;
  score: number;
  maxScore: number;
  result: string;
  blockedProducts: string[];
  warnings: string[];
  submittedAt: string;
}

export type QuestionnaireAttemptItem = BaseItem & QuestionnaireAttemptFields & { type: 'questionnaire-attempt' };

export function newQuestionnaireAttempt(fields: QuestionnaireAttemptFields, now: string): QuestionnaireAttemptItem {
  return newItem(
    {
      ...questionnaireAttemptKeys.key(fields.clientId, fields.questionnaireId, fields.attempt),
      type: questionnaireAttemptKeys.type,
      ...fields,
    },
    now,
  ) as QuestionnaireAttemptItem;
}

export const putQuestionnaireAttempt = (item: QuestionnaireAttemptItem): CommitWrite =>
  putNew(item, new DomainError('conflict', 'conflict', 'Another attempt was submitted at the same time; reload and retry'));

/** A client's attempts at one questionnaire, oldest first (bounded: attempts are few). */
export async function listQuestionnaireAttempts(
  clientId: string,
  questionnaireId: string,
  limit = 100,
): Promise<QuestionnaireAttemptItem[]> {
  const res = await ddb().send(
    new QueryCommand({
      TableName: tableName(),
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: {
        ':pk': questionnaireAttemptKeys.partition(clientId),
        ':prefix': questionnaireAttemptKeys.attemptPrefix(questionnaireId),
      },
      ConsistentRead: true,
      Limit: limit,
    }),
  );
  return (res.Items ?? []) as QuestionnaireAttemptItem[];
}
