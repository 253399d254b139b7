/**
 * The withdrawal store (functions/store/payments/withdrawals.ts), the withdrawal use cases
 * (functions/app/payments/*withdrawal*.ts: the approval steps', the client's cancel, the reviewer's decision,
 * the watchdog's) and the payout webhook effect (functions/app/payments/apply-payout-event.ts)
 * against a real table on DynamoDB Local; the PSP is a fake port and Step Functions calls are mocked.
 * - create holds the gross (replay = same withdrawal; another body = idempotency_key_reused; no funds =
 *   nothing written)
 * - checks: auto-approval, review with the failing checks named, a cancelled withdrawal ends the run
 * - payout + webhook + finalize complete posts exactly (wallet -gross, clearing +net, fee income +fee),
 *   the funding source gets the gross back; finalize twice = once; the payout webhook is recorded once
 * - finalize fail / review expiry void the hold; cancel racing finalize wins exactly once
 * - decisions: one of two concurrent decisions wins, the other is 409; the waiting execution is answered
 */
import { randomUUID } from 'node:crypto';
import { DescribeExecutionCommand, SendTaskSuccessCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ledgerScope } from '#app/ledger/shared.ts';
import { cancelWithdrawal } from '#app/payments/cancel-withdrawal.ts';
import type { CheckWithdrawalResult } from '#app/payments/check-withdrawal.ts';
import { decideWithdrawal } from '#app/payments/decide-withdrawal.ts';
import type { FinalizeWithdrawalInput, FinalizeWithdrawalResult } from '#app/payments/finalize-withdrawal.ts';
import type { SendWithdrawalPayoutInput, SendWithdrawalPayoutResult } from '#app/payments/send-withdrawal-payout.ts';
import type { WebhookContext } from '#app/payments/webhook-effect.ts';
import type { Caller } from '#domain/identity/roles.ts';
import type { Money } from '#domain/money/index.ts';
import type { Payout, PspEvent } from '#domain/payments/ports.ts';
import { usePspForTests } from '#functions/adapters/psp/index.ts';
import { withdrawalView } from '#functions/api/shared/withdrawal-views.ts';
import { commit, systemActor } from '#store/audit.ts';
import { ensureWallet, getBalance, houseAccount, walletId } from '#store/ledger/accounts.ts';
import { getHold } from '#store/ledger/holds.ts';
import { getJournal, newJournalId, postJournal } from '#store/ledger/journals.ts';
import { caseIdFor, getCase } from '#store/payments/cases.ts';
import { fundingSourceDeposit, fundingSourceId, getFundingSource, getPaymentState } from '#store/payments/client-state.ts';
import type { WithdrawalItem } from '#store/payments/types.ts';
import { webhookMarker } from '#store/payments/webhook-events.ts';
import { createWithdrawal, getWithdrawal, listWithdrawalsByStatus, withdrawalIdFor } from '#store/payments/withdrawals.ts';
import { useHandlerEnv } from '../support/api-env.ts';
import { auditTrail } from '../support/audit.ts';
import { seedClient } from '../support/clients.ts';
import { useTestTable } from '../support/dynamodb.ts';
import { fakePsp } from '../support/psp.ts';

// biome-ignore lint/suspicious/noExplicitAny: stored items and events are asserted field by field
type Json = any;

const MACHINE_ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:withdrawal-approval';
const IBAN = 'DE89370400440532013000';
const sfnMock = mockClient(SFNClient);
const actor = (clientId: string) => ({ id: clientId, role: 'client' as const });
/** The context a workflow step gives its use case: the withdrawal id correlates what it records. */
const stepCtx = (withdrawalId: string) => ({ requestId: withdrawalId, locale: 'en' });
const clientCaller = (clientId: string): Caller => ({
  sub: clientId,
  email: `${clientId}@example.com`,
  roles: ['client'],
  isStaff: false,
});
/** The client cancels its withdrawal through the use case. */
const cancelByClient = (withdrawalId: string, clientId: string) =>
  cancelWithdrawal({ withdrawalId }, clientCaller(clientId), { requestId: 'r', locale: 'en' });
const eur = (minor: bigint): Money => ({ amount: minor, currency: 'EUR' });

let steps: {
  start: (e: Json) => Promise<Json>;
  checks: (withdrawalId: string) => Promise<CheckWithdrawalResult>;
  openReview: typeof import('#functions/steps/withdrawal-open-review.ts')['handler'];
  payout: (input: SendWithdrawalPayoutInput) => Promise<SendWithdrawalPayoutResult>;
  finalize: (input: FinalizeWithdrawalInput) => Promise<FinalizeWithdrawalResult>;
  payoutEvent: typeof import('#app/payments/apply-payout-event.ts')['applyPayoutEvent'];
};

/** The fake provider's payout answers: 'processing' (a webhook follows), 'paid' / 'failed' at once, or an outage. */
let payoutMode: 'processing' | 'paid' | 'failed' | 'throw' = 'processing';
const payouts: Json[] = [];
let restorePsp: () => void;

beforeAll(async () => {
  await useHandlerEnv('withdrawal-steps', { STATE_MACHINE_ARN_WITHDRAWAL_APPROVAL: MACHINE_ARN });
  const psp = fakePsp('sandbox');
  psp.createPayout = async (req): Promise<Payout> => {
    payouts.push(req);
    if (payoutMode === 'throw') throw new Error('provider timeout');
    return {
      providerRef: `po_${req.withdrawalId}`,
      status: payoutMode,
      ...(payoutMode === 'failed' ? { failureCode: 'account_closed' } : {}),
    };
  };
  restorePsp = usePspForTests('sandbox', psp);
  steps = {
    start: (await import('#functions/steps/withdrawal-start.ts')).handler as never,
    checks: async (withdrawalId) =>
      (await import('#app/payments/check-withdrawal.ts')).checkWithdrawal({ withdrawalId }, stepCtx(withdrawalId)),
    openReview: (await import('#functions/steps/withdrawal-open-review.ts')).handler,
    payout: async (input) =>
      (await import('#app/payments/send-withdrawal-payout.ts')).sendWithdrawalPayout(input, stepCtx(input.withdrawalId)),
    finalize: async (input) =>
      (await import('#app/payments/finalize-withdrawal.ts')).finalizeWithdrawal(input, stepCtx(input.withdrawalId)),
    payoutEvent: (await import('#app/payments/apply-payout-event.ts')).applyPayoutEvent,
  };
});

beforeEach(async () => {
  sfnMock.reset();
  sfnMock.on(SendTaskSuccessCommand).resolves({});
  payoutMode = 'processing';
  payouts.length = 0;
  // A fresh table per test: house account balances are compared exactly.
  await useTestTable('withdrawal-steps');
});

afterAll(() => {
  restorePsp();
  sfnMock.restore();
});

/** An approved client with `funded` EUR in its wallet, deposited from IBAN (its closed-loop funding source). */
async function client(opts: { funded?: bigint; kycStatus?: 'approved' | 'in_review'; expires?: string } = {}) {
  const { clientId } = await seedClient({
    kycStatus: opts.kycStatus ?? 'approved',
    onboarding: { stage: 'approved' } as never,
    kyc: { identityExpiresOn: opts.expires ?? '2035-01-31' },
  });
  const ctx = { actor: systemActor('test'), requestId: 'test' };
  await ensureWallet(clientId, 'EUR', ctx);
  const funded = opts.funded ?? 100_000n;
  const clearing = await houseAccount('psp_clearing', 'EUR');
  await postJournal({
    draft: {
      journalId: newJournalId(),
      type: 'deposit',
      postings: [
        { accountId: clearing.accountId, amount: -funded, currency: 'EUR' },
        { accountId: walletId(clientId, 'EUR'), amount: funded, currency: 'EUR' },
      ],
      metadata: { kind: 'test_funding' },
    },
    idempotency: { scope: 'test-funding', key: randomUUID(), requestHash: 'fund' },
    ...ctx,
  });
  const sourceId = fundingSourceId('sandbox', 'sepa-wire', IBAN);
  const at = new Date().toISOString();
  await commit({
    writes: [
      fundingSourceDeposit(
        {
          clientId,
          sourceId,
          methodId: 'sepa-wire',
          methodKind: 'bank_wire',
          provider: 'sandbox',
          account: IBAN,
          display: 'DE89 •••• 3000',
        },
        { minor: funded, currency: 'EUR' },
        at,
      ),
    ],
    audit: {
      ...ctx,
      action: 'test.funding_source',
      entity: { type: 'funding-source', id: sourceId },
      clientId,
      before: null,
      after: {},
    },
  });
  return { clientId, sourceId };
}

/** A withdrawal of `gross` minor units EUR by sepa-wire (fee 5.00) to the client's IBAN source. */
async function withdraw(c: { clientId: string; sourceId: string }, gross: bigint, key = randomUUID(), hash = 'h1') {
  return createWithdrawal(
    {
      clientId: c.clientId,
      walletId: walletId(c.clientId, 'EUR'),
      methodId: 'sepa-wire',
      methodKind: 'bank_wire',
      provider: 'sandbox',
      gross: eur(gross),
      fee: eur(500n),
      net: eur(gross - 500n),
      destination: { sourceId: c.sourceId, account: IBAN, display: 'DE89 •••• 3000' },
      idempotencyScope: ledgerScope('withdrawal', c.clientId),
      idempotencyKey: key,
      requestHash: hash,
      holdExpiresAt: new Date(Date.now() + 30 * 86_400_000),
    },
    { actor: actor(c.clientId), requestId: 'req-create' },
  );
}

let eventSeq = 0;
function payoutContext(
  w: WithdrawalItem,
  type: 'payout.paid' | 'payout.failed',
  eventId = `evt_${++eventSeq}_${randomUUID()}`,
): WebhookContext {
  const event: PspEvent = {
    eventId,
    type,
    providerRef: `po_${w.withdrawalId}`,
    merchantRef: w.withdrawalId,
    amount: { amount: BigInt(Math.round(Number(w.net.amount) * 100)), currency: 'EUR' },
    occurredAt: new Date().toISOString(),
    ...(type === 'payout.failed' ? { failureCode: 'account_closed' } : {}),
  };
  return {
    provider: 'sandbox',
    event,
    marker: webhookMarker('sandbox', eventId, { type, providerRef: event.providerRef, receivedAt: new Date().toISOString() }),
    requestId: `wh-${eventId}`,
    actor: systemActor('psp-sandbox'),
  };
}

const wallet = (clientId: string) => getBalance(walletId(clientId, 'EUR'));
const house = async (kind: 'psp_clearing' | 'fee_income') => getBalance((await houseAccount(kind, 'EUR')).accountId);
const w$ = async (id: string) => (await getWithdrawal(id, { consistent: true }))!;
const trail = (id: string) => auditTrail<Json>('withdrawal', id);
const tasksAnswered = () => sfnMock.commandCalls(SendTaskSuccessCommand).map((c) => c.args[0].input);

/** received -> approved -> processing with the payout sent (the provider answers later). */
async function approvedAndSent(c: { clientId: string; sourceId: string }, gross = 10_000n) {
  const { withdrawal } = await withdraw(c, gross);
  expect((await steps.checks(withdrawal.withdrawalId)).outcome).toBe('approve');
  await steps.payout({ withdrawalId: withdrawal.withdrawalId, taskToken: 'payout-token-1' });
  return w$(withdrawal.withdrawalId);
}

describe('create', () => {
  it('holds the gross with the withdrawal received; a replay returns it; another body is refused', async () => {
    const c = await client({ funded: 100_000n });
    const key = randomUUID();
    const first = await withdraw(c, 20_000n, key);
    expect(first.replayed).toBe(false);
    expect(first.withdrawal).toMatchObject({
      status: 'received',
      holdId: first.withdrawal.withdrawalId,
      gross: { amount: '200.00' },
    });
    expect(await wallet(c.clientId)).toMatchObject({ ledger: 100_000n, held: 20_000n, available: 80_000n });
    expect((await getHold(first.withdrawal.withdrawalId))!.status).toBe('pending');
    expect((await trail(first.withdrawal.withdrawalId)).map((a) => a.action)).toEqual(['payment.withdrawal.received']);

    const again = await withdraw(c, 20_000n, key);
    expect(again).toMatchObject({ replayed: true, withdrawal: { withdrawalId: first.withdrawal.withdrawalId } });
    await expect(withdraw(c, 30_000n, key, 'h2')).rejects.toMatchObject({ code: 'idempotency_key_reused' });
    expect(await wallet(c.clientId)).toMatchObject({ held: 20_000n, available: 80_000n });
  });

  it('more than the available balance: insufficient_funds and nothing written', async () => {
    const c = await client({ funded: 10_000n });
    const key = randomUUID();
    await expect(withdraw(c, 10_001n, key)).rejects.toMatchObject({ code: 'insufficient_funds' });
    expect(await getWithdrawal(withdrawalIdFor(c.clientId, key), { consistent: true })).toBeUndefined();
    expect(await getHold(withdrawalIdFor(c.clientId, key))).toBeUndefined();
    expect((await listWithdrawalsByStatus('received', { limit: 10 })).items).toEqual([]);
    expect(await wallet(c.clientId)).toMatchObject({ held: 0n, available: 10_000n });
  });
});

describe('withdrawal-start', () => {
  it('starts one execution named after a received withdrawal; a redelivery is fine', async () => {
    const c = await client();
    const { withdrawal } = await withdraw(c, 10_000n);
    sfnMock
      .on(StartExecutionCommand)
      .resolvesOnce({ executionArn: 'arn:x' })
      .rejects(Object.assign(new Error('exists'), { name: 'ExecutionAlreadyExists' }));
    // the 'payment.withdrawal.received' detail as its producer writes it (domain/events/payments.ts)
    const event = {
      detail: {
        withdrawalId: withdrawal.withdrawalId,
        clientId: c.clientId,
        walletId: withdrawal.walletId,
        methodId: withdrawal.methodId,
        status: withdrawal.status,
        amount: withdrawal.gross.amount,
        net: withdrawal.net.amount,
        fee: withdrawal.fee.amount,
        currency: withdrawal.gross.currency,
      },
    };
    expect(await steps.start(event)).toEqual({ started: true });
    expect(await steps.start(event)).toEqual({ started: false, reason: 'already_started' });
    const input = sfnMock.commandCalls(StartExecutionCommand)[0]!.args[0].input;
    expect(input).toMatchObject({ stateMachineArn: MACHINE_ARN, name: withdrawal.withdrawalId });
    expect(JSON.parse(input.input!)).toEqual({
      withdrawalId: withdrawal.withdrawalId,
      clientId: c.clientId,
      Payload: { reviewTimeoutSeconds: 14 * 86_400, payoutTimeoutSeconds: 72 * 3_600 },
    });
  });
});

describe('checks', () => {
  it('approves a clean withdrawal under the auto-approval limit', async () => {
    const c = await client();
    const { withdrawal } = await withdraw(c, 10_000n);
    const r = await steps.checks(withdrawal.withdrawalId);
    expect(r).toMatchObject({ outcome: 'approve', reasons: [], status: 'approved' });
    const w = await w$(withdrawal.withdrawalId);
    expect(w.status).toBe('approved');
    expect(w.checks!.every((ch) => ch.passed)).toBe(true);
    expect(w.timeline.map((t) => t.status)).toEqual(['received', 'approved']);
    // Idempotent: a second run changes nothing.
    expect(await steps.checks(withdrawal.withdrawalId)).toMatchObject({ outcome: 'approve' });
    expect((await trail(withdrawal.withdrawalId)).map((a) => a.action)).toEqual([
      'payment.withdrawal.received',
      'payment.withdrawal.checked',
    ]);
    expect((await listWithdrawalsByStatus('approved', { limit: 10 })).items.map((i) => i.withdrawalId)).toEqual([
      withdrawal.withdrawalId,
    ]);
  });

  it('sends a large amount and an unverified client to review with every failing check named', async () => {
    const c = await client({ funded: 1_000_000n, kycStatus: 'in_review' });
    const { withdrawal } = await withdraw(c, 250_000n);
    const r = await steps.checks(withdrawal.withdrawalId);
    expect(r.outcome).toBe('review');
    expect(r.reasons).toContain('kyc_not_approved');
    const w = await w$(withdrawal.withdrawalId);
    expect(w.status).toBe('under_review');
    expect(w.timeline.at(-1)).toMatchObject({ status: 'under_review', reason: 'kyc_not_approved' });
    expect(w.checks!.find((ch) => ch.check === 'kyc_valid')).toMatchObject({ passed: false, reason: 'kyc_not_approved' });
    expect((await listWithdrawalsByStatus('under_review', { limit: 10 })).items.map((i) => i.withdrawalId)).toEqual([
      withdrawal.withdrawalId,
    ]);
    // The client sees the reason in its locale; staff see the checks.
    const view = withdrawalView(w, 'de');
    expect(view.timeline.at(-1)).toMatchObject({ status: 'under_review', reasonText: expect.any(String) });
    expect(view).not.toHaveProperty('checks');
    expect(withdrawalView(w, 'en', { staff: true }).checks).toHaveLength(w.checks!.length);
  });

  it('reviews an amount above the auto-approval limit (manual_review) even when every check passes', async () => {
    const c = await client({ funded: 1_000_000n });
    const { withdrawal } = await withdraw(c, 250_000n);
    expect(await steps.checks(withdrawal.withdrawalId)).toMatchObject({ outcome: 'review', reasons: ['manual_review'] });
  });

  it('ends the run for a withdrawal cancelled before its checks', async () => {
    const c = await client();
    const { withdrawal } = await withdraw(c, 10_000n);
    await cancelByClient(withdrawal.withdrawalId, c.clientId);
    expect(await steps.checks(withdrawal.withdrawalId)).toMatchObject({ outcome: 'cancelled', status: 'cancelled' });
  });
});

describe('payout, webhook and finalize', () => {
  it('completes: posts exactly wallet -gross, clearing +net, fee income +fee; the source gets the gross back', async () => {
    const c = await client({ funded: 100_000n });
    const clearingBefore = (await house('psp_clearing')).ledger;
    const w = await approvedAndSent(c, 10_000n);
    expect(w.status).toBe('processing');
    expect(w.payout).toMatchObject({ providerRef: `po_${w.withdrawalId}` });
    expect(w.payoutTaskToken).toBe('payout-token-1');
    expect(payouts).toEqual([
      expect.objectContaining({
        withdrawalId: w.withdrawalId,
        idempotencyKey: w.withdrawalId,
        amount: eur(9_500n),
        destination: { account: IBAN },
      }),
    ]);

    expect(await steps.payoutEvent(payoutContext(w, 'payout.paid'))).toEqual({ outcome: 'applied', paymentId: w.withdrawalId });
    expect(tasksAnswered()).toEqual([{ taskToken: 'payout-token-1', output: JSON.stringify({ outcome: 'paid' }) }]);
    // The webhook records; it does not move money.
    expect(await wallet(c.clientId)).toMatchObject({ ledger: 100_000n, held: 10_000n });

    expect(await steps.finalize({ withdrawalId: w.withdrawalId, action: 'complete' })).toMatchObject({ status: 'completed' });
    expect(await wallet(c.clientId)).toMatchObject({ ledger: 90_000n, held: 0n, available: 90_000n });
    expect((await house('psp_clearing')).ledger - clearingBefore).toBe(9_500n);
    expect((await house('fee_income')).ledger).toBe(500n);
    const done = await w$(w.withdrawalId);
    expect(done).toMatchObject({ status: 'completed', journalId: w.withdrawalId });
    expect((await getHold(w.withdrawalId))!.status).toBe('posted');
    const journal = (await getJournal(w.withdrawalId))!;
    expect(journal.type).toBe('withdrawal');
    expect(journal.metadata).toMatchObject({ psp: { provider: 'sandbox', providerRef: `po_${w.withdrawalId}`, kind: 'payout' } });
    expect(journal.postings.map((p) => p.amount).sort()).toEqual([-10_000n, 500n, 9_500n].sort());
    expect((await getFundingSource(c.clientId, c.sourceId))!.returned).toEqual({ EUR: 10_000n });

    // Twice = once.
    expect(await steps.finalize({ withdrawalId: w.withdrawalId, action: 'complete' })).toMatchObject({
      outcome: 'already_final',
    });
    expect(await wallet(c.clientId)).toMatchObject({ ledger: 90_000n });
    expect((await trail(w.withdrawalId)).filter((a) => a.action === 'payment.withdrawal.completed')).toHaveLength(1);
  });

  it('concurrent finalizes post once', async () => {
    const c = await client({ funded: 100_000n });
    payoutMode = 'paid';
    const w = await approvedAndSent(c, 10_000n);
    expect(w.payout?.outcome).toBe('paid');
    // A synchronous 'paid' answers the token at once.
    expect(tasksAnswered()).toEqual([{ taskToken: 'payout-token-1', output: JSON.stringify({ outcome: 'paid' }) }]);
    const results = await Promise.all([1, 2, 3].map(() => steps.finalize({ withdrawalId: w.withdrawalId, action: 'complete' })));
    expect(results.map((r) => r.status)).toEqual(['completed', 'completed', 'completed']);
    expect(results.filter((r) => r.outcome === 'completed')).toHaveLength(1);
    expect(await wallet(c.clientId)).toMatchObject({ ledger: 90_000n, held: 0n });
  });

  it('the payout webhook is recorded once (sequential and concurrent duplicates)', async () => {
    const c = await client();
    const w = await approvedAndSent(c);
    const ctx = payoutContext(w, 'payout.paid', 'evt-dup');
    const [a, b] = await Promise.allSettled([
      steps.payoutEvent(ctx),
      steps.payoutEvent(payoutContext(w, 'payout.paid', 'evt-dup')),
    ]);
    const applied = [a, b].filter((r) => r.status === 'fulfilled' && r.value.outcome === 'applied');
    expect(applied).toHaveLength(1);
    const other = [a, b].find((r) => !(r.status === 'fulfilled' && r.value.outcome === 'applied'))!;
    if (other.status === 'rejected') expect(other.reason).toMatchObject({ code: 'webhook_duplicate' });
    else expect(other.value).toMatchObject({ outcome: 'ignored', reason: 'payout_outcome_already_recorded' });
    expect(await steps.payoutEvent(payoutContext(w, 'payout.failed'))).toMatchObject({
      outcome: 'ignored',
      reason: 'payout_outcome_already_recorded',
    });
    expect((await w$(w.withdrawalId)).payout).toMatchObject({ outcome: 'paid' });
    expect((await trail(w.withdrawalId)).filter((e) => e.action === 'payment.withdrawal.payout_paid')).toHaveLength(1);
  });

  it('a payout event for a withdrawal that is not processing is ignored', async () => {
    const c = await client();
    const { withdrawal } = await withdraw(c, 10_000n);
    expect(await steps.payoutEvent(payoutContext(withdrawal, 'payout.paid'))).toMatchObject({
      outcome: 'ignored',
      reason: 'withdrawal_not_processing',
    });
  });

  it('payout.failed then finalize fail: the hold is voided with payout_failed', async () => {
    const c = await client({ funded: 100_000n });
    const w = await approvedAndSent(c);
    await steps.payoutEvent(payoutContext(w, 'payout.failed'));
    expect((await w$(w.withdrawalId)).payout).toMatchObject({ outcome: 'failed', failureCode: 'account_closed' });
    expect(await steps.finalize({ withdrawalId: w.withdrawalId, action: 'fail', reason: 'payout_failed' })).toMatchObject({
      status: 'failed',
    });
    expect(await wallet(c.clientId)).toMatchObject({ ledger: 100_000n, held: 0n, available: 100_000n });
    expect((await getHold(w.withdrawalId))!.status).toBe('voided');
    expect((await w$(w.withdrawalId)).timeline.at(-1)).toMatchObject({ status: 'failed', reason: 'payout_failed' });
  });

  it('no confirmation in time: check reads the recorded outcome (none -> payout_expired; paid -> completed)', async () => {
    const c = await client({ funded: 100_000n });
    const lost = await approvedAndSent(c);
    expect(await steps.finalize({ withdrawalId: lost.withdrawalId, action: 'check' })).toMatchObject({ status: 'failed' });
    expect((await w$(lost.withdrawalId)).timeline.at(-1)).toMatchObject({ reason: 'payout_expired' });

    const paid = await approvedAndSent(c);
    await steps.payoutEvent(payoutContext(paid, 'payout.paid'));
    expect(await steps.finalize({ withdrawalId: paid.withdrawalId, action: 'check' })).toMatchObject({ status: 'completed' });
    expect(await wallet(c.clientId)).toMatchObject({ ledger: 90_000n, held: 0n });
  });

  it('payout.paid after the withdrawal failed (payout_expired): a late_payout case freezes withdrawals, no money moves, once', async () => {
    const c = await client({ funded: 100_000n });
    const w = await approvedAndSent(c);
    expect(await steps.finalize({ withdrawalId: w.withdrawalId, action: 'check' })).toMatchObject({ status: 'failed' });
    const before = { wallet: await wallet(c.clientId), clearing: await house('psp_clearing') };

    const ctx = payoutContext(w, 'payout.paid');
    expect(await steps.payoutEvent(ctx)).toEqual({ outcome: 'applied', paymentId: w.withdrawalId });
    const after = await w$(w.withdrawalId);
    expect(after.status).toBe('failed');
    expect(after.payout?.latePaidAt).toBeDefined();
    const caseId = caseIdFor('late_payout', w.withdrawalId);
    expect(await getCase(caseId)).toMatchObject({
      kind: 'late_payout',
      status: 'open',
      clientId: c.clientId,
      subject: { type: 'withdrawal', id: w.withdrawalId },
      effects: ['withdrawals_frozen'],
      evidence: { providerRef: `po_${w.withdrawalId}`, net: w.net, status: 'failed', statusReason: 'payout_expired' },
    });
    expect((await getPaymentState(c.clientId)).withdrawalsFrozen).toMatchObject({ reason: 'late_payout', caseId });
    // Nothing posted: finance decides how to recover the money.
    expect(await wallet(c.clientId)).toEqual(before.wallet);
    expect(await house('psp_clearing')).toEqual(before.clearing);
    expect((await trail(w.withdrawalId)).at(-1)).toMatchObject({ action: 'payment.withdrawal.paid_after_failure' });

    // The same event again, or another event id for the same payout, changes nothing more.
    await expect(steps.payoutEvent(payoutContext(w, 'payout.paid'))).resolves.toMatchObject({ outcome: 'ignored' });
    expect((await auditTrail('compliance-case', caseId)).map((a) => a.action)).toEqual(['compliance.case.opened']);
  });

  it('payout.failed after the withdrawal completed (the payout came back): a payout_returned case, no freeze, no money moved', async () => {
    const c = await client({ funded: 100_000n });
    const w = await approvedAndSent(c);
    await steps.payoutEvent(payoutContext(w, 'payout.paid'));
    expect(await steps.finalize({ withdrawalId: w.withdrawalId, action: 'check' })).toMatchObject({ status: 'completed' });
    const before = { wallet: await wallet(c.clientId), clearing: await house('psp_clearing') };

    expect(await steps.payoutEvent(payoutContext(w, 'payout.failed'))).toEqual({ outcome: 'applied', paymentId: w.withdrawalId });
    const after = await w$(w.withdrawalId);
    expect(after.status).toBe('completed');
    expect(after.payout?.returnedAt).toBeDefined();
    const caseId = caseIdFor('payout_returned', w.withdrawalId);
    expect(await getCase(caseId)).toMatchObject({
      kind: 'payout_returned',
      status: 'open',
      effects: [],
      evidence: { event: 'payout.failed', failureCode: 'account_closed', net: w.net, journalId: after.journalId },
    });
    expect((await getPaymentState(c.clientId)).withdrawalsFrozen).toBeUndefined();
    expect(await wallet(c.clientId)).toEqual(before.wallet);
    expect(await house('psp_clearing')).toEqual(before.clearing);
    expect((await trail(w.withdrawalId)).at(-1)).toMatchObject({ action: 'payment.withdrawal.payout_returned' });
    // Once: another delivery of the same outcome changes nothing.
    expect(await steps.payoutEvent(payoutContext(w, 'payout.failed'))).toMatchObject({ outcome: 'ignored' });
  });

  it('a provider outage throws PspUnavailable (the ASL retries) and records nothing about the payout', async () => {
    const c = await client();
    payoutMode = 'throw';
    const { withdrawal } = await withdraw(c, 10_000n);
    await steps.checks(withdrawal.withdrawalId);
    await expect(steps.payout({ withdrawalId: withdrawal.withdrawalId, taskToken: 't1' })).rejects.toMatchObject({
      name: 'PspUnavailable',
    });
    const w = await w$(withdrawal.withdrawalId);
    expect(w).toMatchObject({ status: 'processing' });
    expect(w.payout).toBeUndefined();
    payoutMode = 'processing';
    await steps.payout({ withdrawalId: withdrawal.withdrawalId, taskToken: 't2' });
    expect(await w$(withdrawal.withdrawalId)).toMatchObject({
      payoutTaskToken: 't2',
      payout: { providerRef: `po_${withdrawal.withdrawalId}` },
    });
    // The same payout (idempotency key) every time.
    expect(new Set(payouts.map((p) => p.idempotencyKey))).toEqual(new Set([withdrawal.withdrawalId]));
  });
});

describe('review, decisions and cancellation', () => {
  async function underReview(c: { clientId: string; sourceId: string }) {
    const { withdrawal } = await withdraw(c, 250_000n);
    expect((await steps.checks(withdrawal.withdrawalId)).outcome).toBe('review');
    return withdrawal.withdrawalId;
  }
  const staff = (role: 'finance' | 'compliance'): Caller => ({
    sub: `staff-${role}`,
    email: `${role}@example.com`,
    roles: [role],
    isStaff: true,
  });
  const decideCtx = { requestId: 'r-decide', locale: 'en' };

  it('open-review stores the token; the decision is recorded once and answers the token', async () => {
    const c = await client({ funded: 1_000_000n });
    const id = await underReview(c);
    expect(await steps.openReview({ withdrawalId: id, taskToken: 'review-1' })).toMatchObject({ review: 'opened' });
    expect(await steps.openReview({ withdrawalId: id, taskToken: 'review-1' })).toMatchObject({ review: 'already_open' });
    expect(await steps.openReview({ withdrawalId: id, taskToken: 'review-2' })).toMatchObject({ review: 'token_replaced' });

    const decided = await decideWithdrawal({ withdrawalId: id, decision: 'approve' }, staff('finance'), decideCtx);
    expect(decided).toMatchObject({ status: 'approved', review: { decision: 'approve', decidedByRole: 'finance' } });
    expect(tasksAnswered()).toEqual([{ taskToken: 'review-2', output: JSON.stringify({ decision: 'approve' }) }]);
    await expect(
      decideWithdrawal({ withdrawalId: id, decision: 'approve' }, staff('compliance'), decideCtx),
    ).rejects.toMatchObject({
      code: 'withdrawal_not_under_review',
    });
    // A retried AwaitReview finds it decided and is answered at once.
    expect(await steps.openReview({ withdrawalId: id, taskToken: 'review-3' })).toMatchObject({ review: 'already_decided' });
    expect(tasksAnswered().at(-1)).toEqual({ taskToken: 'review-3', output: JSON.stringify({ decision: 'approve' }) });
  });

  it('two concurrent decisions: one wins, the other is 409 withdrawal_not_under_review', async () => {
    const c = await client({ funded: 1_000_000n });
    const id = await underReview(c);
    await steps.openReview({ withdrawalId: id, taskToken: 'review-1' });
    const results = await Promise.allSettled([
      decideWithdrawal({ withdrawalId: id, decision: 'approve' }, staff('finance'), decideCtx),
      decideWithdrawal({ withdrawalId: id, decision: 'reject', reason: 'third_party_account' }, staff('compliance'), decideCtx),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(lost.reason).toMatchObject({ code: 'withdrawal_not_under_review' });
    expect((await trail(id)).filter((a) => a.action === 'payment.withdrawal.review_decided')).toHaveLength(1);
    expect(tasksAnswered()).toHaveLength(1);
  });

  it('a rejection needs a catalogue reason; finalize reject voids the hold with it', async () => {
    const c = await client({ funded: 1_000_000n });
    const id = await underReview(c);
    await expect(
      decideWithdrawal({ withdrawalId: id, decision: 'reject' }, staff('compliance'), decideCtx),
    ).rejects.toMatchObject({
      code: 'reason_required',
    });
    await expect(
      decideWithdrawal({ withdrawalId: id, decision: 'reject', reason: 'bad_vibes' }, staff('compliance'), decideCtx),
    ).rejects.toMatchObject({
      code: 'unknown_rejection_reason',
    });
    await expect(
      decideWithdrawal({ withdrawalId: id, decision: 'reject', reason: 'other' }, staff('compliance'), decideCtx),
    ).rejects.toMatchObject({
      code: 'note_required',
    });
    const rejected = await decideWithdrawal(
      { withdrawalId: id, decision: 'reject', reason: 'suspected_fraud', note: 'mule pattern' },
      staff('compliance'),
      decideCtx,
    );
    expect(rejected).toMatchObject({ status: 'under_review', review: { decision: 'reject', reason: 'suspected_fraud' } });
    // A decided review cannot be cancelled any more.
    await expect(cancelByClient(id, c.clientId)).rejects.toMatchObject({
      code: 'withdrawal_not_cancellable',
    });
    expect(await steps.finalize({ withdrawalId: id, action: 'reject' })).toMatchObject({ status: 'rejected' });
    expect(await wallet(c.clientId)).toMatchObject({ held: 0n, available: 1_000_000n });
    const w = await w$(id);
    expect(w.timeline.at(-1)).toMatchObject({ status: 'rejected', reason: 'suspected_fraud' });
    // The client never sees a confidential reason code.
    const seen = withdrawalView(w, 'en').timeline.at(-1)!;
    expect(JSON.stringify(seen)).not.toMatch(/fraud/i);
  });

  it('a review timeout fails the request (review_expired) unless a decision was recorded', async () => {
    const c = await client({ funded: 1_000_000n });
    const idle = await underReview(c);
    expect(await steps.finalize({ withdrawalId: idle, action: 'expire', reason: 'review_expired' })).toMatchObject({
      status: 'failed',
    });
    expect((await w$(idle)).timeline.at(-1)).toMatchObject({ status: 'failed', reason: 'review_expired' });

    // The decision's callback was lost: the expiry finds it approved and lets the execution carry on.
    const approved = await underReview(c);
    await decideWithdrawal({ withdrawalId: approved, decision: 'approve' }, staff('finance'), decideCtx);
    expect(await steps.finalize({ withdrawalId: approved, action: 'expire', reason: 'review_expired' })).toMatchObject({
      status: 'approved',
      outcome: 'approve',
    });
    expect(await wallet(c.clientId)).toMatchObject({ held: 250_000n });
  });

  it('cancel during review voids the hold and answers the waiting execution; twice is 409', async () => {
    const c = await client({ funded: 1_000_000n });
    const id = await underReview(c);
    await steps.openReview({ withdrawalId: id, taskToken: 'review-1' });
    const cancelled = await cancelByClient(id, c.clientId);
    expect(cancelled).toMatchObject({ status: 'cancelled' });
    expect(cancelled.timeline.at(-1)).toMatchObject({ status: 'cancelled', reason: 'cancelled_by_client' });
    expect(await wallet(c.clientId)).toMatchObject({ held: 0n, available: 1_000_000n });
    expect(tasksAnswered()).toEqual([{ taskToken: 'review-1', output: JSON.stringify({ decision: 'cancelled' }) }]);
    await expect(cancelByClient(id, c.clientId)).rejects.toMatchObject({
      code: 'withdrawal_not_cancellable',
    });
    // Another client's withdrawal is not found.
    await expect(cancelByClient(id, 'someone-else')).rejects.toMatchObject({
      code: 'withdrawal_not_found',
    });
  });

  it('cancel racing finalize: exactly one wins and the hold is released once', async () => {
    const c = await client({ funded: 1_000_000n });
    for (let i = 0; i < 3; i++) {
      const id = await underReview(c);
      const [cancel, fin] = await Promise.allSettled([
        cancelByClient(id, c.clientId),
        steps.finalize({ withdrawalId: id, action: 'expire', reason: 'review_expired' }),
      ]);
      const w = await w$(id);
      expect(['cancelled', 'failed']).toContain(w.status);
      if (w.status === 'cancelled') {
        expect(cancel.status).toBe('fulfilled');
        expect(fin).toMatchObject({ status: 'fulfilled', value: { outcome: 'already_final' } });
      } else {
        expect(cancel).toMatchObject({ status: 'rejected', reason: { code: 'withdrawal_not_cancellable' } });
      }
      const terminal = (await trail(id)).filter((a) =>
        ['payment.withdrawal.cancelled', 'payment.withdrawal.failed'].includes(a.action),
      );
      expect(terminal).toHaveLength(1);
      expect((await getHold(id))!.status).toBe('voided');
    }
    expect(await wallet(c.clientId)).toMatchObject({ ledger: 1_000_000n, held: 0n, available: 1_000_000n });
  });
});

describe('withdrawal-watchdog', () => {
  const execArn = (name: string) => `${MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${name}`;
  const awsError = (name: string) => Object.assign(new Error(name), { name });
  /** The fake's executions by ARN; the watchdog runs "20 minutes from now", so every withdrawal is stale. */
  let executions: Map<string, string>;
  const later = () => new Date(Date.now() + 20 * 60_000);
  const watch = async () =>
    (await import('#app/payments/repair-withdrawal-workflows.ts')).repairWithdrawalWorkflows({
      requestId: 'watchdog-test',
      locale: 'en',
      now: later(),
    });
  const startedNames = () => sfnMock.commandCalls(StartExecutionCommand).map((c) => c.args[0].input.name);

  beforeEach(() => {
    executions = new Map();
    sfnMock.on(DescribeExecutionCommand).callsFake((input: { executionArn: string }) => {
      const status = executions.get(input.executionArn);
      if (!status) throw awsError('ExecutionDoesNotExist');
      return { executionArn: input.executionArn, status, ...(status === 'FAILED' ? { error: 'States.TaskFailed' } : {}) };
    });
    sfnMock.on(StartExecutionCommand).callsFake((input: { name: string; stateMachineArn: string }) => {
      expect(input.stateMachineArn).toBe(MACHINE_ARN);
      if (executions.has(execArn(input.name))) throw awsError('ExecutionAlreadyExists');
      executions.set(execArn(input.name), 'RUNNING');
      return { executionArn: execArn(input.name), startDate: new Date() };
    });
  });

  it('leaves live executions alone, starts a lost one under its own name, ignores fresh and final withdrawals', async () => {
    const c = await client({ funded: 100_000n });
    const live = (await withdraw(c, 1_000n)).withdrawal;
    executions.set(execArn(live.withdrawalId), 'RUNNING');
    const lost = (await withdraw(c, 2_000n)).withdrawal;
    const done = (await withdraw(c, 3_000n)).withdrawal;
    await steps.finalize({ withdrawalId: done.withdrawalId, action: 'fail', reason: 'payout_failed' });

    expect(await watch()).toMatchObject({ scanned: 2, started: 1, restarted: 0, stalled: 0, failed: 0 });
    expect(startedNames()).toEqual([lost.withdrawalId]);
    const input = JSON.parse(sfnMock.commandCalls(StartExecutionCommand)[0]!.args[0].input.input!);
    expect(input).toMatchObject({ withdrawalId: lost.withdrawalId, clientId: c.clientId });
    // Now (not 20 minutes later) nothing is stale: nothing is read.
    expect(
      await (await import('#app/payments/repair-withdrawal-workflows.ts')).repairWithdrawalWorkflows({
        requestId: 'now',
        locale: 'en',
      }),
    ).toMatchObject({ scanned: 0 });
  });

  it('restarts a dead execution under -r1 (recorded and audited first), then stalls after 3 restarts', async () => {
    const c = await client({ funded: 100_000n });
    const w = await approvedAndSent(c); // processing, waiting for the provider
    executions.set(execArn(w.withdrawalId), 'FAILED');

    expect(await watch()).toMatchObject({ restarted: 1 });
    expect((await w$(w.withdrawalId)).execution).toEqual({ name: `${w.withdrawalId}-r1`, attempt: 1 });
    expect((await trail(w.withdrawalId)).at(-1)).toMatchObject({
      action: 'payment.withdrawal.restarted',
      evidence: { execution: w.withdrawalId, status: 'FAILED', error: 'States.TaskFailed', attempt: 0 },
    });
    expect(await watch()).toMatchObject({ restarted: 0, started: 0 }); // -r1 is running

    for (const n of [1, 2]) {
      executions.set(execArn(`${w.withdrawalId}-r${n}`), 'TIMED_OUT');
      expect(await watch()).toMatchObject({ restarted: 1 });
    }
    executions.set(execArn(`${w.withdrawalId}-r3`), 'ABORTED');
    expect(await watch()).toMatchObject({ restarted: 0, stalled: 1 });
    const stalled = await w$(w.withdrawalId);
    expect(stalled.stalledAt).toBeDefined();
    expect(stalled.status).toBe('processing');
    expect((await trail(w.withdrawalId)).at(-1)).toMatchObject({ action: 'payment.withdrawal.stalled' });
    // Given up: later runs do not even look at it, and its money stays held (never moved by the watchdog).
    expect(await watch()).toMatchObject({ scanned: 0, stalled: 0 });
    expect(startedNames()).toEqual([`${w.withdrawalId}-r1`, `${w.withdrawalId}-r2`, `${w.withdrawalId}-r3`]);
    expect(await wallet(c.clientId)).toMatchObject({ held: 10_000n });
  });

  it('one withdrawal failing to repair is counted and the others are still repaired', async () => {
    const c = await client({ funded: 100_000n });
    const bad = (await withdraw(c, 1_000n)).withdrawal;
    const good = (await withdraw(c, 2_000n)).withdrawal;
    sfnMock.on(DescribeExecutionCommand, { executionArn: execArn(bad.withdrawalId) }).rejects(awsError('ThrottlingException'));
    expect(await watch()).toMatchObject({ scanned: 2, started: 1, failed: 1 });
    expect(startedNames()).toEqual([good.withdrawalId]);
  });
});
