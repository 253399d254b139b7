/**
 * Alarms, to one KMS-encrypted SNS topic per tenant (in the root stack: its e-mail subscription is
 * confirmed once by a person, so it must outlive any redeploy of the stacks that alarm to it).
 *
 * Each alarm lives in the stack that owns what it watches: a context stack alarms on its functions'
 * Errors and Throttles, its state machines' failed and timed-out executions, its stream consumers'
 * iterator age and its jobs' business metrics (JOB_METRIC_ALARMS); the root stack on every DLQ holding a
 * message, the age of the oldest message of each work queue and DynamoDB throttling; the API stack on 5XX.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, type IMetric, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { type ITopic, Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { TenantConfig } from '#domain/tenant/config.ts';
import { removalPolicy } from './removal.ts';

/**
 * The namespace Powertools Metrics publishes to: functions get POWERTOOLS_METRICS_NAMESPACE set to
 * this (infra/constructs/functions.ts; test/infra checks they agree).
 */
export const metricsNamespace = (tenant: string) => `Backoffice/${tenant}`;

/** A work queue whose oldest message is older than this is not being drained (its consumer is failing or throttled). */
export const QUEUE_AGE_ALARM_SECONDS = 15 * 60;
/** A stream consumer this far behind the table delays every event and audit archive (ms). */
export const STREAM_ITERATOR_AGE_ALARM_MS = 5 * 60 * 1000;

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

/** The tenant's alarm topic, encrypted with its own key, with the tenant's alarm e-mail subscribed. */
export class AlarmTopic extends Construct {
  readonly topic: Topic;

  constructor(scope: Construct, id: string, props: { tenantConfig: TenantConfig }) {
    super(scope, id);
    const cfg = props.tenantConfig;
    const key = new Key(this, 'Key', {
      description: `backoffice-${cfg.tenant}: alarm topic`,
      enableKeyRotation: true,
      pendingWindow: Duration.days(cfg.production ? 30 : 7),
      removalPolicy: removalPolicy(cfg),
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
    this.topic = new Topic(this, 'Topic', {
      displayName: `backoffice-${cfg.tenant} alarms`,
      masterKey: key,
      enforceSSL: true,
    });
    if (cfg.alarmEmail) this.topic.addSubscription(new EmailSubscription(cfg.alarmEmail));
  }
}

/** Alarm when the metric is above the threshold (default 0) in one period; missing data (no traffic) is fine. */
export function alarm(scope: Construct, id: string, metric: IMetric, description: string, topic: ITopic, threshold = 0): Alarm {
  const a = new Alarm(scope, id, {
    metric,
    alarmDescription: `backoffice: ${description}`,
    threshold,
    comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 1,
    treatMissingData: TreatMissingData.NOT_BREACHING,
  });
  a.addAlarmAction(new SnsAction(topic));
  return a;
}

/** A job's business metric (EMF, dimension service = the function's manifest name). */
export function jobMetric(tenant: string, fn: string, metricName: string): Metric {
  return new Metric({
    namespace: metricsNamespace(tenant),
    metricName,
    dimensionsMap: { service: fn },
    period: Duration.minutes(5),
    statistic: 'Maximum',
  });
}
