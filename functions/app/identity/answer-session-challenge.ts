/**
 * Answering a sign-in challenge (POST /v1/sessions/challenges): a new password, a TOTP code, or the first
 * TOTP code after enrolment.
 *
 * Invariants:
 * - the pool is chosen the same way as for the sign-in that raised the challenge (sessions.ts poolFor)
 * - MFA_SETUP: the code is checked with VerifySoftwareToken, then MFA_SETUP is completed -> tokens (or the
 *   next challenge)
 * - errors come from the identity provider: wrong/reused code 401 invalid_mfa_code, expired/used/unknown
 *   session 401 challenge_expired, refused new password 400 weak_password (field newPassword)
 * - the answer field the challenge needs is present (checked by the edge); nothing here logs
 */
import { cognitoIdentity } from '#adapters/identity/cognito.ts';
import type { CommandContext } from '#app/context.ts';
import type { ChallengeName } from '#domain/identity/ports.ts';
import { normalizeEmail } from '#domain/identity/rules.ts';
import { poolFor, type SessionOutcome, sessionOutcome } from './sessions.ts';

export interface AnswerSessionChallengeInput {
  email: string;
  challengeName: ChallengeName;
  /** The opaque session the challenge came with. */
  session: string;
  /** NEW_PASSWORD_REQUIRED */
  newPassword?: string | undefined;
  /** SOFTWARE_TOKEN_MFA, MFA_SETUP: the 6-digit code. */
  code?: string | undefined;
}

export async function answerSessionChallenge(input: AnswerSessionChallengeInput, _ctx: CommandContext): Promise<SessionOutcome> {
  const email = normalizeEmail(input.email);
  const pool = await poolFor(email);
  const { challengeName } = input;
  if (challengeName === 'MFA_SETUP') {
    const { session } = await cognitoIdentity.verifySoftwareToken(input.session, input.code!);
    return sessionOutcome(email, await cognitoIdentity.respondToChallenge(pool, { challengeName, email, session }));
  }
  const answer = challengeName === 'NEW_PASSWORD_REQUIRED' ? { newPassword: input.newPassword! } : { code: input.code! };
  return sessionOutcome(
    email,
    await cognitoIdentity.respondToChallenge(pool, { challengeName, email, session: input.session, ...answer }),
  );
}
