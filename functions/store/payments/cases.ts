/**
 * Compliance cases (pk CASE#<caseId>, sk CASE; gsi1 CASES#<clientId>, gsi2 CASEQ#<status>): a matter
 * compliance must look at about one client, opened by an event (today: a chargeback) with the
 * evidence that caused it.
 *
 * Invariants:
 * - a case is opened in the SAME transaction as the event that causes it (caseOpenWrite is a CommitWrite
 *   the caller commits with its change and the 'compliance.case.opened' audit entry and outbox event);
 *   its id is derived from its subject (`case_<hash of kind + subject id>`), so one subject opens one case
 * - status is 'open' or 'closed'; gsi2 (the compliance queue) follows the status; open cases are listed
 *   oldest first (the order compliance works in), closed ones newest first
 * - evidence is what was known when the case was opened (money as decimal strings, never floats); it is
 *   never edited
 * - read only besides caseOpenWrite: closing a case (and lifting the withdrawal freeze it caused) is not
 *   built yet
 */
import { createHash } from 'node:crypto';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { DomainError } from '#domain/errors.ts';
import { ddb } from '#shared/clients.ts';
import { type CommitWrite, newItem, putNew, tableName } from '../items.ts';
import { paymentKeys } from '../keys.ts';
import { type Page, queryPage } from '../pagination.ts';
import type { BaseItem } from '../table.ts';

export const CASE_ENTITY = paymentKeys.caseType;
export const CASE_STATUSES = ['open', 'closed'] as const;
export type CaseStatus = (typeof CASE_STATUSES)[number];
export type CaseKind = 'chargeback';

export type CaseItem = BaseItem & {
  type: 'compliance-case';
  caseId: string;
  clientId: string;
  kind: CaseKind;
  status: CaseStatus;
  /** What the case is about. */
  subject: { type: string; id: string };
  openedAt: string;
  /** Why it was opened, as facts (shown to compliance). */
  evidence: Record<string, unknown>;
  /** What the case caused while open (e.g. 'withdrawals_frozen'). */
  effects: string[];
  closedAt?: string | undefined;
  gsi1pk: string;
  gsi1sk: string;
  gsi2pk: string;
  gsi2sk: string;
};

export const caseIdFor = (kind: CaseKind, subjectId: string) =>
  `case_${createHash('sha256').update(`${kind}\u0000${subjectId}`, 'utf8').digest('hex').slice(0, 32)}`;

export const caseNotFound = () => new DomainError('case_not_found', 'not_found', 'No compliance case with this id');

/** A new open case and its put-if-absent write (409 case_exists when the subject already has one). */
export function openCase(
  f: {
    kind: CaseKind;
    clientId: string;
    subject: { type: string; id: string };
    evidence: Record<string, unknown>;
    effects: string[];
  },
  at: string,
): { item: CaseItem; write: CommitWrite } {
  const caseId = caseIdFor(f.kind, f.subject.id);
  const item = newItem(
    {
      ...paymentKeys.case(caseId),
      type: 'compliance-case' as const,
      caseId,
      clientId: f.clientId,
      kind: f.kind,
      status: 'open' as CaseStatus,
      subject: f.subject,
      openedAt: at,
      evidence: f.evidence,
      effects: f.effects,
      ...paymentKeys.clientCasesIndex(f.clientId, at, caseId),
      ...paymentKeys.caseStatusIndex('open', at, caseId),
    },
    at,
  ) as CaseItem;
  return { item, write: putNew(item, new DomainError('case_exists', 'conflict', 'A case for this subject exists')) };
}

export async function getCase(caseId: string): Promise<CaseItem | undefined> {
  const res = await ddb().send(new GetCommand({ TableName: tableName(), Key: paymentKeys.case(caseId), ConsistentRead: true }));
  return res.Item as CaseItem | undefined;
}

/** One page of the compliance queue: open cases oldest first, closed ones newest first (eventually consistent). */
export function listCasesByStatus(q: {
  status: CaseStatus;
  limit: number;
  cursor?: string | undefined;
}): Promise<Page<CaseItem>> {
  return queryPage<CaseItem>({
    index: 'gsi2',
    partition: paymentKeys.caseStatusPartition(q.status),
    limit: q.limit,
    cursor: q.cursor,
    forward: q.status === 'open',
  });
}

/** The audit snapshot of a case. */
export const caseSnapshot = (c: CaseItem) => ({
  caseId: c.caseId,
  clientId: c.clientId,
  kind: c.kind,
  status: c.status,
  subject: c.subject,
  evidence: c.evidence,
  effects: c.effects,
});

/** The case as compliance sees it (no storage attributes). */
export function caseView(c: CaseItem) {
  return {
    caseId: c.caseId,
    clientId: c.clientId,
    kind: c.kind,
    status: c.status,
    subject: c.subject,
    openedAt: c.openedAt,
    ...(c.closedAt ? { closedAt: c.closedAt } : {}),
    evidence: c.evidence,
    effects: c.effects,
    updatedAt: c.updatedAt,
  };
}
