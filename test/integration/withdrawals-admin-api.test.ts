/**
 * The withdrawal review queue against DynamoDB Local (functions/api/withdrawals-admin.ts), with Step
 * Functions mocked: the queue lists one status (default under_review) oldest first with the failing
 * checks and their age; the detail shows checks with evidence, funding sources with what is owed back,
 * recent deposits and the wallet balance; a decision is validated before anything is written (reject
 * needs a catalogue reason), is recorded once (a second or concurrent one is 409) and only then answers
 * the waiting review's task token, which never appears in a response. Roles: finance and compliance
 * decide; admins read only; clients, partners and sales are refused.
 */
import { randomUUID } from 'node:crypto';
import { SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { formatAmount } from '#domain/money/index.ts';
import { ddb } from '#shared/clients.ts';
import { commit, systemActor } from '#store/audit.ts';
import { ensureWallet, getBalance, houseAccount, walletId } from '#store/ledger/accounts.ts';
import { newJournalId, postJournal } from '#store/ledger/journals.ts';
import { fundingSourceDeposit, fundingSourceId } from '#store/payments/client-state.ts';
import { newDeposit, putDeposit } from '#store/payments/deposits.ts';
import type { WithdrawalCheckResult } from '#store/payments/types.ts';
import { getWithdrawal, replaceWithdrawal, withdrawalAudit, withdrawalMoved } from '#store/payments/withdrawals.ts';
import { useHandlerEnv } from '../support/api-env.ts';
import { auditTrail } from '../support/audit.ts';
import { seedClient } from '../support/clients.ts';
import { apiEvent, bodyOf, claimsFor, lambdaContext } from '../support/events.ts';

type Handler = (
  e: ReturnType<typeof apiEvent>,
  c: ReturnType<typeof lambdaContext>,
) => Promise<{ statusCode: number; body: string; headers?: Record<string, unknown> }>;
type Claims = Record<string, string>;
type Problem = { code: string; status: number };
type QueueItem = {
  withdrawalId: string;
  clientId: string;
  status: string;
  ageMinutes: number;
  statusSince: string;
  failingChecks: { check: string; reason: string }[];
  reviewDeadline?: string;
  decision?: string;
};
type StaffView = {
  withdrawalId: string;
  status: string;
  clientId: string;
  checks: WithdrawalCheckResult[];
  review?: { decision?: string; reason?: string; note?: string; decidedBy?: string; decidedByRole?: string };
  timeline: { status: string; reason?: string }[];
};

let admin: Handler;
let client: Handler;
let table: string;
const sfnMock = mockClient(SFNClient);
const uid = () => randomUUID().slice(0, 8);
const IBAN = 'DE89370400440532013000';

const finance = claimsFor(`finance-${uid()}`, ['finance']);
const compliance = claimsFor(`compliance-${uid()}`, ['compliance']);
const adminUser = claimsFor(`admin-${uid()}`, ['admin']);
const sales = claimsFor(`sales-${uid()}`, ['sales']);
const partner = claimsFor(`partner-${uid()}`, ['partner']);

const call = (h: Handler, input: Parameters<typeof apiEvent>[0]) => h(apiEvent(input), lambdaContext());
const queue = (claims: Claims, query?: Record<string, string>) =>
  call(admin, { method: 'GET', resource: '/v1/admin/withdrawals', claims, ...(query ? { query } : {}) });
const detail = (claims: Claims, withdrawalId: string) =>
  call(admin, { method: 'GET', resource: '/v1/admin/withdrawals/{withdrawalId}', pathParameters: { withdrawalId }, claims });
const decide = (claims: Claims, withdrawalId: string, body: unknown) =>
  call(admin, {
    method: 'POST',
    resource: '/v1/admin/withdrawals/{withdrawalId}/decision',
    pathParameters: { withdrawalId },
    claims,
    body,
  });

const countItems = async () =>
  (await ddb().send(new ScanCommand({ TableName: table, Select: 'COUNT', ConsistentRead: true }))).Count ?? 0;

let A: { clientId: string; claims: Claims };
let cardA: string;

/** A withdrawal requested through the client API (sepa-wire to IBAN, fee 5.00 EUR). */
async function request(amount: string, who = A): Promise<string> {
  const res = await call(client, {
    method: 'POST',
    resource: '/v1/withdrawals',
    claims: who.claims,
    body: {
      walletId: walletId(who.clientId, 'EUR'),
      methodId: 'sepa-wire',
      amount: { amount, currency: 'EUR' },
      destination: { account: IBAN },
    },
    headers: { 'Idempotency-Key': `wd-${uid()}-${uid()}` },
  });
  expect(res.statusCode, res.body).toBe(201);
  return bodyOf<{ withdrawalId: string }>(res).withdrawalId;
}

const LARGE: WithdrawalCheckResult = {
  check: 'aml_large_amount',
  passed: false,
  reason: 'aml_large_amount',
  evidence: { gross: { amount: '150.00', currency: 'EUR' }, largeAmount: { amount: '100.00', currency: 'EUR' } },
};
const KYC_OK: WithdrawalCheckResult = { check: 'kyc_valid', passed: true, evidence: { status: 'approved' } };

/** Moves a received withdrawal to under_review as the open-review step does: checks, review block, task token. */
async function toReview(id: string, opts: { checks?: WithdrawalCheckResult[]; token?: string; openedAt?: string } = {}) {
  const w = (await getWithdrawal(id, { consistent: true }))!;
  const at = opts.openedAt ?? new Date().toISOString();
  const checks = opts.checks ?? [KYC_OK, LARGE];
  const failing = checks.find((c) => !c.passed)?.reason ?? 'manual_review';
  const next = {
    ...withdrawalMoved(w, 'under_review', at, failing),
    checks,
    review: { openedAt: at },
    reviewTaskToken: opts.token ?? `token-${id}`,
  };
  await commit({
    writes: [replaceWithdrawal(w, next, at)],
    audit: withdrawalAudit(w, next, 'payment.withdrawal.review_opened', { actor: systemActor('test'), requestId: 'test' }),
  });
}

beforeAll(async () => {
  table = await useHandlerEnv('withdrawals-admin');
  admin = (await import('#functions/api/withdrawals-admin.ts')).handler as Handler;
  client = (await import('#functions/api/withdrawals.ts')).handler as Handler;
  const seeded = await seedClient({ kycStatus: 'approved' });
  A = seeded;
  await ensureWallet(A.clientId, 'EUR', { actor: systemActor('test'), requestId: 'test' });
  const clearing = await houseAccount('psp_clearing', 'EUR');
  await postJournal({
    draft: {
      journalId: newJournalId(),
      type: 'deposit',
      postings: [
        { accountId: clearing.accountId, amount: -500_000n, currency: 'EUR' },
        { accountId: walletId(A.clientId, 'EUR'), amount: 500_000n, currency: 'EUR' },
      ],
      metadata: { kind: 'test_funding' },
    },
    idempotency: { scope: 'test-funding', key: `fund-${uid()}`, requestHash: 'fund' },
    actor: systemActor('test'),
    requestId: 'test',
    clientId: A.clientId,
  });
  cardA = fundingSourceId('sandbox', 'card', `card_${A.clientId}`);
  const now = new Date().toISOString();
  const deposit = newDeposit(
    {
      depositId: `dep_${uid()}`,
      clientId: A.clientId,
      walletId: walletId(A.clientId, 'EUR'),
      methodId: 'card',
      methodKind: 'card',
      provider: 'sandbox',
      gross: { amount: '400.00', currency: 'EUR' },
      fee: { amount: '10.00', currency: 'EUR' },
      net: { amount: '390.00', currency: 'EUR' },
      idempotencyKey: `dep-${uid()}`,
      requestHash: 'h',
      intentExpiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    },
    now,
  );
  await commit({
    writes: [
      putDeposit(deposit),
      fundingSourceDeposit(
        {
          clientId: A.clientId,
          sourceId: cardA,
          methodId: 'card',
          methodKind: 'card',
          provider: 'sandbox',
          account: `card_${A.clientId}`,
          display: 'Visa •4242',
        },
        { minor: 40_000n, currency: 'EUR' },
        now,
      ),
    ],
    audit: {
      actor: systemActor('test'),
      action: 'test.seed_deposit',
      entity: { type: 'deposit', id: deposit.depositId },
      clientId: A.clientId,
      before: null,
      after: { depositId: deposit.depositId },
      requestId: 'test',
    },
  });
});

beforeEach(() => {
  sfnMock.reset();
  sfnMock.on(SendTaskSuccessCommand).resolves({});
});

describe('GET /v1/admin/withdrawals', () => {
  it('lists under_review by default, oldest first, with the failing checks and their age; other statuses on request', async () => {
    const first = await request('150.00');
    const second = await request('160.00');
    const received = await request('170.00');
    const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
    await toReview(second);
    await toReview(first, { openedAt: hourAgo });

    const res = await queue(finance);
    expect(res.statusCode, res.body).toBe(200);
    const items = bodyOf<{ items: QueueItem[] }>(res).items;
    const ours = items.filter((i) => [first, second, received].includes(i.withdrawalId));
    expect(ours.map((i) => i.withdrawalId)).toEqual([first, second]);
    expect(ours[0]).toMatchObject({
      clientId: A.clientId,
      status: 'under_review',
      statusSince: hourAgo,
      failingChecks: [{ check: 'aml_large_amount', reason: 'aml_large_amount' }],
    });
    expect(ours[0]!.ageMinutes).toBeGreaterThanOrEqual(59);
    expect(ours[1]!.ageMinutes).toBeLessThan(5);
    expect(Date.parse(ours[0]!.reviewDeadline!) - Date.parse(hourAgo)).toBe(14 * 86_400_000);
    expect(res.body).not.toContain('token-');

    const rec = bodyOf<{ items: QueueItem[] }>(await queue(compliance, { status: 'received' })).items;
    expect(rec.map((i) => i.withdrawalId)).toContain(received);
    expect(rec.map((i) => i.withdrawalId)).not.toContain(first);
  });

  it('pages with a cursor; an unknown status is 400 invalid_status', async () => {
    const p1 = bodyOf<{ items: QueueItem[]; nextCursor?: string; hasMore: boolean }>(await queue(adminUser, { limit: '1' }));
    expect(p1.items).toHaveLength(1);
    expect(p1.hasMore).toBe(true);
    const p2 = bodyOf<{ items: QueueItem[] }>(await queue(adminUser, { limit: '1', cursor: p1.nextCursor! }));
    expect(p2.items[0]!.withdrawalId).not.toBe(p1.items[0]!.withdrawalId);
    const bad = await queue(finance, { status: 'pending' });
    expect(bad.statusCode).toBe(400);
    expect(JSON.stringify(bodyOf(bad))).toContain('invalid_status');
  });
});

/** Moves a withdrawal along `steps` as the workflow would, each status entered at its own (past) time. */
async function moveAlong(id: string, steps: { status: 'approved' | 'processing' | 'under_review'; at: string }[], extra = {}) {
  for (const [i, step] of steps.entries()) {
    const w = (await getWithdrawal(id, { consistent: true }))!;
    const next = { ...withdrawalMoved(w, step.status, step.at), ...(i === steps.length - 1 ? extra : {}) };
    const now = new Date().toISOString();
    await commit({
      writes: [replaceWithdrawal(w, next, now)],
      audit: withdrawalAudit(w, next, `payment.withdrawal.${step.status}`, { actor: systemActor('test'), requestId: 'test' }),
    });
  }
}

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();
type AttentionPage = { items: (QueueItem & { stalledAt?: string })[]; nextCursor?: string; hasMore: boolean };

describe('GET /v1/admin/withdrawals?view=attention', () => {
  it('lists open withdrawals waiting longer than the threshold, or stalled, oldest first across statuses; not fresh ones', async () => {
    const processing = await request('151.00');
    const approved = await request('152.00');
    const fresh = await request('153.00');
    const stalled = await request('154.00');
    const processingSince = minutesAgo(40);
    await moveAlong(processing, [
      { status: 'approved', at: minutesAgo(50) },
      { status: 'processing', at: processingSince },
    ]);
    await moveAlong(approved, [{ status: 'approved', at: minutesAgo(20) }]);
    await moveAlong(fresh, [{ status: 'approved', at: minutesAgo(1) }]);
    await moveAlong(stalled, [{ status: 'approved', at: minutesAgo(2) }], { stalledAt: minutesAgo(1) });
    const ours = (items: QueueItem[]) => items.filter((i) => [processing, approved, fresh, stalled].includes(i.withdrawalId));

    const res = await queue(finance, { view: 'attention' });
    expect(res.statusCode, res.body).toBe(200);
    const page = bodyOf<AttentionPage>(res);
    expect(ours(page.items).map((i) => i.withdrawalId)).toEqual([processing, approved, stalled]);
    const [p, a, st] = ours(page.items) as AttentionPage['items'];
    expect(p).toMatchObject({ status: 'processing', statusSince: processingSince, clientId: A.clientId });
    expect(p!.ageMinutes).toBeGreaterThanOrEqual(39);
    expect(a).toMatchObject({ status: 'approved' });
    expect(a!.ageMinutes).toBeGreaterThanOrEqual(19);
    expect(a!.ageMinutes).toBeLessThan(25);
    expect(st).toMatchObject({ status: 'approved', stalledAt: expect.any(String) });
    expect(p!.stalledAt).toBeUndefined();
    // Oldest first across every status (the other tests' withdrawals included).
    const since = page.items.map((i) => i.statusSince);
    expect([...since].sort()).toEqual(since);
    expect(page.items.every((i) => ['received', 'under_review', 'approved', 'processing'].includes(i.status))).toBe(true);

    // The default view is unchanged: under_review only.
    const defaults = bodyOf<AttentionPage>(await queue(finance)).items;
    expect(ours(defaults)).toEqual([]);

    // One status, another threshold; compliance and admins read it too.
    const approvedOnly = bodyOf<AttentionPage>(await queue(compliance, { view: 'attention', status: 'approved' })).items;
    expect(ours(approvedOnly).map((i) => i.withdrawalId)).toEqual([approved, stalled]);
    const older = bodyOf<AttentionPage>(await queue(adminUser, { view: 'attention', olderThanMinutes: '30' })).items;
    expect(ours(older).map((i) => i.withdrawalId)).toEqual([processing, stalled]);
  });

  it('pages oldest first with a cursor; a final status, a foreign cursor or olderThanMinutes without the view is 400', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const res = await queue(finance, { view: 'attention', limit: '1', ...(cursor ? { cursor } : {}) });
      expect(res.statusCode, res.body).toBe(200);
      const page = bodyOf<AttentionPage>(res);
      expect(page.items.length).toBeLessThanOrEqual(1);
      seen.push(...page.items.map((i) => `${i.statusSince}#${i.withdrawalId}`));
      expect(page.hasMore).toBe(page.nextCursor !== undefined);
      cursor = page.nextCursor;
    } while (cursor);
    const all = bodyOf<AttentionPage>(await queue(finance, { view: 'attention', limit: '100' })).items;
    expect(seen).toEqual(all.map((i) => `${i.statusSince}#${i.withdrawalId}`));
    expect(seen.length).toBeGreaterThanOrEqual(3);

    const final = await queue(finance, { view: 'attention', status: 'completed' });
    expect(final.statusCode).toBe(400);
    expect(bodyOf<Problem>(final).code).toBe('invalid_status');
    const foreign = bodyOf<AttentionPage>(await queue(finance, { limit: '1' })).nextCursor;
    if (foreign) expect((await queue(finance, { view: 'attention', cursor: foreign })).statusCode).toBe(400);
    const forged = Buffer.from(JSON.stringify({ after: 'x' })).toString('base64url');
    expect(bodyOf<Problem>(await queue(finance, { view: 'attention', cursor: forged })).code).toBe('invalid_cursor');
    expect((await queue(finance, { olderThanMinutes: '5' })).statusCode).toBe(400);
    expect((await queue(finance, { view: 'stuck' })).statusCode).toBe(400);
    for (const claims of [A.claims, partner, sales]) expect((await queue(claims, { view: 'attention' })).statusCode).toBe(403);
  });

  it('uses the withdrawal watchdog staleness window by default', async () => {
    const { ATTENTION_AFTER_MINUTES } = await import('#app/payments/list-withdrawal-queue.ts');
    const { STALE_AFTER_MINUTES } = await import('#app/payments/repair-withdrawal-workflows.ts');
    expect(ATTENTION_AFTER_MINUTES).toBe(STALE_AFTER_MINUTES);
  });
});

describe('GET /v1/admin/withdrawals/{id}', () => {
  it('shows the checks with evidence, funding sources with what is owed, recent deposits and the balance', async () => {
    const id = await request('180.00');
    await toReview(id);
    const res = await detail(compliance, id);
    expect(res.statusCode, res.body).toBe(200);
    const d = bodyOf<{
      withdrawal: StaffView & { destination: { account: string } };
      queue: QueueItem;
      client: { clientId: string; kycStatus: string };
      wallet: { balance: { amount: string }; available: { amount: string }; held: { amount: string } };
      fundingSources: { sourceId: string; owed: { outstanding: { amount: string } }[] }[];
      recentDeposits: { depositId: string; clientId: string }[];
      rejectionReasons: { code: string }[];
    }>(res);
    expect(d.withdrawal).toMatchObject({
      withdrawalId: id,
      status: 'under_review',
      clientId: A.clientId,
      destination: { account: IBAN },
    });
    expect(d.withdrawal.checks).toEqual([KYC_OK, LARGE]);
    expect(d.queue.failingChecks).toEqual([{ check: 'aml_large_amount', reason: 'aml_large_amount' }]);
    expect(d.client).toMatchObject({ clientId: A.clientId, kycStatus: 'approved' });
    const b = await getBalance(walletId(A.clientId, 'EUR'));
    expect(d.wallet.balance.amount).toBe('5000.00');
    expect(d.wallet.held.amount).toBe(formatAmount(b.held, 'EUR'));
    expect(d.wallet.available.amount).toBe(formatAmount(b.available, 'EUR'));
    expect(d.fundingSources).toEqual([
      expect.objectContaining({
        sourceId: cardA,
        owed: [expect.objectContaining({ outstanding: { amount: '400.00', currency: 'EUR' } })],
      }),
    ]);
    expect(d.recentDeposits).toEqual([expect.objectContaining({ clientId: A.clientId })]);
    expect(d.rejectionReasons.map((r) => r.code)).toContain('closed_loop_violation');
    expect(res.body).not.toContain(`token-${id}`);
  });

  it('an unknown id is 404 withdrawal_not_found', async () => {
    const res = await detail(finance, 'wd_nope');
    expect(res.statusCode).toBe(404);
    expect(bodyOf<Problem>(res).code).toBe('withdrawal_not_found');
  });
});

describe('POST /v1/admin/withdrawals/{id}/decision', () => {
  it('finance approves: approved, recorded with who and when, the waiting review answered', async () => {
    const id = await request('190.00');
    await toReview(id);
    const res = await decide(finance, id, { decision: 'approve', note: 'Known client, checked the source' });
    expect(res.statusCode, res.body).toBe(200);
    const w = bodyOf<StaffView>(res);
    expect(w).toMatchObject({
      status: 'approved',
      review: { decision: 'approve', decidedBy: finance.sub, decidedByRole: 'finance', note: 'Known client, checked the source' },
    });
    expect(res.body).not.toContain(`token-${id}`);
    const calls = sfnMock.commandCalls(SendTaskSuccessCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input.taskToken).toBe(`token-${id}`);
    expect(JSON.parse(calls[0]!.args[0].input.output!)).toMatchObject({ decision: 'approve' });
    expect((await auditTrail('withdrawal', id)).map((a) => a.action)).toContain('payment.withdrawal.review_decided');
  });

  it('reject needs a catalogue reason (and a note for some): refusals write nothing', async () => {
    const id = await request('200.00');
    await toReview(id);
    for (const [body, code] of [
      [{ decision: 'reject' }, 'reason_required'],
      [{ decision: 'reject', reason: 'too_rich' }, 'unknown_rejection_reason'],
      [{ decision: 'reject', reason: 'other' }, 'note_required'],
    ] as const) {
      const before = await countItems();
      const res = await decide(compliance, id, body);
      expect(res.statusCode, res.body).toBe(400);
      expect(bodyOf<Problem>(res).code).toBe(code);
      expect(await countItems()).toBe(before);
    }
    expect((await getWithdrawal(id, { consistent: true }))?.review?.decision).toBeUndefined();
    expect(sfnMock.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);

    const res = await decide(compliance, id, { decision: 'reject', reason: 'closed_loop_violation' });
    expect(res.statusCode, res.body).toBe(200);
    expect(bodyOf<StaffView>(res).review).toMatchObject({
      decision: 'reject',
      reason: 'closed_loop_violation',
      decidedByRole: 'compliance',
    });
    const calls = sfnMock.commandCalls(SendTaskSuccessCommand);
    expect(JSON.parse(calls[0]!.args[0].input.output!)).toMatchObject({ decision: 'reject', reason: 'closed_loop_violation' });
  });

  it('a decided review, or a withdrawal not under review, is 409 withdrawal_not_under_review; unknown 404', async () => {
    const id = await request('210.00');
    await toReview(id);
    expect((await decide(finance, id, { decision: 'approve' })).statusCode).toBe(200);
    const again = await decide(compliance, id, { decision: 'reject', reason: 'third_party_account' });
    expect(again.statusCode).toBe(409);
    expect(bodyOf<Problem>(again).code).toBe('withdrawal_not_under_review');
    const received = await request('220.00');
    const early = await decide(finance, received, { decision: 'approve' });
    expect(early.statusCode).toBe(409);
    expect(bodyOf<Problem>(early).code).toBe('withdrawal_not_under_review');
    expect((await decide(finance, 'wd_nope', { decision: 'approve' })).statusCode).toBe(404);
  });

  it('two concurrent decisions: exactly one is recorded', async () => {
    const id = await request('230.00');
    await toReview(id);
    const results = await Promise.all([
      decide(finance, id, { decision: 'approve' }),
      decide(compliance, id, { decision: 'reject', reason: 'source_of_funds_required' }),
    ]);
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 409]);
    const decided = (await getWithdrawal(id, { consistent: true }))!;
    const winner = bodyOf<StaffView>(results.find((r) => r.statusCode === 200)!);
    expect(decided.review?.decision).toBe(winner.review?.decision);
    expect(sfnMock.commandCalls(SendTaskSuccessCommand)).toHaveLength(1);
  });

  it('a body that is not strict is 400', async () => {
    const id = await request('240.00');
    await toReview(id);
    expect((await decide(finance, id, { decision: 'approve', extra: 1 })).statusCode).toBe(400);
    expect((await decide(finance, id, { decision: 'maybe' })).statusCode).toBe(400);
  });
});

describe('roles', () => {
  it('clients, partners and sales cannot use the admin routes; admins read but cannot decide (403)', async () => {
    const id = await request('250.00');
    await toReview(id);
    for (const claims of [A.claims, partner, sales]) {
      expect((await queue(claims)).statusCode).toBe(403);
      expect((await detail(claims, id)).statusCode).toBe(403);
      const res = await decide(claims, id, { decision: 'approve' });
      expect(res.statusCode).toBe(403);
      expect(bodyOf<Problem>(res).code).toBe('forbidden_role');
    }
    expect((await detail(adminUser, id)).statusCode).toBe(200);
    expect((await decide(adminUser, id, { decision: 'approve' })).statusCode).toBe(403);
    const w = (await getWithdrawal(id, { consistent: true }))!;
    expect(w.status).toBe('under_review');
    expect(w.review?.decision).toBeUndefined();
    expect(sfnMock.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
  });
});
