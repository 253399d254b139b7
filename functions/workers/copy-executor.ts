/**
 * Copy-trade executor: the FIFO replication queue's consumer. Each message is one follower's copy of one provider
 * deal, or a stop that closes its copied positions (functions/app/copy/replicate.ts; ADR 0017).
 *
 * Invariants:
 * - one follower's messages apply in order: records of a batch are grouped by MessageGroupId (the follower's copy
 *   account); a group runs its records one after the other, groups run in parallel
 * - when a record fails, it and every later record of its group are reported as batch item failures (SQS then
 *   redelivers them, in order, after the visibility timeout); earlier records and other groups are kept
 * - a record whose copy is held by another executor (CopyBusyError) fails the same way, to be retried
 * - a malformed body fails its record (then the DLQ after its receives); nothing is logged of the body
 */
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { CopySignalSchema } from '#app/copy/messages.ts';
import { replicate } from '#app/copy/replicate.ts';
import { instrumented } from '#shared/handler.ts';
import { logger } from '#shared/powertools.ts';
import { tenantConfig } from '#shared/tenant.ts';

export const handler = instrumented(handle);

async function processRecord(record: SQSRecord): Promise<void> {
  const signal = CopySignalSchema.parse(JSON.parse(record.body));
  await replicate(signal, { requestId: record.messageId, locale: tenantConfig().defaultLocale });
}

async function handle(event: SQSEvent): Promise<SQSBatchResponse> {
  const groups = new Map<string, SQSRecord[]>();
  for (const r of event.Records ?? []) {
    const g = r.attributes?.MessageGroupId ?? r.messageId;
    const list = groups.get(g);
    if (list) list.push(r);
    else groups.set(g, [r]);
  }
  const failures: string[] = [];
  await Promise.all(
    [...groups.values()].map(async (records) => {
      for (let i = 0; i < records.length; i++) {
        try {
          await processRecord(records[i]!);
        } catch (err) {
          logger.warn('copy executor: record failed, retried in order', {
            messageId: records[i]!.messageId,
            error: (err as Error).name,
            reason: (err as Error).message,
          });
          for (const r of records.slice(i)) failures.push(r.messageId);
          return;
        }
      }
    }),
  );
  return { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })) };
}
