/**
 * The introducing-broker consumer (issue 16, ADR 0018): the bus rule 'partner-events-to-queue' sends the events
 * commissions depend on to the 'partner-events' queue; each record is handled by one use case.
 * - trading.deal.closed       -> the deal's commission lines (functions/app/partners/accrue.ts)
 * - kyc.approved              -> the referral's `verified` milestone (functions/app/partners/funnel.ts)
 * - payment.deposit.completed -> the referral's `funded` milestone, and a CPA it completes
 * - payment.chargeback.received -> the clawback of the client's commissions in the window (clawback.ts)
 * - partner.client.attributed (a staff move dated in the past) -> the moved deals re-priced (reaccrue.ts)
 * - partner.plan.changed (a plan version or an assignment dated in the past) -> the network's deals re-priced
 *
 * Invariants:
 * - every detail is parsed against the event catalogue; a record that breaks its contract fails (retried, then the DLQ)
 * - every use case is idempotent (see each module): a redelivered or duplicated record changes nothing
 * - one failing record fails only itself (partial batch response)
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { accrueDealCommissions } from '#app/partners/accrue.ts';
import { clawBack } from '#app/partners/clawback.ts';
import { recordDeposit, recordVerified } from '#app/partners/funnel.ts';
import { reaccrueAfterMove, reaccrueAfterPlanChange } from '#app/partners/reaccrue.ts';
import { parseEvent } from '#domain/events/index.ts';
import { dedupeIdOf, type EventEnvelope, parseEnvelope } from '#shared/envelope.ts';
import { instrumented } from '#shared/handler.ts';
import { logger } from '#shared/powertools.ts';
import { tenantConfig } from '#shared/tenant.ts';

const processor = new BatchProcessor(EventType.SQS);

const ctxOf = (e: EventEnvelope) => ({ requestId: dedupeIdOf(e), locale: tenantConfig().defaultLocale });
const timeOf = (e: EventEnvelope) => (e.time ? new Date(e.time).toISOString() : new Date().toISOString());

const HANDLERS: Record<string, (e: EventEnvelope) => Promise<unknown>> = {
  'trading.deal.closed': (e) => accrueDealCommissions(parseEvent('trading.deal.closed', e.detail).dealKey, ctxOf(e)),
  'kyc.approved': (e) => {
    const d = parseEvent('kyc.approved', e.detail);
    return recordVerified(d.clientId, d.approvedAt, ctxOf(e));
  },
  'payment.deposit.completed': (e) => {
    const d = parseEvent('payment.deposit.completed', e.detail);
    return recordDeposit(
      { clientId: d.clientId, amount: d.amount, currency: d.currency, at: timeOf(e), first: d.first },
      ctxOf(e),
    );
  },
  'partner.client.attributed': (e) => {
    const d = parseEvent('partner.client.attributed', e.detail);
    // A move effective from when it was made changes no past deal; one dated before its event is retroactive.
    if (d.source !== 'move' || !(Date.parse(d.effectiveFrom) < Date.parse(timeOf(e)) - 1_000)) {
      return Promise.resolve({ outcome: 'not_retroactive' });
    }
    return reaccrueAfterMove(
      { subject: d.subject, subjectId: d.subjectId, effectiveFrom: d.effectiveFrom, movedAt: new Date().toISOString() },
      ctxOf(e),
    );
  },
  'partner.plan.changed': (e) => {
    const d = parseEvent('partner.plan.changed', e.detail);
    if (!d.retroactive) return Promise.resolve({ outcome: 'not_retroactive' });
    return reaccrueAfterPlanChange(
      { planId: d.planId, partnerId: d.partnerId, effectiveFrom: d.effectiveFrom, changedAt: new Date().toISOString() },
      ctxOf(e),
    );
  },
  'payment.chargeback.received': (e) => {
    const d = parseEvent('payment.chargeback.received', e.detail);
    return clawBack({ causeId: d.chargebackId, cause: 'chargeback', clientId: d.clientId, at: timeOf(e) }, ctxOf(e));
  },
};

async function recordHandler(record: SQSRecord): Promise<void> {
  const e = parseEnvelope(record.body, 'partner-events');
  const h = Object.hasOwn(HANDLERS, e['detail-type']) ? HANDLERS[e['detail-type']] : undefined;
  if (!h) {
    logger.info('partner events: ignored', { detailType: e['detail-type'], eventId: dedupeIdOf(e) });
    return;
  }
  const outcome = await h(e);
  logger.debug('partner events: handled', { detailType: e['detail-type'], eventId: dedupeIdOf(e), outcome });
}

export const handler = instrumented(handle);

async function handle(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  return processPartialResponse(event, recordHandler, processor, { context });
}
