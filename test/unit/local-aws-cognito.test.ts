import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  AdminAddUserToGroupCommand,
  AdminCreateUserCommand,
  AdminDisableUserCommand,
  AdminEnableUserCommand,
  AdminGetUserCommand,
  AdminInitiateAuthCommand,
  AdminListGroupsForUserCommand,
  AdminRemoveUserFromGroupCommand,
  AdminSetUserPasswordCommand,
  AdminUserGlobalSignOutCommand,
  CognitoIdentityProviderClient,
  InitiateAuthCommand,
  ListUsersCommand,
  ListUsersInGroupCommand,
  RespondToAuthChallengeCommand,
  UsernameExistsException,
} from '@aws-sdk/client-cognito-identity-provider';
import { createRemoteJWKSet, decodeJwt, generateKeyPair, importJWK, jwtVerify, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalCognito } from '#local/aws/cognito.ts';
import { type AwsEmulator, startAwsEmulator } from '#local/aws/server.ts';

const CLIENT_POOL = { id: 'us-east-1_clients', clientId: 'clientsapp', groups: ['client', 'partner'] };
const STAFF_POOL = { id: 'us-east-1_staff', clientId: 'staffapp', groups: ['admin', 'compliance', 'finance'] };
const PASSWORD = 'Corr3ct-Horse!';

let dir: string;
let dataFile: string;
let emulator: AwsEmulator;
let cognito: LocalCognito;
let client: CognitoIdentityProviderClient;

async function start(port = 0) {
  cognito = new LocalCognito({ dataFile, issuerBaseUrl: () => emulator.url, pools: [CLIENT_POOL, STAFF_POOL] });
  emulator = await startAwsEmulator({ port, services: [], cognito });
  client = new CognitoIdentityProviderClient({
    endpoint: emulator.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
}

const signIn = (username: string, password: string) =>
  client.send(
    new InitiateAuthCommand({
      AuthFlow: 'USER_PASSWORD_AUTH',
      ClientId: CLIENT_POOL.clientId,
      AuthParameters: { USERNAME: username, PASSWORD: password },
    }),
  );

async function createUser(email: string, groups: string[] = ['client']) {
  const out = await client.send(
    new AdminCreateUserCommand({
      UserPoolId: CLIENT_POOL.id,
      Username: email,
      UserAttributes: [
        { Name: 'email', Value: email },
        { Name: 'email_verified', Value: 'true' },
        { Name: 'custom:tenant', Value: 'demo' },
      ],
      MessageAction: 'SUPPRESS',
    }),
  );
  await client.send(
    new AdminSetUserPasswordCommand({ UserPoolId: CLIENT_POOL.id, Username: email, Password: PASSWORD, Permanent: true }),
  );
  for (const g of groups)
    await client.send(new AdminAddUserToGroupCommand({ UserPoolId: CLIENT_POOL.id, Username: email, GroupName: g }));
  return out.User!.Attributes!.find((a) => a.Name === 'sub')!.Value!;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'local-cognito-'));
  dataFile = path.join(dir, 'cognito.json');
  await start();
});

afterAll(async () => {
  client?.destroy();
  await emulator?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('local Cognito through the real SDK client', () => {
  it('creates a user with a generated sub and refuses a duplicate (case-insensitive)', async () => {
    const sub = await createUser('Alice@Example.com');
    expect(sub).toMatch(/^[0-9a-f-]{36}$/);
    const err = await client
      .send(new AdminCreateUserCommand({ UserPoolId: CLIENT_POOL.id, Username: 'alice@example.com', MessageAction: 'SUPPRESS' }))
      .catch((e) => e);
    expect(err).toBeInstanceOf(UsernameExistsException);
    expect(err.$metadata.httpStatusCode).toBe(400);

    const user = await client.send(new AdminGetUserCommand({ UserPoolId: CLIENT_POOL.id, Username: 'ALICE@example.com' }));
    expect(user.Username).toBe('alice@example.com');
    expect(user.UserStatus).toBe('CONFIRMED');
    expect(user.Enabled).toBe(true);
    expect(user.UserCreateDate).toBeInstanceOf(Date);
    expect(user.UserAttributes).toContainEqual({ Name: 'custom:tenant', Value: 'demo' });
  });

  it('maps errors to the SDK exception classes', async () => {
    const missing = await client
      .send(new AdminGetUserCommand({ UserPoolId: CLIENT_POOL.id, Username: 'nobody@example.com' }))
      .catch((e) => e);
    expect(missing.name).toBe('UserNotFoundException');
    const noPool = await client
      .send(new AdminGetUserCommand({ UserPoolId: 'us-east-1_nope', Username: 'a@b.co' }))
      .catch((e) => e);
    expect(noPool.name).toBe('ResourceNotFoundException');
    const noGroup = await client
      .send(new AdminAddUserToGroupCommand({ UserPoolId: CLIENT_POOL.id, Username: 'alice@example.com', GroupName: 'admin' }))
      .catch((e) => e);
    expect(noGroup.name).toBe('ResourceNotFoundException');
    const notEmail = await client
      .send(new AdminCreateUserCommand({ UserPoolId: CLIENT_POOL.id, Username: 'bob' }))
      .catch((e) => e);
    expect(notEmail.name).toBe('InvalidParameterException');
  });

  it.each([
    ['short', 'Ab1!'],
    ['no upper', 'abcdefg1!'],
    ['no lower', 'ABCDEFG1!'],
    ['no digit', 'Abcdefgh!'],
    ['no symbol', 'Abcdefgh1'],
  ])('rejects a weak password (%s)', async (_, password) => {
    const err = await client
      .send(
        new AdminSetUserPasswordCommand({
          UserPoolId: CLIENT_POOL.id,
          Username: 'alice@example.com',
          Password: password,
          Permanent: true,
        }),
      )
      .catch((e) => e);
    expect(err.name).toBe('InvalidPasswordException');
  });

  it('signs in and returns an ID token verifiable through the JWKS endpoint, with Cognito claims', async () => {
    const out = await signIn('ALICE@example.com', PASSWORD);
    const r = out.AuthenticationResult!;
    expect(r).toMatchObject({ ExpiresIn: 3600, TokenType: 'Bearer' });
    expect(r.RefreshToken).toBeTruthy();

    const issuer = `${emulator.url}/${CLIENT_POOL.id}`;
    const jwks = createRemoteJWKSet(new URL(`${issuer}/.well-known/jwks.json`));
    const { payload: id, protectedHeader } = await jwtVerify(r.IdToken!, jwks, { issuer, audience: CLIENT_POOL.clientId });
    expect(protectedHeader.alg).toBe('RS256');
    expect(id).toMatchObject({
      email: 'alice@example.com',
      email_verified: true,
      'cognito:username': 'alice@example.com',
      'cognito:groups': ['client'],
      'custom:tenant': 'demo',
      token_use: 'id',
    });
    for (const claim of ['sub', 'auth_time', 'iat', 'exp', 'jti', 'origin_jti', 'event_id']) expect(id[claim]).toBeDefined();
    expect(id.exp! - id.iat!).toBe(3600);

    const { payload: access } = await jwtVerify(r.AccessToken!, jwks, { issuer });
    expect(access).toMatchObject({
      sub: id.sub,
      client_id: CLIENT_POOL.clientId,
      token_use: 'access',
      scope: 'aws.cognito.signin.user.admin',
      username: 'alice@example.com',
      'cognito:groups': ['client'],
    });
    expect(access.aud).toBeUndefined();

    expect(await cognito.verifyIdToken(r.IdToken!)).toMatchObject({ sub: id.sub, 'cognito:groups': ['client'] });
    expect(await cognito.verifyIdToken(r.AccessToken!)).toBeNull();
  });

  it('gives the same answer for a wrong password and an unknown user', async () => {
    const wrong = await signIn('alice@example.com', 'Wr0ng-password').catch((e) => e);
    const unknown = await signIn('nobody@example.com', PASSWORD).catch((e) => e);
    for (const err of [wrong, unknown]) {
      expect(err.name).toBe('NotAuthorizedException');
      expect(err.message).toBe('Incorrect username or password.');
    }
  });

  it('locks a user out after repeated wrong passwords, as Cognito does, and never an unknown user', async () => {
    await createUser('locked@example.com');
    const attempt = (username: string, password: string) =>
      signIn(username, password).then(
        () => 'ok',
        (e: Error) => `${e.name}: ${e.message}`,
      );
    for (let i = 1; i <= 5; i++)
      expect(await attempt('locked@example.com', 'Wr0ng-password'), `failure ${i}`).toBe(
        'NotAuthorizedException: Incorrect username or password.',
      );
    // The 5th failure locked for 1 s: even the right password is refused, without extending the lockout.
    expect(await attempt('locked@example.com', PASSWORD)).toBe('NotAuthorizedException: Password attempts exceeded');
    expect(await attempt('locked@example.com', 'Wr0ng-password')).toBe('NotAuthorizedException: Password attempts exceeded');
    for (let i = 0; i < 8; i++) {
      expect(await attempt('nobody-at-all@example.com', 'Wr0ng-password')).toBe(
        'NotAuthorizedException: Incorrect username or password.',
      );
    }
    await new Promise((r) => setTimeout(r, 1100));
    expect(await attempt('locked@example.com', PASSWORD)).toBe('ok');
    // The success reset the count: four more failures do not lock.
    for (let i = 0; i < 4; i++) await attempt('locked@example.com', 'Wr0ng-password');
    expect(await attempt('locked@example.com', PASSWORD)).toBe('ok');
  });

  it('refreshes tokens, and stops after a global sign-out', async () => {
    const first = (await signIn('alice@example.com', PASSWORD)).AuthenticationResult!;
    const refresh = (token: string) =>
      client.send(
        new InitiateAuthCommand({
          AuthFlow: 'REFRESH_TOKEN_AUTH',
          ClientId: CLIENT_POOL.clientId,
          AuthParameters: { REFRESH_TOKEN: token },
        }),
      );
    const again = (await refresh(first.RefreshToken!)).AuthenticationResult!;
    expect(again.RefreshToken).toBeUndefined();
    const [a, b] = [decodeJwt(first.IdToken!), decodeJwt(again.IdToken!)];
    expect(b.origin_jti).toBe(a.origin_jti);
    expect(b.auth_time).toBe(a.auth_time);
    expect(b.jti).not.toBe(a.jti);
    expect(await cognito.verifyIdToken(again.IdToken!)).not.toBeNull();

    expect((await refresh('not-a-token').catch((e) => e)).name).toBe('NotAuthorizedException');
    await client.send(new AdminUserGlobalSignOutCommand({ UserPoolId: CLIENT_POOL.id, Username: 'alice@example.com' }));
    expect((await refresh(first.RefreshToken!).catch((e) => e)).name).toBe('NotAuthorizedException');
  });

  it('admin sign-in, groups, disable and enable', async () => {
    const { sub } = await cognito.ensureUser(STAFF_POOL.id, { email: 'Ops@Example.com', password: PASSWORD, groups: ['admin'] });
    expect(
      await cognito.ensureUser(STAFF_POOL.id, { email: 'ops@example.com', password: PASSWORD, groups: ['admin', 'finance'] }),
    ).toEqual({ sub });
    const groups = await client.send(
      new AdminListGroupsForUserCommand({ UserPoolId: STAFF_POOL.id, Username: 'ops@example.com' }),
    );
    expect(groups.Groups!.map((g) => g.GroupName)).toEqual(['admin', 'finance']);
    await client.send(
      new AdminRemoveUserFromGroupCommand({ UserPoolId: STAFF_POOL.id, Username: 'ops@example.com', GroupName: 'finance' }),
    );
    const inGroup = await client.send(new ListUsersInGroupCommand({ UserPoolId: STAFF_POOL.id, GroupName: 'admin' }));
    expect(inGroup.Users!.map((u) => u.Username)).toEqual(['ops@example.com']);
    const byEmail = await client.send(new ListUsersCommand({ UserPoolId: STAFF_POOL.id, Filter: 'email = "ops@example.com"' }));
    expect(byEmail.Users).toHaveLength(1);

    const adminAuth = (password: string) =>
      client.send(
        new AdminInitiateAuthCommand({
          UserPoolId: STAFF_POOL.id,
          ClientId: STAFF_POOL.clientId,
          AuthFlow: 'ADMIN_USER_PASSWORD_AUTH',
          AuthParameters: { USERNAME: 'ops@example.com', PASSWORD: password },
        }),
      );
    const idToken = (await adminAuth(PASSWORD)).AuthenticationResult!.IdToken!;
    expect(await cognito.verifyIdToken(idToken)).toMatchObject({ sub, aud: STAFF_POOL.clientId, 'cognito:groups': ['admin'] });

    await client.send(new AdminDisableUserCommand({ UserPoolId: STAFF_POOL.id, Username: 'ops@example.com' }));
    const disabled = await adminAuth(PASSWORD).catch((e) => e);
    expect(disabled.name).toBe('NotAuthorizedException');
    expect(disabled.message).toBe('User is disabled.');
    // As with API Gateway's Cognito authorizer, an unexpired ID token still verifies after the user
    // is disabled: disabling stops new sign-ins; revocation is global sign-out plus short token validity.
    expect(await cognito.verifyIdToken(idToken)).not.toBeNull();
    await client.send(new AdminEnableUserCommand({ UserPoolId: STAFF_POOL.id, Username: 'ops@example.com' }));
    expect((await adminAuth(PASSWORD)).AuthenticationResult?.IdToken).toBeTruthy();
  });

  it('asks for a new password after a temporary one', async () => {
    await client.send(
      new AdminCreateUserCommand({
        UserPoolId: CLIENT_POOL.id,
        Username: 'temp@example.com',
        TemporaryPassword: 'Temp0rary!',
        MessageAction: 'SUPPRESS',
      }),
    );
    const challenge = await signIn('temp@example.com', 'Temp0rary!');
    expect(challenge.ChallengeName).toBe('NEW_PASSWORD_REQUIRED');
    expect(challenge.AuthenticationResult).toBeUndefined();
    const done = await client.send(
      new RespondToAuthChallengeCommand({
        ClientId: CLIENT_POOL.clientId,
        ChallengeName: 'NEW_PASSWORD_REQUIRED',
        Session: challenge.Session!,
        ChallengeResponses: { USERNAME: 'temp@example.com', NEW_PASSWORD: PASSWORD },
      }),
    );
    expect(done.AuthenticationResult?.IdToken).toBeTruthy();
    expect((await signIn('temp@example.com', PASSWORD)).AuthenticationResult).toBeDefined();
  });

  it('verifyIdToken rejects tokens signed by another key, expired, tampered or for another audience', async () => {
    const good = (await signIn('alice@example.com', PASSWORD)).AuthenticationResult!.IdToken!;
    const claims = decodeJwt(good);
    const { kid } = JSON.parse(Buffer.from(good.split('.')[0]!, 'base64url').toString());

    const other = await generateKeyPair('RS256');
    const forged = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid }).sign(other.privateKey);
    expect(await cognito.verifyIdToken(forged)).toBeNull();

    // Sign with the real key (read from the data file) so that only the claim under test is wrong.
    const stored = JSON.parse(await readFile(dataFile, 'utf8'));
    const realKey = await importJWK(stored.signingKey, 'RS256');
    const sign = (c: Record<string, unknown>) => new SignJWT(c).setProtectedHeader({ alg: 'RS256', kid }).sign(realKey);
    expect(await cognito.verifyIdToken(await sign(claims))).not.toBeNull();
    const past = Math.floor(Date.now() / 1000) - 7200;
    expect(await cognito.verifyIdToken(await sign({ ...claims, iat: past, exp: past + 3600 }))).toBeNull();
    expect(await cognito.verifyIdToken(await sign({ ...claims, aud: STAFF_POOL.clientId }))).toBeNull();
    expect(await cognito.verifyIdToken(await sign({ ...claims, iss: 'https://evil.example/us-east-1_clients' }))).toBeNull();

    // Issued in the future: an hour ahead is refused (its exp is still ahead too), within the 5-minute skew is not.
    const now = Math.floor(Date.now() / 1000);
    expect(await cognito.verifyIdToken(await sign({ ...claims, iat: now + 3600, exp: now + 7200 }))).toBeNull();
    expect(await cognito.verifyIdToken(await sign({ ...claims, iat: now + 301, exp: now + 3901 }))).toBeNull();
    expect(await cognito.verifyIdToken(await sign({ ...claims, iat: now + 60, exp: now + 3660 }))).not.toBeNull();
    const { iat: _iat, ...noIat } = claims;
    expect(await cognito.verifyIdToken(await sign(noIat))).toBeNull();

    const [h, p, s] = good.split('.');
    const payload = JSON.parse(Buffer.from(p!, 'base64url').toString());
    payload['cognito:groups'] = ['admin'];
    expect(await cognito.verifyIdToken(`${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`)).toBeNull();
    expect(await cognito.verifyIdToken('garbage')).toBeNull();
  });

  it('never stores clear-text passwords, and keeps users and keys across a restart', async () => {
    const before = (await signIn('alice@example.com', PASSWORD)).AuthenticationResult!;
    const file = await readFile(dataFile, 'utf8');
    expect(file).not.toContain(PASSWORD);
    expect(file).not.toContain(before.RefreshToken!);

    const port = emulator.port;
    client.destroy();
    await emulator.close();
    await start(port);

    expect(await cognito.verifyIdToken(before.IdToken!)).toMatchObject({ email: 'alice@example.com' });
    const refreshed = await client.send(
      new InitiateAuthCommand({
        AuthFlow: 'REFRESH_TOKEN_AUTH',
        ClientId: CLIENT_POOL.clientId,
        AuthParameters: { REFRESH_TOKEN: before.RefreshToken! },
      }),
    );
    expect(refreshed.AuthenticationResult?.IdToken).toBeTruthy();
    expect((await signIn('alice@example.com', PASSWORD)).AuthenticationResult).toBeDefined();
  });

  it('answers unknown operations with UnknownOperationException', async () => {
    const res = await fetch(emulator.url, {
      method: 'POST',
      headers: {
        'x-amz-target': 'AWSCognitoIdentityProviderService.DoSomethingOdd',
        'content-type': 'application/x-amz-json-1.1',
      },
      body: '{}',
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('x-amzn-errortype')).toBe('UnknownOperationException');
    expect(((await res.json()) as { __type: string }).__type).toBe('UnknownOperationException');
    const other = await fetch(emulator.url, { method: 'POST', headers: { 'x-amz-target': 'AWSNothing.Do' }, body: '{}' });
    expect(other.status).toBe(400);
  });
});
