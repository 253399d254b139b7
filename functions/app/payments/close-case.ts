/**
 * Use case: a compliance officer closes a compliance case (POST /v1/admin/compliance/cases/{caseId}/close),
 * which may lift the client's withdrawal freeze.
 *
 * Invariants:
 * - checked first: the resolution is a catalogue code and the note says why (400 unknown_resolution /
 *   note_required, validateCaseClosure); the case exists (404 case_not_found) and is open (409
 *   case_already_closed: a case closes once)
 * - the case (closed, with the resolution, the trimmed note, the officer and when), the lifted freeze (when
 *   domain/payments/cases.ts freezeOnClose says so), their audit entries ('compliance.case.closed',
 *   'payment.withdrawals.unfrozen') and the event compliance.case.closed are ONE commit, conditioned on the
 *   case's version. The freeze is removed only while it still names the case read as its setter (a
 *   chargeback freezing again in between fails the commit with freeze_changed, and the retry keeps the new
 *   freeze); the case that set it last is read consistently, so a case opened a moment ago keeps it even
 *   before the client's case index shows it
 * - a conflict or a changed freeze re-reads and decides again (stateReread retry policy), then 409 conflict
 * - the officer is the caller (its compliance role), recorded as the actor and as closedBy
 */
import { DomainError, isDomainError } from '#domain/errors.ts';
import type { Caller, Role } from '#domain/identity/roles.ts';
import { type FreezeDecision, freezeOnClose, validateCaseClosure } from '#domain/payments/cases.ts';
import { withRetry } from '#shared/retry.ts';
import { type AuditInput, actorFrom, commit } from '#store/audit.ts';
import type { CommitWrite } from '#store/items.ts';
import { paymentKeys } from '#store/keys.ts';
import {
  CASE_ENTITY,
  type CaseItem,
  caseNotFound,
  caseSnapshot,
  closedCase,
  getCase,
  openFreezingCaseIds,
  replaceCase,
} from '#store/payments/cases.ts';
import { getPaymentState, unfreezeWithdrawals } from '#store/payments/client-state.ts';
import type { CommandContext } from '../context.ts';

/** The roles that close cases. */
export const CASE_CLOSERS: readonly Role[] = ['compliance'];

export interface CloseCaseInput {
  caseId: string;
  /** A CASE_RESOLUTIONS code. */
  resolution: string;
  note?: string | undefined;
}

export interface CloseCaseResult {
  case: CaseItem;
  freeze: FreezeDecision;
}

const caseAlreadyClosed = () => new DomainError('case_already_closed', 'conflict', 'This case is closed already');
const freezeChanged = () => new DomainError('freeze_changed', 'conflict', "The client's withdrawal freeze changed; retry");

/** Closes an open case and, when its resolution allows and no other open case froze them, lifts the freeze. */
export async function closeCase(input: CloseCaseInput, caller: Caller, ctx: CommandContext): Promise<CloseCaseResult> {
  const { caseId } = input;
  const closure = validateCaseClosure(input.resolution, input.note);
  const actor = actorFrom(caller, CASE_CLOSERS);
  const once = async (): Promise<CloseCaseResult> => {
    const c = await getCase(caseId);
    if (!c) throw caseNotFound();
    if (c.status === 'closed') throw caseAlreadyClosed();
    const state = await getPaymentState(c.clientId);
    const frozen = state.withdrawalsFrozen;
    const others = frozen ? await openFreezingCaseIds(c.clientId, caseId) : [];
    // The case that froze last, read consistently: it may be too new for the index.
    if (frozen?.caseId && frozen.caseId !== caseId && !others.includes(frozen.caseId)) {
      if ((await getCase(frozen.caseId))?.status === 'open') others.push(frozen.caseId);
    }
    const freeze = freezeOnClose({ caseId, resolution: closure.resolution, freeze: frozen, otherOpenFreezingCases: others });
    const at = new Date().toISOString();
    const next = closedCase(c, { ...closure, closedBy: actor.id }, at);
    const writes: CommitWrite[] = [replaceCase(c, next, at)];
    const audit: AuditInput[] = [
      {
        actor,
        action: 'compliance.case.closed',
        entity: { type: CASE_ENTITY, id: caseId },
        clientId: c.clientId,
        before: caseSnapshot(c),
        after: caseSnapshot(next),
        reason: closure.resolution,
        evidence: { freeze: freeze.lift ? 'lifted' : `kept:${freeze.keptBecause}` },
        requestId: ctx.requestId,
      },
    ];
    if (freeze.lift) {
      writes.push({ ...unfreezeWithdrawals(c.clientId, freeze.freezerCaseId), conditionFailedError: freezeChanged() });
      audit.push({
        actor,
        action: 'payment.withdrawals.unfrozen',
        entity: { type: paymentKeys.paymentStateType, id: c.clientId },
        clientId: c.clientId,
        before: { withdrawalsFrozen: frozen ?? null },
        after: { withdrawalsFrozen: null },
        reason: closure.resolution,
        requestId: ctx.requestId,
      });
    }
    await commit({
      writes,
      audit,
      outbox: [
        {
          detailType: 'compliance.case.closed',
          detail: { caseId, clientId: c.clientId, kind: c.kind, resolution: closure.resolution, freezeLifted: freeze.lift },
        },
      ],
      now: () => new Date(at),
    });
    return { case: { ...next, version: c.version + 1, updatedAt: at }, freeze };
  };
  // A conflict or a freeze that changed meanwhile: re-read the case and the freeze, decide again.
  return withRetry(
    'stateReread',
    once,
    (err) => isDomainError(err) && (err.code === 'conflict' || err.code === 'freeze_changed'),
  );
}

export type { CaseItem };
