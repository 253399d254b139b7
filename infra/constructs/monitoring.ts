/**
 * Alarms to one KMS-encrypted SNS topic: each function's Errors and Throttles, every DLQ holding a
 * message, API 5XX responses and DynamoDB throttling. Optional email subscription (tenant alarmEmail).
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
