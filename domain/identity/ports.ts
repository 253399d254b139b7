/**
 * The identity provider port. The Cognito adapter (functions/adapters/identity/cognito.ts) implements it.
 *
 * Invariants:
 * - users are addressed by their normalised email (the sign-in name); `sub` is the stable id
 *   (a client's clientId, a staff user's staffId)
 * - a duplicate user surfaces as DomainError 'email_taken' (conflict); bad credentials, unknown
 *   users and disabled users are indistinguishable to the caller ('invalid_credentials')
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

export interface CreateUserInput {
  email: string;
  givenName: string;
  familyName: string;
  /** Permanent password (self-registration). The user is created with the welcome message suppressed. */
  password?: string;
  /** Temporary password; without one and without `password`, the provider sends its own invitation. */
  temporaryPassword?: string;
}

export interface IdentityUser {
  sub: string;
  email: string;
  enabled: boolean;
  status: string;
}

export interface IdentityProvider {
  createUser(pool: UserPool, input: CreateUserInput): Promise<{ sub: string }>;
  setPassword(pool: UserPool, email: string, password: string): Promise<void>;
  addToGroup(pool: UserPool, email: string, group: string): Promise<void>;
  deleteUser(pool: UserPool, email: string): Promise<void>;
  getUser(pool: UserPool, email: string): Promise<IdentityUser | null>;
  signIn(pool: UserPool, email: string, password: string): Promise<Tokens | SignInChallenge>;
  refresh(pool: UserPool, refreshToken: string): Promise<Tokens>;
}
