/**
 * The marketplace's statistics served (issue 15) against a real table and the local MT5 Web API server: daily
 * equity snapshots (written directly for known series, or taken by the snapshot job from the platform), the
 * precomputed summary, GET /v1/strategies (sorting, filters, ranked before new, offset cursors), GET
 * /v1/strategies/{id} (statistics and the daily equity curve) and the provider's GET /v1/strategies/{id}/followers.
 *
 * What it proves: the statistics served are domain/copy/statistics.ts's on the stored series (empyrical's
 * convention; the tenant's risk-free rate reaches the Sharpe ratio), formatted to 6 decimals; a deposit or a
 * withdrawal day is not a return; sorting, filters and ranks follow the summaries, new strategies come after ranked
 * ones with no rank; nothing is NaN (no history, one snapshot, no losing day); the provider sees its followers
 * anonymised, their equity and the assets under copy, and nobody else does; the snapshot job writes each account's
 * day once (a re-run, and the scheduled handler the same day, change nothing) and neutralises the day's deposit.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { addDays, strategyRiskScore } from '#domain/copy/marketplace.ts';
import { dailyReturns, type EquityPoint, strategyStatistics } from '#domain/copy/statistics.ts';
import { parseTenantConfig } from '#domain/tenant/config.ts';
import { setTenantConfig, tenantConfig } from '#shared/tenant.ts';
import demo from '../../infra/tenants/demo.json' with { type: 'json' };
import { call, compliance, ctx, uid, usd, useCopyEnv } from '../support/copy.ts';
import { bodyOf, lambdaContext } from '../support/events.ts';

const copy = useCopyEnv({ table: 'copystats', clientPrefix: 'cs', fundingComment: 'funds' });
const client = copy.client;
const approvedStrategy = (amount = 0n, name = 'Stats test') => copy.approvedStrategy({ name }, amount);
const follow = (strategyId: string, amount: bigint) => copy.follower(strategyId, amount, { mode: 'equity_proportional' });

/** Writes an account's daily snapshots as the job would have (each day's cutoff at 22:10 UTC). */
async function writeSeries(accountId: string, series: EquityPoint[]) {
  const { equitySnapshotEntity, putSnapshotIfAbsent } = await import('#store/copy-stats.ts');
  for (const p of series) {
    const at = `${p.date}T22:10:00.000Z`;
    const item = equitySnapshotEntity.item(
      {
        accountId,
        date: p.date,
        currency: 'USD',
        equity: p.equity.toString(),
        netFlow: p.netFlow.toString(),
        flows: p.netFlow === 0n ? 0 : 1,
        equityAt: at,
        flowsUntil: at,
      },
      at,
    );
    expect(await putSnapshotIfAbsent(item)).toBe(true);
  }
}

/** A series of `days` rows ending `endOffset` days before today, from daily returns and flows (minor units). */
function seriesOf(days: number, endOffset: number, ret: (i: number) => number, flow: (i: number) => bigint = () => 0n) {
  const today = todayTenant();
  const out: EquityPoint[] = [];
  let equity = 1_000_000n;
  for (let i = 0; i < days; i++) {
    if (i > 0) equity = BigInt(Math.round(Number(equity) * (1 + ret(i))));
    const f = flow(i);
    equity += f;
    out.push({ date: addDays(today, i - days + 1 - endOffset), equity, netFlow: f });
  }
  return out;
}

const todayTenant = () => new Intl.DateTimeFormat('en-CA', { timeZone: tenantConfig().timezone }).format(new Date());

async function refresh(strategyId: string) {
  const { getStrategy } = await import('#store/copy.ts');
  const { refreshStrategyStatistics } = await import('#app/copy/statistics-refresh.ts');
  return refreshStrategyStatistics({ strategy: (await getStrategy(strategyId))!, day: todayTenant() }, ctx);
}

/** The wire format of a ratio: 6 decimals, null when undefined. */
const fmt = (x: number | null) => (x === null ? null : x.toFixed(6).replace(/^-(0\.0+)$/, '$1'));

type Stats = Record<string, unknown> & { trades: number; followers: number };
type Detail = {
  strategyId: string;
  isNew: boolean;
  ageDays: number;
  statistics: Stats;
  equityCurve: { date: string; equity: string; netFlow: string; return: string | null }[];
};
const detail = async (strategyId: string, claims = compliance()) => {
  const res = await call(copy.strategies, 'GET', '/v1/strategies/{strategyId}', { claims, params: { strategyId } });
  expect(res.statusCode, res.body).toBe(200);
  expect(res.body).not.toMatch(/NaN|Infinity/);
  return bodyOf<Detail>(res);
};
type Listed = { strategyId: string; isNew: boolean; rank: number | null; ageDays: number; statistics: Stats };
const list = async (claims: Record<string, string>, query: Record<string, string>) => {
  const res = await call(copy.strategies, 'GET', '/v1/strategies', { claims, query: { limit: '100', ...query } });
  expect(res.statusCode, res.body).toBe(200);
  return bodyOf<{ items: Listed[]; hasMore: boolean; nextCursor?: string }>(res);
};

const RATIOS = [
  'totalReturn',
  'annualReturn',
  'annualVolatility',
  'sharpeRatio',
  'sortinoRatio',
  'calmarRatio',
  'maxDrawdown',
  'currentDrawdown',
] as const;

afterAll(() => {
  setTenantConfig(parseTenantConfig(demo));
});

describe('statistics served', () => {
  it('equal domain/copy/statistics.ts on a known series, with deposits and withdrawals neutralised', async () => {
    const s = await approvedStrategy();
    // 60 days of returns between -1.5 % and +1.7 %; a deposit on day 10 and a withdrawal on day 25
    const returns = (i: number) => (((i * 7919) % 32) - 15) / 1000;
    const flows = (i: number) => (i === 10 ? 500_000n : i === 25 ? -300_000n : 0n);
    const series = seriesOf(60, 2, returns, flows);
    await writeSeries(s.accountId, series);
    await refresh(s.strategyId);

    const expected = strategyStatistics(series, []);
    const d = await detail(s.strategyId);
    for (const k of RATIOS) expect(d.statistics[k], k).toBe(fmt(expected[k]));
    expect(d.statistics).toMatchObject({
      firstDate: series[0]!.date,
      asOf: series.at(-1)!.date,
      days: 60,
      riskScore: strategyRiskScore(expected.annualVolatility, expected.maxDrawdown),
      trades: 0,
      winRate: null,
      profitFactor: null,
      averageTradeDurationSeconds: null,
      equity: usd((Number(series.at(-1)!.equity) / 100).toFixed(2)),
      riskFreeRateBps: 0,
    });
    expect(d.statistics.sharpeRatio).not.toBeNull();
    expect(d.isNew).toBe(false);
    expect(d.ageDays).toBe(61);

    // the curve: one point per snapshot; a flow day's return is the day's trading only
    const r = dailyReturns(series);
    expect(d.equityCurve.map((p) => p.return)).toEqual(r.map(fmt));
    expect(d.equityCurve[10]).toMatchObject({ netFlow: '5000.00', return: fmt(returns(10)) });
    expect(d.equityCurve[25]).toMatchObject({ netFlow: '-3000.00', return: fmt(returns(25)) });
    expect(Math.abs(Number(d.equityCurve[10]!.return) - returns(10))).toBeLessThan(1e-5);

    // the tenant's risk-free rate reaches the Sharpe ratio (and nothing else)
    setTenantConfig(parseTenantConfig({ ...demo, copy: { riskFreeRateBps: 300 } }));
    try {
      await refresh(s.strategyId);
      const withRf = await detail(s.strategyId);
      expect(withRf.statistics.sharpeRatio).toBe(fmt(strategyStatistics(series, [], { riskFreeRate: 0.03 }).sharpeRatio));
      expect(withRf.statistics.sharpeRatio).not.toBe(d.statistics.sharpeRatio);
      expect(withRf.statistics.sortinoRatio).toBe(d.statistics.sortinoRatio);
      expect(withRf.statistics.riskFreeRateBps).toBe(300);
    } finally {
      setTenantConfig(parseTenantConfig(demo));
    }
  });

  it('nothing is NaN: no history, one snapshot, no losing day, a flat series', async () => {
    const none = await approvedStrategy();
    await refresh(none.strategyId);
    const empty = await detail(none.strategyId);
    for (const k of RATIOS) expect(empty.statistics[k], k).toBeNull();
    expect(empty).toMatchObject({ isNew: true, ageDays: 0, equityCurve: [] });
    expect(empty.statistics).toMatchObject({ days: 0, trades: 0, riskScore: null, equity: null, followers: 0 });

    const one = await approvedStrategy();
    await writeSeries(
      one.accountId,
      seriesOf(1, 1, () => 0),
    );
    await refresh(one.strategyId);
    const single = await detail(one.strategyId);
    expect(single.statistics).toMatchObject({
      days: 1,
      totalReturn: '0.000000',
      maxDrawdown: '0.000000',
      currentDrawdown: '0.000000',
      annualReturn: null,
      annualVolatility: null,
      sharpeRatio: null,
      sortinoRatio: null,
      calmarRatio: null,
      riskScore: null,
    });
    expect(single.equityCurve).toEqual([{ date: addDays(todayTenant(), -1), equity: '10000.00', netFlow: '0.00', return: null }]);

    const up = await approvedStrategy();
    await writeSeries(
      up.accountId,
      seriesOf(5, 1, (i) => 0.001 * i),
    );
    await refresh(up.strategyId);
    const rising = (await detail(up.strategyId)).statistics;
    expect(rising).toMatchObject({ maxDrawdown: '0.000000', sortinoRatio: null, calmarRatio: null });
    expect(rising.sharpeRatio).toMatch(/^\d+\.\d{6}$/);

    const flat = await approvedStrategy();
    await writeSeries(
      flat.accountId,
      seriesOf(5, 1, () => 0),
    );
    await refresh(flat.strategyId);
    expect((await detail(flat.strategyId)).statistics).toMatchObject({
      annualVolatility: '0.000000',
      sharpeRatio: null,
      sortinoRatio: null,
      riskScore: 1,
    });
  });

  it('the marketplace sorts, filters and ranks; new strategies come after ranked ones, without a rank', async () => {
    const steady = await approvedStrategy(0n, 'Steady');
    const bold = await approvedStrategy(0n, 'Bold');
    const young = await approvedStrategy(0n, 'Young');
    const fresh = await approvedStrategy(0n, 'Fresh');
    const steadySeries = seriesOf(40, 1, (i) => [0.002, 0.001, -0.0005][i % 3]!);
    const boldSeries = seriesOf(40, 1, (i) => [0.05, 0.04, -0.06][i % 3]!);
    await writeSeries(steady.accountId, steadySeries);
    await writeSeries(bold.accountId, boldSeries);
    await writeSeries(
      young.accountId,
      seriesOf(10, 1, () => 0.01),
    );
    for (const x of [steady, bold, young, fresh]) await refresh(x.strategyId);
    const a = strategyStatistics(steadySeries, []);
    const b = strategyStatistics(boldSeries, []);
    // the premises: bold returns more, falls further and is riskier
    expect(b.totalReturn!).toBeGreaterThan(a.totalReturn!);
    expect(b.maxDrawdown!).toBeGreaterThan(a.maxDrawdown!);
    const riskA = strategyRiskScore(a.annualVolatility, a.maxDrawdown)!;
    const riskB = strategyRiskScore(b.annualVolatility, b.maxDrawdown)!;
    expect(riskB).toBeGreaterThan(riskA);

    const reader = (await client()).claims;
    const mine = [steady, bold, young, fresh].map((x) => x.strategyId);
    const names = new Map([
      [steady.strategyId, 'steady'],
      [bold.strategyId, 'bold'],
      [young.strategyId, 'young'],
      [fresh.strategyId, 'fresh'],
    ]);
    const order = async (query: Record<string, string>) =>
      (await list(reader, query)).items.filter((i) => mine.includes(i.strategyId)).map((i) => names.get(i.strategyId));

    expect(await order({ sort: 'return' })).toEqual(['bold', 'steady', 'young', 'fresh']);
    expect(await order({ sort: 'max_drawdown' })).toEqual(['steady', 'bold', 'young', 'fresh']);
    expect(await order({ sort: 'max_drawdown', order: 'desc' })).toEqual(['bold', 'steady', 'young', 'fresh']);
    expect(await order({ sort: 'risk' })).toEqual(['steady', 'bold', 'young', 'fresh']);
    expect(await order({ sort: 'return', ranked: 'false' })).toEqual(['young', 'fresh']);
    expect(await order({ sort: 'return', ranked: 'true' })).toEqual(['bold', 'steady']);
    // young's risk class is 1 and its drawdown 0: it passes both bounds (fresh, unknown, passes neither)
    expect(await order({ sort: 'return', riskScoreMax: String(riskA) })).toEqual(['steady', 'young']);
    const ddBound = (Math.ceil(a.maxDrawdown! * 1e6) / 1e6).toFixed(6);
    expect(await order({ sort: 'return', maxDrawdownMax: ddBound })).toEqual(['steady', 'young']);
    expect(await order({ sort: 'return', ageDaysMin: '30' })).toEqual(['bold', 'steady']);
    expect(await order({ sort: 'return', currency: 'EUR' })).toEqual([]);

    // ranks: 1..n over the ranked strategies of this order; new ones have none
    const page = (await list(reader, { sort: 'return' })).items;
    const ranked = page.filter((i) => !i.isNew);
    expect(ranked.map((i) => i.rank)).toEqual(ranked.map((_, n) => n + 1));
    expect(page.filter((i) => i.isNew).every((i) => i.rank === null)).toBe(true);
    expect(page.findIndex((i) => i.isNew)).toBe(ranked.length);
    const byId = new Map(page.map((i) => [i.strategyId, i]));
    expect(byId.get(bold.strategyId)!.rank!).toBeLessThan(byId.get(steady.strategyId)!.rank!);
    expect(byId.get(young.strategyId)).toMatchObject({ isNew: true, rank: null, ageDays: 10 });
    expect(byId.get(fresh.strategyId)).toMatchObject({ isNew: true, rank: null, ageDays: 0 });
    expect(byId.get(steady.strategyId)!.statistics.totalReturn).toBe(fmt(a.totalReturn));

    // pages of one: the same list, in the same order
    const all = (await list(reader, { sort: 'return' })).items.map((i) => i.strategyId);
    const paged: string[] = [];
    let cursor: string | undefined;
    do {
      const p = await list(reader, { sort: 'return', limit: '3', ...(cursor ? { cursor } : {}) });
      paged.push(...p.items.map((i) => i.strategyId));
      cursor = p.nextCursor;
      expect(p.hasMore).toBe(cursor !== undefined);
    } while (cursor);
    expect(paged).toEqual(all);

    // bad input: problem+json 400
    const first = await list(reader, { sort: 'return', limit: '1' });
    const bad = async (query: Record<string, string>) => {
      const res = await call(copy.strategies, 'GET', '/v1/strategies', { claims: reader, query });
      expect(res.statusCode, JSON.stringify(query)).toBe(400);
      const headers = (res as unknown as { headers: Record<string, string> }).headers;
      expect(headers['content-type'] ?? headers['Content-Type']).toMatch(/problem\+json/);
      return bodyOf<{ code: string }>(res).code;
    };
    expect(await bad({ sort: 'sharpe', cursor: first.nextCursor! })).toBe('invalid_cursor');
    expect(await bad({ sort: 'bogus' })).toBe('validation_failed');
    expect(await bad({ riskScoreMax: '11' })).toBe('validation_failed');
    expect(await bad({ maxDrawdownMax: '1.5' })).toBe('validation_failed');
    expect(await bad({ ranked: 'maybe' })).toBe('validation_failed');
  });

  it('the provider sees its followers anonymised, their equity and its assets under copy; nobody else does', async () => {
    const s = await approvedStrategy(10_000_00n);
    const a = await follow(s.strategyId, 2_000_00n);
    const b = await follow(s.strategyId, 3_000_00n);
    const c = await follow(s.strategyId, 1_000_00n);
    const status = (f: { claims: Record<string, string>; subscriptionId: string }, action: string) =>
      call(copy.strategies, 'POST', '/v1/subscriptions/{subscriptionId}/status', {
        claims: f.claims,
        params: { subscriptionId: f.subscriptionId },
        body: { action },
      });
    expect((await status(b, 'pause')).statusCode).toBe(200);
    expect((await status(c, 'stop')).statusCode).toBe(200);

    const followers = (claims: Record<string, string>) =>
      call(copy.strategies, 'GET', '/v1/strategies/{strategyId}/followers', { claims, params: { strategyId: s.strategyId } });
    const res = await followers(s.provider.claims);
    expect(res.statusCode, res.body).toBe(200);
    const body = bodyOf<{
      followers: number;
      assetsUnderCopy: unknown;
      feeIncome: unknown;
      items: { followerId: string; status: string; startedAt: string; equity: unknown }[];
    }>(res);
    // active + paused; their equity read when they started (no daily snapshot yet)
    expect(body).toMatchObject({ followers: 2, assetsUnderCopy: usd('5000.00'), feeIncome: usd('0.00') });
    expect(body.items.map((i) => i.status).sort()).toEqual(['active', 'paused', 'stopped']);
    expect(body.items.find((i) => i.status === 'paused')!.equity).toEqual(usd('3000.00'));
    for (const i of body.items) expect(i.followerId).toMatch(/^f_[0-9a-f]{16}$/);
    expect(new Set(body.items.map((i) => i.followerId)).size).toBe(3);
    for (const f of [a, b, c]) {
      for (const secret of [f.id, f.accountId, f.subscriptionId, String(f.login)]) expect(res.body).not.toContain(secret);
    }
    const onlyActive = bodyOf<{ items: unknown[] }>(
      await call(copy.strategies, 'GET', '/v1/strategies/{strategyId}/followers', {
        claims: s.provider.claims,
        params: { strategyId: s.strategyId },
        query: { status: 'active' },
      }),
    );
    expect(onlyActive.items).toHaveLength(1);

    expect((await followers(compliance())).statusCode).toBe(200);
    const outsider = await followers(a.claims);
    expect(outsider.statusCode).toBe(404);
    expect(bodyOf<{ code: string }>(outsider).code).toBe('strategy_not_found');
  });
});

describe('the daily equity snapshot job', () => {
  it('writes each account’s day once (a re-run and the scheduled handler change nothing) and neutralises a deposit', async () => {
    const { snapshotEquity } = await import('#app/copy/statistics-snapshot.ts');
    const { getSnapshot, getStrategyStats } = await import('#store/copy-stats.ts');
    const s = await approvedStrategy(10_000_00n);
    const f = await follow(s.strategyId, 2_000_00n);

    const first = await snapshotEquity({}, ctx);
    const day1 = addDays(todayTenant(), -1);
    expect(first).toMatchObject({ day: day1, failed: 0 });
    // the series written by the tests above end yesterday: those accounts have the day already
    expect(first.written + first.existing).toBe(first.accounts);
    expect(first.written).toBeGreaterThanOrEqual(2);
    const snap1 = (await getSnapshot(s.accountId, day1))!;
    expect(snap1).toMatchObject({ equity: '1000000', netFlow: '0', flows: 0, version: 1 });
    expect((await getSnapshot(f.accountId, day1))!.equity).toBe('200000');
    const stats1 = (await getStrategyStats(s.strategyId))!;
    expect(stats1).toMatchObject({ refreshedFor: day1, days: 1, followers: 1, assetsUnderCopy: '200000' });

    // the same day again: nothing read, written or refreshed, nothing changed
    const again = await snapshotEquity({}, ctx);
    expect(again).toMatchObject({ day: day1, written: 0, refreshed: 0, failed: 0, existing: first.accounts });
    const { handler } = await import('#functions/jobs/copy-equity-snapshot.ts');
    const scheduled = (await (handler as (e: unknown, c: unknown) => Promise<{ written: number; refreshed: number }>)(
      {},
      lambdaContext(),
    ))!;
    expect(scheduled).toMatchObject({ written: 0, refreshed: 0 });
    expect(await getSnapshot(s.accountId, day1)).toEqual(snap1);
    expect((await getStrategyStats(s.strategyId))!.computedAt).toBe(stats1.computedAt);

    // the next day: a deposit of 5,000.00 and a winning round trip
    await copy.platform.changeBalance({
      login: s.login,
      amount: 5_000_00n,
      type: 'balance',
      comment: 'more',
      externalId: `t_${uid()}`,
    });
    const q = copy.mt5.simulator.quote('EURUSD');
    const open = await copy.platform.marketOrder({ login: s.login, symbol: 'EURUSD', side: 'buy', volume: 10_000n });
    copy.mt5.simulator.setQuote('EURUSD', q.ask + 500n, q.ask + 500n + (q.ask - q.bid));
    await copy.platform.closePosition(s.login, open.positionId);
    copy.mt5.simulator.setQuote('EURUSD', q.bid, q.ask);
    const e2 = (await copy.platform.accountState(s.login)).equity;

    const second = await snapshotEquity({ now: new Date(Date.now() + 86_400_000) }, ctx);
    const day2 = todayTenant();
    expect(second).toMatchObject({ day: day2, failed: 0 });
    expect(await getSnapshot(s.accountId, day2)).toMatchObject({ equity: e2.toString(), netFlow: '500000', flows: 1 });
    expect(await getSnapshot(f.accountId, day2)).toMatchObject({ equity: '200000', netFlow: '0' });

    const d = await detail(s.strategyId);
    const expectedReturn = dailyReturns([
      { date: day1, equity: 1_000_000n, netFlow: 0n },
      { date: day2, equity: e2, netFlow: 500_000n },
    ])[1]!;
    const gain = e2 - 500_000n - 1_000_000n;
    expect(gain).toBeGreaterThan(0n);
    expect(d.equityCurve).toEqual([
      { date: day1, equity: '10000.00', netFlow: '0.00', return: null },
      { date: day2, equity: (Number(e2) / 100).toFixed(2), netFlow: '5000.00', return: fmt(expectedReturn) },
    ]);
    // the day's return is the trade's gain on the prior equity, not the deposit's 50 %
    expect(expectedReturn).toBeCloseTo(Number(gain) / 1_000_000, 12);
    expect(d.statistics).toMatchObject({
      days: 2,
      totalReturn: fmt(expectedReturn),
      trades: 1,
      winRate: '1.000000',
      profitFactor: null,
      netProfit: usd((Number(gain) / 100).toFixed(2)),
      followers: 1,
      assetsUnderCopy: usd('2000.00'),
    });
    expect(d.statistics.averageTradeDurationSeconds).toMatch(/^\d+$/);
  });
});
