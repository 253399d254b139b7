/**
 * Finance adjustments against DynamoDB Local: an approval posts once, with the request moved to
 * 'posted' in the journal's own transaction; a funds failure leaves the request pending and writes no
 * journal; concurrent approvals post once; a posted request cannot be rejected; a retried create
 * (even without the edge idempotency record) finds its original request; and a requester cannot split
 * a large adjustment into immediate ones on the same day.
 */

import { randomUUID } from 'node:crypto';
import { DeleteCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { toMinor } from '#domain/money/index.ts';
import { ddb } from '#shared/clients.ts';
import { getAdjustment, readDailyTotal } from '#store/adjustments.ts';
import { auditItems } from '#store/audit.ts';
import { getJournal } from '#store/ledger/journals.ts';
import { useHandlerEnv } from '../support/api-env.ts';
import { apiEvent, bodyOf, claimsFor, lambdaContext } from '../support/events.ts';

type Handler = (
  e: ReturnType<typeof apiEvent>,
  c: ReturnType<typeof lambdaContext>,
) => Promise<{ statusCode: number; body: string; headers?: Record<string, unknown> }>;
let adjustments: Handler;
let wallets: Handler;
let table: string;

const uid = () => randomUUID().slice(0, 8);
const client = claimsFor(`client-${uid()}`, ['client']);
const finance = () => claimsFor(`finance-${uid()}`, ['finance']);
const walletUsd = `wal_${client.sub}_USD`;
const walletGbp = `wal_${client.sub}_GBP`;

type View = { adjustmentId: string; status: string; journalId?: string; code?: string; decidedBy?: string; note?: string };

const call = (h: Handler, input: Parameters<typeof apiEvent>[0]) => h(apiEvent(input), lambdaContext());
const adjust = (claims: Record<string, string>, body: Record<string, unknown>, key = `adj-${uid()}-${uid()}`) =>
  call(adjustments, { method: 'POST', resource: '/v1/admin/adjustments', claims, body, headers: { 'Idempotency-Key': key } });
const decide = (claims: Record<string, string>, adjustmentId: string, decision: 'approve' | 'reject', note = 'Checked') =>
  call(adjustments, {
    method: 'POST',
    resource: '/v1/admin/adjustments/{adjustmentId}/decision',
    pathParameters: { adjustmentId },
    claims,
    body: { decision, note },
  });
const move = (direction: 'credit' | 'debit', amount: string, currency = 'USD', walletId = walletUsd) => ({
  walletId,
  direction,
  amount: { amount, currency },
  reason: `Manual correction ${uid()} after a platform outage`,
});
/** Exact money comparison: minor units as bigint, never floats. */
const usdMinor = (amount: string) => toMinor(amount, 'USD');
const balance = async (cur = 'USD') => {
  const items = bodyOf<{ items: { currency: string; balance: { amount: string } }[] }>(
    await call(wallets, { method: 'GET', resource: '/v1/wallets', claims: client }),
  ).items;
  return items.find((w) => w.currency === cur)!.balance.amount;
};
const trailOf = async (adjustmentId: string) => {
  const trail = [];
  for await (const page of auditItems({ type: 'adjustment', id: adjustmentId })) trail.push(...page);
  return trail;
};
/** Drops every edge (HTTP middleware) idempotency record, as if they had expired. */
const dropEdgeIdempotency = async () => {
  const res = await ddb().send(
    new ScanCommand({
      TableName: table,
      FilterExpression: 'begins_with(pk, :p)',
      ExpressionAttributeValues: { ':p': 'IDEMPOTENCY#' },
    }),
  );
  expect(res.Items?.length ?? 0).toBeGreaterThan(0);
  for (const item of res.Items ?? []) {
    await ddb().send(new DeleteCommand({ TableName: table, Key: { pk: item.pk, sk: item.sk } }));
  }
};

beforeAll(async () => {
  table = await useHandlerEnv('ledger-adjustments');
  adjustments = (await import('#functions/api/adjustments.ts')).handler as Handler;
  wallets = (await import('#functions/api/wallets.ts')).handler as Handler;
  await call(wallets, { method: 'GET', resource: '/v1/wallets', claims: client });
});

describe('below the threshold', () => {
  it('writes the journal and the posted record in one transaction, and counts towards the day total', async () => {
    const f = finance();
    const before = usdMinor(await balance());
    const r = await adjust(f, move('credit', '4000.00'));
    expect(r.statusCode, r.body).toBe(201);
    const out = bodyOf<View>(r);
    expect(out.status).toBe('posted');
    const [item, journal] = await Promise.all([getAdjustment(out.adjustmentId), getJournal(out.journalId!)]);
    expect(item).toMatchObject({ status: 'posted', journalId: journal!.journalId, approvalRequired: false });
    expect(journal!.metadata.adjustmentId).toBe(out.adjustmentId);
    // one transaction: the record carries the journal's own timestamp
    expect(item?.createdAt).toBe(journal!.postedAt);
    expect((await trailOf(out.adjustmentId)).map((a) => [a.action, a.at])).toEqual([
      ['ledger.adjustment.posted', journal!.postedAt],
    ]);
    expect(usdMinor(await balance())).toBe(before + usdMinor('4000'));
    expect(await readDailyTotal(f.sub!, new Date().toISOString().slice(0, 10))).toBe(400_000n);
  });

  it('splitting: three 4,000 USD adjustments by one user on one day - the third needs approval', async () => {
    const f = finance();
    const before = usdMinor(await balance());
    const codes = [];
    for (let i = 0; i < 3; i++) codes.push((await adjust(f, move('credit', '4000.00'))).statusCode);
    expect(codes).toEqual([201, 201, 202]);
    expect(usdMinor(await balance())).toBe(before + usdMinor('8000'));
    // another finance user is not affected by the first one's total
    expect((await adjust(finance(), move('credit', '4000.00'))).statusCode).toBe(201);
  });

  it('splitting under a race: two concurrent 6,000 USD adjustments by one user - one posts, one waits', async () => {
    const f = finance();
    const before = usdMinor(await balance());
    const results = await Promise.all([adjust(f, move('credit', '6000.00')), adjust(f, move('credit', '6000.00'))]);
    expect(results.map((r) => r.statusCode).sort()).toEqual([201, 202]);
    expect(usdMinor(await balance())).toBe(before + usdMinor('6000'));
  });
});

describe('idempotent create', () => {
  it('a retry with the same key and body (edge record gone) returns the same request; another body is 422', async () => {
    const f = finance();
    const key = `big-${uid()}-${uid()}`;
    const body = move('credit', '15000.00');
    const first = await adjust(f, body, key);
    expect(first.statusCode).toBe(202);
    const id = bodyOf<View>(first).adjustmentId;
    await dropEdgeIdempotency();
    const again = await adjust(f, body, key);
    expect(again.statusCode, again.body).toBe(202);
    expect(bodyOf<View>(again).adjustmentId).toBe(id);
    expect((await trailOf(id)).map((a) => a.action)).toEqual(['ledger.adjustment.requested']);
    const list = await call(adjustments, {
      method: 'GET',
      resource: '/v1/admin/adjustments',
      claims: finance(),
      query: { status: 'pending_approval', limit: '100' },
    });
    const mine = bodyOf<{ items: { adjustmentId: string; reason: string }[] }>(list).items.filter(
      (i) => i.reason === body.reason,
    );
    expect(mine.map((i) => i.adjustmentId)).toEqual([id]);

    await dropEdgeIdempotency();
    const other = await adjust(f, { ...body, amount: { amount: '15000.01', currency: 'USD' } }, key);
    expect(other.statusCode).toBe(422);
    expect(bodyOf(other).code).toBe('idempotency_key_reused');
  });

  it('an immediate retry (edge record gone) returns the same adjustment and moves money once', async () => {
    const f = finance();
    const key = `small-${uid()}-${uid()}`;
    const body = move('credit', '10.00');
    const before = usdMinor(await balance());
    const first = bodyOf<View>(await adjust(f, body, key));
    await dropEdgeIdempotency();
    const again = await adjust(f, body, key);
    expect(again.statusCode, again.body).toBe(201);
    expect(bodyOf<View>(again)).toMatchObject({ adjustmentId: first.adjustmentId, journalId: first.journalId });
    expect(usdMinor(await balance())).toBe(before + usdMinor('10'));
  });
});

describe('approval', () => {
  it('posts exactly once: the journal and the posted request in one transaction; a later reject is refused', async () => {
    const requester = finance();
    const approver = finance();
    const before = usdMinor(await balance());
    const id = bodyOf<View>(await adjust(requester, move('credit', '20000.00'))).adjustmentId;
    const ok = await decide(approver, id, 'approve', 'Ticket checked');
    expect(ok.statusCode, ok.body).toBe(200);
    expect(bodyOf<View>(ok)).toMatchObject({ status: 'posted', journalId: id, decidedBy: approver.sub, note: 'Ticket checked' });
    const [item, journal] = await Promise.all([getAdjustment(id), getJournal(id)]);
    expect(item).toMatchObject({
      status: 'posted',
      journalId: journal!.journalId,
      decidedBy: approver.sub,
      decidedAt: journal!.postedAt,
    });
    expect(journal!.metadata).toMatchObject({ adjustmentId: id, approvedBy: approver.sub });
    const trail = await trailOf(id);
    expect(trail.map((a) => a.action)).toEqual([
      'ledger.adjustment.requested',
      'ledger.adjustment.approved',
      'ledger.adjustment.posted',
    ]);
    expect(trail[1]!.at).toBe(journal!.postedAt);
    expect(trail[2]!.at).toBe(journal!.postedAt);
    expect(usdMinor(await balance())).toBe(before + usdMinor('20000'));

    const reject = await decide(finance(), id, 'reject', 'too late');
    expect(reject.statusCode).toBe(409);
    expect(bodyOf(reject).code).toBe('already_decided');
    const again = await decide(finance(), id, 'approve', 'again');
    expect(again.statusCode).toBe(409);
    expect((await getAdjustment(id))?.status).toBe('posted');
    expect(usdMinor(await balance())).toBe(before + usdMinor('20000'));
  });

  it('insufficient funds leaves the request pending with no journal; it can still be decided', async () => {
    const requester = finance();
    const id = bodyOf<View>(await adjust(requester, move('debit', '20000.00', 'GBP', walletGbp))).adjustmentId;
    const r = await decide(finance(), id, 'approve');
    expect(r.statusCode).toBe(422);
    expect(bodyOf(r).code).toBe('insufficient_funds');
    expect(await getAdjustment(id)).toMatchObject({ status: 'pending_approval', version: 1 });
    expect(await getJournal(id)).toBeUndefined();
    expect((await trailOf(id)).map((a) => a.action)).toEqual(['ledger.adjustment.requested']);
    const reject = await decide(finance(), id, 'reject', 'No funds');
    expect(reject.statusCode).toBe(200);
    expect(bodyOf<View>(reject)).toMatchObject({ status: 'rejected', note: 'No funds' });
  });

  it('two finance users approving at once post once; the other gets 409 already_decided', async () => {
    const before = usdMinor(await balance());
    const id = bodyOf<View>(await adjust(finance(), move('credit', '12000.00'))).adjustmentId;
    const results = await Promise.all([decide(finance(), id, 'approve'), decide(finance(), id, 'approve')]);
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 409]);
    expect(bodyOf(results.find((r) => r.statusCode === 409)!).code).toBe('already_decided');
    expect(usdMinor(await balance())).toBe(before + usdMinor('12000'));
    expect((await trailOf(id)).map((a) => a.action)).toEqual([
      'ledger.adjustment.requested',
      'ledger.adjustment.approved',
      'ledger.adjustment.posted',
    ]);
  });

  it('an approval racing a rejection: exactly one wins', async () => {
    const before = usdMinor(await balance());
    const id = bodyOf<View>(await adjust(finance(), move('credit', '11000.00'))).adjustmentId;
    const [a, b] = await Promise.all([decide(finance(), id, 'approve'), decide(finance(), id, 'reject')]);
    expect([a.statusCode, b.statusCode].sort()).toEqual([200, 409]);
    const item = await getAdjustment(id);
    if (a.statusCode === 200) {
      expect(item?.status).toBe('posted');
      expect(usdMinor(await balance())).toBe(before + usdMinor('11000'));
    } else {
      expect(item?.status).toBe('rejected');
      expect(await getJournal(id)).toBeUndefined();
      expect(usdMinor(await balance())).toBe(before);
    }
  });
});
