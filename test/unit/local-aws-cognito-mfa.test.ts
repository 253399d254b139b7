/**
 * TOTP (RFC 4226 / RFC 6238 vectors) and the local Cognito's MFA challenges, driven through the real
 * @aws-sdk/client-cognito-identity-provider against the emulator over HTTP.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  AdminCreateUserCommand,
  AdminGetUserCommand,
  AdminInitiateAuthCommand,
  AdminRespondToAuthChallengeCommand,
  AdminSetUserMFAPreferenceCommand,
  AdminSetUserPasswordCommand,
  AssociateSoftwareTokenCommand,
  CognitoIdentityProviderClient,
  InitiateAuthCommand,
  RespondToAuthChallengeCommand,
  SetUserMFAPreferenceCommand,
  VerifySoftwareTokenCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { LocalCognito } from '#local/aws/cognito.ts';
import { base32Decode, base32Encode, hotp, matchTotp, newTotpSecret, totp } from '#local/aws/cognito-totp.ts';
import { type AwsEmulator, startAwsEmulator } from '#local/aws/server.ts';

describe('TOTP', () => {
  const rfcKey = Buffer.from('12345678901234567890', 'ascii');

  it('matches the RFC 4226 HOTP vectors', () => {
    const expected = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];
    expect(expected.map((_, counter) => hotp(rfcKey, counter))).toEqual(expected);
  });

  it.each([
    [59, '94287082'],
    [1111111109, '07081804'],
    [1111111111, '14050471'],
    [1234567890, '89005924'],
    [2000000000, '69279037'],
    [20000000000, '65353130'],
  ])('matches the RFC 6238 SHA-1 vector at T=%i', (seconds, code) => {
    expect(totp(rfcKey, seconds * 1000, { digits: 8 })).toBe(code);
    // the same key given as base32, 6 digits: the vector's last six digits
    expect(totp(base32Encode(rfcKey), seconds * 1000)).toBe(code.slice(2));
  });

  it('encodes and decodes RFC 4648 base32', () => {
    const vectors: [string, string][] = [
      ['', ''],
      ['f', 'MY'],
      ['fo', 'MZXQ'],
      ['foo', 'MZXW6'],
      ['foob', 'MZXW6YQ'],
      ['fooba', 'MZXW6YTB'],
      ['foobar', 'MZXW6YTBOI'],
    ];
    for (const [plain, encoded] of vectors) {
      expect(base32Encode(Buffer.from(plain))).toBe(encoded);
      expect(base32Decode(encoded).toString()).toBe(plain);
    }
    expect(base32Decode('mzxw 6ytb-oi======').toString()).toBe('foobar');
    expect(() => base32Decode('MZ1')).toThrow();
    const secret = newTotpSecret();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(base32Decode(secret)).toHaveLength(20);
  });

  it('accepts the current step and one either side, nothing else', () => {
    const secret = newTotpSecret();
    const t = 1_700_000_000_000;
    for (const delta of [-1, 0, 1])
      expect(matchTotp(secret, totp(secret, t + delta * 30_000), t)).toBe(Math.floor(t / 30_000) + delta);
    for (const delta of [-2, 2]) {
      const code = totp(secret, t + delta * 30_000);
      const near = [-1, 0, 1].map((d) => totp(secret, t + d * 30_000));
      if (!near.includes(code)) expect(matchTotp(secret, code, t)).toBeNull();
    }
    expect(matchTotp(secret, '12345', t)).toBeNull();
    expect(matchTotp(secret, 'abcdef', t)).toBeNull();
    expect(matchTotp(secret, 123456, t)).toBeNull();
  });
});

const CLIENTS = { id: 'us-east-1_mfaclients', clientId: 'mfaclientsapp', groups: ['client'], mfa: 'optional' as const };
const STAFF = { id: 'us-east-1_mfastaff', clientId: 'mfastaffapp', groups: ['admin'], mfa: 'required' as const };
const PASSWORD = 'Corr3ct-Horse!';
const NEW_PASSWORD = 'N3w-Battery-Staple!';

let dir: string;
let dataFile: string;
let emulator: AwsEmulator;
let client: CognitoIdentityProviderClient;

async function start(port = 0) {
  const cognito = new LocalCognito({ dataFile, issuerBaseUrl: () => emulator.url, pools: [CLIENTS, STAFF] });
  emulator = await startAwsEmulator({ port, services: [], cognito });
  client = new CognitoIdentityProviderClient({
    endpoint: emulator.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    maxAttempts: 1,
  });
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'local-cognito-mfa-'));
  dataFile = path.join(dir, 'cognito.json');
  await start();
});

afterAll(async () => {
  client?.destroy();
  await emulator?.close();
  await rm(dir, { recursive: true, force: true });
});

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

const signIn = (pool: typeof CLIENTS | typeof STAFF, username: string, password: string) =>
  client.send(
    new InitiateAuthCommand({
      AuthFlow: 'USER_PASSWORD_AUTH',
      ClientId: pool.clientId,
      AuthParameters: { USERNAME: username, PASSWORD: password },
    }),
  );

const answerTotp = (pool: typeof CLIENTS | typeof STAFF, username: string, session: string, code: string) =>
  client.send(
    new RespondToAuthChallengeCommand({
      ClientId: pool.clientId,
      ChallengeName: 'SOFTWARE_TOKEN_MFA',
      Session: session,
      ChallengeResponses: { USERNAME: username, SOFTWARE_TOKEN_MFA_CODE: code },
    }),
  );

/** A six-digit code that matches none of the steps the emulator accepts right now. */
function wrongCode(secret: string): string {
  const near = new Set([-1, 0, 1].map((d) => totp(secret, Date.now() + d * 30_000)));
  for (let i = 0; ; i++) {
    const c = String(i).padStart(6, '0');
    if (!near.has(c)) return c;
  }
}

/** The code for the next time step: fresh (never accepted before) and within the +-1 window. */
const nextCode = (secret: string) => totp(secret, Date.now() + 30_000);

async function createWithTemporaryPassword(pool: typeof CLIENTS | typeof STAFF, email: string) {
  await client.send(
    new AdminCreateUserCommand({
      UserPoolId: pool.id,
      Username: email,
      TemporaryPassword: 'Temp0rary!',
      MessageAction: 'SUPPRESS',
    }),
  );
}

/** Signs a new staff user through NEW_PASSWORD_REQUIRED and MFA_SETUP; returns the TOTP secret. */
async function enrolStaff(email: string): Promise<string> {
  await createWithTemporaryPassword(STAFF, email);
  const first = await signIn(STAFF, email, 'Temp0rary!');
  const setup = await client.send(
    new RespondToAuthChallengeCommand({
      ClientId: STAFF.clientId,
      ChallengeName: 'NEW_PASSWORD_REQUIRED',
      Session: first.Session!,
      ChallengeResponses: { USERNAME: email, NEW_PASSWORD: NEW_PASSWORD },
    }),
  );
  const assoc = await client.send(new AssociateSoftwareTokenCommand({ Session: setup.Session! }));
  const verified = await client.send(
    new VerifySoftwareTokenCommand({ Session: assoc.Session!, UserCode: totp(assoc.SecretCode!) }),
  );
  await client.send(
    new RespondToAuthChallengeCommand({
      ClientId: STAFF.clientId,
      ChallengeName: 'MFA_SETUP',
      Session: verified.Session!,
      ChallengeResponses: { USERNAME: email },
    }),
  );
  return assoc.SecretCode!;
}

describe('local Cognito MFA (TOTP) through the real SDK client', () => {
  it('required pool: NEW_PASSWORD_REQUIRED -> MFA_SETUP -> associate -> verify -> tokens, with single-use sessions', async () => {
    const logs: unknown[][] = [];
    for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const)
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void logs.push(args));

    await createWithTemporaryPassword(STAFF, 'new.staff@example.com');
    const first = await signIn(STAFF, 'new.staff@example.com', 'Temp0rary!');
    expect(first.ChallengeName).toBe('NEW_PASSWORD_REQUIRED');

    const weak = await client
      .send(
        new RespondToAuthChallengeCommand({
          ClientId: STAFF.clientId,
          ChallengeName: 'NEW_PASSWORD_REQUIRED',
          Session: first.Session!,
          ChallengeResponses: { USERNAME: 'new.staff@example.com', NEW_PASSWORD: 'weak' },
        }),
      )
      .catch((e) => e);
    expect(weak.name).toBe('InvalidPasswordException');

    const setup = await client.send(
      new RespondToAuthChallengeCommand({
        ClientId: STAFF.clientId,
        ChallengeName: 'NEW_PASSWORD_REQUIRED',
        Session: first.Session!,
        ChallengeResponses: { USERNAME: 'new.staff@example.com', NEW_PASSWORD: NEW_PASSWORD },
      }),
    );
    expect(setup.ChallengeName).toBe('MFA_SETUP');
    expect(setup.AuthenticationResult).toBeUndefined();
    expect(setup.ChallengeParameters).toEqual({ MFAS_CAN_SETUP: '["SOFTWARE_TOKEN_MFA"]' });
    expect(setup.Session).not.toBe(first.Session);

    // MFA_SETUP cannot be answered before a token is verified
    const early = await client
      .send(
        new RespondToAuthChallengeCommand({
          ClientId: STAFF.clientId,
          ChallengeName: 'MFA_SETUP',
          Session: setup.Session!,
          ChallengeResponses: { USERNAME: 'new.staff@example.com' },
        }),
      )
      .catch((e) => e);
    expect(early.name).toBe('InvalidParameterException');

    const assoc = await client.send(new AssociateSoftwareTokenCommand({ Session: setup.Session! }));
    expect(assoc.SecretCode).toMatch(/^[A-Z2-7]{32}$/);
    expect(assoc.Session).toBeTruthy();
    const reused = await client.send(new AssociateSoftwareTokenCommand({ Session: setup.Session! })).catch((e) => e);
    expect(reused.name).toBe('NotAuthorizedException');
    expect(reused.message).toMatch(/Invalid session/);

    const secret = assoc.SecretCode!;
    const mismatch = await client
      .send(new VerifySoftwareTokenCommand({ Session: assoc.Session!, UserCode: wrongCode(secret) }))
      .catch((e) => e);
    expect(mismatch.name).toBe('EnableSoftwareTokenMFAException');

    // a wrong code does not burn the session
    const verified = await client.send(new VerifySoftwareTokenCommand({ Session: assoc.Session!, UserCode: totp(secret) }));
    expect(verified.Status).toBe('SUCCESS');
    expect(verified.Session).toBeTruthy();

    const done = await client.send(
      new RespondToAuthChallengeCommand({
        ClientId: STAFF.clientId,
        ChallengeName: 'MFA_SETUP',
        Session: verified.Session!,
        ChallengeResponses: { USERNAME: 'new.staff@example.com' },
      }),
    );
    expect(done.AuthenticationResult?.IdToken).toBeTruthy();
    const replay = await client
      .send(
        new RespondToAuthChallengeCommand({
          ClientId: STAFF.clientId,
          ChallengeName: 'MFA_SETUP',
          Session: verified.Session!,
          ChallengeResponses: { USERNAME: 'new.staff@example.com' },
        }),
      )
      .catch((e) => e);
    expect(replay.name).toBe('NotAuthorizedException');
    expect(replay.message).toMatch(/Invalid session/);

    const user = await client.send(new AdminGetUserCommand({ UserPoolId: STAFF.id, Username: 'new.staff@example.com' }));
    expect(user.UserStatus).toBe('CONFIRMED');
    expect(user.UserMFASettingList).toEqual(['SOFTWARE_TOKEN_MFA']);
    expect(user.PreferredMfaSetting).toBe('SOFTWARE_TOKEN_MFA');

    // the secret is user data: in the data file, never in a log line
    expect(await readFile(dataFile, 'utf8')).toContain(secret);
    expect(JSON.stringify(logs)).not.toContain(secret);
  });

  it('required pool: a later sign-in asks for SOFTWARE_TOKEN_MFA; wrong and reused codes are refused', async () => {
    // Date frozen at the start of a time step, so "the step used at enrolment" is deterministic
    vi.useFakeTimers({ toFake: ['Date'], now: Math.ceil(Date.now() / 30_000) * 30_000 + 1000 });
    const secret = await enrolStaff('later@example.com');
    const challenge = await signIn(STAFF, 'later@example.com', NEW_PASSWORD);
    expect(challenge.ChallengeName).toBe('SOFTWARE_TOKEN_MFA');
    expect(challenge.AuthenticationResult).toBeUndefined();

    const wrong = await answerTotp(STAFF, 'later@example.com', challenge.Session!, wrongCode(secret)).catch((e) => e);
    expect(wrong.name).toBe('CodeMismatchException');
    // the code accepted during enrolment (this time step) cannot be used again
    const used = await answerTotp(STAFF, 'later@example.com', challenge.Session!, totp(secret)).catch((e) => e);
    expect(used.name).toBe('ExpiredCodeException');

    const ok = await answerTotp(STAFF, 'later@example.com', challenge.Session!, nextCode(secret));
    expect(ok.AuthenticationResult?.IdToken).toBeTruthy();
    const replay = await answerTotp(STAFF, 'later@example.com', challenge.Session!, nextCode(secret)).catch((e) => e);
    expect(replay.name).toBe('NotAuthorizedException');
  });

  it('admin flows get the same challenges; the session belongs to one user and one app client', async () => {
    const secret = await enrolStaff('admin.flow@example.com');
    const challenge = await client.send(
      new AdminInitiateAuthCommand({
        UserPoolId: STAFF.id,
        ClientId: STAFF.clientId,
        AuthFlow: 'ADMIN_USER_PASSWORD_AUTH',
        AuthParameters: { USERNAME: 'admin.flow@example.com', PASSWORD: NEW_PASSWORD },
      }),
    );
    expect(challenge.ChallengeName).toBe('SOFTWARE_TOKEN_MFA');
    const otherUser = await answerTotp(STAFF, 'later@example.com', challenge.Session!, nextCode(secret)).catch((e) => e);
    expect(otherUser.name).toBe('NotAuthorizedException');
    const otherClient = await answerTotp(CLIENTS, 'admin.flow@example.com', challenge.Session!, nextCode(secret)).catch((e) => e);
    expect(otherClient.name).toBe('NotAuthorizedException');
    const ok = await client.send(
      new AdminRespondToAuthChallengeCommand({
        UserPoolId: STAFF.id,
        ClientId: STAFF.clientId,
        ChallengeName: 'SOFTWARE_TOKEN_MFA',
        Session: challenge.Session!,
        ChallengeResponses: { USERNAME: 'admin.flow@example.com', SOFTWARE_TOKEN_MFA_CODE: nextCode(secret) },
      }),
    );
    expect(ok.AuthenticationResult?.AccessToken).toBeTruthy();
  });

  it('kills a challenge session after 5 wrong codes, and after 3 minutes', async () => {
    const secret = await enrolStaff('attempts@example.com');
    const challenge = await signIn(STAFF, 'attempts@example.com', NEW_PASSWORD);
    for (let i = 0; i < 5; i++) {
      const e = await answerTotp(STAFF, 'attempts@example.com', challenge.Session!, wrongCode(secret)).catch((x) => x);
      expect(e.name).toBe('CodeMismatchException');
    }
    const dead = await answerTotp(STAFF, 'attempts@example.com', challenge.Session!, nextCode(secret)).catch((e) => e);
    expect(dead.name).toBe('NotAuthorizedException');

    const again = await signIn(STAFF, 'attempts@example.com', NEW_PASSWORD);
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 3 * 60 * 1000 + 1000 });
    const expired = await answerTotp(STAFF, 'attempts@example.com', again.Session!, nextCode(secret)).catch((e) => e);
    expect(expired.name).toBe('NotAuthorizedException');
    expect(expired.message).toMatch(/Invalid session/);
  });

  it('optional pool: enrolment with an access token, then TOTP is asked for once the user enables it', async () => {
    await client.send(
      new AdminCreateUserCommand({ UserPoolId: CLIENTS.id, Username: 'trader@example.com', MessageAction: 'SUPPRESS' }),
    );
    await client.send(
      new AdminSetUserPasswordCommand({
        UserPoolId: CLIENTS.id,
        Username: 'trader@example.com',
        Password: PASSWORD,
        Permanent: true,
      }),
    );
    const plain = await signIn(CLIENTS, 'trader@example.com', PASSWORD);
    expect(plain.ChallengeName).toBeUndefined();
    const accessToken = plain.AuthenticationResult!.AccessToken!;

    const notEnrolled = await client
      .send(new SetUserMFAPreferenceCommand({ AccessToken: accessToken, SoftwareTokenMfaSettings: { Enabled: true } }))
      .catch((e) => e);
    expect(notEnrolled.name).toBe('InvalidParameterException');
    const badToken = await client
      .send(new AssociateSoftwareTokenCommand({ AccessToken: plain.AuthenticationResult!.IdToken! }))
      .catch((e) => e);
    expect(badToken.name).toBe('NotAuthorizedException');

    const assoc = await client.send(new AssociateSoftwareTokenCommand({ AccessToken: accessToken }));
    expect(assoc.Session).toBeUndefined();
    const secret = assoc.SecretCode!;
    const mismatch = await client
      .send(new VerifySoftwareTokenCommand({ AccessToken: accessToken, UserCode: wrongCode(secret) }))
      .catch((e) => e);
    expect(mismatch.name).toBe('EnableSoftwareTokenMFAException');
    expect((await client.send(new VerifySoftwareTokenCommand({ AccessToken: accessToken, UserCode: totp(secret) }))).Status).toBe(
      'SUCCESS',
    );

    // verified but not enabled: still a password-only sign-in
    expect((await signIn(CLIENTS, 'trader@example.com', PASSWORD)).AuthenticationResult).toBeDefined();

    await client.send(
      new SetUserMFAPreferenceCommand({
        AccessToken: accessToken,
        SoftwareTokenMfaSettings: { Enabled: true, PreferredMfa: true },
      }),
    );
    const challenge = await signIn(CLIENTS, 'trader@example.com', PASSWORD);
    expect(challenge.ChallengeName).toBe('SOFTWARE_TOKEN_MFA');
    const ok = await answerTotp(CLIENTS, 'trader@example.com', challenge.Session!, nextCode(secret));
    expect(ok.AuthenticationResult?.IdToken).toBeTruthy();

    await client.send(
      new AdminSetUserMFAPreferenceCommand({
        UserPoolId: CLIENTS.id,
        Username: 'trader@example.com',
        SoftwareTokenMfaSettings: { Enabled: false, PreferredMfa: false },
      }),
    );
    expect((await signIn(CLIENTS, 'trader@example.com', PASSWORD)).AuthenticationResult).toBeDefined();
    const sms = await client
      .send(
        new AdminSetUserMFAPreferenceCommand({
          UserPoolId: CLIENTS.id,
          Username: 'trader@example.com',
          SMSMfaSettings: { Enabled: true },
        }),
      )
      .catch((e) => e);
    expect(sms.name).toBe('InvalidParameterException');
  });

  it('keeps enrolled TOTP across a restart', async () => {
    const secret = await enrolStaff('restart@example.com');
    const port = emulator.port;
    client.destroy();
    await emulator.close();
    await start(port);
    const challenge = await signIn(STAFF, 'restart@example.com', NEW_PASSWORD);
    expect(challenge.ChallengeName).toBe('SOFTWARE_TOKEN_MFA');
    expect(
      (await answerTotp(STAFF, 'restart@example.com', challenge.Session!, nextCode(secret))).AuthenticationResult,
    ).toBeDefined();
  });
});
