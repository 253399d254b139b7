/**
 * The single table and the customer-managed key that protects data at rest (table, buckets).
 * Shape (keys, GSIs, TTL, stream view) comes from functions/store/table.ts, which the local
 * runtime also uses, so local and deployed tables cannot differ.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import { Metric } from 'aws-cdk-lib/aws-cloudwatch';
import { AttributeType, BillingMode, ProjectionType, StreamViewType, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { TenantConfig } from '#domain/tenant/config.ts';
import { GSIS, STREAM_VIEW, TABLE_KEYS, TTL_ATTRIBUTE } from '#store/table.ts';
import { alarm } from './monitoring.ts';
import { removalPolicy } from './removal.ts';

export interface DataProps {
  tenantConfig: TenantConfig;
}

export class Data extends Construct {
  /** Encrypts the table, the documents and audit buckets (PII at rest). */
  readonly key: Key;
  /** Encrypts CloudWatch log groups (function, API access and state machine logs). */
  readonly logsKey: Key;
  readonly table: Table;

  constructor(scope: Construct, id: string, props: DataProps) {
    super(scope, id);
    const cfg = props.tenantConfig;
    const tenant = cfg.tenant;
    // A production key waits the longest window before deletion; a test tenant's the shortest.
    const pendingWindow = Duration.days(cfg.production ? 30 : 7);

    this.key = new Key(this, 'DataKey', {
      description: `backoffice-${tenant}: table, documents and audit data at rest`,
      enableKeyRotation: true,
      pendingWindow,
      removalPolicy: removalPolicy(cfg),
    });

    this.logsKey = new Key(this, 'LogsKey', {
      description: `backoffice-${tenant}: CloudWatch Logs`,
      enableKeyRotation: true,
      pendingWindow,
      removalPolicy: removalPolicy(cfg),
    });
    const stack = Stack.of(this);
    this.logsKey.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:*`,
          },
        },
      }),
    );

    this.table = new Table(this, 'Table', {
      partitionKey: { name: TABLE_KEYS.partitionKey, type: AttributeType.STRING },
      sortKey: { name: TABLE_KEYS.sortKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.key,
      stream: StreamViewType[STREAM_VIEW],
      timeToLiveAttribute: TTL_ATTRIBUTE,
      // Production: nobody deletes the table by accident (console, API or stack). A failed FIRST deploy of a
      // production tenant therefore leaves its table behind (README runbook); test tenants are deleted.
      deletionProtection: cfg.production,
      removalPolicy: removalPolicy(cfg),
    });
    for (const gsi of GSIS) {
      this.table.addGlobalSecondaryIndex({
        indexName: gsi.name,
        partitionKey: { name: gsi.partitionKey, type: AttributeType.STRING },
        sortKey: { name: gsi.sortKey, type: AttributeType.STRING },
        projectionType: ProjectionType.ALL,
      });
    }
  }

  /** Throttled reads or writes on the table (on-demand capacity still throttles a hot partition). */
  addTableAlarms(topic: ITopic): void {
    for (const metricName of ['ReadThrottleEvents', 'WriteThrottleEvents']) {
      const metric = new Metric({
        namespace: 'AWS/DynamoDB',
        metricName,
        dimensionsMap: { TableName: this.table.tableName },
        period: Duration.minutes(5),
        statistic: 'Sum',
      });
      alarm(this, `Table-${metricName}`, metric, `table ${metricName}`, topic);
    }
  }
}
