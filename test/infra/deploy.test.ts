/**
 * Every tenant in infra/tenants synthesizes clean: zero findings from the deploy rules (the limits
 * CloudFormation, S3, SQS, IAM, Lambda, Step Functions and Cognito enforce at deploy time,
 * infra/deploy-rules.ts) and from cdk-nag, every stack under 80% of CloudFormation's resource limit, and
 * two tenants could be deployed side by side in one account and region.
 */
import { readdirSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkDeployRules, type TemplateDoc } from '#infra/deploy-rules.ts';
import { ACCOUNT_STACK_NAME } from '#infra/stacks/account-stack.ts';
import { loadTenantConfig, TENANTS_DIR } from '#infra/tenant.ts';
import { type Synth, synth } from './support.ts';

const tenants = readdirSync(TENANTS_DIR)
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.slice(0, -'.json'.length))
  .sort();

const synths = new Map<string, Synth>();
beforeAll(() => {
  for (const t of tenants) synths.set(t, synth({ tenant: t }));
  synths.set('demo (localstack)', synth({ tenant: 'demo', localstack: 'true' }));
});

describe('the tenants in the repository', () => {
  it('are at least a non-production demo and a production FCA broker', () => {
    expect(tenants).toEqual(expect.arrayContaining(['demo', 'acme']));
    expect(loadTenantConfig('demo').production).toBe(false);
    const acme = loadTenantConfig('acme');
    expect(acme.production).toBe(true);
    expect(acme.jurisdictions.map((j) => j.regulator)).toContain('FCA');
    expect(acme.brand.domain).toBeTruthy();
    expect(acme.alarmEmail).toBeTruthy();
  });
});

describe.each([...tenants, 'demo (localstack)'])('%s', (name) => {
  const s = () => synths.get(name)!;

  it('passes every deploy rule', () => {
    expect(checkDeployRules(s().docs)).toEqual([]);
  });

  it('has zero unacknowledged cdk-nag findings', () => {
    expect(s().nagViolations).toEqual([]);
  });

  it('keeps every stack at or below 80% of the 500-resource limit (measured)', () => {
    const counts = Object.fromEntries(s().docs.map((d) => [d.name, Object.keys(d.template.Resources ?? {}).length]));
    for (const [doc, count] of Object.entries(counts)) expect(count, doc).toBeLessThanOrEqual(400);
    // The whole tenant used to be one stack at 495; now no stack holds more than a third of the limit.
    expect(Math.max(...Object.values(counts))).toBeLessThan(170);
  });

  it('creates no Export and imports nothing (nested stacks exchange parameters and outputs)', () => {
    for (const d of s().docs) {
      expect(
        Object.values(d.template.Outputs ?? {}).filter((o) => o.Export),
        d.name,
      ).toEqual([]);
      expect(JSON.stringify(d.template), d.name).not.toContain('Fn::ImportValue');
    }
  });

  it('puts the account-wide API Gateway logging role in the account stack only', () => {
    const withAccount = s().docs.filter((d) =>
      Object.values(d.template.Resources ?? {}).some((r) => r.Type === 'AWS::ApiGateway::Account'),
    );
    expect(withAccount.map((d) => d.name)).toEqual([`${ACCOUNT_STACK_NAME}.template.json`]);
    const tenantStack = s().app.node.findChild(s().stack.node.id);
    expect(s().stack.dependencies.map((d) => d.stackName)).toEqual([ACCOUNT_STACK_NAME]);
    expect(tenantStack).toBe(s().stack);
  });
});

describe('two tenants in one account and region', () => {
  /** Every explicit physical name of a tenant's templates, by resource type (names CloudFormation would collide on). */
  const NAME_PROPS: Record<string, string> = {
    'AWS::S3::Bucket': 'BucketName',
    'AWS::DynamoDB::Table': 'TableName',
    'AWS::Logs::LogGroup': 'LogGroupName',
    'AWS::SecretsManager::Secret': 'Name',
    'AWS::SQS::Queue': 'QueueName',
    'AWS::Events::EventBus': 'Name',
    'AWS::Events::Rule': 'Name',
    'AWS::Scheduler::Schedule': 'Name',
    'AWS::StepFunctions::StateMachine': 'StateMachineName',
    'AWS::Lambda::Function': 'FunctionName',
    'AWS::IAM::Role': 'RoleName',
    'AWS::SNS::Topic': 'TopicName',
    'AWS::Cognito::UserPool': 'UserPoolName',
    'AWS::Cognito::UserPoolClient': 'ClientName',
    'AWS::ApiGateway::RestApi': 'Name',
    'AWS::WAFv2::WebACL': 'Name',
    'AWS::SES::EmailIdentity': 'EmailIdentity',
    'AWS::KMS::Alias': 'AliasName',
    'AWS::CloudWatch::Alarm': 'AlarmName',
  };
  const names = (docs: TemplateDoc[]) =>
    docs.flatMap((d) =>
      Object.values(d.template.Resources ?? {}).flatMap((r) => {
        const prop = NAME_PROPS[r.Type];
        const v = prop ? r.Properties?.[prop] : undefined;
        return v === undefined ? [] : [`${r.Type} ${JSON.stringify(v)}`];
      }),
    );
  const tenantDocs = (t: string) => synths.get(t)!.tenantDocs;

  it('share no physical name', () => {
    const demo = new Set(names(tenantDocs('demo')));
    const shared = names(tenantDocs('acme')).filter((n) => demo.has(n));
    expect(shared).toEqual([]);
    // And each tenant's explicit names carry its id, so a third tenant cannot collide either.
    for (const t of ['demo', 'acme']) {
      for (const n of names(tenantDocs(t))) {
        if (n.startsWith('AWS::SES::EmailIdentity')) continue; // the tenant's own domain
        expect(n, t).toContain(t);
      }
    }
  });

  it('have different stack names and share only the identical account stack', () => {
    const demo = synths.get('demo')!;
    const acme = synths.get('acme')!;
    expect(demo.stack.stackName).not.toBe(acme.stack.stackName);
    expect(demo.accountStack.stackName).toBe(acme.accountStack.stackName);
    const accountTemplate = (s: Synth) => s.docs.find((d) => d.name === `${ACCOUNT_STACK_NAME}.template.json`)!.template;
    expect(accountTemplate(demo)).toEqual(accountTemplate(acme));
  });
});
