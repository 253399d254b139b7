/**
 * What the sign-in use cases (create-session, answer-session-challenge) share: the pool an email signs in
 * to, and how a provider's answer goes back to the app.
 *
 * Invariants:
 * - the user pool is chosen by the UNIQUE#EMAIL item's kind (staff -> staff pool, else client pool); an
 *   unknown email still goes to the client pool, so unknown and known emails fail the same way
 *   (401 invalid_credentials); an email whose registration is pending (or crashed half-way) signs in to nothing
 * - MFA_SETUP is never handed out bare: AssociateSoftwareToken is called first and the TOTP secret
 *   (secretCode + an otpauth:// URI for a QR code, issuer = tenant brand) goes out with the session to answer
 * - tokens, passwords, codes and TOTP secrets are never logged (nothing here logs)
 */
import { cognitoIdentity, invalidCredentials } from '#adapters/identity/cognito.ts';
import type { SignInChallenge, Tokens, UserPool } from '#domain/identity/ports.ts';
import { tenantConfig } from '#shared/tenant.ts';
import { findEmailClaim, isActiveClaim } from '#store/unique-email.ts';

/** Tokens, or a challenge to answer (MFA_SETUP with the TOTP secret to enrol). */
export type SessionOutcome = Tokens | (SignInChallenge & { secretCode?: string; otpauthUri?: string });

/**
 * The pool an email signs in to: staff when the UNIQUE#EMAIL item says so, else the client pool
 * (unknown emails too, so they fail the same way). An email whose registration is still pending, or
 * crashed half-way, signs in to nothing: its Cognito user has no profile yet.
 */
export async function poolFor(email: string): Promise<UserPool> {
  const claim = await findEmailClaim(email);
  if (claim && !isActiveClaim(claim)) throw invalidCredentials();
  return claim?.kind === 'staff' ? 'staff' : 'client';
}

export function otpauthUri(email: string, secretCode: string): string {
  const brand = encodeURIComponent(tenantConfig().brand.name);
  return `otpauth://totp/${brand}:${encodeURIComponent(email)}?secret=${secretCode}&issuer=${brand}`;
}

/** MFA_SETUP goes out with the TOTP secret to enrol (AssociateSoftwareToken moves the session on). */
export async function sessionOutcome(email: string, result: Tokens | SignInChallenge): Promise<SessionOutcome> {
  if (!('challengeName' in result) || result.challengeName !== 'MFA_SETUP') return result;
  const { secretCode, session } = await cognitoIdentity.associateSoftwareToken(result.session);
  return { challengeName: 'MFA_SETUP', session, secretCode, otpauthUri: otpauthUri(email, secretCode) };
}
