/**
 * Chargebacks through the chargeback webhook effect and the compliance case routes, against DynamoDB
 * Local: a wallet with enough money pays it all; a spent wallet pays what it has (exactly 0 left, never
 * negative) and the shortfall is the chargeback receivable and the case evidence; withdrawals are frozen
 * and the case is in the compliance list; the same dispute twice (any event id, concurrently) is one
 * journal; won reverses exactly; lost moves nothing.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { applyChargebackEvent } from '#app/payments/apply-chargeback-event.ts';
import { toMinor } from '#domain/money/index.ts';
import { houseAccount } from '#store/ledger/accounts.ts';
import { getJournal } from '#store/ledger/journals.ts';
import { chargebackIdFor, getChargeback } from '#store/payments/chargebacks.ts';
import { getFundingSource, getPaymentState } from '#store/payments/client-state.ts';
import { getDeposit, type StoredDeposit } from '#store/payments/deposits.ts';
import { useHandlerEnv } from '../support/api-env.ts';
import { auditTrail } from '../support/audit.ts';
import { apiEvent, bodyOf, claimsFor, lambdaContext } from '../support/events.ts';
import { balanceOf, completedDeposit, paymentClient, spend, uid, webhookCtx } from './payments-fixtures.ts';

type Handler = (
  e: ReturnType<typeof apiEvent>,
  c: ReturnType<typeof lambdaContext>,
) => Promise<{ statusCode: number; body: string; headers?: Record<string, unknown> }>;
let admin: Handler;
let clearing: string;
let receivable: string;
const compliance = claimsFor(`compliance-${uid()}`, ['compliance']);

const call = (input: Parameters<typeof apiEvent>[0]) => admin(apiEvent(input), lambdaContext());
const opened = (d: StoredDeposit, amount: string, disputeId = `dp_${uid()}`, eventId?: string) =>
  webhookCtx({
    type: 'chargeback.opened',
    providerRef: d.providerRef!,
    amount,
    dispute: { id: disputeId, reasonCode: '10.4' },
    ...(eventId ? { eventId } : {}),
  });
const minor = async (accountId: string) => toMinor((await balanceOf(accountId)).ledger, 'EUR');

beforeAll(async () => {
  await useHandlerEnv('payments-chargebacks');
  admin = (await import('#functions/api/payments-admin.ts')).handler as Handler;
  clearing = (await houseAccount('psp_clearing', 'EUR')).accountId;
  receivable = (await houseAccount('chargeback_receivable', 'EUR')).accountId;
  await houseAccount('fee_income', 'EUR');
  await houseAccount('house_adjustments', 'EUR');
});

describe('chargeback.opened', () => {
  it('a wallet with enough money pays it all: no receivable, deposit charged back', async () => {
    const c = await paymentClient();
    await completedDeposit(c, '200.00', '0.00');
    const d = await completedDeposit(c, '100.00', '3.00');
    const [clearing0, receivable0] = [await minor(clearing), await minor(receivable)];
    const ctx = opened(d, '100.00');
    const res = await applyChargebackEvent(ctx);
    const chargebackId = chargebackIdFor('sandbox', ctx.event.dispute!.id);
    expect(res).toEqual({ outcome: 'applied', paymentId: chargebackId });
    expect(await balanceOf(c.walletId)).toEqual({ ledger: '197.00', held: '0.00', available: '197.00' });
    expect((await minor(clearing)) - clearing0).toBe(10_000n);
    expect(await minor(receivable)).toBe(receivable0);
    const journal = await getJournal(`cb_${chargebackId}`);
    expect(journal?.type).toBe('chargeback');
    expect(journal?.postings.map((p) => [p.accountId, p.amount])).toEqual([
      [clearing, 10_000n],
      [c.walletId, -10_000n],
    ]);
    expect(journal?.metadata).toMatchObject({
      psp: { provider: 'sandbox', providerRef: ctx.event.dispute!.id, kind: 'chargeback' },
    });
    expect(await getDeposit(d.depositId, { consistent: true })).toMatchObject({ status: 'charged_back', chargebackId });
    expect(await getChargeback(chargebackId)).toMatchObject({
      status: 'open',
      amount: { amount: '100.00', currency: 'EUR' },
      fromWallet: { amount: '100.00', currency: 'EUR' },
      receivable: { amount: '0.00', currency: 'EUR' },
    });
    expect((await getFundingSource(c.clientId, d.sourceId!))?.returned.EUR).toBe(10_000n);
    expect((await auditTrail('deposit', d.depositId)).map((a) => a.action)).toContain('payment.deposit.charged_back');
  });

  it('a spent wallet pays what it has, exactly 0 left, the shortfall in chargeback_receivable and the case', async () => {
    const c = await paymentClient();
    const d = await completedDeposit(c, '100.00', '3.00');
    await spend(c.walletId, '90.00'); // 7.00 left
    const receivable0 = await minor(receivable);
    const ctx = opened(d, '100.00');
    expect(await applyChargebackEvent(ctx)).toMatchObject({ outcome: 'applied' });
    expect(await balanceOf(c.walletId)).toEqual({ ledger: '0.00', held: '0.00', available: '0.00' });
    expect((await minor(receivable)) - receivable0).toBe(-9_300n);
    const cb = await getChargeback(chargebackIdFor('sandbox', ctx.event.dispute!.id));
    expect(cb).toMatchObject({ fromWallet: { amount: '7.00' }, receivable: { amount: '93.00' } });
    const res = await call({
      method: 'GET',
      resource: '/v1/admin/compliance/cases/{caseId}',
      pathParameters: { caseId: cb!.caseId },
      claims: compliance,
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(bodyOf(res)).toMatchObject({
      caseId: cb!.caseId,
      clientId: c.clientId,
      kind: 'chargeback',
      status: 'open',
      evidence: {
        depositId: d.depositId,
        reasonCode: '10.4',
        amount: { amount: '100.00', currency: 'EUR' },
        walletAvailableBefore: { amount: '7.00', currency: 'EUR' },
        fromWallet: { amount: '7.00', currency: 'EUR' },
        shortfall: { amount: '93.00', currency: 'EUR' },
      },
      effects: ['withdrawals_frozen'],
      chargeback: { chargebackId: cb!.chargebackId, status: 'open' },
    });
  });

  it('held funds are not taken: the wallet pays its available balance only', async () => {
    const c = await paymentClient();
    const d = await completedDeposit(c, '50.00', '0.00');
    const { placeHold } = await import('#store/ledger/holds.ts');
    await placeHold({
      accountId: c.walletId,
      amount: { amount: 3_000n, currency: 'EUR' },
      expiresAt: new Date(Date.now() + 86_400_000),
      idempotency: { scope: 'test-hold', key: uid(), requestHash: 'x' },
      actor: { id: 'test', role: 'system' },
      requestId: 'test',
    });
    const ctx = opened(d, '50.00');
    expect(await applyChargebackEvent(ctx)).toMatchObject({ outcome: 'applied' });
    expect(await balanceOf(c.walletId)).toEqual({ ledger: '30.00', held: '30.00', available: '0.00' });
    expect(await getChargeback(chargebackIdFor('sandbox', ctx.event.dispute!.id))).toMatchObject({
      fromWallet: { amount: '20.00' },
      receivable: { amount: '30.00' },
    });
  });

  it('freezes withdrawals and opens a case visible in the compliance list', async () => {
    const c = await paymentClient();
    const d = await completedDeposit(c, '40.00', '0.00');
    const ctx = opened(d, '40.00');
    await applyChargebackEvent(ctx);
    const cb = await getChargeback(chargebackIdFor('sandbox', ctx.event.dispute!.id));
    const state = await getPaymentState(c.clientId);
    expect(state.withdrawalsFrozen).toMatchObject({ reason: 'chargeback', caseId: cb!.caseId });
    const list = await call({
      method: 'GET',
      resource: '/v1/admin/compliance/cases',
      claims: compliance,
      query: { status: 'open', limit: '100' },
    });
    expect(list.statusCode, list.body).toBe(200);
    const items = bodyOf<{ items: { caseId: string; clientId: string; status: string }[] }>(list).items;
    expect(items).toContainEqual(expect.objectContaining({ caseId: cb!.caseId, clientId: c.clientId, status: 'open' }));
    const closed = await call({
      method: 'GET',
      resource: '/v1/admin/compliance/cases',
      claims: compliance,
      query: { status: 'closed' },
    });
    expect(bodyOf<{ items: unknown[] }>(closed).items).toEqual([]);
    const missing = await call({
      method: 'GET',
      resource: '/v1/admin/compliance/cases/{caseId}',
      pathParameters: { caseId: 'case_nope' },
      claims: compliance,
    });
    expect([missing.statusCode, bodyOf(missing).code]).toEqual([404, 'case_not_found']);
    expect((await auditTrail('compliance-case', cb!.caseId)).map((a) => a.action)).toEqual(['compliance.case.opened']);
    expect((await auditTrail('payment-state', c.clientId)).map((a) => a.action)).toEqual(['payment.withdrawals.frozen']);
  });

  it('the same dispute twice (another event id, or concurrently) posts one journal', async () => {
    const c = await paymentClient();
    await completedDeposit(c, '500.00', '0.00');
    const d = await completedDeposit(c, '100.00', '0.00');
    const disputeId = `dp_${uid()}`;
    const results = await Promise.allSettled([
      applyChargebackEvent(opened(d, '100.00', disputeId)),
      applyChargebackEvent(opened(d, '100.00', disputeId)),
    ]);
    const outcomes = results.map((r) => (r.status === 'fulfilled' ? r.value.outcome : (r.reason as { code: string }).code));
    expect(outcomes.filter((o) => o === 'applied')).toHaveLength(1);
    const again = await applyChargebackEvent(opened(d, '100.00', disputeId));
    expect(again).toMatchObject({ outcome: 'ignored', reason: 'chargeback_already_opened' });
    // another dispute on the charged-back deposit: it is no longer completed
    expect(await applyChargebackEvent(opened(d, '100.00'))).toMatchObject({
      outcome: 'ignored',
      reason: 'deposit_not_chargeable',
    });
    expect(await balanceOf(c.walletId)).toMatchObject({ ledger: '500.00' });
  });

  it('an unknown deposit, a deposit that is not completed, or an amount above the gross is ignored', async () => {
    const c = await paymentClient();
    const d = await completedDeposit(c, '100.00', '0.00');
    expect(await applyChargebackEvent(opened({ ...d, providerRef: 'psp_nope' }, '10.00'))).toEqual({
      outcome: 'ignored',
      reason: 'unknown_payment',
    });
    expect(await applyChargebackEvent(opened(d, '100.01'))).toMatchObject({ outcome: 'ignored', reason: 'amount_mismatch' });
    const noDispute = webhookCtx({ type: 'chargeback.opened', providerRef: d.providerRef!, amount: '1.00' });
    expect(await applyChargebackEvent(noDispute)).toEqual({ outcome: 'ignored', reason: 'dispute_missing' });
    expect(await balanceOf(c.walletId)).toMatchObject({ ledger: '100.00' });
  });
});

describe('chargeback.won / chargeback.lost', () => {
  it('won: the exact reverse journal (wallet and receivable back), once', async () => {
    const c = await paymentClient();
    const d = await completedDeposit(c, '100.00', '0.00');
    await spend(c.walletId, '60.00');
    const [clearing0, receivable0] = [await minor(clearing), await minor(receivable)];
    const disputeId = `dp_${uid()}`;
    await applyChargebackEvent(opened(d, '100.00', disputeId));
    expect(await balanceOf(c.walletId)).toMatchObject({ ledger: '0.00' });
    const won = webhookCtx({
      type: 'chargeback.won',
      providerRef: d.providerRef!,
      amount: '100.00',
      dispute: { id: disputeId, reasonCode: '10.4' },
    });
    const chargebackId = chargebackIdFor('sandbox', disputeId);
    expect(await applyChargebackEvent(won)).toEqual({ outcome: 'applied', paymentId: chargebackId });
    expect(await balanceOf(c.walletId)).toEqual({ ledger: '40.00', held: '0.00', available: '40.00' });
    expect(await minor(clearing)).toBe(clearing0);
    expect(await minor(receivable)).toBe(receivable0);
    expect(await getChargeback(chargebackId)).toMatchObject({ status: 'won', reversalJournalId: `cbr_${chargebackId}` });
    expect((await getFundingSource(c.clientId, d.sourceId!))?.returned.EUR).toBe(0n);
    const twice = webhookCtx({
      type: 'chargeback.won',
      providerRef: d.providerRef!,
      amount: '100.00',
      dispute: { id: disputeId, reasonCode: '10.4' },
    });
    expect(await applyChargebackEvent(twice)).toMatchObject({ outcome: 'ignored', reason: 'chargeback_not_open' });
    expect(await balanceOf(c.walletId)).toMatchObject({ ledger: '40.00' });
    // the freeze stays until compliance lifts it
    expect((await getPaymentState(c.clientId)).withdrawalsFrozen).toBeDefined();
  });

  it('lost: the chargeback is lost and no money moves', async () => {
    const c = await paymentClient();
    const d = await completedDeposit(c, '100.00', '0.00');
    const disputeId = `dp_${uid()}`;
    await applyChargebackEvent(opened(d, '100.00', disputeId));
    const before = [await minor(clearing), await minor(receivable), await minor(c.walletId)];
    const lost = webhookCtx({
      type: 'chargeback.lost',
      providerRef: d.providerRef!,
      amount: '100.00',
      dispute: { id: disputeId, reasonCode: '10.4' },
    });
    expect(await applyChargebackEvent(lost)).toMatchObject({ outcome: 'applied' });
    expect([await minor(clearing), await minor(receivable), await minor(c.walletId)]).toEqual(before);
    expect(await getChargeback(chargebackIdFor('sandbox', disputeId))).toMatchObject({ status: 'lost' });
    const unknown = webhookCtx({
      type: 'chargeback.lost',
      providerRef: 'x',
      amount: '1.00',
      dispute: { id: 'dp_nope', reasonCode: '1' },
    });
    expect(await applyChargebackEvent(unknown)).toEqual({ outcome: 'ignored', reason: 'unknown_chargeback' });
  });
});
