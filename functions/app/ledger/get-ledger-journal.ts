/**
 * A journal for finance, compliance and admins (GET /v1/admin/ledger/journals/{journalId}).
 *
 * Invariants:
 * - read only; the edge admits finance, compliance and admins
 * - with the journal come its audit entries (who posted it, when, under which request) and, for an
 *   adjustment, the adjustment's own trail (requested by, approved by); each trail at most
 *   MAX_AUDIT_ENTRIES entries, oldest first
 * - an unknown id is 404 journal_not_found
 */
import type { CommandContext } from '#app/context.ts';
import type { ChainedRecord } from '#domain/audit/chain.ts';
import { DomainError } from '#domain/errors.ts';
import type { Caller } from '#domain/identity/roles.ts';
import type { PostedJournal } from '#domain/ledger/index.ts';
import { auditItems } from '#store/audit.ts';
import { getJournal, JOURNAL_ENTITY } from '#store/ledger/journals.ts';
import { ADJUSTMENT_ENTITY } from './adjustments.ts';

const MAX_AUDIT_ENTRIES = 200;

export interface LedgerJournalDetail {
  journal: PostedJournal;
  audit: ChainedRecord[];
  adjustmentAudit?: ChainedRecord[];
}

async function trail(entity: { type: string; id: string }): Promise<ChainedRecord[]> {
  const out: ChainedRecord[] = [];
  for await (const page of auditItems(entity, { pageSize: 100 })) {
    out.push(...page);
    if (out.length >= MAX_AUDIT_ENTRIES) break;
  }
  return out.slice(0, MAX_AUDIT_ENTRIES);
}

export async function getLedgerJournal(
  input: { journalId: string },
  _caller: Caller,
  _ctx: CommandContext,
): Promise<LedgerJournalDetail> {
  const journal = await getJournal(input.journalId);
  if (!journal) throw new DomainError('journal_not_found', 'not_found', 'No journal with this id');
  const adjustmentId = typeof journal.metadata.adjustmentId === 'string' ? journal.metadata.adjustmentId : undefined;
  const [audit, adjustmentAudit] = await Promise.all([
    trail({ type: JOURNAL_ENTITY, id: input.journalId }),
    adjustmentId ? trail({ type: ADJUSTMENT_ENTITY, id: adjustmentId }) : Promise.resolve(undefined),
  ]);
  return { journal, audit, ...(adjustmentAudit ? { adjustmentAudit } : {}) };
}
