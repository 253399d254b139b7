/**
 * POST /v1/sessions: sign-in (email + password) and token refresh (email + refreshToken).
 *
 * Invariants:
 * - the user pool is chosen by the UNIQUE#EMAIL item's kind (staff -> staff pool, else client pool);
 *   an unknown email still goes to Cognito (client pool), so unknown and known emails fail the same
 *   way (401 invalid_credentials) and in comparable time
 * - exactly one of password / refreshToken is given
 * - a pool that asks for a challenge (MFA, new password) gets { challengeName, session } back; the
 *   app answers it with Cognito RespondToAuthChallenge on the public app client
 * - tokens and passwords are never logged
 */
import * as z from 'zod';
import { cognitoIdentity } from '#adapters/identity/cognito.ts';
import { normalizeEmail } from '#domain/identity/rules.ts';
import { defineRoute, httpHandler } from '#middleware/http.ts';
import { findEmailOwner } from '#store/unique-email.ts';
import { emailField } from './registrations.ts';

export const SessionBody = z
  .strictObject({
    email: emailField,
    password: z.string().min(1).max(1024).optional(),
    refreshToken: z.string().min(1).max(8192).optional(),
  })
  .refine((b) => (b.password === undefined) !== (b.refreshToken === undefined), {
    message: 'give either password or refreshToken',
    path: ['password'],
    params: { code: 'invalid_credentials_shape' },
  });

export const SessionResult = z.union([
  z.object({
    idToken: z.string(),
    accessToken: z.string(),
    refreshToken: z.string().optional(),
    expiresIn: z.number(),
    tokenType: z.string(),
  }),
  z.object({ challengeName: z.string(), session: z.string() }),
]);

export async function createSession(body: z.infer<typeof SessionBody>) {
  const email = normalizeEmail(body.email);
  const owner = await findEmailOwner(email);
  const pool = owner?.kind === 'staff' ? 'staff' : 'client';
  if (body.refreshToken !== undefined) return cognitoIdentity.refresh(pool, body.refreshToken);
  return cognitoIdentity.signIn(pool, email, body.password!);
}

export const routes = [
  defineRoute({
    method: 'POST',
    path: '/v1/sessions',
    operationId: 'createSession',
    summary: 'Sign in with email and password, or refresh tokens',
    tags: ['identity'],
    auth: 'public',
    body: SessionBody,
    responses: {
      200: { description: 'Tokens, or a challenge to answer', schema: SessionResult },
      401: { description: 'invalid_credentials' },
    },
    handler: async ({ body }) => ({ status: 200, body: await createSession(body) }),
  }),
];

export const handler = httpHandler(...routes);
