/**
 * Security and data properties of the tenants' stacks: the stateful root (table, keys, buckets, pools,
 * queues, secrets, SES), least privilege per function, the edge (API, WAF) and monitoring. The demo tenant
 * is non-production, acme is production: where the two differ (retention, deletion), both are checked.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { auditRetention } from '#domain/tenant/config.ts';
import * as manifest from '#functions/manifest.ts';
import { CLIENT_GROUPS, STAFF_GROUPS, USER_WRITABLE_ATTRIBUTES } from '#infra/constructs/identity.ts';
import { QUEUE_AGE_ALARM_SECONDS } from '#infra/constructs/monitoring.ts';
import { DOCUMENT_NONCURRENT_DAYS, retentionDays } from '#infra/constructs/storage.ts';
import { RATE_LIMIT_RULE, WEBHOOK_PATH_PREFIXES, WEBHOOK_RATE_LIMIT_RULE } from '#infra/stacks/api-stack.ts';
import { loadTenantConfig } from '#infra/tenant.ts';
import { GSIS, TTL_ATTRIBUTE } from '#store/table.ts';
import {
  all,
  at,
  contextDoc,
  envOf,
  fnResource,
  resources,
  roleActions,
  roleStatements,
  type Synth,
  statementTargets,
  synth,
  target,
} from './support.ts';

const demoCfg = loadTenantConfig('demo');
const acmeCfg = loadTenantConfig('acme');

let demo: Synth;
let acme: Synth;
beforeAll(() => {
  demo = synth({ tenant: 'demo' });
  acme = synth({ tenant: 'acme' });
});

const one = (s: Synth, type: string) => {
  const found = all(s, type);
  expect(found, type).toHaveLength(1);
  return found[0]!;
};

describe('table', () => {
  it('is on-demand, PITR, streamed, KMS (CMK) and has a TTL', () => {
    for (const s of [demo, acme]) {
      expect(one(s, 'AWS::DynamoDB::Table').r.Properties).toMatchObject({
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: expect.anything() },
        TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
      });
    }
  });

  it('production: deletion-protected and kept on stack deletion, deleted on a rolled-back create', () => {
    const t = one(acme, 'AWS::DynamoDB::Table');
    expect(t.r.DeletionPolicy).toBe('RetainExceptOnCreate');
    expect(t.r.Properties!.DeletionProtectionEnabled).toBe(true);
  });

  it('non-production: deleted with the stack', () => {
    const t = one(demo, 'AWS::DynamoDB::Table');
    expect(t.r.DeletionPolicy).toBe('Delete');
    expect(t.r.Properties!.DeletionProtectionEnabled).toBe(false);
  });

  it('has every GSI of the table declaration', () => {
    demo.root.hasResourceProperties('AWS::DynamoDB::Table', {
      GlobalSecondaryIndexes: GSIS.map((g) =>
        Match.objectLike({
          IndexName: g.name,
          KeySchema: [
            { AttributeName: g.partitionKey, KeyType: 'HASH' },
            { AttributeName: g.sortKey, KeyType: 'RANGE' },
          ],
        }),
      ),
    });
  });

  it('customer-managed keys rotate; production keys wait 30 days before deletion', () => {
    for (const s of [demo, acme]) {
      for (const key of all(s, 'AWS::KMS::Key')) {
        expect(key.r.Properties!.EnableKeyRotation).toBe(true);
        expect(key.r.Properties!.PendingWindowInDays).toBe(s === acme ? 30 : 7);
      }
    }
  });
});

describe('buckets', () => {
  const auditBucket = (s: Synth) => all(s, 'AWS::S3::Bucket').find((b) => b.id.startsWith('StorageAuditBucket'))!;

  it.each([
    ['demo', () => demo, demoCfg],
    ['acme', () => acme, acmeCfg],
  ] as const)('%s audit bucket: Object Lock exactly as the tenant file states it, versioned, KMS', (_t, s, cfg) => {
    const r = auditRetention(cfg);
    const props = auditBucket(s()).r.Properties!;
    expect(props.ObjectLockEnabled).toBe(true);
    expect(props.ObjectLockConfiguration).toEqual({
      ObjectLockEnabled: 'Enabled',
      Rule: { DefaultRetention: r.years !== undefined ? { Mode: r.mode, Years: r.years } : { Mode: r.mode, Days: r.days } },
    });
    expect(props.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(JSON.stringify(props.BucketEncryption)).toContain('aws:kms');
    expect(props.LoggingConfiguration).toMatchObject({ LogFilePrefix: 'audit/' });
    // Superseded versions go once their lock has ended.
    expect((props.LifecycleConfiguration as { Rules: Record<string, unknown>[] }).Rules[0]).toMatchObject({
      NoncurrentVersionExpiration: { NoncurrentDays: retentionDays(r) + 1 },
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
    });
  });

  it('production locks in COMPLIANCE mode for years; the demo in GOVERNANCE mode for a day', () => {
    expect(auditRetention(acmeCfg)).toEqual({ mode: 'COMPLIANCE', years: 7 });
    expect(auditRetention(demoCfg)).toEqual({ mode: 'GOVERNANCE', days: 1 });
  });

  it('every bucket blocks public access and refuses plain HTTP; production keeps them, the demo deletes them', () => {
    for (const s of [demo, acme]) {
      const buckets = all(s, 'AWS::S3::Bucket');
      expect(buckets).toHaveLength(4);
      for (const b of buckets) {
        expect(b.r.DeletionPolicy).toBe(s === acme ? 'RetainExceptOnCreate' : 'Delete');
        expect(b.r.Properties!.PublicAccessBlockConfiguration).toEqual({
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        });
      }
      const policies = all(s, 'AWS::S3::BucketPolicy');
      expect(policies).toHaveLength(4);
      for (const p of policies) expect(JSON.stringify(p.r.Properties!.PolicyDocument)).toContain('"aws:SecureTransport":"false"');
    }
  });

  it('documents bucket: presigned POST uploads (CORS), overwritten versions kept a year', () => {
    const docs = all(demo, 'AWS::S3::Bucket').find((b) => b.id.startsWith('StorageDocumentsBucket'))!.r.Properties!;
    expect(JSON.stringify(docs.CorsConfiguration)).toContain('"POST"');
    expect((docs.LifecycleConfiguration as { Rules: Record<string, unknown>[] }).Rules[0]).toMatchObject({
      NoncurrentVersionExpiration: { NoncurrentDays: DOCUMENT_NONCURRENT_DAYS },
    });
  });
});

describe('user pools', () => {
  const pool = (s: Synth, suffix: string) =>
    all(s, 'AWS::Cognito::UserPool').find((p) => String(p.r.Properties!.UserPoolName).endsWith(suffix))!;
  const groupsOf = (s: Synth, poolId: string) =>
    all(s, 'AWS::Cognito::UserPoolGroup')
      .filter((g) => (g.r.Properties!.UserPoolId as { Ref: string }).Ref === poolId)
      .map((g) => String(g.r.Properties!.GroupName))
      .sort();

  it('clients pool: MFA optional (TOTP), groups client and partner', () => {
    const p = pool(demo, '-clients');
    expect(p.r.Properties!.MfaConfiguration).toBe('OPTIONAL');
    expect(p.r.Properties!.EnabledMfas).toEqual(['SOFTWARE_TOKEN_MFA']);
    expect(groupsOf(demo, p.id)).toEqual([...CLIENT_GROUPS].sort());
  });

  it('staff pool: MFA required (TOTP only), no self sign-up, staff groups', () => {
    const p = pool(demo, '-staff');
    expect(p.r.Properties!.MfaConfiguration).toBe('ON');
    expect(p.r.Properties!.AdminCreateUserConfig).toMatchObject({ AllowAdminCreateUserOnly: true });
    expect(groupsOf(demo, p.id)).toEqual([...STAFF_GROUPS].sort());
  });

  it('both pools: default password policy, Plus plan with threat protection enforced; production protected', () => {
    for (const s of [demo, acme]) {
      for (const p of all(s, 'AWS::Cognito::UserPool')) {
        expect(p.r.Properties!.Policies).toMatchObject({
          PasswordPolicy: {
            MinimumLength: 8,
            RequireUppercase: true,
            RequireLowercase: true,
            RequireNumbers: true,
            RequireSymbols: true,
          },
        });
        expect(p.r.Properties!.UserPoolTier).toBe('PLUS');
        expect(p.r.Properties!.UserPoolAddOns).toEqual({ AdvancedSecurityMode: 'ENFORCED' });
        expect(p.r.Properties!.DeletionProtection).toBe(s === acme ? 'ACTIVE' : 'INACTIVE');
      }
    }
  });

  it('app clients: users may write only `locale` with their access token (never email or names)', () => {
    for (const c of all(demo, 'AWS::Cognito::UserPoolClient')) {
      expect(c.r.Properties!.WriteAttributes).toEqual([...USER_WRITABLE_ATTRIBUTES]);
    }
    // Cognito refuses a client that cannot write a required attribute: no attribute is required.
    for (const p of all(demo, 'AWS::Cognito::UserPool')) {
      const required = (p.r.Properties!.Schema as { Name: string; Required?: boolean }[]).filter((a) => a.Required);
      expect(required).toEqual([]);
    }
  });

  it('app clients: password auth + refresh, no secret', () => {
    const clients = all(demo, 'AWS::Cognito::UserPoolClient');
    expect(clients).toHaveLength(2);
    for (const c of clients) {
      expect(c.r.Properties!.GenerateSecret).toBe(false);
      expect(c.r.Properties!.ExplicitAuthFlows).toEqual(
        expect.arrayContaining(['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_ADMIN_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH']),
      );
    }
  });
});

describe('API stage and WAF', () => {
  it('stage: access logs, X-Ray, throttling from the tenant file', () => {
    demo.api.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'prod',
      TracingEnabled: true,
      AccessLogSetting: Match.objectLike({ DestinationArn: Match.anyValue() }),
      MethodSettings: Match.arrayWith([
        Match.objectLike({
          ThrottlingRateLimit: demoCfg.api.throttleRps,
          ThrottlingBurstLimit: demoCfg.api.throttleBurst,
          LoggingLevel: 'INFO',
          DataTraceEnabled: false,
        }),
      ]),
    });
  });

  // biome-ignore lint/suspicious/noExplicitAny: CloudFormation properties, asserted field by field
  const rules = (): any[] => one(demo, 'AWS::WAFv2::WebACL').r.Properties!.Rules as any[];
  const webhookPath = {
    OrStatement: {
      Statements: WEBHOOK_PATH_PREFIXES.map((p) => ({
        ByteMatchStatement: {
          FieldToMatch: { UriPath: {} },
          PositionalConstraint: 'STARTS_WITH',
          SearchString: p,
          TextTransformations: [{ Priority: 0, Type: 'NONE' }],
        },
      })),
    },
  };

  it('the per-IP rate rule and the common rule set leave the signed PSP webhooks alone', () => {
    const rate = rules().find((r) => r.Name === RATE_LIMIT_RULE);
    expect(rate.Statement.RateBasedStatement).toMatchObject({
      Limit: demoCfg.api.rateLimitPer5Min,
      AggregateKeyType: 'IP',
      ScopeDownStatement: { NotStatement: { Statement: webhookPath } },
    });
    const common = rules().find((r) => r.Name === 'aws-common-rule-set');
    expect(common.Statement.ManagedRuleGroupStatement).toMatchObject({
      Name: 'AWSManagedRulesCommonRuleSet',
      ScopeDownStatement: { NotStatement: { Statement: webhookPath } },
    });
    expect(WEBHOOK_PATH_PREFIXES).toEqual(['/prod/v1/webhooks/psp/', '/v1/webhooks/psp/']);
  });

  it('webhooks get their own, higher per-IP rate rule; known bad inputs still apply everywhere', () => {
    const webhook = rules().find((r) => r.Name === WEBHOOK_RATE_LIMIT_RULE);
    expect(webhook.Action).toEqual({ Block: {} });
    expect(webhook.Statement.RateBasedStatement).toMatchObject({
      Limit: demoCfg.api.webhookRateLimitPer5Min,
      ScopeDownStatement: webhookPath,
    });
    expect(demoCfg.api.webhookRateLimitPer5Min).toBeGreaterThan(demoCfg.api.rateLimitPer5Min);
    const bad = rules().find((r) => r.Name === 'aws-known-bad-inputs');
    expect(bad.Statement.ManagedRuleGroupStatement.ScopeDownStatement).toBeUndefined();
  });

  it('the web ACL is associated with the stage', () => {
    const assoc = one(demo, 'AWS::WAFv2::WebACLAssociation');
    const acl = one(demo, 'AWS::WAFv2::WebACL');
    expect(assoc.r.Properties!.WebACLArn).toEqual({ 'Fn::GetAtt': [acl.id, 'Arn'] });
    const [stageId] = Object.keys(resources(demo.api, 'AWS::ApiGateway::Stage'));
    expect(JSON.stringify(assoc.r.Properties!.ResourceArn)).toContain(stageId);
  });
});

describe('least privilege (grants follow manifest permissions exactly)', () => {
  const WRITE = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];
  const asyncInvoked = manifest.asyncInvokedFunctions();

  it.each(manifest.functions.map((f) => [f.name, f] as const))('%s', (name, spec) => {
    const actions = roleActions(demo, name);
    const has = (p: manifest.Permission) => spec.permissions.includes(p);
    const some = (list: string[]) => list.some((a) => actions.includes(a));

    expect(some(WRITE), 'table write').toBe(has('table:write'));
    expect(actions.includes('dynamodb:Query'), 'table read').toBe(has('table:read') || has('table:write'));
    expect(actions.includes('events:PutEvents'), 'bus:put').toBe(has('bus:put'));
    expect(
      actions.some((a) => a.startsWith('cognito-idp:')),
      'userpool:admin',
    ).toBe(has('userpool:admin:clients') || has('userpool:admin:staff'));
    expect(actions.includes('s3:PutObject'), 's3 put').toBe(
      has('documents:write') || has('audit-archive:write') || has('settlements:write'),
    );
    expect(actions.includes('s3:GetObject'), 's3 get').toBe(
      has('documents:read') || has('audit-archive:read') || has('settlements:read'),
    );
    expect(actions.includes('secretsmanager:GetSecretValue'), 'psp:secrets / platform:secrets').toBe(
      has('psp:secrets') || has('platform:secrets'),
    );
    // Stream consumers send to their stream-failure DLQ, async-invoked functions to the async-failure DLQ.
    expect(actions.includes('sqs:SendMessage'), 'queue:send').toBe(
      spec.permissions.some((p) => p.startsWith('queue:send:')) || spec.stream !== undefined || asyncInvoked.has(name),
    );
    expect(actions.includes('ses:SendEmail'), 'email:send (the demo writes mail to the table)').toBe(false);
    expect(
      actions.some((a) => a.startsWith('textract:')),
      'textract',
    ).toBe(has('textract:analyze'));
    expect(
      actions.some((a) => a.startsWith('states:SendTask')),
      'states:callback',
    ).toBe(has('states:callback'));
    expect(actions.some((a) => a.startsWith('s3:Delete') || a === 's3:*' || a === '*')).toBe(false);
  });

  it('the public registration function can provision users in the clients pool only, never the staff pool', () => {
    const pools = (fn: string) =>
      roleStatements(demo, fn)
        .filter((st) => JSON.stringify(st.Action).includes('cognito-idp:'))
        .flatMap((st) => statementTargets(demo, fn, st));
    const [clients] = all(demo, 'AWS::Cognito::UserPool')
      .filter((p) => /Clients/.test(p.id))
      .map(at);
    const [staff] = all(demo, 'AWS::Cognito::UserPool')
      .filter((p) => /Staff/.test(p.id))
      .map(at);
    expect(pools('api-registrations')).toEqual([clients]);
    expect(pools('api-staff')).toEqual([staff]);
  });

  it('function roles carry no AWS managed policies', () => {
    for (const name of manifest.functions.map((f) => f.name)) {
      const fn = fnResource(demo, name);
      const roleId = (fn.r.Properties!.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]!;
      expect(fn.doc.template.Resources![roleId]!.Properties!.ManagedPolicyArns).toBeUndefined();
    }
  });

  it('a secret is read through the data key only via Secrets Manager (no key-policy statement per role)', () => {
    const kms = roleStatements(demo, 'api-deposits').filter((st) => ([] as unknown[]).concat(st.Action).includes('kms:Decrypt'));
    expect(kms.some((st) => JSON.stringify(st.Condition ?? {}).includes('kms:ViaService'))).toBe(true);
    const keyPolicy = JSON.stringify(all(demo, 'AWS::KMS::Key').map((k) => k.r.Properties!.KeyPolicy));
    expect(keyPolicy).not.toContain('Ctx');
  });
});

describe('email', () => {
  it('production (acme): an SES domain identity for brand.domain with Easy DKIM, its CNAMEs as outputs', () => {
    const identity = one(acme, 'AWS::SES::EmailIdentity');
    expect(identity.r.Properties).toMatchObject({
      EmailIdentity: acmeCfg.brand.domain,
      DkimSigningAttributes: { NextSigningKeyLength: 'RSA_2048_BIT' },
    });
    expect(identity.r.DeletionPolicy).toBe('RetainExceptOnCreate');
    const outputs = Object.keys(acme.rootDoc.template.Outputs ?? {});
    expect(outputs).toEqual(expect.arrayContaining(['DkimRecord1', 'DkimRecord2', 'DkimRecord3']));
  });

  it('production: only notifications may send, on that identity only, From brand.supportEmail only', () => {
    const senders = manifest.functions.filter((f) => roleActions(acme, f.name).includes('ses:SendEmail')).map((f) => f.name);
    expect(senders).toEqual(['notifications']);
    const [st] = roleStatements(acme, 'notifications').filter((x) =>
      ([] as unknown[]).concat(x.Action).includes('ses:SendEmail'),
    );
    expect(JSON.stringify(st!.Resource)).toContain(`:identity/${acmeCfg.brand.domain}`);
    expect(JSON.stringify(st!.Resource)).not.toContain('*');
    expect(st!.Condition).toEqual({ StringEquals: { 'ses:FromAddress': acmeCfg.brand.supportEmail } });
  });

  it('the demo (mail to the table: demo.test can never be verified) has no identity and no SES grant', () => {
    expect(demoCfg.email.transport).toBe('table');
    expect(all(demo, 'AWS::SES::EmailIdentity')).toEqual([]);
  });
});

describe('queues, rules and schedules', () => {
  it.each(manifest.queues.map((q) => [q.name, q] as const))(
    'queue %s: visibility timeout at least 6x its consumer timeout, bounded consumer concurrency',
    (_n, spec) => {
      const timeout = fnResource(demo, spec.consumer).r.Properties!.Timeout as number;
      expect(spec.visibilityTimeoutSeconds).toBeGreaterThanOrEqual(6 * timeout);
      expect(spec.maxConcurrency).toBeGreaterThanOrEqual(2);
    },
  );

  it('queues that rules deliver to, and the event-target DLQ, hold one statement for the tenant bus rules', () => {
    const policies = all(demo, 'AWS::SQS::QueuePolicy');
    const busRules = policies.filter((p) => JSON.stringify(p.r.Properties!.PolicyDocument).includes('TenantBusRules'));
    // The event-target DLQ and every queue a manifest rule targets (a logical id drops the construct id's hyphens).
    const ruleQueues = manifest.rules.flatMap((r) =>
      'queue' in r.target ? [`MessagingQueue${r.target.queue.replace(/[^A-Za-z0-9]/g, '')}`] : [],
    );
    expect(busRules.map((p) => p.id.replace(/Policy.*$/, '')).sort()).toEqual(
      [...new Set(['MessagingDlqeventtargets', ...ruleQueues])].sort(),
    );
    expect(ruleQueues).toContain('MessagingQueuepartnerevents');
    for (const p of policies) {
      const statements = (p.r.Properties!.PolicyDocument as { Statement: unknown[] }).Statement;
      expect(statements.length, p.id).toBeLessThanOrEqual(2);
    }
    const statement = JSON.stringify(busRules[0]!.r.Properties!.PolicyDocument);
    expect(statement).toContain('":rule/",{"Ref":"MessagingBus');
    expect(statement).toContain('"/*"]');
  });

  it.each(manifest.schedules.map((j) => [j.name, j] as const))(
    'job %s: an EventBridge Scheduler schedule in its time zone, and an on-demand rule',
    (_n, spec) => {
      const fn = fnResource(demo, spec.function);
      const schedule = all(demo, 'AWS::Scheduler::Schedule').find(
        (x) => target(demo, x.doc, (x.r.Properties!.Target as { Arn: unknown }).Arn) === at(fn),
      );
      expect(schedule, spec.name).toBeDefined();
      expect(schedule!.r.Properties).toMatchObject({
        ScheduleExpression: spec.cron,
        ScheduleExpressionTimezone: spec.timezone === 'tenant' ? demoCfg.timezone : 'Etc/UTC',
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: { RetryPolicy: { MaximumRetryAttempts: 2 }, DeadLetterConfig: { Arn: expect.anything() } },
      });
      const input = JSON.parse((schedule!.r.Properties!.Target as { Input: string }).Input);
      expect(input).toMatchObject({ 'detail-type': 'Scheduled Event', detail: { schedule: spec.name } });
      const onDemand = all(demo, 'AWS::Events::Rule').filter((r) =>
        JSON.stringify(r.r.Properties!.EventPattern).includes(`"job":["${spec.name}"]`),
      );
      expect(onDemand).toHaveLength(1);
      // Lambda never re-runs a failed job; delivery retries are the schedule's and the rule's.
      const configs = all(demo, 'AWS::Lambda::EventInvokeConfig').filter(
        (c) => target(demo, c.doc, c.r.Properties!.FunctionName) === at(fn),
      );
      expect(configs).toHaveLength(1);
      expect(configs[0]!.r.Properties!.MaximumRetryAttempts).toBe(0);
    },
  );

  it('no cron rule is left on the default bus; every rule is on the tenant bus', () => {
    for (const r of all(demo, 'AWS::Events::Rule')) {
      expect(r.r.Properties!.ScheduleExpression).toBeUndefined();
      expect(target(demo, r.doc, r.r.Properties!.EventBusName)).toMatch(/#MessagingBus/);
    }
  });

  it('every asynchronously invoked function sends its failures to the async-failure queue', () => {
    for (const name of manifest.asyncInvokedFunctions()) {
      const fn = fnResource(demo, name);
      const config = all(demo, 'AWS::Lambda::EventInvokeConfig').find(
        (c) => target(demo, c.doc, c.r.Properties!.FunctionName) === at(fn),
      );
      expect(config, name).toBeDefined();
      const destination = (config!.r.Properties!.DestinationConfig as { OnFailure: { Destination: unknown } }).OnFailure
        .Destination;
      expect(target(demo, fn.doc, destination), name).toMatch(/#MessagingDlqasyncfailures/);
    }
  });
});

describe('monitoring', () => {
  const alarms = (s: Synth) => all(s, 'AWS::CloudWatch::Alarm');
  const topic = (s: Synth) => at(one(s, 'AWS::SNS::Topic'));

  it('every alarm notifies the tenant topic (KMS-encrypted, the alarm e-mail subscribed)', () => {
    for (const a of alarms(acme)) {
      const actions = a.r.Properties!.AlarmActions as unknown[];
      expect(actions).toHaveLength(1);
      expect(target(acme, a.doc, actions[0])).toBe(topic(acme));
    }
    expect(one(acme, 'AWS::SNS::Topic').r.Properties!.KmsMasterKeyId).toBeDefined();
    acme.root.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: acmeCfg.alarmEmail });
  });

  it('every function has an Errors and a Throttles alarm, in its own context stack', () => {
    for (const spec of manifest.functions) {
      const fn = fnResource(demo, spec.name);
      for (const metric of ['Errors', 'Throttles']) {
        const found = alarms(demo).filter(
          (a) =>
            a.r.Properties!.MetricName === metric &&
            a.doc === fn.doc &&
            JSON.stringify(a.r.Properties!.Dimensions) === JSON.stringify([{ Name: 'FunctionName', Value: { Ref: fn.id } }]),
        );
        expect(found, `${spec.name} ${metric}`).toHaveLength(1);
      }
      expect(fn.doc).toBe(contextDoc(demo, spec.context));
    }
  });

  it('state machines alarm on failed and timed-out executions; stream consumers on iterator age', () => {
    for (const metric of ['ExecutionsFailed', 'ExecutionsTimedOut']) {
      expect(alarms(demo).filter((a) => a.r.Properties!.MetricName === metric)).toHaveLength(manifest.stateMachines.length);
    }
    const iterator = alarms(demo).filter((a) => a.r.Properties!.MetricName === 'IteratorAge');
    expect(iterator).toHaveLength(manifest.functions.filter((f) => f.stream).length);
  });

  it('every DLQ alarms on a visible message; every work queue on the age of its oldest message', () => {
    const queues = all(demo, 'AWS::SQS::Queue');
    const dlqs = queues.filter((q) => !q.r.Properties!.RedrivePolicy);
    const work = queues.filter((q) => q.r.Properties!.RedrivePolicy);
    const dimensionOf = (a: { r: { Properties?: Record<string, unknown> } }) =>
      JSON.stringify((a.r.Properties!.Dimensions as { Value: unknown }[])[0]!.Value);
    const visible = alarms(demo)
      .filter((a) => a.r.Properties!.MetricName === 'ApproximateNumberOfMessagesVisible')
      .map(dimensionOf);
    for (const q of dlqs) expect(visible, q.id).toContain(JSON.stringify({ 'Fn::GetAtt': [q.id, 'QueueName'] }));
    const age = alarms(demo).filter((a) => a.r.Properties!.MetricName === 'ApproximateAgeOfOldestMessage');
    expect(age).toHaveLength(work.length);
    for (const a of age) expect(a.r.Properties!.Threshold).toBe(QUEUE_AGE_ALARM_SECONDS);
  });

  it('the API alarms on 5XX and the table on throttling', () => {
    demo.api.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: '5XXError', Namespace: 'AWS/ApiGateway' });
    demo.root.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'WriteThrottleEvents', Namespace: 'AWS/DynamoDB' });
  });

  it.each([
    ['AuditChainsBroken', 'job-audit-verify'],
    ['AuditArchiveMissing', 'job-audit-verify'],
    ['LedgerReconciliationFindings', 'job-ledger-reconciliation'],
    ['OutboxEventsRepublished', 'job-outbox-sweeper'],
    ['KycReviewsStalled', 'job-kyc-watchdog'],
    ['WithdrawalsStalled', 'job-withdrawal-watchdog'],
  ])('alarms on %s > 0 (%s), on the namespace and service dimension Powertools emits', (metricName, fn) => {
    const vars = envOf(demo, fn);
    const matching = alarms(demo).filter((a) => a.r.Properties!.MetricName === metricName);
    expect(matching).toHaveLength(1);
    expect(matching[0]!.r.Properties).toMatchObject({
      Namespace: vars.POWERTOOLS_METRICS_NAMESPACE,
      Dimensions: [{ Name: 'service', Value: vars.POWERTOOLS_SERVICE_NAME }],
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    });
    expect(vars.POWERTOOLS_SERVICE_NAME).toBe(fn);
  });
});

describe('trading: platform connection secrets', () => {
  const platformSecrets = (x: Synth) => all(x, 'AWS::SecretsManager::Secret').filter((r) => r.id.startsWith('PlatformSecrets'));

  it('one secret per offered platform, holding the connection shape with empty values (no credential in the template)', () => {
    const secrets = platformSecrets(demo);
    expect(secrets).toHaveLength(demoCfg.trading.platforms.length);
    for (const x of secrets) {
      const value = JSON.parse(String(x.r.Properties!.SecretString)) as Record<string, unknown>;
      expect(value).toEqual({ baseUrl: '', managerLogin: 0, managerPassword: '', server: '' });
      expect(x.r.Properties!.KmsKeyId).toBeDefined();
    }
    const outputs = Object.keys(demo.rootDoc.template.Outputs ?? {});
    expect(outputs).toContain('PlatformSecretMt5');
  });

  it.each(manifest.functions.map((f) => [f.name, f] as const))(
    '%s: PLATFORM_SECRET_ARN_MT5 and read access exactly when it holds platform:secrets',
    (name, spec) => {
      const has = spec.permissions.includes('platform:secrets');
      expect(Object.hasOwn(envOf(demo, name), 'PLATFORM_SECRET_ARN_MT5')).toBe(has);
      const secret = at(platformSecrets(demo)[0]!);
      const reads = roleStatements(demo, name).filter(
        (st) =>
          ([] as unknown[]).concat(st.Action).includes('secretsmanager:GetSecretValue') &&
          statementTargets(demo, name, st).includes(secret),
      );
      expect(reads.length > 0).toBe(has);
    },
  );
});

describe('payments: PSP secrets, settlements bucket and the sandbox provider', () => {
  const providers = [...new Set(demoCfg.payments.methods.map((m) => m.provider))];
  const providerSecrets = (s: Synth) =>
    all(s, 'AWS::SecretsManager::Secret').filter(
      (x) => x.r.Properties!.GenerateSecretString === undefined && x.id.startsWith('PspSecrets'),
    );
  const settlements = () => at(all(demo, 'AWS::S3::Bucket').find((b) => b.id.startsWith('StorageSettlementsBucket'))!);

  it('one secret per provider, with a generated name (a fixed one would block the retry of a failed create)', () => {
    const secrets = providerSecrets(demo);
    expect(secrets).toHaveLength(providers.length);
    for (const x of all(demo, 'AWS::SecretsManager::Secret')) {
      expect(x.r.Properties!.Name).toBeUndefined();
      expect(x.r.Properties!.KmsKeyId).toBeDefined();
    }
    for (const x of secrets) {
      // {"webhookSecrets":["<generated at deployment>"]}: the value is a dynamic reference, never in the template.
      const value = JSON.stringify(x.r.Properties!.SecretString);
      expect(value).toContain('{\\"webhookSecrets\\":[\\"');
      expect(value).toContain('{{resolve:secretsmanager:');
    }
    const outputs = Object.keys(demo.rootDoc.template.Outputs ?? {});
    for (const p of providers) expect(outputs).toContain(`PspSecret${p[0]!.toUpperCase()}${p.slice(1)}`);
  });

  it.each(manifest.functions.map((f) => [f.name, f] as const))(
    '%s: PSP secret ARN and read access exactly when it holds psp:secrets',
    (name, spec) => {
      const has = spec.permissions.includes('psp:secrets');
      const vars = envOf(demo, name);
      for (const provider of providers) expect(Object.hasOwn(vars, `PSP_SECRET_ARN_${provider.toUpperCase()}`)).toBe(has);
      const psp = at(providerSecrets(demo)[0]!);
      const reads = roleStatements(demo, name).filter(
        (st) =>
          ([] as unknown[]).concat(st.Action).includes('secretsmanager:GetSecretValue') &&
          statementTargets(demo, name, st).includes(psp),
      );
      expect(reads.length > 0).toBe(has);
      for (const st of reads) expect(statementTargets(demo, name, st)).toEqual([psp]);
    },
  );

  it.each(manifest.functions.map((f) => [f.name, f] as const))(
    '%s: SETTLEMENTS_BUCKET and settlement object access exactly as its settlements:* permissions say',
    (name, spec) => {
      const read = spec.permissions.includes('settlements:read');
      const write = spec.permissions.includes('settlements:write');
      const bucket = envOf(demo, name).SETTLEMENTS_BUCKET;
      expect(bucket ? 'set' : 'unset').toBe(read || write ? 'set' : 'unset');
      if (bucket) expect(target(demo, fnResource(demo, name).doc, bucket)).toBe(settlements());
      const onBucket = (action: string) =>
        roleStatements(demo, name)
          .filter((st) => ([] as unknown[]).concat(st.Action).includes(action))
          .some((st) => statementTargets(demo, name, st).some((t) => t.startsWith(settlements())));
      expect(onBucket('s3:GetObject'), 'get').toBe(read);
      expect(onBucket('s3:ListBucket'), 'list').toBe(read);
      expect(onBucket('s3:PutObject'), 'put').toBe(write);
    },
  );

  it("psp-sandbox calls the API stage's webhook route, built from the API's id (no cycle through the deployment)", () => {
    const url = envOf(demo, 'psp-sandbox').PSP_WEBHOOK_URL_SANDBOX as { 'Fn::Join': [string, unknown[]] };
    const parts = url['Fn::Join'][1];
    const api = at(one(demo, 'AWS::ApiGateway::RestApi'));
    expect(parts.some((p) => target(demo, fnResource(demo, 'psp-sandbox').doc, p) === api)).toBe(true);
    expect(JSON.stringify(url)).toContain('.execute-api.');
    expect(JSON.stringify(url)).toContain('/prod/v1/webhooks/psp/sandbox');
  });

  it('queue:send grants SendMessage on that queue only', () => {
    for (const spec of manifest.functions) {
      const sends = spec.permissions.filter((p) => p.startsWith('queue:send:')).map((p) => p.slice('queue:send:'.length));
      const targets = roleStatements(demo, spec.name)
        .filter((st) => ([] as unknown[]).concat(st.Action).includes('sqs:SendMessage'))
        .flatMap((st) => statementTargets(demo, spec.name, st))
        .filter((t) => t.includes('#MessagingQueue'));
      expect(targets.map((t) => t.replace(/^.*#MessagingQueue/, '').replace(/[A-F0-9]{8}$/, '')).sort(), spec.name).toEqual(
        sends.map((q) => q.replace(/[^A-Za-z0-9]/g, '')).sort(),
      );
    }
  });
});

describe('outputs', () => {
  it('exposes what clients and operators need', () => {
    const outputs = Object.keys(demo.rootDoc.template.Outputs ?? {});
    for (const o of [
      'ApiUrl',
      'UserPoolId',
      'UserPoolClientId',
      'StaffUserPoolId',
      'StaffUserPoolClientId',
      'DocumentsBucketName',
      'AuditBucketName',
      'SettlementsBucketName',
      'TableName',
      'EventBusName',
      'AlarmTopicArn',
    ]) {
      expect(outputs).toContain(o);
    }
  });

  it('production stacks have termination protection', () => {
    expect(acme.stack.terminationProtection).toBe(true);
    expect(demo.stack.terminationProtection).toBe(false);
  });
});
