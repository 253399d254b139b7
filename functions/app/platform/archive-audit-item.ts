/**
 * Archives one audit item to the Object Lock audit bucket (the audit archiver, from the table stream;
 * key layout and integrity headers: functions/store/audit-archive.ts).
 *
 * Invariants:
 * - only audit items are archived (anything else is ignored: false); an audit item is parsed first, so a
 *   malformed one fails the record (StoredItemError) instead of archiving whatever it holds
 * - archiving is idempotent: the key is a pure function of the item, a redelivered record writes the same
 *   key with the same line (a new identical version under Object Lock, never a replacement)
 */
import type { CommandContext } from '#app/context.ts';
import type { AuditItem } from '#store/audit.ts';
import { archiveAuditItem as putArchiveObject } from '#store/audit-archive.ts';
import { parseAuditItem } from '#store/audit-trail.ts';

export type { AuditItem };

/** Archives the item if it is an audit item; true when it was written. */
export async function archiveAuditItem(item: { type?: unknown }, _ctx: CommandContext): Promise<boolean> {
  if (item.type !== 'audit') return false;
  await putArchiveObject(parseAuditItem(item));
  return true;
}
