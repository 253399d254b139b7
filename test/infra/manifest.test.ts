/**
 * The templates match functions/manifest.ts: every function, route, queue, rule, schedule and stream
 * consumer declared there exists, in its context's nested stack, wired as declared. (infra builds from the
 * manifest; this proves it.)
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as manifest from '#functions/manifest.ts';
import { AUTHORIZER, operationId } from '#infra/constructs/api-spec.ts';
import { DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT_SECONDS } from '#infra/constructs/functions.ts';
import { STREAM_BATCH_SIZE } from '#infra/constructs/messaging.ts';
import { loadTenantConfig } from '#infra/tenant.ts';
import { SECURITY_HEADERS } from '#shared/security-headers.ts';
import { all, at, contextDoc, fnResource, type Synth, synth, target } from './support.ts';

const demoCfg = loadTenantConfig('demo');

let s: Synth;
beforeAll(() => {
  s = synth({ tenant: 'demo' });
});

describe('functions', () => {
  it.each(manifest.functions.map((f) => [f.name, f] as const))(
    '%s is a nodejs22.x arm64 Lambda sized from the manifest, in its context stack',
    (name, spec) => {
      const found = fnResource(s, name);
      expect(found.doc).toBe(contextDoc(s, spec.context));
      const fn = found.r.Properties!;
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
        'CORS_ORIGINS',
      ]) {
        expect(vars, v).toHaveProperty(v);
      }
      expect(vars.NODE_OPTIONS).toBe('--enable-source-maps');
      expect(vars.POWERTOOLS_SERVICE_NAME).toBe(name);
      expect(vars.KYC_ANALYZER).toBe('textract');
      // A queue's URL only where the function may send to it (queue:send:<queue>).
      for (const q of manifest.queues) {
        const sends = spec.permissions.includes(`queue:send:${q.name}`);
        expect(Object.hasOwn(vars, `QUEUE_URL_${q.name.replace(/[^A-Za-z0-9]/g, '_').toUpperCase()}`), q.name).toBe(sends);
      }
    },
  );

  it('creates no Lambda functions beyond the manifest', () => {
    expect(all(s, 'AWS::Lambda::Function')).toHaveLength(manifest.functions.length);
  });

  it('has one nested stack per context, and the Api stack', () => {
    for (const c of manifest.CONTEXTS) expect(contextDoc(s, c).parent).toBe(s.rootDoc.name);
    expect(s.tenantDocs).toHaveLength(1 + manifest.CONTEXTS.length + 1);
  });
});

describe('routes (one OpenAPI document: no API Gateway resource or method of their own)', () => {
  // biome-ignore lint/suspicious/noExplicitAny: the OpenAPI document, asserted field by field
  const body = (): any => all(s, 'AWS::ApiGateway::RestApi')[0]!.r.Properties!.Body;

  it('the API is one RestApi with its document, without Resource, Method, Authorizer or GatewayResponse resources', () => {
    expect(all(s, 'AWS::ApiGateway::RestApi')).toHaveLength(1);
    for (const type of ['Resource', 'Method', 'Authorizer', 'GatewayResponse', 'RequestValidator']) {
      expect(all(s, `AWS::ApiGateway::${type}`), type).toEqual([]);
    }
    expect(body().openapi).toBe('3.0.1');
  });

  it.each(manifest.allRoutes().map(({ fn, route }) => [`${route.method} ${route.path}`, fn.name, route] as const))(
    '%s -> %s with the right authorizer',
    (_key, fnName, route) => {
      const op = body().paths[route.path]?.[route.method.toLowerCase()];
      expect(op, `${route.method} ${route.path}`).toBeDefined();
      expect(op.operationId).toBe(operationId(route.method, route.path));
      expect(op.security).toEqual(route.auth === 'public' ? [] : [{ [AUTHORIZER]: [] }]);
      const integration = op['x-amazon-apigateway-integration'];
      expect(integration).toMatchObject({ type: 'aws_proxy', httpMethod: 'POST' });
      const arn = (integration.uri['Fn::Join'][1] as unknown[]).map((p) => target(s, s.apiDoc, p)).find(Boolean);
      expect(arn).toBe(at(fnResource(s, fnName)));
      const params = [...route.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      expect((op.parameters ?? []).map((p: { name: string; required: boolean }) => p.required && p.name)).toEqual(params);
    },
  );

  it('has no other operation than the routes and one CORS preflight per path', () => {
    const declared = new Set(manifest.allRoutes().map(({ route }) => `${route.method} ${route.path}`));
    const paths = new Set(manifest.allRoutes().map(({ route }) => route.path));
    const ops: string[] = [];
    for (const [path, item] of Object.entries(body().paths as Record<string, Record<string, unknown>>)) {
      for (const method of Object.keys(item)) ops.push(`${method.toUpperCase()} ${path}`);
    }
    expect(ops.filter((o) => !o.startsWith('OPTIONS ')).sort()).toEqual([...declared].sort());
    expect(ops.filter((o) => o.startsWith('OPTIONS ')).sort()).toEqual([...paths].map((p) => `OPTIONS ${p}`).sort());
  });

  it('the preflight is a mock answering 204 with the CORS headers, unauthenticated', () => {
    const pre = body().paths['/v1/me'].options;
    expect(pre.security).toEqual([]);
    expect(pre['x-amazon-apigateway-integration'].type).toBe('mock');
    const integration = pre['x-amazon-apigateway-integration'].responses.default;
    const headers = integration.responseParameters;
    // The demo has no domain: its api.corsOrigins, the first as default, the others echoed when they ask.
    const [first, ...others] = demoCfg.api.corsOrigins;
    expect(headers['method.response.header.Access-Control-Allow-Origin']).toBe(`'${first}'`);
    expect(headers['method.response.header.Vary']).toBe("'Origin'");
    for (const o of others) expect(integration.responseTemplates['application/json']).toContain(`$origin == "${o}"`);
    expect(headers['method.response.header.Access-Control-Allow-Headers']).toContain('Idempotency-Key');
    for (const [h, v] of Object.entries(SECURITY_HEADERS)) expect(headers[`method.response.header.${h}`]).toBe(`'${v}'`);
  });

  it('the authorizer is Cognito over both pools', () => {
    const scheme = body().components.securitySchemes[AUTHORIZER];
    expect(scheme['x-amazon-apigateway-authtype']).toBe('cognito_user_pools');
    const pools = (scheme['x-amazon-apigateway-authorizer'].providerARNs as unknown[]).map((p) => target(s, s.apiDoc, p)).sort();
    expect(pools).toEqual(all(s, 'AWS::Cognito::UserPool').map(at).sort());
  });

  it('API Gateway errors answer problem+json with stable codes (gateway responses in the document)', () => {
    const responses = body()['x-amazon-apigateway-gateway-responses'];
    for (const [type, status, code] of [
      ['UNAUTHORIZED', '401', 'unauthenticated'],
      ['MISSING_AUTHENTICATION_TOKEN', '404', 'route_not_found'],
      ['THROTTLED', '429', 'rate_limited'],
      ['WAF_FILTERED', '403', 'request_blocked'],
    ] as const) {
      const r = responses[type];
      expect(r.statusCode, type).toBe(status);
      expect(r.responseParameters['gatewayresponse.header.Content-Type']).toBe("'application/problem+json'");
      expect(r.responseParameters['gatewayresponse.header.Access-Control-Allow-Origin']).toBe(`'${demoCfg.api.corsOrigins[0]}'`);
      for (const [h, v] of Object.entries(SECURITY_HEADERS))
        expect(r.responseParameters[`gatewayresponse.header.${h}`]).toBe(`'${v}'`);
      expect(JSON.parse(r.responseTemplates['application/json']).code).toBe(code);
    }
  });

  it('a changed document gets a new deployment (its logical id hashes the document)', () => {
    const deployments = all(s, 'AWS::ApiGateway::Deployment');
    expect(deployments).toHaveLength(1);
    const other = synth({ tenant: 'acme' });
    expect(all(other, 'AWS::ApiGateway::Deployment')[0]!.id).not.toBe(deployments[0]!.id);
  });

  it('one invoke permission per integrated function, scoped to this API', () => {
    const integrated = new Set(manifest.allRoutes().map(({ fn }) => fn.name));
    const perms = all(s, 'AWS::Lambda::Permission').filter((p) => p.doc === s.apiDoc);
    expect(perms.map((p) => target(s, s.apiDoc, p.r.Properties!.FunctionName)).sort()).toEqual(
      [...integrated].map((n) => at(fnResource(s, n))).sort(),
    );
    for (const p of perms) expect(p.r.Properties!.Principal).toBe('apigateway.amazonaws.com');
  });
});

describe('queues', () => {
  it.each(manifest.queues.map((q) => [q.name, q] as const))('%s has a DLQ and its consumer', (_name, spec) => {
    const queue = all(s, 'AWS::SQS::Queue').find((q) =>
      q.id.startsWith(`MessagingQueue${spec.name.replace(/[^A-Za-z0-9]/g, '')}`),
    )!;
    const props = queue.r.Properties!;
    expect(props.VisibilityTimeout).toBe(spec.visibilityTimeoutSeconds);
    expect(props.SqsManagedSseEnabled).toBe(true);
    if (spec.fifo) {
      expect(props.FifoQueue).toBe(true);
      expect(props.ContentBasedDeduplication).toBe(true);
    } else {
      expect(props.FifoQueue).toBeUndefined();
    }
    const redrive = props.RedrivePolicy as { deadLetterTargetArn: unknown; maxReceiveCount: number };
    expect(redrive.maxReceiveCount).toBe(spec.maxReceiveCount);
    expect(target(s, queue.doc, redrive.deadLetterTargetArn)).toMatch(/#MessagingDlq/);

    const consumer = at(fnResource(s, spec.consumer));
    const mappings = all(s, 'AWS::Lambda::EventSourceMapping').filter(
      (m) => target(s, m.doc, m.r.Properties!.EventSourceArn) === at(queue),
    );
    expect(mappings).toHaveLength(1);
    const m = mappings[0]!;
    expect(target(s, m.doc, m.r.Properties!.FunctionName)).toBe(consumer);
    expect(m.r.Properties).toMatchObject({ BatchSize: spec.batchSize, FunctionResponseTypes: ['ReportBatchItemFailures'] });
    expect(m.r.Properties!.ScalingConfig).toEqual(spec.maxConcurrency ? { MaximumConcurrency: spec.maxConcurrency } : undefined);
  });
});

describe('rules', () => {
  it.each(manifest.rules.map((r) => [r.name, r] as const))(
    'rule %s is on the tenant bus with its pattern, in its target context',
    (_n, spec) => {
      const found = all(s, 'AWS::Events::Rule').filter(
        (r) =>
          JSON.stringify(r.r.Properties!.EventPattern) ===
          JSON.stringify({ source: spec.pattern.source, 'detail-type': spec.pattern['detail-type'] }),
      );
      expect(found).toHaveLength(1);
      const rule = found[0]!;
      expect(rule.doc).toBe(contextDoc(s, manifest.ruleContext(spec)));
      expect(target(s, rule.doc, rule.r.Properties!.EventBusName)).toMatch(/#MessagingBus/);
      const [t] = rule.r.Properties!.Targets as { Arn: unknown; DeadLetterConfig: { Arn: unknown } }[];
      expect(target(s, rule.doc, t!.DeadLetterConfig.Arn)).toMatch(/#MessagingDlqeventtargets/);
      const expected =
        'function' in spec.target
          ? at(fnResource(s, spec.target.function))
          : at(
              all(s, 'AWS::SQS::Queue').find((q) =>
                // CDK drops the hyphens of a construct id in the logical id (Queue-partner-events -> Queuepartnerevents)
                q.id.startsWith(`MessagingQueue${(spec.target as { queue: string }).queue.replace(/[^A-Za-z0-9]/g, '')}`),
              )!,
            );
      expect(target(s, rule.doc, t!.Arn)).toBe(expected);
    },
  );

  it('the bus is named after the tenant', () => {
    s.root.hasResourceProperties('AWS::Events::EventBus', { Name: 'backoffice-demo' });
  });
});

describe('stream consumers', () => {
  it.each(manifest.functions.filter((f) => f.stream).map((f) => [f.name, f.stream!] as const))(
    '%s only receives INSERTs of %s items, with partial failures and a DLQ',
    (name, type) => {
      const fn = at(fnResource(s, name));
      const m = all(s, 'AWS::Lambda::EventSourceMapping').find((x) => target(s, x.doc, x.r.Properties!.FunctionName) === fn)!;
      expect(m.r.Properties).toMatchObject({
        BatchSize: STREAM_BATCH_SIZE,
        BisectBatchOnFunctionError: true,
        ParallelizationFactor: 1,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        FilterCriteria: {
          Filters: [{ Pattern: JSON.stringify({ eventName: ['INSERT'], dynamodb: { NewImage: { type: { S: [type] } } } }) }],
        },
      });
      const destination = (m.r.Properties!.DestinationConfig as { OnFailure: { Destination: unknown } }).OnFailure.Destination;
      expect(target(s, m.doc, destination)).toMatch(new RegExp(`#MessagingDlq${name.replace(/[^A-Za-z0-9]/g, '')}stream`));
    },
  );
});
