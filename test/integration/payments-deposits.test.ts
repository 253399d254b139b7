/**
 * POST/GET /v1/deposits and the deposit-expiry job against a real table on DynamoDB Local, with a
 * fake PSP for the intent call: the fee and the next action shown, every bad-input code writing
 * nothing, the deposit's own idempotency (same key -> same deposit, other body -> 422, a deposit a crash
 * left 'created' resumed), another client's deposit 404, a provider outage (502, failed, reservation
 * released), the pre-verification allowance (up to the limit and not one cent more, also when
 * concurrent), and the expiry job (expires an unpaid intent once).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usePspForTests } from '#functions/adapters/psp/index.ts';
import { commit } from '#store/audit.ts';
import { ensureWallet } from '#store/ledger/accounts.ts';
import { getPaymentState } from '#store/payments/client-state.ts';
import {
  DEPOSIT_ENTITY,
  depositIdFor,
  depositRequestHash,
  getDeposit,
  newDeposit,
  putDeposit,
} from '#store/payments/deposits.ts';
import { useHandlerEnv } from '../support/api-env.ts';
import { auditTrail } from '../support/audit.ts';
import { seedClient } from '../support/clients.ts';
import { countItemsBesidesSecurityEvents } from '../support/dynamodb.ts';
import { apiEvent, bodyOf, claimsFor, lambdaContext } from '../support/events.ts';
import { type FakePsp, fakePsp, providerRefOf } from '../support/psp.ts';

type Handler = (
  e: ReturnType<typeof apiEvent>,
  c: ReturnType<typeof lambdaContext>,
) => Promise<{ statusCode: number; body: string; headers?: Record<string, unknown> }>;
let deposits: Handler;
let table: string;
let psp: FakePsp;
let restore: () => void;

interface View {
  depositId: string;
  status: string;
  walletId: string;
  method: { id: string; kind: string; label: string };
  gross: { amount: string; currency: string };
  fee: { amount: string; currency: string };
  net: { amount: string; currency: string };
  nextAction?: Record<string, string>;
  intentExpiresAt: string;
  firstDeposit: boolean;
  timeline: { status: string; at: string; reason?: string; reasonText?: string }[];
  provider?: string;
  providerRef?: string;
  clientId?: string;
}
interface Problem {
  code: string;
  status: number;
}

const uid = () => randomUUID().slice(0, 8);
const call = (input: Parameters<typeof apiEvent>[0]) => deposits(apiEvent(input), lambdaContext());
const post = (claims: Record<string, string>, body: unknown, key: string = `dep-${uid()}-${uid()}`, locale = 'en') =>
  call({
    method: 'POST',
    resource: '/v1/deposits',
    claims,
    body,
    headers: { 'Idempotency-Key': key, 'Accept-Language': locale },
  });
const getOne = (claims: Record<string, string>, depositId: string, locale = 'en') =>
  call({
    method: 'GET',
    resource: '/v1/deposits/{depositId}',
    pathParameters: { depositId },
    claims,
    headers: { 'Accept-Language': locale },
  });
const list = (claims: Record<string, string>, query?: Record<string, string>) =>
  call({ method: 'GET', resource: '/v1/deposits', claims, ...(query ? { query } : {}) });

/** Items other than security events: a refusal writes nothing else (a probe is recorded, ADR 0010). */
const countItems = () => countItemsBesidesSecurityEvents(table);

/** A client with EUR and USD wallets; KYC-approved unless said otherwise. */
async function client(opts: { approved?: boolean; country?: string; jurisdiction?: string } = {}) {
  const { clientId, claims } = await seedClient({
    clientId: `client-${uid()}`,
    ...(opts.approved === false ? {} : { kycStatus: 'approved' }),
    ...(opts.country ? { countryOfResidence: opts.country, jurisdiction: opts.jurisdiction ?? 'EU' } : {}),
  });
  const ctx = { actor: { id: clientId, role: 'client' }, requestId: 'test' };
  await ensureWallet(clientId, 'EUR', ctx);
  await ensureWallet(clientId, 'USD', ctx);
  return { clientId, claims, eur: `wal_${clientId}_EUR`, usd: `wal_${clientId}_USD` };
}

const card = (walletId: string, amount: string, currency = 'EUR') => ({
  walletId,
  methodId: 'card',
  amount: { amount, currency },
});

beforeAll(async () => {
  table = await useHandlerEnv('deposits');
  psp = fakePsp();
  restore = usePspForTests('sandbox', psp);
  ({ handler: deposits } = (await import('#functions/api/deposits.ts')) as unknown as { handler: Handler });
});
afterAll(() => restore());

describe('POST /v1/deposits', () => {
  it('creates an intent with the fee shown and the provider next action', async () => {
    const c = await client();
    psp.mode = 'ok';
    const res = await post(c.claims, card(c.eur, '100.00'));
    expect(res.statusCode, res.body).toBe(201);
    const d = bodyOf<View>(res);
    expect(d.depositId).toMatch(/^dep_[0-9a-f]{32}$/);
    expect(d.status).toBe('pending');
    expect(d.gross).toEqual({ amount: '100.00', currency: 'EUR' });
    expect(d.fee).toEqual({ amount: '2.50', currency: 'EUR' });
    expect(d.net).toEqual({ amount: '97.50', currency: 'EUR' });
    expect(d.method).toEqual({ id: 'card', kind: 'card', label: 'Credit or debit card' });
    expect(d.nextAction).toEqual({ type: 'redirect', url: `https://psp.test/pay/${d.depositId}` });
    expect(d.timeline.map((e) => e.status)).toEqual(['created', 'pending']);
    expect(d.provider).toBeUndefined();
    expect(psp.intents.at(-1)).toMatchObject({ depositId: d.depositId, idempotencyKey: d.depositId });
    const trail = await auditTrail(DEPOSIT_ENTITY, d.depositId);
    expect(trail.map((a) => a.action)).toEqual(['payment.deposit.created', 'payment.deposit.pending']);
  });

  it('returns bank details with a reference for a wire', async () => {
    const c = await client();
    const res = await post(c.claims, {
      walletId: c.eur,
      methodId: 'sepa-wire',
      amount: { amount: '500.00', currency: 'EUR' },
      account: 'DE89370400440532013000',
    });
    expect(res.statusCode, res.body).toBe(201);
    const d = bodyOf<View>(res);
    expect(d.nextAction?.type).toBe('bank_transfer');
    expect(d.nextAction?.reference).toBeTruthy();
    expect(d.fee.amount).toBe('0.00');
  });

  it('refuses every bad input with its own code and writes nothing', async () => {
    const c = await client();
    const other = await client();
    const uk = await client({ approved: false, country: 'GB', jurisdiction: 'UK' });
    const cases: [Record<string, string>, unknown, number, string][] = [
      [c.claims, card(other.eur, '100.00'), 404, 'wallet_not_found'],
      [c.claims, card(c.eur, '100.00', 'USD'), 422, 'currency_mismatch'],
      [c.claims, { ...card(c.eur, '100.00'), methodId: 'paypal' }, 422, 'unknown_payment_method'],
      [
        c.claims,
        { walletId: c.eur, methodId: 'usdt-trc20', amount: { amount: '100.00', currency: 'EUR' } },
        422,
        'method_not_offered_in_region',
      ],
      [
        c.claims,
        { walletId: c.usd, methodId: 'sepa-wire', amount: { amount: '100.00', currency: 'USD' } },
        422,
        'currency_not_supported_by_method',
      ],
      [c.claims, card(c.eur, '9.99'), 422, 'amount_below_minimum'],
      [c.claims, card(c.eur, '10000.01'), 422, 'amount_above_maximum'],
      [c.claims, card(c.eur, '10.001'), 422, 'amount_too_precise'],
      [uk.claims, card(uk.eur, '100.00'), 403, 'kyc_required'],
    ];
    const before = await countItems();
    const intents = psp.intents.length;
    for (const [claims, body, status, code] of cases) {
      const res = await post(claims, body);
      expect(res.statusCode, `${code}: ${res.body}`).toBe(status);
      expect(bodyOf<Problem>(res).code).toBe(code);
    }
    expect(await countItems()).toBe(before);
    expect(psp.intents.length).toBe(intents);
  });

  it('is idempotent: the same key gives the same deposit, another body under it is refused', async () => {
    const c = await client();
    const key = `same-${uid()}`;
    const first = await post(c.claims, card(c.eur, '50.00'), key);
    expect(first.statusCode, first.body).toBe(201);
    const again = await post(c.claims, card(c.eur, '50.00'), key);
    expect(again.statusCode).toBe(201);
    expect(bodyOf<View>(again).depositId).toBe(bodyOf<View>(first).depositId);
    const reused = await post(c.claims, card(c.eur, '60.00'), key);
    expect(reused.statusCode).toBe(422);
    expect(bodyOf<Problem>(reused).code).toBe('idempotency_key_reused');

    // The deposit's own idempotency, without the edge's record: the same request resumes, another is refused.
    const { createDeposit } = await import('#app/payments/create-deposit.ts');
    const caller = { sub: c.clientId, email: 'x@example.test', roles: ['client' as const], isStaff: false };
    const ctx = { idempotencyKey: key, requestId: 'direct', locale: 'en' };
    const direct = await createDeposit(card(c.eur, '50.00'), caller, ctx);
    expect(direct.depositId).toBe(bodyOf<View>(first).depositId);
    await expect(createDeposit(card(c.eur, '70.00'), caller, ctx)).rejects.toMatchObject({
      code: 'idempotency_key_reused',
    });
  });

  it('resumes a deposit a crash left created', async () => {
    const c = await client();
    const key = `crash-${uid()}`;
    const body = card(c.eur, '40.00');
    const depositId = depositIdFor(c.clientId, key);
    const at = new Date().toISOString();
    const stuck = newDeposit(
      {
        depositId,
        clientId: c.clientId,
        walletId: c.eur,
        methodId: 'card',
        methodKind: 'card',
        provider: 'sandbox',
        gross: { amount: '40.00', currency: 'EUR' },
        fee: { amount: '1.00', currency: 'EUR' },
        net: { amount: '39.00', currency: 'EUR' },
        idempotencyKey: key,
        requestHash: depositRequestHash(body),
        intentExpiresAt: new Date(Date.now() + 3_600_000).toISOString(),
      },
      at,
    );
    await commit({
      writes: [putDeposit(stuck)],
      audit: {
        actor: { id: c.clientId, role: 'client' },
        action: 'payment.deposit.created',
        entity: { type: DEPOSIT_ENTITY, id: depositId },
        clientId: c.clientId,
        before: null,
        after: { depositId },
        requestId: 'test',
      },
    });
    const res = await post(c.claims, body, key);
    expect(res.statusCode, res.body).toBe(201);
    expect(bodyOf<View>(res)).toMatchObject({ depositId, status: 'pending' });
    expect((await getDeposit(depositId, { consistent: true }))?.providerRef).toBe(providerRefOf(depositId));
  });

  it('fails the deposit and answers 502 when the provider is down, releasing the reservation', async () => {
    const c = await client({ approved: false });
    psp.mode = 'throw';
    try {
      const key = `down-${uid()}`;
      const res = await post(c.claims, card(c.eur, '300.00'), key);
      expect(res.statusCode, res.body).toBe(502);
      expect(bodyOf<Problem>(res).code).toBe('payment_provider_unavailable');
      const d = await getDeposit(depositIdFor(c.clientId, key), { consistent: true });
      expect(d?.status).toBe('failed');
      expect(d?.timeline.at(-1)).toMatchObject({ status: 'failed', reason: 'provider_unavailable' });
      expect((await getPaymentState(c.clientId)).preVerification.EUR).toBe(0n);
    } finally {
      psp.mode = 'ok';
    }
  });

  it('shows a refused intent as failed with the reason in the client language', async () => {
    const c = await client();
    psp.mode = 'fail';
    try {
      const res = await post(c.claims, card(c.eur, '20.00'), `declined-${uid()}`, 'de');
      expect(res.statusCode, res.body).toBe(201);
      const d = bodyOf<View>(res);
      expect(d.status).toBe('failed');
      const last = d.timeline.at(-1)!;
      expect(last.reason).toBe('payment_declined');
      expect(last.reasonText).toBeTruthy();
      expect(d.nextAction).toBeUndefined();
    } finally {
      psp.mode = 'ok';
    }
  });
});

describe('pre-verification allowance (EU: 2000.00 EUR before KYC)', () => {
  it('lets an unverified client deposit up to the limit and not one cent more', async () => {
    const c = await client({ approved: false });
    expect((await post(c.claims, card(c.eur, '1500.00'))).statusCode).toBe(201);
    const over = await post(c.claims, card(c.eur, '500.01'));
    expect(over.statusCode).toBe(422);
    expect(bodyOf<Problem>(over).code).toBe('pre_verification_limit_exceeded');
    expect((await post(c.claims, card(c.eur, '500.00'))).statusCode).toBe(201);
    const full = await post(c.claims, card(c.eur, '10.00'));
    expect(bodyOf<Problem>(full).code).toBe('pre_verification_limit_exceeded');
    expect((await getPaymentState(c.clientId)).preVerification.EUR).toBe(200_000n);
  });

  it('never lets concurrent intents exceed the limit', async () => {
    const c = await client({ approved: false });
    const results = await Promise.all(Array.from({ length: 6 }, () => post(c.claims, card(c.eur, '500.00'))));
    const codes = results.map((r) => r.statusCode).sort();
    expect(codes).toEqual([201, 201, 201, 201, 422, 422]);
    for (const r of results.filter((x) => x.statusCode === 422)) {
      expect(bodyOf<Problem>(r).code).toBe('pre_verification_limit_exceeded');
    }
    expect((await getPaymentState(c.clientId)).preVerification.EUR).toBe(200_000n);
  });

  it('does not count a KYC-approved client', async () => {
    const c = await client();
    expect((await post(c.claims, card(c.eur, '5000.00'))).statusCode).toBe(201);
    expect((await getPaymentState(c.clientId)).preVerification.EUR).toBeUndefined();
  });
});

describe('GET /v1/deposits', () => {
  it('lists the caller deposits newest first, paginated', async () => {
    const c = await client();
    const ids: string[] = [];
    for (const amount of ['11.00', '12.00', '13.00']) ids.push(bodyOf<View>(await post(c.claims, card(c.eur, amount))).depositId);
    const page1 = bodyOf<{ items: View[]; hasMore: boolean; nextCursor?: string }>(await list(c.claims, { limit: '2' }));
    expect(page1.items.map((d) => d.depositId)).toEqual([ids[2], ids[1]]);
    expect(page1.hasMore).toBe(true);
    const page2 = bodyOf<{ items: View[]; hasMore: boolean }>(await list(c.claims, { limit: '2', cursor: page1.nextCursor! }));
    expect(page2.items.map((d) => d.depositId)).toEqual([ids[0]]);
    expect(page2.hasMore).toBe(false);
    const other = await client();
    expect(bodyOf<{ items: View[] }>(await list(other.claims)).items).toEqual([]);
  });

  it("answers 404 for another client's deposit, like a missing one; staff see it with the provider fields", async () => {
    const owner = await client();
    const other = await client();
    const d = bodyOf<View>(await post(owner.claims, card(owner.eur, '25.00')));
    const mine = await getOne(owner.claims, d.depositId);
    expect(mine.statusCode).toBe(200);
    expect(bodyOf<View>(mine).providerRef).toBeUndefined();
    for (const id of [d.depositId, 'dep_00000000000000000000000000000000']) {
      const res = await getOne(other.claims, id);
      expect(res.statusCode).toBe(404);
      expect(bodyOf<Problem>(res).code).toBe('deposit_not_found');
    }
    const staff = await getOne(claimsFor(`finance-${uid()}`, ['finance']), d.depositId);
    expect(staff.statusCode).toBe(200);
    expect(bodyOf<View>(staff)).toMatchObject({
      clientId: owner.clientId,
      provider: 'sandbox',
      providerRef: providerRefOf(d.depositId),
    });
    const sales = await getOne(claimsFor(`sales-${uid()}`, ['sales']), d.depositId);
    expect(sales.statusCode).toBe(403);
  });
});

describe('deposit-expiry job', () => {
  it('expires an unpaid intent once and releases its reservation', async () => {
    const { runDepositExpiry } = await import('#functions/jobs/deposit-expiry.ts');
    const c = await client({ approved: false });
    const d = bodyOf<View>(await post(c.claims, card(c.eur, '100.00')));
    expect((await getPaymentState(c.clientId)).preVerification.EUR).toBe(10_000n);
    // In the back office's status index as it moves: pending now, expired below.
    expect((await getDeposit(d.depositId, { consistent: true }))?.gsi3pk).toBe('DEPOSITQ#pending');
    const later = new Date(Date.parse(d.intentExpiresAt) + 60_000);
    const before = await runDepositExpiry({ now: new Date(Date.parse(d.intentExpiresAt) - 60_000) });
    expect((await getDeposit(d.depositId, { consistent: true }))?.status).toBe('pending');
    expect(before.failed).toBe(0);

    const first = await runDepositExpiry({ now: later });
    expect(first.expired).toBeGreaterThanOrEqual(1);
    expect(first.failed).toBe(0);
    const expired = await getDeposit(d.depositId, { consistent: true });
    expect(expired?.status).toBe('expired');
    expect(expired?.timeline.at(-1)).toMatchObject({ status: 'expired', reason: 'intent_expired' });
    expect(expired?.gsi2pk).toBeUndefined();
    expect(expired?.gsi3pk).toBe('DEPOSITQ#expired');
    expect((await getPaymentState(c.clientId)).preVerification.EUR).toBe(0n);

    const items = await countItems();
    const second = await runDepositExpiry({ now: later });
    expect(second.expired).toBe(0);
    expect(await countItems()).toBe(items);
    const trail = await auditTrail(DEPOSIT_ENTITY, d.depositId);
    expect(trail.filter((a) => a.action === 'payment.deposit.expired')).toHaveLength(1);
  });
});
