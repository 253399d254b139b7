/**
 * Cognito adapter for the identity port. Uses the Cognito Identity Provider SDK only; locally the
 * same calls go to a Cognito emulator through AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER, so there is
 * no local branch here.
 *
 * Invariants:
 * - clients live in env.userPoolId / env.userPoolClientId, staff in env.staffUserPoolId /
 *   env.staffUserPoolClientId; the pool is always chosen explicitly by the caller
 * - users are created with MessageAction SUPPRESS when we set the password ourselves, and with
 *   email_verified = true (the address was typed by the user or by an admin)
 * - Cognito errors a caller can cause map to DomainErrors: UsernameExists -> email_taken (409),
 *   InvalidPassword -> weak_password (400), NotAuthorized / UserNotFound / UserNotConfirmed /
 *   PasswordResetRequired -> invalid_credentials (401); anything else propagates (500)
 * - emails and passwords are never logged
 */
import {
  AdminAddUserToGroupCommand,
  AdminCreateUserCommand,
  AdminDeleteUserCommand,
  AdminGetUserCommand,
  AdminSetUserPasswordCommand,
  type AuthenticationResultType,
  InitiateAuthCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { DomainError } from '#domain/errors.ts';
import type {
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

function mapError(err: unknown): never {
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
            { Name: 'email_verified', Value: 'true' },
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
    if (res.ChallengeName) return { challengeName: res.ChallengeName, session: res.Session ?? '' };
    return tokens(res.AuthenticationResult);
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
