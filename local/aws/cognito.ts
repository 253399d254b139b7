/**
 * The local identity provider: Cognito user pools served over the Cognito JSON protocol, so the
 * unmodified CognitoIdentityProviderClient works against it.
 *
 * Guarantees:
 * - Users, refresh-token sessions and the RSA signing key persist in one JSON data file, written
 *   atomically (temp file + rename); tokens therefore survive restarts.
 * - Usernames are e-mail addresses, compared case-insensitively (stored lower-cased).
 * - Passwords are scrypt-hashed (cognito-password.ts) and checked against Cognito's default policy.
 * - Sign-in failures never reveal whether the user exists ("Incorrect username or password.").
 * - Repeated wrong passwords lock the user out as Cognito does: the LOCKOUT_AFTER_FAILURES-th (5th) consecutive
 *   failure locks for 1 s, each further one doubles it, up to 15 minutes; while locked, every password sign-in
 *   (right or wrong, the password is not checked) is NotAuthorizedException "Password attempts exceeded", and
 *   does not extend the lockout. A successful sign-in resets the count. Kept in memory (a restart forgets it);
 *   unknown users are never locked (they only ever get "Incorrect username or password.").
 * - ID and access tokens are RS256 JWTs with Cognito's claims; `cognito:groups` is omitted when the
 *   user has no groups, as Cognito does. Refresh tokens are opaque; only their SHA-256 is stored.
 * - verifyIdToken() is what the local API gateway's authorizer uses: signature, issuer, audience,
 *   token_use, expiry, and an `iat` no more than MAX_CLOCK_SKEW_SECONDS in the future
 *   (domain/identity/token-time.ts).
 * - MFA is TOTP only, per pool (`mfa`: 'off' (default) | 'optional' | 'required'), as Cognito does it:
 *   after the password (and after NEW_PASSWORD_REQUIRED) a 'required' pool answers MFA_SETUP when the
 *   user has no verified TOTP, else SOFTWARE_TOKEN_MFA; an 'optional' pool answers SOFTWARE_TOKEN_MFA
 *   only when the user enabled TOTP (Set/AdminSetUserMFAPreference, or MFA_SETUP completed).
 *   AssociateSoftwareToken and VerifySoftwareToken work with a challenge Session or an AccessToken.
 *   Codes are RFC 6238 (HMAC-SHA1, 30 s, 6 digits, +-1 step; cognito-totp.ts); an accepted code's time
 *   step cannot be used again (ExpiredCodeException).
 * - Challenge sessions are opaque, held in memory, single-use (a successful answer consumes them and
 *   any next step gets a new one), expire after 3 minutes, and survive at most 5 wrong codes.
 * - TOTP secrets are user data: kept in the data file like password hashes, never logged.
 * Not emulated: SMS/e-mail MFA, SRP, e-mail/SMS delivery, Lambda triggers, custom pool policies,
 * remembered devices.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { exportJWK, generateKeyPair, importJWK, type JWK, type JWTPayload, jwtVerify, SignJWT } from 'jose';
import { issuedAtUnacceptable } from '#domain/identity/token-time.ts';
import { assertPasswordPolicy, hashPassword, verifyPassword } from './cognito-password.ts';
import { matchTotp, newTotpSecret } from './cognito-totp.ts';
import { AwsError } from './errors.ts';
import type { JsonService } from './server.ts';

export type MfaMode = 'off' | 'optional' | 'required';

export interface PoolConfig {
  id: string;
  clientId: string;
  groups: string[];
  /** Cognito's MfaConfiguration (TOTP only). Default 'off'. */
  mfa?: MfaMode;
}

export interface LocalCognitoOptions {
  dataFile: string;
  /** Base of the token issuer; `iss` is `${issuerBaseUrl()}/${poolId}` (the emulator's URL locally). */
  issuerBaseUrl: () => string;
  pools: PoolConfig[];
}

type UserStatus = 'FORCE_CHANGE_PASSWORD' | 'CONFIRMED';

interface StoredUser {
  username: string;
  sub: string;
  attributes: Record<string, string>;
  enabled: boolean;
  status: UserStatus;
  passwordHash?: string;
  groups: string[];
  mfa?: StoredMfa;
  created: number;
  modified: number;
}

interface StoredMfa {
  /** The verified TOTP secret (base32). */
  totpSecret?: string;
  /** A secret from AssociateSoftwareToken waiting for VerifySoftwareToken. */
  pendingSecret?: string;
  /** TOTP is enabled as this user's MFA (asked for at sign-in in an 'optional' pool). */
  totpEnabled?: boolean;
  totpPreferred?: boolean;
  /** The time step of the last accepted code: a code is accepted once. */
  lastStep?: number;
}

type ChallengeName = 'NEW_PASSWORD_REQUIRED' | 'MFA_SETUP' | 'SOFTWARE_TOKEN_MFA';
const CHALLENGES: readonly string[] = ['NEW_PASSWORD_REQUIRED', 'MFA_SETUP', 'SOFTWARE_TOKEN_MFA'];

interface Challenge {
  name: ChallengeName;
  poolId: string;
  clientId: string;
  username: string;
  expiresAt: number;
  /** Wrong codes so far on this session. */
  attempts: number;
  /** MFA_SETUP only: 'associated' after AssociateSoftwareToken, 'verified' after VerifySoftwareToken. */
  stage?: 'start' | 'associated' | 'verified';
}

interface RefreshSession {
  poolId: string;
  clientId: string;
  username: string;
  originJti: string;
  authTime: number;
  expiresAt: number;
}

interface DataFile {
  version: 1;
  signingKey?: JWK;
  users: Record<string, Record<string, StoredUser>>;
  /** Keyed by the SHA-256 (hex) of the refresh token. */
  refreshSessions: Record<string, RefreshSession>;
}

type Key = Awaited<ReturnType<typeof importJWK>>;
interface Keys {
  kid: string;
  privateKey: Key;
  publicKey: Key;
  publicJwk: JWK;
}

const TOKEN_TTL_SECONDS = 3600;
const REFRESH_TTL_SECONDS = 30 * 24 * 3600;
const CHALLENGE_TTL_MS = 3 * 60 * 1000;
const MAX_CODE_ATTEMPTS = 5;
const INVALID_SESSION = 'Invalid session for the user, session is expired.';
const INCORRECT = 'Incorrect username or password.';
const ATTEMPTS_EXCEEDED = 'Password attempts exceeded';
/** Cognito's lockout: the 5th consecutive failure locks for 1 s, each further one doubles it, up to about 15 minutes. */
export const LOCKOUT_AFTER_FAILURES = 5;
const LOCKOUT_BASE_MS = 1000;
const LOCKOUT_MAX_MS = 15 * 60 * 1000;

interface Lockout {
  failures: number;
  lockedUntil: number;
}
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

type Input = Record<string, unknown>;

const nowSeconds = () => Math.floor(Date.now() / 1000);
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const normalize = (username: string) => username.trim().toLowerCase();

function str(input: Record<string, unknown>, name: string): string {
  const v = input?.[name];
  if (typeof v !== 'string' || v === '') throw new AwsError('InvalidParameterException', `Missing required parameter ${name}`);
  return v;
}

export class LocalCognito implements JsonService {
  readonly prefix = 'AWSCognitoIdentityProviderService';
  private readonly data: DataFile;
  private readonly pools: Map<string, PoolConfig>;
  private keys?: Promise<Keys>;
  private writing: Promise<void> = Promise.resolve();
  private readonly challenges = new Map<string, Challenge>();
  /** Consecutive wrong passwords per `<poolId>/<username>` (existing users only). */
  private readonly lockouts = new Map<string, Lockout>();

  constructor(private readonly opts: LocalCognitoOptions) {
    this.pools = new Map(opts.pools.map((p) => [p.id, p]));
    let data: DataFile = { version: 1, users: {}, refreshSessions: {} };
    try {
      data = JSON.parse(readFileSync(opts.dataFile, 'utf8')) as DataFile;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    this.data = data;
    for (const p of opts.pools) this.data.users[p.id] ??= {};
  }

  // ---------------------------------------------------------------- JSON protocol

  async handle(operation: string, input: Input): Promise<unknown> {
    switch (operation) {
      case 'AdminCreateUser':
        return this.adminCreateUser(input);
      case 'AdminSetUserPassword': {
        const user = this.user(str(input, 'UserPoolId'), str(input, 'Username'));
        assertPasswordPolicy(input.Password);
        user.passwordHash = await hashPassword(input.Password);
        user.status = input.Permanent ? 'CONFIRMED' : 'FORCE_CHANGE_PASSWORD';
        return this.touch(user);
      }
      case 'AdminAddUserToGroup':
      case 'AdminRemoveUserFromGroup': {
        const poolId = str(input, 'UserPoolId');
        const user = this.user(poolId, str(input, 'Username'));
        const group = this.group(poolId, str(input, 'GroupName'));
        user.groups = user.groups.filter((g) => g !== group);
        if (operation === 'AdminAddUserToGroup') user.groups.push(group);
        return this.touch(user);
      }
      case 'AdminListGroupsForUser': {
        const poolId = str(input, 'UserPoolId');
        const user = this.user(poolId, str(input, 'Username'));
        return { Groups: user.groups.map((g) => ({ GroupName: g, UserPoolId: poolId, CreationDate: 0, LastModifiedDate: 0 })) };
      }
      case 'AdminGetUser': {
        const user = this.user(str(input, 'UserPoolId'), str(input, 'Username'));
        const { Attributes, ...rest } = userType(user);
        return {
          ...rest,
          UserAttributes: Attributes,
          UserMFASettingList: user.mfa?.totpEnabled && user.mfa.totpSecret ? ['SOFTWARE_TOKEN_MFA'] : [],
          ...(user.mfa?.totpPreferred && user.mfa.totpSecret ? { PreferredMfaSetting: 'SOFTWARE_TOKEN_MFA' } : {}),
        };
      }
      case 'AdminDeleteUser': {
        const poolId = str(input, 'UserPoolId');
        const user = this.user(poolId, str(input, 'Username'));
        delete this.data.users[poolId]![user.username];
        this.revokeSessions((s) => s.poolId === poolId && s.username === user.username);
        await this.save();
        return {};
      }
      case 'AdminDisableUser':
      case 'AdminEnableUser': {
        const poolId = str(input, 'UserPoolId');
        const user = this.user(poolId, str(input, 'Username'));
        user.enabled = operation === 'AdminEnableUser';
        return this.touch(user);
      }
      case 'AdminUserGlobalSignOut': {
        const poolId = str(input, 'UserPoolId');
        const user = this.user(poolId, str(input, 'Username'));
        this.revokeSessions((s) => s.poolId === poolId && s.username === user.username);
        await this.save();
        return {};
      }
      case 'ListUsersInGroup': {
        const poolId = str(input, 'UserPoolId');
        const group = this.group(poolId, str(input, 'GroupName'));
        const users = Object.values(this.poolUsers(poolId)).filter((u) => u.groups.includes(group));
        const page = paginate(users, input.Limit, input.NextToken);
        return { Users: page.items.map(userType), ...(page.next ? { NextToken: page.next } : {}) };
      }
      case 'ListUsers': {
        const poolId = str(input, 'UserPoolId');
        const users = Object.values(this.poolUsers(poolId)).filter(userFilter(input.Filter));
        const page = paginate(users, input.Limit, input.PaginationToken);
        return { Users: page.items.map(userType), ...(page.next ? { PaginationToken: page.next } : {}) };
      }
      case 'InitiateAuth':
        return this.initiateAuth(this.poolForClient(str(input, 'ClientId')), input);
      case 'AdminInitiateAuth': {
        const pool = this.pool(str(input, 'UserPoolId'));
        if (pool.clientId !== str(input, 'ClientId'))
          throw new AwsError('ResourceNotFoundException', `User pool client ${input.ClientId} does not exist.`);
        return this.initiateAuth(pool, input);
      }
      case 'RespondToAuthChallenge':
      case 'AdminRespondToAuthChallenge':
        return this.respondToAuthChallenge(input);
      case 'AssociateSoftwareToken':
        return this.associateSoftwareToken(input);
      case 'VerifySoftwareToken':
        return this.verifySoftwareToken(input);
      case 'AdminSetUserMFAPreference':
        return this.setMfaPreference(this.user(str(input, 'UserPoolId'), str(input, 'Username')), input);
      case 'SetUserMFAPreference':
        return this.setMfaPreference((await this.accessTokenUser(input)).user, input);
      case 'RevokeToken': {
        const hash = sha256(str(input, 'Token'));
        const session = this.data.refreshSessions[hash];
        if (session && session.clientId !== str(input, 'ClientId'))
          throw new AwsError('UnauthorizedException', 'Token does not belong to this client.');
        delete this.data.refreshSessions[hash];
        await this.save();
        return {};
      }
      default:
        throw new AwsError('UnknownOperationException', `Operation ${operation} is not supported by the local Cognito`);
    }
  }

  // ---------------------------------------------------------------- in-process API

  hasPool(poolId: string): boolean {
    return this.pools.has(poolId);
  }

  /** The public signing keys, as Cognito serves them at /<poolId>/.well-known/jwks.json. */
  async jwks(): Promise<{ keys: JWK[] }> {
    return { keys: [(await this.signingKeys()).publicJwk] };
  }

  openIdConfiguration(poolId: string) {
    const issuer = this.issuer(poolId);
    return {
      issuer,
      jwks_uri: `${issuer}/.well-known/jwks.json`,
      id_token_signing_alg_values_supported: ['RS256'],
      subject_types_supported: ['public'],
    };
  }

  /** Claims of a valid ID token from one of our pools whose user still exists and is enabled; otherwise null. */
  async verifyIdToken(token: string): Promise<Record<string, unknown> | null> {
    const { publicKey } = await this.signingKeys();
    try {
      const issuers = [...this.pools.keys()].map((id) => this.issuer(id));
      const { payload } = await jwtVerify(token, publicKey, { algorithms: ['RS256'], issuer: issuers });
      const pool = [...this.pools.values()].find((p) => this.issuer(p.id) === payload.iss);
      if (!pool || payload.token_use !== 'id' || payload.aud !== pool.clientId) return null;
      // A token "issued" after now (beyond clock skew) was not issued by us: jose checks exp and nbf, not iat.
      if (issuedAtUnacceptable(payload.iat, nowSeconds())) return null;
      // Like API Gateway's Cognito authorizer: signature, issuer, audience, token use and expiry only.
      // A disabled or deleted user's unexpired ID token still passes there, so it does here too;
      // revocation is AdminUserGlobalSignOut plus short ID-token validity, not an authorizer check.
      return payload as Record<string, unknown>;
    } catch {
      return null;
    }
  }

  /** Creates the user if missing, then makes sure the password is `password` and the user is in `groups`. Idempotent. */
  async ensureUser(
    poolId: string,
    u: { email: string; password: string; groups: string[]; attributes?: Record<string, string> },
  ): Promise<{ sub: string }> {
    const username = normalize(u.email);
    if (!this.poolUsers(poolId)[username]) {
      const UserAttributes = Object.entries({ email: username, email_verified: 'true', ...u.attributes }).map(
        ([Name, Value]) => ({
          Name,
          Value,
        }),
      );
      await this.adminCreateUser({ UserPoolId: poolId, Username: username, UserAttributes, MessageAction: 'SUPPRESS' });
    }
    const user = this.user(poolId, username);
    if (user.status !== 'CONFIRMED' || !(await verifyPassword(u.password, user.passwordHash))) {
      assertPasswordPolicy(u.password);
      user.passwordHash = await hashPassword(u.password);
      user.status = 'CONFIRMED';
    }
    for (const g of u.groups) if (!user.groups.includes(this.group(poolId, g))) user.groups.push(g);
    user.enabled = true;
    await this.touch(user);
    return { sub: user.sub };
  }

  // ---------------------------------------------------------------- operations

  private async adminCreateUser(input: Input) {
    const poolId = str(input, 'UserPoolId');
    const username = normalize(str(input, 'Username'));
    if (!EMAIL.test(username)) throw new AwsError('InvalidParameterException', 'Username should be an email.');
    const users = this.poolUsers(poolId);
    if (users[username]) throw new AwsError('UsernameExistsException', 'User account already exists');
    if (input.MessageAction !== undefined && input.MessageAction !== 'SUPPRESS')
      throw new AwsError('InvalidParameterException', 'The local Cognito sends no messages; use MessageAction SUPPRESS');
    const attributes: Record<string, string> = { email: username };
    for (const a of (input.UserAttributes ?? []) as Array<{ Name: string; Value?: string }>) {
      if (a.Name === 'sub') throw new AwsError('InvalidParameterException', 'Cannot modify the non-mutable attribute sub');
      attributes[a.Name] = a.Value ?? '';
    }
    if (normalize(attributes.email ?? '') !== username)
      throw new AwsError('InvalidParameterException', 'The email attribute must match the username.');
    attributes.email = username;
    let passwordHash: string | undefined;
    if (input.TemporaryPassword !== undefined) {
      assertPasswordPolicy(input.TemporaryPassword);
      passwordHash = await hashPassword(input.TemporaryPassword);
    }
    if (users[username]) throw new AwsError('UsernameExistsException', 'User account already exists'); // created while hashing
    const now = Date.now() / 1000;
    const sub = randomUUID();
    const user: StoredUser = {
      username,
      sub,
      attributes: { sub, ...attributes },
      enabled: true,
      status: 'FORCE_CHANGE_PASSWORD',
      ...(passwordHash ? { passwordHash } : {}),
      groups: [],
      created: now,
      modified: now,
    };
    users[username] = user;
    await this.save();
    if (input.MessageAction === undefined && !passwordHash)
      console.info(`[local-cognito] invitation e-mail not sent locally; set a password with AdminSetUserPassword (${poolId})`);
    return { User: userType(user) };
  }

  private async initiateAuth(pool: PoolConfig, input: Input) {
    const params = (input.AuthParameters ?? {}) as Record<string, unknown>;
    switch (input.AuthFlow) {
      case 'USER_PASSWORD_AUTH':
      case 'ADMIN_USER_PASSWORD_AUTH':
      case 'ADMIN_NO_SRP_AUTH': {
        const username = normalize(str(params, 'USERNAME'));
        const user = this.poolUsers(pool.id)[username];
        const lockKey = `${pool.id}/${username}`;
        const lock = this.lockouts.get(lockKey);
        if (user && lock && lock.lockedUntil > Date.now()) throw new AwsError('NotAuthorizedException', ATTEMPTS_EXCEEDED);
        const ok = await verifyPassword(str(params, 'PASSWORD'), user?.passwordHash);
        if (user && !ok) this.lockouts.set(lockKey, nextLockout(lock, Date.now()));
        if (!user || !ok) throw new AwsError('NotAuthorizedException', INCORRECT);
        this.lockouts.delete(lockKey);
        if (!user.enabled) throw new AwsError('NotAuthorizedException', 'User is disabled.');
        if (user.status === 'FORCE_CHANGE_PASSWORD') return this.challenge(pool, user, 'NEW_PASSWORD_REQUIRED');
        return this.afterPassword(pool, user);
      }
      case 'REFRESH_TOKEN_AUTH':
      case 'REFRESH_TOKEN': {
        const hash = sha256(str(params, 'REFRESH_TOKEN'));
        const session = this.data.refreshSessions[hash];
        if (!session || session.expiresAt < nowSeconds() || session.poolId !== pool.id || session.clientId !== pool.clientId)
          throw new AwsError('NotAuthorizedException', 'Invalid Refresh Token');
        const user = this.poolUsers(pool.id)[session.username];
        if (!user) throw new AwsError('NotAuthorizedException', 'Invalid Refresh Token');
        if (!user.enabled) throw new AwsError('NotAuthorizedException', 'User is disabled.');
        return {
          ChallengeParameters: {},
          AuthenticationResult: await this.tokens(pool, user, session.originJti, session.authTime),
        };
      }
      default:
        throw new AwsError('InvalidParameterException', `${input.AuthFlow} is not supported by the local Cognito.`);
    }
  }

  /** The password (and a required new password) was accepted: an MFA challenge, or tokens. */
  private async afterPassword(pool: PoolConfig, user: StoredUser) {
    const mode = pool.mfa ?? 'off';
    if (mode !== 'off') {
      const hasTotp = Boolean(user.mfa?.totpSecret);
      if (hasTotp && (mode === 'required' || user.mfa?.totpEnabled)) return this.challenge(pool, user, 'SOFTWARE_TOKEN_MFA');
      if (mode === 'required') return this.challenge(pool, user, 'MFA_SETUP');
    }
    return { ChallengeParameters: {}, AuthenticationResult: await this.startSession(pool, user) };
  }

  private challenge(pool: PoolConfig, user: StoredUser, name: ChallengeName) {
    const session = this.newSession({ name, poolId: pool.id, clientId: pool.clientId, username: user.username, attempts: 0 });
    const { sub: _sub, ...userAttributes } = user.attributes;
    const ChallengeParameters: Record<string, string> =
      name === 'NEW_PASSWORD_REQUIRED'
        ? { USER_ID_FOR_SRP: user.username, requiredAttributes: '[]', userAttributes: JSON.stringify(userAttributes) }
        : name === 'MFA_SETUP'
          ? { MFAS_CAN_SETUP: '["SOFTWARE_TOKEN_MFA"]' }
          : { USER_ID_FOR_SRP: user.username };
    return { ChallengeName: name, Session: session, ChallengeParameters };
  }

  private newSession(c: Omit<Challenge, 'expiresAt'>): string {
    const now = Date.now();
    for (const [token, old] of this.challenges) if (old.expiresAt < now) this.challenges.delete(token);
    const session = randomBytes(48).toString('base64url');
    this.challenges.set(session, { ...c, expiresAt: now + CHALLENGE_TTL_MS });
    return session;
  }

  /** The live challenge behind `session`, matching every given expectation; otherwise NotAuthorized (invalid session). */
  private liveChallenge(
    session: string,
    expect: { name?: string; clientId?: string; poolId?: unknown; username?: string },
  ): Challenge {
    const c = this.challenges.get(session);
    if (
      !c ||
      c.expiresAt < Date.now() ||
      (expect.name !== undefined && expect.name !== c.name) ||
      (expect.clientId !== undefined && expect.clientId !== c.clientId) ||
      (expect.poolId !== undefined && expect.poolId !== c.poolId) ||
      (expect.username !== undefined && normalize(expect.username) !== c.username)
    )
      throw new AwsError('NotAuthorizedException', INVALID_SESSION);
    return c;
  }

  /** A wrong code: counts against the session, which dies after MAX_CODE_ATTEMPTS. */
  private wrongCode(session: string | undefined, c: Challenge | undefined, type: string, message: string): never {
    if (session && c && ++c.attempts >= MAX_CODE_ATTEMPTS) this.challenges.delete(session);
    throw new AwsError(type, message);
  }

  private async respondToAuthChallenge(input: Input) {
    const name = input.ChallengeName;
    if (typeof name !== 'string' || !CHALLENGES.includes(name))
      throw new AwsError('InvalidParameterException', `Challenge ${String(name)} is not supported by the local Cognito.`);
    const session = str(input, 'Session');
    const responses = (input.ChallengeResponses ?? {}) as Record<string, unknown>;
    const c = this.liveChallenge(session, {
      name,
      clientId: str(input, 'ClientId'),
      poolId: input.UserPoolId,
      username: str(responses, 'USERNAME'),
    });
    const pool = this.pool(c.poolId);
    const user = this.user(c.poolId, c.username);
    if (!user.enabled) throw new AwsError('NotAuthorizedException', 'User is disabled.');
    switch (c.name) {
      case 'NEW_PASSWORD_REQUIRED': {
        assertPasswordPolicy(responses.NEW_PASSWORD);
        this.challenges.delete(session);
        user.passwordHash = await hashPassword(responses.NEW_PASSWORD);
        user.status = 'CONFIRMED';
        await this.touch(user);
        return this.afterPassword(pool, user);
      }
      case 'MFA_SETUP': {
        if (c.stage !== 'verified')
          throw new AwsError(
            'InvalidParameterException',
            'Verify a software token (VerifySoftwareToken) before answering MFA_SETUP.',
          );
        this.challenges.delete(session);
        return { ChallengeParameters: {}, AuthenticationResult: await this.startSession(pool, user) };
      }
      case 'SOFTWARE_TOKEN_MFA': {
        const code = str(responses, 'SOFTWARE_TOKEN_MFA_CODE');
        const secret = user.mfa?.totpSecret;
        const step = secret ? matchTotp(secret, code) : null;
        if (step === null) this.wrongCode(session, c, 'CodeMismatchException', 'Invalid code received for user');
        if (user.mfa?.lastStep !== undefined && step <= user.mfa.lastStep)
          this.wrongCode(session, c, 'ExpiredCodeException', 'Your software token has already been used once.');
        this.challenges.delete(session);
        user.mfa = { ...user.mfa, lastStep: step };
        await this.touch(user);
        return { ChallengeParameters: {}, AuthenticationResult: await this.startSession(pool, user) };
      }
    }
  }

  private async associateSoftwareToken(input: Input) {
    if ((input.Session === undefined) === (input.AccessToken === undefined))
      throw new AwsError('InvalidParameterException', 'Give either AccessToken or Session.');
    const secret = newTotpSecret();
    if (input.Session !== undefined) {
      const session = str(input, 'Session');
      const c = this.liveChallenge(session, { name: 'MFA_SETUP' });
      if (c.stage === 'verified') throw new AwsError('NotAuthorizedException', INVALID_SESSION);
      const user = this.user(c.poolId, c.username);
      user.mfa = { ...user.mfa, pendingSecret: secret };
      this.challenges.delete(session);
      const next = this.newSession({ ...c, attempts: 0, stage: 'associated' });
      await this.touch(user);
      return { SecretCode: secret, Session: next };
    }
    const { user } = await this.accessTokenUser(input);
    user.mfa = { ...user.mfa, pendingSecret: secret };
    await this.touch(user);
    return { SecretCode: secret };
  }

  private async verifySoftwareToken(input: Input) {
    if ((input.Session === undefined) === (input.AccessToken === undefined))
      throw new AwsError('InvalidParameterException', 'Give either AccessToken or Session.');
    const code = str(input, 'UserCode');
    let session: string | undefined;
    let c: Challenge | undefined;
    let user: StoredUser;
    if (input.Session !== undefined) {
      session = str(input, 'Session');
      c = this.liveChallenge(session, { name: 'MFA_SETUP' });
      if (c.stage !== 'associated')
        throw new AwsError('InvalidParameterException', 'Call AssociateSoftwareToken with this session first.');
      user = this.user(c.poolId, c.username);
    } else {
      user = (await this.accessTokenUser(input)).user;
    }
    const pending = user.mfa?.pendingSecret;
    if (!pending) throw new AwsError('InvalidParameterException', 'Call AssociateSoftwareToken first.');
    const step = matchTotp(pending, code);
    if (step === null)
      this.wrongCode(session, c, 'EnableSoftwareTokenMFAException', 'Code mismatch and fail enable Software Token MFA');
    // Completing MFA_SETUP makes TOTP the user's MFA; enrolling with an access token keeps the preference as it was.
    const enabled = c ? true : (user.mfa?.totpEnabled ?? false);
    user.mfa = {
      totpSecret: pending,
      totpEnabled: enabled,
      totpPreferred: c ? true : (user.mfa?.totpPreferred ?? false),
      lastStep: step,
    };
    let next: string | undefined;
    if (session && c) {
      this.challenges.delete(session);
      next = this.newSession({ ...c, attempts: 0, stage: 'verified' });
    }
    await this.touch(user);
    return { Status: 'SUCCESS', ...(next ? { Session: next } : {}) };
  }

  private async setMfaPreference(user: StoredUser, input: Input) {
    for (const other of ['SMSMfaSettings', 'EmailMfaSettings']) {
      const o = input[other] as { Enabled?: boolean; PreferredMfa?: boolean } | undefined;
      if (o?.Enabled || o?.PreferredMfa)
        throw new AwsError('InvalidParameterException', `${other} is not supported by the local Cognito.`);
    }
    const totp = input.SoftwareTokenMfaSettings as { Enabled?: boolean; PreferredMfa?: boolean } | undefined;
    if (totp) {
      if ((totp.Enabled || totp.PreferredMfa) && !user.mfa?.totpSecret)
        throw new AwsError('InvalidParameterException', 'User has not verified software token mfa');
      const mfa: StoredMfa = { ...user.mfa };
      if (totp.Enabled !== undefined) mfa.totpEnabled = totp.Enabled;
      if (totp.PreferredMfa !== undefined) mfa.totpPreferred = totp.PreferredMfa;
      if (mfa.totpPreferred) mfa.totpEnabled = true;
      user.mfa = mfa;
    }
    return this.touch(user);
  }

  /** The user behind a valid access token from one of our pools (signature, issuer, client, token_use, user enabled). */
  private async accessTokenUser(input: Input): Promise<{ pool: PoolConfig; user: StoredUser }> {
    const token = str(input, 'AccessToken');
    const invalid = () => new AwsError('NotAuthorizedException', 'Invalid Access Token');
    const { publicKey } = await this.signingKeys();
    let payload: JWTPayload;
    try {
      const issuers = [...this.pools.keys()].map((id) => this.issuer(id));
      ({ payload } = await jwtVerify(token, publicKey, { algorithms: ['RS256'], issuer: issuers }));
    } catch {
      throw invalid();
    }
    const pool = [...this.pools.values()].find((p) => this.issuer(p.id) === payload.iss);
    if (!pool || payload.token_use !== 'access' || payload.client_id !== pool.clientId) throw invalid();
    const username = payload.username;
    const user = typeof username === 'string' ? this.poolUsers(pool.id)[username] : undefined;
    if (!user || user.sub !== payload.sub) throw invalid();
    if (!user.enabled) throw new AwsError('NotAuthorizedException', 'User is disabled.');
    return { pool, user };
  }

  // ---------------------------------------------------------------- tokens

  private async startSession(pool: PoolConfig, user: StoredUser) {
    const originJti = randomUUID();
    const authTime = nowSeconds();
    const refreshToken = randomBytes(48).toString('base64url');
    this.data.refreshSessions[sha256(refreshToken)] = {
      poolId: pool.id,
      clientId: pool.clientId,
      username: user.username,
      originJti,
      authTime,
      expiresAt: authTime + REFRESH_TTL_SECONDS,
    };
    await this.save();
    return { ...(await this.tokens(pool, user, originJti, authTime)), RefreshToken: refreshToken };
  }

  private async tokens(pool: PoolConfig, user: StoredUser, originJti: string, authTime: number) {
    const { privateKey, kid } = await this.signingKeys();
    const iat = nowSeconds();
    const common: JWTPayload = {
      sub: user.sub,
      ...(user.groups.length ? { 'cognito:groups': [...user.groups] } : {}),
      iss: this.issuer(pool.id),
      origin_jti: originJti,
      event_id: randomUUID(),
      auth_time: authTime,
      iat,
      exp: iat + TOKEN_TTL_SECONDS,
    };
    const idClaims: JWTPayload = {
      ...attributeClaims(user.attributes),
      ...common,
      aud: pool.clientId,
      'cognito:username': user.username,
      token_use: 'id',
      jti: randomUUID(),
    };
    const accessClaims: JWTPayload = {
      ...common,
      client_id: pool.clientId,
      token_use: 'access',
      scope: 'aws.cognito.signin.user.admin',
      username: user.username,
      jti: randomUUID(),
    };
    const sign = (claims: JWTPayload) => new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid }).sign(privateKey);
    return {
      IdToken: await sign(idClaims),
      AccessToken: await sign(accessClaims),
      ExpiresIn: TOKEN_TTL_SECONDS,
      TokenType: 'Bearer',
    };
  }

  private signingKeys(): Promise<Keys> {
    this.keys ??= (async () => {
      let jwk = this.data.signingKey;
      if (!jwk) {
        const pair = await generateKeyPair('RS256', { extractable: true });
        jwk = { ...(await exportJWK(pair.privateKey)), kid: randomUUID(), alg: 'RS256', use: 'sig' };
        this.data.signingKey = jwk;
        await this.save();
      }
      const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = jwk;
      return {
        kid: jwk.kid!,
        privateKey: await importJWK(jwk, 'RS256'),
        publicKey: await importJWK(publicJwk, 'RS256'),
        publicJwk,
      };
    })();
    return this.keys;
  }

  // ---------------------------------------------------------------- state

  private issuer(poolId: string) {
    return `${this.opts.issuerBaseUrl().replace(/\/+$/, '')}/${poolId}`;
  }

  private pool(poolId: string): PoolConfig {
    const pool = this.pools.get(poolId);
    if (!pool) throw new AwsError('ResourceNotFoundException', `User pool ${poolId} does not exist.`);
    return pool;
  }

  private poolForClient(clientId: string): PoolConfig {
    const pool = [...this.pools.values()].find((p) => p.clientId === clientId);
    if (!pool) throw new AwsError('ResourceNotFoundException', `User pool client ${clientId} does not exist.`);
    return pool;
  }

  private poolUsers(poolId: string): Record<string, StoredUser> {
    this.pool(poolId);
    return this.data.users[poolId]!;
  }

  /** By username (case-insensitive) or by sub, as Cognito accepts either. */
  private user(poolId: string, username: string): StoredUser {
    const users = this.poolUsers(poolId);
    const user = users[normalize(username)] ?? Object.values(users).find((u) => u.sub === username);
    if (!user) throw new AwsError('UserNotFoundException', 'User does not exist.');
    return user;
  }

  private group(poolId: string, group: string): string {
    if (!this.pool(poolId).groups.includes(group)) throw new AwsError('ResourceNotFoundException', 'Group not found.');
    return group;
  }

  private revokeSessions(match: (s: RefreshSession) => boolean) {
    for (const [hash, s] of Object.entries(this.data.refreshSessions)) if (match(s)) delete this.data.refreshSessions[hash];
  }

  private async touch(user: StoredUser) {
    user.modified = Date.now() / 1000;
    await this.save();
    return {};
  }

  /** Writes the whole state atomically; writes are serialised so the file always holds a complete snapshot. */
  private save(): Promise<void> {
    const now = nowSeconds();
    this.revokeSessions((s) => s.expiresAt < now);
    const json = JSON.stringify(this.data, null, 2);
    const file = this.opts.dataFile;
    const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    this.writing = this.writing.then(async () => {
      try {
        mkdirSync(path.dirname(file), { recursive: true });
        writeFileSync(tmp, json, { mode: 0o600 });
        renameSync(tmp, file);
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
    });
    const written = this.writing;
    this.writing = written.catch(() => {});
    return written;
  }
}

/** The lockout after one more wrong password (see LOCKOUT_AFTER_FAILURES). */
function nextLockout(lock: Lockout | undefined, now: number): Lockout {
  const failures = (lock?.failures ?? 0) + 1;
  if (failures < LOCKOUT_AFTER_FAILURES) return { failures, lockedUntil: 0 };
  const ms = Math.min(LOCKOUT_MAX_MS, LOCKOUT_BASE_MS * 2 ** Math.min(failures - LOCKOUT_AFTER_FAILURES, 30));
  return { failures, lockedUntil: now + ms };
}

// ------------------------------------------------------------------ shapes

function userType(u: StoredUser) {
  return {
    Username: u.username,
    Attributes: Object.entries(u.attributes).map(([Name, Value]) => ({ Name, Value })),
    UserCreateDate: u.created,
    UserLastModifiedDate: u.modified,
    Enabled: u.enabled,
    UserStatus: u.status,
  };
}

/** User attributes as ID-token claims: *_verified become booleans, the rest stay strings. */
function attributeClaims(attributes: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(attributes)) out[k] = k.endsWith('_verified') ? v === 'true' : v;
  return out;
}

/** ListUsers filters: `attr = "value"` or `attr ^= "prefix"` (username, email, sub, status, custom attributes...). */
function userFilter(filter: unknown): (u: StoredUser) => boolean {
  if (filter === undefined || filter === '') return () => true;
  const m = /^\s*([\w:]+)\s*(\^?=)\s*"((?:[^"\\]|\\.)*)"\s*$/.exec(String(filter));
  if (!m) throw new AwsError('InvalidParameterException', 'Error while parsing filter.');
  const [, attr, op, value] = m as unknown as [string, string, string, string];
  const get = (u: StoredUser) =>
    attr === 'username' ? u.username : attr === 'status' ? (u.enabled ? 'Enabled' : 'Disabled') : u.attributes[attr];
  return (u) => {
    const v = get(u);
    return v !== undefined && (op === '=' ? v === value : v.startsWith(value));
  };
}

function paginate<T>(items: T[], limit: unknown, token: unknown): { items: T[]; next?: string } {
  const size = typeof limit === 'number' && limit > 0 ? Math.min(limit, 60) : 60;
  const start = typeof token === 'string' ? Number(Buffer.from(token, 'base64url').toString()) || 0 : 0;
  const page = items.slice(start, start + size);
  const end = start + page.length;
  return end < items.length ? { items: page, next: Buffer.from(String(end)).toString('base64url') } : { items: page };
}
