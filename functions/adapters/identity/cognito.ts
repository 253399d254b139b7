/**
 * Cognito adapter for the identity port. Uses the Cognito Identity Provider SDK only; locally the
 * same calls go to a Cognito emulator through AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER, so there is
 * no local branch here.
 *
 * Invariants:
 * - clients live in env.userPoolId / env.userPoolClientId, staff in env.staffUserPoolId /
 *   env.staffUserPoolClientId; the pool is always chosen explicitly by the caller
 * - users are created with MessageAction SUPPRESS when we set the password ourselves; email_verified
 *   is 'true' only when the caller says so (admin-created staff), else 'false' (a self-registered
 *   client has not proved it owns the address)
 * - Cognito errors a caller can cause map to DomainErrors: UsernameExists -> email_taken (409),
 *   InvalidPassword -> weak_password (400), NotAuthorized / UserNotFound / UserNotConfirmed /
 *   PasswordResetRequired -> invalid_credentials (401), except Cognito's own lockout (NotAuthorized "Password
 *   attempts exceeded") -> password_attempts_exceeded (rate_limited: sessions.ts answers it 429 sign_in_locked,
 *   exactly as its own throttle); anything else propagates (500)
 * - challenge answers (respondToChallenge, associate/verifySoftwareToken) also map CodeMismatch /
 *   EnableSoftwareTokenMFA / ExpiredCode -> invalid_mfa_code (401), NotAuthorized about the session ->
 *   challenge_expired (401), InvalidPassword -> weak_password on field newPassword (400)
 * - emails, passwords, codes and TOTP secrets are never logged
 */
import {
  AdminAddUserToGroupCommand,
  AdminCreateUserCommand,
  AdminDeleteUserCommand,
  AdminGetUserCommand,
  AdminSetUserPasswordCommand,
  AssociateSoftwareTokenCommand,
  type AuthenticationResultType,
  InitiateAuthCommand,
  RespondToAuthChallengeCommand,
  VerifySoftwareTokenCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { DomainError } from '#domain/errors.ts';
import type {
  ChallengeAnswer,
  CreateUserInput,
  IdentityProvider,
  IdentityUser,
  SignInChallenge,
  Tokens,
  UserPool,
} from '#domain/identity/ports.ts';
import { cognito } from '#shared/clients.ts';
import { env } from '#shared/env.ts';

const poolId = (pool: UserPool) => (pool === 'staff' ? env.staffUserPoolId : env.userPoolId);
const clientId = (pool: UserPool) => (pool === 'staff' ? env.staffUserPoolClientId : env.userPoolClientId);

const nameOf = (err: unknown) => (err && typeof err === 'object' && 'name' in err ? String((err as { name: unknown }).name) : '');

export const invalidCredentials = () =>
  new DomainError('invalid_credentials', 'unauthorized', 'The email or password is incorrect');

/** Cognito locked the user out after repeated wrong passwords (it says so whatever the password was). */
export const passwordAttemptsExceeded = () =>
  new DomainError('password_attempts_exceeded', 'rate_limited', 'Too many failed sign-in attempts; try again later');

const isCognitoLockout = (err: unknown) =>
  nameOf(err) === 'NotAuthorizedException' && /password attempts exceeded/i.test(err instanceof Error ? err.message : '');

function mapError(err: unknown): never {
  if (isCognitoLockout(err)) throw passwordAttemptsExceeded();
  switch (nameOf(err)) {
    case 'UsernameExistsException':
    case 'AliasExistsException':
      throw new DomainError('email_taken', 'conflict', 'An account with this email already exists', [
        { field: 'email', code: 'email_taken', message: 'already registered' },
      ]);
    case 'InvalidPasswordException':
      throw new DomainError('weak_password', 'validation', 'The password does not meet the password policy', [
        { field: 'password', code: 'weak_password', message: 'does not meet the password policy' },
      ]);
    case 'NotAuthorizedException':
    case 'UserNotFoundException':
    case 'UserNotConfirmedException':
    case 'PasswordResetRequiredException':
      throw invalidCredentials();
    default:
      throw err;
  }
}

export const invalidMfaCode = () =>
  new DomainError(
    'invalid_mfa_code',
    'unauthorized',
    'The code is wrong or has expired; enter the current code from your authenticator app',
    [{ field: 'code', code: 'invalid_mfa_code', message: 'wrong or expired code' }],
  );

export const challengeExpired = () =>
  new DomainError('challenge_expired', 'unauthorized', 'This sign-in step has expired or was already used; sign in again', [
    { field: 'session', code: 'challenge_expired', message: 'expired, already used or unknown' },
  ]);

const messageOf = (err: unknown) => (err instanceof Error ? err.message : '');

function mapChallengeError(err: unknown): never {
  switch (nameOf(err)) {
    case 'CodeMismatchException':
    case 'EnableSoftwareTokenMFAException':
    case 'ExpiredCodeException':
      throw invalidMfaCode();
    case 'InvalidPasswordException':
      throw new DomainError('weak_password', 'validation', 'The password does not meet the password policy', [
        { field: 'newPassword', code: 'weak_password', message: 'does not meet the password policy' },
      ]);
    case 'NotAuthorizedException':
      if (/session/i.test(messageOf(err))) throw challengeExpired();
      throw invalidCredentials();
    default:
      return mapError(err);
  }
}

const challengeOf = (res: { ChallengeName?: string | undefined; Session?: string | undefined }): SignInChallenge | null =>
  res.ChallengeName ? { challengeName: res.ChallengeName, session: res.Session ?? '' } : null;

function tokens(r: AuthenticationResultType | undefined): Tokens {
  if (!r?.IdToken || !r.AccessToken) throw new Error('Cognito returned no tokens');
  return {
    idToken: r.IdToken,
    accessToken: r.AccessToken,
    ...(r.RefreshToken ? { refreshToken: r.RefreshToken } : {}),
    expiresIn: r.ExpiresIn ?? 3600,
    tokenType: r.TokenType ?? 'Bearer',
  };
}

export const cognitoIdentity: IdentityProvider = {
  async createUser(pool: UserPool, input: CreateUserInput) {
    const suppress = input.password !== undefined || input.temporaryPassword !== undefined;
    const res = await cognito()
      .send(
        new AdminCreateUserCommand({
          UserPoolId: poolId(pool),
          Username: input.email,
          UserAttributes: [
            { Name: 'email', Value: input.email },
            { Name: 'email_verified', Value: input.emailVerified === true ? 'true' : 'false' },
            { Name: 'given_name', Value: input.givenName },
            { Name: 'family_name', Value: input.familyName },
          ],
          ...(input.temporaryPassword ? { TemporaryPassword: input.temporaryPassword } : {}),
          ...(suppress ? { MessageAction: 'SUPPRESS' as const } : { DesiredDeliveryMediums: ['EMAIL' as const] }),
        }),
      )
      .catch(mapError);
    const sub = res.User?.Attributes?.find((a) => a.Name === 'sub')?.Value;
    if (!sub) throw new Error('Cognito AdminCreateUser returned no sub');
    return { sub };
  },

  async setPassword(pool, email, password) {
    await cognito()
      .send(new AdminSetUserPasswordCommand({ UserPoolId: poolId(pool), Username: email, Password: password, Permanent: true }))
      .catch(mapError);
  },

  async addToGroup(pool, email, group) {
    await cognito().send(new AdminAddUserToGroupCommand({ UserPoolId: poolId(pool), Username: email, GroupName: group }));
  },

  async deleteUser(pool, email) {
    await cognito()
      .send(new AdminDeleteUserCommand({ UserPoolId: poolId(pool), Username: email }))
      .catch((err: unknown) => {
        if (nameOf(err) !== 'UserNotFoundException') throw err;
      });
  },

  async getUser(pool, email): Promise<IdentityUser | null> {
    try {
      const res = await cognito().send(new AdminGetUserCommand({ UserPoolId: poolId(pool), Username: email }));
      const attr = (n: string) => res.UserAttributes?.find((a) => a.Name === n)?.Value;
      return {
        sub: attr('sub') ?? '',
        email: attr('email') ?? email,
        enabled: res.Enabled ?? false,
        status: res.UserStatus ?? 'UNKNOWN',
      };
    } catch (err) {
      if (nameOf(err) === 'UserNotFoundException') return null;
      throw err;
    }
  },

  async signIn(pool, email, password): Promise<Tokens | SignInChallenge> {
    const res = await cognito()
      .send(
        new InitiateAuthCommand({
          AuthFlow: 'USER_PASSWORD_AUTH',
          ClientId: clientId(pool),
          AuthParameters: { USERNAME: email, PASSWORD: password },
        }),
      )
      .catch(mapError);
    return challengeOf(res) ?? tokens(res.AuthenticationResult);
  },

  async respondToChallenge(pool, answer: ChallengeAnswer): Promise<Tokens | SignInChallenge> {
    const responses: Record<string, string> = { USERNAME: answer.email };
    if (answer.challengeName === 'NEW_PASSWORD_REQUIRED') responses.NEW_PASSWORD = answer.newPassword ?? '';
    if (answer.challengeName === 'SOFTWARE_TOKEN_MFA') responses.SOFTWARE_TOKEN_MFA_CODE = answer.code ?? '';
    const res = await cognito()
      .send(
        new RespondToAuthChallengeCommand({
          ClientId: clientId(pool),
          ChallengeName: answer.challengeName,
          Session: answer.session,
          ChallengeResponses: responses,
        }),
      )
      .catch(mapChallengeError);
    return challengeOf(res) ?? tokens(res.AuthenticationResult);
  },

  async associateSoftwareToken(session) {
    const res = await cognito()
      .send(new AssociateSoftwareTokenCommand({ Session: session }))
      .catch(mapChallengeError);
    if (!res.SecretCode || !res.Session) throw new Error('Cognito AssociateSoftwareToken returned no secret or session');
    return { secretCode: res.SecretCode, session: res.Session };
  },

  async verifySoftwareToken(session, code) {
    const res = await cognito()
      .send(new VerifySoftwareTokenCommand({ Session: session, UserCode: code }))
      .catch(mapChallengeError);
    if (res.Status !== 'SUCCESS') throw invalidMfaCode();
    if (!res.Session) throw new Error('Cognito VerifySoftwareToken returned no session');
    return { session: res.Session };
  },

  async refresh(pool, refreshToken) {
    const res = await cognito()
      .send(
        new InitiateAuthCommand({
          AuthFlow: 'REFRESH_TOKEN_AUTH',
          ClientId: clientId(pool),
          AuthParameters: { REFRESH_TOKEN: refreshToken },
        }),
      )
      .catch(mapError);
    return tokens(res.AuthenticationResult);
  },
};
