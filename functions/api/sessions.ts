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
 * - password sign-ins are throttled per account (normalised email, known or not) and per source (the request's
 *   source IP) with the policy of domain/identity/sign-in-throttle.ts: before the password is checked, a locked
 *   account or source is 429 sign_in_locked with Retry-After (nothing counted, Cognito not called); a refused
 *   password, an unknown account and Cognito's own lockout ("Password attempts exceeded") are each counted once,
 *   atomically (store/sign-in-throttle.ts), and answered 401 invalid_credentials, or 429 sign_in_locked when
 *   that failure locks. Known and unknown emails take the same path (same reads, same counting, same answer);
 *   a successful password resets the account's counter
 * - every refused password sign-in is a security event: sign_in_failed (the password was checked, or the
 *   account is unknown) or sign_in_locked (refused without a check), by the source, aimed at the account
 *   (client:<id>, staff:<id>, or account:<hash> when no one has the email; never the email itself)
 */
import * as z from 'zod';
import { cognitoIdentity, invalidCredentials } from '#adapters/identity/cognito.ts';
import { DomainError, isDomainError } from '#domain/errors.ts';
import type { ChallengeName, SignInChallenge, Tokens, UserPool } from '#domain/identity/ports.ts';
import { normalizeEmail } from '#domain/identity/rules.ts';
import { type SecurityEventKind, sourceOf } from '#domain/security/events.ts';
import { defineRoute, httpHandler } from '#middleware/http.ts';
import { tenantConfig } from '#shared/tenant.ts';
import { recordSecurityEvent } from '#store/security-events.ts';
import { accountHash, countSignInFailure, lockOf, readCounters, resetAccount } from '#store/sign-in-throttle.ts';
import { findEmailClaim, isActiveClaim, type UniqueEmailItem } from '#store/unique-email.ts';
import { emailField, passwordField } from './registrations.ts';

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

type SessionOutcome = Tokens | (SignInChallenge & { secretCode?: string; otpauthUri?: string });

/**
 * The pool an email signs in to: staff when the UNIQUE#EMAIL item says so, else the client pool
 * (unknown emails too, so they fail the same way). An email whose registration is still pending, or
 * crashed half-way, signs in to nothing: its Cognito user has no profile yet.
 */
async function poolFor(email: string): Promise<UserPool> {
  const claim = await findEmailClaim(email);
  if (claim && !isActiveClaim(claim)) throw invalidCredentials();
  return claim?.kind === 'staff' ? 'staff' : 'client';
}

export function otpauthUri(email: string, secretCode: string): string {
  const brand = encodeURIComponent(tenantConfig().brand.name);
  return `otpauth://totp/${brand}:${encodeURIComponent(email)}?secret=${secretCode}&issuer=${brand}`;
}

/** MFA_SETUP goes out with the TOTP secret to enrol (AssociateSoftwareToken moves the session on). */
async function present(email: string, result: Tokens | SignInChallenge): Promise<SessionOutcome> {
  if (!('challengeName' in result) || result.challengeName !== 'MFA_SETUP') return result;
  const { secretCode, session } = await cognitoIdentity.associateSoftwareToken(result.session);
  return { challengeName: 'MFA_SETUP', session, secretCode, otpauthUri: otpauthUri(email, secretCode) };
}

export const signInLocked = (retryAfterSeconds: number) =>
  new DomainError('sign_in_locked', 'rate_limited', 'Too many failed sign-in attempts; try again later', [], {
    retryAfterSeconds,
  });

/** The request a sign-in came in: its source IP (API Gateway's requestContext.identity.sourceIp) and id. */
export interface SignInContext {
  sourceIp?: string | null | undefined;
  requestId: string;
}

/** The account a sign-in aims at, as a security event names it: never the email. */
function accountTarget(email: string, claim: UniqueEmailItem | undefined): { target: string; clientId?: string } {
  if (claim && isActiveClaim(claim)) {
    return claim.kind === 'staff'
      ? { target: `staff:${claim.ownerId}` }
      : { target: `client:${claim.ownerId}`, clientId: claim.ownerId };
  }
  return { target: `account:${accountHash(email).slice(0, 16)}` };
}

const isSignInFailure = (err: unknown): err is DomainError =>
  isDomainError(err) && (err.code === 'invalid_credentials' || err.code === 'password_attempts_exceeded');

/** Email + password, behind the throttle (see the module invariants). */
async function passwordSignIn(email: string, password: string, ctx: SignInContext): Promise<SessionOutcome> {
  const source = sourceOf(ctx.sourceIp);
  const subject = { email, source };
  const now = Date.now();
  const [claim, counters] = await Promise.all([findEmailClaim(email), readCounters(subject, now)]);
  const account = accountTarget(email, claim);
  const record = (kind: SecurityEventKind) =>
    recordSecurityEvent({
      kind,
      by: source,
      target: account.target,
      clientId: account.clientId,
      source,
      requestId: ctx.requestId,
    });

  const locked = lockOf(counters, now);
  if (locked) {
    await record('sign_in_locked');
    throw signInLocked(locked.retryAfterSeconds);
  }
  let result: Tokens | SignInChallenge;
  try {
    // A registration still pending (or crashed half-way) signs in to nothing: its user has no profile yet.
    if (claim && !isActiveClaim(claim)) throw invalidCredentials();
    result = await cognitoIdentity.signIn(claim?.kind === 'staff' ? 'staff' : 'client', email, password);
  } catch (err) {
    if (!isSignInFailure(err)) throw err;
    const failedAt = Date.now();
    const lock = lockOf(await countSignInFailure(subject, failedAt), failedAt);
    // Cognito's lockout refused without checking the password; anything else was a checked, wrong password.
    const providerLocked = err.code === 'password_attempts_exceeded';
    await record(providerLocked ? 'sign_in_locked' : 'sign_in_failed');
    if (lock || providerLocked) throw signInLocked(lock?.retryAfterSeconds ?? 1);
    throw invalidCredentials();
  }
  if (counters.account) await resetAccount(email);
  return present(email, result);
}

export async function createSession(body: z.infer<typeof SessionBody>, ctx: SignInContext): Promise<SessionOutcome> {
  const email = normalizeEmail(body.email);
  if (body.refreshToken !== undefined) return cognitoIdentity.refresh(await poolFor(email), body.refreshToken);
  return passwordSignIn(email, body.password!, ctx);
}

export async function answerChallenge(body: z.infer<typeof ChallengeBody>): Promise<SessionOutcome> {
  const email = normalizeEmail(body.email);
  const pool = await poolFor(email);
  const { challengeName } = body;
  if (challengeName === 'MFA_SETUP') {
    const { session } = await cognitoIdentity.verifySoftwareToken(body.session, body.code!);
    return present(email, await cognitoIdentity.respondToChallenge(pool, { challengeName, email, session }));
  }
  const answer = challengeName === 'NEW_PASSWORD_REQUIRED' ? { newPassword: body.newPassword! } : { code: body.code! };
  return present(
    email,
    await cognitoIdentity.respondToChallenge(pool, { challengeName, email, session: body.session, ...answer }),
  );
}

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
    handler: async ({ body, event, correlationId }) => ({
      status: 200,
      body: await createSession(body, { sourceIp: event.requestContext?.identity?.sourceIp, requestId: correlationId }),
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
    handler: async ({ body }) => ({ status: 200, body: await answerChallenge(body), headers: NO_STORE }),
  }),
];

export const handler = httpHandler(...routes);
