/**
 * Copy-fee stop settlement: the bus rule 'copy-stops-to-fee-settlement' routes copy.subscription.changed here; a
 * stop (by the follower, or by a protection in the replication executor) gets its final fee charge
 * (functions/app/copy/settle-fees.ts settleStoppedCopy; ADR 0017 "Settlement").
 *
 * Invariants:
 * - the detail is parsed against the event catalogue (parseEvent): one that breaks its contract throws (retried, then
 *   the rule's failure destination)
 * - changes that are not a stop are ignored; a re-delivered stop answers the charge already made ('closed')
 * - the charge is on the copy account's equity when the event is handled, whether the stop's closes have run yet or
 *   not (fees are on equity, which counts open positions); a charge the platform refuses, leaves unanswered or that
 *   waits for a transfer is not an error here: the daily job makes it later
 */
import { settleStoppedCopy } from '#app/copy/settle-fees.ts';
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

async function handle(event: BusEvent): Promise<{ outcome: string }> {
  if (event['detail-type'] !== 'copy.subscription.changed') {
    logger.info('copy fees: event ignored', { detailType: event['detail-type'] });
    return { outcome: 'ignored' };
  }
  const d = parseEvent('copy.subscription.changed', event.detail);
  if (d.status !== 'stopped') return { outcome: 'ignored' };
  const ctx = { requestId: event.id ?? `copy-fees:${d.subscriptionId}`, locale: tenantConfig().defaultLocale };
  const r = await settleStoppedCopy({ subscriptionId: d.subscriptionId }, ctx);
  if (r.outcome === 'failed' || r.outcome === 'pending' || r.outcome === 'busy') {
    logger.warn('copy fees: the final charge is left to the daily job', { subscriptionId: d.subscriptionId, outcome: r.outcome });
  }
  return { outcome: r.outcome };
}
