/**
 * Copy-trade fan-out: bus rules route trading.position.opened / trading.deal.closed (a provider's deal) and
 * copy.subscription.changed (a stop that closes the copied positions) here; each becomes messages on the FIFO
 * replication queue (functions/app/copy/fan-out.ts; ADR 0017).
 *
 * Invariants:
 * - every detail is parsed against the event catalogue (parseEvent): one that breaks its contract throws, and the
 *   bus retries it and then keeps it in the rule's DLQ
 * - a re-delivered event sends the same messages with the same deduplication ids (see the use case)
 * - other detail types, and changes that are not a stop closing positions, are ignored
 */

import { fanOutDeal, fanOutStop } from '#app/copy/fan-out.ts';
import { parseEvent } from '#domain/events/index.ts';
import { instrumented } from '#shared/handler.ts';
import { logger } from '#shared/powertools.ts';
import { tenantConfig } from '#shared/tenant.ts';

export interface BusEvent {
  id?: string;
  'detail-type'?: string;
  detail?: Record<string, unknown>;
}

export const handler = instrumented(handle);

async function handle(event: BusEvent): Promise<{ sent: number; reason?: string }> {
  const ctx = { requestId: event.id ?? 'copy-fanout', locale: tenantConfig().defaultLocale };
  const eventId = typeof event.detail?.eventId === 'string' ? event.detail.eventId : undefined;
  switch (event['detail-type']) {
    case 'trading.position.opened':
      return fanOutDeal({ kind: 'open', deal: { ...parseEvent('trading.position.opened', event.detail), eventId } }, ctx);
    case 'trading.deal.closed':
      return fanOutDeal({ kind: 'close', deal: { ...parseEvent('trading.deal.closed', event.detail), eventId } }, ctx);
    case 'copy.subscription.changed': {
      const d = parseEvent('copy.subscription.changed', event.detail);
      if (d.status !== 'stopped' || d.closePositions !== true) return { sent: 0 };
      return fanOutStop(
        {
          subscriptionId: d.subscriptionId,
          followerAccountId: d.followerAccountId,
          reason: d.reason ?? 'stopped',
          ...(eventId ? { eventId } : {}),
        },
        ctx,
      );
    }
    default:
      logger.info('copy fan-out: event ignored', { detailType: event['detail-type'] });
      return { sent: 0 };
  }
}
