/**
 * One Lambda per manifest function (functions/manifest.ts), each with its own role, log group
 * and exactly the IAM its `permissions` list asks for - nothing is granted by default.
 *
 * Bundling: local esbuild (never Docker), ESM output with a `require` shim for CommonJS
 * dependencies, minified, source maps on, the tenant config inlined at build time through
 * `define` (functions/shared/tenant.ts reads process.env.TENANT_CONFIG), and every dependency
 * bundled except @aws-sdk/* (provided by the nodejs22.x runtime).
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CfnElement, Duration, Stack, Tags } from 'aws-cdk-lib';
import type { UserPool } from 'aws-cdk-lib/aws-cognito';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { Effect, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Architecture, type IDestination, LoggingFormat, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { NodejsFunction, OutputFormat, SourceMapMode } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { TenantConfig } from '#domain/tenant/config.ts';
import { asyncInvokedFunctions, type FunctionSpec, type Permission, schedules } from '#functions/manifest.ts';
import { toEnvSuffix } from '#shared/env.ts';
import { GSIS } from '#store/table.ts';
import { esbuildOptions } from '../bundling.ts';
import { acknowledge, nagArnRef } from '../nag.ts';
import { removalPolicy } from './removal.ts';

/** Repository root (holds package.json, package-lock.json and the manifest's entry paths). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export const FUNCTION_TAG = 'backoffice:function';
export const DEFAULT_MEMORY_MB = 512;
export const DEFAULT_TIMEOUT_SECONDS = 15;
/** Async-invoke retries of the functions that manifest schedules run (see Functions). */
export const SCHEDULED_JOB_ASYNC_RETRY_ATTEMPTS = 0;

/**
 * Cognito calls granted by `userpool:admin:clients` / `userpool:admin:staff`: exactly the user-provisioning
 * calls the identity adapter makes, on one pool each. Listed one by one (no `Admin*` wildcard) so a
 * reviewer sees exactly what a compromised function could do.
 */
export const COGNITO_ADMIN_ACTIONS = [
  'cognito-idp:AdminCreateUser',
  'cognito-idp:AdminGetUser',
  'cognito-idp:AdminSetUserPassword',
  'cognito-idp:AdminAddUserToGroup',
  'cognito-idp:AdminDeleteUser',
];

/** The root stack's resources that functions are configured with and granted (manifest permissions). */
export interface GrantableResources {
  tenantConfig: TenantConfig;
  table: Table;
  dataKey: IKey;
  logsKey: IKey;
  documentsBucket: IBucket;
  auditBucket: IBucket;
  /** PSP settlement reports (settlements:read / settlements:write). */
  settlementsBucket: IBucket;
  /** One secret per payment provider of the tenant (psp:secrets), by provider id. */
  pspSecrets: ReadonlyMap<string, ISecret>;
  /** One secret per trading platform of the tenant (platform:secrets), by platform id. */
  platformSecrets: ReadonlyMap<string, ISecret>;
  clientPool: UserPool;
  clientPoolClientId: string;
  staffPool: UserPool;
  staffPoolClientId: string;
  /** Browser origins the API answers with CORS headers (the trader room and back office apps). */
  corsOrigins: string[];
}

export interface FunctionsProps extends GrantableResources {
  specs: readonly FunctionSpec[];
  bus: IEventBus;
  queues: ReadonlyMap<string, IQueue>;
  /** Failed asynchronous invocations (after Lambda's retries) of the async-invoked functions. */
  asyncFailureQueue: IQueue;
  /** LocalStack build: the sandbox KYC analyzer instead of Textract. */
  localstack?: boolean;
}

/** Shared construction of a bundled Node.js Lambda (also used for infra's own LocalStack authorizer). */
export function backofficeFunction(
  scope: Construct,
  id: string,
  opts: {
    entry: string;
    description: string;
    tenantConfig: TenantConfig;
    logsKey: IKey;
    environment: Record<string, string>;
    memoryMb?: number;
    timeoutSeconds?: number;
    /** Why this function's role needs `Resource::*` beyond X-Ray (e.g. DynamoDB ListStreams). */
    wildcardResourceReasons?: string[];
    /** Lambda retries of failed asynchronous invocations (0-2); Lambda's default (2) when omitted. */
    asyncRetryAttempts?: number;
    /** Where a failed asynchronous invocation goes after its retries (every async-invoked function has one). */
    onFailure?: IDestination;
  },
): { fn: NodejsFunction; role: Role; logGroup: LogGroup } {
  const logGroup = new LogGroup(scope, 'Logs', {
    retention: RetentionDays.THREE_MONTHS,
    encryptionKey: opts.logsKey,
    removalPolicy: removalPolicy(opts.tenantConfig),
  });
  // Own role, no AWS managed policy: logs go only to this function's log group.
  const role = new Role(scope, 'Role', {
    assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
    description: `${id}: ${opts.description}`.slice(0, 1000),
  });
  logGroup.grantWrite(role);

  const esb = esbuildOptions(opts.tenantConfig);
  const fn = new NodejsFunction(scope, 'Function', {
    entry: join(REPO_ROOT, opts.entry),
    handler: 'handler',
    description: opts.description.slice(0, 256),
    runtime: Runtime.NODEJS_22_X,
    architecture: Architecture.ARM_64,
    memorySize: opts.memoryMb ?? DEFAULT_MEMORY_MB,
    timeout: Duration.seconds(opts.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS),
    tracing: Tracing.ACTIVE,
    role,
    logGroup,
    loggingFormat: LoggingFormat.JSON,
    projectRoot: REPO_ROOT,
    depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
    environment: { NODE_OPTIONS: '--enable-source-maps', ...opts.environment },
    ...(opts.asyncRetryAttempts === undefined ? {} : { retryAttempts: opts.asyncRetryAttempts }),
    ...(opts.onFailure ? { onFailure: opts.onFailure } : {}),
    // Options shared with `npm run size` (infra/bundling.ts), so the measured bundle is the deployed one.
    bundling: {
      forceDockerBundling: false,
      format: OutputFormat.ESM,
      target: String(esb.target),
      mainFields: esb.mainFields,
      banner: esb.banner?.js,
      minify: esb.minify,
      sourceMap: true,
      sourceMapMode: SourceMapMode.DEFAULT,
      sourcesContent: false,
      externalModules: esb.external,
      tsconfig: join(REPO_ROOT, 'tsconfig.json'),
      define: esb.define,
    },
  });
  const wildcardReasons = [
    'X-Ray PutTraceSegments/PutTelemetryRecords (active tracing)',
    ...(opts.wildcardResourceReasons ?? []),
  ];
  acknowledge(
    role,
    'AwsSolutions-IAM5[Resource::*]',
    `"*" only for actions that have no resource-level permissions: ${wildcardReasons.join('; ')}.`,
  );
  acknowledge(
    fn,
    'AwsSolutions-L1',
    'Pinned to nodejs22.x on purpose: package.json engines, the local runtime and the tests all run Node 22; bump together.',
  );
  return { fn, role, logGroup };
}

export class Functions extends Construct {
  /** By manifest name. */
  readonly byName = new Map<string, NodejsFunction>();
  private readonly roles = new Map<string, Role>();
  private readonly props: FunctionsProps;

  constructor(scope: Construct, id: string, props: FunctionsProps) {
    super(scope, id);
    this.props = props;
    const cfg = props.tenantConfig;

    const environment: Record<string, string> = {
      TENANT: cfg.tenant,
      TABLE_NAME: props.table.tableName,
      EVENT_BUS_NAME: props.bus.eventBusName,
      DOCUMENTS_BUCKET: props.documentsBucket.bucketName,
      AUDIT_BUCKET: props.auditBucket.bucketName,
      USER_POOL_ID: props.clientPool.userPoolId,
      USER_POOL_CLIENT_ID: props.clientPoolClientId,
      STAFF_USER_POOL_ID: props.staffPool.userPoolId,
      STAFF_USER_POOL_CLIENT_ID: props.staffPoolClientId,
      POWERTOOLS_METRICS_NAMESPACE: `Backoffice/${cfg.tenant}`,
      POWERTOOLS_LOG_LEVEL: 'INFO',
      CORS_ORIGINS: props.corsOrigins.join(','),
      // LocalStack has no Textract: the sandbox analyzer reads the JSON documents the README describes.
      KYC_ANALYZER: props.localstack ? 'sandbox' : 'textract',
    };
    // Scheduled jobs are invoked asynchronously by EventBridge: a failed run is recorded as failed and
    // alarmed, never re-run by Lambda under a new run id (delivery retries are the rule target's).
    const scheduled = new Set(schedules.map((s) => s.function));
    const asyncInvoked = asyncInvokedFunctions();
    const onFailure = new SqsDestination(props.asyncFailureQueue);

    for (const spec of props.specs) {
      const scopeFor = new Construct(this, spec.name);
      const { fn, role } = backofficeFunction(scopeFor, spec.name, {
        entry: spec.entry,
        description: spec.description,
        tenantConfig: cfg,
        logsKey: props.logsKey,
        environment: { ...environment, POWERTOOLS_SERVICE_NAME: spec.name },
        memoryMb: spec.memoryMb,
        timeoutSeconds: spec.timeoutSeconds,
        wildcardResourceReasons: wildcardReasonsFor(spec),
        ...(scheduled.has(spec.name) ? { asyncRetryAttempts: SCHEDULED_JOB_ASYNC_RETRY_ATTEMPTS } : {}),
        ...(asyncInvoked.has(spec.name) ? { onFailure } : {}),
      });
      Tags.of(fn).add(FUNCTION_TAG, spec.name);
      this.byName.set(spec.name, fn);
      this.roles.set(spec.name, role);
      for (const permission of spec.permissions) {
        if (!permission.startsWith('states:start:')) this.grant(spec.name, permission, role, fn);
      }
    }
  }

  get(name: string): NodejsFunction {
    const fn = this.byName.get(name);
    if (!fn) throw new Error(`manifest: no function named ${name}`);
    return fn;
  }

  /**
   * `states:start:<machine>`: StartExecution on that machine, DescribeExecution on its executions (a
   * starter can tell a lost start from a failed run: the kyc-watchdog job), plus STATE_MACHINE_ARN_<MACHINE>.
   * Only these functions get the ARN (giving it to a task function of the same machine would be a cycle).
   */
  grantStateMachines(machines: ReadonlyMap<string, IStateMachine>): void {
    for (const spec of this.props.specs) {
      for (const permission of spec.permissions) {
        if (!permission.startsWith('states:start:')) continue;
        const machineName = permission.slice('states:start:'.length);
        const machine = machines.get(machineName);
        if (!machine)
          throw new Error(`manifest: function ${spec.name} asks for ${permission} but no state machine is named ${machineName}`);
        const fn = this.get(spec.name);
        machine.grantStartExecution(fn);
        machine.grantExecution(fn, 'states:DescribeExecution');
        acknowledge(
          this.roles.get(spec.name)!,
          `AwsSolutions-IAM5[Resource::${nagExecutionsRef(machine)}]`,
          `DescribeExecution on the executions of ${machineName} only; execution names are per submission, known at run time.`,
        );
        fn.addEnvironment(`STATE_MACHINE_ARN_${toEnvSuffix(machineName)}`, machine.stateMachineArn);
      }
    }
  }

  /**
   * Read access to each secret, and its ARN as `<envPrefix><ID>`. Granted on the role only (not Secret.grantRead,
   * which also writes the role into the data key's policy: a reference from the root stack to a context stack,
   * i.e. a dependency cycle); decryption through Secrets Manager only.
   */
  private grantSecrets(role: Role, fn: NodejsFunction, secrets: ReadonlyMap<string, ISecret>, envPrefix: string, key: IKey) {
    for (const [id, secret] of secrets) {
      role.addToPolicy(
        new PolicyStatement({
          actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
          resources: [secret.secretArn],
        }),
      );
      fn.addEnvironment(`${envPrefix}${toEnvSuffix(id)}`, secret.secretArn);
    }
    if (secrets.size === 0) return;
    role.addToPolicy(
      new PolicyStatement({
        actions: ['kms:Decrypt'],
        resources: [key.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(this).region}.amazonaws.com` } },
      }),
    );
  }

  private grant(name: string, permission: Permission, role: Role, fn: NodejsFunction): void {
    const p = this.props;
    const tableIndexes = `Resource::${nagArnRef(p.table, this)}/index/*`;
    if (permission.startsWith('queue:send:')) {
      // SendMessage on that one queue, and its URL (QUEUE_URL_<NAME>, env.queueUrl) on this function only.
      const queueName = permission.slice('queue:send:'.length);
      const queue = p.queues.get(queueName);
      if (!queue) throw new Error(`manifest: function ${name} asks for ${permission} but no queue is named ${queueName}`);
      queue.grantSendMessages(role);
      fn.addEnvironment(`QUEUE_URL_${toEnvSuffix(queueName)}`, queue.queueUrl);
      return;
    }
    switch (permission) {
      case 'table:read':
        p.table.grantReadData(role);
        acknowledge(role, `AwsSolutions-IAM5[${tableIndexes}]`, GSI_REASON);
        return;
      case 'table:write':
        p.table.grantReadWriteData(role);
        acknowledge(role, `AwsSolutions-IAM5[${tableIndexes}]`, GSI_REASON);
        for (const action of ['kms:GenerateDataKey*', 'kms:ReEncrypt*']) {
          acknowledge(
            role,
            `AwsSolutions-IAM5[Action::${action}]`,
            "On the tenant's data key only (the customer-managed key that the table, the buckets and the secrets share): writing items under a customer-managed key needs these (Table.grantReadWriteData).",
          );
        }
        return;
      case 'bus:put':
        p.bus.grantPutEventsTo(role);
        return;
      case 'documents:read':
        role.addToPolicy(
          new PolicyStatement({
            actions: ['s3:GetObject', 's3:GetObjectVersion'],
            resources: [p.documentsBucket.arnForObjects('*')],
          }),
        );
        role.addToPolicy(new PolicyStatement({ actions: ['s3:ListBucket'], resources: [p.documentsBucket.bucketArn] }));
        p.dataKey.grant(role, 'kms:Decrypt');
        acknowledge(
          role,
          `AwsSolutions-IAM5[Resource::${nagArnRef(p.documentsBucket, this)}/*]`,
          'Reads any KYC document object; object keys are per client and created at upload time.',
        );
        return;
      case 'documents:write':
        role.addToPolicy(
          new PolicyStatement({
            // PutObject signs the trader room's presigned POST uploads.
            actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
            resources: [p.documentsBucket.arnForObjects('*')],
          }),
        );
        p.dataKey.grant(role, 'kms:GenerateDataKey', 'kms:Decrypt');
        acknowledge(
          role,
          `AwsSolutions-IAM5[Resource::${nagArnRef(p.documentsBucket, this)}/*]`,
          'Writes new KYC document objects under per-client keys created at upload time.',
        );
        return;
      case 'audit-archive:write':
        // Put only: no delete, no retention or legal-hold changes (Object Lock compliance mode).
        role.addToPolicy(new PolicyStatement({ actions: ['s3:PutObject'], resources: [p.auditBucket.arnForObjects('*')] }));
        p.dataKey.grant(role, 'kms:GenerateDataKey', 'kms:Decrypt');
        acknowledge(
          role,
          `AwsSolutions-IAM5[Resource::${nagArnRef(p.auditBucket, this)}/*]`,
          'Appends NDJSON audit objects under date-partitioned keys; put only, Object Lock forbids overwrite or delete.',
        );
        return;
      case 'psp:secrets':
        // Every provider's secret (a function may serve several providers), with PSP_SECRET_ARN_<PROVIDER>
        // (functions/adapters/psp/secrets.ts).
        this.grantSecrets(role, fn, p.pspSecrets, 'PSP_SECRET_ARN_', p.dataKey);
        return;
      case 'platform:secrets':
        // Every offered platform's connection, with PLATFORM_SECRET_ARN_<PLATFORM> (functions/adapters/platforms/index.ts).
        this.grantSecrets(role, fn, p.platformSecrets, 'PLATFORM_SECRET_ARN_', p.dataKey);
        return;
      case 'settlements:read':
        role.addToPolicy(
          new PolicyStatement({
            actions: ['s3:GetObject', 's3:GetObjectVersion'],
            resources: [p.settlementsBucket.arnForObjects('*')],
          }),
        );
        role.addToPolicy(new PolicyStatement({ actions: ['s3:ListBucket'], resources: [p.settlementsBucket.bucketArn] }));
        p.dataKey.grant(role, 'kms:Decrypt');
        acknowledge(
          role,
          `AwsSolutions-IAM5[Resource::${nagArnRef(p.settlementsBucket, this)}/*]`,
          'Reads the settlement report objects of any provider and day (psp/<provider>/<date>/...), listed at run time.',
        );
        fn.addEnvironment('SETTLEMENTS_BUCKET', p.settlementsBucket.bucketName);
        return;
      case 'settlements:write':
        // Put only: a settlement line is never deleted (the bucket is versioned).
        role.addToPolicy(new PolicyStatement({ actions: ['s3:PutObject'], resources: [p.settlementsBucket.arnForObjects('*')] }));
        p.dataKey.grant(role, 'kms:GenerateDataKey', 'kms:Decrypt');
        acknowledge(
          role,
          `AwsSolutions-IAM5[Resource::${nagArnRef(p.settlementsBucket, this)}/*]`,
          'Writes one settlement object per settled item under date-partitioned keys named at run time.',
        );
        fn.addEnvironment('SETTLEMENTS_BUCKET', p.settlementsBucket.bucketName);
        return;
      case 'userpool:admin:clients':
        role.addToPolicy(new PolicyStatement({ actions: COGNITO_ADMIN_ACTIONS, resources: [p.clientPool.userPoolArn] }));
        return;
      case 'userpool:admin:staff':
        role.addToPolicy(new PolicyStatement({ actions: COGNITO_ADMIN_ACTIONS, resources: [p.staffPool.userPoolArn] }));
        return;
      case 'audit-archive:read':
        // GetObject also authorises HeadObject; ListBucket makes a missing key answer 404, not 403,
        // so the audit-verify job can tell a hole in the archive from a permission problem.
        role.addToPolicy(
          new PolicyStatement({
            actions: ['s3:GetObject', 's3:GetObjectVersion'],
            resources: [p.auditBucket.arnForObjects('*')],
          }),
        );
        role.addToPolicy(new PolicyStatement({ actions: ['s3:ListBucket'], resources: [p.auditBucket.bucketArn] }));
        p.dataKey.grant(role, 'kms:Decrypt');
        acknowledge(
          role,
          `AwsSolutions-IAM5[Resource::${nagArnRef(p.auditBucket, this)}/*]`,
          'Reads (HEAD/GET) audit archive objects to verify that every chain tip is archived; keys are date-partitioned.',
        );
        return;
      case 'email:send':
        // A tenant whose mail goes to the table (email.transport 'table') sends nothing through SES.
        if (p.tenantConfig.email.transport === 'ses') role.addToPolicy(sesSendPolicy(this, p.tenantConfig));
        return;
      case 'userpool:auth':
        // InitiateAuth / RespondToAuthChallenge / SignUp on a public app client are unauthenticated
        // Cognito APIs: no IAM permission exists or is needed.
        return;
      case 'states:callback':
        role.addToPolicy(
          new PolicyStatement({
            effect: Effect.ALLOW,
            // Task-token APIs have no resource-level permissions.
            actions: ['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat'],
            resources: ['*'],
          }),
        );
        return;
      case 'textract:analyze':
        // Textract analysis APIs have no resource-level permissions.
        role.addToPolicy(new PolicyStatement({ actions: ['textract:AnalyzeID', 'textract:AnalyzeDocument'], resources: ['*'] }));
        return;
      default:
        throw new Error(`manifest: function ${name} has unknown permission "${permission}"`);
    }
  }
}

/**
 * `email:send`: SendEmail on the tenant's SES domain identity (brand.domain, created by the root stack)
 * only, and only with brand.supportEmail as the From address (SES sandbox accounts also need the recipients
 * verified; production access lifts that).
 */
export function sesSendPolicy(scope: Construct, cfg: TenantConfig): PolicyStatement {
  if (!cfg.brand.domain) throw new Error(`tenant ${cfg.tenant}: email transport 'ses' needs brand.domain`);
  return new PolicyStatement({
    actions: ['ses:SendEmail'],
    resources: [Stack.of(scope).formatArn({ service: 'ses', resource: 'identity', resourceName: cfg.brand.domain })],
    conditions: { StringEquals: { 'ses:FromAddress': cfg.brand.supportEmail } },
  });
}

/** How cdk-nag prints `<machine's execution ARN prefix>:*` (the resource of grantExecution) in IAM5 finding ids. */
function nagExecutionsRef(machine: IStateMachine): string {
  const stack = Stack.of(machine);
  const logicalId = stack.resolve(stack.getLogicalId(machine.node.defaultChild as CfnElement));
  const name = JSON.stringify({ 'Fn::Select': [6, { 'Fn::Split': [':', { Ref: logicalId }] }] });
  return `arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${name}:*`;
}

/** Every GSI of the single table, named from its one declaration (functions/store/table.ts). */
const GSI_REASON = `Queries may use any GSI of the single table (${GSIS.map((g) => g.name).join(', ')}); each query names its index.`;

function wildcardReasonsFor(spec: FunctionSpec): string[] {
  const reasons: string[] = [];
  if (spec.stream) reasons.push('DynamoDB ListStreams (table stream consumer)');
  if (spec.permissions.includes('states:callback'))
    reasons.push('Step Functions SendTaskSuccess/Failure/Heartbeat (task tokens)');
  if (spec.permissions.includes('textract:analyze')) reasons.push('Textract AnalyzeID/AnalyzeDocument');
  return reasons;
}
