/**
 * A tenant (broker) deploys as one stack, Backoffice-<tenant>, in three layers
 * (docs/decisions/0009-deployment-layout.md):
 *
 * - the root stack holds what is stateful or shared: the data and logs keys, the table, the buckets, the
 *   user pools, the event bus and every queue, the PSP secrets, the SES identity and the alarm topic;
 * - one nested stack per bounded context (manifest CONTEXTS) holds that context's functions, state machines,
 *   consumers, rules, schedules and alarms;
 * - the Api nested stack holds the REST API, built from one OpenAPI document, its stage and the WAF.
 *
 * References only flow root -> nested and context -> Api (function ARNs); CloudFormation passes them as
 * nested-stack parameters and outputs, never as exports, so no later change is blocked by an export in use.
 * Everything that varies per tenant comes from its validated config file; everything that lists functions,
 * routes, queues, rules, schedules and state machines comes from functions/manifest.ts, which the local
 * runtime reads too.
 */
import { CfnOutput, Stack, type StackProps, Tags } from 'aws-cdk-lib';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';
import { corsOrigins, type TenantConfig } from '#domain/tenant/config.ts';
import * as manifest from '#functions/manifest.ts';
import { Data } from './constructs/data.ts';
import { EmailIdentity } from './constructs/email.ts';
import { backofficeFunction } from './constructs/functions.ts';
import { Identity } from './constructs/identity.ts';
import { Messaging } from './constructs/messaging.ts';
import { AlarmTopic } from './constructs/monitoring.ts';
import { PlatformSecrets } from './constructs/platform-secrets.ts';
import { PspSecrets } from './constructs/psp-secrets.ts';
import { Storage } from './constructs/storage.ts';
import { ApiStack, STAGE_NAME } from './stacks/api-stack.ts';
import { ContextStack, type SharedResources } from './stacks/context-stack.ts';

export interface BackofficeStackProps extends StackProps {
  tenantConfig: TenantConfig;
  /** Build for LocalStack (free edition): Lambda JWT authorizer instead of Cognito's, no WAF, sandbox KYC analyzer. */
  localstack?: boolean;
}

export const stackName = (tenant: string) => `Backoffice-${tenant}`;
const LOCALSTACK_ISSUER = 'http://localhost:4566';
/** HTTPS: aws-jwt-verify fetches keys over https only; LocalStack serves TLS for *.localhost.localstack.cloud. */
const LOCALSTACK_JWKS_HOST = 'https://localhost.localstack.cloud:4566';
/** Nested stack construct ids: `Ctx-<context>` and `Api`. */
export const contextStackId = (context: manifest.Context) => `Ctx-${context}`;

/**
 * Browser origins the API answers with CORS headers (domain/tenant/config.ts corsOrigins). A deployed API
 * never answers `*`: a tenant file that names no origin (no brand.domain, no api.corsOrigins) stops the synth.
 */
export function corsOriginsOf(cfg: TenantConfig): string[] {
  const origins = corsOrigins(cfg);
  if (origins.length === 0) {
    throw new Error(
      `Tenant ${cfg.tenant}: no browser origins. Set brand.domain (https://app.<domain> and https://<domain>) or api.corsOrigins; a deployed API never answers CORS for any origin.`,
    );
  }
  return origins;
}

export class BackofficeStack extends Stack {
  readonly data: Data;
  readonly storage: Storage;
  readonly identity: Identity;
  readonly messaging: Messaging;
  readonly pspSecrets: PspSecrets;
  readonly platformSecrets: PlatformSecrets;
  readonly alarms: AlarmTopic;
  readonly email?: EmailIdentity;
  readonly contexts = new Map<manifest.Context, ContextStack>();
  readonly apiStack: ApiStack;

  constructor(scope: Construct, id: string, props: BackofficeStackProps) {
    super(scope, id, {
      description: `Back office for ${props.tenantConfig.brand.name} (tenant ${props.tenantConfig.tenant})`,
      terminationProtection: props.tenantConfig.production,
      ...props,
    });
    const cfg = props.tenantConfig;
    Tags.of(this).add('backoffice:tenant', cfg.tenant);
    const corsOrigins = corsOriginsOf(cfg);

    this.alarms = new AlarmTopic(this, 'Alarms', { tenantConfig: cfg });
    this.data = new Data(this, 'Data', { tenantConfig: cfg });
    this.storage = new Storage(this, 'Storage', { tenantConfig: cfg, key: this.data.key, corsOrigins });
    this.identity = new Identity(this, 'Identity', { tenantConfig: cfg });
    this.messaging = new Messaging(this, 'Messaging', {
      tenantConfig: cfg,
      queues: manifest.queues,
      rules: manifest.rules,
      functions: manifest.functions,
      alarmTopic: this.alarms.topic,
    });
    this.pspSecrets = new PspSecrets(this, 'PspSecrets', { tenantConfig: cfg, key: this.data.key });
    this.platformSecrets = new PlatformSecrets(this, 'PlatformSecrets', { tenantConfig: cfg, key: this.data.key });
    if (cfg.email.transport === 'ses') this.email = new EmailIdentity(this, 'Email', { tenantConfig: cfg });
    this.data.addTableAlarms(this.alarms.topic);

    const shared: SharedResources = {
      tenantConfig: cfg,
      localstack: props.localstack ?? false,
      table: this.data.table,
      dataKey: this.data.key,
      logsKey: this.data.logsKey,
      documentsBucket: this.storage.documentsBucket,
      auditBucket: this.storage.auditBucket,
      settlementsBucket: this.storage.settlementsBucket,
      pspSecrets: this.pspSecrets.byProvider,
      platformSecrets: this.platformSecrets.byPlatform,
      clientPool: this.identity.clientPool,
      clientPoolClientId: this.identity.clientPoolClient.userPoolClientId,
      staffPool: this.identity.staffPool,
      staffPoolClientId: this.identity.staffPoolClient.userPoolClientId,
      messaging: this.messaging,
      alarmTopic: this.alarms.topic,
      corsOrigins,
    };
    for (const context of manifest.CONTEXTS) {
      this.contexts.set(context, new ContextStack(this, contextStackId(context), { context, shared, manifest }));
    }
    const machines = new Map([...this.contexts.values()].flatMap((c) => [...c.workflows.byName]));
    for (const c of this.contexts.values()) c.grantStateMachines(machines);

    this.apiStack = new ApiStack(this, 'Api', {
      tenantConfig: cfg,
      routes: manifest.allRoutes(),
      fn: (name) => this.fn(name),
      userPoolArns: [this.identity.clientPool.userPoolArn, this.identity.staffPool.userPoolArn],
      logsKey: this.data.logsKey,
      corsOrigins,
      alarmTopic: this.alarms.topic,
      localstackAuthorizer: props.localstack ? this.localstackAuthorizer(cfg) : undefined,
    });

    // The sandbox PSP calls the API's own webhook route, like a provider would: its URL is built from the
    // API's id, region and stage (the sandbox context depends on the Api stack; nothing depends on it).
    const api = this.apiStack.api;
    const webhookHost = props.localstack
      ? `http://${api.restApiId}.execute-api.localhost.localstack.cloud:4566`
      : `https://${api.restApiId}.execute-api.${this.region}.${this.urlSuffix}`;
    this.fn('psp-sandbox').addEnvironment('PSP_WEBHOOK_URL_SANDBOX', `${webhookHost}/${STAGE_NAME}/v1/webhooks/psp/sandbox`);

    const outputs: Record<string, string> = {
      ApiUrl: api.urlForPath('/'),
      UserPoolId: this.identity.clientPool.userPoolId,
      UserPoolClientId: this.identity.clientPoolClient.userPoolClientId,
      StaffUserPoolId: this.identity.staffPool.userPoolId,
      StaffUserPoolClientId: this.identity.staffPoolClient.userPoolClientId,
      DocumentsBucketName: this.storage.documentsBucket.bucketName,
      AuditBucketName: this.storage.auditBucket.bucketName,
      SettlementsBucketName: this.storage.settlementsBucket.bucketName,
      TableName: this.data.table.tableName,
      EventBusName: this.messaging.bus.eventBusName,
      AlarmTopicArn: this.alarms.topic.topicArn,
      ...Object.fromEntries([...this.pspSecrets.byProvider].map(([p, secret]) => [`PspSecret${pascal(p)}`, secret.secretArn])),
      ...Object.fromEntries(
        [...this.platformSecrets.byPlatform].map(([p, secret]) => [`PlatformSecret${pascal(p)}`, secret.secretArn]),
      ),
    };
    for (const [name, value] of Object.entries(outputs)) new CfnOutput(this, name, { value });
  }

  /** A manifest function, from whichever context stack holds it. */
  fn(name: string): NodejsFunction {
    const context = manifest.functionByName(name).context;
    return this.contexts.get(context)!.get(name);
  }

  /** LocalStack only: the JWT authorizer Lambda (infra/localstack/jwt-authorizer.ts), in the root stack. */
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
        // LocalStack's Cognito (Pro) issues tokens with `iss` = http://localhost:4566/<pool id> and serves each
        // pool's keys at <issuer>/.well-known/jwks.json; from inside a Lambda container LocalStack answers at
        // localhost.localstack.cloud. (Its docs note the issuer can differ by configuration: override these then.)
        JWT_ISSUER_CLIENTS: `${LOCALSTACK_ISSUER}/${this.identity.clientPool.userPoolId}`,
        JWKS_URI_CLIENTS: `${LOCALSTACK_JWKS_HOST}/${this.identity.clientPool.userPoolId}/.well-known/jwks.json`,
        JWT_ISSUER_STAFF: `${LOCALSTACK_ISSUER}/${this.identity.staffPool.userPoolId}`,
        JWKS_URI_STAFF: `${LOCALSTACK_JWKS_HOST}/${this.identity.staffPool.userPoolId}/.well-known/jwks.json`,
        POWERTOOLS_SERVICE_NAME: 'jwt-authorizer',
      },
    });
    return fn;
  }
}

const pascal = (s: string) =>
  s
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('');
