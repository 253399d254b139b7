/**
 * GET /v1/payment-methods against a real table on DynamoDB Local with the demo tenant: the caller's
 * country decides the list and its order (a German client gets SEPA first, an Australian one no
 * EU-only method, a restricted country nothing), money as decimal strings with fees and processing
 * times, German labels for Accept-Language de, the filters and each bad-filter code, 403 for staff,
 * 401 without a token, 404 without a profile, and nothing written.
 */
import { randomUUID } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { ddb } from '#shared/clients.ts';
import { commit } from '#store/audit.ts';
import { newClientProfile, putClientProfile } from '#store/clients.ts';
import { useHandlerEnv } from '../support/api-env.ts';
import { apiEvent, bodyOf, claimsFor, lambdaContext } from '../support/events.ts';

type Handler = (
  e: ReturnType<typeof apiEvent>,
  c: ReturnType<typeof lambdaContext>,
) => Promise<{ statusCode: number; body: string; headers?: Record<string, unknown> }>;
let handler: Handler;
let table: string;

interface Item {
  id: string;
  kind: string;
  label: string;
  directions: string[];
  currencies: {
    currency: string;
    min: { amount: string; currency: string };
    max: { amount: string; currency: string };
    fees: Record<string, { fixed: { amount: string; currency: string }; percent: string; minimum?: unknown }>;
  }[];
  processingTime: Record<string, { instant: boolean; minMinutes: number; maxMinutes: number; text: string }>;
  displayOrder: number;
}
interface Problem {
  code: string;
  status: number;
  errors?: { field: string; code: string }[];
}

const uid = () => randomUUID().slice(0, 8);
const JURISDICTION: Record<string, string> = { DE: 'EU', NL: 'EU', AU: 'AU', ZA: 'ROW', NG: 'ROW', US: 'ROW' };

/** A registered client resident in `country`, written the way registration writes it. */
async function clientIn(country: string) {
  const clientId = `client-${country.toLowerCase()}-${uid()}`;
  const now = new Date().toISOString();
  const profile = newClientProfile(
    {
      clientId,
      email: `${clientId}@example.test`,
      firstName: 'Anna',
      lastName: 'Schmidt',
      dateOfBirth: '1990-04-01',
      countryOfResidence: country,
      jurisdiction: JURISDICTION[country] ?? 'ROW',
      clientType: 'retail',
      locale: 'en',
      emailVerified: true,
      status: 'active',
      onboarding: { stage: 'registered' },
    },
    now,
  );
  await commit({
    writes: [putClientProfile(profile)],
    audit: {
      actor: { id: clientId, role: 'client' },
      action: 'client.registered',
      entity: { type: 'client', id: clientId },
      clientId,
      before: null,
      after: { clientId },
      requestId: 'test',
    },
  });
  return claimsFor(clientId, ['client']);
}

const list = (claims: Record<string, string> | undefined, query?: Record<string, string>, lang?: string) =>
  handler(
    apiEvent({
      method: 'GET',
      resource: '/v1/payment-methods',
      ...(claims ? { claims } : {}),
      ...(query ? { query } : {}),
      ...(lang ? { headers: { 'Accept-Language': lang } } : {}),
    }),
    lambdaContext(),
  );
const items = async (claims: Record<string, string>, query?: Record<string, string>, lang?: string) => {
  const res = await list(claims, query, lang);
  expect(res.statusCode, res.body).toBe(200);
  return bodyOf<{ items: Item[] }>(res).items;
};
const countItems = async () =>
  (await ddb().send(new ScanCommand({ TableName: table, Select: 'COUNT', ConsistentRead: true }))).Count ?? 0;

let de: Record<string, string>;
let nl: Record<string, string>;
let au: Record<string, string>;
let za: Record<string, string>;
let us: Record<string, string>;

beforeAll(async () => {
  table = await useHandlerEnv('payment-methods');
  handler = (await import('#functions/api/payment-methods.ts')).handler as Handler;
  [de, nl, au, za, us] = (await Promise.all(['DE', 'NL', 'AU', 'ZA', 'US'].map(clientIn))) as [
    Record<string, string>,
    Record<string, string>,
    Record<string, string>,
    Record<string, string>,
    Record<string, string>,
  ];
});

describe("the caller's country decides which methods and in what order", () => {
  it('a German client gets SEPA first, then card, e-wallet and SWIFT, each with its display order', async () => {
    const got = await items(de);
    expect(got.map((m) => [m.id, m.displayOrder])).toEqual([
      ['sepa-wire', 1],
      ['card', 2],
      ['skrill', 3],
      ['swift-wire', 4],
    ]);
  });

  it('a Dutch client sees the country-specific order (card last)', async () => {
    expect((await items(nl)).map((m) => m.id)).toEqual(['sepa-wire', 'skrill', 'swift-wire', 'card']);
  });

  it("an Australian client doesn't see EU-only (SEPA, e-wallet) or ROW-only (crypto) methods", async () => {
    expect((await items(au)).map((m) => m.id)).toEqual(['card', 'swift-wire']);
  });

  it('a rest-of-world client gets crypto; a restricted country gets an empty list', async () => {
    expect((await items(za)).map((m) => m.id)).toEqual(['card', 'skrill', 'usdt-trc20', 'swift-wire']);
    expect(await items(us)).toEqual([]);
  });
});

describe('limits, fees and processing times are shown before the client commits', () => {
  it('SEPA: EUR limits, free deposit, 5.00 withdrawal, 1–2 days in, 1–3 days out; money as decimal strings', async () => {
    const sepa = (await items(de)).find((m) => m.id === 'sepa-wire')!;
    expect(sepa).toEqual({
      id: 'sepa-wire',
      kind: 'bank_wire',
      label: 'SEPA bank transfer',
      directions: ['deposit', 'withdrawal'],
      currencies: [
        {
          currency: 'EUR',
          min: { amount: '50.00', currency: 'EUR' },
          max: { amount: '100000.00', currency: 'EUR' },
          fees: {
            deposit: { fixed: { amount: '0.00', currency: 'EUR' }, percent: '0.00' },
            withdrawal: { fixed: { amount: '5.00', currency: 'EUR' }, percent: '0.00' },
          },
        },
      ],
      processingTime: {
        deposit: { instant: false, minMinutes: 1440, maxMinutes: 2880, text: '1–2 days' },
        withdrawal: { instant: false, minMinutes: 1440, maxMinutes: 4320, text: '1–3 days' },
      },
      displayOrder: 1,
    });
  });

  it('card: 2.50 % on deposits, instant; e-wallet minimum fee; crypto in USDT with 6 decimals', async () => {
    const got = await items(za);
    const card = got.find((m) => m.id === 'card')!;
    expect(card.currencies.map((c) => c.currency)).toEqual(['USD', 'EUR', 'GBP']);
    expect(card.currencies[0]!.fees.deposit).toEqual({ fixed: { amount: '0.00', currency: 'USD' }, percent: '2.50' });
    expect(card.processingTime.deposit).toEqual({ instant: true, minMinutes: 0, maxMinutes: 0, text: 'Instant' });
    const skrill = got.find((m) => m.id === 'skrill')!;
    expect(skrill.currencies[0]!.fees.deposit).toEqual({
      fixed: { amount: '0.00', currency: 'EUR' },
      percent: '1.00',
      minimum: { amount: '0.50', currency: 'EUR' },
    });
    const usdt = got.find((m) => m.id === 'usdt-trc20')!;
    expect(usdt.currencies[0]).toMatchObject({
      min: { amount: '20.000000', currency: 'USDT' },
      fees: { withdrawal: { fixed: { amount: '1.000000', currency: 'USDT' }, percent: '0.00' } },
    });
  });

  it('labels and processing-time texts follow Accept-Language (German)', async () => {
    const got = await items(de, undefined, 'de-DE,de;q=0.9');
    expect(got.map((m) => m.label)).toEqual([
      'SEPA-Überweisung',
      'Kredit- oder Debitkarte',
      'Skrill',
      'Auslandsüberweisung (SWIFT)',
    ]);
    expect(got[0]!.processingTime.withdrawal!.text).toBe('1–3 Tage');
    expect(got[1]!.processingTime.deposit!.text).toBe('Sofort');
  });
});

describe('filters', () => {
  it('direction and currency narrow the list and what each item shows', async () => {
    const got = await items(za, { direction: 'withdrawal', currency: 'USD' });
    expect(got.map((m) => m.id)).toEqual(['card', 'skrill', 'swift-wire']);
    for (const m of got) {
      expect(m.currencies.map((c) => c.currency)).toEqual(['USD']);
      expect(Object.keys(m.currencies[0]!.fees)).toEqual(['withdrawal']);
      expect(Object.keys(m.processingTime)).toEqual(['withdrawal']);
    }
    expect(got.find((m) => m.id === 'swift-wire')!.currencies[0]!.fees.withdrawal!.fixed).toEqual({
      amount: '25.00',
      currency: 'USD',
    });
  });

  it('an enabled currency no method offers in the country is an empty list', async () => {
    expect(await items(de, { currency: 'USDT' })).toEqual([]);
    expect(await items(de, { currency: 'JPY' })).toEqual([]);
  });

  it('each bad filter has its own 400 code', async () => {
    const cases: [Record<string, string>, string, string][] = [
      [{ direction: 'refund' }, 'invalid_direction', 'direction'],
      [{ currency: 'usd' }, 'invalid_currency', 'currency'],
      [{ currency: 'XYZ' }, 'unknown_currency', 'currency'],
      [{ currency: 'CHF' }, 'currency_not_enabled', 'currency'],
      [{ country: 'DE' }, 'validation_failed', 'country'],
    ];
    for (const [query, code, field] of cases) {
      const res = await list(de, query);
      const p = bodyOf<Problem>(res);
      expect([res.statusCode, p.code], JSON.stringify(query)).toEqual([400, code]);
      expect(p.errors?.[0]?.field).toBe(field);
    }
  });
});

describe('access', () => {
  it('staff get 403 forbidden_role; no token is 401', async () => {
    for (const role of ['finance', 'admin', 'compliance']) {
      const res = await list(claimsFor(`${role}-${uid()}`, [role]));
      expect([res.statusCode, bodyOf<Problem>(res).code]).toEqual([403, 'forbidden_role']);
    }
    expect((await list(undefined)).statusCode).toBe(401);
  });

  it('a client without a profile gets 404 profile_not_found', async () => {
    const res = await list(claimsFor(`ghost-${uid()}`, ['client']));
    expect([res.statusCode, bodyOf<Problem>(res).code]).toEqual([404, 'profile_not_found']);
  });

  it('reading writes nothing', async () => {
    const before = await countItems();
    await items(de);
    await list(de, { currency: 'XYZ' });
    expect(await countItems()).toBe(before);
  });
});
