/**
 * Publishes outbox items on the tenant bus and marks each accepted one published: the outbox relay (stream
 * records, functions/workers/outbox-relay.ts) and the outbox sweeper (pending items,
 * functions/app/platform/sweep-outbox.ts) both publish through this.
 *
 * Invariants:
 * - every published event keeps its outbox eventId in detail.eventId, and its catalogue version
 *   (domain/events) in detail.eventVersion (1 for items written before versions were recorded)
 * - PutEvents is called in chunks of MAX_ENTRIES (10); a failed entry (or a failed call) is reported in
 *   `failed` and its item stays pending, never thrown
 * - an item is marked published (publishedAt set, pending index removed, TTL set) only AFTER PutEvents
 *   accepted its entry; a failed mark is reported in `unmarked` (the event is out; the sweeper republishes it
 *   later: a duplicate, by the at-least-once contract)
 */
import { PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { events } from '#shared/clients.ts';
import { logger } from '#shared/powertools.ts';
import { markPublished, type OutboxItem, parseOutboxItem } from '#store/outbox.ts';

export type { OutboxItem };
/** An outbox item read from anywhere (a stream image, say), checked against its declaration (StoredItemError if not). */
export { parseOutboxItem };

export const MAX_ENTRIES = 10;

export function toEntry(item: OutboxItem, busName: string): PutEventsRequestEntry {
  return {
    EventBusName: busName,
    Source: item.source,
    DetailType: item.detailType,
    Detail: JSON.stringify({ ...item.detail, eventId: item.eventId, eventVersion: item.eventVersion ?? 1 }),
    Time: new Date(item.occurredAt),
  };
}

export interface PublishResult<T> {
  /** Accepted by EventBridge (and marked published, unless listed in `unmarked`). */
  published: T[];
  /** Rejected by EventBridge (entry error or failed call): still pending. */
  failed: T[];
  /** Published but not marked (the sweeper will republish them). */
  unmarked: T[];
}

/**
 * Publishes outbox items in chunks of MAX_ENTRIES and marks each accepted one published; never throws for a
 * failed entry or call, it reports them. `T` carries what the caller needs back (a stream record, say).
 */
export async function publishAndMark<T extends { item: OutboxItem }>(
  pending: readonly T[],
  busName: string,
  now: () => Date = () => new Date(),
): Promise<PublishResult<T>> {
  const out: PublishResult<T> = { published: [], failed: [], unmarked: [] };
  for (let i = 0; i < pending.length; i += MAX_ENTRIES) {
    const chunk = pending.slice(i, i + MAX_ENTRIES);
    const accepted: T[] = [];
    try {
      const res = await events().send(new PutEventsCommand({ Entries: chunk.map((p) => toEntry(p.item, busName)) }));
      chunk.forEach((p, j) => {
        const entry = res.Entries?.[j];
        if (!entry || entry.ErrorCode) {
          logger.warn('event not published', { eventId: p.item.eventId, errorCode: entry?.ErrorCode ?? 'missing_entry' });
          out.failed.push(p);
        } else accepted.push(p);
      });
    } catch (err) {
      logger.error('PutEvents failed', { error: (err as Error).name, events: chunk.length });
      out.failed.push(...chunk);
      continue;
    }
    const marks = await Promise.allSettled(accepted.map((p) => markPublished(p.item.eventId, now())));
    marks.forEach((m, j) => {
      const p = accepted[j]!;
      out.published.push(p);
      if (m.status === 'rejected') {
        logger.warn('event published but not marked; the outbox sweeper will republish it', {
          eventId: p.item.eventId,
          error: (m.reason as Error)?.name,
        });
        out.unmarked.push(p);
      }
    });
  }
  return out;
}
