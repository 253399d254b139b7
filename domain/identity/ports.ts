/**
 * The identity provider port. The Cognito adapter (functions/adapters/identity/cognito.ts) implements it.
 *
 * Invariants:
 * - users are addressed by their normalised email (the sign-in name); `sub` is the stable id
 *   (a client's clientId, a staff user's staffId)
 * - a duplicate user surfaces as DomainError 'email_taken' (conflict); bad credentials, unknown
 *   users and disabled users are indistinguishable to the caller ('invalid_credentials')
 * - sign-in challenges are answered with the opaque `session` the provider gave; a wrong or reused
 *   TOTP code is 'invalid_mfa_code', an expired, used or unknown session 'challenge_expired', a new
 *   password the provider refuses 'weak_password' (field newPassword)
 */
export type UserPool = 'client' | 'staff';

export interface Tokens {
  idToken: string;
  accessToken: string;
  /** Absent on a refresh: the caller keeps the refresh token it sent. */
  refreshToken?: string;
  expiresIn: number;
  tokenType: string;
}

export interface SignInChallenge {
  challengeName: string;
  session: string;
}

/** The challenges our API answers (TOTP is the only second factor: ADR 0002). */
export type ChallengeName = 'NEW_PASSWORD_REQUIRED' | 'SOFTWARE_TOKEN_MFA' | 'MFA_SETUP';

export interface ChallengeAnswer {
  challengeName: ChallengeName;
  email: string;
  session: string;
  /** NEW_PASSWORD_REQUIRED */
  newPassword?: string;
  /** SOFTWARE_TOKEN_MFA (6 digits). MFA_SETUP is answered after verifySoftwareToken, without a code. */
  code?: string;
}

export interface CreateUserInput {
  email: string;
  givenName: string;
  familyName: string;
  /** Permanent password (self-registration). The user is created with the welcome message suppressed. */
  password?: string;
  /** Temporary password; without one and without `password`, the provider sends its own invitation. */
  temporaryPassword?: string;
  /**
   * Whether the provider may treat the address as verified. True only when an admin typed it (staff);
   * a self-registered client's address is unverified until it proves it (default false).
   */
  emailVerified?: boolean;
}

export interface IdentityUser {
  sub: string;
  email: string;
  enabled: boolean;
  status: string;
}

export interface IdentityProvider {
  /** Creates a user; an existing username is DomainError 'email_taken' (the caller decides whether to adopt it). */
  createUser(pool: UserPool, input: CreateUserInput): Promise<{ sub: string }>;
  setPassword(pool: UserPool, email: string, password: string): Promise<void>;
  addToGroup(pool: UserPool, email: string, group: string): Promise<void>;
  /** Idempotent: an unknown user is not an error. */
  deleteUser(pool: UserPool, email: string): Promise<void>;
  /** The user (its sub) or null when there is none. */
  getUser(pool: UserPool, email: string): Promise<IdentityUser | null>;
  signIn(pool: UserPool, email: string, password: string): Promise<Tokens | SignInChallenge>;
  refresh(pool: UserPool, refreshToken: string): Promise<Tokens>;
  respondToChallenge(pool: UserPool, answer: ChallengeAnswer): Promise<Tokens | SignInChallenge>;
  /** Starts TOTP enrolment inside an MFA_SETUP challenge: the secret to show the user, and the next session. */
  associateSoftwareToken(session: string): Promise<{ secretCode: string; session: string }>;
  /** Checks the first code from the user's authenticator inside MFA_SETUP; returns the next session. */
  verifySoftwareToken(session: string, code: string): Promise<{ session: string }>;
}
