/**
 * Sends messages to one of the manifest's queues with SendMessageBatch (10 a call, `concurrency` calls at a time).
 *
 * Invariants:
 * - every message is sent or the call throws: entries SQS reports as failed are sent again (up to 5 rounds, with
 *   backoff), then the send fails naming how many were left; a caller that retries re-sends them all, which a FIFO
 *   queue drops by MessageDeduplicationId within five minutes and the consumer makes a no-op after that
 * - FIFO queues get MessageGroupId and MessageDeduplicationId; standard queues ignore them
 */
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { sqs } from '#shared/clients.ts';
import { env } from '#shared/env.ts';

export interface OutgoingMessage {
  body: string;
  groupId?: string;
  dedupId?: string;
}

const BATCH = 10;
const ROUNDS = 5;

async function sendChunk(url: string, chunk: readonly OutgoingMessage[]): Promise<void> {
  let pending = chunk.map((m, i) => ({ id: String(i), m }));
  for (let round = 0; pending.length > 0; round++) {
    if (round === ROUNDS) throw new Error(`SendMessageBatch: ${pending.length} messages not accepted after ${ROUNDS} rounds`);
    if (round > 0) await new Promise((r) => setTimeout(r, 50 * 2 ** round));
    const res = await sqs().send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: pending.map(({ id, m }) => ({
          Id: id,
          MessageBody: m.body,
          ...(m.groupId ? { MessageGroupId: m.groupId } : {}),
          ...(m.dedupId ? { MessageDeduplicationId: m.dedupId } : {}),
        })),
      }),
    );
    const failed = new Set((res.Failed ?? []).map((f) => f.Id));
    pending = pending.filter((p) => failed.has(p.id));
  }
}

/** Sends every message to the queue `queueName` of the manifest. */
export async function sendMessages(queueName: string, messages: readonly OutgoingMessage[], concurrency = 8): Promise<void> {
  const url = env.queueUrl(queueName);
  const chunks: OutgoingMessage[][] = [];
  for (let i = 0; i < messages.length; i += BATCH) chunks.push(messages.slice(i, i + BATCH));
  let next = 0;
  const worker = async () => {
    while (next < chunks.length) {
      const chunk = chunks[next++]!;
      await sendChunk(url, chunk);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, chunks.length) }, worker));
}
