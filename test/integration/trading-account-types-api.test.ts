/**
 * GET /v1/trading-account-types against a real table with the demo tenant: the caller's jurisdiction and client
 * type decide the types and the leverage choices (an EU retail client gets up to 1:30, a professional up to
 * 1:500, a ROW retail client the swap-free type too), `live.allowed` follows the KYC status, `kind` filters,
 * labels follow Accept-Language, and the refusals: 400 for a bad kind, 401, 403 for staff, 404 without a
 * profile; nothing is written.
 */
import { randomUUID } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ClientType } from '#domain/onboarding/catalog.ts';
import { ddb } from '#shared/clients.ts';
import { useHandlerEnv } from '../support/api-env.ts';
import { seedClient } from '../support/clients.ts';
import { apiEvent, bodyOf, claimsFor, lambdaContext } from '../support/events.ts';

type Handler = (
  e: ReturnType<typeof apiEvent>,
  c: ReturnType<typeof lambdaContext>,
) => Promise<{ statusCode: number; body: string; headers?: Record<string, unknown> }>;
let handler: Handler;
let table: string;

interface Offer {
  jurisdiction: string;
  clientType: string;
  live: { allowed: boolean; reason?: string };
  leverageCaps: Record<string, number>;
  items: {
    id: string;
    label: string;
    platform: string;
    kinds: string[];
    currencies: string[];
    leverage: { choices: number[]; cap: number };
    minFirstDeposit: { amount: string; currency: string }[];
    commissionPerLot: { amount: string; currency: string }[];
    swapFree: boolean;
    demoStartingBalance: { amount: string; currency: string }[];
  }[];
}

const uid = () => randomUUID().slice(0, 8);
const JURISDICTION: Record<string, string> = { DE: 'EU', ZA: 'ROW' };

async function clientIn(country: string, clientType: ClientType, kyc: 'approved' | 'not_started') {
  return (
    await seedClient({
      clientId: `client-${country.toLowerCase()}-${uid()}`,
      countryOfResidence: country,
      jurisdiction: JURISDICTION[country]!,
      clientType,
      kycStatus: kyc,
    })
  ).claims;
}

const get = (claims: Record<string, string> | undefined, query?: Record<string, string>, lang?: string) =>
  handler(
    apiEvent({
      method: 'GET',
      resource: '/v1/trading-account-types',
      ...(claims ? { claims } : {}),
      ...(query ? { query } : {}),
      ...(lang ? { headers: { 'Accept-Language': lang } } : {}),
    }),
    lambdaContext(),
  );
const offer = async (claims: Record<string, string>, query?: Record<string, string>, lang?: string) => {
  const res = await get(claims, query, lang);
  expect(res.statusCode, res.body).toBe(200);
  return bodyOf<Offer>(res);
};
const countItems = async () =>
  (await ddb().send(new ScanCommand({ TableName: table, Select: 'COUNT', ConsistentRead: true }))).Count ?? 0;

let euRetail: Record<string, string>;
let euPro: Record<string, string>;
let rowRetailApproved: Record<string, string>;

beforeAll(async () => {
  table = await useHandlerEnv('trading-account-types');
  handler = (await import('#functions/api/trading-account-types.ts')).handler as Handler;
  euRetail = await clientIn('DE', 'retail', 'not_started');
  euPro = await clientIn('DE', 'professional', 'approved');
  rowRetailApproved = await clientIn('ZA', 'retail', 'approved');
});

describe('what a client is offered', () => {
  it('an EU retail client: Standard and Raw spread, leverage up to the 1:30 cap, live closed until KYC is approved', async () => {
    const o = await offer(euRetail);
    expect(o).toMatchObject({ jurisdiction: 'EU', clientType: 'retail', live: { allowed: false, reason: 'kyc_not_approved' } });
    expect(o.leverageCaps).toMatchObject({ fx_major: 30, gold: 20, crypto: 2 });
    expect(o.items.map((t) => t.id)).toEqual(['standard', 'raw-spread']);
    const [standard, raw] = o.items;
    expect(standard).toEqual({
      id: 'standard',
      label: 'Standard',
      platform: 'mt5',
      kinds: ['live', 'demo'],
      currencies: ['USD', 'EUR', 'GBP'],
      leverage: { choices: [1, 5, 10, 20, 30], cap: 30 },
      minFirstDeposit: [
        { amount: '100.00', currency: 'USD' },
        { amount: '100.00', currency: 'EUR' },
        { amount: '100.00', currency: 'GBP' },
      ],
      commissionPerLot: [],
      swapFree: false,
      demoStartingBalance: [
        { amount: '10000.00', currency: 'USD' },
        { amount: '10000.00', currency: 'EUR' },
        { amount: '10000.00', currency: 'GBP' },
      ],
    });
    expect(raw!.commissionPerLot).toEqual([
      { amount: '3.50', currency: 'USD' },
      { amount: '3.00', currency: 'EUR' },
    ]);
  });

  it('a professional client gets the options up to its 1:500 cap; live is open once KYC is approved', async () => {
    const o = await offer(euPro);
    expect(o.live).toEqual({ allowed: true });
    expect(o.items[0]!.leverage).toEqual({ choices: [1, 5, 10, 20, 30, 50, 100, 200, 500], cap: 500 });
  });

  it('a ROW retail client also gets the swap-free type (live only); kind=demo leaves it out', async () => {
    const o = await offer(rowRetailApproved);
    expect(o.items.map((t) => t.id)).toEqual(['standard', 'raw-spread', 'swap-free']);
    expect(o.items[2]).toMatchObject({ kinds: ['live'], swapFree: true, leverage: { choices: [1, 10, 30, 100, 200], cap: 500 } });
    expect((await offer(rowRetailApproved, { kind: 'demo' })).items.map((t) => t.id)).toEqual(['standard', 'raw-spread']);
    expect((await offer(rowRetailApproved, { kind: 'live' })).items.map((t) => t.id)).toEqual([
      'standard',
      'raw-spread',
      'swap-free',
    ]);
  });

  it('labels follow Accept-Language', async () => {
    expect((await offer(rowRetailApproved, {}, 'de')).items.map((t) => t.label)).toEqual(['Standard', 'Raw Spread', 'Swapfrei']);
    expect((await offer(rowRetailApproved, {}, 'es')).items.map((t) => t.label)).toEqual([
      'Estándar',
      'Spread bruto',
      'Sin swap',
    ]);
  });
});

describe('refusals, and nothing written', () => {
  it('400 for a bad kind and 404 without a profile write nothing; 401 without a token, 403 for staff', async () => {
    const before = await countItems();
    await offer(euRetail);
    const bad = await get(euRetail, { kind: 'real' });
    expect(bad.statusCode).toBe(400);
    expect(bodyOf<{ code: string }>(bad).code).toBe('validation_failed');
    const none = await get(claimsFor(`client-${uid()}`, ['client']));
    expect(none.statusCode).toBe(404);
    expect(bodyOf<{ code: string }>(none).code).toBe('profile_not_found');
    expect(await countItems()).toBe(before);
    // (a refused role is recorded as a security event by the edge: functions/middleware/security.ts)
    expect((await get(undefined)).statusCode).toBe(401);
    expect((await get(claimsFor(`staff-${uid()}`, ['finance']))).statusCode).toBe(403);
  });
});
