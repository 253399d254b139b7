/** `-c localstack=true`: what the free LocalStack edition lacks is swapped out, and nag still passes. */
import { beforeAll, describe, expect, it } from 'vitest';
import * as manifest from '#functions/manifest.ts';
import { AUTHORIZER } from '#infra/constructs/api-spec.ts';
import { all, at, envOf, type Synth, synth, target } from './support.ts';

let s: Synth;
beforeAll(() => {
  s = synth({ tenant: 'demo', localstack: 'true' });
});

describe('localstack build', () => {
  it('has no WAF', () => {
    expect(all(s, 'AWS::WAFv2::WebACL')).toEqual([]);
    expect(all(s, 'AWS::WAFv2::WebACLAssociation')).toEqual([]);
  });

  it('uses a Lambda TOKEN authorizer (the JWT verifier) instead of the Cognito authorizer', () => {
    // biome-ignore lint/suspicious/noExplicitAny: the OpenAPI document
    const body = all(s, 'AWS::ApiGateway::RestApi')[0]!.r.Properties!.Body as any;
    const scheme = body.components.securitySchemes[AUTHORIZER];
    expect(scheme['x-amazon-apigateway-authtype']).toBe('custom');
    expect(scheme['x-amazon-apigateway-authorizer']).toMatchObject({
      type: 'token',
      identitySource: 'method.request.header.Authorization',
    });
    const authorizer = all(s, 'AWS::Lambda::Function').find((f) => f.id.startsWith('LocalStackJwtAuthorizer'))!;
    const uri = scheme['x-amazon-apigateway-authorizer'].authorizerUri['Fn::Join'][1] as unknown[];
    expect(uri.map((p) => target(s, s.apiDoc, p)).find(Boolean)).toBe(at(authorizer));
    // API Gateway may invoke it.
    const perms = all(s, 'AWS::Lambda::Permission').filter(
      (p) => target(s, p.doc, p.r.Properties!.FunctionName) === at(authorizer),
    );
    expect(perms).toHaveLength(1);
    for (const { route } of manifest.allRoutes()) {
      const op = body.paths[route.path][route.method.toLowerCase()];
      expect(op.security).toEqual(route.auth === 'public' ? [] : [{ [AUTHORIZER]: [] }]);
    }
  });

  it("verifies tokens against LocalStack's Cognito issuer, for both pools", () => {
    const authorizer = all(s, 'AWS::Lambda::Function').find((f) => f.id.startsWith('LocalStackJwtAuthorizer'))!;
    const vars = (authorizer.r.Properties!.Environment as { Variables: Record<string, unknown> }).Variables;
    for (const pool of ['CLIENTS', 'STAFF']) {
      expect(JSON.stringify(vars[`JWT_ISSUER_${pool}`])).toContain('"http://localhost:4566/"');
      // aws-jwt-verify fetches keys over https only.
      expect(JSON.stringify(vars[`JWKS_URI_${pool}`])).toContain('"https://localhost.localstack.cloud:4566/"');
      expect(JSON.stringify(vars[`JWKS_URI_${pool}`])).toContain('/.well-known/jwks.json');
    }
  });

  it('adds exactly one function (the authorizer) to the manifest functions', () => {
    expect(all(s, 'AWS::Lambda::Function')).toHaveLength(manifest.functions.length + 1);
  });

  it('runs the sandbox KYC analyzer (LocalStack has no Textract)', () => {
    expect(envOf(s, 'kyc-analyze').KYC_ANALYZER).toBe('sandbox');
  });

  it("the sandbox PSP calls the webhook route through LocalStack's API Gateway host", () => {
    const url = JSON.stringify(envOf(s, 'psp-sandbox').PSP_WEBHOOK_URL_SANDBOX);
    expect(url).toContain('.execute-api.localhost.localstack.cloud:4566/prod/v1/webhooks/psp/sandbox');
  });
});
