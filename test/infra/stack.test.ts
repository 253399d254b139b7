/**
 * Security and data properties of the demo tenant's stack, and cdk-nag (AwsSolutions) with zero
 * unacknowledged findings.
 */
import { readFileSync } from 'node:fs';
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import * as manifest from '#functions/manifest.ts';
import { RATE_LIMIT_RULE } from '#infra/constructs/api.ts';
import { CLIENT_GROUPS, STAFF_GROUPS } from '#infra/constructs/identity.ts';
import { TENANTS_DIR } from '#infra/tenant.ts';
import { GATEWAY_PROBLEMS } from '#shared/gateway-problems.ts';
import { GSIS, TTL_ATTRIBUTE } from '#store/table.ts';
import { functionLogicalId, resources, roleActions, type Synth, synth } from './support.ts';

const demo = JSON.parse(readFileSync(`${TENANTS_DIR}/demo.json`, 'utf8'));

let s: Synth;
beforeAll(() => {
  s = synth({ tenant: 'demo' });
});

describe('cdk-nag AwsSolutions', () => {
  it('has zero unacknowledged errors', () => {
    expect(s.nagViolations.filter((v) => v.severity === 'error')).toEqual([]);
  });
  it('has zero unacknowledged warnings', () => {
    expect(s.nagViolations).toEqual([]);
  });
});

describe('table', () => {
  it('is on-demand, PITR, streamed, KMS (CMK), TTL, deletion-protected and retained', () => {
    s.template.resourceCountIs('AWS::DynamoDB::Table', 1);
    s.template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: Match.anyValue() },
        TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
        DeletionProtectionEnabled: true,
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
      }),
    });
  });

  it('has both GSIs', () => {
    s.template.hasResourceProperties('AWS::DynamoDB::Table', {
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

  it('customer-managed keys rotate', () => {
    for (const key of Object.values(resources(s.template, 'AWS::KMS::Key'))) {
      expect(key.Properties!.EnableKeyRotation).toBe(true);
    }
  });
});

describe('buckets', () => {
  it('audit bucket: Object Lock in COMPLIANCE mode for the tenant retention years, versioned, KMS', () => {
    s.template.hasResourceProperties('AWS::S3::Bucket', {
      ObjectLockEnabled: true,
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Years: demo.audit.retentionYears } },
      },
      VersioningConfiguration: { Status: 'Enabled' },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          Match.objectLike({ ServerSideEncryptionByDefault: Match.objectLike({ SSEAlgorithm: 'aws:kms' }) }),
        ],
      },
      LoggingConfiguration: Match.objectLike({ DestinationBucketName: Match.anyValue() }),
    });
  });

  it('every bucket blocks public access, is retained and refuses plain HTTP', () => {
    const buckets = resources(s.template, 'AWS::S3::Bucket');
    expect(Object.keys(buckets)).toHaveLength(4);
    for (const b of Object.values(buckets)) {
      expect(b.DeletionPolicy).toBe('Retain');
      expect(b.Properties!.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
    }
    const policies = Object.values(resources(s.template, 'AWS::S3::BucketPolicy'));
    expect(policies).toHaveLength(4);
    for (const p of policies) {
      expect(JSON.stringify(p.Properties!.PolicyDocument)).toContain('"aws:SecureTransport":"false"');
    }
  });

  it('documents bucket allows presigned POST uploads (CORS)', () => {
    s.template.hasResourceProperties('AWS::S3::Bucket', {
      CorsConfiguration: { CorsRules: [Match.objectLike({ AllowedMethods: Match.arrayWith(['POST']) })] },
    });
  });
});

describe('user pools', () => {
  const pool = (suffix: string) =>
    Object.entries(resources(s.template, 'AWS::Cognito::UserPool')).find(([, p]) =>
      String(p.Properties!.UserPoolName).endsWith(suffix),
    )!;

  it('clients pool: MFA optional (TOTP), groups client and partner', () => {
    const [id, p] = pool('-clients');
    expect(p.Properties!.MfaConfiguration).toBe('OPTIONAL');
    expect(p.Properties!.EnabledMfas).toEqual(['SOFTWARE_TOKEN_MFA']);
    expect(groupsOf(id)).toEqual([...CLIENT_GROUPS].sort());
    expect(CLIENT_GROUPS).toEqual(['client', 'partner']);
  });

  it('staff pool: MFA required (TOTP only), no self sign-up, staff groups', () => {
    const [id, p] = pool('-staff');
    expect(p.Properties!.MfaConfiguration).toBe('ON');
    expect(p.Properties!.EnabledMfas).toEqual(['SOFTWARE_TOKEN_MFA']);
    expect(p.Properties!.AdminCreateUserConfig).toMatchObject({ AllowAdminCreateUserOnly: true });
    expect(groupsOf(id)).toEqual([...STAFF_GROUPS].sort());
    expect([...STAFF_GROUPS].sort()).toEqual(['admin', 'compliance', 'finance', 'retention', 'sales']);
  });

  it('both pools: default password policy, Plus plan with threat protection enforced', () => {
    for (const p of Object.values(resources(s.template, 'AWS::Cognito::UserPool'))) {
      expect(p.Properties!.Policies).toMatchObject({
        PasswordPolicy: {
          MinimumLength: 8,
          RequireUppercase: true,
          RequireLowercase: true,
          RequireNumbers: true,
          RequireSymbols: true,
        },
      });
      expect(p.Properties!.UserPoolTier).toBe('PLUS');
      expect(p.Properties!.UserPoolAddOns).toEqual({ AdvancedSecurityMode: 'ENFORCED' });
    }
  });

  it('app clients: users cannot write their own attributes (email changes go through the API)', () => {
    for (const c of Object.values(resources(s.template, 'AWS::Cognito::UserPoolClient'))) {
      expect(c.Properties?.WriteAttributes).toEqual([]);
    }
  });
  it('app clients: password auth + refresh, no secret', () => {
    const clients = Object.values(resources(s.template, 'AWS::Cognito::UserPoolClient'));
    expect(clients).toHaveLength(2);
    for (const c of clients) {
      expect(c.Properties!.GenerateSecret).toBe(false);
      expect(c.Properties!.ExplicitAuthFlows).toEqual(
        expect.arrayContaining(['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_ADMIN_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH']),
      );
    }
  });

  function groupsOf(poolId: string): string[] {
    return Object.values(resources(s.template, 'AWS::Cognito::UserPoolGroup'))
      .filter((g) => (g.Properties!.UserPoolId as { Ref: string }).Ref === poolId)
      .map((g) => String(g.Properties!.GroupName))
      .sort();
  }
});

describe('API', () => {
  it('authorizer is Cognito over both pools', () => {
    const authorizers = Object.values(resources(s.template, 'AWS::ApiGateway::Authorizer'));
    expect(authorizers).toHaveLength(1);
    const a = authorizers[0]!.Properties!;
    expect(a.Type).toBe('COGNITO_USER_POOLS');
    expect(a.IdentitySource).toBe('method.request.header.Authorization');
    const pools = Object.keys(resources(s.template, 'AWS::Cognito::UserPool'));
    expect((a.ProviderARNs as { 'Fn::GetAtt': string[] }[]).map((p) => p['Fn::GetAtt'][0]).sort()).toEqual(pools.sort());
  });

  it('stage: access logs, X-Ray, throttling from the tenant file', () => {
    s.template.hasResourceProperties('AWS::ApiGateway::Stage', {
      TracingEnabled: true,
      AccessLogSetting: Match.objectLike({ DestinationArn: Match.anyValue() }),
      MethodSettings: Match.arrayWith([
        Match.objectLike({
          ThrottlingRateLimit: demo.api.throttleRps,
          ThrottlingBurstLimit: demo.api.throttleBurst,
          LoggingLevel: 'INFO',
          DataTraceEnabled: false,
        }),
      ]),
    });
  });

  it('WAF: regional web ACL with the tenant rate limit and AWS common rules, associated with the stage', () => {
    s.template.hasResourceProperties('AWS::WAFv2::WebACL', {
      Scope: 'REGIONAL',
      Rules: Match.arrayWith([
        Match.objectLike({
          Name: RATE_LIMIT_RULE,
          Action: { Block: {} },
          Statement: { RateBasedStatement: Match.objectLike({ Limit: demo.api.rateLimitPer5Min, AggregateKeyType: 'IP' }) },
        }),
        Match.objectLike({
          Statement: { ManagedRuleGroupStatement: { VendorName: 'AWS', Name: 'AWSManagedRulesCommonRuleSet' } },
        }),
      ]),
    });
    const [aclId] = Object.keys(resources(s.template, 'AWS::WAFv2::WebACL'));
    const [stageId] = Object.keys(resources(s.template, 'AWS::ApiGateway::Stage'));
    const assoc = Object.values(resources(s.template, 'AWS::WAFv2::WebACLAssociation'));
    expect(assoc).toHaveLength(1);
    expect(assoc[0]!.Properties!.WebACLArn).toEqual({ 'Fn::GetAtt': [aclId, 'Arn'] });
    expect(JSON.stringify(assoc[0]!.Properties!.ResourceArn)).toContain(stageId);
  });
});

describe('function environment', () => {
  it('every function knows the allowed browser origins, so responses carry CORS headers in AWS too', () => {
    for (const fn of Object.values(resources(s.template, 'AWS::Lambda::Function'))) {
      const vars = (fn.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables;
      if (!vars?.TABLE_NAME) continue; // CDK's own helper functions (log retention, custom resources)
      expect(vars.CORS_ORIGINS).toBeTruthy();
    }
  });
});

describe('gateway responses', () => {
  it('authorizer refusals, unknown routes and throttling answer problem+json with stable codes', () => {
    const responses = Object.values(resources(s.template, 'AWS::ApiGateway::GatewayResponse'));
    // biome-ignore lint/suspicious/noExplicitAny: CloudFormation properties, asserted field by field
    const byType = new Map<string, any>(responses.map((r) => [String(r.Properties?.ResponseType), r.Properties]));
    for (const [type, status, code] of [
      ['UNAUTHORIZED', '401', 'unauthenticated'],
      ['MISSING_AUTHENTICATION_TOKEN', '404', 'route_not_found'],
      ['THROTTLED', '429', 'rate_limited'],
      ['WAF_FILTERED', '403', 'request_blocked'],
    ] as const) {
      const r = byType.get(type);
      expect(r, type).toBeDefined();
      expect(r.StatusCode).toBe(status);
      expect(r.ResponseParameters['gatewayresponse.header.Content-Type']).toBe("'application/problem+json'");
      expect(JSON.parse(r.ResponseTemplates['application/json']).code).toBe(code);
    }
    expect(responses).toHaveLength(GATEWAY_PROBLEMS.length);
  });
});

describe('least privilege (grants follow manifest permissions exactly)', () => {
  const WRITE = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];

  it.each(manifest.functions.map((f) => [f.name, f] as const))('%s', (name, spec) => {
    const actions = roleActions(s.template, functionLogicalId(s.template, name));
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
    expect(actions.includes('secretsmanager:GetSecretValue'), 'psp:secrets').toBe(has('psp:secrets'));
    // Stream consumers also send to their own stream-failure DLQ (the event source's onFailure).
    expect(actions.includes('sqs:SendMessage'), 'queue:send').toBe(
      spec.permissions.some((p) => p.startsWith('queue:send:')) || spec.stream !== undefined,
    );
    expect(actions.includes('ses:SendEmail'), 'email:send').toBe(has('email:send'));
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
    const poolRefs = (fn: string) => {
      const lambda = resources(s.template, 'AWS::Lambda::Function')[functionLogicalId(s.template, fn)]!;
      const roleId = (lambda.Properties!.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0];
      return JSON.stringify(
        Object.values(resources(s.template, 'AWS::IAM::Policy')).filter((p) =>
          (p.Properties!.Roles as { Ref: string }[]).some((r) => r.Ref === roleId),
        ),
      );
    };
    const clientsPool = Object.keys(resources(s.template, 'AWS::Cognito::UserPool')).find((k) => /client/i.test(k))!;
    const staffPool = Object.keys(resources(s.template, 'AWS::Cognito::UserPool')).find((k) => /staff/i.test(k))!;
    expect(poolRefs('api-registrations')).toContain(clientsPool);
    expect(poolRefs('api-registrations')).not.toContain(staffPool);
    expect(poolRefs('api-staff')).toContain(staffPool);
    expect(poolRefs('api-staff')).not.toContain(clientsPool);
  });

  it('a read-only function (api-me) cannot write the table', () => {
    const actions = roleActions(s.template, functionLogicalId(s.template, 'api-me'));
    expect(actions).toContain('dynamodb:GetItem');
    expect(actions).not.toContain('dynamodb:PutItem');
  });

  it('function roles carry no AWS managed policies', () => {
    for (const name of manifest.functions.map((f) => f.name)) {
      const fn = resources(s.template, 'AWS::Lambda::Function')[functionLogicalId(s.template, name)]!;
      const roleId = (fn.Properties!.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]!;
      expect(resources(s.template, 'AWS::IAM::Role')[roleId]!.Properties!.ManagedPolicyArns).toBeUndefined();
    }
  });
});

describe('monitoring', () => {
  it('every function has an Errors and a Throttles alarm', () => {
    const alarms = Object.values(s.alarms);
    for (const name of manifest.functions.map((f) => f.name)) {
      const ref = { Name: 'FunctionName', Value: { Ref: functionLogicalId(s.template, name) } };
      for (const metric of ['Errors', 'Throttles']) {
        expect(
          alarms.some((a) => a.MetricName === metric && JSON.stringify(a.Dimensions) === JSON.stringify([ref])),
          `${name} ${metric}`,
        ).toBe(true);
      }
    }
  });

  it('alarms for API 5XX and DynamoDB throttles go to an encrypted topic', () => {
    s.monitoringTemplate.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: '5XXError', Namespace: 'AWS/ApiGateway' });
    s.monitoringTemplate.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'WriteThrottleEvents',
      Namespace: 'AWS/DynamoDB',
    });
    s.monitoringTemplate.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    for (const a of Object.values(s.alarms)) {
      expect(a.AlarmActions).toHaveLength(1);
    }
  });

  it('the tenant stack stays under CloudFormation limits (500 resources; the alarms in a nested stack)', () => {
    expect(Object.keys(s.template.toJSON().Resources).length).toBeLessThanOrEqual(500);
    expect(Object.keys(s.monitoringTemplate.toJSON().Resources).length).toBeLessThanOrEqual(500);
    expect(Object.keys(s.monitoringTemplate.toJSON().Parameters ?? {}).length).toBeLessThanOrEqual(200);
  });
});

describe('audit, outbox and email safeguards', () => {
  const fnProps = (name: string) =>
    resources(s.template, 'AWS::Lambda::Function')[functionLogicalId(s.template, name)]!.Properties!;
  const envOf = (name: string) => (fnProps(name).Environment as { Variables: Record<string, unknown> }).Variables;
  const refersTo = (value: unknown, logicalId: string) => JSON.stringify(value).includes(`"${logicalId}"`);

  it.each([
    ['AuditChainsBroken', 'job-audit-verify'],
    ['AuditArchiveMissing', 'job-audit-verify'],
    ['LedgerReconciliationFindings', 'job-ledger-reconciliation'],
    ['OutboxEventsRepublished', 'job-outbox-sweeper'],
  ])('alarms on %s > 0 (%s), on the namespace and service dimension Powertools emits', (metricName, fn) => {
    const vars = envOf(fn);
    const matching = Object.values(s.alarms).filter((a) => a.MetricName === metricName);
    expect(matching).toHaveLength(1);
    const [topicId] = Object.keys(resources(s.monitoringTemplate, 'AWS::SNS::Topic'));
    expect(matching[0]).toMatchObject({
      Namespace: vars.POWERTOOLS_METRICS_NAMESPACE,
      Dimensions: [{ Name: 'service', Value: vars.POWERTOOLS_SERVICE_NAME }],
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: topicId }],
    });
    expect(vars.POWERTOOLS_SERVICE_NAME).toBe(fn);
  });

  it.each(manifest.schedules.map((sch) => [sch.name, sch] as const))(
    'schedule %s: Lambda never retries the job; its rule targets retry delivery twice, then the DLQ',
    (_name, sch) => {
      const fnId = functionLogicalId(s.template, sch.function);
      const configs = Object.values(resources(s.template, 'AWS::Lambda::EventInvokeConfig')).filter(
        (c) => (c.Properties!.FunctionName as { Ref: string }).Ref === fnId,
      );
      expect(configs).toHaveLength(1);
      expect(configs[0]!.Properties!.MaximumRetryAttempts).toBe(0);

      const rules = Object.values(resources(s.template, 'AWS::Events::Rule')).filter((r) =>
        (r.Properties!.Targets as { Arn: unknown }[]).some((t) => refersTo(t.Arn, fnId)),
      );
      expect(rules.map((r) => r.Properties!.ScheduleExpression).filter(Boolean)).toEqual([sch.cron]);
      expect(rules).toHaveLength(2); // the cron rule and the on-demand rule
      for (const r of rules) {
        for (const t of r.Properties!.Targets as Record<string, unknown>[]) {
          expect(t.RetryPolicy).toMatchObject({ MaximumRetryAttempts: 2 });
          expect(t.DeadLetterConfig).toEqual({ Arn: expect.anything() });
        }
      }
    },
  );

  it('the outbox sweeper runs every 5 minutes with table write and bus put', () => {
    expect(manifest.schedules.find((x) => x.function === 'job-outbox-sweeper')?.cron).toBe('cron(0/5 * * * ? *)');
    const actions = roleActions(s.template, functionLogicalId(s.template, 'job-outbox-sweeper'));
    expect(actions).toEqual(
      expect.arrayContaining(['dynamodb:UpdateItem', 'dynamodb:Query', 'dynamodb:BatchGetItem', 'events:PutEvents']),
    );
  });

  it('audit-verify may HEAD/GET (with ListBucket, so a missing key is a 404) and put audit archive objects, never delete', () => {
    const actions = roleActions(s.template, functionLogicalId(s.template, 'job-audit-verify'));
    expect(actions).toEqual(expect.arrayContaining(['s3:GetObject', 's3:ListBucket', 's3:PutObject']));
    expect(
      actions.some((a) => a.startsWith('s3:Delete') || a.startsWith('s3:PutObjectRetention') || a.startsWith('s3:Bypass')),
    ).toBe(false);
  });

  it('only notifications may send email: ses:SendEmail on the brand domain identity, From brand.supportEmail only', () => {
    const domain = String(demo.brand.supportEmail).split('@')[1];
    const statements = Object.values(resources(s.template, 'AWS::IAM::Policy')).flatMap((p) =>
      (p.Properties!.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement.filter((st) =>
        ([] as unknown[]).concat(st.Action).includes('ses:SendEmail'),
      ).map((st) => ({ roles: p.Properties!.Roles, st })),
    );
    expect(statements).toHaveLength(1);
    const notificationsRole = (fnProps('notifications').Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0];
    expect(statements[0]!.roles).toEqual([{ Ref: notificationsRole }]);
    const resource = JSON.stringify(statements[0]!.st.Resource);
    expect(resource).toContain(`:ses:`);
    expect(resource).toContain(`:identity/${domain}`);
    expect(resource).not.toContain('*');
    expect(statements[0]!.st.Condition).toEqual({ StringEquals: { 'ses:FromAddress': demo.brand.supportEmail } });
  });
});

describe('outputs', () => {
  it('exposes what clients and operators need', () => {
    const outputs = Object.keys(s.template.toJSON().Outputs ?? {});
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
    ]) {
      expect(outputs).toContain(o);
    }
  });
});

describe('payments: PSP secrets, settlements bucket and the sandbox provider', () => {
  const fnProps = (name: string) =>
    resources(s.template, 'AWS::Lambda::Function')[functionLogicalId(s.template, name)]!.Properties!;
  const envOf = (name: string) => (fnProps(name).Environment as { Variables: Record<string, unknown> }).Variables;
  const roleOf = (name: string) => (fnProps(name).Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]!;
  const statementsOf = (name: string) =>
    Object.values(resources(s.template, 'AWS::IAM::Policy'))
      .filter((p) => (p.Properties!.Roles as { Ref: string }[]).some((r) => r.Ref === roleOf(name)))
      .flatMap((p) => (p.Properties!.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement);
  const withAction = (name: string, action: string) =>
    statementsOf(name).filter((st) => ([] as unknown[]).concat(st.Action).includes(action));
  const secretsByName = () =>
    Object.entries(resources(s.template, 'AWS::SecretsManager::Secret')).filter(([, r]) => r.Properties!.Name !== undefined);
  const providers = [...new Set((demo.payments.methods as { provider: string }[]).map((m) => m.provider))];
  const bucketId = () =>
    Object.keys(resources(s.template, 'AWS::S3::Bucket')).find((id) => id.startsWith('StorageSettlementsBucket'))!;

  it("one secret per provider of the tenant's methods, named per tenant, KMS-encrypted, in the shape secrets.ts reads", () => {
    const named = secretsByName();
    expect(named.map(([, r]) => r.Properties!.Name).sort()).toEqual(providers.map((p) => `backoffice/demo/psp/${p}`).sort());
    for (const [, r] of named) {
      expect(r.DeletionPolicy).toBe('Retain');
      expect(r.Properties!.KmsKeyId).toBeDefined();
      // {"webhookSecrets":["<generated at deployment>"]}: the value is a dynamic reference, never in the template.
      const value = JSON.stringify(r.Properties!.SecretString);
      expect(value).toContain('{\\"webhookSecrets\\":[\\"');
      expect(value).toContain('{{resolve:secretsmanager:');
    }
    for (const [, r] of Object.entries(resources(s.template, 'AWS::SecretsManager::Secret'))) {
      if (r.Properties!.Name === undefined) expect(r.Properties!.GenerateSecretString).toMatchObject({ PasswordLength: 64 });
    }
  });

  it.each(manifest.functions.map((f) => [f.name, f] as const))(
    '%s: PSP secret ARN and read access exactly when it holds psp:secrets',
    (name, spec) => {
      const has = spec.permissions.includes('psp:secrets');
      const vars = envOf(name);
      for (const provider of providers) expect(Object.hasOwn(vars, `PSP_SECRET_ARN_${provider.toUpperCase()}`)).toBe(has);
      const reads = withAction(name, 'secretsmanager:GetSecretValue');
      expect(reads.length > 0).toBe(has);
      const [providerSecretId] = secretsByName()[0]!;
      for (const st of reads) expect(st.Resource).toEqual({ Ref: providerSecretId });
    },
  );

  it('settlements bucket: KMS, versioned, access-logged, with a lifecycle', () => {
    const b = resources(s.template, 'AWS::S3::Bucket')[bucketId()]!.Properties!;
    expect(b.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(JSON.stringify(b.BucketEncryption)).toContain('aws:kms');
    expect(b.LoggingConfiguration).toMatchObject({ LogFilePrefix: 'settlements/' });
    expect((b.LifecycleConfiguration as { Rules: Record<string, unknown>[] }).Rules[0]).toMatchObject({
      Status: 'Enabled',
      ExpirationInDays: 365 * demo.audit.retentionYears,
      NoncurrentVersionExpiration: { NoncurrentDays: 90 },
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
    });
  });

  it.each(manifest.functions.map((f) => [f.name, f] as const))(
    '%s: SETTLEMENTS_BUCKET and settlement object access exactly as its settlements:* permissions say',
    (name, spec) => {
      const read = spec.permissions.includes('settlements:read');
      const write = spec.permissions.includes('settlements:write');
      expect(envOf(name).SETTLEMENTS_BUCKET ? 'set' : 'unset').toBe(read || write ? 'set' : 'unset');
      if (read || write) expect(envOf(name).SETTLEMENTS_BUCKET).toEqual({ Ref: bucketId() });
      const onBucket = (action: string) =>
        withAction(name, action).some((st) => JSON.stringify(st.Resource).includes(`"${bucketId()}"`));
      expect(onBucket('s3:GetObject'), 'get').toBe(read);
      expect(onBucket('s3:ListBucket'), 'list').toBe(read);
      expect(onBucket('s3:PutObject'), 'put').toBe(write);
    },
  );

  it('psp-sandbox: writes settlements, reads its secret, and calls the API stage webhook route (no api.url cycle)', () => {
    expect(manifest.functionByName('psp-sandbox').permissions).toEqual(['psp:secrets', 'settlements:write']);
    const url = JSON.stringify(envOf('psp-sandbox').PSP_WEBHOOK_URL_SANDBOX);
    const [apiId] = Object.keys(resources(s.template, 'AWS::ApiGateway::RestApi'));
    expect(url).toContain(`{"Ref":"${apiId}"}`);
    expect(url).toContain('.execute-api.');
    expect(url).toContain('/prod/v1/webhooks/psp/sandbox');
    expect(url).not.toContain('Deployment');
  });

  it('queue:send grants SendMessage on that queue only', () => {
    for (const spec of manifest.functions) {
      const sends = spec.permissions.filter((p) => p.startsWith('queue:send:')).map((p) => p.slice('queue:send:'.length));
      // Work queues of the manifest only (a stream consumer's failure DLQ is `MessagingDlq...`).
      const targets = withAction(spec.name, 'sqs:SendMessage')
        .map((st) => JSON.stringify(st.Resource))
        .filter((t) => t.includes('"MessagingQueue'));
      expect(targets, spec.name).toHaveLength(sends.length);
      for (const q of sends) {
        expect(
          targets.some((t) => t.includes(`"MessagingQueue${q.replace(/[^A-Za-z0-9]/g, '')}`)),
          `${spec.name} -> ${q}`,
        ).toBe(true);
      }
    }
  });
});
