/**
 * POST /v1/sessions: sign-in (email + password) and token refresh (email + refreshToken).
 * POST /v1/sessions/challenges: answers a sign-in challenge (new password, TOTP code, TOTP enrolment).
 *
 * Invariants:
 * - the user pool is chosen by the UNIQUE#EMAIL item's kind (staff -> staff pool, else client pool);
 *   an unknown email still goes to Cognito (client pool), so unknown and known emails fail the same
 *   way (401 invalid_credentials) and in comparable time
 * - exactly one of password / refreshToken is given
 * - a pool that asks for a challenge gets { challengeName, session } back, and the app answers it with
 *   POST /v1/sessions/challenges (same email, the session, newPassword or code) until it gets tokens;
 *   both routes choose the pool the same way
 * - MFA_SETUP is never handed out bare: we call AssociateSoftwareToken first and return the TOTP secret
 *   (secretCode + an otpauth:// URI for a QR code, issuer = tenant brand) with the session to answer;
 *   the answer's code is checked with VerifySoftwareToken, then MFA_SETUP is completed -> tokens
 * - errors: wrong/reused code 401 invalid_mfa_code (the same session may be retried a few times),
 *   expired/used/unknown session 401 challenge_expired, refused new password 400 weak_password
 *   (field newPassword), the challenge's required field missing 400 validation_failed naming it
 * - responses carry cache-control: no-store; tokens, passwords, codes and TOTP secrets are never logged
 * - password sign-ins are throttled per account and per source, and every refused password sign-in is a
 *   security event: see the create-session use case (functions/app/identity/create-session.ts); a lock is
 *   429 sign_in_locked with Retry-After
 * - each route calls one use case: create-session, answer-session-challenge (functions/app/identity/)
 */
import * as z from 'zod';
import { answerSessionChallenge } from '#app/identity/answer-session-challenge.ts';
import { createSession } from '#app/identity/create-session.ts';
import type { ChallengeName } from '#domain/identity/ports.ts';
import { defineRoute, httpHandler } from '#middleware/http.ts';
import { emailField, passwordField } from './shared/identity-fields.ts';

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

export const CHALLENGE_NAMES = [
  'NEW_PASSWORD_REQUIRED',
  'SOFTWARE_TOKEN_MFA',
  'MFA_SETUP',
] as const satisfies readonly ChallengeName[];

/** Which answer field each challenge needs. */
const ANSWER_FIELD = {
  NEW_PASSWORD_REQUIRED: 'newPassword',
  SOFTWARE_TOKEN_MFA: 'code',
  MFA_SETUP: 'code',
} as const satisfies Record<ChallengeName, 'newPassword' | 'code'>;

export const ChallengeBody = z
  .strictObject({
    email: emailField,
    challengeName: z.enum(CHALLENGE_NAMES),
    session: z.string().min(1).max(8192),
    newPassword: passwordField.optional(),
    code: z
      .string()
      .regex(/^\d{6}$/, 'must be the 6-digit code from the authenticator app')
      .optional(),
  })
  .superRefine((b, ctx) => {
    const needed = ANSWER_FIELD[b.challengeName];
    const unused = needed === 'code' ? 'newPassword' : 'code';
    if (b[needed] === undefined)
      ctx.addIssue({
        code: 'invalid_type',
        expected: 'string',
        input: undefined,
        path: [needed],
        message: `required for ${b.challengeName}`,
      });
    if (b[unused] !== undefined) ctx.addIssue({ code: 'custom', path: [unused], message: `not used by ${b.challengeName}` });
  });

const TokensResult = z.object({
  idToken: z.string(),
  accessToken: z.string(),
  refreshToken: z.string().optional(),
  expiresIn: z.number(),
  tokenType: z.string(),
});

const ChallengeResult = z.object({
  challengeName: z.string(),
  session: z.string(),
  secretCode: z.string().optional().describe('MFA_SETUP: the TOTP secret (base32) to add to an authenticator app'),
  otpauthUri: z.string().optional().describe('MFA_SETUP: the same secret as an otpauth:// URI, for a QR code'),
});

export const SessionResult = z.union([TokensResult, ChallengeResult]);

const NO_STORE = { 'cache-control': 'no-store' };

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
      429: { description: 'sign_in_locked: too many failed sign-ins for this account or from this source; see Retry-After' },
    },
    handler: async ({ body, event, correlationId, locale }) => ({
      status: 200,
      body: await createSession(
        { ...body, sourceIp: event.requestContext?.identity?.sourceIp },
        { requestId: correlationId, locale },
      ),
      headers: NO_STORE,
    }),
  }),
  defineRoute({
    method: 'POST',
    path: '/v1/sessions/challenges',
    operationId: 'answerSessionChallenge',
    summary: 'Answer a sign-in challenge: new password, TOTP code, or first TOTP code after enrolment',
    tags: ['identity'],
    auth: 'public',
    body: ChallengeBody,
    responses: {
      200: {
        description: 'Tokens, or the next challenge (MFA_SETUP comes with secretCode and otpauthUri)',
        schema: SessionResult,
      },
      400: { description: 'validation_failed (the field the challenge needs), weak_password (newPassword)' },
      401: { description: 'invalid_mfa_code, challenge_expired' },
    },
    handler: async ({ body, correlationId, locale }) => ({
      status: 200,
      body: await answerSessionChallenge(body, { requestId: correlationId, locale }),
      headers: NO_STORE,
    }),
  }),
];

export const handler = httpHandler(...routes);
