/**
 * The template matches functions/manifest.ts: every function, route, queue, rule, schedule and stream
 * consumer declared there exists, wired as declared. (infra builds from the manifest; this proves it.)
 */
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import * as manifest from '#functions/manifest.ts';
import { DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT_SECONDS } from '#infra/constructs/functions.ts';
import { STREAM_BATCH_SIZE } from '#infra/constructs/messaging.ts';
import { functionLogicalId, methodsByRoute, resources, type Synth, synth } from './support.ts';

let s: Synth;
beforeAll(() => {
  s = synth({ tenant: 'demo' });
});

const getAtt = (logicalId: string) => ({ 'Fn::GetAtt': [logicalId, 'Arn'] });

describe('functions', () => {
  it.each(manifest.functions.map((f) => [f.name, f] as const))(
    '%s is a nodejs22.x arm64 Lambda sized from the manifest',
    (name, spec) => {
      const id = functionLogicalId(s.template, name);
      const fn = resources(s.template, 'AWS::Lambda::Function')[id]!.Properties!;
      expect(fn.Runtime).toBe('nodejs22.x');
      expect(fn.Architectures).toEqual(['arm64']);
      expect(fn.Handler).toBe('index.handler');
      expect(fn.MemorySize).toBe(spec.memoryMb ?? DEFAULT_MEMORY_MB);
      expect(fn.Timeout).toBe(spec.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS);
      expect(fn.TracingConfig).toEqual({ Mode: 'Active' });
      const vars = (fn.Environment as { Variables: Record<string, unknown> }).Variables;
      for (const v of [
        'TABLE_NAME',
        'TENANT',
        'EVENT_BUS_NAME',
        'DOCUMENTS_BUCKET',
        'AUDIT_BUCKET',
        'USER_POOL_ID',
        'USER_POOL_CLIENT_ID',
        'STAFF_USER_POOL_ID',
        'STAFF_USER_POOL_CLIENT_ID',
        'POWERTOOLS_SERVICE_NAME',
        'POWERTOOLS_METRICS_NAMESPACE',
        'POWERTOOLS_LOG_LEVEL',
      ]) {
        expect(vars, v).toHaveProperty(v);
      }
      expect(vars.NODE_OPTIONS).toBe('--enable-source-maps');
      expect(vars.POWERTOOLS_SERVICE_NAME).toBe(name);
      // A queue's URL only where the function may send to it (queue:send:<queue>).
      for (const q of manifest.queues) {
        const sends = spec.permissions.includes(`queue:send:${q.name}`);
        expect(Object.hasOwn(vars, `QUEUE_URL_${q.name.replace(/[^A-Za-z0-9]/g, '_').toUpperCase()}`), q.name).toBe(sends);
      }
    },
  );

  it('creates no Lambda functions beyond the manifest', () => {
    expect(Object.keys(resources(s.template, 'AWS::Lambda::Function'))).toHaveLength(manifest.functions.length);
  });
});

describe('routes', () => {
  it.each(manifest.allRoutes().map(({ fn, route }) => [`${route.method} ${route.path}`, fn.name, route] as const))(
    '%s -> %s with the right authorizer',
    (key, fnName, route) => {
      const method = methodsByRoute(s.template).get(key);
      expect(method, key).toBeDefined();
      expect(method!.AuthorizationType).toBe(route.auth === 'public' ? 'NONE' : 'COGNITO_USER_POOLS');
      if (route.auth !== 'public') expect(method!.AuthorizerId).toBeDefined();
      const integration = method!.Integration as { Type: string; Uri: unknown };
      expect(integration.Type).toBe('AWS_PROXY');
      expect(JSON.stringify(integration.Uri)).toContain(functionLogicalId(s.template, fnName));
    },
  );

  it('has no other non-OPTIONS methods', () => {
    const keys = [...methodsByRoute(s.template).keys()].filter((k) => !k.startsWith('OPTIONS '));
    expect(keys.sort()).toEqual(
      manifest
        .allRoutes()
        .map(({ route }) => `${route.method} ${route.path}`)
        .sort(),
    );
  });
});

describe('queues', () => {
  it.each(manifest.queues.map((q) => [q.name, q] as const))('%s has a DLQ, its consumer and an alarm', (_name, spec) => {
    const queues = resources(s.template, 'AWS::SQS::Queue');
    const [queueId, queue] = Object.entries(queues).find(([id]) =>
      id.startsWith(`MessagingQueue${spec.name.replace(/[^A-Za-z0-9]/g, '')}`),
    )!;
    const props = queue.Properties!;
    expect(props.VisibilityTimeout).toBe(spec.visibilityTimeoutSeconds);
    expect(props.SqsManagedSseEnabled).toBe(true);
    if (spec.fifo) {
      expect(props.FifoQueue).toBe(true);
      expect(props.ContentBasedDeduplication).toBe(true);
    } else {
      expect(props.FifoQueue).toBeUndefined();
    }
    const redrive = props.RedrivePolicy as { deadLetterTargetArn: { 'Fn::GetAtt': string[] }; maxReceiveCount: number };
    expect(redrive.maxReceiveCount).toBe(spec.maxReceiveCount);
    const dlqId = redrive.deadLetterTargetArn['Fn::GetAtt'][0]!;
    expect(queues[dlqId]).toBeDefined();

    s.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: getAtt(queueId),
      FunctionName: { Ref: functionLogicalId(s.template, spec.consumer) },
      BatchSize: spec.batchSize,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: spec.maxConcurrency ? { MaximumConcurrency: spec.maxConcurrency } : Match.absent(),
    });
    expect(Object.values(s.alarms)).toContainEqual(
      expect.objectContaining({
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlqId, 'QueueName'] } }],
        Threshold: 0,
      }),
    );
  });

  it('every queue that is a DLQ target has an alarm on visible messages', () => {
    const alarmed = new Set(
      Object.values(s.alarms)
        .filter((a) => a.MetricName === 'ApproximateNumberOfMessagesVisible')
        .map((a) => (a.Dimensions as { Value: { 'Fn::GetAtt': string[] } }[])[0]!.Value['Fn::GetAtt'][0]),
    );
    const queues = resources(s.template, 'AWS::SQS::Queue');
    for (const [id, q] of Object.entries(queues)) {
      if (q.Properties!.RedrivePolicy) continue; // a work queue: it has a DLQ, checked above
      expect(alarmed.has(id), `DLQ ${id} has an alarm`).toBe(true);
    }
  });
});

describe('rules and schedules', () => {
  it.each(manifest.rules.map((r) => [r.name, r] as const))('rule %s is on the tenant bus with its pattern', (_name, spec) => {
    s.template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: { Ref: Match.stringLikeRegexp('^MessagingBus') },
      EventPattern: Match.objectLike({ source: spec.pattern.source, 'detail-type': spec.pattern['detail-type'] }),
      Targets: [Match.objectLike({ DeadLetterConfig: Match.anyValue() })],
    });
  });

  it.each(manifest.schedules.map((j) => [j.name, j] as const))('job %s runs on its cron and on demand', (_name, spec) => {
    const fnArn = getAtt(functionLogicalId(s.template, spec.function));
    s.template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: spec.cron,
      Targets: [Match.objectLike({ Arn: fnArn })],
    });
    s.template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: { Ref: Match.stringLikeRegexp('^MessagingBus') },
      EventPattern: { source: [manifest.JOB_SOURCE], 'detail-type': [manifest.JOB_DETAIL_TYPE], detail: { job: [spec.name] } },
      Targets: [Match.objectLike({ Arn: fnArn })],
    });
  });

  it('the bus is named after the tenant', () => {
    s.template.hasResourceProperties('AWS::Events::EventBus', { Name: 'backoffice-demo' });
  });
});

describe('stream consumers', () => {
  it.each(manifest.functions.filter((f) => f.stream).map((f) => [f.name, f.stream!] as const))(
    '%s only receives INSERTs of %s items, with partial failures and a DLQ',
    (name, type) => {
      s.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: functionLogicalId(s.template, name) },
        EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DataTable'), 'StreamArn'] },
        BatchSize: STREAM_BATCH_SIZE,
        BisectBatchOnFunctionError: true,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        MaximumRetryAttempts: Match.anyValue(),
        DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
        FilterCriteria: {
          Filters: [{ Pattern: JSON.stringify({ eventName: ['INSERT'], dynamodb: { NewImage: { type: { S: [type] } } } }) }],
        },
      });
    },
  );
});
