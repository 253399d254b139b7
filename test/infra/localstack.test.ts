/** `-c localstack=true`: what the free LocalStack edition lacks is swapped out, and nag still passes. */
import { beforeAll, describe, expect, it } from 'vitest';
import * as manifest from '#functions/manifest.ts';
import { functionLogicalId, methodsByRoute, resources, type Synth, synth } from './support.ts';

let s: Synth;
beforeAll(() => {
  s = synth({ tenant: 'demo', localstack: 'true' });
});

describe('localstack build', () => {
  it('has no WAF', () => {
    s.template.resourceCountIs('AWS::WAFv2::WebACL', 0);
    s.template.resourceCountIs('AWS::WAFv2::WebACLAssociation', 0);
  });

  it('uses a Lambda TOKEN authorizer (the JWT verifier) instead of the Cognito authorizer', () => {
    s.template.resourceCountIs('AWS::ApiGateway::Authorizer', 1);
    s.template.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      Type: 'TOKEN',
      IdentitySource: 'method.request.header.Authorization',
    });
    const methods = methodsByRoute(s.template);
    for (const { route } of manifest.allRoutes()) {
      const m = methods.get(`${route.method} ${route.path}`)!;
      expect(m.AuthorizationType).toBe(route.auth === 'public' ? 'NONE' : 'CUSTOM');
    }
  });

  it('adds exactly one function (the authorizer) to the manifest functions', () => {
    expect(Object.keys(resources(s.template, 'AWS::Lambda::Function'))).toHaveLength(manifest.functions.length + 1);
  });

  it("the sandbox PSP calls the webhook route through LocalStack's API Gateway host", () => {
    const fn = resources(s.template, 'AWS::Lambda::Function')[functionLogicalId(s.template, 'psp-sandbox')]!;
    const url = JSON.stringify(
      (fn.Properties!.Environment as { Variables: Record<string, unknown> }).Variables.PSP_WEBHOOK_URL_SANDBOX,
    );
    expect(url).toContain('.execute-api.localhost.localstack.cloud:4566/prod/v1/webhooks/psp/sandbox');
  });

  it('has zero unacknowledged cdk-nag findings', () => {
    expect(s.nagViolations).toEqual([]);
  });
});
