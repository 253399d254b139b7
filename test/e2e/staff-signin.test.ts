/**
 * A new staff member's first sign-in over HTTP, with the staff pool behaving as in AWS (MFA required,
 * TOTP): temporary password -> NEW_PASSWORD_REQUIRED -> MFA_SETUP (secret returned) -> tokens; later
 * sign-ins answer SOFTWARE_TOKEN_MFA. Codes are computed from the returned secret, as an authenticator app would.
 */
process.env.LOCAL_STAFF_MFA = 'required'; // read at sign-in time (local/runtime.ts LOCAL_POOLS); this file runs in its own worker

import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { totp } from '#local/aws/cognito-totp.ts';
import { DEMO_PASSWORD } from '#local/seed.ts';
import { useRuntime } from './harness.ts';

const e2e = useRuntime();

const STAFF_EMAIL = 'new.compliance@demo.test';
const TEMPORARY = 'Temp-Passw0rd!';
const NEW_PASSWORD = 'Fresh-Passw0rd!';

/** A six-digit code matching none of the steps the pool accepts right now. */
function wrongCode(secret: string): string {
  const near = new Set([-1, 0, 1].map((d) => totp(secret, Date.now() + d * 30_000)));
  for (let i = 0; ; i++) {
    const c = String(i).padStart(6, '0');
    if (!near.has(c)) return c;
  }
}

/** The next time step's code: within the accepted window and never used before. */
const nextCode = (secret: string) => totp(secret, Date.now() + 30_000);

const answer = (body: Record<string, unknown>) => e2e.call('POST', '/v1/sessions/challenges', { body });

/** Seeded staff also meet MFA_SETUP when MFA is required: enrol and return the ID token. */
async function enrolAndSignIn(email: string, password: string): Promise<string> {
  const first = await e2e.call('POST', '/v1/sessions', { body: { email, password } });
  expect(first.status).toBe(200);
  expect(first.body.challengeName).toBe('MFA_SETUP');
  const done = await answer({
    email,
    challengeName: 'MFA_SETUP',
    session: first.body.session,
    code: totp(first.body.secretCode),
  });
  expect(done.status).toBe(200);
  return done.body.idToken as string;
}

describe('staff first sign-in with MFA required (AWS behaviour, LOCAL_STAFF_MFA=required)', () => {
  it('new password, TOTP enrolment, tokens with the staff role, then SOFTWARE_TOKEN_MFA on later sign-ins', async () => {
    const admin = await enrolAndSignIn('admin@demo.test', DEMO_PASSWORD);
    const created = await e2e.call('POST', '/v1/admin/staff', {
      token: admin,
      body: {
        email: STAFF_EMAIL,
        firstName: 'Nora',
        lastName: 'Compliance',
        roles: ['compliance'],
        temporaryPassword: TEMPORARY,
      },
    });
    expect(created.status).toBe(201);

    // 1. the temporary password opens NEW_PASSWORD_REQUIRED
    const first = await e2e.call('POST', '/v1/sessions', { body: { email: STAFF_EMAIL, password: TEMPORARY } });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ challengeName: 'NEW_PASSWORD_REQUIRED', session: expect.any(String) });
    expect(first.headers.get('cache-control')).toBe('no-store');

    // the field the challenge needs is required
    const missing = await answer({ email: STAFF_EMAIL, challengeName: 'NEW_PASSWORD_REQUIRED', session: first.body.session });
    expect(missing.status).toBe(400);
    expect(missing.body.code).toBe('validation_failed');
    expect(missing.body.errors).toContainEqual(expect.objectContaining({ field: 'newPassword' }));

    // a weak new password is refused and the session stays usable
    const weak = await answer({
      email: STAFF_EMAIL,
      challengeName: 'NEW_PASSWORD_REQUIRED',
      session: first.body.session,
      newPassword: 'password',
    });
    expect(weak.status).toBe(400);
    expect(weak.body.code).toBe('weak_password');
    expect(weak.body.errors.every((e: { field: string }) => e.field === 'newPassword')).toBe(true);

    // 2. a good one leads to MFA_SETUP, with the secret to enrol
    const setup = await answer({
      email: STAFF_EMAIL,
      challengeName: 'NEW_PASSWORD_REQUIRED',
      session: first.body.session,
      newPassword: NEW_PASSWORD,
    });
    expect(setup.status).toBe(200);
    expect(setup.body).toMatchObject({ challengeName: 'MFA_SETUP', session: expect.any(String) });
    const secret = setup.body.secretCode as string;
    expect(secret).toMatch(/^[A-Z2-7]{16,}$/);
    expect(setup.body.otpauthUri).toBe(
      `otpauth://totp/${encodeURIComponent(e2e.rt.brand)}:${encodeURIComponent(STAFF_EMAIL)}?secret=${secret}&issuer=${encodeURIComponent(e2e.rt.brand)}`,
    );

    const noCode = await answer({ email: STAFF_EMAIL, challengeName: 'MFA_SETUP', session: setup.body.session });
    expect(noCode.status).toBe(400);
    expect(noCode.body.code).toBe('validation_failed');
    expect(noCode.body.errors).toContainEqual(expect.objectContaining({ field: 'code' }));

    // 3. a wrong code is 401 invalid_mfa_code; the right one gives tokens
    const wrong = await answer({
      email: STAFF_EMAIL,
      challengeName: 'MFA_SETUP',
      session: setup.body.session,
      code: wrongCode(secret),
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body.code).toBe('invalid_mfa_code');

    const enrolled = await answer({
      email: STAFF_EMAIL,
      challengeName: 'MFA_SETUP',
      session: setup.body.session,
      code: totp(secret),
    });
    expect(enrolled.status).toBe(200);
    expect(enrolled.body).toMatchObject({
      idToken: expect.any(String),
      accessToken: expect.any(String),
      refreshToken: expect.any(String),
    });
    const claims = decodeJwt(enrolled.body.idToken);
    expect(claims['cognito:groups']).toEqual(['compliance']);
    expect(String(claims.iss)).toMatch(/\/local_staff$/);
    const me = await e2e.call('GET', '/v1/me', { token: enrolled.body.idToken });
    expect(me.status).toBe(200);
    expect(me.body.roles).toContain('compliance');

    // the enrolment session is spent
    const spent = await answer({
      email: STAFF_EMAIL,
      challengeName: 'MFA_SETUP',
      session: setup.body.session,
      code: nextCode(secret),
    });
    expect(spent.status).toBe(401);
    expect(spent.body.code).toBe('challenge_expired');

    // 4. a later sign-in asks for a code from the enrolled authenticator
    const later = await e2e.call('POST', '/v1/sessions', { body: { email: STAFF_EMAIL, password: NEW_PASSWORD } });
    expect(later.status).toBe(200);
    expect(later.body).toEqual({ challengeName: 'SOFTWARE_TOKEN_MFA', session: expect.any(String) });
    const badFormat = await answer({
      email: STAFF_EMAIL,
      challengeName: 'SOFTWARE_TOKEN_MFA',
      session: later.body.session,
      code: '12ab56',
    });
    expect(badFormat.status).toBe(400);
    expect(badFormat.body.errors).toContainEqual(expect.objectContaining({ field: 'code' }));
    const laterWrong = await answer({
      email: STAFF_EMAIL,
      challengeName: 'SOFTWARE_TOKEN_MFA',
      session: later.body.session,
      code: wrongCode(secret),
    });
    expect(laterWrong.status).toBe(401);
    expect(laterWrong.body.code).toBe('invalid_mfa_code');
    const signedIn = await answer({
      email: STAFF_EMAIL,
      challengeName: 'SOFTWARE_TOKEN_MFA',
      session: later.body.session,
      code: nextCode(secret),
    });
    expect(signedIn.status).toBe(200);
    expect(signedIn.headers.get('cache-control')).toBe('no-store');
    expect((await e2e.call('GET', '/v1/me', { token: signedIn.body.idToken })).status).toBe(200);

    // 5. a replayed session is refused
    const replayed = await answer({
      email: STAFF_EMAIL,
      challengeName: 'SOFTWARE_TOKEN_MFA',
      session: later.body.session,
      code: nextCode(secret),
    });
    expect(replayed.status).toBe(401);
    expect(replayed.body.code).toBe('challenge_expired');
  });

  it('an unknown session is 401 challenge_expired; the client pool stays password-only', async () => {
    const unknown = await answer({
      email: 'client@demo.test',
      challengeName: 'SOFTWARE_TOKEN_MFA',
      session: 'not-a-session-we-issued',
      code: '123456',
    });
    expect(unknown.status).toBe(401);
    expect(unknown.body.code).toBe('challenge_expired');
    const extra = await answer({
      email: 'client@demo.test',
      challengeName: 'SOFTWARE_TOKEN_MFA',
      session: 'x',
      code: '123456',
      newPassword: NEW_PASSWORD,
    });
    expect(extra.status).toBe(400);
    expect(extra.body.errors).toContainEqual(expect.objectContaining({ field: 'newPassword' }));
    expect(await e2e.signIn('client@demo.test')).toBeTruthy();
  });
});
