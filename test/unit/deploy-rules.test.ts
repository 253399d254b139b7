/**
 * Deploy-time template rules (infra/deploy-rules.ts): each rule reports a small BAD template and stays quiet on a
 * GOOD one, including references that cross from a nested template to its parent through nested-stack parameters.
 */
import { describe, expect, it } from 'vitest';
import {
  type CfnResource,
  type CfnTemplate,
  checkDeployRules,
  DEPLOY_RULES,
  type DeployFinding,
  type DeployRuleOptions,
  resolveResource,
  type TemplateDoc,
  worstCase,
} from '#infra/deploy-rules.ts';

// ---------------------------------------------------------------------------------------------------------------
// Builders

type Resources = Record<string, CfnResource>;

function tpl(name: string, resources: Resources, extra: Partial<CfnTemplate> = {}): TemplateDoc {
  const template: CfnTemplate = { Resources: resources, ...extra };
  return { name, template, bytes: Buffer.byteLength(JSON.stringify(template)) };
}

/** Wires `nested` under `root` as AWS::CloudFormation::Stack `stackId`, the root passing `passed` as its parameters. */
function nest(root: TemplateDoc, nested: TemplateDoc, passed: Record<string, unknown>, stackId = 'NestedStack'): TemplateDoc[] {
  root.template.Resources ??= {};
  root.template.Resources[stackId] = {
    Type: 'AWS::CloudFormation::Stack',
    Properties: { TemplateURL: 'https://s3.example/nested.template.json', Parameters: passed },
  };
  nested.template.Parameters = Object.fromEntries(Object.keys(passed).map((k) => [k, { Type: 'String' }]));
  nested.parent = root.name;
  nested.parentResource = stackId;
  return [root, nested];
}

const ref = (id: string) => ({ Ref: id });
const arn = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });
const res = (Type: string, Properties: Record<string, unknown> = {}, extra: Partial<CfnResource> = {}): CfnResource => ({
  Type,
  Properties,
  ...extra,
});
const queue = (props: Record<string, unknown> = {}) => res('AWS::SQS::Queue', props);
const fn = (props: Record<string, unknown> = {}) => res('AWS::Lambda::Function', { Runtime: 'nodejs22.x', ...props });
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const pad = (i: number) => String(i).padStart(3, '0');

function statement(i: number, queueId = 'Queue') {
  return {
    Sid: `S${i}`,
    Effect: 'Allow',
    Principal: { Service: 'events.amazonaws.com' },
    Action: 'sqs:SendMessage',
    Resource: arn(queueId),
  };
}
const queuePolicy = (queues: unknown[], statements: unknown[]) =>
  res('AWS::SQS::QueuePolicy', { Queues: queues, PolicyDocument: { Version: '2012-10-17', Statement: statements } });

const OPTS: Required<DeployRuleOptions> = { headroom: 0.8, writableAttributes: ['locale'] };

/** Findings of one rule only. */
function run(ruleId: string, docs: TemplateDoc[], opts: DeployRuleOptions = {}): DeployFinding[] {
  const rule = DEPLOY_RULES.find((r) => r.id === ruleId);
  if (!rule) throw new Error(`no rule ${ruleId}`);
  return rule.check(docs, { ...OPTS, ...opts });
}

interface Expected {
  template: string;
  resource?: string;
  message: RegExp;
}

/** Exactly these findings of `ruleId`, in order. */
function expectFindings(ruleId: string, actual: DeployFinding[], expected: Expected[]): void {
  expect(actual.map((f) => f.message)).toHaveLength(expected.length);
  expected.forEach((e, i) => {
    const f = actual[i]!;
    expect(f.rule).toBe(ruleId);
    expect(f.template).toBe(e.template);
    expect(f.resource).toBe(e.resource);
    expect(f.message).toMatch(e.message);
  });
}

// ---------------------------------------------------------------------------------------------------------------

describe('rule set', () => {
  it('has the fifteen rules, in order', () => {
    expect(DEPLOY_RULES.map((r) => r.id)).toEqual([
      'resources-per-stack',
      'template-size',
      'parameters-and-outputs',
      'no-exports',
      'sqs-policy-limits',
      'object-lock-retention',
      'iam-policy-size',
      'lambda-environment-size',
      'state-machine-definition-size',
      'sqs-visibility-timeout',
      'async-on-failure-destination',
      'no-retained-physical-names',
      'cognito-write-attributes',
      'asl-substitutions-resolve',
      'event-rules-per-bus',
    ]);
    for (const rule of DEPLOY_RULES) expect(rule.description.length).toBeGreaterThan(20);
  });

  it('finds nothing in a small well-formed app with a nested stack', () => {
    const root = tpl('root', {
      Queue: queue({ VisibilityTimeout: 60 }),
      QueuePolicy: queuePolicy([ref('Queue')], [statement(1)]),
      Dlq: queue(),
      Fn: fn({ Timeout: 10 }),
      FnConfig: res('AWS::Lambda::EventInvokeConfig', {
        FunctionName: ref('Fn'),
        Qualifier: '$LATEST',
        DestinationConfig: { OnFailure: { Destination: arn('Dlq') } },
      }),
      Rule: res('AWS::Events::Rule', { Targets: [{ Id: 'T', Arn: arn('Fn') }] }),
      Logs: res('AWS::Logs::LogGroup', {}, { DeletionPolicy: 'Retain' }),
    });
    const nested = tpl('nested', {
      Mapping: res('AWS::Lambda::EventSourceMapping', { EventSourceArn: ref('refQueue'), FunctionName: ref('refFn') }),
    });
    expect(checkDeployRules(nest(root, nested, { refQueue: arn('Queue'), refFn: ref('Fn') }))).toEqual([]);
  });

  it('refuses a headroom outside (0, 1]', () => {
    expect(() => checkDeployRules([], { headroom: 1.5 })).toThrow(RangeError);
    expect(() => checkDeployRules([], { headroom: 0 })).toThrow(RangeError);
  });
});

describe('worstCase', () => {
  const ARN = 'arn:aws-us-gov:service:ap-southeast-2:123456789012:';

  it('renders pseudo parameters at their longest', () => {
    expect(worstCase(ref('AWS::Region'))).toBe('ap-southeast-2');
    expect(worstCase(ref('AWS::AccountId'))).toBe('123456789012');
    expect(worstCase(ref('AWS::Partition'))).toBe('aws-us-gov');
    expect(worstCase(ref('AWS::URLSuffix'))).toBe('amazonaws.com.cn');
    expect(worstCase(ref('AWS::StackName'))).toHaveLength(128);
    expect(worstCase(ref('AWS::StackId'))).toMatch(/^arn:aws-us-gov:cloudformation:ap-southeast-2:123456789012:stack\/S{128}\//);
  });

  it('renders Ref and GetAtt of resources as long physical names and ARNs', () => {
    const doc = tpl('t', { Topic: res('AWS::SNS::Topic'), Bucket: res('AWS::S3::Bucket', { BucketName: 'my-bucket' }) });
    expect(worstCase(ref('Topic'), doc)).toHaveLength(128);
    expect(worstCase(ref('Bucket'), doc)).toBe('my-bucket');
    expect(worstCase(arn('Topic'), doc)).toBe(ARN + 'X'.repeat(128));
    expect(worstCase({ 'Fn::GetAtt': 'Topic.TopicName' }, doc)).toHaveLength(128);
    expect(worstCase(ref('Missing'))).toHaveLength(128);
  });

  it('joins, substitutes and picks the longest candidate', () => {
    expect(worstCase({ 'Fn::Join': ['-', ['a', ref('AWS::Region'), 'b']] })).toBe('a-ap-southeast-2-b');
    expect(worstCase({ 'Fn::Sub': `\${AWS::AccountId}/\${Name}/\${!Literal}` })).toBe(
      `123456789012/${'X'.repeat(128)}/\${Literal}`,
    );
    expect(worstCase({ 'Fn::Sub': [`\${A}:\${AWS::Partition}`, { A: 'x' }] })).toBe('x:aws-us-gov');
    expect(worstCase({ 'Fn::Select': [0, ['a', 'ccc', 'bb']] })).toBe('ccc');
    expect(worstCase({ 'Fn::If': ['Cond', 'short', 'much longer'] })).toBe('much longer');
    expect(worstCase({ 'Fn::Select': [1, { 'Fn::Split': [':', 'a:bbbb:cc'] }] })).toBe('bbbb');
  });

  it('renders objects and arrays as compact JSON of rendered children', () => {
    expect(worstCase({ A: [1, true, 'x'], B: { 'Fn::Join': ['', ['a', 'b']] } })).toBe('{"A":[1,true,"x"],"B":"ab"}');
    expect(worstCase({ R: ref('AWS::Region') })).toBe('{"R":"ap-southeast-2"}');
  });

  it('follows nested parameters to the parent and nested outputs to the child', () => {
    const root = tpl('root', { Bucket: res('AWS::S3::Bucket', { BucketName: 'root-bucket' }) });
    const nested = tpl('nested', { Inner: res('AWS::S3::Bucket', { BucketName: 'inner-bucket' }) });
    nested.template.Outputs = { InnerName: { Value: ref('Inner') } };
    const docs = nest(root, nested, { refBucket: ref('Bucket') });
    expect(worstCase(ref('refBucket'), nested, docs)).toBe('root-bucket');
    expect(worstCase({ 'Fn::GetAtt': ['NestedStack', 'Outputs.InnerName'] }, root, docs)).toBe('inner-bucket');
    expect(worstCase(ref('refBucket'), nested)).toHaveLength(128); // without the other docs: unknown, 128 chars
  });
});

describe('resolveResource', () => {
  const root = tpl('root', { Queue: queue() });
  const nested = tpl('nested', { Inner: queue() });
  nested.template.Outputs = { InnerArn: { Value: arn('Inner') } };
  const docs = nest(root, nested, { refQueue: arn('Queue'), refRegion: ref('AWS::Region') });

  it('follows a Ref to a nested parameter into the parent', () => {
    expect(resolveResource(ref('refQueue'), nested, docs)).toEqual({ doc: root, logicalId: 'Queue', attribute: 'Arn' });
  });
  it('follows a GetAtt of a nested stack output into the nested template', () => {
    expect(resolveResource({ 'Fn::GetAtt': ['NestedStack', 'Outputs.InnerArn'] }, root, docs)).toEqual({
      doc: nested,
      logicalId: 'Inner',
      attribute: 'Arn',
    });
  });
  it('resolves local references and nothing else', () => {
    expect(resolveResource(ref('Queue'), root, docs)).toEqual({ doc: root, logicalId: 'Queue' });
    expect(resolveResource(ref('refRegion'), nested, docs)).toBeUndefined();
    expect(resolveResource(ref('AWS::StackName'), root, docs)).toBeUndefined();
    expect(resolveResource('arn:aws:sqs:eu-west-1:123456789012:q', root, docs)).toBeUndefined();
    expect(resolveResource(ref('refQueue'), nested, [nested])).toBeUndefined();
  });
});

describe('resources-per-stack', () => {
  const many = (n: number) => Object.fromEntries(range(n).map((i) => [`Topic${i}`, res('AWS::SNS::Topic')]));

  it('reports 501 resources twice: the CloudFormation limit and the headroom', () => {
    expectFindings('resources-per-stack', run('resources-per-stack', [tpl('big', many(501))]), [
      { template: 'big', message: /501 resources; CloudFormation allows at most 500/ },
      { template: 'big', message: /501 resources exceeds the project's 80% headroom policy \(400 of/ },
    ]);
  });
  it('reports 401 resources once, for the headroom', () => {
    expectFindings('resources-per-stack', run('resources-per-stack', [tpl('big', many(401))]), [
      { template: 'big', message: /401 resources exceeds the project's 80% headroom policy/ },
    ]);
  });
  it('accepts 400 resources, and honours a custom headroom', () => {
    expect(run('resources-per-stack', [tpl('ok', many(400))])).toEqual([]);
    expectFindings('resources-per-stack', run('resources-per-stack', [tpl('t', many(251))], { headroom: 0.5 }), [
      { template: 't', message: /50% headroom policy \(250 of/ },
    ]);
  });
});

describe('template-size', () => {
  it('reports a template body over 1,048,576 bytes', () => {
    const doc = { ...tpl('huge', {}), bytes: 1_048_577 };
    expectFindings('template-size', run('template-size', [doc]), [
      { template: 'huge', message: /1,048,577 bytes; CloudFormation allows at most 1,048,576/ },
    ]);
  });
  it('accepts exactly 1,048,576 bytes', () => {
    expect(run('template-size', [{ ...tpl('ok', {}), bytes: 1_048_576 }])).toEqual([]);
  });
});

describe('parameters-and-outputs', () => {
  const params = (n: number) => Object.fromEntries(range(n).map((i) => [`P${i}`, { Type: 'String' }]));
  const outputs = (n: number) => Object.fromEntries(range(n).map((i) => [`O${i}`, { Value: 'x' }]));

  it('reports 201 parameters and 201 outputs', () => {
    const doc = tpl('t', {}, { Parameters: params(201), Outputs: outputs(201) });
    expectFindings('parameters-and-outputs', run('parameters-and-outputs', [doc]), [
      { template: 't', message: /201 Parameters; CloudFormation allows at most 200/ },
      { template: 't', message: /201 Outputs; CloudFormation allows at most 200/ },
    ]);
  });
  it('accepts 200 of each', () => {
    expect(run('parameters-and-outputs', [tpl('t', {}, { Parameters: params(200), Outputs: outputs(200) })])).toEqual([]);
  });
});

describe('no-exports', () => {
  it('reports an exported output and an imported value', () => {
    const doc = tpl(
      't',
      { Fn: fn({ Environment: { Variables: { TABLE: { 'Fn::ImportValue': 'shared-table' } } } }) },
      { Outputs: { TableName: { Value: 'x', Export: { Name: 'shared-table' } } } },
    );
    expectFindings('no-exports', run('no-exports', [doc]), [
      { template: 't', resource: 'TableName', message: /Output TableName has an Export/ },
      { template: 't', resource: 'Fn', message: /AWS::Lambda::Function Fn uses Fn::ImportValue/ },
    ]);
  });
  it('accepts plain outputs', () => {
    expect(run('no-exports', [tpl('t', { Fn: fn() }, { Outputs: { FnName: { Value: ref('Fn') } } })])).toEqual([]);
  });
});

describe('sqs-policy-limits', () => {
  it('reports a queue policy with 22 statements', () => {
    const doc = tpl('t', {
      Queue: queue(),
      Policy: queuePolicy(
        [ref('Queue')],
        range(22).map((i) => statement(i)),
      ),
    });
    expectFindings('sqs-policy-limits', run('sqs-policy-limits', [doc]), [
      { template: 't', resource: 'Queue', message: /queue t\/Queue has 22 policy statements .*at most 20/ },
    ]);
  });

  it('reports a 9 KB policy', () => {
    const big = { ...statement(1), Condition: { StringEquals: { 'aws:SourceAccount': 'x'.repeat(9_000) } } };
    const doc = tpl('t', { Queue: queue(), Policy: queuePolicy([ref('Queue')], [big, statement(2)]) });
    expectFindings('sqs-policy-limits', run('sqs-policy-limits', [doc]), [
      { template: 't', resource: 'Queue', message: /policy is 9,\d{3} bytes worst case .*at most 8,192 bytes/ },
    ]);
  });

  it('measures the deployed size: 50 rule ARNs in a condition are short tokens in the template but over 8 KB deployed', () => {
    const rules = Object.fromEntries(range(50).map((i) => [`Rule${i}`, res('AWS::Events::Rule')]));
    const sources = range(50).map((i) => arn(`Rule${i}`));
    const st = { ...statement(1), Condition: { ArnEquals: { 'aws:SourceArn': sources } } };
    const doc = tpl('t', { ...rules, Queue: queue(), Policy: queuePolicy([ref('Queue')], [st]) });
    expect(JSON.stringify(st).length).toBeLessThan(8_192);
    expectFindings('sqs-policy-limits', run('sqs-policy-limits', [doc]), [
      { template: 't', resource: 'Queue', message: /policy is 9,\d{3} bytes worst case/ },
    ]);
  });

  it('groups the statements of a root and a nested policy on the same queue', () => {
    const root = tpl('root', {
      Queue: queue(),
      RootPolicy: queuePolicy(
        [ref('Queue')],
        range(12).map((i) => statement(i)),
      ),
    });
    const nested = tpl('nested', {
      NestedPolicy: queuePolicy(
        [ref('refQueueUrl')],
        range(10).map((i) => ({ ...statement(100 + i), Resource: ref('refQueue') })),
      ),
    });
    const docs = nest(root, nested, { refQueue: arn('Queue'), refQueueUrl: ref('Queue') });
    expectFindings('sqs-policy-limits', run('sqs-policy-limits', docs), [
      {
        template: 'root',
        resource: 'Queue',
        message: /22 policy statements \(policies: root\/RootPolicy, nested\/NestedPolicy\)/,
      },
    ]);
  });

  it('accepts 19 statements across templates, and does not group different queues', () => {
    const root = tpl('root', {
      Queue: queue(),
      Other: queue(),
      RootPolicy: queuePolicy(
        [ref('Queue')],
        range(10).map((i) => statement(i)),
      ),
      OtherPolicy: queuePolicy(
        [ref('Other')],
        range(15).map((i) => statement(i, 'Other')),
      ),
    });
    const nested = tpl('nested', {
      NestedPolicy: queuePolicy(
        [ref('refQueueUrl')],
        range(9).map((i) => statement(i)),
      ),
    });
    expect(run('sqs-policy-limits', nest(root, nested, { refQueueUrl: ref('Queue') }))).toEqual([]);
  });
});

describe('object-lock-retention', () => {
  const lockedBucket = (retention: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    res('AWS::S3::Bucket', {
      ObjectLockEnabled: true,
      ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: retention } },
      VersioningConfiguration: { Status: 'Enabled' },
      ...extra,
    });

  it('reports a retention with both Days and Years (the real bug)', () => {
    const doc = tpl('t', { Audit: lockedBucket({ Days: 2555, Mode: 'COMPLIANCE', Years: 7 }) });
    expectFindings('object-lock-retention', run('object-lock-retention', [doc]), [
      { template: 't', resource: 'Audit', message: /exactly one of Days or Years, found both \(Days 2555, Years 7\)/ },
    ]);
  });

  it('reports a bad mode, a non-positive or fractional period, and a missing period', () => {
    const doc = tpl('t', {
      BadMode: lockedBucket({ Mode: 'STRICT', Days: 30 }),
      ZeroDays: lockedBucket({ Mode: 'GOVERNANCE', Days: 0 }),
      HalfYear: lockedBucket({ Mode: 'GOVERNANCE', Years: 1.5 }),
      NoPeriod: lockedBucket({ Mode: 'GOVERNANCE' }),
    });
    expectFindings('object-lock-retention', run('object-lock-retention', [doc]), [
      { template: 't', resource: 'BadMode', message: /Mode is "STRICT"; S3 requires GOVERNANCE or COMPLIANCE/ },
      { template: 't', resource: 'ZeroDays', message: /Days is 0; S3 requires a positive integer/ },
      { template: 't', resource: 'HalfYear', message: /Years is 1.5; S3 requires a positive integer/ },
      { template: 't', resource: 'NoPeriod', message: /exactly one of Days or Years, found neither/ },
    ]);
  });

  it('reports Object Lock without versioning, and a lock configuration on a bucket created without Object Lock', () => {
    const doc = tpl('t', {
      Unversioned: lockedBucket({ Mode: 'COMPLIANCE', Years: 7 }, { VersioningConfiguration: { Status: 'Suspended' } }),
      NotEnabled: lockedBucket({ Mode: 'COMPLIANCE', Years: 7 }, { ObjectLockEnabled: undefined }),
    });
    expectFindings('object-lock-retention', run('object-lock-retention', [doc]), [
      { template: 't', resource: 'Unversioned', message: /requires VersioningConfiguration.Status 'Enabled', found "Suspended"/ },
      { template: 't', resource: 'NotEnabled', message: /needs ObjectLockEnabled: true/ },
    ]);
  });

  it('accepts a 7-year COMPLIANCE retention on a versioned bucket, and plain buckets', () => {
    const doc = tpl('t', {
      Audit: lockedBucket({ Mode: 'COMPLIANCE', Years: 7 }),
      Days: lockedBucket({ Mode: 'GOVERNANCE', Days: 2555 }),
      Plain: res('AWS::S3::Bucket'),
    });
    expect(run('object-lock-retention', [doc])).toEqual([]);
  });
});

describe('iam-policy-size', () => {
  const trust = {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
  };
  const queues = Object.fromEntries(range(30).map((i) => [`Q${i}`, queue()]));
  const sendTo = (n: number) => ({
    Version: '2012-10-17',
    Statement: range(n).map((i) => ({ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: arn(`Q${i}`) })),
  });

  it("sums a role's own inline policies with an AWS::IAM::Policy attached from a nested template", () => {
    const root = tpl('root', {
      ...queues,
      Role: res('AWS::IAM::Role', {
        AssumeRolePolicyDocument: trust,
        Policies: [{ PolicyName: 'own', PolicyDocument: sendTo(25) }],
      }),
    });
    const nested = tpl('nested', {
      NestedPolicy: res('AWS::IAM::Policy', { PolicyName: 'more', PolicyDocument: sendTo(25), Roles: [ref('refRole')] }),
    });
    const docs = nest(root, nested, { refRole: ref('Role') });
    expect(worstCase(sendTo(25), root, docs).length).toBeLessThan(10_240); // each alone fits
    expectFindings('iam-policy-size', run('iam-policy-size', docs), [
      {
        template: 'root',
        resource: 'Role',
        message:
          /inline policies total 12,\d{3} characters worst case \(own \d+, nested\/NestedPolicy \d+\); IAM allows at most 10,240/,
      },
    ]);
  });

  it('reports a managed policy over 6,144 characters and a trust policy over 2,048', () => {
    const doc = tpl('t', {
      ...queues,
      Managed: res('AWS::IAM::ManagedPolicy', { PolicyDocument: sendTo(30) }),
      Role: res('AWS::IAM::Role', {
        AssumeRolePolicyDocument: {
          ...trust,
          Statement: [{ ...trust.Statement[0], Condition: { ArnLike: { 'aws:SourceArn': range(15).map((i) => arn(`Q${i}`)) } } }],
        },
      }),
    });
    expectFindings('iam-policy-size', run('iam-policy-size', [doc]), [
      {
        template: 't',
        resource: 'Role',
        message: /AssumeRolePolicyDocument is 2,\d{3} characters worst case; IAM allows at most 2,048/,
      },
      {
        template: 't',
        resource: 'Managed',
        message: /managed policy Managed is \d,\d{3} characters worst case; IAM allows at most 6,144/,
      },
    ]);
  });

  it('does not count whitespace, and accepts policies within the limits', () => {
    const doc = JSON.stringify(
      { Version: '2012-10-17', Statement: range(80).map((i) => ({ Effect: 'Allow', Action: `s3:Get${i}`, Resource: '*' })) },
      null,
      10,
    );
    expect(doc.length).toBeGreaterThan(10_240);
    expect(doc.replace(/\s+/g, '').length).toBeLessThan(6_144);
    const t = tpl('t', {
      ...queues,
      Role: res('AWS::IAM::Role', { AssumeRolePolicyDocument: trust, Policies: [{ PolicyName: 'p', PolicyDocument: doc }] }),
      Policy: res('AWS::IAM::Policy', { PolicyDocument: sendTo(10), Roles: [ref('Role')] }),
      Managed: res('AWS::IAM::ManagedPolicy', { PolicyDocument: doc }),
    });
    expect(run('iam-policy-size', [t])).toEqual([]);
  });
});

describe('lambda-environment-size', () => {
  it('reports 25 ARN variables: short in the template, 4.7 KB deployed', () => {
    const queues = Object.fromEntries(range(25).map((i) => [`Q${i}`, queue()]));
    const variables = Object.fromEntries(range(25).map((i) => [`QUEUE_ARN_${pad(i)}`, arn(`Q${i}`)]));
    expect(JSON.stringify(variables).length).toBeLessThan(4_096);
    const doc = tpl('t', { ...queues, Fn: fn({ Environment: { Variables: variables } }) });
    expectFindings('lambda-environment-size', run('lambda-environment-size', [doc]), [
      {
        template: 't',
        resource: 'Fn',
        message: /environment variables are 4,\d{3} bytes worst case; Lambda allows at most 4,096/,
      },
    ]);
  });
  it('reports one literal variable over 4 KB', () => {
    const doc = tpl('t', { Fn: fn({ Environment: { Variables: { CONFIG: 'x'.repeat(4_100) } } }) });
    expectFindings('lambda-environment-size', run('lambda-environment-size', [doc]), [
      { template: 't', resource: 'Fn', message: /4,106 bytes worst case/ },
    ]);
  });
  it('accepts a few variables and a function without environment', () => {
    const doc = tpl('t', { Q: queue(), Fn: fn({ Environment: { Variables: { QUEUE: ref('Q'), TENANT: 'demo' } } }), Bare: fn() });
    expect(run('lambda-environment-size', [doc])).toEqual([]);
  });
});

describe('state-machine-definition-size', () => {
  const definition = (filler: number) => ({
    'Fn::Join': [
      '',
      [`{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"\${Fn}","Comment":"`, 'x'.repeat(filler), '","End":true}}}'],
    ],
  });

  it('reports a definition that exceeds 1,048,576 characters only once substitutions are applied', () => {
    const doc = tpl('t', {
      Fn: fn(),
      Machine: res('AWS::StepFunctions::StateMachine', {
        DefinitionString: definition(1_048_400),
        DefinitionSubstitutions: { Fn: arn('Fn') },
      }),
    });
    expect(worstCase(definition(1_048_400)).length).toBeLessThan(1_048_576);
    expectFindings('state-machine-definition-size', run('state-machine-definition-size', [doc]), [
      {
        template: 't',
        resource: 'Machine',
        message: /definition is 1,048,\d{3} characters worst case; Step Functions allows at most 1,048,576/,
      },
    ]);
  });
  it('accepts small definitions, as a string, an object, or in S3', () => {
    const doc = tpl('t', {
      Fn: fn(),
      AsString: res('AWS::StepFunctions::StateMachine', {
        DefinitionString: definition(10),
        DefinitionSubstitutions: { Fn: arn('Fn') },
      }),
      AsObject: res('AWS::StepFunctions::StateMachine', {
        Definition: { StartAt: 'A', States: { A: { Type: 'Pass', End: true } } },
      }),
      InS3: res('AWS::StepFunctions::StateMachine', { DefinitionS3Location: { Bucket: 'b', Key: 'k.json' } }),
    });
    expect(run('state-machine-definition-size', [doc])).toEqual([]);
  });
});

describe('sqs-visibility-timeout', () => {
  const mapping = (source: unknown, target: unknown) =>
    res('AWS::Lambda::EventSourceMapping', { EventSourceArn: source, FunctionName: target, BatchSize: 10 });

  it('reports a root queue consumed by a nested function whose timeout is over a sixth of the visibility timeout', () => {
    const root = tpl('root', { Queue: queue({ VisibilityTimeout: 30 }) });
    const nested = tpl('nested', { Fn: fn({ Timeout: 10 }), Mapping: mapping(ref('refQueue'), ref('Fn')) });
    expectFindings('sqs-visibility-timeout', run('sqs-visibility-timeout', nest(root, nested, { refQueue: arn('Queue') })), [
      {
        template: 'nested',
        resource: 'Mapping',
        message: /queue root\/Queue VisibilityTimeout 30 s is below 6 x function nested\/Fn Timeout 10 s = 60 s/,
      },
    ]);
  });

  it('applies the defaults (30 s visibility, 3 s timeout) and follows an alias to its function', () => {
    const doc = tpl('t', {
      Queue: queue(),
      Fn: fn({ Timeout: 6 }),
      Alias: res('AWS::Lambda::Alias', { FunctionName: ref('Fn'), Name: 'live' }),
      Mapping: mapping(arn('Queue'), ref('Alias')),
      Quick: fn(),
      QuickMapping: mapping(arn('Queue'), arn('Quick')),
    });
    expectFindings('sqs-visibility-timeout', run('sqs-visibility-timeout', [doc]), [
      { template: 't', resource: 'Mapping', message: /VisibilityTimeout 30 s is below 6 x function t\/Fn Timeout 6 s = 36 s/ },
    ]);
  });

  it('reports a mapping whose queue or function cannot be resolved', () => {
    const orphan = tpl('orphan', {
      Queue: queue(),
      Mapping: mapping(ref('refQueue'), ref('Missing')),
      Mapping2: mapping(arn('Queue'), 'some-function-name'),
    });
    orphan.template.Parameters = { refQueue: { Type: 'String' } };
    expectFindings('sqs-visibility-timeout', run('sqs-visibility-timeout', [orphan]), [
      { template: 'orphan', resource: 'Mapping', message: /cannot resolve EventSourceArn \{"Ref":"refQueue"\}/ },
      { template: 'orphan', resource: 'Mapping2', message: /cannot resolve FunctionName "some-function-name"/ },
    ]);
  });

  it('accepts a 6x visibility timeout, and ignores DynamoDB stream sources', () => {
    const root = tpl('root', { Queue: queue({ VisibilityTimeout: 60 }), Table: res('AWS::DynamoDB::Table') });
    const nested = tpl('nested', {
      Fn: fn({ Timeout: 10 }),
      Mapping: mapping(ref('refQueue'), ref('Fn')),
      Stream: mapping(ref('refStream'), ref('Fn')),
    });
    const docs = nest(root, nested, { refQueue: arn('Queue'), refStream: { 'Fn::GetAtt': ['Table', 'StreamArn'] } });
    expect(run('sqs-visibility-timeout', docs)).toEqual([]);
  });
});

describe('async-on-failure-destination', () => {
  const onFailure = (target: string) =>
    res('AWS::Lambda::EventInvokeConfig', {
      FunctionName: ref(target),
      Qualifier: '$LATEST',
      DestinationConfig: { OnFailure: { Destination: arn('Dlq') } },
    });

  it('reports an EventBridge rule target without an EventInvokeConfig', () => {
    const doc = tpl('t', { Fn: fn(), Rule: res('AWS::Events::Rule', { Targets: [{ Id: 'T0', Arn: arn('Fn') }] }) });
    expectFindings('async-on-failure-destination', run('async-on-failure-destination', [doc]), [
      {
        template: 't',
        resource: 'Fn',
        message: /invoked asynchronously \(by rule t\/Rule\) but has no AWS::Lambda::EventInvokeConfig/,
      },
    ]);
  });

  it('reports an EventBridge Scheduler target without an EventInvokeConfig', () => {
    const doc = tpl('t', {
      Fn: fn(),
      Schedule: res('AWS::Scheduler::Schedule', { ScheduleExpression: 'rate(1 hour)', Target: { Arn: arn('Fn'), RoleArn: 'r' } }),
    });
    expectFindings('async-on-failure-destination', run('async-on-failure-destination', [doc]), [
      { template: 't', resource: 'Fn', message: /\(by schedule t\/Schedule\) but has no AWS::Lambda::EventInvokeConfig/ },
    ]);
  });

  it('reports an S3-invoked function whose EventInvokeConfig has no OnFailure destination', () => {
    const doc = tpl('t', {
      Fn: fn(),
      Invoke: res('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunction',
        FunctionName: arn('Fn'),
        Principal: 's3.amazonaws.com',
      }),
      Config: res('AWS::Lambda::EventInvokeConfig', { FunctionName: ref('Fn'), Qualifier: '$LATEST', MaximumRetryAttempts: 0 }),
    });
    expectFindings('async-on-failure-destination', run('async-on-failure-destination', [doc]), [
      {
        template: 't',
        resource: 'Fn',
        message:
          /permission t\/Invoke \(s3.amazonaws.com\)\) but has an AWS::Lambda::EventInvokeConfig without DestinationConfig/,
      },
    ]);
  });

  it('reports a root function targeted by a rule in a nested template', () => {
    const root = tpl('root', { Fn: fn() });
    const nested = tpl('nested', { Rule: res('AWS::Events::Rule', { Targets: [{ Id: 'T0', Arn: ref('refFn') }] }) });
    expectFindings(
      'async-on-failure-destination',
      run('async-on-failure-destination', nest(root, nested, { refFn: arn('Fn') })),
      [{ template: 'root', resource: 'Fn', message: /by rule nested\/Rule/ }],
    );
  });

  it('accepts functions with an OnFailure destination, and synchronous invokers', () => {
    const root = tpl('root', {
      Dlq: queue(),
      Fn: fn(),
      FnConfig: onFailure('Fn'),
      Scheduled: fn(),
      ScheduledConfig: onFailure('Scheduled'),
      Schedule: res('AWS::Scheduler::Schedule', { Target: { Arn: arn('Scheduled') } }),
      Api: fn(),
      ApiInvoke: res('AWS::Lambda::Permission', { FunctionName: arn('Api'), Principal: 'apigateway.amazonaws.com' }),
    });
    const nested = tpl('nested', { Rule: res('AWS::Events::Rule', { Targets: [{ Id: 'T0', Arn: ref('refFn') }] }) });
    expect(run('async-on-failure-destination', nest(root, nested, { refFn: arn('Fn') }))).toEqual([]);
  });
});

describe('no-retained-physical-names', () => {
  const logGroup = (LogGroupName: unknown, DeletionPolicy: string) =>
    res('AWS::Logs::LogGroup', { LogGroupName, RetentionInDays: 90 }, { DeletionPolicy, UpdateReplacePolicy: DeletionPolicy });
  const uniqueSuffix = { 'Fn::Select': [2, { 'Fn::Split': ['/', ref('AWS::StackId')] }] };

  it('reports a retained log group with a literal name', () => {
    const doc = tpl('t', { Logs: logGroup('/aws/vendedlogs/states/kyc-review', 'Retain') });
    expectFindings('no-retained-physical-names', run('no-retained-physical-names', [doc]), [
      {
        template: 't',
        resource: 'Logs',
        message:
          /AWS::Logs::LogGroup Logs has DeletionPolicy Retain and explicit LogGroupName "\/aws\/vendedlogs\/states\/kyc-review"/,
      },
    ]);
  });

  it('reports a retained SES domain identity, and a name unique only per stack name', () => {
    const doc = tpl('t', {
      Domain: res('AWS::SES::EmailIdentity', { EmailIdentity: 'mail.example.com' }, { DeletionPolicy: 'Retain' }),
      Secret: res('AWS::SecretsManager::Secret', { Name: { 'Fn::Sub': `\${AWS::StackName}/psp` } }, { DeletionPolicy: 'Retain' }),
    });
    expectFindings('no-retained-physical-names', run('no-retained-physical-names', [doc]), [
      { template: 't', resource: 'Domain', message: /AWS::SES::EmailIdentity Domain .*EmailIdentity "mail.example.com"/ },
      { template: 't', resource: 'Secret', message: /AWS::SecretsManager::Secret Secret .*explicit Name/ },
    ]);
  });

  it('accepts a name joined with the stack id, RetainExceptOnCreate, Delete, and generated names', () => {
    const doc = tpl('t', {
      Joined: logGroup({ 'Fn::Join': ['-', ['/aws/vendedlogs/states/kyc', uniqueSuffix]] }, 'Retain'),
      Subbed: logGroup({ 'Fn::Sub': `/aws/vendedlogs/\${AWS::StackId}/x` }, 'Retain'),
      ExceptOnCreate: logGroup('/aws/vendedlogs/states/kyc-review', 'RetainExceptOnCreate'),
      Deleted: logGroup('/aws/vendedlogs/states/other', 'Delete'),
      Generated: res('AWS::Logs::LogGroup', {}, { DeletionPolicy: 'Retain' }),
    });
    expect(run('no-retained-physical-names', [doc])).toEqual([]);
  });

  it('accepts a nested name built from a stack id the parent passes in', () => {
    const root = tpl('root', {});
    const nested = tpl('nested', { Logs: logGroup({ 'Fn::Join': ['-', ['logs', ref('refSuffix')]] }, 'Retain') });
    expect(run('no-retained-physical-names', nest(root, nested, { refSuffix: uniqueSuffix }))).toEqual([]);
  });
});

describe('cognito-write-attributes', () => {
  const pool = (schema: unknown[]) => res('AWS::Cognito::UserPool', { Schema: schema });
  const emailRequired = pool([{ Name: 'email', Mutable: true, Required: true }]);
  const emailOptional = pool([{ Name: 'email', Mutable: true, Required: false }]);
  const client = (WriteAttributes?: unknown[]) =>
    res('AWS::Cognito::UserPoolClient', { UserPoolId: ref('Pool'), ...(WriteAttributes ? { WriteAttributes } : {}) });
  const check = (p: CfnResource, c: CfnResource, opts: DeployRuleOptions = {}) =>
    run('cognito-write-attributes', [tpl('t', { Pool: p, Client: c })], opts);

  it('reports an empty or absent WriteAttributes', () => {
    expectFindings('cognito-write-attributes', check(emailRequired, client([])), [
      { template: 't', resource: 'Client', message: /WriteAttributes is \[\]; .*every standard attribute/ },
    ]);
    expectFindings('cognito-write-attributes', check(emailOptional, client()), [
      { template: 't', resource: 'Client', message: /WriteAttributes is absent/ },
    ]);
  });

  it('reports an attribute that is not allowed', () => {
    expectFindings('cognito-write-attributes', check(emailRequired, client(['email'])), [
      { template: 't', resource: 'Client', message: /WriteAttributes \["email"\] not in the writable attributes \["locale"\]/ },
    ]);
  });

  it('reports a client that cannot write an attribute the pool requires (Cognito would refuse it)', () => {
    expectFindings('cognito-write-attributes', check(emailRequired, client(['locale'])), [
      {
        template: 't',
        resource: 'Client',
        message: /user pool t\/Pool requires \["email"\] .*Cognito refuses to create the client/,
      },
    ]);
    expectFindings('cognito-write-attributes', check(pool([{ Name: 'tenant', Required: true }]), client(['locale'])), [
      { template: 't', resource: 'Client', message: /requires \["custom:tenant"\]/ },
    ]);
  });

  it('accepts allowed attributes covering every required one', () => {
    expect(check(emailOptional, client(['locale']))).toEqual([]);
    const customRequired = pool([{ Name: 'tenant', AttributeDataType: 'String', Required: true }]);
    expect(
      check(customRequired, client(['locale', 'custom:tenant']), { writableAttributes: ['locale', 'custom:tenant'] }),
    ).toEqual([]);
  });

  it('resolves a pool in the parent template', () => {
    const root = tpl('root', { Pool: emailRequired });
    const nested = tpl('nested', {
      Client: res('AWS::Cognito::UserPoolClient', { UserPoolId: ref('refPool'), WriteAttributes: ['locale'] }),
    });
    expectFindings('cognito-write-attributes', run('cognito-write-attributes', nest(root, nested, { refPool: ref('Pool') })), [
      { template: 'nested', resource: 'Client', message: /user pool root\/Pool requires \["email"\]/ },
    ]);
  });
});

describe('asl-substitutions-resolve', () => {
  const machine = (parts: unknown[], substitutions: Record<string, unknown>) =>
    res('AWS::StepFunctions::StateMachine', {
      DefinitionString: { 'Fn::Join': ['', parts] },
      DefinitionSubstitutions: substitutions,
    });

  it('reports a placeholder without a substitution, and a substitution no placeholder uses', () => {
    const doc = tpl('t', {
      Fn: fn(),
      Machine: machine(
        [
          `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"\${Fn}","Next":"B"},`,
          `"B":{"Type":"Task","Resource":"\${Missing}","End":true}}}`,
        ],
        { Fn: arn('Fn'), Stale: arn('Fn') },
      ),
    });
    expectFindings('asl-substitutions-resolve', run('asl-substitutions-resolve', [doc]), [
      { template: 't', resource: 'Machine', message: /placeholder \$\{Missing\} has no DefinitionSubstitutions key/ },
      { template: 't', resource: 'Machine', message: /DefinitionSubstitutions key Stale is used by no/ },
    ]);
  });

  it('accepts a definition whose placeholders all resolve, ignoring Ref values inside the Join', () => {
    const doc = tpl('t', {
      Fn: fn(),
      Machine: machine(
        [`{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"\${Fn}","Comment":"`, ref('AWS::Region'), '","End":true}}}'],
        {
          Fn: arn('Fn'),
        },
      ),
    });
    expect(run('asl-substitutions-resolve', [doc])).toEqual([]);
  });
});

describe('event-rules-per-bus', () => {
  const rules = (n: number, prefix: string, bus?: unknown) =>
    Object.fromEntries(
      range(n).map((i) => [`${prefix}${i}`, res('AWS::Events::Rule', bus === undefined ? {} : { EventBusName: bus })]),
    );

  it('reports 301 rules on the default bus, across templates: the quota and the headroom', () => {
    const docs = nest(tpl('root', rules(200, 'R')), tpl('nested', rules(101, 'N', 'default')), {});
    expectFindings('event-rules-per-bus', run('event-rules-per-bus', docs), [
      { template: 'root', message: /event bus 'default' has 301 rules; EventBridge allows 300 per bus/ },
      { template: 'root', message: /has 301 rules, above the project's 80% headroom policy \(240 of EventBridge's 300\)/ },
    ]);
  });

  it('groups a custom bus referenced from the root and through a nested parameter', () => {
    const root = tpl('root', { Bus: res('AWS::Events::EventBus', { Name: 'backoffice' }), ...rules(141, 'R', ref('Bus')) });
    const docs = nest(root, tpl('nested', rules(100, 'N', ref('refBus'))), { refBus: ref('Bus') });
    expectFindings('event-rules-per-bus', run('event-rules-per-bus', docs), [
      {
        template: 'root',
        resource: 'Bus',
        message: /event bus root\/Bus has 241 rules, above the project's 80% headroom policy/,
      },
    ]);
  });

  it('accepts 240 rules per bus', () => {
    const root = tpl('root', { Bus: res('AWS::Events::EventBus'), ...rules(240, 'R', ref('Bus')), ...rules(240, 'D') });
    expect(run('event-rules-per-bus', [root])).toEqual([]);
  });
});
