/**
 * In-process SQS with Lambda event-source-mapping style consumers, for `npm start` and tests.
 *
 * Keeps: the awsJson operations handlers use (SendMessage, SendMessageBatch, ReceiveMessage, DeleteMessage,
 * GetQueueUrl, GetQueueAttributes (counts, ARN), PurgeQueue); batches up to the manifest batchSize delivered as a
 * real SQSEvent; partial batch responses (`batchItemFailures`), where failed items and every item of a batch whose
 * handler threw reappear after the visibility timeout with ApproximateReceiveCount incremented; an invalid
 * `batchItemFailures` fails the whole batch (as Lambda does); a redrive to `<name>-dlq` once a message has been
 * received maxReceiveCount times; FIFO ordering per MessageGroupId (a group is blocked while any of its messages is
 * in flight) and deduplication for 5 minutes by MessageDeduplicationId (content hash when the id is absent);
 * per-message DelaySeconds on standard queues.
 *
 * Does not emulate: long polling (ReceiveMessage returns at once), message retention limits, message size limits,
 * ChangeMessageVisibility, queue-level attributes beyond the counts, the DLQ redrive API, Lambda concurrency scaling
 * (a fixed number of concurrent batches per queue, lowered to the queue's `maxConcurrency`) or batching windows.
 * Time-based behaviour (visibility timeout, delays) is multiplied by `timeScale` so tests can run it in
 * milliseconds; the dedup window is not scaled.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { queues as manifestQueues, type QueueSpec } from '#functions/manifest.ts';
import { AwsError } from '#local/aws/errors.ts';
import type { JsonService } from '#local/aws/server.ts';

/** An awsJson request body: untyped JSON, validated field by field. */
// biome-ignore lint/suspicious/noExplicitAny: request bodies are untyped JSON
type Json = any;

export type Consumer = (fnName: string, event: unknown) => Promise<unknown>;

export interface LocalSqsOptions {
  queues?: readonly QueueSpec[];
  /** Runs a manifest function; defaults to `invoke` from #local/lambda.ts. */
  consumer?: Consumer;
  /** Multiplies visibility timeouts and delays (1 = real time, 0.001 = a second becomes a millisecond). */
  timeScale?: number;
  pollIntervalMs?: number;
  /** Batches handled at the same time per queue (a queue's manifest maxConcurrency lowers it). */
  concurrency?: number;
  region?: string;
  account?: string;
  /** Start polling at once (default true). */
  autoStart?: boolean;
  log?: (message: string, detail?: unknown) => void;
}

interface MessageAttributeValue {
  DataType: string;
  StringValue?: string;
  BinaryValue?: string;
}

interface Message {
  messageId: string;
  body: string;
  md5: string;
  attributes: Record<string, MessageAttributeValue>;
  sentAt: number;
  visibleAt: number;
  /** Set while received and not deleted; the message is in flight until visibleAt. */
  receiptHandle?: string;
  receiveCount: number;
  firstReceivedAt?: number;
  groupId?: string;
  dedupId?: string;
  sequenceNumber?: string;
}

interface Queue {
  name: string;
  url: string;
  arn: string;
  fifo: boolean;
  spec?: QueueSpec;
  dlq?: Queue;
  messages: Message[];
  dedup: Map<string, { messageId: string; at: number }>;
  activeBatches: number;
}

const DEDUP_WINDOW_MS = 5 * 60_000;
const md5 = (s: string) => createHash('md5').update(s).digest('hex');

/** Physical queue names: FIFO queues end in `.fifo`, and the DLQ is `<name>-dlq` of the same kind. */
export function queueNames(spec: Pick<QueueSpec, 'name' | 'fifo'>): { name: string; dlq: string } {
  const base = spec.name.replace(/\.fifo$/, '');
  return spec.fifo ? { name: `${base}.fifo`, dlq: `${base}-dlq.fifo` } : { name: base, dlq: `${base}-dlq` };
}

export class LocalSqs implements JsonService {
  readonly prefix = 'AmazonSQS';
  private readonly byName = new Map<string, Queue>();
  private readonly byManifestName = new Map<string, Queue>();
  private readonly consumer: Consumer;
  private readonly timeScale: number;
  private readonly pollIntervalMs: number;
  private readonly concurrency: number;
  private readonly region: string;
  private readonly account: string;
  private readonly log: (message: string, detail?: unknown) => void;
  private timer: NodeJS.Timeout | undefined;
  private readonly running = new Set<Promise<void>>();
  private sequence = 0n;

  constructor(options: LocalSqsOptions = {}) {
    this.consumer = options.consumer ?? (async (fn, event) => (await import('#local/lambda.ts')).invoke(fn, event));
    this.timeScale = options.timeScale ?? 1;
    this.pollIntervalMs = options.pollIntervalMs ?? 25;
    this.concurrency = options.concurrency ?? 5;
    this.region = options.region ?? process.env.AWS_REGION ?? 'us-east-1';
    this.account = options.account ?? '000000000000';
    this.log = options.log ?? ((m, d) => console.error(`[sqs] ${m}`, d ?? ''));
    for (const spec of options.queues ?? manifestQueues) {
      const names = queueNames(spec);
      const dlq = this.createQueue(names.dlq, spec.fifo);
      const queue = this.createQueue(names.name, spec.fifo, spec, dlq);
      this.byManifestName.set(spec.name, queue);
    }
    if (options.autoStart ?? true) this.start();
  }

  /** Queue URL per manifest queue name (for QUEUE_URL_<NAME> env vars). */
  urls(): Record<string, string> {
    return Object.fromEntries([...this.byManifestName].map(([name, q]) => [name, q.url]));
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.poll(), this.pollIntervalMs);
    this.timer.unref();
  }

  /** Stops polling; batches already handed to consumers finish on their own. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Resolves when every consumed queue is empty and no batch is running. */
  async drain(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const busy = [...this.byManifestName.values()].some((q) => q.messages.length > 0 || q.activeBatches > 0);
      if (!busy) return;
      if (Date.now() > deadline) throw new Error('LocalSqs.drain: timed out with messages still queued');
      this.poll();
      await new Promise((r) => setTimeout(r, Math.max(5, this.pollIntervalMs)));
    }
  }

  /** Messages in a queue (visible, delayed and in flight), by manifest name, physical name or URL. */
  depth(name: string): number {
    return this.queue(name).messages.length;
  }

  /** Messages sitting in a queue's DLQ. */
  dlqMessages(name: string): { messageId: string; body: string; receiveCount: number; groupId?: string }[] {
    const q = this.queue(name);
    return (q.dlq ?? q).messages.map((m) => ({
      messageId: m.messageId,
      body: m.body,
      receiveCount: m.receiveCount,
      ...(m.groupId ? { groupId: m.groupId } : {}),
    }));
  }

  /**
   * Sends to a queue by manifest name, physical name or URL (used by the event bus for queue targets).
   * `groupId` and `dedupId` are used by FIFO queues and ignored by standard ones.
   */
  send(name: string, body: string, extra: { groupId?: string; dedupId?: string; delaySeconds?: number } = {}) {
    const q = this.queue(name);
    return this.enqueue(q, {
      MessageBody: body,
      ...(q.fifo ? { MessageGroupId: extra.groupId, MessageDeduplicationId: extra.dedupId } : {}),
      DelaySeconds: extra.delaySeconds,
    });
  }

  async handle(operation: string, input: Json): Promise<unknown> {
    switch (operation) {
      case 'SendMessage':
        return this.enqueue(this.queueFromInput(input), input);
      case 'SendMessageBatch':
        return this.sendBatch(this.queueFromInput(input), input.Entries ?? []);
      case 'ReceiveMessage':
        return this.receiveApi(this.queueFromInput(input), input);
      case 'DeleteMessage':
        this.deleteByHandle(this.queueFromInput(input), input.ReceiptHandle);
        return {};
      case 'DeleteMessageBatch':
        return this.deleteBatch(this.queueFromInput(input), input.Entries ?? []);
      case 'GetQueueUrl': {
        const q = this.byName.get(input.QueueName);
        if (!q) throw new AwsError('QueueDoesNotExist', `The specified queue ${input.QueueName} does not exist.`);
        return { QueueUrl: q.url };
      }
      case 'GetQueueAttributes':
        return { Attributes: this.attributes(this.queueFromInput(input)) };
      case 'PurgeQueue':
        this.queueFromInput(input).messages.length = 0;
        return {};
      default:
        throw new AwsError('UnsupportedOperation', `LocalSqs does not implement ${operation}`);
    }
  }

  // ---- queues -------------------------------------------------------------------------------

  private createQueue(name: string, fifo: boolean, spec?: QueueSpec, dlq?: Queue): Queue {
    const queue: Queue = {
      name,
      url: `http://local/${this.account}/${name}`,
      arn: `arn:aws:sqs:${this.region}:${this.account}:${name}`,
      fifo,
      ...(spec ? { spec } : {}),
      ...(dlq ? { dlq } : {}),
      messages: [],
      dedup: new Map(),
      activeBatches: 0,
    };
    this.byName.set(name, queue);
    return queue;
  }

  private queue(nameOrUrl: string): Queue {
    const q =
      this.byManifestName.get(nameOrUrl) ?? this.byName.get(nameOrUrl) ?? this.byName.get(nameOrUrl.split('/').pop() ?? '');
    if (!q) throw new AwsError('QueueDoesNotExist', `The specified queue ${nameOrUrl} does not exist.`);
    return q;
  }

  private queueFromInput(input: Json): Queue {
    if (!input?.QueueUrl) throw new AwsError('MissingParameter', 'The request must contain the parameter QueueUrl.');
    return this.queue(String(input.QueueUrl));
  }

  private attributes(q: Queue): Record<string, string> {
    const now = Date.now();
    const inFlight = q.messages.filter((m) => m.receiptHandle && m.visibleAt > now).length;
    const delayed = q.messages.filter((m) => !m.receiptHandle && m.visibleAt > now).length;
    return {
      QueueArn: q.arn,
      ApproximateNumberOfMessages: String(q.messages.length - inFlight - delayed),
      ApproximateNumberOfMessagesNotVisible: String(inFlight),
      ApproximateNumberOfMessagesDelayed: String(delayed),
      VisibilityTimeout: String(q.spec?.visibilityTimeoutSeconds ?? 30),
      ...(q.fifo ? { FifoQueue: 'true', ContentBasedDeduplication: 'true' } : {}),
      ...(q.dlq && q.spec
        ? { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: q.dlq.arn, maxReceiveCount: q.spec.maxReceiveCount }) }
        : {}),
    };
  }

  // ---- sending ------------------------------------------------------------------------------

  private enqueue(q: Queue, input: Json): { MessageId: string; MD5OfMessageBody: string; SequenceNumber?: string } {
    const body = input.MessageBody;
    if (typeof body !== 'string' || body.length === 0) {
      throw new AwsError('InvalidParameterValue', 'The request must contain a non-empty MessageBody.');
    }
    const now = Date.now();
    let groupId: string | undefined;
    let dedupId: string | undefined;
    if (q.fifo) {
      groupId = input.MessageGroupId;
      if (!groupId) throw new AwsError('MissingParameter', 'The request must contain the parameter MessageGroupId.');
      // Manifest FIFO queues are created with content-based deduplication.
      const id: string = input.MessageDeduplicationId ?? createHash('sha256').update(body).digest('hex');
      dedupId = id;
      for (const [key, entry] of q.dedup) if (now - entry.at > DEDUP_WINDOW_MS) q.dedup.delete(key);
      const seen = q.dedup.get(id);
      if (seen) return { MessageId: seen.messageId, MD5OfMessageBody: md5(body) };
    }
    const delayMs = q.fifo ? 0 : Number(input.DelaySeconds ?? 0) * 1000 * this.timeScale;
    const message: Message = {
      messageId: randomUUID(),
      body,
      md5: md5(body),
      attributes: input.MessageAttributes ?? {},
      sentAt: now,
      visibleAt: now + delayMs,
      receiveCount: 0,
      ...(groupId ? { groupId } : {}),
      ...(dedupId ? { dedupId } : {}),
      ...(q.fifo ? { sequenceNumber: String(++this.sequence).padStart(20, '0') } : {}),
    };
    q.messages.push(message);
    if (dedupId) q.dedup.set(dedupId, { messageId: message.messageId, at: now });
    if (this.timer) setImmediate(() => this.poll());
    return {
      MessageId: message.messageId,
      MD5OfMessageBody: message.md5,
      ...(message.sequenceNumber ? { SequenceNumber: message.sequenceNumber } : {}),
    };
  }

  private sendBatch(q: Queue, entries: Json[]) {
    if (entries.length === 0 || entries.length > 10) {
      throw new AwsError('AWS.SimpleQueueService.TooManyEntriesInBatchRequest', 'A batch holds 1 to 10 entries.');
    }
    const Successful: unknown[] = [];
    const Failed: unknown[] = [];
    for (const entry of entries) {
      try {
        Successful.push({ Id: entry.Id, ...this.enqueue(q, entry) });
      } catch (e) {
        const err = e as AwsError;
        Failed.push({ Id: entry.Id, SenderFault: true, Code: err.type ?? 'InternalError', Message: err.message });
      }
    }
    return { Successful, Failed };
  }

  // ---- receiving ----------------------------------------------------------------------------

  /** Takes up to `max` visible messages, honouring FIFO group order, and marks them in flight. */
  private take(q: Queue, max: number, visibilitySeconds: number): Message[] {
    const now = Date.now();
    const taken: Message[] = [];
    const blockedGroups = new Set<string>();
    if (q.fifo) for (const m of q.messages) if (m.receiptHandle && m.visibleAt > now && m.groupId) blockedGroups.add(m.groupId);
    for (const m of [...q.messages]) {
      if (taken.length >= max) break;
      if (m.groupId && blockedGroups.has(m.groupId)) continue;
      if (m.visibleAt > now) {
        if (m.groupId) blockedGroups.add(m.groupId);
        continue;
      }
      if (q.dlq && q.spec && m.receiveCount >= q.spec.maxReceiveCount) {
        this.moveToDlq(q, m);
        continue;
      }
      m.receiveCount += 1;
      m.firstReceivedAt ??= now;
      m.receiptHandle = randomUUID();
      m.visibleAt = now + visibilitySeconds * 1000 * this.timeScale;
      taken.push(m);
    }
    return taken;
  }

  private moveToDlq(q: Queue, m: Message) {
    q.messages.splice(q.messages.indexOf(m), 1);
    const { receiptHandle: _, ...rest } = m;
    q.dlq!.messages.push({ ...rest, visibleAt: Date.now() });
    this.log(`message ${m.messageId} moved to ${q.dlq!.name} after ${m.receiveCount} receives`);
  }

  private receiveApi(q: Queue, input: Json) {
    const max = Math.min(10, Math.max(1, Number(input.MaxNumberOfMessages ?? 1)));
    const visibility = Number(input.VisibilityTimeout ?? q.spec?.visibilityTimeoutSeconds ?? 30);
    const Messages = this.take(q, max, visibility).map((m) => ({
      MessageId: m.messageId,
      ReceiptHandle: m.receiptHandle,
      MD5OfBody: m.md5,
      Body: m.body,
      Attributes: this.systemAttributes(m),
      ...(Object.keys(m.attributes).length ? { MessageAttributes: m.attributes } : {}),
    }));
    return { Messages };
  }

  private deleteByHandle(q: Queue, handle: string): void {
    const i = q.messages.findIndex((m) => m.receiptHandle === handle);
    if (i < 0) throw new AwsError('ReceiptHandleIsInvalid', `The receipt handle ${handle} is not valid.`);
    q.messages.splice(i, 1);
  }

  private deleteBatch(q: Queue, entries: Json[]) {
    const Successful: unknown[] = [];
    const Failed: unknown[] = [];
    for (const e of entries) {
      try {
        this.deleteByHandle(q, e.ReceiptHandle);
        Successful.push({ Id: e.Id });
      } catch (err) {
        Failed.push({ Id: e.Id, SenderFault: true, Code: 'ReceiptHandleIsInvalid', Message: (err as Error).message });
      }
    }
    return { Successful, Failed };
  }

  private systemAttributes(m: Message): Record<string, string> {
    return {
      ApproximateReceiveCount: String(m.receiveCount),
      SentTimestamp: String(m.sentAt),
      SenderId: this.account,
      ApproximateFirstReceiveTimestamp: String(m.firstReceivedAt ?? Date.now()),
      ...(m.groupId ? { MessageGroupId: m.groupId } : {}),
      ...(m.dedupId ? { MessageDeduplicationId: m.dedupId } : {}),
      ...(m.sequenceNumber ? { SequenceNumber: m.sequenceNumber } : {}),
    };
  }

  // ---- consumers ----------------------------------------------------------------------------

  private poll(): void {
    for (const q of this.byManifestName.values()) {
      const spec = q.spec!;
      const limit = Math.min(this.concurrency, spec.maxConcurrency ?? Number.POSITIVE_INFINITY);
      while (q.activeBatches < limit) {
        const batch = this.take(q, spec.batchSize, spec.visibilityTimeoutSeconds);
        if (batch.length === 0) break;
        q.activeBatches += 1;
        const run = this.deliver(q, batch).finally(() => {
          q.activeBatches -= 1;
          this.running.delete(run);
        });
        this.running.add(run);
      }
    }
  }

  private toRecord(q: Queue, m: Message): SQSRecord {
    return {
      messageId: m.messageId,
      receiptHandle: m.receiptHandle!,
      body: m.body,
      attributes: this.systemAttributes(m) as unknown as SQSRecord['attributes'],
      messageAttributes: Object.fromEntries(
        Object.entries(m.attributes).map(([k, v]) => [
          k,
          {
            dataType: v.DataType,
            ...(v.StringValue !== undefined ? { stringValue: v.StringValue } : {}),
            ...(v.BinaryValue !== undefined ? { binaryValue: v.BinaryValue } : {}),
            stringListValues: [],
            binaryListValues: [],
          },
        ]),
      ),
      md5OfBody: m.md5,
      eventSource: 'aws:sqs',
      eventSourceARN: q.arn,
      awsRegion: this.region,
    };
  }

  private async deliver(q: Queue, batch: Message[]): Promise<void> {
    const handles = new Map(batch.map((m) => [m.messageId, m.receiptHandle]));
    const event: SQSEvent = { Records: batch.map((m) => this.toRecord(q, m)) };
    let failed: Set<string>;
    try {
      const result = (await this.consumer(q.spec!.consumer, event)) as { batchItemFailures?: { itemIdentifier?: string }[] };
      failed = this.failedIds(batch, result);
    } catch (e) {
      this.log(`${q.spec!.consumer} failed a batch of ${batch.length} from ${q.name}`, e);
      failed = new Set(batch.map((m) => m.messageId));
    }
    for (const m of batch) {
      // Deletes only while this receive still owns the message (its visibility timeout may have run out).
      if (!failed.has(m.messageId) && m.receiptHandle === handles.get(m.messageId)) {
        const i = q.messages.indexOf(m);
        if (i >= 0) q.messages.splice(i, 1);
      }
    }
  }

  /** Partial batch response: an unknown or empty itemIdentifier fails the whole batch, as in Lambda. */
  private failedIds(batch: Message[], result: { batchItemFailures?: { itemIdentifier?: string }[] } | undefined) {
    const failures = result?.batchItemFailures ?? [];
    const ids = new Set(batch.map((m) => m.messageId));
    if (failures.some((f) => !f.itemIdentifier || !ids.has(f.itemIdentifier))) return ids;
    return new Set(failures.map((f) => f.itemIdentifier!));
  }
}
