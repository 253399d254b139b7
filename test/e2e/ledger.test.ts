/**
 * The ledger journey over HTTP against the local runtime: finance funds the demo client, the client
 * sees it, converts USD to EUR (rate on both entries), downloads a statement, a large adjustment
 * needs a second finance user, and the reconciliation job run on demand finds nothing wrong.
 */

import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { formatAmount, toMinor } from '#domain/money/index.ts';
import { DEMO_FUNDING, DEMO_PASSWORD } from '#local/seed.ts';
import { useRuntime } from './harness.ts';

const e2e = useRuntime();
const key = () => `e2e-${randomUUID()}`;

type Wallet = { walletId: string; currency: string; balance: { amount: string }; available: { amount: string } };

async function walletsOf(token: string): Promise<Record<string, Wallet>> {
  const r = await e2e.call('GET', '/v1/wallets', { token });
  expect(r.status).toBe(200);
  return Object.fromEntries((r.body.items as Wallet[]).map((w) => [w.currency, w]));
}

describe('ledger journey', () => {
  it('adjustment -> balance -> FX transfer -> statement -> four-eyes -> reconciliation', async () => {
    const finance = await e2e.signIn('finance@demo.test');
    const client = await e2e.signIn('client@demo.test');
    const admin = await e2e.signIn('admin@demo.test');

    // The seed funded the demo client through finance adjustments.
    let wallets = await walletsOf(client);
    expect(Object.keys(wallets).sort()).toEqual(['EUR', 'GBP', 'JPY', 'USD', 'USDT']);
    const seededUsd = DEMO_FUNDING.find((f) => f.currency === 'USD')!.amount;
    const seededEur = DEMO_FUNDING.find((f) => f.currency === 'EUR')!.amount;
    expect(wallets.USD!.balance.amount).toBe(seededUsd);

    // 1. Finance credits the client below the threshold: posted at once.
    const credit = await e2e.call('POST', '/v1/admin/adjustments', {
      token: finance,
      headers: { 'idempotency-key': key() },
      body: {
        walletId: wallets.USD!.walletId,
        direction: 'credit',
        amount: { amount: '500.00', currency: 'USD' },
        reason: 'Welcome bonus approved by marketing',
      },
    });
    expect(credit.status, JSON.stringify(credit.body)).toBe(201);
    expect(credit.body.status).toBe('posted');

    // 2. The client sees it.
    wallets = await walletsOf(client);
    const usdAfterCredit = formatAmount(toMinor(seededUsd, 'USD') + 500_00n, 'USD');
    expect(wallets.USD!.balance.amount).toBe(usdAfterCredit);
    expect(wallets.USD!.available.amount).toBe(usdAfterCredit);

    // 3. USD -> EUR at the tenant rate; the rate is on the response and on both entries.
    const transferKey = key();
    const body = {
      fromWalletId: wallets.USD!.walletId,
      toWalletId: wallets.EUR!.walletId,
      amount: { amount: '100.00', currency: 'USD' },
      reference: 'e2e fx',
    };
    const t = await e2e.call('POST', '/v1/transfers', { token: client, headers: { 'idempotency-key': transferKey }, body });
    expect(t.status, JSON.stringify(t.body)).toBe(201);
    expect(t.body.type).toBe('fx_transfer');
    const rate = t.body.fx.rate as string;
    expect(rate).toBe('0.9193548387');
    const replay = await e2e.call('POST', '/v1/transfers', { token: client, headers: { 'idempotency-key': transferKey }, body });
    expect(replay.body.journalId).toBe(t.body.journalId);

    for (const [cur, amount] of [
      ['USD', '-100.00'],
      ['EUR', '91.93'],
    ] as const) {
      const tx = await e2e.call('GET', `/v1/wallets/${wallets[cur]!.walletId}/transactions?limit=5`, {
        token: client,
        headers: { 'accept-language': 'es' },
      });
      expect(tx.status).toBe(200);
      const entry = tx.body.items[0];
      expect(entry).toMatchObject({ journalId: t.body.journalId, amount: { amount, currency: cur }, status: 'posted' });
      expect(entry.fx.rate).toBe(rate);
      expect(entry.description).toContain('1 USD = 0,9193548387 EUR');
    }
    wallets = await walletsOf(client);
    expect(wallets.EUR!.balance.amount).toBe(formatAmount(toMinor(seededEur, 'EUR') + 91_93n, 'EUR'));

    // Another client's wallet is invisible to the demo client.
    const other = await e2e.call('GET', '/v1/wallets/wal_someone-else_USD/transactions', { token: client });
    expect(other.status).toBe(404);
    expect(other.body.code).toBe('wallet_not_found');

    // 4. The statement downloads as CSV with opening and closing balances.
    const month = new Date().toISOString().slice(0, 7);
    const st = await e2e.call('GET', `/v1/wallets/${wallets.USD!.walletId}/statement?month=${month}`, { token: client });
    expect(st.status).toBe(200);
    expect(st.headers.get('content-type')).toContain('text/csv');
    expect(st.headers.get('content-disposition')).toContain(
      `attachment; filename="statement-${wallets.USD!.walletId}-${month}.csv"`,
    );
    const lines = (st.body as string).trimEnd().split('\r\n');
    expect(lines[0]).toBe('date,type,description,reference,amount,currency,balance,fx_rate,journal_id');
    expect(lines[1]).toContain(',opening_balance,Opening balance,,,USD,0.00,,');
    expect(lines.at(-1)).toContain(
      `,closing_balance,Closing balance,,,USD,${formatAmount(toMinor(usdAfterCredit, 'USD') - 100_00n, 'USD')},,`,
    );
    expect(lines.some((l) => l.includes(rate))).toBe(true);

    // 5. A large adjustment needs a second finance user.
    const large = await e2e.call('POST', '/v1/admin/adjustments', {
      token: finance,
      headers: { 'idempotency-key': key() },
      body: {
        walletId: wallets.USD!.walletId,
        direction: 'credit',
        amount: { amount: '15000.00', currency: 'USD' },
        reason: 'Compensation for a disputed trade, ticket 4711',
      },
    });
    expect(large.status).toBe(202);
    expect(large.body.status).toBe('pending_approval');
    const id = large.body.adjustmentId as string;
    const self = await e2e.call('POST', `/v1/admin/adjustments/${id}/decision`, {
      token: finance,
      body: { decision: 'approve', note: 'self' },
    });
    expect(self.status).toBe(403);
    expect(self.body.code).toBe('four_eyes_required');

    const email = `finance2.${randomUUID().slice(0, 6)}@demo.test`;
    const created = await e2e.call('POST', '/v1/admin/staff', {
      token: admin,
      body: { email, firstName: 'Fiona', lastName: 'Second', roles: ['finance'] },
    });
    expect(created.status).toBe(201);
    const { cognitoIdentity } = await import('#adapters/identity/cognito.ts');
    await cognitoIdentity.setPassword('staff', email, DEMO_PASSWORD);
    const finance2 = await e2e.signIn(email);
    const approved = await e2e.call('POST', `/v1/admin/adjustments/${id}/decision`, {
      token: finance2,
      body: { decision: 'approve', note: 'Ticket 4711 checked' },
    });
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    expect(approved.body.status).toBe('posted');
    const twice = await e2e.call('POST', `/v1/admin/adjustments/${id}/decision`, {
      token: finance2,
      body: { decision: 'approve', note: 'again' },
    });
    expect(twice.status).toBe(409);
    wallets = await walletsOf(client);
    expect(wallets.USD!.balance.amount).toBe(formatAmount(toMinor(usdAfterCredit, 'USD') - 100_00n + 15_000_00n, 'USD'));

    const journal = await e2e.call('GET', `/v1/admin/ledger/journals/${approved.body.journalId}`, { token: admin });
    expect(journal.status).toBe(200);
    expect(journal.body.adjustmentAudit.map((a: { action: string }) => a.action)).toEqual([
      'ledger.adjustment.requested',
      'ledger.adjustment.approved',
      'ledger.adjustment.posted',
    ]);

    // 6. Reconciliation on demand finds nothing wrong.
    await e2e.rt.settle();
    const run = await e2e.call('POST', '/v1/admin/jobs/ledger-reconciliation/runs', { token: admin });
    expect(run.status).toBe(202);
    await e2e.rt.settle();
    let recon = await e2e.call('GET', '/v1/admin/ledger/reconciliation', { token: finance });
    for (let i = 0; i < 100 && recon.body.latest?.runId !== run.body.runId; i++) {
      await new Promise((r) => setTimeout(r, 100));
      recon = await e2e.call('GET', '/v1/admin/ledger/reconciliation', { token: finance });
    }
    expect(recon.body.latest).toMatchObject({ runId: run.body.runId, status: 'succeeded', summary: { findings: 0 } });
    expect(recon.body.latest.summary.journalsChecked).toBeGreaterThanOrEqual(5);
    expect(recon.body.findings.items).toEqual([]);
  });
});
