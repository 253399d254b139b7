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
 * - ID and access tokens are RS256 JWTs with Cognito's claims; `cognito:groups` is omitted when the
 *   user has no groups, as Cognito does. Refresh tokens are opaque; only their SHA-256 is stored.
 * - verifyIdToken() is what the local API gateway's authorizer uses: signature, issuer, audience,
 *   token_use, expiry, and the user still existing and enabled.
 * Not emulated: MFA, SRP, e-mail/SMS delivery, Lambda triggers, custom pool policies.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { exportJWK, generateKeyPair, importJWK, type JWK, type JWTPayload, jwtVerify, SignJWT } from 'jose';
import { assertPasswordPolicy, hashPassword, verifyPassword } from './cognito-password.ts';
import { AwsError } from './errors.ts';
import type { JsonService } from './server.ts';

export interface PoolConfig {
  id: string;
  clientId: string;
  groups: string[];
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
  created: number;
  modified: number;
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
const INCORRECT = 'Incorrect username or password.';
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
  private readonly challenges = new Map<string, { poolId: string; clientId: string; username: string; expiresAt: number }>();

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
        const { Attributes, ...rest } = userType(this.user(str(input, 'UserPoolId'), str(input, 'Username')));
        return { ...rest, UserAttributes: Attributes };
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
        return this.respondToNewPasswordChallenge(input);
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
      const username = payload['cognito:username'];
      const user = typeof username === 'string' ? this.poolUsers(pool.id)[username] : undefined;
      if (!user?.enabled || user.sub !== payload.sub) return null;
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
        const ok = await verifyPassword(str(params, 'PASSWORD'), user?.passwordHash);
        if (!user || !ok) throw new AwsError('NotAuthorizedException', INCORRECT);
        if (!user.enabled) throw new AwsError('NotAuthorizedException', 'User is disabled.');
        if (user.status === 'FORCE_CHANGE_PASSWORD') {
          const session = randomBytes(48).toString('base64url');
          this.challenges.set(session, {
            poolId: pool.id,
            clientId: pool.clientId,
            username,
            expiresAt: Date.now() + CHALLENGE_TTL_MS,
          });
          const { sub: _sub, ...userAttributes } = user.attributes;
          return {
            ChallengeName: 'NEW_PASSWORD_REQUIRED',
            Session: session,
            ChallengeParameters: {
              USER_ID_FOR_SRP: username,
              requiredAttributes: '[]',
              userAttributes: JSON.stringify(userAttributes),
            },
          };
        }
        return { ChallengeParameters: {}, AuthenticationResult: await this.startSession(pool, user) };
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

  private async respondToNewPasswordChallenge(input: Input) {
    if (input.ChallengeName !== 'NEW_PASSWORD_REQUIRED')
      throw new AwsError('InvalidParameterException', `Challenge ${input.ChallengeName} is not supported by the local Cognito.`);
    const sessionToken = str(input, 'Session');
    const challenge = this.challenges.get(sessionToken);
    const responses = (input.ChallengeResponses ?? {}) as Record<string, unknown>;
    if (
      !challenge ||
      challenge.expiresAt < Date.now() ||
      challenge.clientId !== str(input, 'ClientId') ||
      (input.UserPoolId !== undefined && input.UserPoolId !== challenge.poolId) ||
      normalize(str(responses, 'USERNAME')) !== challenge.username
    )
      throw new AwsError('NotAuthorizedException', 'Invalid session for the user, session is expired.');
    const user = this.user(challenge.poolId, challenge.username);
    assertPasswordPolicy(responses.NEW_PASSWORD);
    this.challenges.delete(sessionToken);
    user.passwordHash = await hashPassword(responses.NEW_PASSWORD);
    user.status = 'CONFIRMED';
    await this.touch(user);
    return { ChallengeParameters: {}, AuthenticationResult: await this.startSession(this.pool(challenge.poolId), user) };
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
