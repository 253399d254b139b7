/**
 * Payments: D deposits (default 500, BENCH_PAYMENT_DEPOSITS) and then W withdrawals (default 200,
 * BENCH_PAYMENT_WITHDRAWALS), each batch started at once in the local runtime, through the real
 * routes, the sandbox PSP (its queue, its worker, its signed webhook over HTTP), the webhook route,
 * the outbox, the withdrawal-approval state machine and its steps.
 *
 * Stages reported (throughput and p50/p99 per item):
 * - deposit intent:     POST /v1/deposits -> 201 (intent with the fee and next action)
 * - deposit settlement: 201 -> the deposit completed (sandbox delay 1 s + webhook + journal)
 * - withdrawal request: POST /v1/withdrawals -> 201 (hold placed)
 * - withdrawal payout:  201 -> completed (checks, auto-approval, payout, webhook, hold posted)
 *   and, from each withdrawal's own timeline: received -> approved -> processing -> completed
 * Checked afterwards, to the cent: every wallet holds exactly its nets minus its withdrawals, PSP
 * clearing and fee income hold exactly the sums the movements imply, nothing is held any more, and
 * the ledger reconciliation finds nothing. Baseline, same run: the same D deposit journals posted
 * straight to the ledger (postJournal) at the same concurrency: the cost of the ledger alone.
 * Setup (clients, wallets) is not timed.
 */
import { randomUUID } from 'node:crypto';
import { formatMoney, toMinor } from '#domain/money/index.ts';
import { quoteFee } from '#domain/payments/fees.ts';
import { findMethod } from '#domain/payments/methods.ts';
import { invoke } from '#local/lambda.ts';
import { tenantConfig } from '#shared/tenant.ts';
import { systemActor } from '#store/audit.ts';
import { ensureWallet, getBalance, houseAccount } from '#store/ledger/accounts.ts';
import { newJournalId, postJournal } from '#store/ledger/journals.ts';
import { seedClient } from '../../test/support/clients.ts';
import { apiEvent, claimsFor } from '../../test/support/events.ts';
import { percentile } from '../lib.ts';

// biome-ignore lint/suspicious/noExplicitAny: proxy results are parsed field by field
type Json = any;

async function api(fn: string, input: Parameters<typeof apiEvent>[0]): Promise<{ status: number; body: Json }> {
  const res = (await invoke(fn, apiEvent(input))) as { statusCode: number; body: string };
  return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : undefined };
}

const sec = (ms: number) => (ms / 1000).toFixed(2);
const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? `p50 ${sec(percentile(s, 50))} s, p99 ${sec(percentile(s, 99))} s` : 'n/a';
};

/**
 * Runs `fn` over `items` with at most `limit` in flight: every request is offered at once, as a burst
 * from many clients would be, but a local Lambda emulation has no fleet to scale out to, so the
 * requests queue in a client pool of `limit` connections (like API Gateway queuing against a reserved
 * concurrency). Without it, 500 handlers race on DynamoDB Local (which serialises transactions) until
 * their Lambda timeout.
 */
async function pool<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

/** Polls `read` for every id until `done` (or the deadline); returns when each was first seen done. */
async function waitAll(ids: string[], read: (id: string) => Promise<Json>, done: (x: Json) => boolean, timeoutMs: number) {
  const seen = new Map<string, { at: number; item: Json }>();
  const deadline = Date.now() + timeoutMs;
  while (seen.size < ids.length && Date.now() < deadline) {
    const open = ids.filter((id) => !seen.has(id));
    for (let i = 0; i < open.length; i += 50) {
      await Promise.all(
        open.slice(i, i + 50).map(async (id) => {
          const item = await read(id);
          if (item && done(item)) seen.set(id, { at: performance.now(), item });
        }),
      );
    }
    if (seen.size < ids.length) await new Promise((r) => setTimeout(r, 200));
  }
  return seen;
}

/**
 * Prints what an unfinished payment is waiting for: its status, timeline, payout record and task tokens
 * (present or not, never their value) and, for a withdrawal, its approval execution's status.
 */
async function explainUnfinished(withdrawalIds: string[], depositIds: string[]) {
  const { getWithdrawal } = await import('#store/payments/withdrawals.ts');
  const { getDeposit } = await import('#store/payments/deposits.ts');
  const { sfn } = await import('#shared/clients.ts');
  const { env } = await import('#shared/env.ts');
  const { DescribeExecutionCommand } = await import('@aws-sdk/client-sfn');
  const { WITHDRAWAL_APPROVAL_MACHINE } = await import('#functions/steps/withdrawal-start.ts');
  for (const id of withdrawalIds) {
    const w = await getWithdrawal(id, { consistent: true });
    const arn = env.stateMachineArn(WITHDRAWAL_APPROVAL_MACHINE).replace(':stateMachine:', ':execution:');
    const exec = await sfn()
      .send(new DescribeExecutionCommand({ executionArn: `${arn}:${id}` }))
      .then(
        (e) => e.status,
        (e: Error) => `not described (${e.name})`,
      );
    console.log(
      `unfinished withdrawal ${id}: ${w?.status} timeline ${w?.timeline.map((t) => `${t.status}@${t.at.slice(11, 23)}`).join(' ')}` +
        ` payout ${JSON.stringify(w?.payout ?? null)} reviewToken ${Boolean(w?.reviewTaskToken)} payoutToken ${Boolean(w?.payoutTaskToken)} execution ${exec}`,
    );
  }
  for (const id of depositIds) {
    const d = await getDeposit(id);
    console.log(`unfinished deposit ${id}: ${d?.status} timeline ${JSON.stringify(d?.timeline ?? null)}`);
  }
}

export async function paymentsSuite(opts: { deposits?: number; withdrawals?: number; settle?: () => Promise<void> } = {}) {
  const nDep = opts.deposits ?? Number(process.env.BENCH_PAYMENT_DEPOSITS ?? 500);
  const nWd = Math.min(nDep, opts.withdrawals ?? Number(process.env.BENCH_PAYMENT_WITHDRAWALS ?? 200));
  const timeoutMs = Number(process.env.BENCH_PAYMENT_TIMEOUT_MS ?? 600_000);
  const inFlight = Number(process.env.BENCH_PAYMENT_CONCURRENCY ?? 16);
  const cfg = tenantConfig();
  const card = findMethod(cfg, 'card')!;
  const run = randomUUID().replace(/-/g, '').slice(0, 6);
  const actor = systemActor('bench');

  // Setup (not timed): KYC-approved clients resident in DE with a EUR wallet.
  const setupStart = performance.now();
  const clients = Array.from({ length: nDep }, (_, i) => ({ i, clientId: `bench-pay-${run}-${i}` }));
  const wallets = new Map<string, string>();
  for (let b = 0; b < clients.length; b += 25) {
    await Promise.all(
      clients.slice(b, b + 25).map(async (c) => {
        await seedClient(
          {
            clientId: c.clientId,
            email: `${c.clientId}@bench.test`,
            kycStatus: 'approved',
            kyc: { identityExpiresOn: '2032-05-20', approvedAt: new Date().toISOString() },
          },
          { actor, requestId: 'bench' },
        );
        const w = await ensureWallet(c.clientId, 'EUR', { actor, requestId: 'bench' });
        wallets.set(c.clientId, w.accountId);
      }),
    );
  }
  const [clearing, fees] = await Promise.all([houseAccount('psp_clearing', 'EUR'), houseAccount('fee_income', 'EUR')]);
  const setupSeconds = (performance.now() - setupStart) / 1000;

  // Amounts: 100.00 .. 599.00 EUR whole euros (never ending in 13 or 42 cents: every deposit settles).
  const grossOf = (i: number) => `${100 + (i % 500)}.00`;
  const netOf = (i: number) => {
    const gross = toMinor(grossOf(i), 'EUR');
    return gross - quoteFee(card, 'deposit', { amount: gross, currency: 'EUR' }).fee.amount;
  };

  // Baseline, first, on a quiet runtime: the same deposit journals straight into the ledger, at the same
  // concurrency. The wallets keep these nets (counted below); the house balances are read after it.
  const b0 = performance.now();
  await pool(clients, inFlight, async (c) => {
    const gross = toMinor(grossOf(c.i), 'EUR');
    const fee = quoteFee(card, 'deposit', { amount: gross, currency: 'EUR' }).fee.amount;
    const journalId = newJournalId();
    await postJournal({
      draft: {
        journalId,
        type: 'deposit',
        postings: [
          { accountId: clearing.accountId, amount: -gross, currency: 'EUR' },
          { accountId: wallets.get(c.clientId)!, amount: gross - fee, currency: 'EUR' },
          ...(fee ? [{ accountId: fees.accountId, amount: fee, currency: 'EUR' }] : []),
        ],
        metadata: { bench: true },
      },
      idempotency: { scope: 'bench-baseline', key: journalId, requestHash: journalId },
      actor,
      requestId: 'bench',
    });
  });
  const baselineSeconds = (performance.now() - b0) / 1000;
  // Its audit archiving and outbox relaying run behind it; the timed runs start once they are done.
  await opts.settle?.();
  const before = { clearing: (await getBalance(clearing.accountId)).ledger, fees: (await getBalance(fees.accountId)).ledger };
  const claims = (clientId: string) => claimsFor(clientId, ['client']);

  // Timed: every deposit at once.
  const depStarted = new Map<string, number>();
  const depCreated = new Map<string, number>();
  const t0 = performance.now();
  const deposits = await pool(clients, inFlight, async (c) => {
    const start = performance.now();
    const r = await api('api-deposits', {
      method: 'POST',
      resource: '/v1/deposits',
      claims: claims(c.clientId),
      headers: { 'idempotency-key': `bench-${run}-${c.i}` },
      body: { walletId: wallets.get(c.clientId), methodId: 'card', amount: { amount: grossOf(c.i), currency: 'EUR' } },
    });
    if (r.status !== 201) throw new Error(`deposit: ${r.status} ${JSON.stringify(r.body)}`);
    depStarted.set(r.body.depositId, start);
    depCreated.set(r.body.depositId, performance.now());
    return { ...c, depositId: r.body.depositId as string };
  });
  const intentSeconds = (performance.now() - t0) / 1000;
  const { getDeposit } = await import('#store/payments/deposits.ts');
  const settled = await waitAll(
    deposits.map((d) => d.depositId),
    (id) => getDeposit(id),
    (d) => d.status === 'completed' || d.status === 'failed',
    timeoutMs,
  );
  const depositsSeconds = (performance.now() - t0) / 1000;
  const depCompleted = deposits.filter((d) => settled.get(d.depositId)?.item.status === 'completed');

  // Timed: withdrawals at once, from the first nWd clients, back to the card they deposited with. The
  // amount stays under the AML round-trip share of the smallest deposit (100.00 EUR), so every check is
  // clean and each is approved automatically: this measures the unattended path. (A withdrawal of half
  // a deposit made minutes ago rightly goes to compliance review, where it would wait for a person.)
  const share = BigInt(cfg.payments.withdrawals.roundTripSharePercent);
  const withdrawalAmount = formatMoney({ amount: (toMinor('100.00', 'EUR') * share) / 100n / 2n, currency: 'EUR' }).amount;
  const { listFundingSources } = await import('#store/payments/client-state.ts');
  const withdrawers = await Promise.all(
    depCompleted.slice(0, nWd).map(async (d) => ({ ...d, sourceId: (await listFundingSources(d.clientId))[0]!.sourceId })),
  );
  const wdStarted = new Map<string, number>();
  const wdCreated = new Map<string, number>();
  const t1 = performance.now();
  const withdrawals = await pool(withdrawers, inFlight, async (c) => {
    const start = performance.now();
    const r = await api('api-withdrawals', {
      method: 'POST',
      resource: '/v1/withdrawals',
      claims: claims(c.clientId),
      headers: { 'idempotency-key': `bench-wd-${run}-${c.i}` },
      body: {
        walletId: wallets.get(c.clientId),
        methodId: 'card',
        amount: { amount: withdrawalAmount, currency: 'EUR' },
        destination: { sourceId: c.sourceId },
      },
    });
    if (r.status !== 201) throw new Error(`withdrawal: ${r.status} ${JSON.stringify(r.body)}`);
    wdStarted.set(r.body.withdrawalId, start);
    wdCreated.set(r.body.withdrawalId, performance.now());
    return { ...c, withdrawalId: r.body.withdrawalId as string };
  });
  const requestSeconds = (performance.now() - t1) / 1000;
  const { getWithdrawal } = await import('#store/payments/withdrawals.ts');
  // Final, or parked in manual review (not expected here: it would wait for a person).
  const TERMINAL = new Set(['completed', 'failed', 'rejected', 'cancelled', 'under_review']);
  const paid = await waitAll(
    withdrawals.map((w) => w.withdrawalId),
    (id) => getWithdrawal(id),
    (w) => TERMINAL.has(w.status),
    timeoutMs,
  );
  const withdrawalsSeconds = (performance.now() - t1) / 1000;

  // Stage latencies.
  const intentMs = deposits.map((d) => depCreated.get(d.depositId)! - depStarted.get(d.depositId)!);
  const settleMs = depCompleted.map((d) => settled.get(d.depositId)!.at - depCreated.get(d.depositId)!);
  const requestMs = withdrawals.map((w) => wdCreated.get(w.withdrawalId)! - wdStarted.get(w.withdrawalId)!);
  const payoutMs = withdrawals
    .filter((w) => paid.get(w.withdrawalId)?.item.status === 'completed')
    .map((w) => paid.get(w.withdrawalId)!.at - wdCreated.get(w.withdrawalId)!);
  const step = (from: string, to: string) =>
    [...paid.values()].flatMap(({ item }) => {
      const a = item.timeline.find((t: Json) => t.status === from)?.at;
      const b = item.timeline.find((t: Json) => t.status === to)?.at;
      return a && b ? [Date.parse(b) - Date.parse(a)] : [];
    });

  // Integrity, to the cent.
  let walletMismatches = 0;
  let expectedFees = 0n;
  let expectedClearing = 0n;
  const wdByClient = new Map(withdrawals.map((w) => [w.clientId, w.withdrawalId]));
  for (const d of deposits) {
    const done = settled.get(d.depositId)?.item.status === 'completed';
    const gross = toMinor(grossOf(d.i), 'EUR');
    const fee = done ? quoteFee(card, 'deposit', { amount: gross, currency: 'EUR' }).fee.amount : 0n;
    let expected = netOf(d.i) + (done ? gross - fee : 0n);
    if (done) {
      expectedFees += fee;
      expectedClearing -= gross;
    }
    const wd = wdByClient.get(d.clientId);
    if (wd && paid.get(wd)?.item.status === 'completed') {
      const w = paid.get(wd)!.item;
      const wGross = toMinor(w.gross.amount, 'EUR');
      const wFee = toMinor(w.fee.amount, 'EUR');
      expected -= wGross;
      expectedFees += wFee;
      expectedClearing += wGross - wFee;
    }
    const b = await getBalance(wallets.get(d.clientId)!);
    if (b.ledger !== expected || b.held !== 0n) walletMismatches++;
  }
  const after = { clearing: (await getBalance(clearing.accountId)).ledger, fees: (await getBalance(fees.accountId)).ledger };
  const clearingOk = after.clearing - before.clearing === expectedClearing;
  const feesOk = after.fees - before.fees === expectedFees;
  const { reconcile } = await import('#app/ledger/reconcile-ledger.ts');
  const recon = await reconcile(new Date(), 'bench', `bench-${run}`);

  const lostDeposits = deposits.length - settled.size;
  const lostWithdrawals = withdrawals.length - paid.size;
  const withdrawalsByStatus: Record<string, number> = {};
  for (const { item } of paid.values()) withdrawalsByStatus[item.status] = (withdrawalsByStatus[item.status] ?? 0) + 1;
  const notCompleted = [...paid.values()].filter(({ item }) => item.status !== 'completed').map(({ item }) => item.withdrawalId);
  await explainUnfinished(
    [...withdrawals.map((w) => w.withdrawalId).filter((id) => !paid.has(id)), ...notCompleted],
    deposits.map((d) => d.depositId).filter((id) => !settled.has(id)),
  );
  console.log(
    `\n## payments: ${nDep} deposits, then ${withdrawals.length} withdrawals, each batch offered at once, ${inFlight} in flight (setup ${setupSeconds.toFixed(1)} s, not timed)`,
  );
  console.log(
    `deposit intents (POST -> 201)       ${nDep} in ${intentSeconds.toFixed(2)} s = ${(nDep / intentSeconds).toFixed(1)}/s; ${stats(intentMs)}`,
  );
  console.log(
    `deposit settlement (201 -> completed) ${stats(settleMs)}; all settled ${depositsSeconds.toFixed(2)} s after the first POST = ${(depCompleted.length / depositsSeconds).toFixed(1)}/s`,
  );
  console.log(
    `withdrawal requests (POST -> 201)   ${withdrawals.length} in ${requestSeconds.toFixed(2)} s = ${(withdrawals.length / requestSeconds).toFixed(1)}/s; ${stats(requestMs)}`,
  );
  console.log(
    `withdrawal to paid (201 -> completed) ${stats(payoutMs)}; all done ${withdrawalsSeconds.toFixed(2)} s after the first POST = ${(payoutMs.length / withdrawalsSeconds).toFixed(1)}/s`,
  );
  console.log(`  received -> approved (checks)     ${stats(step('received', 'approved'))}`);
  console.log(`  approved -> processing (payout)   ${stats(step('approved', 'processing'))}`);
  console.log(`  processing -> completed (webhook) ${stats(step('processing', 'completed'))}`);
  console.log(
    `deposits completed / withdrawals completed  ${depCompleted.length}/${nDep}, ${[...paid.values()].filter((p) => p.item.status === 'completed').length}/${withdrawals.length}`,
  );
  console.log(`withdrawal outcomes                 ${JSON.stringify(withdrawalsByStatus)}`);
  console.log(`lost (not final)                    deposits ${lostDeposits}, withdrawals ${lostWithdrawals}`);
  console.log(`wallets not exact to the cent       ${walletMismatches}`);
  console.log(
    `psp clearing / fee income exact     ${clearingOk} (${formatMoney({ amount: after.clearing - before.clearing, currency: 'EUR' }).amount}) / ${feesOk} (${formatMoney({ amount: after.fees - before.fees, currency: 'EUR' }).amount})`,
  );
  console.log(`ledger reconciliation findings      ${recon.findings.length}`);
  console.log(
    `baseline: the same ${nDep} deposit journals straight into the ledger  ${baselineSeconds.toFixed(2)} s = ${(nDep / baselineSeconds).toFixed(1)}/s -> ratio (full deposit path / ledger alone) ${(depositsSeconds / baselineSeconds).toFixed(1)}x`,
  );
  if (
    lostDeposits ||
    lostWithdrawals ||
    notCompleted.length ||
    walletMismatches ||
    !clearingOk ||
    !feesOk ||
    recon.findings.length
  ) {
    throw new Error('payments bench: a payment was lost, not paid automatically, or the ledger does not reconcile to the cent');
  }
}
