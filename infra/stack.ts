/**
 * One stack per tenant (brand): Backoffice-<tenant>. Everything that varies per tenant comes from its
 * validated config file; everything that lists functions, routes, queues, rules, schedules and state
 * machines comes from functions/manifest.ts, which the local runtime reads too.
 */
import { CfnOutput, NestedStack, Stack, type StackProps, Tags } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { TenantConfig } from '#domain/tenant/config.ts';
import * as manifest from '#functions/manifest.ts';
import { Api, STAGE_NAME } from './constructs/api.ts';
import { Data } from './constructs/data.ts';
import { backofficeFunction, Functions } from './constructs/functions.ts';
import { Identity } from './constructs/identity.ts';
import { Messaging } from './constructs/messaging.ts';
import { Monitoring } from './constructs/monitoring.ts';
import { PspSecrets } from './constructs/psp-secrets.ts';
import { Storage } from './constructs/storage.ts';
import { Workflows } from './constructs/workflows.ts';

export interface BackofficeStackProps extends StackProps {
  tenantConfig: TenantConfig;
  /** Build for LocalStack (free edition): Lambda JWT authorizer instead of Cognito's, no WAF. */
  localstack?: boolean;
}

export const stackName = (tenant: string) => `Backoffice-${tenant}`;

export class BackofficeStack extends Stack {
  readonly data: Data;
  readonly storage: Storage;
  readonly identity: Identity;
  readonly messaging: Messaging;
  readonly pspSecrets: PspSecrets;
  readonly functions: Functions;
  readonly workflows: Workflows;
  readonly api: Api;
  readonly monitoring: Monitoring;
  /**
   * The alarms live in a nested stack: with every function, route and alarm of the product the tenant
   * stack passed CloudFormation's 500-resource limit (about two alarms per function).
   */
  readonly monitoringStack: NestedStack;

  constructor(scope: Construct, id: string, props: BackofficeStackProps) {
    super(scope, id, {
      description: `Back office for ${props.tenantConfig.brand.name} (tenant ${props.tenantConfig.tenant})`,
      ...props,
    });
    const cfg = props.tenantConfig;
    Tags.of(this).add('backoffice:tenant', cfg.tenant);
    const corsOrigins = cfg.brand.domain ? [`https://${cfg.brand.domain}`, `https://app.${cfg.brand.domain}`] : ['*'];

    this.data = new Data(this, 'Data', { tenant: cfg.tenant });
    this.storage = new Storage(this, 'Storage', {
      key: this.data.key,
      auditRetentionYears: cfg.audit.retentionYears,
      corsOrigins,
    });
    this.identity = new Identity(this, 'Identity', { tenant: cfg.tenant, brandName: cfg.brand.name });
    this.messaging = new Messaging(this, 'Messaging', { tenant: cfg.tenant, queues: manifest.queues });
    this.pspSecrets = new PspSecrets(this, 'PspSecrets', { tenantConfig: cfg, key: this.data.key });

    this.functions = new Functions(this, 'Functions', {
      specs: manifest.functions,
      tenantConfig: cfg,
      table: this.data.table,
      dataKey: this.data.key,
      logsKey: this.data.logsKey,
      bus: this.messaging.bus,
      documentsBucket: this.storage.documentsBucket,
      auditBucket: this.storage.auditBucket,
      settlementsBucket: this.storage.settlementsBucket,
      pspSecrets: this.pspSecrets.byProvider,
      clientPool: this.identity.clientPool,
      clientPoolClientId: this.identity.clientPoolClient.userPoolClientId,
      staffPool: this.identity.staffPool,
      staffPoolClientId: this.identity.staffPoolClient.userPoolClientId,
      queues: this.messaging.queues,
      corsOrigins,
    });
    const fn = (name: string) => this.functions.get(name);

    this.workflows = new Workflows(this, 'Workflows', {
      tenant: cfg.tenant,
      specs: manifest.stateMachines,
      logsKey: this.data.logsKey,
      fn,
    });
    this.functions.grantStateMachines(this.workflows.byName);

    this.messaging.connectConsumers(manifest.queues, fn);
    this.messaging.addRules(manifest.rules, fn);
    this.messaging.addSchedules(manifest.schedules, fn);
    this.messaging.connectStreams(this.data.table, manifest.functions, fn);

    this.api = new Api(this, 'Api', {
      tenantConfig: cfg,
      routes: manifest.allRoutes(),
      fn,
      pools: [this.identity.clientPool, this.identity.staffPool],
      logsKey: this.data.logsKey,
      corsOrigins,
      localstack: props.localstack ? { authorizer: this.localstackAuthorizer(cfg) } : undefined,
    });

    // The sandbox PSP calls the API's own webhook route. Built from the API id, region and stage (not
    // `api.url`, whose deployment depends on every integrated function: a cycle for a function that
    // ever gets a route).
    const webhookHost = props.localstack
      ? `http://${this.api.api.restApiId}.execute-api.localhost.localstack.cloud:4566`
      : `https://${this.api.api.restApiId}.execute-api.${this.region}.${this.urlSuffix}`;
    fn('psp-sandbox').addEnvironment('PSP_WEBHOOK_URL_SANDBOX', `${webhookHost}/${STAGE_NAME}/v1/webhooks/psp/sandbox`);

    this.monitoringStack = new NestedStack(this, 'MonitoringStack', { description: `backoffice-${cfg.tenant}: alarms` });
    this.monitoring = new Monitoring(this.monitoringStack, 'Monitoring', {
      tenant: cfg.tenant,
      alarmEmail: cfg.alarmEmail,
      functions: this.functions.byName,
      deadLetterQueues: this.messaging.deadLetterQueues,
      api: this.api.api,
      table: this.data.table,
    });

    const outputs: Record<string, string> = {
      ApiUrl: this.api.api.url,
      UserPoolId: this.identity.clientPool.userPoolId,
      UserPoolClientId: this.identity.clientPoolClient.userPoolClientId,
      StaffUserPoolId: this.identity.staffPool.userPoolId,
      StaffUserPoolClientId: this.identity.staffPoolClient.userPoolClientId,
      DocumentsBucketName: this.storage.documentsBucket.bucketName,
      AuditBucketName: this.storage.auditBucket.bucketName,
      SettlementsBucketName: this.storage.settlementsBucket.bucketName,
      TableName: this.data.table.tableName,
      EventBusName: this.messaging.bus.eventBusName,
      AlarmTopicArn: this.monitoring.topic.topicArn,
    };
    for (const [name, value] of Object.entries(outputs)) new CfnOutput(this, name, { value });
  }

  /** LocalStack only: the JWT authorizer Lambda (infra/localstack/jwt-authorizer.ts). */
  private localstackAuthorizer(cfg: TenantConfig) {
    const { fn } = backofficeFunction(new Construct(this, 'LocalStackJwtAuthorizer'), 'jwt-authorizer', {
      entry: 'infra/localstack/jwt-authorizer.ts',
      description: 'LocalStack only: verifies Cognito JWTs (both pools) for API Gateway',
      tenantConfig: cfg,
      logsKey: this.data.logsKey,
      environment: {
        USER_POOL_ID: this.identity.clientPool.userPoolId,
        USER_POOL_CLIENT_ID: this.identity.clientPoolClient.userPoolClientId,
        STAFF_USER_POOL_ID: this.identity.staffPool.userPoolId,
        STAFF_USER_POOL_CLIENT_ID: this.identity.staffPoolClient.userPoolClientId,
        POWERTOOLS_SERVICE_NAME: 'jwt-authorizer',
      },
    });
    return fn;
  }
}
