/**
 * infra/localstack/jwt-authorizer.ts's own rules, with aws-jwt-verify stubbed (the real one needs LocalStack's
 * JWKS over HTTPS): a verified ID token is allowed unless its `iat` is more than 5 minutes in the future (GitHub
 * issue 12, finding 4); anything refused is "Unauthorized" (API Gateway's 401), never an Allow.
 */
import type { APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import { beforeAll, describe, expect, it, vi } from 'vitest';

/** The stub verifier: the "token" is the JSON of its claims; "bad" fails verification. */
const verify = async (token: string) => {
  if (token === 'bad') throw new Error('invalid signature');
  return JSON.parse(token) as Record<string, unknown>;
};
vi.mock('aws-jwt-verify', () => ({
  CognitoJwtVerifier: { create: () => ({ verify }) },
  JwtVerifier: { create: () => ({ verify }) },
}));

let handler: (e: APIGatewayTokenAuthorizerEvent) => Promise<{ principalId: string }>;

beforeAll(async () => {
  Object.assign(process.env, {
    USER_POOL_ID: 'us-east-1_clients',
    USER_POOL_CLIENT_ID: 'clients',
    STAFF_USER_POOL_ID: 'us-east-1_staff',
    STAFF_USER_POOL_CLIENT_ID: 'staff',
  });
  ({ handler } = await import('#infra/localstack/jwt-authorizer.ts'));
});

const now = () => Math.floor(Date.now() / 1000);
const event = (claims: Record<string, unknown> | 'bad'): APIGatewayTokenAuthorizerEvent => ({
  type: 'TOKEN',
  authorizationToken: `Bearer ${claims === 'bad' ? 'bad' : JSON.stringify(claims)}`,
  methodArn: 'arn:aws:execute-api:us-east-1:000000000000:api123/prod/GET/v1/me',
});
const claims = (iat: number | undefined) => ({
  sub: 'u-1',
  token_use: 'id',
  ...(iat === undefined ? {} : { iat }),
  exp: now() + 3600,
});

describe('LocalStack JWT authorizer', () => {
  it('allows a verified token issued now, or a little ahead (clock skew)', async () => {
    await expect(handler(event(claims(now())))).resolves.toMatchObject({ principalId: 'u-1' });
    await expect(handler(event(claims(now() + 240)))).resolves.toMatchObject({ principalId: 'u-1' });
  });

  it('refuses a token issued an hour (or just over 5 minutes) in the future, or without iat', async () => {
    await expect(handler(event(claims(now() + 3600)))).rejects.toThrow('Unauthorized');
    await expect(handler(event(claims(now() + 301)))).rejects.toThrow('Unauthorized');
    await expect(handler(event(claims(undefined)))).rejects.toThrow('Unauthorized');
  });

  it('refuses what the verifier refuses', async () => {
    await expect(handler(event('bad'))).rejects.toThrow('Unauthorized');
  });
});
