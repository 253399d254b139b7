/**
 * A second finance user approves (posts) or rejects a pending adjustment
 * (POST /v1/admin/adjustments/{adjustmentId}/decision).
 *
 * Invariants:
 * - four eyes: a request is decided by a finance user other than its requester (403
 *   four_eyes_required), once (409 already_decided), before it expires (409 adjustment_expired);
 *   an unknown id is 404 adjustment_not_found
 * - an approval is one transaction: the journal (journal id = adjustment id, ledger key
 *   adjustment/<adjustmentId>), the request moved to 'posted' with journalId, decidedBy, decidedAt and
 *   note (conditioned on its version and on 'pending_approval'), and the 'ledger.adjustment.approved'
 *   + 'ledger.adjustment.posted' audit entries. Of two concurrent approvals one posts; the other
 *   re-reads and gets 409 already_decided. A funds failure (insufficient_funds, account_frozen)
 *   writes nothing: the request stays 'pending_approval' and the error is returned
 * - a rejection is one commit conditioned on 'pending_approval', so a posted request can never be rejected
 * - 'approved' is a legacy status (older versions approved, then posted): such a request reads as
 *   posted once its journal (ledger key adjustment/<id>) exists, otherwise it is decided like a pending one
 */
import type { CommandContext } from '#app/context.ts';
import { isDomainError } from '#domain/errors.ts';
import type { Caller } from '#domain/identity/roles.ts';
import { assertDecidable } from '#domain/ledger/adjustments.ts';
import { parseMoney } from '#domain/money/index.ts';
import { tenantConfig } from '#shared/tenant.ts';
import { type AdjustmentItem, getAdjustment, updateAdjustment } from '#store/adjustments.ts';
import { actorFrom, commit } from '#store/audit.ts';
import { executeJournal, readIdempotency } from '#store/ledger/journals.ts';
import {
  ADJUSTMENT_ENTITY,
  ADJUSTMENT_ROLES,
  type AdjustmentRecord,
  adjustmentDraft,
  adjustmentNotFound,
  adjustmentRecord,
  alreadyDecided,
  asPending,
} from './adjustments.ts';
import { accessibleWallet } from './shared.ts';

export interface DecideAdjustmentInput {
  adjustmentId: string;
  decision: 'approve' | 'reject';
  note: string;
}

export async function decideAdjustment(
  input: DecideAdjustmentInput,
  caller: Caller,
  ctx: CommandContext,
): Promise<AdjustmentRecord> {
  const { adjustmentId, note } = input;
  const requestId = ctx.requestId;
  const item = await getAdjustment(adjustmentId);
  if (!item) throw adjustmentNotFound();
  const actor = actorFrom(caller, ADJUSTMENT_ROLES);
  const entity = { type: ADJUSTMENT_ENTITY, id: adjustmentId };
  const idempotency = { scope: 'adjustment', key: adjustmentId, requestHash: adjustmentId };

  // Legacy 'approved' (an older version died between approving and posting): posted if its journal
  // exists, otherwise decidable again like a pending request.
  if (item.status === 'approved') {
    const prior = await readIdempotency(idempotency.scope, idempotency.key);
    if (prior) {
      if (input.decision === 'reject') throw alreadyDecided('posted');
      const now = new Date().toISOString();
      await commit({
        writes: [updateAdjustment(item, { status: 'posted', journalId: prior.resultId }, now)],
        audit: {
          actor,
          action: 'ledger.adjustment.posted',
          entity,
          clientId: item.clientId,
          before: { status: 'approved' },
          after: { status: 'posted', journalId: prior.resultId },
          requestId,
        },
      });
      return adjustmentRecord({ ...item, status: 'posted', journalId: prior.resultId });
    }
  }
  assertDecidable(asPending(item), caller.sub, new Date());

  if (input.decision === 'reject') {
    const now = new Date().toISOString();
    const next = {
      status: 'rejected' as const,
      decision: 'reject' as const,
      decidedBy: caller.sub,
      decidedAt: now,
      note,
    };
    await commit({
      writes: [updateAdjustment(item, next, now)],
      audit: {
        actor,
        action: 'ledger.adjustment.rejected',
        entity,
        clientId: item.clientId,
        before: { status: item.status },
        after: { status: 'rejected', note },
        reason: note,
        requestId,
      },
    });
    return adjustmentRecord({ ...item, ...next, version: item.version + 1, updatedAt: now });
  }

  // Approve: the journal, the request -> 'posted' (conditioned on its version and pending status) and
  // both audit entries commit in ONE transaction; a funds failure writes nothing.
  const cfg = tenantConfig();
  const amount = parseMoney(item.amount, cfg.currencies);
  const wallet = await accessibleWallet(caller, item.walletId, ADJUSTMENT_ROLES);
  const draft = await adjustmentDraft({
    journalId: adjustmentId,
    adjustmentId,
    wallet,
    direction: item.direction,
    amount,
    reason: item.reason,
    reference: item.reference,
    requestedBy: item.requestedBy,
    approvedBy: caller.sub,
  });
  let posted: AdjustmentItem | undefined;
  try {
    await executeJournal(
      { draft, idempotency, actor, requestId, clientId: item.clientId },
      {
        async prepare({ at }) {
          const fresh = await getAdjustment(adjustmentId);
          if (!fresh) throw adjustmentNotFound();
          assertDecidable(asPending(fresh), caller.sub, new Date(at));
          const next = {
            status: 'posted' as const,
            decision: 'approve' as const,
            decidedBy: caller.sub,
            decidedAt: at,
            note,
            journalId: adjustmentId,
          };
          posted = { ...fresh, ...next, version: fresh.version + 1, updatedAt: at };
          const common = { actor, entity, clientId: fresh.clientId, reason: note, requestId };
          return {
            adjusted: new Set<string>(),
            writes: [updateAdjustment(fresh, next, at)],
            audit: [
              {
                ...common,
                action: 'ledger.adjustment.approved',
                before: { status: fresh.status },
                after: { status: 'approved', note },
              },
              {
                ...common,
                action: 'ledger.adjustment.posted',
                before: { status: 'approved' },
                after: { status: 'posted', journalId: adjustmentId },
              },
            ],
            outbox: [],
          };
        },
      },
    );
  } catch (err) {
    // Another decision won (its journal took the ledger key first): this one is already decided.
    if (isDomainError(err) && err.code === 'idempotency_key_reused') throw alreadyDecided('posted');
    throw err;
  }
  return adjustmentRecord(posted!);
}
