/**
 * The payments journey of issue 5 over HTTP against the whole local runtime (sandbox PSP, webhook,
 * withdrawal-approval state machine, outbox, queues): a client registers and is KYC-approved through
 * the real flow, deposits by card through the sandbox provider (settled by its signed webhook), has a
 * failing and a pending deposit, withdraws a small amount (approved automatically, paid out), a large
 * one (manual approval by finance), has one rejected by compliance (funds released), and finally a
 * chargeback freezes its withdrawals and opens a compliance case, which compliance closes (the freeze
 * lifts and a withdrawal is paid again). The wallet is checked to the cent at every step.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sandboxChargeback } from '#app/payments/sandbox-provider.ts';
import { useRuntime } from './harness.ts';
import { approvedClient, type Json, until as untilGet } from './journeys.ts';

const e2e = useRuntime();

const money = (amount: string, currency = 'EUR') => ({ amount, currency });

const until = (token: string, path: string, done: (body: Json) => boolean, ms?: number) => untilGet(e2e, token, path, done, ms);

async function eurWallet(token: string): Promise<Json> {
  const res = await e2e.call('GET', '/v1/wallets', { token });
  expect(res.status).toBe(200);
  return res.body.items.find((w: Json) => w.currency === 'EUR');
}

async function deposit(token: string, walletId: string, amount: string): Promise<Json> {
  const res = await e2e.call('POST', '/v1/deposits', {
    token,
    headers: { 'idempotency-key': randomUUID() },
    body: { walletId, methodId: 'card', amount: money(amount) },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

async function withdraw(token: string, walletId: string, amount: string, sourceId: string): Promise<Json> {
  const res = await e2e.call('POST', '/v1/withdrawals', {
    token,
    headers: { 'idempotency-key': randomUUID() },
    body: { walletId, methodId: 'card', amount: money(amount), destination: { sourceId } },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  expect(res.body.status).toBe('received');
  return res.body;
}

describe('payments journey', () => {
  it('deposits, withdraws (automatic and manual), is rejected once, and a chargeback freezes withdrawals', async () => {
    const token = await approvedClient(e2e, 'payments');
    const wallet = await eurWallet(token);
    expect(wallet.balance).toEqual(money('0.00'));

    // Deposit 1,000.00 EUR by card: 2.5 % fee shown up front, the provider's page to go to next.
    const dep = await deposit(token, wallet.walletId, '1000.00');
    expect(dep).toMatchObject({
      gross: money('1000.00'),
      fee: money('25.00'),
      net: money('975.00'),
      nextAction: { type: 'redirect' },
    });
    const settled = await until(token, `/v1/deposits/${dep.depositId}`, (d) => d.status === 'completed');
    expect(settled.firstDeposit).toBe(true);
    expect(settled.timeline.map((t: Json) => t.status)).toEqual(['created', 'pending', 'completed']);
    expect((await eurWallet(token)).balance).toEqual(money('975.00'));

    // The sandbox's amount rule: cents 13 fail (with a reason), cents 42 stay pending.
    const failing = await deposit(token, wallet.walletId, '100.13');
    const failed = await until(token, `/v1/deposits/${failing.depositId}`, (d) => d.status === 'failed');
    expect(failed.timeline.at(-1)).toMatchObject({
      status: 'failed',
      reason: expect.any(String),
      reasonText: expect.any(String),
    });
    const waiting = await deposit(token, wallet.walletId, '100.42');
    await e2e.rt.settle();
    expect((await e2e.call('GET', `/v1/deposits/${waiting.depositId}`, { token })).body.status).toBe('pending');

    // A second, larger card deposit: 9,000.00 - 225.00 fee.
    const big = await deposit(token, wallet.walletId, '9000.00');
    await until(token, `/v1/deposits/${big.depositId}`, (d) => d.status === 'completed');
    expect((await eurWallet(token)).balance).toEqual(money('9750.00'));
    expect((await e2e.call('GET', `/v1/deposits/${big.depositId}`, { token })).body.firstDeposit).toBe(false);

    const sources = await e2e.call('GET', '/v1/funding-sources', { token });
    expect(sources.status).toBe(200);
    const card = sources.body.items.find((s: Json) => s.method.id === 'card');
    expect(card).toBeDefined();

    // Small withdrawal: every check clean, under the auto-approval limit -> paid out without a human.
    const small = await withdraw(token, wallet.walletId, '100.00', card.sourceId);
    const paid = await until(token, `/v1/withdrawals/${small.withdrawalId}`, (w) => w.status === 'completed');
    expect(paid.timeline.map((t: Json) => t.status)).toEqual(['received', 'approved', 'processing', 'completed']);
    expect((await eurWallet(token)).balance).toEqual(money('9650.00'));

    // Large withdrawal: above the auto-approval limit -> under review, approved by finance, paid out.
    const finance = await e2e.signIn('finance@demo.test');
    const large = await withdraw(token, wallet.walletId, '3000.00', card.sourceId);
    const reviewing = await until(token, `/v1/withdrawals/${large.withdrawalId}`, (w) => w.status === 'under_review');
    expect(reviewing.timeline.at(-1)).toMatchObject({ status: 'under_review', reasonText: expect.any(String) });
    const held = await eurWallet(token);
    expect(held).toMatchObject({ balance: money('9650.00'), available: money('6650.00'), held: money('3000.00') });
    const queue = await e2e.call('GET', '/v1/admin/withdrawals?status=under_review', { token: finance });
    expect(queue.status).toBe(200);
    expect(queue.body.items.map((w: Json) => w.withdrawalId)).toContain(large.withdrawalId);
    const approve = await e2e.call('POST', `/v1/admin/withdrawals/${large.withdrawalId}/decision`, {
      token: finance,
      body: { decision: 'approve' },
    });
    expect(approve.status, JSON.stringify(approve.body)).toBe(200);
    await until(token, `/v1/withdrawals/${large.withdrawalId}`, (w) => w.status === 'completed');
    expect((await eurWallet(token)).balance).toEqual(money('6650.00'));

    // Another large one, rejected by compliance with a catalogue reason: the hold is released.
    const compliance = await e2e.signIn('compliance@demo.test');
    const refused = await withdraw(token, wallet.walletId, '2500.00', card.sourceId);
    await until(token, `/v1/withdrawals/${refused.withdrawalId}`, (w) => w.status === 'under_review');
    const reject = await e2e.call('POST', `/v1/admin/withdrawals/${refused.withdrawalId}/decision`, {
      token: compliance,
      body: { decision: 'reject', reason: 'source_of_funds_required' },
    });
    expect(reject.status, JSON.stringify(reject.body)).toBe(200);
    const rejected = await until(token, `/v1/withdrawals/${refused.withdrawalId}`, (w) => w.status === 'rejected');
    expect(rejected.timeline.at(-1)).toMatchObject({ status: 'rejected', reasonText: expect.any(String) });
    expect(await eurWallet(token)).toMatchObject({ balance: money('6650.00'), available: money('6650.00'), held: money('0.00') });

    // A chargeback on the first deposit: the wallet pays it, withdrawals freeze, compliance gets a case.
    const staffView = await e2e.call('GET', `/v1/deposits/${dep.depositId}`, { token: finance });
    expect(staffView.body.providerRef).toMatch(/^sbx_dep_/);
    expect(settled.providerRef).toBeUndefined(); // the client's view does not show provider internals
    await sandboxChargeback({
      providerRef: staffView.body.providerRef,
      merchantRef: dep.depositId,
      amount: money('1000.00'),
      disputeId: `dp_${randomUUID().slice(0, 8)}`,
      reasonCode: '10.4',
    });
    await until(token, `/v1/deposits/${dep.depositId}`, (d) => d.status === 'charged_back');
    expect((await eurWallet(token)).balance).toEqual(money('5650.00'));
    const frozen = await e2e.call('POST', '/v1/withdrawals', {
      token,
      headers: { 'idempotency-key': randomUUID() },
      body: { walletId: wallet.walletId, methodId: 'card', amount: money('50.00'), destination: { sourceId: card.sourceId } },
    });
    expect(frozen.status).toBe(422);
    expect(frozen.body.code).toBe('withdrawals_frozen');
    const cases = await e2e.call('GET', '/v1/admin/compliance/cases?status=open', { token: compliance });
    expect(cases.status).toBe(200);
    const chargebackCase = cases.body.items.find(
      (c: Json) => c.kind === 'chargeback' && JSON.stringify(c).includes(dep.depositId),
    );
    expect(chargebackCase, JSON.stringify(cases.body.items)).toBeDefined();

    // Compliance clears the client: the case closes, the freeze lifts, and withdrawals work again.
    const closeBy = (t: string) =>
      e2e.call('POST', `/v1/admin/compliance/cases/${chargebackCase.caseId}/close`, {
        token: t,
        body: { resolution: 'cleared', note: 'Issuer confirmed the dispute was raised in error.' },
      });
    expect((await closeBy(finance)).status).toBe(403);
    const closed = await closeBy(compliance);
    expect(closed.status, JSON.stringify(closed.body)).toBe(200);
    expect(closed.body).toMatchObject({ status: 'closed', resolution: 'cleared', freeze: { lifted: true } });
    const again = await withdraw(token, wallet.walletId, '50.00', card.sourceId);
    await until(token, `/v1/withdrawals/${again.withdrawalId}`, (w) => w.status === 'completed');
    expect((await eurWallet(token)).balance).toEqual(money('5600.00'));
  }, 180_000);
});
