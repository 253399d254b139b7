/**
 * Alarms to one KMS-encrypted SNS topic: each function's Errors and Throttles, every DLQ holding a
 * message, API 5XX responses, DynamoDB throttling, and the business metrics in JOB_METRIC_ALARMS
 * (a broken audit chain, a hole in the audit archive). Optional email subscription (tenant alarmEmail).
 */
import { Duration, Stack } from 'aws-cdk-lib';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import { Alarm, ComparisonOperator, type IMetric, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/**
 * The namespace Powertools Metrics publishes to: functions get POWERTOOLS_METRICS_NAMESPACE set to
 * this (infra/constructs/functions.ts; test/infra checks they agree).
 */
export const metricsNamespace = (tenant: string) => `Backoffice/${tenant}`;

/**
 * Custom (EMF) metrics that alarm when above zero. Powertools adds the dimension
 * `service` = POWERTOOLS_SERVICE_NAME, which infra sets to the manifest function name.
 */
export const JOB_METRIC_ALARMS = [
  { id: 'AuditChainsBroken', fn: 'job-audit-verify', metricName: 'AuditChainsBroken', description: 'audit hash chain broken' },
  {
    id: 'AuditArchiveMissing',
    fn: 'job-audit-verify',
    metricName: 'AuditArchiveMissing',
    description: 'audit item missing from the Object Lock archive (re-archived; find out why the archiver missed it)',
  },
  {
    id: 'LedgerReconciliationFindings',
    fn: 'job-ledger-reconciliation',
    metricName: 'LedgerReconciliationFindings',
    description: 'ledger reconciliation found a balance, journal, posting or hold that does not add up',
  },
  {
    id: 'OutboxEventsRepublished',
    fn: 'job-outbox-sweeper',
    metricName: 'OutboxEventsRepublished',
    description: 'events the stream relay missed were republished by the sweeper (delivery path degraded)',
  },
  {
    id: 'KycReviewsStalled',
    fn: 'job-kyc-watchdog',
    metricName: 'KycReviewsStalled',
    description:
      'a KYC review execution kept failing after every restart; the submission was queued for a manual decision (high priority, issue verification_stalled; audit kyc.review.stalled)',
  },
  {
    id: 'WithdrawalsStalled',
    fn: 'job-withdrawal-watchdog',
    metricName: 'WithdrawalsStalled',
    description:
      "a withdrawal-approval execution kept failing after every restart; the withdrawal's amount stays held until someone acts (audit payment.withdrawal.stalled)",
  },
] as const;

export interface MonitoringProps {
  tenant: string;
  alarmEmail?: string;
  functions: ReadonlyMap<string, IFunction>;
  deadLetterQueues: ReadonlyMap<string, IQueue>;
  api: RestApi;
  table: ITable;
}

export class Monitoring extends Construct {
  readonly topic: Topic;
  readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const key = new Key(this, 'AlarmTopicKey', {
      description: `backoffice-${props.tenant}: alarm topic`,
      enableKeyRotation: true,
    });
    // CloudWatch publishes alarm notifications to the encrypted topic.
    key.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );
    this.topic = new Topic(this, 'AlarmTopic', {
      displayName: `backoffice-${props.tenant} alarms`,
      masterKey: key,
      enforceSSL: true,
    });
    if (props.alarmEmail) this.topic.addSubscription(new EmailSubscription(props.alarmEmail));

    for (const [name, fn] of props.functions) {
      this.alarm(`Fn-${name}-Errors`, fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }), `${name}: errors`);
      this.alarm(
        `Fn-${name}-Throttles`,
        fn.metricThrottles({ period: Duration.minutes(5), statistic: 'Sum' }),
        `${name}: throttled`,
      );
    }
    for (const [name, dlq] of props.deadLetterQueues) {
      this.alarm(
        `Dlq-${name}`,
        dlq.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
        `DLQ ${name} holds failed messages`,
      );
    }
    for (const a of JOB_METRIC_ALARMS) {
      if (!props.functions.has(a.fn)) continue;
      this.alarm(
        `Metric-${a.id}`,
        new Metric({
          namespace: metricsNamespace(props.tenant),
          metricName: a.metricName,
          dimensionsMap: { service: a.fn },
          period: Duration.minutes(5),
          statistic: 'Maximum',
        }),
        `${a.fn}: ${a.description}`,
      );
    }
    this.alarm('Api-5XX', props.api.metricServerError({ period: Duration.minutes(5), statistic: 'Sum' }), 'API 5XX responses');
    for (const metricName of ['ReadThrottleEvents', 'WriteThrottleEvents']) {
      this.alarm(
        `Table-${metricName}`,
        new Metric({
          namespace: 'AWS/DynamoDB',
          metricName,
          dimensionsMap: { TableName: props.table.tableName },
          period: Duration.minutes(5),
          statistic: 'Sum',
        }),
        `table ${metricName}`,
      );
    }
  }

  /** Alarm when the metric is above zero in one period; missing data (no traffic) is fine. */
  private alarm(id: string, metric: IMetric, description: string): Alarm {
    const alarm = new Alarm(this, id, {
      metric,
      alarmDescription: `backoffice: ${description}`,
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new SnsAction(this.topic));
    this.alarms.push(alarm);
    return alarm;
  }
}
