/**
 * Compliance cases (pk CASE#<caseId>, sk CASE; gsi1 CASES#<clientId>, gsi2 CASEQ#<status>): a matter
 * compliance must look at about one client, opened by an event (today: a chargeback) with the
 * evidence that caused it.
 *
 * Invariants:
 * - a case is opened in the SAME transaction as the event that causes it (caseOpenWrite is a CommitWrite
 *   the caller commits with its change and the 'compliance.case.opened' audit entry and outbox event);
 *   its id is derived from its subject (`case_<hash of kind + subject id>`), so one subject opens one case
 * - status is 'open' or 'closed'; gsi2 (the compliance queue) follows the status (caseEntity computes it on
 *   every write: opened at for open cases, closed at for closed ones); open cases are listed oldest first (the
 *   order compliance works in), closed ones newest first; reads parse (a malformed item is a StoredItemError)
 * - evidence is what was known when the case was opened (money as decimal strings, never floats); it is
 *   never edited
 * - closing (the use case functions/app/payments/close-case.ts decides and commits it): closedCase and
 *   replaceCase build the version-conditioned replacement (the entity moves the queue index to closed);
 *   openFreezingCaseIds names the client's other open cases that froze withdrawals
 * - item I/O only: no decisions or presenters here (the API presents a case)
 */
import { createHash } from 'node:crypto';
import * as z from 'zod';
import { DomainError } from '#domain/errors.ts';
import { CASE_RESOLUTIONS, type CaseResolution } from '#domain/payments/cases.ts';
import { SECURITY_CASE_KINDS } from '#domain/security/events.ts';
import type { AuditInput } from '../audit.ts';
import { defineEntity, type ItemOf } from '../entity.ts';
import type { CommitWrite } from '../items.ts';
import { paymentKeys } from '../keys.ts';
import type { OutboxEvent } from '../outbox.ts';
import type { Page } from '../pagination.ts';
import { freezeWithdrawals, getPaymentState } from './client-state.ts';

/** The effect a case records when it froze the client's withdrawals. */
export const FROZEN_EFFECT = 'withdrawals_frozen';
export const CASE_STATUSES = ['open', 'closed'] as const;
export type CaseStatus = (typeof CASE_STATUSES)[number];
/**
 * chargeback: a dispute took money back; late_payout: the provider paid a withdrawal we had failed (and
 * un-held); payout_returned: a payout we had completed (and debited) came back to the provider; and the
 * security rules' kinds (domain/security/events.ts: sign_in_attack, cross_client_probing).
 */
export const CASE_KINDS = ['chargeback', 'late_payout', 'payout_returned', ...SECURITY_CASE_KINDS] as const;
export type CaseKind = (typeof CASE_KINDS)[number];

export const CaseSchema = z.object({
  caseId: z.string().min(1),
  clientId: z.string().min(1),
  kind: z.enum(CASE_KINDS),
  status: z.enum(CASE_STATUSES),
  /** What the case is about. */
  subject: z.object({ type: z.string(), id: z.string() }),
  openedAt: z.string().min(1),
  /** Why it was opened, as facts (shown to compliance). */
  evidence: z.record(z.string(), z.unknown()),
  /** What the case caused while open (e.g. 'withdrawals_frozen'). */
  effects: z.array(z.string()).default([]),
  closedAt: z.string().optional(),
  closedBy: z.string().optional(),
  resolution: z.enum(CASE_RESOLUTIONS).optional(),
  note: z.string().optional(),
});

/**
 * pk CASE#<caseId> / CASE
 * gsi1 CASES#<clientId> / <openedAt>#<caseId>                     (a client's cases)
 * gsi2 CASEQ#<status> / <openedAt or closedAt>#<caseId>          (compliance's queue by status)
 */
export const caseEntity = defineEntity({
  type: paymentKeys.caseType,
  schema: CaseSchema,
  key: (c) => paymentKeys.case(c.caseId),
  indexes: (c) => ({
    ...paymentKeys.clientCasesIndex(c.clientId, c.openedAt, c.caseId),
    ...paymentKeys.caseStatusIndex(c.status, c.status === 'closed' ? (c.closedAt ?? c.updatedAt) : c.openedAt, c.caseId),
  }),
  what: 'case',
});

export const CASE_ENTITY = caseEntity.type;

export type CaseItem = ItemOf<typeof caseEntity>;

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
  const item = caseEntity.item(
    {
      caseId,
      clientId: f.clientId,
      kind: f.kind,
      status: 'open',
      subject: f.subject,
      openedAt: at,
      evidence: f.evidence,
      effects: f.effects,
    },
    at,
  );
  return { item, write: caseEntity.putNew(item, new DomainError('case_exists', 'conflict', 'A case for this subject exists')) };
}

/**
 * A new case for the caller to commit with the change that caused it: the case's put-if-absent, its
 * audit entry 'compliance.case.opened' and event; with `freeze`, also the client's withdrawal freeze
 * and its audit entry 'payment.withdrawals.frozen' (the case's effects say so).
 */
export async function openCaseCommit(
  f: { kind: CaseKind; clientId: string; subject: { type: string; id: string }; evidence: Record<string, unknown> },
  ctx: { actor: AuditInput['actor']; requestId: string },
  at: string,
  opts: { freeze: boolean },
): Promise<{ item: CaseItem; writes: CommitWrite[]; audit: AuditInput[]; outbox: OutboxEvent[] }> {
  const opened = openCase({ ...f, effects: opts.freeze ? [FROZEN_EFFECT] : [] }, at);
  const caseAudit: AuditInput = {
    actor: ctx.actor,
    action: 'compliance.case.opened',
    entity: { type: CASE_ENTITY, id: opened.item.caseId },
    newEntity: true,
    clientId: f.clientId,
    before: null,
    after: caseSnapshot(opened.item),
    requestId: ctx.requestId,
  };
  const outbox: OutboxEvent[] = [
    {
      detailType: 'compliance.case.opened',
      detail: { caseId: opened.item.caseId, clientId: f.clientId, kind: f.kind, subject: opened.item.subject },
    },
  ];
  if (!opts.freeze) return { item: opened.item, writes: [opened.write], audit: [caseAudit], outbox };
  const stateBefore = await getPaymentState(f.clientId);
  const frozen = { reason: f.kind, caseId: opened.item.caseId, at };
  return {
    item: opened.item,
    writes: [opened.write, freezeWithdrawals(f.clientId, frozen)],
    audit: [
      caseAudit,
      {
        actor: ctx.actor,
        action: 'payment.withdrawals.frozen',
        entity: { type: paymentKeys.paymentStateType, id: f.clientId },
        clientId: f.clientId,
        before: { withdrawalsFrozen: stateBefore.withdrawalsFrozen ?? null },
        after: { withdrawalsFrozen: frozen },
        reason: f.kind,
        requestId: ctx.requestId,
      },
    ],
    outbox,
  };
}

export const getCase = (caseId: string): Promise<CaseItem | undefined> =>
  caseEntity.get(paymentKeys.case(caseId), { consistent: true });

/** One page of the compliance queue: open cases oldest first, closed ones newest first (eventually consistent). */
export function listCasesByStatus(q: {
  status: CaseStatus;
  limit: number;
  cursor?: string | undefined;
}): Promise<Page<CaseItem>> {
  return caseEntity.query({
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
  ...(c.resolution ? { resolution: c.resolution, note: c.note, closedBy: c.closedBy } : {}),
});

// ------------------------------------------------------------------------------------------------ closing

/**
 * The client's open cases (other than `exceptCaseId`) whose effects froze withdrawals, by the client's case
 * index (gsi1 CASES#<clientId>; eventually consistent: a case opened a moment ago may be missing).
 */
export async function openFreezingCaseIds(clientId: string, exceptCaseId: string): Promise<string[]> {
  const out: string[] = [];
  for await (const page of caseEntity.queryPages({
    IndexName: 'gsi1',
    KeyConditionExpression: 'gsi1pk = :pk',
    ExpressionAttributeValues: { ':pk': paymentKeys.clientCasesIndex(clientId, '', '').gsi1pk },
  })) {
    for (const c of page) {
      if (c.caseId !== exceptCaseId && c.status === 'open' && c.effects.includes(FROZEN_EFFECT)) out.push(c.caseId);
    }
  }
  return out;
}

/** `c` closed at `at` with its resolution, note and officer (the entity moves its queue index to closed); not yet written. */
export function closedCase(c: CaseItem, f: { resolution: CaseResolution; note: string; closedBy: string }, at: string): CaseItem {
  return caseEntity.indexed({
    ...c,
    status: 'closed',
    closedAt: at,
    closedBy: f.closedBy,
    resolution: f.resolution,
    note: f.note,
  });
}

/** Replaces the case read with `next`, conditioned on the version read (a lost race fails with `conflict`). */
export const replaceCase = (read: CaseItem, next: CaseItem, at: string): CommitWrite => caseEntity.replace(read, next, at);
