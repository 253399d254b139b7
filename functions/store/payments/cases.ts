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
 * - closeCase: open -> closed once (409 case_already_closed), with the resolution, the officer's note, who
 *   and when; the case, the lifted freeze (when domain/payments/cases.ts freezeOnClose says so) and their
 *   audit entries and events are ONE commit. The freeze is removed only while it still names the case
 *   read as its setter (a chargeback freezing again in between fails the commit, and the retry keeps the
 *   new freeze); the case that set it last is read consistently, so a case opened a moment ago keeps it
 *   even before the client's case index shows it
 */
import { createHash } from 'node:crypto';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { DomainError, isDomainError } from '#domain/errors.ts';
import { type CaseResolution, type FreezeDecision, freezeOnClose } from '#domain/payments/cases.ts';
import { ddb } from '#shared/clients.ts';
import { type AuditInput, commit } from '../audit.ts';
import { type CommitWrite, newItem, putNew, replaceVersioned, tableName } from '../items.ts';
import { paymentKeys } from '../keys.ts';
import { queryAll } from '../ledger/codec.ts';
import type { OutboxEvent } from '../outbox.ts';
import { type Page, queryPage } from '../pagination.ts';
import type { BaseItem } from '../table.ts';
import { freezeWithdrawals, getPaymentState, unfreezeWithdrawals } from './client-state.ts';

export const CASE_ENTITY = paymentKeys.caseType;
/** The effect a case records when it froze the client's withdrawals. */
export const FROZEN_EFFECT = 'withdrawals_frozen';
export const CASE_STATUSES = ['open', 'closed'] as const;
export type CaseStatus = (typeof CASE_STATUSES)[number];
/**
 * chargeback: a dispute took money back; late_payout: the provider paid a withdrawal we had failed (and
 * un-held); payout_returned: a payout we had completed (and debited) came back to the provider.
 */
export type CaseKind = 'chargeback' | 'late_payout' | 'payout_returned';

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
  closedBy?: string | undefined;
  resolution?: CaseResolution | undefined;
  note?: string | undefined;
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
  ...(c.resolution ? { resolution: c.resolution, note: c.note, closedBy: c.closedBy } : {}),
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
    ...(c.closedAt ? { closedAt: c.closedAt, closedBy: c.closedBy, resolution: c.resolution, note: c.note } : {}),
    evidence: c.evidence,
    effects: c.effects,
    updatedAt: c.updatedAt,
  };
}

// ------------------------------------------------------------------------------------------------ closing

const MAX_CLOSE_ATTEMPTS = 5;
const caseAlreadyClosed = () => new DomainError('case_already_closed', 'conflict', 'This case is closed already');
const freezeChanged = () => new DomainError('freeze_changed', 'conflict', "The client's withdrawal freeze changed; retry");

/** The client's open cases (other than `exceptCaseId`) that froze withdrawals. */
async function otherOpenFreezingCases(clientId: string, exceptCaseId: string): Promise<string[]> {
  const out: string[] = [];
  for await (const page of queryAll({
    IndexName: 'gsi1',
    KeyConditionExpression: 'gsi1pk = :pk',
    ExpressionAttributeValues: { ':pk': paymentKeys.clientCasesIndex(clientId, '', '').gsi1pk },
  })) {
    for (const c of page as unknown as CaseItem[]) {
      if (c.caseId !== exceptCaseId && c.status === 'open' && c.effects.includes(FROZEN_EFFECT)) out.push(c.caseId);
    }
  }
  return out;
}

export interface CloseCaseResult {
  case: CaseItem;
  freeze: FreezeDecision;
}

/** Closes an open case and, when its resolution allows and no other open case froze them, lifts the freeze. */
export async function closeCase(
  caseId: string,
  input: { resolution: CaseResolution; note: string },
  ctx: { actor: AuditInput['actor']; requestId: string },
): Promise<CloseCaseResult> {
  for (let attempt = 0; ; attempt++) {
    const c = await getCase(caseId);
    if (!c) throw caseNotFound();
    if (c.status === 'closed') throw caseAlreadyClosed();
    const state = await getPaymentState(c.clientId);
    const frozen = state.withdrawalsFrozen;
    const others = frozen ? await otherOpenFreezingCases(c.clientId, caseId) : [];
    // The case that froze last, read consistently: it may be too new for the index.
    if (frozen?.caseId && frozen.caseId !== caseId && !others.includes(frozen.caseId)) {
      if ((await getCase(frozen.caseId))?.status === 'open') others.push(frozen.caseId);
    }
    const freeze = freezeOnClose({ caseId, resolution: input.resolution, freeze: frozen, otherOpenFreezingCases: others });
    const at = new Date().toISOString();
    const next: CaseItem = {
      ...c,
      status: 'closed',
      closedAt: at,
      closedBy: ctx.actor.id,
      resolution: input.resolution,
      note: input.note,
      ...paymentKeys.caseStatusIndex('closed', at, caseId),
    };
    const writes: CommitWrite[] = [replaceVersioned(c, next, at, 'case')];
    const audit: AuditInput[] = [
      {
        actor: ctx.actor,
        action: 'compliance.case.closed',
        entity: { type: CASE_ENTITY, id: caseId },
        clientId: c.clientId,
        before: caseSnapshot(c),
        after: caseSnapshot(next),
        reason: input.resolution,
        evidence: { freeze: freeze.lift ? 'lifted' : `kept:${freeze.keptBecause}` },
        requestId: ctx.requestId,
      },
    ];
    if (freeze.lift) {
      writes.push({ ...unfreezeWithdrawals(c.clientId, freeze.freezerCaseId), conditionFailedError: freezeChanged() });
      audit.push({
        actor: ctx.actor,
        action: 'payment.withdrawals.unfrozen',
        entity: { type: paymentKeys.paymentStateType, id: c.clientId },
        clientId: c.clientId,
        before: { withdrawalsFrozen: frozen ?? null },
        after: { withdrawalsFrozen: null },
        reason: input.resolution,
        requestId: ctx.requestId,
      });
    }
    try {
      await commit({
        writes,
        audit,
        outbox: [
          {
            detailType: 'compliance.case.closed',
            detail: { caseId, clientId: c.clientId, kind: c.kind, resolution: input.resolution, freezeLifted: freeze.lift },
          },
        ],
        now: () => new Date(at),
      });
      return { case: { ...next, version: c.version + 1, updatedAt: at }, freeze };
    } catch (err) {
      const retry = isDomainError(err) && (err.code === 'conflict' || err.code === 'freeze_changed');
      if (!retry || attempt + 1 >= MAX_CLOSE_ATTEMPTS) throw err;
    }
  }
}
