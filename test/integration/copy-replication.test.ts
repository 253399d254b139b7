/**
 * Copy-trade replication against a real table and the local MT5 Web API server (ADR 0017): the provider trades on
 * the platform, the deal stream ingests its deals (trading.position.opened / trading.deal.closed in the outbox), the
 * fan-out turns each into one message per follower, and the executor applies them. The bus and the FIFO queue are
 * played by the test (every message is delivered, in order per follower, and then delivered again).
 *
 * What it proves: two allocation modes size the same deal differently; partial closes follow each follower's
 * initial ratio; a redelivery is a no-op; a crash between the platform's fill and the commit is recovered from the
 * platform (findTrade) without a second order; a held lease makes a twin wait; an equity stop stops the follower
 * and its stop message closes its copies; a close that overtakes its open leaves the open uncopied.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import type { DealSignal, QueuedSignal, SignalQueue } from '#app/copy/messages.ts';
import { call, ctx, useCopyEnv } from '../support/copy.ts';
import { bodyOf } from '../support/events.ts';

const copy = useCopyEnv({ table: 'copyrep', clientPrefix: 'cp' });
const approvedStrategy = () => copy.approvedStrategy({ name: 'Copy test' }, 10_000_00n);
const follower = copy.follower;

/** A queue that keeps what the fan-out sends. */
const capture = (): SignalQueue & { sent: QueuedSignal[] } => {
  const sent: QueuedSignal[] = [];
  return { sent, send: async (s) => void sent.push(...s) };
};

/** Ingests the platform's new deals and returns the outbox events of `login`'s trades, oldest first. */
async function providerEvents(login: number) {
  const { ingestDeals } = await import('#app/trading/ingest-deals.ts');
  const { pendingOutboxItems, markPublished } = await import('#store/outbox.ts');
  await ingestDeals({ platform: 'mt5' }, ctx);
  const out: { detailType: string; detail: Record<string, unknown> }[] = [];
  for await (const page of pendingOutboxItems(new Date(Date.now() + 1000))) {
    for (const item of page) {
      if (item.detailType !== 'trading.position.opened' && item.detailType !== 'trading.deal.closed') continue;
      await markPublished(item.eventId);
      if (item.detail.login !== login) continue;
      out.push({ detailType: item.detailType, detail: { ...item.detail, eventId: item.eventId } });
    }
  }
  return out.sort((a, b) => Number(a.detail.deal) - Number(b.detail.deal));
}

/** The provider's new deals, fanned out and applied in order; every message delivered twice. */
async function replicateNew(login: number) {
  const { fanOutDeal } = await import('#app/copy/fan-out.ts');
  const { replicate } = await import('#app/copy/replicate.ts');
  const { CopySignalSchema } = await import('#app/copy/messages.ts');
  const results = [];
  for (const e of await providerEvents(login)) {
    const q = capture();
    const kind = e.detailType === 'trading.position.opened' ? 'open' : 'close';
    await fanOutDeal({ kind, deal: e.detail as never }, ctx, q);
    for (const m of q.sent) results.push(...(await replicate(CopySignalSchema.parse(JSON.parse(m.body)), ctx)));
    for (const m of q.sent) {
      for (const again of await replicate(CopySignalSchema.parse(JSON.parse(m.body)), ctx)) expect(again.replayed).toBe(true);
    }
  }
  return results;
}

const positionsOf = (login: number) => copy.platform.positions(login);

describe('replication', () => {
  it('copies an open, a partial close and a close to two followers by their own allocation, once each', async () => {
    const s = await approvedStrategy();
    const a = await follower(s.strategyId, 5_000_00n, { mode: 'equity_proportional' });
    const b = await follower(s.strategyId, 2_000_00n, { mode: 'fixed_volume', volume: '2000' });

    const open = await copy.platform.marketOrder({ login: s.login, symbol: 'EURUSD', side: 'buy', volume: 10_000n });
    const opened = await replicateNew(s.login);
    expect(opened.map((r) => r.status)).toEqual(['filled', 'filled']);
    const [pa] = await positionsOf(a.login);
    const [pb] = await positionsOf(b.login);
    expect(pa).toMatchObject({ symbol: 'EURUSD', side: 'buy', volume: 5_000n });
    expect(pb).toMatchObject({ symbol: 'EURUSD', side: 'buy', volume: 2_000n });

    await copy.platform.closePosition(s.login, open.positionId, 4_000n);
    await replicateNew(s.login);
    expect((await positionsOf(a.login))[0]!.volume).toBe(3_000n);
    expect((await positionsOf(b.login))[0]!.volume).toBe(1_200n);

    await copy.platform.closePosition(s.login, open.positionId);
    await replicateNew(s.login);
    expect(await positionsOf(a.login)).toEqual([]);
    expect(await positionsOf(b.login)).toEqual([]);

    // What the follower sees, per trade.
    const res = await call(copy.strategies, 'GET', '/v1/subscriptions/{subscriptionId}/copies', {
      claims: a.claims,
      params: { subscriptionId: a.subscriptionId },
      query: { limit: '10' },
    });
    expect(res.statusCode, res.body).toBe(200);
    const copies = bodyOf<{ items: Record<string, unknown>[] }>(res).items;
    expect(copies.map((c) => [c.kind, c.status])).toEqual([
      ['close', 'filled'],
      ['close', 'filled'],
      ['open', 'filled'],
    ]);
    const first = copies[2]!;
    expect(first).toMatchObject({ symbol: 'EURUSD', side: 'buy', provider: { volume: '10000' }, fill: { volume: '5000' } });
    expect(typeof first.latencyMs).toBe('number');
    expect(first.slippagePoints).toMatch(/^-?\d+$/);
    expect(first.slippage).toMatchObject({ currency: 'USD' });
    // Another client cannot read them.
    const other = await call(copy.strategies, 'GET', '/v1/subscriptions/{subscriptionId}/copies', {
      claims: b.claims,
      params: { subscriptionId: a.subscriptionId },
    });
    expect(other.statusCode).toBe(404);
  });

  it('recovers a copy whose executor crashed after the fill: one follower position, found by its comment', async () => {
    const s = await approvedStrategy();
    const a = await follower(s.strategyId, 3_000_00n, { mode: 'fixed_volume', volume: '1000' });
    await copy.platform.marketOrder({ login: s.login, symbol: 'EURUSD', side: 'sell', volume: 3_000n });
    const { fanOutDeal } = await import('#app/copy/fan-out.ts');
    const { replicate, faults, CopyBusyError } = await import('#app/copy/replicate.ts');
    const { CopySignalSchema } = await import('#app/copy/messages.ts');
    const [event] = await providerEvents(s.login);
    const q = capture();
    await fanOutDeal({ kind: 'open', deal: event!.detail as never }, ctx, q);
    const signal = CopySignalSchema.parse(JSON.parse(q.sent[0]!.body)) as DealSignal;

    faults.afterFill = () => {
      throw new Error('crash after the fill');
    };
    await expect(replicate(signal, ctx)).rejects.toThrow('crash after the fill');
    faults.afterFill = undefined;
    expect(await positionsOf(a.login)).toHaveLength(1);
    // Its lease is held: a twin waits rather than ordering again.
    await expect(replicate(signal, ctx)).rejects.toBeInstanceOf(CopyBusyError);
    // The lease expires (the crashed executor is gone); the redelivery finds the order on the platform.
    const { ddb } = await import('#shared/clients.ts');
    const { copyTradeKeys } = await import('#store/keys.ts');
    const { copyIdFor } = await import('#domain/copy/replication.ts');
    await ddb().send(
      new UpdateCommand({
        TableName: process.env.TABLE_NAME,
        Key: copyTradeKeys.key(copyIdFor(signal.dealKey, a.subscriptionId)),
        UpdateExpression: 'SET leaseUntil = :z',
        ExpressionAttributeValues: { ':z': 0 },
      }),
    );
    const [recovered] = await replicate(signal, ctx);
    expect(recovered).toMatchObject({ status: 'filled', replayed: false });
    const positions = await positionsOf(a.login);
    expect(positions).toHaveLength(1);
    expect(positions[0]).toMatchObject({ side: 'sell', volume: 1_000n });
    const { getCopyTrade } = await import('#store/copy-trades.ts');
    const record = await getCopyTrade(recovered!.copyId);
    expect(record).toMatchObject({ status: 'filled', recovered: true, fill: { positionId: positions[0]!.positionId } });
  });

  it('an equity stop stops the follower and its stop closes the copies; the stop is audited and published', async () => {
    const s = await approvedStrategy();
    const a = await follower(s.strategyId, 1_000_00n, { mode: 'fixed_volume', volume: '1000' });
    const open = await copy.platform.marketOrder({ login: s.login, symbol: 'EURUSD', side: 'buy', volume: 1_000n });
    expect((await replicateNew(s.login)).map((r) => r.status)).toEqual(['filled']);
    // The follower's equity falls below its stop: its position loses (the quote moves 300 points down).
    const q = copy.mt5.simulator.quote('EURUSD');
    copy.mt5.simulator.setQuote('EURUSD', q.bid - 3_000n, q.ask - 3_000n);
    const { subscriptionEntity } = await import('#store/copy.ts');
    const { subscriptionKeys } = await import('#store/keys.ts');
    const sub = (await subscriptionEntity.get(subscriptionKeys.key(a.subscriptionId), { consistent: true }))!;
    const { commit, systemActor } = await import('#store/audit.ts');
    const at = new Date().toISOString();
    const withStop = { ...sub, protections: { ...sub.protections, equityStop: { kind: 'amount' as const, value: '990.00' } } };
    await commit({
      writes: [subscriptionEntity.replace(sub, withStop, at)],
      audit: {
        actor: systemActor('test'),
        action: 'test.protections',
        entity: { type: 'copy-subscription', id: sub.subscriptionId },
        requestId: 'test',
        before: null,
        after: null,
      },
    });

    await copy.platform.marketOrder({ login: s.login, symbol: 'EURUSD', side: 'buy', volume: 1_000n });
    const events = await providerEvents(s.login);
    const { fanOutDeal, fanOutStop } = await import('#app/copy/fan-out.ts');
    const { replicate } = await import('#app/copy/replicate.ts');
    const { CopySignalSchema } = await import('#app/copy/messages.ts');
    const fan = capture();
    await fanOutDeal({ kind: 'open', deal: events[0]!.detail as never }, ctx, fan);
    const [skipped] = await replicate(CopySignalSchema.parse(JSON.parse(fan.sent[0]!.body)), ctx);
    expect(skipped).toMatchObject({ status: 'skipped', reason: 'equity_stop_loss' });
    const stopped = (await subscriptionEntity.get(subscriptionKeys.key(a.subscriptionId), { consistent: true }))!;
    expect(stopped).toMatchObject({ status: 'stopped', stopReason: 'equity_stop_loss' });

    const { pendingOutboxItems } = await import('#store/outbox.ts');
    let change: Record<string, unknown> | undefined;
    for await (const page of pendingOutboxItems(new Date(Date.now() + 1000))) {
      for (const item of page) {
        if (item.detailType === 'copy.subscription.changed' && item.detail.subscriptionId === a.subscriptionId)
          change = item.detail;
      }
    }
    expect(change).toMatchObject({ status: 'stopped', reason: 'equity_stop_loss', closePositions: true });
    const stopQueue = capture();
    await fanOutStop(
      { subscriptionId: a.subscriptionId, followerAccountId: a.accountId, reason: 'equity_stop_loss' },
      ctx,
      stopQueue,
    );
    expect(stopQueue.sent[0]!.groupId).toBe(a.accountId);
    const closed = await replicate(CopySignalSchema.parse(JSON.parse(stopQueue.sent[0]!.body)), ctx);
    expect(closed).toMatchObject([{ status: 'filled' }]);
    expect(await positionsOf(a.login)).toEqual([]);
    expect(open.positionId).toBeGreaterThan(0);
    // The stop message again: nothing left to close.
    expect(await replicate(CopySignalSchema.parse(JSON.parse(stopQueue.sent[0]!.body)), ctx)).toEqual([]);
    copy.mt5.simulator.setQuote('EURUSD', q.bid, q.ask);
  });

  it('a close that overtakes its open leaves the open uncopied (provider_closed_first)', async () => {
    const s = await approvedStrategy();
    const a = await follower(s.strategyId, 2_000_00n, { mode: 'fixed_volume', volume: '1000' });
    const open = await copy.platform.marketOrder({ login: s.login, symbol: 'EURUSD', side: 'buy', volume: 2_000n });
    await copy.platform.closePosition(s.login, open.positionId);
    const [opened, closed] = await providerEvents(s.login);
    const { fanOutDeal } = await import('#app/copy/fan-out.ts');
    const { replicate } = await import('#app/copy/replicate.ts');
    const { CopySignalSchema } = await import('#app/copy/messages.ts');
    const q = capture();
    await fanOutDeal({ kind: 'close', deal: closed!.detail as never }, ctx, q);
    await fanOutDeal({ kind: 'open', deal: opened!.detail as never }, ctx, q);
    const results = [];
    for (const m of q.sent) results.push(...(await replicate(CopySignalSchema.parse(JSON.parse(m.body)), ctx)));
    expect(results.map((r) => [r.status, r.reason])).toEqual([
      ['skipped', 'not_copied'],
      ['skipped', 'provider_closed_first'],
    ]);
    expect(await positionsOf(a.login)).toEqual([]);
  });
});

describe('social exposure', () => {
  it('counts the provider once per deal and each copy once, nets to zero on close, and alerts once per crossing', async () => {
    const { setTenantConfig, tenantConfig } = await import('#shared/tenant.ts');
    const { parseTenantConfig } = await import('#domain/tenant/config.ts');
    const before = tenantConfig();
    setTenantConfig(parseTenantConfig({ ...before, copy: { ...before.copy, exposureAlerts: { USD: '15000.00' } } }));
    try {
      const s = await approvedStrategy();
      const a = await follower(s.strategyId, 5_000_00n, { mode: 'fixed_volume', volume: '1000' });
      const b = await follower(s.strategyId, 5_000_00n, { mode: 'fixed_volume', volume: '1000' });
      const symbol = 'GBPUSD';
      const open = await copy.platform.marketOrder({ login: s.login, symbol, side: 'sell', volume: 3_000n });
      await replicateNew(s.login);
      expect((await positionsOf(a.login)).length + (await positionsOf(b.login)).length).toBe(2);

      const { readExposure, checkExposureAlerts } = await import('#app/copy/exposure.ts');
      const caller = { sub: 'staff-desk', roles: ['finance'] } as never;
      const rowOf = async () => (await readExposure({}, caller, ctx)).find((r) => r.symbol === symbol && r.side === 'sell');
      const row = (await rowOf())!;
      expect(row).toMatchObject({
        currency: 'USD',
        provider: { volume: '3000' },
        followers: { volume: '2000' },
        threshold: '15000.00',
      });
      // the followers' notional is their share of the provider's: 2/3 of it, to the cent (rounded down per copy)
      const providerNotional = Number(row.provider.notional);
      expect(Number(row.followers.notional)).toBeCloseTo((providerNotional * 2) / 3, 0);
      expect(Number(row.followers.notional)).toBeGreaterThan(15_000);

      const first = await checkExposureAlerts({}, ctx);
      expect(first.raised).toBeGreaterThanOrEqual(1);
      expect((await rowOf())!.alerted).toBe(true);
      const again = await checkExposureAlerts({}, ctx);
      expect(again.raised).toBe(0);

      // a re-delivered provider deal adds nothing
      const { addProviderExposure } = await import('#store/copy-exposure.ts');
      expect(
        await addProviderExposure(`mt5#test-mt5#${open.deal}`, `mt5#test-mt5#${open.positionId}`, {
          kind: 'open',
          symbol,
          side: 'sell',
          currency: 'USD',
          volume: 3_000n,
          notional: 1n,
        }),
      ).toBe(false);

      await copy.platform.closePosition(s.login, open.positionId);
      await replicateNew(s.login);
      // nothing open: the desk's view leaves the row out, and its counters are exactly zero
      expect(await rowOf()).toBeUndefined();
      const { allExposure } = await import('#store/copy-exposure.ts');
      const stored = (await allExposure()).find((e) => e.symbol === symbol && e.side === 'sell')!;
      expect(stored).toMatchObject({ providerVolume: '0', providerNotional: '0', followerVolume: '0', followerNotional: '0' });
      const cleared = await checkExposureAlerts({}, ctx);
      expect(cleared.cleared).toBeGreaterThanOrEqual(1);
      expect((await allExposure()).find((e) => e.symbol === symbol && e.side === 'sell')!.alerted).toBe(false);
    } finally {
      setTenantConfig(before);
    }
  });
});
