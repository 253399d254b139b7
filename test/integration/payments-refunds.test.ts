/**
 * Refunds through POST /v1/admin/deposits/{depositId}/refunds and the refund webhook effect, against
 * DynamoDB Local with a fake provider: a refund above what is left writes nothing; a partial then a
 * full refund with exact balances (the fee is not returned, the deposit ends 'refunded'); refund.failed
 * releases the hold; a duplicate webhook applies once; insufficient funds and a provider outage; the
 * back-office deposit list; role denials on every route.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyRefundEvent } from '#app/payments/apply-refund-event.ts';
import { toMinor } from '#domain/money/index.ts';
import type { PspPort, RefundRequest } from '#domain/payments/ports.ts';
import { usePspForTests } from '#functions/adapters/psp/index.ts';
import { houseAccount } from '#store/ledger/accounts.ts';
import { getJournal } from '#store/ledger/journals.ts';
import { getFundingSource } from '#store/payments/client-state.ts';
import { getDeposit } from '#store/payments/deposits.ts';
import { getRefund } from '#store/payments/refunds.ts';
import { useHandlerEnv } from '../support/api-env.ts';
import { auditTrail } from '../support/audit.ts';
import { apiEvent, bodyOf, claimsFor, lambdaContext } from '../support/events.ts';
import { fakePsp } from '../support/psp.ts';
import { balanceOf, completedDeposit, countItems, paymentClient, spend, uid, webhookCtx } from './payments-fixtures.ts';

type Handler = (
  e: ReturnType<typeof apiEvent>,
  c: ReturnType<typeof lambdaContext>,
) => Promise<{ statusCode: number; body: string; headers?: Record<string, unknown> }>;
let admin: Handler;
let table: string;
let restore: () => void;
const refunds: RefundRequest[] = [];
let providerMode: 'pending' | 'throw' | 'failed' = 'pending';

const finance = claimsFor(`finance-${uid()}`, ['finance']);
const compliance = claimsFor(`compliance-${uid()}`, ['compliance']);
const adminUser = claimsFor(`admin-${uid()}`, ['admin']);
const sales = claimsFor(`sales-${uid()}`, ['sales']);

interface RefundView {
  refundId: string;
  depositId: string;
  status: string;
  amount: { amount: string; currency: string };
  providerRef?: string;
  failureReason?: string;
  timeline: { status: string }[];
}

const call = (input: Parameters<typeof apiEvent>[0]) => admin(apiEvent(input), lambdaContext());
const postRefund = (depositId: string, body: unknown, claims = finance, key = `rf-${uid()}-${uid()}`) =>
  call({
    method: 'POST',
    resource: '/v1/admin/deposits/{depositId}/refunds',
    pathParameters: { depositId },
    claims,
    body,
    headers: { 'Idempotency-Key': key },
  });
const eur = (amount: string) => ({ amount, currency: 'EUR' });
const succeeded = (r: RefundView, eventId?: string) =>
  webhookCtx({
    type: 'refund.succeeded',
    providerRef: r.providerRef!,
    merchantRef: r.refundId,
    amount: r.amount.amount,
    ...(eventId ? { eventId } : {}),
  });

beforeAll(async () => {
  table = await useHandlerEnv('payments-refunds');
  const psp: PspPort = {
    ...fakePsp(),
    async refund(req) {
      refunds.push(req);
      if (providerMode === 'throw') throw new Error('provider timeout');
      return { providerRef: `psp_rf_${req.idempotencyKey}`, status: providerMode === 'failed' ? 'failed' : 'pending' };
    },
  };
  restore = usePspForTests('sandbox', psp);
  admin = (await import('#functions/api/payments-admin.ts')).handler as Handler;
  await houseAccount('psp_clearing', 'EUR');
  await houseAccount('fee_income', 'EUR');
  await houseAccount('house_adjustments', 'EUR');
});
afterAll(() => restore());

describe('POST /v1/admin/deposits/{depositId}/refunds', () => {
  it('refuses more than the deposit net (the fee is not refundable) and writes nothing', async () => {
    providerMode = 'pending';
    const c = await paymentClient();
    const d = await completedDeposit(c, '100.00', '3.00');
    const before = await countItems(table);
    const asked = refunds.length;
    for (const [amount, code, status] of [
      ['100.00', 'refund_exceeds_deposit', 422],
      ['97.01', 'refund_exceeds_deposit', 422],
    ] as const) {
      const res = await postRefund(d.depositId, { amount: eur(amount), reason: 'client_request' });
      expect(res.statusCode, res.body).toBe(status);
      expect(bodyOf(res).code).toBe(code);
    }
    const bad: [unknown, number, string][] = [
      [{ amount: { amount: '10.00', currency: 'USD' }, reason: 'client_request' }, 422, 'currency_mismatch'],
      [{ amount: eur('10.00'), reason: 'because' }, 400, 'unknown_reason'],
      [{ amount: eur('10.00'), reason: 'other' }, 400, 'note_required'],
      [{ amount: eur('10.001'), reason: 'client_request' }, 422, 'amount_too_precise'],
    ];
    for (const [body, status, code] of bad) {
      const res = await postRefund(d.depositId, body);
      expect(res.statusCode, res.body).toBe(status);
      expect(bodyOf(res).code).toBe(code);
    }
    const missing = await postRefund('dep_nope', { amount: eur('1.00'), reason: 'client_request' });
    expect([missing.statusCode, bodyOf(missing).code]).toEqual([404, 'deposit_not_found']);
    expect(await countItems(table)).toBe(before);
    expect(refunds.length).toBe(asked);
    expect(await balanceOf(c.walletId)).toEqual({ ledger: '97.00', held: '0.00', available: '97.00' });
  });

  it('a partial then a full refund: funds held at once, exact balances, deposit refunded', async () => {
    providerMode = 'pending';
    const c = await paymentClient();
    const d = await completedDeposit(c, '100.00', '3.00');
    const clearing = (await houseAccount('psp_clearing', 'EUR')).accountId;
    const clearingBefore = (await balanceOf(clearing)).ledger;

    const first = await postRefund(d.depositId, { amount: eur('40.00'), reason: 'client_request' });
    expect(first.statusCode, first.body).toBe(201);
    const r1 = bodyOf<RefundView>(first);
    expect(r1).toMatchObject({ depositId: d.depositId, status: 'pending', amount: eur('40.00') });
    expect(r1.providerRef).toBe(`psp_rf_${r1.refundId}`);
    expect(refunds.at(-1)).toMatchObject({
      depositProviderRef: d.providerRef,
      idempotencyKey: r1.refundId,
      reason: 'client_request',
    });
    // reserved at once: available down, ledger unchanged
    expect(await balanceOf(c.walletId)).toEqual({ ledger: '97.00', held: '40.00', available: '57.00' });
    // 57.00 is left refundable while 40.00 is pending
    const over = await postRefund(d.depositId, { amount: eur('57.01'), reason: 'client_request' });
    expect(bodyOf(over).code).toBe('refund_exceeds_deposit');

    expect(await applyRefundEvent(succeeded(r1))).toEqual({ outcome: 'applied', paymentId: r1.refundId });
    expect(await balanceOf(c.walletId)).toEqual({ ledger: '57.00', held: '0.00', available: '57.00' });
    let dep = await getDeposit(d.depositId, { consistent: true });
    expect(dep).toMatchObject({ status: 'completed', refunded: eur('40.00') });
    const journal = await getJournal(`refund_${r1.refundId}`);
    expect(journal?.metadata).toMatchObject({
      psp: { provider: 'sandbox', providerRef: r1.providerRef, kind: 'refund' },
      refundId: r1.refundId,
      depositId: d.depositId,
    });
    expect(journal?.postings.map((p) => [p.accountId, p.amount])).toEqual([
      [c.walletId, -4000n],
      [clearing, 4000n],
    ]);

    const second = await postRefund(d.depositId, {
      amount: eur('57.00'),
      reason: 'other',
      note: 'Goodwill: closing the account',
    });
    expect(second.statusCode, second.body).toBe(201);
    const r2 = bodyOf<RefundView>(second);
    expect(await applyRefundEvent(succeeded(r2))).toMatchObject({ outcome: 'applied' });
    expect(await balanceOf(c.walletId)).toEqual({ ledger: '0.00', held: '0.00', available: '0.00' });
    dep = await getDeposit(d.depositId, { consistent: true });
    expect(dep).toMatchObject({ status: 'refunded', refunded: eur('97.00') });
    expect(dep?.timeline.at(-1)?.status).toBe('refunded');
    // the PSP clearing got back exactly what was refunded
    const clearingAfter = (await balanceOf(clearing)).ledger;
    expect(toMinor(clearingAfter, 'EUR') - toMinor(clearingBefore, 'EUR')).toBe(9700n);
    const source = await getFundingSource(c.clientId, d.sourceId!);
    expect(source?.returned.EUR).toBe(9700n);
    expect((await auditTrail('refund', r2.refundId)).map((a) => a.action)).toEqual([
      'payment.refund.requested',
      'payment.refund.sent',
      'payment.refund.completed',
    ]);

    const after = await postRefund(d.depositId, { amount: eur('0.01'), reason: 'client_request' });
    expect([after.statusCode, bodyOf(after).code]).toEqual([422, 'deposit_not_refundable']);
  });

  it('refund.failed releases the hold and moves no money', async () => {
    providerMode = 'pending';
    const c = await paymentClient();
    const d = await completedDeposit(c, '50.00', '0.00');
    const r = bodyOf<RefundView>(await postRefund(d.depositId, { amount: eur('20.00'), reason: 'duplicate_payment' }));
    expect(await balanceOf(c.walletId)).toMatchObject({ available: '30.00', held: '20.00' });
    const ctx = webhookCtx({
      type: 'refund.failed',
      providerRef: r.providerRef!,
      merchantRef: r.refundId,
      amount: '20.00',
      failureCode: 'refund_declined',
    });
    expect(await applyRefundEvent(ctx)).toEqual({ outcome: 'applied', paymentId: r.refundId });
    expect(await balanceOf(c.walletId)).toEqual({ ledger: '50.00', held: '0.00', available: '50.00' });
    expect(await getRefund(r.refundId, { consistent: true })).toMatchObject({
      status: 'failed',
      failureReason: 'refund_declined',
    });
    const dep = await getDeposit(d.depositId, { consistent: true });
    expect(dep).toMatchObject({ status: 'completed', refundsPending: eur('0.00') });
    // a late success for the failed refund changes nothing
    expect(await applyRefundEvent(succeeded(r))).toEqual({
      outcome: 'ignored',
      reason: 'refund_not_pending',
      paymentId: r.refundId,
    });
    expect(await balanceOf(c.walletId)).toEqual({ ledger: '50.00', held: '0.00', available: '50.00' });
    // the whole 50.00 can be refunded again
    expect((await postRefund(d.depositId, { amount: eur('50.00'), reason: 'client_request' })).statusCode).toBe(201);
  });

  it('a duplicate refund webhook applies once (same event, another event id, concurrently)', async () => {
    providerMode = 'pending';
    const c = await paymentClient();
    const d = await completedDeposit(c, '80.00', '0.00');
    const r = bodyOf<RefundView>(await postRefund(d.depositId, { amount: eur('30.00'), reason: 'client_request' }));
    const ctx = succeeded(r, `evt_${uid()}`);
    const results = await Promise.allSettled([applyRefundEvent(ctx), applyRefundEvent(ctx), applyRefundEvent(succeeded(r))]);
    const applied = results.filter((x) => x.status === 'fulfilled' && x.value.outcome === 'applied');
    expect(applied).toHaveLength(1);
    for (const x of results) {
      if (x.status === 'rejected')
        expect((x.reason as { code: string }).code).toMatch(/^(webhook_duplicate|concurrent_modification)$/);
      else if (x.value.outcome === 'ignored') expect(x.value.reason).toBe('refund_not_pending');
    }
    expect(await applyRefundEvent(ctx)).toMatchObject({ outcome: 'ignored', reason: 'refund_not_pending' });
    expect(await balanceOf(c.walletId)).toEqual({ ledger: '50.00', held: '0.00', available: '50.00' });
    expect(await getDeposit(d.depositId, { consistent: true })).toMatchObject({ refunded: eur('30.00') });
  });

  it('an amount that does not match the refund, or an unknown refund, is ignored', async () => {
    const c = await paymentClient();
    const d = await completedDeposit(c, '60.00', '0.00');
    const r = bodyOf<RefundView>(await postRefund(d.depositId, { amount: eur('10.00'), reason: 'client_request' }));
    const wrong = webhookCtx({ type: 'refund.succeeded', providerRef: r.providerRef!, merchantRef: r.refundId, amount: '11.00' });
    expect(await applyRefundEvent(wrong)).toMatchObject({ outcome: 'ignored', reason: 'amount_mismatch' });
    const unknown = webhookCtx({ type: 'refund.succeeded', providerRef: 'psp_rf_nope', amount: '10.00' });
    expect(await applyRefundEvent(unknown)).toEqual({ outcome: 'ignored', reason: 'unknown_payment' });
    // found by the provider reference alone
    const byRef = webhookCtx({ type: 'refund.succeeded', providerRef: r.providerRef!, amount: '10.00' });
    expect(await applyRefundEvent(byRef)).toEqual({ outcome: 'applied', paymentId: r.refundId });
  });

  it('insufficient available funds: 422 insufficient_funds, nothing written, provider not asked', async () => {
    providerMode = 'pending';
    const c = await paymentClient();
    const d = await completedDeposit(c, '100.00', '0.00');
    await spend(c.walletId, '70.00');
    const before = await countItems(table);
    const asked = refunds.length;
    const res = await postRefund(d.depositId, { amount: eur('40.00'), reason: 'client_request' });
    expect([res.statusCode, bodyOf(res).code]).toEqual([422, 'insufficient_funds']);
    expect(await countItems(table)).toBe(before);
    expect(refunds.length).toBe(asked);
  });

  it('a provider outage: 502, the refund failed and its hold released', async () => {
    providerMode = 'throw';
    const c = await paymentClient();
    const d = await completedDeposit(c, '100.00', '0.00');
    const res = await postRefund(d.depositId, { amount: eur('25.00'), reason: 'client_request' });
    expect([res.statusCode, bodyOf(res).code]).toEqual([502, 'payment_provider_unavailable']);
    expect(await balanceOf(c.walletId)).toEqual({ ledger: '100.00', held: '0.00', available: '100.00' });
    providerMode = 'failed';
    const declined = bodyOf<RefundView>(await postRefund(d.depositId, { amount: eur('25.00'), reason: 'client_request' }));
    expect(declined).toMatchObject({ status: 'failed', failureReason: 'refund_declined' });
    expect(await balanceOf(c.walletId)).toEqual({ ledger: '100.00', held: '0.00', available: '100.00' });
    providerMode = 'pending';
  });

  it('is idempotent: the same key gives the same refund and one hold; another body under it is refused', async () => {
    providerMode = 'pending';
    const c = await paymentClient();
    const d = await completedDeposit(c, '100.00', '0.00');
    const key = `same-${uid()}`;
    const a = await postRefund(d.depositId, { amount: eur('10.00'), reason: 'client_request' }, finance, key);
    const b = await postRefund(d.depositId, { amount: eur('10.00'), reason: 'client_request' }, finance, key);
    expect(bodyOf<RefundView>(b).refundId).toBe(bodyOf<RefundView>(a).refundId);
    expect(await balanceOf(c.walletId)).toMatchObject({ held: '10.00' });
    // the store's own idempotency, without the edge's record
    const { refundDeposit } = await import('#app/payments/refund-deposit.ts');
    const caller = { sub: finance.sub!, email: 'f@example.test', roles: ['finance' as const], isStaff: true };
    const again = await refundDeposit({ depositId: d.depositId, amount: eur('10.00'), reason: 'client_request' }, caller, {
      idempotencyKey: key,
      requestId: 'retry',
      locale: 'en',
    });
    expect(again.refundId).toBe(bodyOf<RefundView>(a).refundId);
    await expect(
      refundDeposit({ depositId: d.depositId, amount: eur('11.00'), reason: 'client_request' }, caller, {
        idempotencyKey: key,
        requestId: 'x',
        locale: 'en',
      }),
    ).rejects.toMatchObject({ code: 'idempotency_key_reused' });
    expect(await balanceOf(c.walletId)).toMatchObject({ held: '10.00' });
  });
});

describe('GET /v1/admin/deposits', () => {
  it("lists a client's deposits newest first, by status, paginated", async () => {
    const c = await paymentClient();
    const d1 = await completedDeposit(c, '10.00', '0.00');
    const d2 = await completedDeposit(c, '20.00', '0.00');
    const d3 = await completedDeposit(c, '30.00', '0.00');
    await postRefund(d2.depositId, { amount: eur('20.00'), reason: 'client_request' });
    const list = (query: Record<string, string>, claims = finance) =>
      call({ method: 'GET', resource: '/v1/admin/deposits', claims, query });
    const all = await list({ clientId: c.clientId });
    expect(all.statusCode, all.body).toBe(200);
    const items = bodyOf<{ items: { depositId: string; refundsPending?: unknown; clientId: string }[] }>(all).items;
    expect(items.map((i) => i.depositId)).toEqual([d3.depositId, d2.depositId, d1.depositId]);
    expect(items[1]).toMatchObject({ clientId: c.clientId, refundsPending: eur('20.00') });

    const p1 = bodyOf<{ items: { depositId: string }[]; nextCursor?: string; hasMore: boolean }>(
      await list({ clientId: c.clientId, status: 'completed', limit: '2' }, compliance),
    );
    expect(p1.items.map((i) => i.depositId)).toEqual([d3.depositId, d2.depositId]);
    expect(p1.hasMore).toBe(true);
    const p2 = bodyOf<{ items: { depositId: string }[]; hasMore: boolean }>(
      await list({ clientId: c.clientId, status: 'completed', limit: '2', cursor: p1.nextCursor! }, adminUser),
    );
    expect(p2).toMatchObject({ items: [{ depositId: d1.depositId }], hasMore: false });
    expect(bodyOf<{ items: unknown[] }>(await list({ clientId: c.clientId, status: 'failed' })).items).toEqual([]);
    const neither = await list({});
    expect([neither.statusCode, bodyOf(neither).code]).toEqual([400, 'client_or_status_required']);
  });

  it("lists the tenant's deposits in one status: open ones oldest first, the others newest first, paginated", async () => {
    const [a, b] = [await paymentClient(), await paymentClient()];
    const pause = () => new Promise((r) => setTimeout(r, 5)); // distinct completion times order them
    const d1 = await completedDeposit(a, '11.00', '0.00');
    await pause();
    const d2 = await completedDeposit(b, '12.00', '0.00');
    await pause();
    const d3 = await completedDeposit(a, '13.00', '0.00');
    const list = (query: Record<string, string>) =>
      call({ method: 'GET', resource: '/v1/admin/deposits', claims: finance, query });
    type ListBody = { items: { depositId: string; status: string }[]; nextCursor?: string; hasMore: boolean };
    // Other tests of this file add completed deposits too: page through all, then look at ours.
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const res = await list({ status: 'completed', limit: '2', ...(cursor ? { cursor } : {}) });
      expect(res.statusCode, res.body).toBe(200);
      const body = bodyOf<ListBody>(res);
      expect(body.items.every((i) => i.status === 'completed')).toBe(true);
      seen.push(...body.items.map((i) => i.depositId));
      cursor = body.nextCursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.filter((id) => [d1, d2, d3].some((d) => d.depositId === id))).toEqual([d3.depositId, d2.depositId, d1.depositId]);
    // Refunded in full, d2 moves from the completed list to the refunded one.
    const r = bodyOf<RefundView>(await postRefund(d2.depositId, { amount: eur('12.00'), reason: 'client_request' }));
    expect(await applyRefundEvent(succeeded(r))).toMatchObject({ outcome: 'applied' });
    const refunded = bodyOf<ListBody>(await list({ status: 'refunded', limit: '100' }));
    expect(refunded.items.map((i) => i.depositId)).toContain(d2.depositId);
    const completed = bodyOf<ListBody>(await list({ status: 'completed', limit: '100' }));
    expect(completed.items.map((i) => i.depositId)).not.toContain(d2.depositId);
    expect(completed.items.map((i) => i.depositId)).toContain(d1.depositId);
  });
});

describe('roles', () => {
  it('clients, partners and other staff get 403 on the routes they may not use', async () => {
    const c = await paymentClient();
    const d = await completedDeposit(c, '10.00', '0.00');
    const partner = claimsFor(`partner-${uid()}`, ['partner']);
    const routes: Parameters<typeof apiEvent>[0][] = [
      { method: 'GET', resource: '/v1/admin/deposits', query: { clientId: c.clientId } },
      { method: 'POST', resource: '/v1/admin/deposits/{depositId}/refunds', pathParameters: { depositId: d.depositId } },
      { method: 'GET', resource: '/v1/admin/compliance/cases' },
      { method: 'GET', resource: '/v1/admin/compliance/cases/{caseId}', pathParameters: { caseId: 'case_x' } },
    ];
    const denied: [Record<string, string>, number[]][] = [
      [c.claims, [0, 1, 2, 3]],
      [partner, [0, 1, 2, 3]],
      [sales, [0, 1, 2, 3]],
      [compliance, [1]],
      [adminUser, [1]],
      [finance, [2, 3]],
    ];
    for (const [claims, idx] of denied) {
      for (const i of idx) {
        const res = await call({
          ...routes[i]!,
          claims,
          ...(routes[i]!.method === 'POST'
            ? { body: { amount: eur('1.00'), reason: 'client_request' }, headers: { 'Idempotency-Key': `k-${uid()}` } }
            : {}),
        });
        expect(res.statusCode, `${claims['cognito:groups']} ${routes[i]!.resource}`).toBe(403);
      }
    }
    expect(await balanceOf(c.walletId)).toEqual({ ledger: '10.00', held: '0.00', available: '10.00' });
  });
});
