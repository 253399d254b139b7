import type { SQSEvent } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import type { QueueSpec } from '#functions/manifest.ts';
import { type Consumer, LocalSqs } from '#local/aws/sqs.ts';

const standard: QueueSpec = {
  name: 'jobs',
  fifo: false,
  consumer: 'worker',
  batchSize: 10,
  visibilityTimeoutSeconds: 10,
  maxReceiveCount: 3,
};
// 100 ms of visibility: longer than any test batch takes, else a message is (rightly) redelivered while in flight.
const fifo: QueueSpec = { ...standard, name: 'copy', fifo: true, batchSize: 2, visibilityTimeoutSeconds: 20 };

const queues: LocalSqs[] = [];
function make(consumer: Consumer, specs: QueueSpec[] = [standard, fifo]) {
  // timeScale 0.005: a 10 s visibility timeout lasts 50 ms.
  const sqs = new LocalSqs({ queues: specs, consumer, timeScale: 0.005, pollIntervalMs: 2, log: () => undefined });
  queues.push(sqs);
  return sqs;
}
afterEach(() => {
  for (const q of queues.splice(0)) q.stop();
});

const url = (sqs: LocalSqs, name: string) => sqs.urls()[name]!;

describe('LocalSqs', () => {
  it('delivers a real SQSEvent and names queues like AWS', async () => {
    const events: SQSEvent[] = [];
    const sqs = make(async (_fn, e) => {
      events.push(e as SQSEvent);
      return { batchItemFailures: [] };
    });
    expect(sqs.urls()).toEqual({ jobs: 'http://local/000000000000/jobs', copy: 'http://local/000000000000/copy.fifo' });
    const sent = (await sqs.handle('SendMessage', {
      QueueUrl: url(sqs, 'jobs'),
      MessageBody: 'hello',
      MessageAttributes: { kind: { DataType: 'String', StringValue: 'greeting' } },
    })) as { MessageId: string };
    await sqs.drain();
    const record = events[0]!.Records[0]!;
    expect(record).toMatchObject({
      messageId: sent.MessageId,
      body: 'hello',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:jobs',
      attributes: { ApproximateReceiveCount: '1' },
      messageAttributes: { kind: { dataType: 'String', stringValue: 'greeting' } },
    });
    expect(record.receiptHandle).toBeTruthy();
  });

  it("never runs more batches of a queue at once than its maxConcurrency (the mapping's ScalingConfig)", async () => {
    const paced: QueueSpec = { ...standard, name: 'paced', batchSize: 1, maxConcurrency: 2 };
    const free: QueueSpec = { ...standard, name: 'free', batchSize: 1 };
    const running = new Map<string, number>();
    const peak = new Map<string, number>();
    const sqs = make(
      async (_fn, e) => {
        const queue = (e as SQSEvent).Records[0]!.eventSourceARN.split(':').pop()!;
        running.set(queue, (running.get(queue) ?? 0) + 1);
        peak.set(queue, Math.max(peak.get(queue) ?? 0, running.get(queue)!));
        await new Promise((r) => setTimeout(r, 5));
        running.set(queue, running.get(queue)! - 1);
        return { batchItemFailures: [] };
      },
      [paced, free],
    );
    for (let i = 0; i < 12; i++) {
      sqs.send('paced', `p${i}`);
      sqs.send('free', `f${i}`);
    }
    await sqs.drain();
    expect(peak.get('paced')).toBe(2);
    // Without a maxConcurrency the emulator's own limit (5 batches per queue) applies.
    expect(peak.get('free')).toBe(5);
  });

  it('redelivers only the items reported in batchItemFailures, after the visibility timeout', async () => {
    const seen: { body: string; count: string }[] = [];
    let failedOnce = false;
    const sqs = make(async (_fn, e) => {
      const records = (e as SQSEvent).Records;
      for (const r of records) seen.push({ body: r.body, count: r.attributes.ApproximateReceiveCount });
      const b = records.find((r) => r.body === 'b');
      if (b && !failedOnce) {
        failedOnce = true;
        return { batchItemFailures: [{ itemIdentifier: b.messageId }] };
      }
      return { batchItemFailures: [] };
    });
    await sqs.handle('SendMessageBatch', {
      QueueUrl: url(sqs, 'jobs'),
      Entries: ['a', 'b', 'c'].map((body) => ({ Id: body, MessageBody: body })),
    });
    await sqs.drain();
    expect(seen).toEqual([
      { body: 'a', count: '1' },
      { body: 'b', count: '1' },
      { body: 'c', count: '1' },
      { body: 'b', count: '2' },
    ]);
    expect(sqs.depth('jobs')).toBe(0);
  });

  it('moves a message to the DLQ after maxReceiveCount receives', async () => {
    let calls = 0;
    const sqs = make(async () => {
      calls++;
      throw new Error('handler down');
    });
    sqs.send('jobs', 'poison');
    await sqs.drain();
    expect(calls).toBe(3);
    expect(sqs.depth('jobs')).toBe(0);
    expect(sqs.dlqMessages('jobs')).toMatchObject([{ body: 'poison', receiveCount: 3 }]);
    expect(sqs.depth('jobs-dlq')).toBe(1);
  });

  it('keeps FIFO order per group while groups run concurrently, across failures', async () => {
    const processed = new Map<string, number[]>();
    const inFlight = new Set<string>();
    let overlap = false;
    let concurrent = 0;
    let maxConcurrent = 0;
    let failedOnce = false;
    const sqs = make(async (_fn, e) => {
      const records = (e as SQSEvent).Records;
      const groups = new Set(records.map((r) => r.attributes.MessageGroupId!));
      for (const g of groups) if (inFlight.has(g)) overlap = true;
      for (const g of groups) inFlight.add(g);
      maxConcurrent = Math.max(maxConcurrent, ++concurrent);
      await new Promise((r) => setTimeout(r, Math.random() * 5));
      const failedGroups = new Set<string>();
      const failures: { itemIdentifier: string }[] = [];
      for (const r of records) {
        const g = r.attributes.MessageGroupId!;
        const n = Number(r.body.split(':')[1]);
        // One transient failure at A:3; everything after it in the same group must then fail too.
        if (failedGroups.has(g) || (g === 'A' && n === 3 && !failedOnce)) {
          failedOnce = true;
          failedGroups.add(g);
          failures.push({ itemIdentifier: r.messageId });
          continue;
        }
        processed.set(g, [...(processed.get(g) ?? []), n]);
      }
      for (const g of groups) inFlight.delete(g);
      concurrent--;
      return { batchItemFailures: failures };
    });
    for (let n = 1; n <= 8; n++) {
      for (const g of ['A', 'B', 'C']) sqs.send('copy', `${g}:${n}`, { groupId: g });
    }
    await sqs.drain();
    for (const g of ['A', 'B', 'C']) expect(processed.get(g)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(overlap).toBe(false);
    expect(failedOnce).toBe(true);
    expect(maxConcurrent).toBeGreaterThan(1);
  });

  it('deduplicates FIFO messages by id or content within the window; standard queues do not', async () => {
    const bodies: string[] = [];
    const sqs = make(async (_fn, e) => {
      for (const r of (e as SQSEvent).Records) bodies.push(r.body);
      return {};
    });
    sqs.stop();
    const copy = url(sqs, 'copy');
    const first = (await sqs.handle('SendMessage', {
      QueueUrl: copy,
      MessageBody: 'x',
      MessageGroupId: 'g',
      MessageDeduplicationId: 'd1',
    })) as { MessageId: string };
    const again = (await sqs.handle('SendMessage', {
      QueueUrl: copy,
      MessageBody: 'different body, same id',
      MessageGroupId: 'g',
      MessageDeduplicationId: 'd1',
    })) as { MessageId: string };
    expect(again.MessageId).toBe(first.MessageId);
    await sqs.handle('SendMessage', { QueueUrl: copy, MessageBody: 'same content', MessageGroupId: 'g' });
    await sqs.handle('SendMessage', { QueueUrl: copy, MessageBody: 'same content', MessageGroupId: 'g' });
    expect(sqs.depth('copy')).toBe(2);
    await expect(sqs.handle('SendMessage', { QueueUrl: copy, MessageBody: 'y' })).rejects.toMatchObject({
      type: 'MissingParameter',
    });

    await sqs.handle('SendMessage', { QueueUrl: url(sqs, 'jobs'), MessageBody: 'same content' });
    await sqs.handle('SendMessage', { QueueUrl: url(sqs, 'jobs'), MessageBody: 'same content' });
    expect(sqs.depth('jobs')).toBe(2);

    sqs.start();
    await sqs.drain();
    expect(bodies.sort()).toEqual(['same content', 'same content', 'same content', 'x']);
  });

  it('supports ReceiveMessage/DeleteMessage, attributes and purge through the API', async () => {
    const sqs = make(async () => ({}), [{ ...standard, name: 'manual' }]);
    sqs.stop();
    const q = url(sqs, 'manual');
    await sqs.handle('SendMessage', { QueueUrl: q, MessageBody: 'm1' });
    await sqs.handle('SendMessage', { QueueUrl: q, MessageBody: 'm2' });
    const got = (await sqs.handle('ReceiveMessage', { QueueUrl: q, MaxNumberOfMessages: 1 })) as {
      Messages: { ReceiptHandle: string; Body: string }[];
    };
    expect(got.Messages.map((m) => m.Body)).toEqual(['m1']);
    const attrs = (await sqs.handle('GetQueueAttributes', { QueueUrl: q })) as { Attributes: Record<string, string> };
    expect(attrs.Attributes).toMatchObject({ ApproximateNumberOfMessages: '1', ApproximateNumberOfMessagesNotVisible: '1' });
    await sqs.handle('DeleteMessage', { QueueUrl: q, ReceiptHandle: got.Messages[0]!.ReceiptHandle });
    await expect(sqs.handle('DeleteMessage', { QueueUrl: q, ReceiptHandle: 'nope' })).rejects.toMatchObject({
      type: 'ReceiptHandleIsInvalid',
    });
    await sqs.handle('PurgeQueue', { QueueUrl: q });
    expect(sqs.depth('manual')).toBe(0);
    await expect(sqs.handle('GetQueueUrl', { QueueName: 'missing' })).rejects.toMatchObject({ type: 'QueueDoesNotExist' });
  });
});
