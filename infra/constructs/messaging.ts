/**
 * Events and queues from the manifest: the tenant bus, SQS queues (each with a DLQ), bus rules,
 * scheduled jobs (plus an on-demand rule per job), and the DynamoDB stream consumers.
 *
 * Every queue that can hold failed work (queue DLQs, stream-failure DLQs, the event-target DLQ) is
 * exposed in `deadLetterQueues` so monitoring alarms on each one.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus, Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction, SqsQueue } from 'aws-cdk-lib/aws-events-targets';
import { FilterCriteria, FilterRule, type IFunction, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq, SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  type FunctionSpec,
  JOB_DETAIL_TYPE,
  JOB_SOURCE,
  type QueueSpec,
  type RuleSpec,
  type ScheduleSpec,
} from '#functions/manifest.ts';
import { acknowledge } from '../nag.ts';

export const STREAM_BATCH_SIZE = 100;
export const STREAM_RETRY_ATTEMPTS = 10;
/**
 * Delivery retries of a scheduled job's rule targets (cron and on-demand). These retry only a failed
 * delivery to Lambda (throttling, service errors); a run that throws is not retried at all (the job
 * functions' async retryAttempts is 0, infra/constructs/functions.ts). Undeliverable events go to the
 * event-target DLQ, which is alarmed.
 */
export const SCHEDULE_TARGET_RETRY_ATTEMPTS = 2;

export interface MessagingProps {
  tenant: string;
  queues: readonly QueueSpec[];
}

export class Messaging extends Construct {
  readonly bus: EventBus;
  readonly queues = new Map<string, Queue>();
  /** Name -> DLQ, for alarms. */
  readonly deadLetterQueues = new Map<string, Queue>();
  /** Failed deliveries from bus rules and schedules to their targets. */
  readonly eventTargetDlq: Queue;

  constructor(scope: Construct, id: string, props: MessagingProps) {
    super(scope, id);
    this.bus = new EventBus(this, 'Bus', { eventBusName: `backoffice-${props.tenant}` });

    this.eventTargetDlq = this.dlq('event-targets', false);

    for (const spec of props.queues) {
      const dlq = this.dlq(spec.name, spec.fifo);
      const queue = new Queue(this, `Queue-${spec.name}`, {
        fifo: spec.fifo || undefined,
        contentBasedDeduplication: spec.fifo || undefined,
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        visibilityTimeout: Duration.seconds(spec.visibilityTimeoutSeconds),
        retentionPeriod: Duration.days(4),
        deadLetterQueue: { queue: dlq, maxReceiveCount: spec.maxReceiveCount },
      });
      this.queues.set(spec.name, queue);
    }
  }

  /** A DLQ: 14 days' retention, SSE, TLS only. Registered for alarms. */
  private dlq(name: string, fifo: boolean): Queue {
    const dlq = new Queue(this, `Dlq-${name}`, {
      fifo: fifo || undefined,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledge(dlq, 'AwsSolutions-SQS3', `This queue is itself the dead-letter queue for ${name}; it is alarmed, not redriven.`);
    this.deadLetterQueues.set(name, dlq);
    return dlq;
  }

  /** SqsEventSource from each queue to its consumer (partial batch failures, manifest batch size and maximum concurrency). */
  connectConsumers(specs: readonly QueueSpec[], fn: (name: string) => IFunction & { timeout?: Duration }): void {
    for (const spec of specs) {
      const consumer = fn(spec.consumer);
      const timeout = consumer.timeout?.toSeconds() ?? 0;
      if (timeout > spec.visibilityTimeoutSeconds) {
        throw new Error(
          `manifest: queue ${spec.name} has visibilityTimeoutSeconds ${spec.visibilityTimeoutSeconds} below its consumer ${spec.consumer}'s timeout (${timeout}s)`,
        );
      }
      consumer.addEventSource(
        new SqsEventSource(this.queues.get(spec.name)!, {
          batchSize: spec.batchSize,
          reportBatchItemFailures: true,
          ...(spec.maxConcurrency ? { maxConcurrency: spec.maxConcurrency } : {}),
        }),
      );
    }
  }

  /** Rules on the tenant bus; targets are a function or a queue from the manifest. */
  addRules(specs: readonly RuleSpec[], fn: (name: string) => IFunction): void {
    for (const spec of specs) {
      const rule = new Rule(this, `Rule-${spec.name}`, {
        eventBus: this.bus,
        description: `manifest rule ${spec.name}`,
        eventPattern: {
          source: spec.pattern.source,
          detailType: spec.pattern['detail-type'],
          detail: spec.pattern.detail,
        },
      });
      if ('function' in spec.target) {
        rule.addTarget(new LambdaFunction(fn(spec.target.function), this.targetOptions()));
      } else {
        const queue = this.queues.get(spec.target.queue);
        if (!queue) throw new Error(`manifest: rule ${spec.name} targets unknown queue ${spec.target.queue}`);
        rule.addTarget(
          new SqsQueue(queue, {
            ...this.targetOptions(),
            // EventBridge only takes a static group id; ordering-sensitive producers send to FIFO queues directly.
            messageGroupId: queue.fifo ? spec.name : undefined,
          }),
        );
      }
    }
  }

  /**
   * Each scheduled job: a cron rule (default bus: schedule expressions only run there) and a rule on the
   * tenant bus matching {source: JOB_SOURCE, detail-type: JOB_DETAIL_TYPE, detail.job: name} so admins can
   * run it on demand (POST /v1/admin/jobs/{job}/runs).
   */
  addSchedules(specs: readonly ScheduleSpec[], fn: (name: string) => IFunction): void {
    for (const spec of specs) {
      const target = new LambdaFunction(fn(spec.function), {
        ...this.targetOptions(),
        retryAttempts: SCHEDULE_TARGET_RETRY_ATTEMPTS,
      });
      new Rule(this, `Schedule-${spec.name}`, {
        description: spec.description.slice(0, 512),
        schedule: Schedule.expression(spec.cron),
      }).addTarget(target);
      new Rule(this, `OnDemand-${spec.name}`, {
        eventBus: this.bus,
        description: `Run ${spec.name} on demand`,
        eventPattern: { source: [JOB_SOURCE], detailType: [JOB_DETAIL_TYPE], detail: { job: [spec.name] } },
      }).addTarget(target);
    }
  }

  /**
   * Stream consumers: only INSERTs of items whose `type` is the manifest's `stream` value reach the
   * function (filtering happens in Lambda, before invocation). Failed batches (after bisecting and
   * retries) leave a pointer record in a per-consumer DLQ.
   */
  connectStreams(table: ITable, specs: readonly FunctionSpec[], fn: (name: string) => IFunction): void {
    for (const spec of specs) {
      if (!spec.stream) continue;
      const dlq = this.dlq(`${spec.name}-stream`, false);
      fn(spec.name).addEventSource(
        new DynamoEventSource(table, {
          startingPosition: StartingPosition.TRIM_HORIZON,
          batchSize: STREAM_BATCH_SIZE,
          bisectBatchOnError: true,
          reportBatchItemFailures: true,
          retryAttempts: STREAM_RETRY_ATTEMPTS,
          maxRecordAge: Duration.hours(24),
          onFailure: new SqsDlq(dlq),
          filters: [
            FilterCriteria.filter({
              eventName: FilterRule.isEqual('INSERT'),
              dynamodb: { NewImage: { type: { S: FilterRule.isEqual(spec.stream) } } },
            }),
          ],
        }),
      );
    }
  }

  private targetOptions() {
    return { deadLetterQueue: this.eventTargetDlq, retryAttempts: 8, maxEventAge: Duration.hours(6) };
  }
}
