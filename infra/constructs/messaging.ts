/**
 * Messaging, in two halves.
 *
 * `Messaging` (root stack: state that outlives any redeploy of the contexts): the tenant bus, the
 * manifest's work queues with their DLQs, one DLQ per table-stream consumer, the event-target DLQ (rule
 * and schedule deliveries that failed) and the async-failure queue (asynchronous invocations that failed
 * after Lambda's retries). Every queue an EventBridge rule delivers to gets ONE policy statement admitting
 * the rules of the tenant bus (`rule/<bus>/*`) instead of CDK's one statement per rule, which passes SQS's
 * 20-statement / 8 KB policy limits as rules grow (the event-target DLQ had 22).
 *
 * `wireContext` (each context's nested stack): the queue consumers, stream consumers, rules and schedules
 * whose targets are that context's functions. Queues come in as imported references, so nothing a nested
 * stack does adds statements to a root queue's policy (and no nested stack is referenced by the root).
 *
 * Schedules are EventBridge Scheduler schedules (not rules on the default bus): they run in the tenant's
 * time zone where business-facing, and do not count against the 300-rules-per-bus quota.
 */
import { Duration, Stack, TimeZone } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus, type IEventBus, Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction, SqsQueue } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { FilterCriteria, FilterRule, type IFunction, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq, SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { ContextAttribute, Schedule, ScheduleExpression, ScheduleTargetInput } from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { type IQueue, Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { TenantConfig } from '#domain/tenant/config.ts';
import {
  type Context,
  type FunctionSpec,
  functionByName,
  JOB_DETAIL_TYPE,
  JOB_SOURCE,
  type QueueSpec,
  type RuleSpec,
  ruleContext,
  type ScheduleSpec,
} from '#functions/manifest.ts';
import { acknowledge, nagArnRef } from '../nag.ts';
import { alarm, QUEUE_AGE_ALARM_SECONDS } from './monitoring.ts';
import { removalPolicy } from './removal.ts';

export const STREAM_BATCH_SIZE = 100;
export const STREAM_RETRY_ATTEMPTS = 10;
/** AWS's guidance for a queue consumed by Lambda: visibility timeout at least 6x the function's timeout. */
export const VISIBILITY_TIMEOUT_FACTOR = 6;
/**
 * Delivery retries of a scheduled job's targets (cron and on-demand). These retry only a failed delivery
 * to Lambda (throttling, service errors); a run that throws is not retried at all (the job functions' async
 * retryAttempts is 0, infra/constructs/functions.ts). Undeliverable events go to the event-target DLQ.
 */
export const SCHEDULE_TARGET_RETRY_ATTEMPTS = 2;
/** The payload a scheduled job receives: the shape of EventBridge's Scheduled Event that the jobs read. */
export const SCHEDULED_EVENT_DETAIL_TYPE = 'Scheduled Event';

export const busName = (tenant: string) => `backoffice-${tenant}`;
export const streamDlqName = (fn: string) => `${fn}-stream`;
export const EVENT_TARGETS_DLQ = 'event-targets';
export const ASYNC_FAILURES_DLQ = 'async-failures';

export interface MessagingProps {
  tenantConfig: TenantConfig;
  queues: readonly QueueSpec[];
  rules: readonly RuleSpec[];
  functions: readonly FunctionSpec[];
  alarmTopic: ITopic;
}

export class Messaging extends Construct {
  readonly bus: EventBus;
  readonly queues = new Map<string, Queue>();
  /** Name -> DLQ (work queues by queue name, stream consumers as `<fn>-stream`, event-targets, async-failures). */
  readonly deadLetterQueues = new Map<string, Queue>();
  readonly eventTargetDlq: Queue;
  readonly asyncFailureDlq: Queue;
  private readonly cfg: TenantConfig;

  constructor(scope: Construct, id: string, props: MessagingProps) {
    super(scope, id);
    this.cfg = props.tenantConfig;
    this.bus = new EventBus(this, 'Bus', { eventBusName: busName(this.cfg.tenant) });

    this.eventTargetDlq = this.dlq(EVENT_TARGETS_DLQ, false, 'rule and schedule deliveries that failed after their retries');
    this.asyncFailureDlq = this.dlq(ASYNC_FAILURES_DLQ, false, 'asynchronous invocations that failed after Lambda retries');
    this.admitBusRules(this.eventTargetDlq);

    const ruleTargets = new Set(props.rules.flatMap((r) => ('queue' in r.target ? [r.target.queue] : [])));
    for (const spec of props.queues) {
      const dlq = this.dlq(spec.name, spec.fifo, `messages of ${spec.name} that failed ${spec.maxReceiveCount} receives`);
      const queue = new Queue(this, `Queue-${spec.name}`, {
        fifo: spec.fifo || undefined,
        contentBasedDeduplication: spec.fifo || undefined,
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        visibilityTimeout: Duration.seconds(spec.visibilityTimeoutSeconds),
        retentionPeriod: Duration.days(4),
        deadLetterQueue: { queue: dlq, maxReceiveCount: spec.maxReceiveCount },
        removalPolicy: removalPolicy(this.cfg),
      });
      if (ruleTargets.has(spec.name)) this.admitBusRules(queue);
      this.queues.set(spec.name, queue);
      alarm(
        this,
        `QueueAgeAlarm-${spec.name}`,
        queue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(5), statistic: 'Maximum' }),
        `queue ${spec.name}: oldest message older than ${QUEUE_AGE_ALARM_SECONDS / 60} minutes (consumer failing or throttled)`,
        props.alarmTopic,
        QUEUE_AGE_ALARM_SECONDS,
      );
    }
    for (const fn of props.functions) {
      if (fn.stream) this.dlq(streamDlqName(fn.name), false, `table-stream batches ${fn.name} could not process`);
    }
    for (const [name, dlq] of this.deadLetterQueues) {
      alarm(
        this,
        `DlqAlarm-${name}`,
        dlq.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
        `DLQ ${name} holds failed messages`,
        props.alarmTopic,
      );
    }
  }

  queue(name: string): Queue {
    const q = this.queues.get(name);
    if (!q) throw new Error(`manifest: no queue named ${name}`);
    return q;
  }

  dlqNamed(name: string): Queue {
    const q = this.deadLetterQueues.get(name);
    if (!q) throw new Error(`no dead-letter queue named ${name}`);
    return q;
  }

  /** A DLQ: 14 days' retention, SSE, TLS only. Registered for alarms. */
  private dlq(name: string, fifo: boolean, holds: string): Queue {
    const dlq = new Queue(this, `Dlq-${name}`, {
      fifo: fifo || undefined,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: removalPolicy(this.cfg),
    });
    acknowledge(dlq, 'AwsSolutions-SQS3', `This queue is itself a dead-letter queue (${holds}); it is alarmed, not redriven.`);
    this.deadLetterQueues.set(name, dlq);
    return dlq;
  }

  /** One statement: SendMessage from any rule of the tenant bus (its rules are all this stack's). */
  private admitBusRules(queue: Queue): void {
    const stack = Stack.of(this);
    queue.addToResourcePolicy(
      new PolicyStatement({
        sid: 'TenantBusRules',
        principals: [new ServicePrincipal('events.amazonaws.com')],
        actions: ['sqs:SendMessage'],
        resources: [queue.queueArn],
        conditions: {
          ArnLike: {
            'aws:SourceArn': `arn:${stack.partition}:events:${stack.region}:${stack.account}:rule/${this.bus.eventBusName}/*`,
          },
        },
      }),
    );
  }
}

/** What a context stack needs from the root to wire its consumers, rules and schedules. */
export interface ContextMessagingProps {
  context: Context;
  tenantConfig: TenantConfig;
  messaging: Messaging;
  table: ITable;
  fn: (name: string) => IFunction & { timeout?: Duration };
  queues: readonly QueueSpec[];
  rules: readonly RuleSpec[];
  schedules: readonly ScheduleSpec[];
  functions: readonly FunctionSpec[];
}

/** A reference to a root queue from inside a nested stack: grants go to roles, never to the queue's policy. */
export function importQueue(scope: Construct, id: string, queue: IQueue): IQueue {
  return Queue.fromQueueAttributes(scope, id, {
    queueArn: queue.queueArn,
    queueUrl: queue.queueUrl,
    queueName: queue.queueName,
    fifo: queue.fifo,
  });
}

/** The consumers, stream consumers, rules and schedules of one context (called in its nested stack). */
export function wireContext(scope: Construct, p: ContextMessagingProps): void {
  const imported = new Map<string, IQueue>();
  const ref = (kind: string, name: string, queue: IQueue) => {
    const key = `${kind}-${name}`;
    let q = imported.get(key);
    if (!q) {
      q = importQueue(scope, `Imported-${key}`, queue);
      imported.set(key, q);
    }
    return q;
  };
  const eventTargetDlq = ref('dlq', EVENT_TARGETS_DLQ, p.messaging.eventTargetDlq);
  const bus: IEventBus = p.messaging.bus;
  const targetOptions = { deadLetterQueue: eventTargetDlq, retryAttempts: 8, maxEventAge: Duration.hours(6) };

  for (const spec of p.queues) {
    if (functionByName(spec.consumer).context !== p.context) continue;
    const consumer = p.fn(spec.consumer);
    const timeout = consumer.timeout?.toSeconds() ?? 3;
    if (spec.visibilityTimeoutSeconds < VISIBILITY_TIMEOUT_FACTOR * timeout) {
      throw new Error(
        `manifest: queue ${spec.name} has visibilityTimeoutSeconds ${spec.visibilityTimeoutSeconds}, below ${VISIBILITY_TIMEOUT_FACTOR}x its consumer ${spec.consumer}'s timeout (${timeout}s)`,
      );
    }
    consumer.addEventSource(
      new SqsEventSource(ref('queue', spec.name, p.messaging.queue(spec.name)), {
        batchSize: spec.batchSize,
        reportBatchItemFailures: true,
        ...(spec.maxConcurrency ? { maxConcurrency: spec.maxConcurrency } : {}),
      }),
    );
  }

  for (const spec of p.functions) {
    if (!spec.stream || spec.context !== p.context) continue;
    p.fn(spec.name).addEventSource(
      new DynamoEventSource(p.table, {
        startingPosition: StartingPosition.TRIM_HORIZON,
        batchSize: STREAM_BATCH_SIZE,
        bisectBatchOnError: true,
        reportBatchItemFailures: true,
        retryAttempts: STREAM_RETRY_ATTEMPTS,
        maxRecordAge: Duration.hours(24),
        parallelizationFactor: 1,
        onFailure: new SqsDlq(ref('dlq', streamDlqName(spec.name), p.messaging.dlqNamed(streamDlqName(spec.name)))),
        filters: [
          FilterCriteria.filter({
            eventName: FilterRule.isEqual('INSERT'),
            dynamodb: { NewImage: { type: { S: FilterRule.isEqual(spec.stream) } } },
          }),
        ],
      }),
    );
  }

  for (const spec of p.rules) {
    if (ruleContext(spec) !== p.context) continue;
    const rule = new Rule(scope, `Rule-${spec.name}`, {
      eventBus: bus,
      description: `manifest rule ${spec.name}`,
      eventPattern: { source: spec.pattern.source, detailType: spec.pattern['detail-type'], detail: spec.pattern.detail },
    });
    if ('function' in spec.target) {
      rule.addTarget(new LambdaFunction(p.fn(spec.target.function), targetOptions));
    } else {
      const queue = ref('queue', spec.target.queue, p.messaging.queue(spec.target.queue));
      rule.addTarget(
        new SqsQueue(queue, {
          ...targetOptions,
          // EventBridge only takes a static group id; ordering-sensitive producers send to FIFO queues directly.
          messageGroupId: queue.fifo ? spec.name : undefined,
        }),
      );
    }
  }

  const scheduled = p.schedules.filter((s) => functionByName(s.function).context === p.context);
  // One execution role for the context's schedules: invoke its job functions, dead-letter to the DLQ.
  const schedulerRole = scheduled.length
    ? new Role(scope, 'SchedulerRole', {
        assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
          conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(scope).account } },
        }),
        description: `EventBridge Scheduler: runs the ${p.context} context's scheduled jobs`,
      })
    : undefined;
  for (const spec of scheduled) {
    const fn = p.fn(spec.function);
    acknowledge(
      schedulerRole!,
      `AwsSolutions-IAM5[Resource::${nagArnRef(fn)}:*]`,
      `Invoke on every version/alias of ${spec.function}, which CDK grants alongside the unqualified ARN.`,
    );
    const timeZone = spec.timezone === 'tenant' ? TimeZone.of(p.tenantConfig.timezone) : TimeZone.ETC_UTC;
    new Schedule(scope, `Schedule-${spec.name}`, {
      description: spec.description.slice(0, 512),
      schedule: ScheduleExpression.expression(spec.cron, timeZone),
      target: new LambdaInvoke(fn, {
        role: schedulerRole,
        deadLetterQueue: eventTargetDlq,
        retryAttempts: SCHEDULE_TARGET_RETRY_ATTEMPTS,
        maxEventAge: Duration.hours(6),
        input: ScheduleTargetInput.fromObject({
          'detail-type': SCHEDULED_EVENT_DETAIL_TYPE,
          source: 'aws.scheduler',
          id: ContextAttribute.executionId,
          time: ContextAttribute.scheduledTime,
          detail: { schedule: spec.name },
        }),
      }),
    });
    // On demand (POST /v1/admin/jobs/{job}/runs): an event on the tenant bus naming the job.
    new Rule(scope, `OnDemand-${spec.name}`, {
      eventBus: bus,
      description: `Run ${spec.name} on demand`,
      eventPattern: { source: [JOB_SOURCE], detailType: [JOB_DETAIL_TYPE], detail: { job: [spec.name] } },
    }).addTarget(new LambdaFunction(fn, { ...targetOptions, retryAttempts: SCHEDULE_TARGET_RETRY_ATTEMPTS }));
  }
}
