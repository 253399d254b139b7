/**
 * The sandbox payment provider's back end: consumes the psp-sandbox queue (requests enqueued by
 * functions/adapters/psp/sandbox.ts) and hands each request to the use case
 * functions/app/payments/answer-sandbox-request.ts, which answers it the way a provider would (a signed
 * webhook to PSP_WEBHOOK_URL_SANDBOX and, for what settled, a settlement line; the outcome rules are in
 * functions/app/payments/sandbox-provider.ts).
 *
 * Invariants:
 * - a message that is not a sandbox request fails its record (redelivered, then the DLQ)
 * - partial batch failures (Powertools batch processing): one bad message never fails its neighbours
 * - no PII in logs: refs, types and statuses only
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { answerSandboxRequest, SandboxRequestInput } from '#app/payments/answer-sandbox-request.ts';
import { instrumented } from '#shared/handler.ts';
import { tenantConfig } from '#shared/tenant.ts';

const processor = new BatchProcessor(EventType.SQS);

async function recordHandler(record: SQSRecord): Promise<void> {
  const parsed = SandboxRequestInput.safeParse(JSON.parse(record.body));
  if (!parsed.success) throw new Error('sandbox PSP: the message is not a sandbox request');
  await answerSandboxRequest(parsed.data, {
    requestId: record.messageId,
    locale: tenantConfig().defaultLocale,
  });
}

export const handler = instrumented(handle);

async function handle(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  return processPartialResponse(event, recordHandler, processor, { context });
}
