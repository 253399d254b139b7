/**
 * Copy-fee settlement against a real table and the local MT5 Web API server (ADR 0017 "Settlement";
 * functions/app/copy/settle-fees.ts). A provider's strategy and followers as in copy-replication.test.ts (both set
 * up by test/support/copy.ts); the follower's trading result is made on its copy account on the simulator (a
 * 0.1-lot EURUSD buy closed N points up: N x 0.10 USD, exactly), so every fee is known to the cent.
 *
 * What it proves: a monthly settlement charges the performance fee exactly on the high-water mark (1,000.00 ->
 * 1,100.00 at 20 %: 20.00, mark 1,080.00) and a second one without new profit charges nothing; the money moved on the
 * platform (one 'charge' operation, the follower's balance down) and in the ledger (one balanced journal: the copy
 * account's tacc_ -20.00, the provider's wallet +16.00, the broker's fee income +4.00 at a 20 % broker share); the
 * follower and the provider read it; a withdrawal takes the fees first, lowers the mark by the amount, and one larger
 * than the equity after fees is refused before anything moves; the same charge point run again, and concurrently,
 * charges once; a crash after the platform operation and before the commit is recovered from the platform
 * (findBalanceOperation by the charge id) without a second operation; the tenant's caps hold; a stop makes the final
 * charge and a restarted copy keeps the mark; the daily job accrues management and charges volume on copied deals.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import type { QueuedSignal, SignalQueue } from '#app/copy/messages.ts';
import { parseTenantConfig } from '#domain/tenant/config.ts';
import { setTenantConfig } from '#shared/tenant.ts';
import demo from '../../infra/tenants/demo.json' with { type: 'json' };
import { type Claims, call, ctx, FEES_20, type StrategyFees, uid, usd, useCopyEnv } from '../support/copy.ts';
import { bodyOf, claimsFor, lambdaContext } from '../support/events.ts';

const MONTH = 31 * 86_400_000;

/** The tenant's copy settings (fee caps, broker share) for what follows. */
function copySettings(settings: Record<string, unknown>) {
  setTenantConfig(parseTenantConfig({ ...demo, copy: settings }));
}

const copy = useCopyEnv({ table: 'copyfees', clientPrefix: 'cf', configure: () => copySettings({ brokerShareBps: 2000 }) });
const approvedStrategy = (fees: StrategyFees = FEES_20) => copy.approvedStrategy({ name: 'Fee test', fees }, 10_000_00n);
const subscribe = (f: { claims: Claims }, strategyId: string, accountId: string, volume = '1000') =>
  copy.subscribe(f, strategyId, accountId, { mode: 'fixed_volume', volume });
const follower = (strategyId: string, amount: bigint, volume = '1000') =>
  copy.follower(strategyId, amount, { mode: 'fixed_volume', volume });

/** A trading result on the account: a 0.1-lot EURUSD buy closed `points` away (points x 0.10 USD, exactly). */
async function tradeResult(login: number, points: bigint) {
  const q = copy.mt5.simulator.quote('EURUSD');
  const fill = await copy.platform.marketOrder({ login, symbol: 'EURUSD', side: 'buy', volume: 1_000n });
  copy.mt5.simulator.setQuote('EURUSD', fill.price + points, fill.price + points + (q.ask - q.bid));
  await copy.platform.closePosition(login, fill.positionId);
  copy.mt5.simulator.setQuote('EURUSD', q.bid, q.ask);
}

const state = (login: number) => copy.platform.accountState(login);
const feeState = async (subscriptionId: string) => (await import('#store/copy-fees.ts')).getFeeState(subscriptionId);
const settle = async (input: Parameters<typeof import('#app/copy/settle-fees.ts').settleFees>[0], now?: Date) =>
  (await import('#app/copy/settle-fees.ts')).settleFees(input, { ...ctx, ...(now ? { now } : {}) });
/** Just after the subscription's next anniversary. */
const afterAnniversary = async (subscriptionId: string) =>
  new Date(Date.parse((await feeState(subscriptionId))!.nextAnniversaryAt) + 1000);

async function chargesOf(subscriptionId: string) {
  const { listSubscriptionCharges } = await import('#store/copy-fees.ts');
  return (await listSubscriptionCharges(subscriptionId, { limit: 100 })).items;
}

/** The platform's 'charge' operations of a login (the deal stream is not needed: the simulator's own deals). */
const chargeOps = (login: number) => copy.mt5.simulator.deals(login).filter((d) => d.action === 'charge');

async function ledgerBalance(accountId: string): Promise<bigint> {
  const { getBalance, getAccount } = await import('#store/ledger/index.ts');
  if (!(await getAccount(accountId))) return 0n;
  return (await getBalance(accountId)).ledger;
}

describe('the monthly settlement', () => {
  it('charges 20 % of the gain over the high-water mark, moves the money on the platform and in the ledger, and once only', async () => {
    const s = await approvedStrategy();
    const f = await follower(s.strategyId, 1_000_00n);
    expect(await feeState(f.subscriptionId)).toMatchObject({ mark: '100000', failures: 0 });
    await tradeResult(f.login, 1000n); // +100.00
    expect((await state(f.login)).equity).toBe(1_100_00n);

    const { walletId, houseAccountId } = await import('#store/ledger/index.ts');
    const providerWallet = walletId(s.provider.id, 'USD');
    const income = houseAccountId('fee_income', 'USD');
    const before = { wallet: await ledgerBalance(providerWallet), income: await ledgerBalance(income) };

    // the daily job, on the day after the anniversary
    const now = await afterAnniversary(f.subscriptionId);
    const { runFeeSettlement } = await import('#app/copy/settle-fees.ts');
    const run = await runFeeSettlement({}, { ...ctx, now });
    expect(run).toMatchObject({ charged: 1, failed: 0, refused: 0 });

    const [charge] = await chargesOf(f.subscriptionId);
    expect(charge).toMatchObject({
      point: 'anniversary',
      status: 'completed',
      fees: { performance: '2000', management: '0', volume: '0', subscription: '0', total: '2000' },
      split: { provider: '1600', broker: '400', brokerShareBps: 2000 },
      inputs: { equityBefore: '110000', equityAfter: '108000', markBefore: '100000', markAfter: '108000', gain: '10000' },
    });
    expect(charge!.periodEnd).toBe(new Date(now.getTime() - 1000).toISOString());
    expect(await feeState(f.subscriptionId)).toMatchObject({ mark: '108000', lastChargeId: charge!.chargeId });
    expect((await feeState(f.subscriptionId))!.busyWith).toBeUndefined();

    // the platform: one charge operation with the charge id, the follower's balance down by 20.00
    expect((await state(f.login)).balance).toBe(1_080_00n);
    expect(chargeOps(f.login)).toMatchObject([{ profit: -2000n }]);
    expect(await copy.platform.findBalanceOperation(f.login, charge!.chargeId)).toMatchObject({ ticket: charge!.ticket });

    // the ledger: one balanced journal, tacc_ -20.00, provider +16.00, broker +4.00
    const { getJournal } = await import('#store/ledger/index.ts');
    const journal = await getJournal(charge!.journalId!);
    expect(journal).toBeDefined();
    const postings = journal!.postings.map((p) => [p.accountId, p.amount]);
    expect(postings).toEqual(
      expect.arrayContaining([
        [`tacc_${f.accountId}`, -2000n],
        [providerWallet, 1600n],
        [income, 400n],
      ]),
    );
    expect(journal!.postings.reduce((sum, p) => sum + p.amount, 0n)).toBe(0n);
    expect(await ledgerBalance(providerWallet)).toBe(before.wallet + 1600n);
    expect(await ledgerBalance(income)).toBe(before.income + 400n);
    expect(await ledgerBalance(`tacc_${f.accountId}`)).toBe(-2000n);

    // published and audited
    const { pendingOutboxItems } = await import('#store/outbox.ts');
    const events: Record<string, unknown>[] = [];
    for await (const page of pendingOutboxItems(new Date(Date.now() + 1000))) {
      for (const item of page) if (item.detailType === 'copy.fee.charged') events.push(item.detail);
    }
    expect(events.filter((e) => e.chargeId === charge!.chargeId)).toMatchObject([
      { total: '20.00', performance: '20.00', providerShare: '16.00', brokerShare: '4.00', point: 'anniversary' },
    ]);

    // a second settlement a month later, without new profit: nothing
    const later = new Date(now.getTime() + MONTH);
    expect(await settle({ subscriptionId: f.subscriptionId, point: 'anniversary' }, later)).toMatchObject({
      outcome: 'nothing_due',
    });
    expect(await chargesOf(f.subscriptionId)).toHaveLength(1);
    expect((await state(f.login)).balance).toBe(1_080_00n);
    expect((await feeState(f.subscriptionId))!.mark).toBe('108000');

    // what the follower and the provider read
    const mine = await call(copy.strategies, 'GET', '/v1/subscriptions/{subscriptionId}/charges', {
      claims: f.claims,
      params: { subscriptionId: f.subscriptionId },
    });
    expect(mine.statusCode, mine.body).toBe(200);
    expect(bodyOf<{ items: unknown[] }>(mine).items).toMatchObject([
      {
        chargeId: charge!.chargeId,
        point: 'anniversary',
        status: 'completed',
        fees: { performance: usd('20.00'), total: usd('20.00') },
        equity: { before: usd('1100.00'), after: usd('1080.00') },
        highWaterMark: { before: usd('1000.00'), after: usd('1080.00') },
      },
    ]);
    const income2 = await call(copy.strategies, 'GET', '/v1/strategies/{strategyId}/fees', {
      claims: s.provider.claims,
      params: { strategyId: s.strategyId },
    });
    expect(income2.statusCode, income2.body).toBe(200);
    expect(bodyOf<{ items: unknown[] }>(income2).items).toMatchObject([
      { chargeId: charge!.chargeId, total: usd('20.00'), providerShare: usd('16.00'), brokerShare: usd('4.00') },
    ]);
    const staff = await call(copy.strategies, 'GET', '/v1/strategies/{strategyId}/fees', {
      claims: claimsFor(`staff-${uid()}`, ['finance']),
      params: { strategyId: s.strategyId },
    });
    expect(staff.statusCode).toBe(200);
    // nobody else
    expect(
      (
        await call(copy.strategies, 'GET', '/v1/strategies/{strategyId}/fees', {
          claims: f.claims,
          params: { strategyId: s.strategyId },
        })
      ).statusCode,
    ).toBe(404);
    expect(
      (
        await call(copy.strategies, 'GET', '/v1/subscriptions/{subscriptionId}/charges', {
          claims: s.provider.claims,
          params: { subscriptionId: f.subscriptionId },
        })
      ).statusCode,
    ).toBe(404);

    // the daily reconciliation knows the charge: no finding names it
    const { reconcileAccount } = await import('#app/trading/reconcile-accounts.ts');
    const { getTradingAccount } = await import('#store/trading.ts');
    const { ingestDeals } = await import('#app/trading/ingest-deals.ts');
    await ingestDeals({ platform: 'mt5' }, ctx);
    const findings = await reconcileAccount((await getTradingAccount(f.accountId))!);
    expect(findings.filter((x) => x.subject === charge!.chargeId || x.code === 'ledger_differs')).toEqual([]);
  });

  it('the same charge point run again, and concurrently, charges once', async () => {
    const s = await approvedStrategy();
    const f = await follower(s.strategyId, 1_000_00n);
    await tradeResult(f.login, 1000n);
    const now = await afterAnniversary(f.subscriptionId);
    const runs = await Promise.all([1, 2, 3].map(() => settle({ subscriptionId: f.subscriptionId, point: 'anniversary' }, now)));
    expect(runs.filter((r) => r.outcome === 'charged')).toHaveLength(1);
    for (const r of runs) expect(['charged', 'busy', 'not_due']).toContain(r.outcome);
    // and again, sequentially
    expect(await settle({ subscriptionId: f.subscriptionId, point: 'anniversary' }, now)).toMatchObject({ outcome: 'not_due' });
    expect(await chargesOf(f.subscriptionId)).toMatchObject([{ status: 'completed', fees: { total: '2000' } }]);
    expect(chargeOps(f.login)).toHaveLength(1);
    expect((await state(f.login)).balance).toBe(1_080_00n);
  });

  it('recovers a charge whose process crashed after the platform operation: found by its id, never sent twice', async () => {
    const s = await approvedStrategy();
    const f = await follower(s.strategyId, 1_000_00n);
    await tradeResult(f.login, 1000n);
    const now = await afterAnniversary(f.subscriptionId);
    const { faults } = await import('#app/copy/settle-fees.ts');
    faults.afterPlatform = () => {
      throw new Error('crash after the platform operation');
    };
    await expect(settle({ subscriptionId: f.subscriptionId, point: 'anniversary' }, now)).rejects.toThrow('crash after');
    faults.afterPlatform = undefined;
    // the money left on the platform; the charge is pending and holds the fee state
    expect((await state(f.login)).balance).toBe(1_080_00n);
    const [pending] = await chargesOf(f.subscriptionId);
    expect(pending).toMatchObject({ status: 'pending' });
    expect(await feeState(f.subscriptionId)).toMatchObject({ busyWith: pending!.chargeId, mark: '100000' });

    // its lease is held: another run waits rather than asking the platform
    expect(await settle({ subscriptionId: f.subscriptionId, point: 'anniversary' }, now)).toMatchObject({ outcome: 'busy' });
    // the lease expires (the crashed process is gone): the next run finds the operation by the charge id
    const { ddb } = await import('#shared/clients.ts');
    const { copyFeeKeys } = await import('#store/keys.ts');
    await ddb().send(
      new UpdateCommand({
        TableName: process.env.TABLE_NAME,
        Key: copyFeeKeys.charge(pending!.chargeId),
        UpdateExpression: 'SET leaseUntil = :z',
        ExpressionAttributeValues: { ':z': 0 },
      }),
    );
    const recovered = await settle({ subscriptionId: f.subscriptionId, point: 'anniversary' }, now);
    expect(recovered).toMatchObject({ outcome: 'charged', charge: { chargeId: pending!.chargeId, status: 'completed' } });
    expect(chargeOps(f.login)).toHaveLength(1);
    expect((await state(f.login)).balance).toBe(1_080_00n);
    expect(await feeState(f.subscriptionId)).toMatchObject({ mark: '108000' });
    expect((await feeState(f.subscriptionId))!.busyWith).toBeUndefined();
    expect(await ledgerBalance(`tacc_${f.accountId}`)).toBe(-2000n);
  });
});

describe('a withdrawal from a copy account', () => {
  it('takes the fees first and lowers the mark by the amount; one larger than the equity after fees moves nothing', async () => {
    const s = await approvedStrategy();
    const f = await follower(s.strategyId, 1_000_00n);
    const { ensureWallet } = await import('#store/ledger/index.ts');
    const { systemActor } = await import('#store/audit.ts');
    await ensureWallet(f.id, 'USD', { actor: systemActor('test'), requestId: 'test' });
    await tradeResult(f.login, 1000n); // equity 1,100.00, mark 1,000.00: 20.00 due

    const withdraw = (amount: string, key?: string) =>
      call(copy.trading, 'POST', '/v1/trading-accounts/{accountId}/transfers', {
        claims: f.claims,
        params: { accountId: f.accountId },
        body: { direction: 'withdrawal', amount: usd(amount) },
        ...(key ? { key } : {}),
      });
    // 1,090.00 is more than the 1,080.00 left after the fees: refused before anything moves
    const tooMuch = await withdraw('1090.00');
    expect(tooMuch.statusCode, tooMuch.body).toBe(422);
    expect(bodyOf<{ code: string }>(tooMuch).code).toBe('withdrawal_exceeds_equity');
    expect(await chargesOf(f.subscriptionId)).toEqual([]);
    expect((await state(f.login)).balance).toBe(1_100_00n);

    const key = uid();
    const res = await withdraw('500.00', key);
    expect(res.statusCode, res.body).toBe(201);
    expect(bodyOf<{ status: string }>(res).status).toBe('completed');
    const [charge] = await chargesOf(f.subscriptionId);
    expect(charge).toMatchObject({
      point: 'withdrawal',
      status: 'completed',
      withdrawal: '50000',
      fees: { performance: '2000', total: '2000' },
      inputs: { markBefore: '100000', markAfter: '108000', markAfterWithdrawal: '58000' },
    });
    // 1,100.00 - 20.00 fees - 500.00 withdrawn; the mark 1,080.00 - 500.00
    expect((await state(f.login)).balance).toBe(580_00n);
    const fs = await feeState(f.subscriptionId);
    expect(fs).toMatchObject({ mark: '58000' });
    expect(fs!.busyWith).toBeUndefined();

    // the same request again: the same transfer, no second charge
    const again = await withdraw('500.00', key);
    expect(again.statusCode, again.body).toBeLessThan(300);
    expect(await chargesOf(f.subscriptionId)).toHaveLength(1);
    expect((await state(f.login)).balance).toBe(580_00n);

    // a deposit raises the mark by its amount; new profit above it is charged at the anniversary, the old never again
    const { walletId, getBalance } = await import('#store/ledger/index.ts');
    expect((await getBalance(walletId(f.id, 'USD'))).ledger).toBe(500_00n);
    const dep = await call(copy.trading, 'POST', '/v1/trading-accounts/{accountId}/transfers', {
      claims: f.claims,
      params: { accountId: f.accountId },
      body: { direction: 'deposit', amount: usd('200.00') },
    });
    expect(dep.statusCode, dep.body).toBe(201);
    expect((await feeState(f.subscriptionId))!.mark).toBe('78000');
    await tradeResult(f.login, 500n); // +50.00: equity 830.00
    const now = await afterAnniversary(f.subscriptionId);
    expect(await settle({ subscriptionId: f.subscriptionId, point: 'anniversary' }, now)).toMatchObject({
      outcome: 'charged',
      charge: { fees: { performance: '1000' }, inputs: { markBefore: '78000', equityBefore: '83000', markAfter: '82000' } },
    });
  });
});

describe('tenant caps', () => {
  it('a rate over a lowered cap is charged at the cap, and the subscription fee at its cap', async () => {
    const s = await approvedStrategy({
      performanceBps: 3000,
      managementBpsPerYear: 0,
      volumePerMillion: '0.00',
      subscriptionPerMonth: '5.00',
    });
    const f = await follower(s.strategyId, 1_000_00n);
    copySettings({ brokerShareBps: 2000, maxPerformanceBps: 1000, maxSubscriptionPerMonth: { USD: '300' } });
    try {
      // the subscription fee of the first period, in advance, by the daily charge: 3.00, not 5.00
      const daily = await settle({ subscriptionId: f.subscriptionId, point: 'daily' });
      expect(daily).toMatchObject({
        outcome: 'charged',
        charge: {
          point: 'daily',
          fees: { subscription: '300', total: '300' },
          inputs: { capped: ['performanceBps', 'subscriptionPerMonth'] },
        },
      });
      expect(await settle({ subscriptionId: f.subscriptionId, point: 'daily' })).toMatchObject({ outcome: 'nothing_due' });
      await tradeResult(f.login, 1000n); // +100.00 on 997.00
      const now = await afterAnniversary(f.subscriptionId);
      const r = await settle({ subscriptionId: f.subscriptionId, point: 'anniversary' }, now);
      // 10 % (the cap), not 30 %, of 1,097.00 - 3.00 (the next period's subscription fee) - 1,000.00 = 94.00: 9.40
      expect(r).toMatchObject({
        outcome: 'charged',
        charge: { fees: { performance: '940', subscription: '300', total: '1240' }, inputs: { rates: { performanceBps: 1000 } } },
      });
      expect((await state(f.login)).balance).toBe(1_000_00n - 300n + 100_00n - 1240n);
    } finally {
      copySettings({ brokerShareBps: 2000 });
    }
  });
});

describe('stop and restart', () => {
  it('a stop makes the final charge; a restarted copy of the same pair keeps the mark', async () => {
    const s = await approvedStrategy();
    const f = await follower(s.strategyId, 1_000_00n);
    await tradeResult(f.login, -1000n); // -100.00: equity 900.00, mark 1,000.00
    const stop = await call(copy.strategies, 'POST', '/v1/subscriptions/{subscriptionId}/status', {
      claims: f.claims,
      params: { subscriptionId: f.subscriptionId },
      body: { action: 'stop' },
    });
    expect(stop.statusCode, stop.body).toBe(200);
    // the consumer of copy.subscription.changed
    const { handler } = await import('#functions/workers/copy-fees.ts');
    const event = {
      id: uid(),
      'detail-type': 'copy.subscription.changed',
      detail: {
        subscriptionId: f.subscriptionId,
        strategyId: s.strategyId,
        providerClientId: s.provider.id,
        followerClientId: f.id,
        followerAccountId: f.accountId,
        mode: 'fixed_volume',
        status: 'stopped',
        reason: 'stopped_by_follower',
        closePositions: true,
        eventId: uid(),
        eventVersion: 1,
      },
    };
    expect(await (handler as (e: unknown, c: unknown) => Promise<unknown>)(event, lambdaContext())).toEqual({
      outcome: 'nothing_due',
    });
    expect(await (handler as (e: unknown, c: unknown) => Promise<unknown>)(event, lambdaContext())).toEqual({
      outcome: 'closed',
    });
    const closed = await feeState(f.subscriptionId);
    expect(closed!.closedAt).toBeDefined();
    const { getFeePair } = await import('#store/copy-fees.ts');
    expect(await getFeePair(s.strategyId, f.id)).toMatchObject({ carry: '10000', carriedFrom: f.subscriptionId });

    // restarted on the same account: the mark is 900.00 + the 100.00 not recovered = 1,000.00, not 900.00
    const again = await subscribe(f, s.strategyId, f.accountId);
    expect(await feeState(again)).toMatchObject({ mark: '100000', carriedIn: '10000' });
    expect(await getFeePair(s.strategyId, f.id)).toMatchObject({ carry: '0', takenBy: again });
    await tradeResult(f.login, 1500n); // +150.00: equity 1,050.00
    const now = await afterAnniversary(again);
    // 20 % of 50.00 above the kept mark, not of 150.00
    expect(await settle({ subscriptionId: again, point: 'anniversary' }, now)).toMatchObject({
      outcome: 'charged',
      charge: { fees: { performance: '1000' }, inputs: { markBefore: '100000', markAfter: '104000' } },
    });

    // a stop with a gain: the final charge takes it
    await tradeResult(f.login, 1000n); // +100.00: equity 1,140.00 over the mark 1,040.00
    const stopped = await call(copy.strategies, 'POST', '/v1/subscriptions/{subscriptionId}/status', {
      claims: f.claims,
      params: { subscriptionId: again },
      body: { action: 'stop' },
    });
    expect(stopped.statusCode).toBe(200);
    const final = await (await import('#app/copy/settle-fees.ts')).settleStoppedCopy({ subscriptionId: again }, ctx);
    expect(final).toMatchObject({ outcome: 'charged', charge: { point: 'stop', fees: { performance: '2000' } } });
    expect((await feeState(again))!.closedAt).toBeDefined();
    expect(await getFeePair(s.strategyId, f.id)).toMatchObject({ carry: '0' });
  });
});

describe('the daily job', () => {
  it('accrues the management fee day by day and charges it with the volume fee of the copied deals', async () => {
    const s = await approvedStrategy({
      performanceBps: 0,
      managementBpsPerYear: 200,
      volumePerMillion: '50.00',
      subscriptionPerMonth: '0.00',
    });
    const f = await follower(s.strategyId, 2_000_00n, '1000');
    // the provider trades one lot; the follower copies it (open and close), the deal stream stores its deals
    const { fanOutDeal } = await import('#app/copy/fan-out.ts');
    const { replicate } = await import('#app/copy/replicate.ts');
    const { CopySignalSchema } = await import('#app/copy/messages.ts');
    const { ingestDeals } = await import('#app/trading/ingest-deals.ts');
    const { pendingOutboxItems, markPublished } = await import('#store/outbox.ts');
    const copyNew = async () => {
      await ingestDeals({ platform: 'mt5' }, ctx);
      for await (const page of pendingOutboxItems(new Date(Date.now() + 1000))) {
        for (const item of page) {
          if (item.detailType !== 'trading.position.opened' && item.detailType !== 'trading.deal.closed') continue;
          await markPublished(item.eventId);
          if (item.detail.login !== s.login) continue;
          const sent: QueuedSignal[] = [];
          const q: SignalQueue = { send: async (m) => void sent.push(...m) };
          const kind = item.detailType === 'trading.position.opened' ? 'open' : 'close';
          await fanOutDeal({ kind, deal: { ...item.detail, eventId: item.eventId } as never }, ctx, q);
          for (const m of sent) {
            for (const r of await replicate(CopySignalSchema.parse(JSON.parse(m.body)), ctx)) expect(r.status).toBe('filled');
          }
        }
      }
      await ingestDeals({ platform: 'mt5' }, ctx);
    };
    const open = await copy.platform.marketOrder({ login: s.login, symbol: 'EURUSD', side: 'buy', volume: 10_000n });
    await copyNew();
    await copy.platform.closePosition(s.login, open.positionId);
    await copyNew();
    expect(await copy.platform.positions(f.login)).toEqual([]);
    const { accountDeals } = await import('#store/trading.ts');
    let notional = 0n;
    for await (const page of accountDeals(f.accountId))
      for (const d of page) if ((d.action === 'buy' || d.action === 'sell') && d.notional) notional += BigInt(d.notional);
    expect(notional).toBeGreaterThan(0n);
    const equity = (await state(f.login)).equity;

    const { runFeeSettlement } = await import('#app/copy/settle-fees.ts');
    const fs0 = (await feeState(f.subscriptionId))!;
    const day = (n: number) => new Date(Date.parse(`${fs0.lastAccrualDay}T12:00:00Z`) + n * 86_400_000);
    await runFeeSettlement({}, { ...ctx, now: day(1) });
    await runFeeSettlement({}, { ...ctx, now: day(1) }); // the same day again: nothing more
    await runFeeSettlement({}, { ...ctx, now: day(2) });
    // two days at 2 %/365 on the equity: numerator equity x 200 per day
    expect((await feeState(f.subscriptionId))!.managementAccrued).toBe((2n * equity * 200n).toString());

    // at the anniversary the job accrues the days up to it, then charges
    const { volumeFee, managementFee } = await import('#domain/copy/fees.ts');
    const { daysBetween, utcDay } = await import('#domain/copy/settlement.ts');
    const now = await afterAnniversary(f.subscriptionId);
    const days = BigInt(daysBetween(fs0.lastAccrualDay, utcDay(now.getTime())));
    const expectedVolume = volumeFee(notional, 5000n, 'USD');
    const expectedManagement = managementFee(days * equity * 200n, equity - expectedVolume).fee;
    expect(expectedManagement).toBeGreaterThan(0n);
    const run = await runFeeSettlement({}, { ...ctx, now });
    expect(run.failed).toBe(0);
    const charges = await chargesOf(f.subscriptionId);
    expect(charges).toHaveLength(1);
    expect(charges[0]).toMatchObject({
      point: 'anniversary',
      status: 'completed',
      fees: {
        volume: expectedVolume.toString(),
        management: expectedManagement.toString(),
        total: (expectedVolume + expectedManagement).toString(),
      },
      inputs: { volumeNotional: notional.toString() },
    });
    expect((await state(f.login)).balance).toBe(equity - expectedVolume - expectedManagement);
  });
});
