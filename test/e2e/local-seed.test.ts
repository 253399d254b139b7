/**
 * The demo seed (local/seed.ts) after an interrupted first start (GitHub issue 12: a `npm start -- --fresh`
 * killed while seeding made every later start die with email_taken). The interruption is rebuilt as the seed's
 * own code paths leave it: a live email reservation with an orphan Cognito user (killed inside provisioning), a
 * bare reservation, a registered partner without the partner group, a staff user without a password, and users
 * not begun. The next seed finishes all of it and every demo user signs in with the demo password and its roles;
 * the seed after that changes nothing (table items and the local Cognito's data file identical).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Runtime, startRuntime } from '#local/runtime.ts';
import { DEMO_PASSWORD, DEMO_USERS, seedDemo } from '#local/seed.ts';

// biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field
type Json = any;

let rt: Runtime;
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'backoffice-seed-'));
beforeAll(async () => {
  rt = await startRuntime({
    dynamoEndpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB!,
    tableName: `seed-${Date.now().toString(36)}`,
    dataDir,
    seed: false,
    schedules: false,
    timeScale: 0.01,
  });
});
afterAll(async () => {
  await rt?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function call(method: string, p: string, opts: { token?: string; body?: unknown } = {}) {
  const res = await fetch(`${rt.apiUrl}${p}`, {
    method,
    headers: {
      ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Json) : undefined };
}

/** Every item of the table and the local Cognito's data file: what "changes nothing" compares. */
async function snapshot(): Promise<string> {
  const { ddb } = await import('#shared/clients.ts');
  const items: Json[] = [];
  let start: Json;
  do {
    const page = await ddb().send(new ScanCommand({ TableName: rt.tableName, ConsistentRead: true, ExclusiveStartKey: start }));
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  const rows = items.map((i) => JSON.stringify(i)).sort();
  const cognito = readFileSync(path.join(dataDir, 'cognito.json'), 'utf8');
  return createHash('sha256').update(rows.join('\n')).update(cognito).digest('hex');
}

/** Lets the workflows the seed started finish or park (the demo client approved, the partner's review waiting). */
async function quiet(): Promise<void> {
  const { findEmailOwner } = await import('#store/unique-email.ts');
  const { getClientProfile } = await import('#store/clients.ts');
  const deadline = Date.now() + 40_000;
  for (;;) {
    await rt.settle();
    const client = await findEmailOwner('client@demo.test');
    const profile = client && (await getClientProfile(client.ownerId));
    const parked = rt.states.pendingTasks().some((t) => t.executionArn.includes(':kyc-review:'));
    if (profile?.kycStatus === 'approved' && parked) break;
    if (Date.now() > deadline)
      throw new Error(`workflows did not settle (client KYC ${profile?.kycStatus}, review parked ${parked})`);
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 300));
  await rt.settle();
}

describe('the demo seed after an interrupted first start', () => {
  it('finishes what the interrupted seed began, every demo user signs in, and a further seed changes nothing', async () => {
    const { reserveEmail } = await import('#store/unique-email.ts');
    const { cognitoIdentity } = await import('#adapters/identity/cognito.ts');
    const { registerClient } = await import('#app/identity/register-client.ts');
    const { createStaff } = await import('#app/identity/create-staff.ts');
    const admin = { sub: 'system:seed', email: 'seed@local', roles: ['admin' as const], isStaff: true };

    // client@demo.test: killed inside provisioning, after the Cognito user was created (a live reservation + an orphan).
    await reserveEmail('client@demo.test', 'client');
    await cognitoIdentity.createUser('client', {
      email: 'client@demo.test',
      givenName: 'Clara',
      familyName: 'Client',
      password: DEMO_PASSWORD,
      emailVerified: false,
    });
    // partner@demo.test: registered, killed before the partner group was added.
    await registerClient(
      {
        email: 'partner@demo.test',
        password: DEMO_PASSWORD,
        firstName: 'Paul',
        lastName: 'Partner',
        dateOfBirth: '1990-04-12',
        countryOfResidence: 'DE',
        clientType: 'retail',
        locale: 'en',
      },
      { requestId: 'seed', locale: 'en' },
    );
    // sales@demo.test: created, killed before its password was set.
    await createStaff({ email: 'sales@demo.test', firstName: 'Sam', lastName: 'Sales', roles: ['sales'] }, admin, {
      requestId: 'seed',
      locale: 'en',
    });
    // compliance@demo.test: killed right after its email was reserved.
    await reserveEmail('compliance@demo.test', 'staff');
    // finance@ and admin@: never begun.

    const second = await seedDemo(rt);
    expect(second.broken).toEqual([]);
    expect(second.created.sort()).toEqual(['admin@demo.test', 'client@demo.test', 'compliance@demo.test', 'finance@demo.test']);
    expect(second.repaired.sort()).toEqual(['partner@demo.test', 'sales@demo.test']);

    for (const user of DEMO_USERS) {
      const session = await call('POST', '/v1/sessions', { body: { email: user.email, password: DEMO_PASSWORD } });
      expect(session.status, `${user.email}: ${JSON.stringify(session.body)}`).toBe(200);
      const me = await call('GET', '/v1/me', { token: session.body.idToken });
      expect(me.status, JSON.stringify(me.body)).toBe(200);
      expect([...me.body.roles].sort(), user.email).toEqual([...user.roles].sort());
    }
    const client = (await call('POST', '/v1/sessions', { body: { email: 'client@demo.test', password: DEMO_PASSWORD } })).body;
    const wallets = await call('GET', '/v1/wallets', { token: client.idToken });
    const funded = wallets.body.items.filter((w: Json) => Number(w.balance.amount) !== 0);
    expect(funded.map((w: Json) => [w.currency, w.balance.amount]).sort()).toEqual([
      ['EUR', '2500.00'],
      ['USD', '5000.00'],
    ]);
    const trading = await call('GET', '/v1/trading-accounts', { token: client.idToken });
    expect(trading.status, JSON.stringify(trading.body)).toBe(200);
    expect(trading.body.items.map((a: Json) => [a.kind, a.currency, a.status, a.state?.balance.amount])).toEqual([
      ['demo', 'EUR', 'active', '10000.00'],
    ]);

    await quiet();
    const before = await snapshot();
    const third = await seedDemo(rt);
    expect(third).toEqual({ created: [], repaired: [], broken: [] });
    await rt.settle();
    expect(await snapshot()).toBe(before);
  }, 120_000);
});
