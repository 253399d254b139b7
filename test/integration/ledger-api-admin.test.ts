/**
 * Finance and inspection handlers against DynamoDB Local: adjustments (threshold boundary, four eyes,
 * decided once), the ledger admin routes, role checks on every admin route, and the reconciliation
 * job (clean ledger, stale hold expiry, a planted balance bug found and audited).
 */

import { randomUUID } from 'node:crypto';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { toMinor } from '#domain/money/index.ts';
import { JOB_DETAIL_TYPE } from '#functions/manifest.ts';
import { ddb } from '#shared/clients.ts';
import { auditItems } from '#store/audit.ts';
import { ledgerKeys } from '#store/keys.ts';
import { useHandlerEnv } from '../support/api-env.ts';
import { apiEvent, bodyOf, claimsFor, lambdaContext } from '../support/events.ts';

type Handler = (
  e: ReturnType<typeof apiEvent>,
  c: ReturnType<typeof lambdaContext>,
) => Promise<{ statusCode: number; body: string; headers?: Record<string, unknown> }>;
let adjustments: Handler;
let ledgerAdmin: Handler;
let wallets: Handler;
let table: string;

const uid = () => randomUUID().slice(0, 8);
const client = claimsFor(`client-${uid()}`, ['client']);
const finance1 = claimsFor(`finance-1-${uid()}`, ['finance']);
const finance2 = claimsFor(`finance-2-${uid()}`, ['finance']);
const finance3 = claimsFor(`finance-3-${uid()}`, ['finance']);
const compliance = claimsFor(`compliance-${uid()}`, ['compliance']);
const admin = claimsFor(`admin-${uid()}`, ['admin']);
const walletUsd = `wal_${client.sub}_USD`;
/** A finance user with no adjustments yet today (immediate adjustments count towards a per-user daily total). */
const freshFinance = () => claimsFor(`finance-${uid()}`, ['finance']);

const call = (h: Handler, input: Parameters<typeof apiEvent>[0]) => h(apiEvent(input), lambdaContext());
const adjust = (claims: Record<string, string>, body: Record<string, unknown>, key = `adj-${uid()}-${uid()}`) =>
  call(adjustments, { method: 'POST', resource: '/v1/admin/adjustments', claims, body, headers: { 'Idempotency-Key': key } });
const decide = (claims: Record<string, string>, adjustmentId: string, body: Record<string, unknown>) =>
  call(adjustments, {
    method: 'POST',
    resource: '/v1/admin/adjustments/{adjustmentId}/decision',
    pathParameters: { adjustmentId },
    claims,
    body,
  });
const credit = (amount: string, currency = 'USD', walletId = walletUsd) => ({
  walletId,
  direction: 'credit',
  amount: { amount, currency },
  reason: 'Goodwill credit after a platform outage',
});
/** Exact money comparison: minor units as bigint, never floats. */
const usdMinor = (amount: string) => toMinor(amount, 'USD');
const balance = async (cur = 'USD') => {
  const items = bodyOf<{ items: { currency: string; balance: { amount: string } }[] }>(
    await call(wallets, { method: 'GET', resource: '/v1/wallets', claims: client }),
  ).items;
  return items.find((w) => w.currency === cur)!.balance.amount;
};

beforeAll(async () => {
  table = await useHandlerEnv('ledger-admin');
  adjustments = (await import('#functions/api/adjustments.ts')).handler as Handler;
  ledgerAdmin = (await import('#functions/api/ledger-admin.ts')).handler as Handler;
  wallets = (await import('#functions/api/wallets.ts')).handler as Handler;
  await call(wallets, { method: 'GET', resource: '/v1/wallets', claims: client });
});

describe('every new admin route refuses clients (403) and the wrong staff roles', () => {
  const routes: [string, string, Record<string, string>?, unknown?][] = [
    ['POST', '/v1/admin/adjustments', undefined, {}],
    ['GET', '/v1/admin/adjustments'],
    ['POST', '/v1/admin/adjustments/{adjustmentId}/decision', { adjustmentId: 'x' }, {}],
    ['GET', '/v1/admin/ledger/accounts/{accountId}', { accountId: 'x' }],
    ['GET', '/v1/admin/ledger/journals/{journalId}', { journalId: 'x' }],
    ['GET', '/v1/admin/ledger/reconciliation'],
  ];
  for (const [method, resource, pathParameters, body] of routes) {
    it(`${method} ${resource}`, async () => {
      const h = resource.includes('/ledger/') ? ledgerAdmin : adjustments;
      const input = { method, resource, ...(pathParameters ? { pathParameters } : {}), ...(body ? { body } : {}) };
      const asClient = await call(h, { ...input, claims: client, headers: { 'Idempotency-Key': `k-${uid()}-${uid()}` } });
      expect(asClient.statusCode).toBe(403);
      expect(bodyOf(asClient).code).toBe('forbidden_role');
      if (resource.includes('/adjustments')) {
        expect(
          (await call(h, { ...input, claims: compliance, headers: { 'Idempotency-Key': `k-${uid()}-${uid()}` } })).statusCode,
        ).toBe(403);
      }
    });
  }
});

describe('POST /v1/admin/adjustments', () => {
  it('below the threshold posts at once (201), against house_adjustments, audited with the reason', async () => {
    const r = await adjust(finance1, credit('9999.99'));
    expect(r.statusCode, r.body).toBe(201);
    const out = bodyOf<{ status: string; journalId: string; threshold: { approvalRequired: boolean } }>(r);
    expect(out).toMatchObject({ status: 'posted', threshold: { approvalRequired: false, amount: '10000.00', currency: 'USD' } });
    expect(await balance()).toBe('9999.99');
    const j = await call(ledgerAdmin, {
      method: 'GET',
      resource: '/v1/admin/ledger/journals/{journalId}',
      pathParameters: { journalId: out.journalId },
      claims: compliance,
    });
    expect(j.statusCode).toBe(200);
    const journal = bodyOf<{
      type: string;
      postings: { accountId: string; amount: { amount: string } }[];
      audit: { action: string; actor: { id: string; role: string } }[];
      adjustmentAudit: { action: string; reason?: string }[];
      metadata: { reason: string };
    }>(j);
    expect(journal.type).toBe('adjustment');
    expect(journal.postings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ accountId: 'house_house_adjustments_USD', amount: { amount: '-9999.99', currency: 'USD' } }),
        expect.objectContaining({ accountId: walletUsd, amount: { amount: '9999.99', currency: 'USD' } }),
      ]),
    );
    expect(journal.audit[0]).toMatchObject({ action: 'ledger.journal.posted', actor: { id: finance1.sub, role: 'finance' } });
    expect(journal.adjustmentAudit[0]).toMatchObject({ action: 'ledger.adjustment.posted', reason: credit('1').reason });
    expect(journal.metadata.reason).toBe(credit('1').reason);
  });

  it('a replay returns the same journal and moves money once', async () => {
    const key = `replay-${uid()}-${uid()}`;
    const f = freshFinance();
    const a = bodyOf<{ journalId: string }>(await adjust(f, credit('1.00'), key));
    const b = bodyOf<{ journalId: string }>(await adjust(f, credit('1.00'), key));
    expect(b.journalId).toBe(a.journalId);
    expect(await balance()).toBe('10000.99');
    const reused = await adjust(f, credit('2.00'), key);
    expect(reused.statusCode).toBe(422);
    expect(bodyOf(reused).code).toBe('idempotency_key_reused');
  });

  it('exactly the threshold (10,000.00 USD) needs approval: 202 pending_approval, no money moved', async () => {
    const r = await adjust(finance1, credit('10000.00'));
    expect(r.statusCode).toBe(202);
    expect(bodyOf(r)).toMatchObject({ status: 'pending_approval', requestedBy: finance1.sub });
    expect(await balance()).toBe('10000.99');
  });

  it('converts other currencies to the base currency for the threshold (EUR at 1.0850)', async () => {
    const eur = `wal_${client.sub}_EUR`;
    expect((await adjust(freshFinance(), credit('9216.58', 'EUR', eur))).statusCode).toBe(201);
    expect((await adjust(freshFinance(), credit('9216.59', 'EUR', eur))).statusCode).toBe(202);
  });

  const bad: [string, Record<string, unknown>, number, string][] = [
    ['zero', { amount: { amount: '0', currency: 'USD' } }, 422, 'amount_not_positive'],
    ['over-precise', { amount: { amount: '1.234', currency: 'USD' } }, 422, 'amount_too_precise'],
    ['wrong currency for the wallet', { amount: { amount: '1.00', currency: 'EUR' } }, 422, 'currency_mismatch'],
    ['unknown wallet', { walletId: 'wal_nobody_USD' }, 404, 'wallet_not_found'],
    ['house account as wallet', { walletId: 'house_house_adjustments_USD' }, 404, 'wallet_not_found'],
    ['short reason', { reason: 'because' }, 400, 'validation_failed'],
    [
      'debit beyond the balance',
      { walletId: walletUsd.replace(/_USD$/, '_GBP'), direction: 'debit', amount: { amount: '1.00', currency: 'GBP' } },
      422,
      'insufficient_funds',
    ],
  ];
  for (const [name, patch, status, code] of bad) {
    it(`${name}: ${status} ${code}`, async () => {
      const r = await adjust(freshFinance(), { ...credit('1.00'), ...patch });
      expect(r.statusCode, r.body).toBe(status);
      expect(bodyOf(r).code).toBe(code);
    });
  }

  it('requires an Idempotency-Key', async () => {
    const r = await call(adjustments, {
      method: 'POST',
      resource: '/v1/admin/adjustments',
      claims: finance1,
      body: credit('1.00'),
    });
    expect(r.statusCode).toBe(400);
    expect(bodyOf(r).code).toBe('idempotency_key_required');
  });
});

describe('four eyes', () => {
  it('the requester cannot approve (403); a second finance user approves, it posts once; a second decision is 409', async () => {
    const before = await balance();
    const req = bodyOf<{ adjustmentId: string }>(await adjust(finance1, credit('25000.00')));
    const self = await decide(finance1, req.adjustmentId, { decision: 'approve', note: 'ok' });
    expect(self.statusCode).toBe(403);
    expect(bodyOf(self).code).toBe('four_eyes_required');
    expect(await balance()).toBe(before);

    const ok = await decide(finance2, req.adjustmentId, { decision: 'approve', note: 'Checked the outage ticket' });
    expect(ok.statusCode, ok.body).toBe(200);
    const decided = bodyOf<{ status: string; journalId: string; decidedBy: string }>(ok);
    expect(decided).toMatchObject({ status: 'posted', decidedBy: finance2.sub });
    expect(usdMinor(await balance())).toBe(usdMinor(before) + usdMinor('25000'));

    const again = await decide(finance3, req.adjustmentId, { decision: 'approve', note: 'again' });
    expect(again.statusCode).toBe(409);
    expect(bodyOf(again).code).toBe('already_decided');
    const reject = await decide(finance3, req.adjustmentId, { decision: 'reject', note: 'too late' });
    expect(reject.statusCode).toBe(409);
    expect(usdMinor(await balance())).toBe(usdMinor(before) + usdMinor('25000'));

    const trail = [];
    for await (const page of auditItems({ type: 'adjustment', id: req.adjustmentId })) trail.push(...page);
    expect(trail.map((a) => [a.action, a.actor.id])).toEqual([
      ['ledger.adjustment.requested', finance1.sub],
      ['ledger.adjustment.approved', finance2.sub],
      ['ledger.adjustment.posted', finance2.sub],
    ]);
    // approved + posted were written in the journal's own transaction: one timestamp, the journal's
    expect(trail[1]!.at).toBe(trail[2]!.at);
  });

  it('concurrent approvals by two other users post exactly once', async () => {
    const before = await balance();
    const req = bodyOf<{ adjustmentId: string }>(await adjust(finance1, credit('12000.00')));
    const results = await Promise.all([
      decide(finance2, req.adjustmentId, { decision: 'approve', note: 'a' }),
      decide(finance3, req.adjustmentId, { decision: 'approve', note: 'b' }),
    ]);
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 409]);
    expect(usdMinor(await balance())).toBe(usdMinor(before) + usdMinor('12000'));
  });

  it('a rejection moves nothing; unknown ids are 404; the list filters by status', async () => {
    const before = await balance();
    const req = bodyOf<{ adjustmentId: string }>(await adjust(finance1, credit('15000.00')));
    const r = await decide(finance2, req.adjustmentId, { decision: 'reject', note: 'No ticket' });
    expect(bodyOf(r)).toMatchObject({ status: 'rejected', note: 'No ticket' });
    expect(await balance()).toBe(before);
    expect((await decide(finance2, 'nope', { decision: 'approve', note: 'x' })).statusCode).toBe(404);
    const list = await call(adjustments, {
      method: 'GET',
      resource: '/v1/admin/adjustments',
      claims: finance3,
      query: { status: 'rejected' },
    });
    expect(bodyOf<{ items: { adjustmentId: string; status: string }[] }>(list).items.map((i) => i.adjustmentId)).toContain(
      req.adjustmentId,
    );
    const pending = await call(adjustments, {
      method: 'GET',
      resource: '/v1/admin/adjustments',
      claims: finance3,
      query: { status: 'pending_approval' },
    });
    expect(bodyOf<{ items: { status: string }[] }>(pending).items.every((i) => i.status === 'pending_approval')).toBe(true);
  });
});

describe('ledger admin routes', () => {
  it('shows an account with flags, balance and last postings; a sharded house account per shard; 404 for unknown', async () => {
    const acc = await call(ledgerAdmin, {
      method: 'GET',
      resource: '/v1/admin/ledger/accounts/{accountId}',
      pathParameters: { accountId: walletUsd },
      claims: finance1,
    });
    expect(acc.statusCode).toBe(200);
    const body = bodyOf<{
      account: { kind: string; flags: unknown };
      balance: { ledger: { amount: string } };
      lastPostings: unknown[];
    }>(acc);
    expect(body.account).toMatchObject({ kind: 'client_wallet', flags: { noNegative: true, frozen: false } });
    expect(body.balance.ledger.amount).toBe(await balance());
    expect(body.lastPostings.length).toBeGreaterThan(0);
    const missing = await call(ledgerAdmin, {
      method: 'GET',
      resource: '/v1/admin/ledger/accounts/{accountId}',
      pathParameters: { accountId: 'nope' },
      claims: admin,
    });
    expect(missing.statusCode).toBe(404);
    expect(bodyOf(missing).code).toBe('account_not_found');
    const j = await call(ledgerAdmin, {
      method: 'GET',
      resource: '/v1/admin/ledger/journals/{journalId}',
      pathParameters: { journalId: 'nope' },
      claims: admin,
    });
    expect(bodyOf(j).code).toBe('journal_not_found');
  });
});

describe('reconciliation job', () => {
  const reconciliation = async () =>
    bodyOf<{
      latest: { runId: string; status: string; summary: Record<string, number> } | null;
      findings: { items: { code: string }[] };
    }>(await call(ledgerAdmin, { method: 'GET', resource: '/v1/admin/ledger/reconciliation', claims: compliance }));

  it('finds nothing wrong on a healthy ledger, expires a stale hold, and reports through the admin route', async () => {
    const { placeHold } = await import('#store/ledger/holds.ts');
    const { hold } = await placeHold({
      accountId: walletUsd,
      amount: { amount: 100n, currency: 'USD' },
      expiresAt: new Date(Date.now() + 1000),
      idempotency: { scope: 'test', key: `hold-${uid()}`, requestHash: 'h' },
      actor: { id: 'test', role: 'system' },
      requestId: 'test',
    });
    await new Promise((r) => setTimeout(r, 1100));
    expect((await reconciliation()).latest).toBeNull();
    const { handler } = await import('#functions/jobs/ledger-reconciliation.ts');
    const out = await handler({ 'detail-type': 'Scheduled Event', id: 'evt-1' });
    expect(out).toMatchObject({ findings: 0, holdsExpired: 1 });
    expect(out.accountsChecked).toBeGreaterThan(3);
    expect(out.journalsChecked).toBeGreaterThan(3);
    const { getHold } = await import('#store/ledger/holds.ts');
    expect((await getHold(hold.holdId))?.status).toBe('expired');
    const view = await reconciliation();
    expect(view.latest).toMatchObject({ status: 'succeeded', summary: { findings: 0, holdsExpired: 1 } });
    expect(view.findings.items).toEqual([]);
  });

  it('finds a balance that disagrees with its postings, audits it in the client trail, and accepts the on-demand event', async () => {
    await ddb().send(
      new UpdateCommand({
        TableName: table,
        Key: ledgerKeys.balance(walletUsd, 0),
        UpdateExpression: 'SET ledger = ledger + :one, available = available + :one',
        ExpressionAttributeValues: { ':one': 1 },
      }),
    );
    const { handler } = await import('#functions/jobs/ledger-reconciliation.ts');
    const runId = `01TESTRUN${uid().toUpperCase()}`;
    const out = await handler({
      'detail-type': JOB_DETAIL_TYPE,
      id: 'evt-2',
      detail: { job: 'ledger-reconciliation', runId, requestedBy: admin.sub },
    });
    expect(out.runId).toBe(runId);
    // the wallet disagrees with its postings, and USD no longer sums to zero across the ledger
    expect(out.findings).toBe(2);
    const view = await reconciliation();
    expect(view.latest?.runId).toBe(runId);
    expect(view.findings.items).toEqual([
      expect.objectContaining({
        code: 'balance_mismatch',
        subject: { type: 'ledger-account', id: walletUsd },
        clientId: client.sub,
      }),
      expect.objectContaining({
        code: 'currency_unbalanced',
        subject: { type: 'ledger-currency', id: 'USD' },
        detail: { currency: 'USD', ledgerSum: '1', postingSum: '0' },
      }),
    ]);
    const trail = [];
    for await (const page of auditItems({ type: 'ledger-account', id: walletUsd })) trail.push(...page);
    expect(trail.at(-1)).toMatchObject({ action: 'ledger.reconciliation.finding', clientId: client.sub });
  });
});
