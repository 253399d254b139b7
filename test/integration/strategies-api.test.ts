/**
 * Copy-trading strategies over their routes against a real table, with live accounts opened on the local MT5 Web
 * API server: a provider submits a live account (pending review, not listed, 404 to other clients), compliance
 * approves it (listed), hides it (not listed) and shows it again; the refusals: fees over the caps, a demo
 * account, an account that already backs a strategy, another client's account, a decision the status does not
 * allow, a role that may not moderate, a missing reason. Then following: a funded live copy account follows an
 * approved strategy, pauses, resumes and stops (releasing the account), and the refusals of a follow.
 */
import { describe, expect, it } from 'vitest';
import { call, type Res, uid, useCopyEnv } from '../support/copy.ts';
import { apiEvent, bodyOf, claimsFor, lambdaContext } from '../support/events.ts';

const copy = useCopyEnv({ table: 'strategies', clientPrefix: 'st' });
const provider = copy.client;
const account = copy.openAccount;

const strategyBody = (accountId: string, over: Record<string, unknown> = {}) => ({
  ...copy.strategyBody(accountId, {
    name: 'Steady EURUSD',
    description: 'Intraday EURUSD, at most 1:10 effective',
    fees: { performanceBps: 2000, managementBpsPerYear: 200, volumePerMillion: '5.00', subscriptionPerMonth: '0.00' },
    minInvestment: '500.00',
  }),
  ...over,
});

const listed = async (claims: Record<string, string>) =>
  bodyOf<{ items: { strategyId: string }[] }>(
    await call(copy.strategies, 'GET', '/v1/strategies', { claims, query: { limit: '100' } }),
  ).items.map((s) => s.strategyId);

describe('strategies', () => {
  it('submitted, moderated, listed, hidden and shown again', async () => {
    const p = await provider();
    const other = await provider();
    const compliance = claimsFor(`staff-${uid()}`, ['compliance']);
    const acc = await account(p.claims);
    const res = await call(copy.strategies, 'POST', '/v1/strategies', { claims: p.claims, body: strategyBody(acc) });
    expect(res.statusCode, res.body).toBe(201);
    const s = bodyOf<{ strategyId: string; status: string; isNew: boolean }>(res);
    expect(s).toMatchObject({ status: 'pending_review', isNew: true });
    expect(await listed(other.claims)).not.toContain(s.strategyId);
    const params = { strategyId: s.strategyId };
    expect((await call(copy.strategies, 'GET', '/v1/strategies/{strategyId}', { claims: other.claims, params })).statusCode).toBe(
      404,
    );
    expect((await call(copy.strategies, 'GET', '/v1/strategies/{strategyId}', { claims: p.claims, params })).statusCode).toBe(
      200,
    );

    const decide = (decision: string, claims = compliance, reason: string | null = 'Track record and disclosures checked') =>
      call(copy.strategies, 'POST', '/v1/admin/strategies/{strategyId}/decision', {
        claims,
        params,
        body: { decision, ...(reason !== null ? { reason } : {}) },
      });
    expect((await decide('approve', claimsFor(`staff-${uid()}`, ['sales']))).statusCode).toBe(403);
    expect((await decide('approve', compliance, null)).statusCode).toBe(400);
    const approved = await decide('approve');
    expect(approved.statusCode, approved.body).toBe(200);
    expect(await listed(other.claims)).toContain(s.strategyId);
    expect((await call(copy.strategies, 'GET', '/v1/strategies/{strategyId}', { claims: other.claims, params })).statusCode).toBe(
      200,
    );
    const reject = await decide('reject');
    expect(reject.statusCode).toBe(409);
    expect(bodyOf<{ code: string }>(reject).code).toBe('strategy_decision_not_allowed');
    expect((await decide('hide')).statusCode).toBe(200);
    expect(await listed(other.claims)).not.toContain(s.strategyId);
    expect((await decide('show')).statusCode).toBe(200);
    expect(await listed(other.claims)).toContain(s.strategyId);
  });

  it('refusals: fees over the caps, a demo account, an account already a strategy, another client’s account', async () => {
    const p = await provider();
    const other = await provider();
    const live = await account(p.claims);
    const demo = await account(p.claims, 'demo');
    const submit = (claims: Record<string, string>, body: unknown) =>
      call(copy.strategies, 'POST', '/v1/strategies', { claims, body });
    const code = async (r: Promise<Res>) => {
      const res = await r;
      return [res.statusCode, bodyOf<{ code: string }>(res).code];
    };
    expect(
      await code(submit(p.claims, strategyBody(live, { fees: { ...strategyBody(live).fees, performanceBps: 6000 } }))),
    ).toEqual([422, 'performance_fee_over_cap']);
    expect(
      await code(submit(p.claims, strategyBody(live, { fees: { ...strategyBody(live).fees, managementBpsPerYear: 1500 } }))),
    ).toEqual([422, 'management_fee_over_cap']);
    expect(await code(submit(p.claims, strategyBody(live, { minInvestment: { amount: '500.00', currency: 'EUR' } })))).toEqual([
      422,
      'currency_mismatch',
    ]);
    expect(await code(submit(p.claims, strategyBody(demo)))).toEqual([422, 'strategy_needs_live_account']);
    expect(await code(submit(other.claims, strategyBody(live)))).toEqual([404, 'trading_account_not_found']);
    expect((await submit(p.claims, strategyBody(live))).statusCode).toBe(201);
    expect(await code(submit(p.claims, strategyBody(live, { name: 'Second try' })))).toEqual([409, 'account_already_a_strategy']);
  });
});

describe('following', () => {
  async function approvedStrategy(): Promise<{ strategyId: string; provider: Awaited<ReturnType<typeof provider>> }> {
    const p = await provider();
    const acc = await account(p.claims);
    const res = await call(copy.strategies, 'POST', '/v1/strategies', { claims: p.claims, body: strategyBody(acc) });
    const { strategyId } = bodyOf<{ strategyId: string }>(res);
    await copy.approve(strategyId);
    return { strategyId, provider: p };
  }

  async function fundedCopyAccount(claims: Record<string, string>, amount: bigint): Promise<string> {
    return (await copy.fundedAccount(claims, amount)).accountId;
  }

  const followBody = (accountId: string, allocation: Record<string, unknown> = { mode: 'equity_proportional' }) => ({
    accountId,
    allocation,
    protections: { maxDrawdownBps: 3000, copyStops: true },
  });

  it('a funded copy account follows, pauses, resumes and stops; the account is free again after the stop', async () => {
    const { strategyId } = await approvedStrategy();
    const f = await provider();
    const acc = await fundedCopyAccount(f.claims, 1_000_00n);
    const res = await call(copy.strategies, 'POST', '/v1/strategies/{strategyId}/subscriptions', {
      claims: f.claims,
      params: { strategyId },
      body: followBody(acc),
    });
    expect(res.statusCode, res.body).toBe(201);
    const sub = bodyOf<{ subscriptionId: string; status: string; protections: Record<string, unknown> }>(res);
    expect(sub).toMatchObject({ status: 'active', protections: { maxDrawdownBps: 3000, copyStops: true } });
    const params = { subscriptionId: sub.subscriptionId };
    const act = (action: string, claims = f.claims) =>
      call(copy.strategies, 'POST', '/v1/subscriptions/{subscriptionId}/status', { claims, params, body: { action } });
    expect(bodyOf<{ status: string }>(await act('pause')).status).toBe('paused');
    expect(bodyOf<{ code: string }>(await act('pause')).code).toBe('subscription_change_not_allowed');
    expect((await act('resume', (await provider()).claims)).statusCode).toBe(404);
    expect(bodyOf<{ status: string }>(await act('resume')).status).toBe('active');
    const second = await call(copy.strategies, 'POST', '/v1/strategies/{strategyId}/subscriptions', {
      claims: f.claims,
      params: { strategyId },
      body: followBody(acc),
    });
    expect(bodyOf<{ code: string }>(second).code).toBe('account_already_copying');
    expect(bodyOf<{ status: string }>(await act('stop')).status).toBe('stopped');
    const again = await call(copy.strategies, 'POST', '/v1/strategies/{strategyId}/subscriptions', {
      claims: f.claims,
      params: { strategyId },
      body: followBody(acc),
    });
    expect(again.statusCode, again.body).toBe(201);
    const mine = bodyOf<{ items: { status: string }[] }>(
      await call(copy.strategies, 'GET', '/v1/subscriptions', { claims: f.claims }),
    );
    expect(mine.items.map((i) => i.status).sort()).toEqual(['active', 'stopped']);
  });

  it('refusals: own strategy, minimum investment, missing allocation parameter, an unknown strategy', async () => {
    const { strategyId, provider: p } = await approvedStrategy();
    const f = await provider();
    const poor = await fundedCopyAccount(f.claims, 100_00n);
    const rich = await fundedCopyAccount(f.claims, 1_000_00n);
    const followWith = (claims: Record<string, string>, body: unknown, id = strategyId) =>
      call(copy.strategies, 'POST', '/v1/strategies/{strategyId}/subscriptions', { claims, params: { strategyId: id }, body });
    const code = async (r: Promise<Res>) => {
      const res = await r;
      return [res.statusCode, bodyOf<{ code: string }>(res).code];
    };
    const ownAcc = await fundedCopyAccount(p.claims, 1_000_00n);
    expect(await code(followWith(p.claims, followBody(ownAcc)))).toEqual([422, 'cannot_follow_own_strategy']);
    expect(await code(followWith(f.claims, followBody(poor)))).toEqual([422, 'below_min_investment']);
    expect(await code(followWith(f.claims, followBody(rich, { mode: 'fixed_volume' })))).toEqual([
      422,
      'allocation_parameter_required',
    ]);
    expect(await code(followWith(f.claims, followBody(rich), 'st_unknown'))).toEqual([404, 'strategy_not_found']);
  });
});

describe('disclosures', () => {
  it('shows the fees and the past-performance and risk warnings in the client’s language', async () => {
    const p = await provider();
    const acc = await account(p.claims);
    const res = await call(copy.strategies, 'POST', '/v1/strategies', { claims: p.claims, body: strategyBody(acc) });
    expect(res.statusCode, res.body).toBe(201);
    const { strategyId } = bodyOf<{ strategyId: string }>(res);
    const read = async (language: string) => {
      const r = await copy.strategies(
        apiEvent({
          method: 'GET',
          resource: '/v1/strategies/{strategyId}',
          claims: p.claims,
          pathParameters: { strategyId },
          headers: { 'Accept-Language': language },
        }),
        lambdaContext(),
      );
      expect(r.statusCode, r.body).toBe(200);
      return bodyOf<{ disclosures: Record<string, string> }>(r).disclosures;
    };
    const en = await read('en');
    expect(en.pastPerformance).toMatch(/^Past performance is not a reliable indicator of future results/);
    expect(en.fees).toContain('20.00 % of new profit above your high-water mark');
    expect(en.fees).toContain('2.00 % a year');
    expect(en.fees).toContain('5.00 USD per million');
    expect(en.newStrategy).toMatch(/fewer than 30 days/);
    const de = await read('de-DE');
    expect(de.pastPerformance).toMatch(/^Die frühere Wertentwicklung ist kein verlässlicher Indikator/);
    expect(de.fees).toContain('20.00 % des neuen Gewinns');
    const es = await read('es');
    expect(es.risk).toMatch(/^El copy trading es un servicio de inversión/);
  });
});
