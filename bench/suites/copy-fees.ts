/**
 * Copy-fee settlement (issue 15; ADR 0017 "Settlement (built)"), in the local runtime (DynamoDB Local, the stream
 * relay and audit archiver running) with the MT5 simulator behind its Web API (a server of its own, without a state
 * file). BENCH_COPY_FEE_FOLLOWERS followers (default 2,000) of one strategy (performance 20 %, management 2 %/year;
 * the broker's share 20 %) each owe a real fee, and the figure is one pass of the daily job charging them all:
 * - set-up, each follower as the real flows leave it: a platform account and its ledger account tacc_<account>, a
 *   wallet funded by a deposit journal, 1,000.00 moved wallet -> account by the transfer use case (journal +
 *   platform balance operation); the strategy, subscriptions, copy states and claims put directly; each fee state
 *   opened by the settlement itself (its first charge point: mark = the start equity); then a trading result on
 *   the copy account (a 0.1-lot EURUSD buy closed 1,000 points up: +100.00, not a deposit)
 * - the figure: the job's use case (runFeeSettlement, the job's context) with its clock one second after the
 *   subscriptions' first monthly anniversary (a month passing; no item is edited). Each follower: the day's
 *   management accrual (platform equity read + audited write), then the anniversary charge (platform equity read,
 *   charge put pending with the fee state's lock, platform 'charge' operation, ONE journal tacc_ -> provider wallet
 *   + house fee income with the charge's end, the fee state, the audit entry and copy.fee.charged). Wall time and
 *   charges/s; per follower, p50/p99 of the spacing of the charges' completions (the job is sequential), and of
 *   each charge's own saga (pending -> completed)
 * - verified after it: N completed charges, one per subscription; one platform 'charge' operation per login, of
 *   the charge's total, the equity after it as computed; each tacc_ down by its total; every journal balanced and
 *   of the charge's split; the provider's wallet and the broker's fee income up by exactly the sums; every fee state
 *   unlocked with its mark moved; copy.fee.charged published once per charge. A second pass at the same clock
 *   charges nothing (exactly once)
 * - the baseline, in the same run: as many bare postJournal of the same shape (tacc_ -> provider wallet + fee
 *   income, the same amounts) at the job's concurrency (1), so the ratio is what the platform calls, the fee state,
 *   the accrual, the audit entries and the event cost over the journal
 */
import { randomUUID } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { runFeeSettlement, settleFees } from '#app/copy/settle-fees.ts';
import { createTransfer } from '#app/trading/transfers.ts';
import { transferJournal } from '#domain/ledger/index.ts';
import { ledgerAccountIdOf } from '#domain/trading/accounts.ts';
import { usePlatformForTests } from '#functions/adapters/platforms/index.ts';
import { mt5Platform } from '#functions/adapters/platforms/mt5.ts';
import { jobContext } from '#functions/jobs/runs.ts';
import { startMt5Server } from '#local/platforms/mt5-server.ts';
import type { Runtime } from '#local/runtime.ts';
import { ddb } from '#shared/clients.ts';
import { env } from '#shared/env.ts';
import { setTenantConfig, tenantConfig } from '#shared/tenant.ts';
import { systemActor } from '#store/audit.ts';
import { accountClaimEntity, copyAccountClaimEntity, strategyEntity, subscriptionEntity } from '#store/copy.ts';
import { type ChargeItem, chargeEntity, getFeeState } from '#store/copy-fees.ts';
import { copyStateEntity } from '#store/copy-trades.ts';
import { copyFeeKeys } from '#store/keys.ts';
import {
  ensureWallet,
  getBalance,
  getJournal,
  houseAccount,
  houseAccountId,
  openAccount,
  postJournal,
  walletId,
} from '#store/ledger/index.ts';
import { tradingAccountEntity } from '#store/trading.ts';
import { batchPut, measure, percentile, pool, printComparison, type Stats } from '../lib.ts';

const manager = { login: 1000, password: 'bench-copy-fees-manager-password' };
const SERVER = 'bench-copy-fees';
const GROUP = 'real\\bench-usd';
const FUNDS = 1_000_00n; // 1,000.00 USD moved wallet -> copy account: the mark
const GAIN_POINTS = 1_000n; // a 0.1-lot EURUSD buy closed 1,000 points up: +100.00 USD
const BROKER_SHARE_BPS = 2_000;

const fmt = (n: number, d = 1) => n.toFixed(d);
const seconds = (ms: number) => `${fmt(ms / 1000)} s`;

interface Follower {
  i: number;
  clientId: string;
  accountId: string;
  ledgerAccountId: string;
  login: number;
  subscriptionId: string;
}

export async function copyFeesSuite(opts: { rt: Runtime }): Promise<void> {
  const n = Number(process.env.BENCH_COPY_FEE_FOLLOWERS ?? 2_000);
  const server = await startMt5Server({ manager, tickMs: 0 });
  Object.assign(process.env, {
    MT5_WEB_API_URL: server.url,
    MT5_MANAGER_LOGIN: String(manager.login),
    MT5_MANAGER_PASSWORD: manager.password,
    MT5_SERVER: SERVER,
    MT5_SESSIONS: '8',
  });
  const platform = mt5Platform({ baseUrl: server.url, manager, server: SERVER, sessions: 8 });
  // the use cases' adapter is made once per process: another suite of this run may have made it for its own server
  const restorePlatform = usePlatformForTests('mt5', platform);
  const tenant = tenantConfig();
  setTenantConfig({ ...tenant, copy: { ...tenant.copy, brokerShareBps: BROKER_SHARE_BPS } });
  try {
    await run(opts.rt, n, server, platform);
  } finally {
    setTenantConfig(tenant);
    restorePlatform();
    await server.stop();
  }
}

async function run(
  rt: Runtime,
  n: number,
  server: Awaited<ReturnType<typeof startMt5Server>>,
  platform: ReturnType<typeof mt5Platform>,
): Promise<void> {
  const tag = randomUUID().slice(0, 8);
  const ctx = { requestId: `bench-copy-fees-${tag}`, locale: 'en' };
  const ledgerCtx = { actor: systemActor('bench'), requestId: ctx.requestId };
  const at = new Date().toISOString();
  const accountItem = (accountId: string, clientId: string, login: number, ledgerAccountId?: string) =>
    tradingAccountEntity.item(
      {
        accountId,
        clientId,
        kind: 'live',
        platform: 'mt5',
        server: SERVER,
        typeId: 'standard',
        group: GROUP,
        currency: 'USD',
        leverage: 30,
        status: 'active',
        access: 'full',
        login,
        ...(ledgerAccountId ? { ledgerAccountId } : {}),
        idempotencyKey: accountId,
        requestHash: 'bench',
      },
      at,
    );
  const newLogin = async (name: string) =>
    (
      await platform.createAccount({
        group: GROUP,
        currency: 'USD',
        leverage: 30,
        name,
        clientRef: name,
        passwords: { main: 'Bench-Main-Passw0rd', investor: 'Bench-Inv-Passw0rd' },
      })
    ).login;

  // --- the provider, its strategy, the house accounts ---------------------------------------------------------
  const t0 = performance.now();
  const providerClientId = `client-bench-fees-provider-${tag}`;
  const providerAccount = `ta_bench_fees_provider_${tag}`;
  const strategyId = `st_bench_fees_${tag}`;
  const providerLogin = await newLogin('provider');
  const providerWallet = await ensureWallet(providerClientId, 'USD', ledgerCtx);
  const income = await houseAccount('fee_income', 'USD');
  const psp = await houseAccount('psp_clearing', 'USD');
  await batchPut([
    accountItem(providerAccount, providerClientId, providerLogin),
    strategyEntity.item(
      {
        strategyId,
        providerClientId,
        accountId: providerAccount,
        platform: 'mt5',
        server: SERVER,
        login: providerLogin,
        currency: 'USD',
        name: 'Bench fee strategy',
        description: '',
        fees: {
          performanceBps: 2000,
          managementBpsPerYear: 200,
          volumePerMillion: { amount: '0.00', currency: 'USD' },
          subscriptionPerMonth: { amount: '0.00', currency: 'USD' },
        },
        minInvestment: { amount: '100.00', currency: 'USD' },
        visibility: 'public',
        status: 'approved',
        idempotencyKey: strategyId,
        requestHash: 'bench',
      },
      at,
    ),
    accountClaimEntity.item({ accountId: providerAccount, strategyId }, at),
  ] as unknown as Record<string, unknown>[]);

  // --- followers: platform account, tacc_, a funded wallet, then a real wallet -> account transfer ----------------
  const followers: Follower[] = [];
  await pool(
    Array.from({ length: n }, (_, i) => i),
    16,
    async (i) => {
      const clientId = `client-bench-fees-${tag}-${i}`;
      const accountId = `ta_bench_fees_${tag}_${i}`;
      const ledgerAccountId = ledgerAccountIdOf(accountId);
      const login = await newLogin(`fee-follower-${i}`);
      await openAccount(
        { accountId: ledgerAccountId, kind: 'trading_account', currency: 'USD', ownerId: clientId, noNegative: false },
        ledgerCtx,
      );
      const wallet = await ensureWallet(clientId, 'USD', ledgerCtx);
      const journalId = `bench-fees-dep-${tag}-${i}`;
      await postJournal({
        draft: transferJournal({ journalId, from: psp, to: wallet, amount: { amount: FUNDS, currency: 'USD' }, type: 'deposit' }),
        idempotency: { scope: 'bench', key: journalId, requestHash: 'h' },
        actor: ledgerCtx.actor,
        requestId: ctx.requestId,
      });
      followers.push({ i, clientId, accountId, ledgerAccountId, login, subscriptionId: `sub_bench_fees_${tag}_${i}` });
    },
  );
  followers.sort((a, b) => a.i - b.i);
  await batchPut(
    followers.map((f) => accountItem(f.accountId, f.clientId, f.login, f.ledgerAccountId)) as unknown as Record<
      string,
      unknown
    >[],
  );
  await pool(followers, 16, async (f) => {
    const { transfer } = await createTransfer(
      { accountId: f.accountId, direction: 'deposit', amount: { amount: '1000.00', currency: 'USD' } },
      { sub: f.clientId, email: `${f.clientId}@bench.invalid`, roles: ['client'], isStaff: false },
      { ...ctx, idempotencyKey: `bench-fees-${tag}-${f.i}` },
    );
    if (transfer.status !== 'completed') throw new Error(`bench: transfer of ${f.accountId} is ${transfer.status}`);
  });

  // --- subscriptions (direct), their fee states opened by the settlement itself ---------------------------------
  const items: unknown[] = [];
  for (const f of followers) {
    items.push(
      subscriptionEntity.item(
        {
          subscriptionId: f.subscriptionId,
          strategyId,
          providerClientId,
          followerClientId: f.clientId,
          followerAccountId: f.accountId,
          currency: 'USD',
          allocation: { mode: 'fixed_volume', volume: '100' },
          protections: { copyStops: false },
          status: 'active',
          idempotencyKey: f.subscriptionId,
          requestHash: 'bench',
        },
        at,
      ),
      copyStateEntity.item(
        {
          subscriptionId: f.subscriptionId,
          currency: 'USD',
          startEquity: String(FUNDS),
          peakEquity: String(FUNDS),
          invested: String(FUNDS),
        },
        at,
      ),
      copyAccountClaimEntity.item({ accountId: f.accountId, subscriptionId: f.subscriptionId }, at),
    );
  }
  await batchPut(items as Record<string, unknown>[]);
  await pool(followers, 16, async (f) => {
    // before the anniversary: nothing is due, and the fee state is created (mark = the start equity)
    const r = await settleFees({ subscriptionId: f.subscriptionId, point: 'anniversary' }, ctx);
    if (r.outcome !== 'not_due') throw new Error(`bench: opening the fee state of ${f.subscriptionId}: ${r.outcome}`);
  });

  // --- a trading result on every copy account: a buy, the price up 1,000 points, closed --------------------------
  const quote = server.simulator.quote('EURUSD');
  const positions = new Map<number, number>();
  let highest = 0n;
  await pool(followers, 16, async (f) => {
    const fill = await platform.marketOrder({ login: f.login, symbol: 'EURUSD', side: 'buy', volume: 1_000n });
    positions.set(f.login, fill.positionId);
    if (fill.price > highest) highest = fill.price;
  });
  server.simulator.setQuote('EURUSD', highest + GAIN_POINTS, highest + GAIN_POINTS + (quote.ask - quote.bid));
  await pool(followers, 16, async (f) => {
    await platform.closePosition(f.login, positions.get(f.login)!);
  });
  server.simulator.setQuote('EURUSD', quote.bid, quote.ask);
  const equityBefore = new Map(followers.map((f) => [f.login, server.simulator.accountState(f.login).equity]));
  const gains = [...equityBefore.values()].map((e) => e - FUNDS);
  let minGain = gains[0] ?? 0n;
  for (const g of gains) if (g < minGain) minGain = g;
  if (minGain <= 0n) throw new Error('bench: a follower has no trading result to charge');
  await rt.settle(); // the set-up's events and audit entries are relayed and archived before the figure
  console.log(
    `# copy-fees: ${n} followers set up in ${seconds(performance.now() - t0)} (each: 1,000.00 by a wallet transfer, then +${fmt(Number(minGain) / 100, 2)} USD or more of trading result)`,
  );

  // --- the figure: the job's pass at the anniversary ------------------------------------------------------------
  let anniversaryMs = 0;
  await pool(followers, 16, async (f) => {
    const fee = await getFeeState(f.subscriptionId);
    if (!fee) throw new Error(`bench: no fee state for ${f.subscriptionId}`);
    anniversaryMs = Math.max(anniversaryMs, Date.parse(fee.nextAnniversaryAt));
  });
  const now = new Date(anniversaryMs + 1000);
  const balance = async (id: string) => (await getBalance(id)).ledger;
  const before = { wallet: await balance(providerWallet.accountId), income: await balance(income.accountId) };
  const startedAt = Date.now();
  const t1 = performance.now();
  const pass = await runFeeSettlement({}, { ...jobContext(`bench-copy-fee-settlement-${tag}`), now });
  const wallMs = performance.now() - t1;
  await rt.settle();

  const charges: ChargeItem[] = [];
  for await (const page of chargeEntity.queryPages({
    IndexName: 'gsi2',
    KeyConditionExpression: 'gsi2pk = :p',
    ExpressionAttributeValues: { ':p': copyFeeKeys.strategyPartition(strategyId) },
  })) {
    charges.push(...page);
  }
  const completed = charges.filter((c) => c.status === 'completed');
  const ends = completed.map((c) => Date.parse(c.completedAt!)).sort((a, b) => a - b);
  const spacing = ends.map((t, k) => t - (k === 0 ? startedAt : ends[k - 1]!)).sort((a, b) => a - b);
  const saga = completed.map((c) => Date.parse(c.completedAt!) - Date.parse(c.createdAt)).sort((a, b) => a - b);
  const subject: Stats = {
    name: 'fee settlement job (accrual + anniversary charge per follower)',
    ops: n,
    concurrency: 1,
    errors: n - pass.charged,
    seconds: wallMs / 1000,
    perSecond: pass.charged / (wallMs / 1000),
    p50: percentile(spacing, 50),
    p99: percentile(spacing, 99),
  };
  console.log(
    `fee settlement for ${n} followers: time\t${seconds(wallMs)}\t${fmt(subject.perSecond)} charges/s\tcharged ${pass.charged} (checked ${pass.checked}, accrued ${pass.accrued}, nothing due ${pass.nothingDue}, refused ${pass.refused}, pending ${pass.pending}, busy ${pass.busy}, failed ${pass.failed})\tper follower p50 ${subject.p50} ms p99 ${subject.p99} ms (spacing of completions)\tper charge saga p50 ${percentile(saga, 50)} ms p99 ${percentile(saga, 99)} ms (pending -> completed)`,
  );

  // --- exactly once: the same pass again ------------------------------------------------------------------------
  const t2 = performance.now();
  const again = await runFeeSettlement({}, { ...jobContext(`bench-copy-fee-settlement-again-${tag}`), now });
  const againMs = performance.now() - t2;
  await rt.settle();

  // --- verification ---------------------------------------------------------------------------------------------
  const problems: string[] = [];
  const problem = (p: string) => {
    if (problems.length < 20) problems.push(p);
  };
  const bySubscription = new Map<string, ChargeItem[]>();
  for (const c of charges) bySubscription.set(c.subscriptionId, [...(bySubscription.get(c.subscriptionId) ?? []), c]);
  const chargeOps = new Map<number, bigint[]>();
  for (const d of server.simulator.deals()) {
    if (d.action === 'charge') chargeOps.set(d.login, [...(chargeOps.get(d.login) ?? []), d.profit]);
  }
  let providerSum = 0n;
  let brokerSum = 0n;
  let totalSum = 0n;
  let unbalanced = 0;
  await pool(followers, 16, async (f) => {
    const mine = bySubscription.get(f.subscriptionId) ?? [];
    const c = mine[0];
    if (mine.length !== 1 || c?.status !== 'completed') {
      problem(`${f.subscriptionId}: ${mine.length} charges (${mine.map((x) => x.status).join(',')})`);
      return;
    }
    const total = BigInt(c.fees.total);
    const provider = BigInt(c.split.provider);
    const broker = BigInt(c.split.broker);
    providerSum += provider;
    brokerSum += broker;
    totalSum += total;
    if (total <= 0n || provider + broker !== total) problem(`${c.chargeId}: total ${total} split ${provider}+${broker}`);
    const ops = chargeOps.get(f.login) ?? [];
    if (ops.length !== 1 || ops[0] !== -total) problem(`login ${f.login}: charge operations ${ops.join(',')} for ${total}`);
    const equity = server.simulator.accountState(f.login).equity;
    if (equity !== BigInt(c.inputs.equityAfter) || equity !== equityBefore.get(f.login)! - total) {
      problem(`login ${f.login}: equity ${equity}, charge says ${c.inputs.equityAfter}`);
    }
    const tacc = await balance(f.ledgerAccountId);
    if (tacc !== FUNDS - total) problem(`${f.ledgerAccountId}: ${tacc}, expected ${FUNDS - total}`);
    const journal = c.journalId ? await getJournal(c.journalId) : undefined;
    const postings = new Map(journal?.postings.map((p) => [p.accountId, p.amount]) ?? []);
    const sum = journal?.postings.reduce((s, p) => s + p.amount, 0n);
    if (
      sum !== 0n ||
      postings.get(f.ledgerAccountId) !== -total ||
      postings.get(providerWallet.accountId) !== provider ||
      (postings.get(income.accountId) ?? 0n) !== broker
    ) {
      unbalanced += 1;
      problem(`${c.journalId}: postings ${[...postings].map(([a, v]) => `${a} ${v}`).join(', ')}`);
    }
    const fee = await getFeeState(f.subscriptionId);
    if (fee?.busyWith || fee?.mark !== c.after.mark || fee.lastChargeId !== c.chargeId) {
      problem(`${f.subscriptionId}: fee state ${fee?.busyWith ?? ''} mark ${fee?.mark} after ${c.after.mark}`);
    }
  });
  const after = { wallet: await balance(providerWallet.accountId), income: await balance(income.accountId) };
  if (after.wallet - before.wallet !== providerSum)
    problem(`provider wallet +${after.wallet - before.wallet}, shares ${providerSum}`);
  if (after.income - before.income !== brokerSum) problem(`fee income +${after.income - before.income}, shares ${brokerSum}`);
  if (
    providerWallet.accountId !== walletId(providerClientId, 'USD') ||
    income.accountId !== houseAccountId('fee_income', 'USD')
  ) {
    problem('unexpected ledger account ids');
  }
  const published = new Map<string, number>();
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await ddb().send(
      new ScanCommand({
        TableName: env.tableName,
        FilterExpression: 'detailType = :t AND attribute_exists(publishedAt)',
        ExpressionAttributeValues: { ':t': 'copy.fee.charged' },
        ...(startKey ? { ExclusiveStartKey: startKey } : {}),
      }),
    );
    for (const item of page.Items ?? []) {
      const detail = item.detail as { chargeId?: string; strategyId?: string };
      if (detail.strategyId === strategyId) published.set(detail.chargeId!, (published.get(detail.chargeId!) ?? 0) + 1);
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  const eventsOnce = completed.filter((c) => published.get(c.chargeId) === 1).length;
  const kinds = new Map<string, number>();
  for (const c of completed) {
    const k = `management ${c.fees.management} + performance ${c.fees.performance} = ${c.fees.total} (provider ${c.split.provider}, broker ${c.split.broker})`;
    kinds.set(k, (kinds.get(k) ?? 0) + 1);
  }
  console.log(`fee charges (minor units) x followers: ${[...kinds].map(([k, v]) => `${k} x ${v}`).join('; ')}`);
  const opsAfterAgain = [...chargeOps.values()].reduce((s, o) => s + o.length, 0);
  console.log(
    `fee settlement verified: ${completed.length} of ${n} charges completed (${charges.length} charges in all, ${bySubscription.size} subscriptions)\tplatform charge operations ${opsAfterAgain} (${followers.filter((f) => chargeOps.get(f.login)?.length === 1).length} logins debited once)\tjournals unbalanced or off the split ${unbalanced}\tfees ${fmt(Number(totalSum) / 100, 2)} USD = provider wallet +${fmt(Number(after.wallet - before.wallet) / 100, 2)} + broker fee income +${fmt(Number(after.income - before.income) / 100, 2)}\tcopy.fee.charged published once ${eventsOnce}\tsecond pass in ${seconds(againMs)}: charged ${again.charged}, nothing due ${again.nothingDue}, failed ${again.failed}\tproblems ${problems.length}`,
  );
  for (const p of problems) console.log(`  problem: ${p}`);

  // --- the baseline: the charges' journals alone, at the job's concurrency ---------------------------------------
  const shape = completed.map((c) => ({
    total: BigInt(c.fees.total),
    provider: BigInt(c.split.provider),
    broker: BigInt(c.split.broker),
  }));
  const baseline = await measure('postJournal tacc_ -> provider wallet + fee income', { ops: n, concurrency: 1 }, async (i) => {
    const f = followers[Math.abs(i) % n]!;
    const s = shape[Math.abs(i) % shape.length]!;
    const journalId = `bench-cfj-${tag}-${i}`;
    await postJournal({
      draft: {
        journalId,
        type: 'fee',
        postings: [
          { accountId: f.ledgerAccountId, amount: -s.total, currency: 'USD' },
          { accountId: providerWallet.accountId, amount: s.provider, currency: 'USD' },
          ...(s.broker > 0n ? [{ accountId: income.accountId, amount: s.broker, currency: 'USD' }] : []),
        ],
        reference: journalId,
        description: 'Copy-trading fees',
        metadata: {},
      },
      idempotency: { scope: 'bench-copy-fee-charge', key: journalId, requestHash: journalId },
      actor: systemActor('copy-fees'),
      requestId: ctx.requestId,
      clientId: f.clientId,
    });
  });
  console.log(`\n## copy fees: the settlement job's pass (per follower: spacing of completions) vs the bare journals`);
  printComparison([{ subject, baseline }]);
  console.log(
    `baseline: ${n} journals in ${seconds(baseline.seconds * 1000)} (${fmt(baseline.perSecond)}/s, ${baseline.errors} errors)\t| the job takes ${fmt(subject.seconds / baseline.seconds, 2)}x the time of the journals alone`,
  );
}
