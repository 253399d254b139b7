/**
 * LocalStack-only API Gateway TOKEN authorizer (deployed with `-c localstack=true`).
 *
 * Why: the free LocalStack edition has no Cognito user-pool authorizer, so this Lambda stands in for it.
 * It must accept exactly what the Cognito authorizer accepts in AWS and nothing more:
 * - the Authorization header carries a Cognito ID token (a `Bearer ` prefix is tolerated);
 * - the token is verified with aws-jwt-verify: RS256 signature against the pool's JWKS, `iss` = one of
 *   the two pools (clients, staff), `token_use` = id, `aud` = that pool's app client, `exp`/`nbf`;
 * - and `iat` no more than 5 minutes in the future (domain/identity/token-time.ts): aws-jwt-verify does not
 *   check `iat`, and a token issued "in the future" was not issued by Cognito;
 * - anything else is "Unauthorized" (API Gateway answers 401) - never a 500, never an Allow.
 *
 * On success it returns an Allow policy for every method of this API stage (the result is cached per
 * token, so a policy scoped to one method would wrongly deny the next route) and puts the token's claims
 * in `context`. API Gateway only passes flat string/number/boolean context values, so the whole claim
 * set goes in `context.claims` as a JSON string (functions/middleware/auth.ts parses a string `claims`),
 * and each claim is also copied flat (arrays such as `cognito:groups` joined with commas).
 * Role checks stay in the handlers' auth middleware, as with the Cognito authorizer.
 *
 * Issuer override: LocalStack's Cognito may issue tokens with a non-AWS issuer. Set JWT_ISSUER_CLIENTS /
 * JWKS_URI_CLIENTS and JWT_ISSUER_STAFF / JWKS_URI_STAFF to verify against those instead (the
 * audience/client and token_use checks still apply).
 *
 * The verifier itself needs LocalStack (its JWKS over HTTPS); test/unit/localstack-jwt-authorizer.test.ts checks
 * this file's own rules (the `iat` check, the answers) with aws-jwt-verify replaced by a stub.
 */

import { CognitoJwtVerifier, JwtVerifier } from 'aws-jwt-verify';
import type { APIGatewayAuthorizerResult, APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import { issuedAtUnacceptable } from '#domain/identity/token-time.ts';

type Claims = Record<string, unknown>;
type Verify = (token: string) => Promise<Claims>;

function required(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`Environment variable ${name} is not set`);
  return v;
}

function poolVerifier(poolIdVar: string, clientIdVar: string, suffix: 'CLIENTS' | 'STAFF'): Verify {
  const userPoolId = required(poolIdVar);
  const clientId = required(clientIdVar);
  const issuer = process.env[`JWT_ISSUER_${suffix}`];
  const jwksUri = process.env[`JWKS_URI_${suffix}`];
  if (issuer && jwksUri) {
    const v = JwtVerifier.create({ issuer, jwksUri, audience: clientId });
    return async (token) => {
      const claims = (await v.verify(token)) as Claims;
      if (claims.token_use !== 'id') throw new Error('not an ID token');
      return claims;
    };
  }
  const v = CognitoJwtVerifier.create({ userPoolId, clientId, tokenUse: 'id' });
  return async (token) => (await v.verify(token)) as Claims;
}

// Created once per container; JWKS are fetched on first use and cached.
const verifiers: Verify[] = [
  poolVerifier('USER_POOL_ID', 'USER_POOL_CLIENT_ID', 'CLIENTS'),
  poolVerifier('STAFF_USER_POOL_ID', 'STAFF_USER_POOL_CLIENT_ID', 'STAFF'),
];

async function verify(token: string): Promise<Claims | undefined> {
  for (const v of verifiers) {
    let claims: Claims;
    try {
      claims = await v(token);
    } catch {
      continue; // try the next pool
    }
    return issuedAtUnacceptable(claims.iat, Math.floor(Date.now() / 1000)) ? undefined : claims;
  }
  return undefined;
}

/** arn:aws:execute-api:region:account:apiId/stage/METHOD/path -> arn:...:apiId/stage/*\/* */
function stageWildcard(methodArn: string): string {
  const [arnPrefix, apiId, stage] = methodArn.split('/');
  return `${arnPrefix}/${apiId}/${stage}/*/*`;
}

function flatten(claims: Claims): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(claims)) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = v;
    else if (Array.isArray(v)) out[k] = v.join(',');
    else if (v !== null && v !== undefined) out[k] = JSON.stringify(v);
  }
  return out;
}

export async function handler(event: APIGatewayTokenAuthorizerEvent): Promise<APIGatewayAuthorizerResult> {
  const raw = event.authorizationToken ?? '';
  const token = raw.replace(/^Bearer\s+/i, '').trim();
  const claims = token ? await verify(token) : undefined;
  // API Gateway maps this exact message to 401 (any other error would be a 500).
  if (!claims || typeof claims.sub !== 'string') throw new Error('Unauthorized');
  return {
    principalId: claims.sub,
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: stageWildcard(event.methodArn) }],
    },
    context: { ...flatten(claims), claims: JSON.stringify(claims) },
  };
}
