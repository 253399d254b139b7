/**
 * Copy trading (issue 15), in the local runtime (the same fan-out and executor handlers, the local bus, the FIFO
 * queue emulator and DynamoDB Local) with the MT5 simulator behind its Web API (a server of its own, without a state
 * file). BENCH_COPY_FOLLOWERS followers (default 2,000) follow one provider (fixed volume 0.01 lot); each figure
 * names its baseline:
 * - latency: one provider deal to every follower. Signal = the deal's event published on the bus (its outbox id's
 *   time, as the deal stream writes it); fill = the follower's order answered by the platform. The deal stream's
 *   polling interval comes before the signal and is not in the figure. p50/p99 over the followers' copies
 * - fan-out: the fan-out use case (strategy and subscriptions read, the provider's state, SendMessageBatch of one
 *   message per follower) against a raw SendMessageBatch of the same messages to the same queue, its consumer
 *   paused, each run BENCH_COPY_FANOUT_RUNS times alternately; the ratio is of the medians
 * - exactly once: BENCH_COPY_POSITIONS (default 15) provider positions opened and then closed, every event
 *   published twice (a duplicate signal), and the executor crashing after the platform's fill on 1 % of the copies
 *   (their redelivery finds the order by its comment); then every follower's deals on the simulator are counted by
 *   copy id: each copy id exactly once, followers x positions x 2 in all, nothing left open
 * BENCH_COPY_PARTS (default latency,fanout,once) picks the figures.
 * The queue emulator runs at timeScale 0.1 for this suite (a 180 s visibility timeout passes in 18 s: longer than a
 * batch takes under this load, so only crashed messages come back), and the copy lease at 3 s (COPY_LEASE_MS), so a
 * crashed copy is retried within the run.
 */
import { createHash, randomUUID } from 'node:crypto';
import { ulid } from 'ulid';
import { fanOutDeal } from '#app/copy/fan-out.ts';
import { faults } from '#app/copy/replicate.ts';
import { copyIdFor } from '#domain/copy/replication.ts';
import { formatPoints } from '#domain/trading/model.ts';
import { mt5Platform } from '#functions/adapters/platforms/mt5.ts';
import { sendMessages } from '#functions/adapters/queues/sqs.ts';
import { startMt5Server } from '#local/platforms/mt5-server.ts';
import type { Runtime } from '#local/runtime.ts';
import { env } from '#shared/env.ts';
import { accountClaimEntity, copyAccountClaimEntity, strategyEntity, subscriptionEntity } from '#store/copy.ts';
import { copyStateEntity, copyTradeEntity } from '#store/copy-trades.ts';
import { copyTradeKeys } from '#store/keys.ts';
import { tradingAccountEntity } from '#store/trading.ts';
import { batchPut, percentile, pool } from '../lib.ts';

const manager = { login: 1000, password: 'bench-copy-manager-password' };
const SERVER = 'bench-copy';
const FUNDS = 10_000_000n; // 100,000.00 USD per follower: margin never runs out

const fmt = (n: number) => n.toFixed(1);
const HOUR = 3_600_000;

export async function copySuite(opts: { rt: Runtime }): Promise<void> {
  const followers = Number(process.env.BENCH_COPY_FOLLOWERS ?? 2_000);
  const positions = Number(process.env.BENCH_COPY_POSITIONS ?? 15);
  const fanoutRuns = Number(process.env.BENCH_COPY_FANOUT_RUNS ?? 5);
  const server = await startMt5Server({ manager, tickMs: 0 });
  Object.assign(process.env, {
    MT5_WEB_API_URL: server.url,
    MT5_MANAGER_LOGIN: String(manager.login),
    MT5_MANAGER_PASSWORD: manager.password,
    MT5_SERVER: SERVER,
    MT5_SESSIONS: '8',
    COPY_LEASE_MS: '3000',
  });
  const platform = mt5Platform({ baseUrl: server.url, manager, server: SERVER });
  /**
   * The bus and the replication queue idle (rt.settle waits 30 s at most, and also for the outbox relay, which here
   * only publishes copy.trade.executed events nobody in this suite waits for).
   */
  const settle = async () => {
    for (let i = 0; i < 3; i++) {
      await opts.rt.bus.drain();
      await opts.rt.sqs.drain(HOUR);
    }
  };
  const at = new Date().toISOString();
  const newAccount = async (name: string) => {
    const { login } = await platform.createAccount({
      group: 'real\\bench-usd',
      currency: 'USD',
      leverage: 30,
      name,
      clientRef: name,
      passwords: { main: 'Bench-Main-Passw0rd', investor: 'Bench-Inv-Passw0rd' },
    });
    await platform.changeBalance({ login, amount: FUNDS, type: 'balance', comment: 'bench', externalId: `B${login}` });
    return login;
  };
  const accountItem = (accountId: string, clientId: string, login: number) =>
    tradingAccountEntity.item(
      {
        accountId,
        clientId,
        kind: 'live',
        platform: 'mt5',
        server: SERVER,
        typeId: 'standard',
        group: 'real\\bench-usd',
        currency: 'USD',
        leverage: 30,
        status: 'active',
        access: 'full',
        login,
        idempotencyKey: accountId,
        requestHash: 'bench',
      },
      at,
    );

  // --- the provider and its followers ---------------------------------------------------------------------
  const t0 = performance.now();
  const providerLogin = await newAccount('provider');
  const providerAccount = 'ta_bench_provider';
  const strategyId = `st_bench_${randomUUID().slice(0, 8)}`;
  const strategy = strategyEntity.item(
    {
      strategyId,
      providerClientId: 'client-bench-provider',
      accountId: providerAccount,
      platform: 'mt5',
      server: SERVER,
      login: providerLogin,
      currency: 'USD',
      name: 'Bench strategy',
      description: '',
      fees: {
        performanceBps: 2000,
        managementBpsPerYear: 0,
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
  );
  await batchPut([
    accountItem(providerAccount, 'client-bench-provider', providerLogin),
    strategy,
    accountClaimEntity.item({ accountId: providerAccount, strategyId }, at),
  ] as unknown as Record<string, unknown>[]);

  const subs: { subscriptionId: string; accountId: string; login: number }[] = [];
  await pool(
    Array.from({ length: followers }, (_, i) => i),
    16,
    async (i) => {
      const login = await newAccount(`follower-${i}`);
      subs.push({ subscriptionId: `sub_bench_${i}_${strategyId}`, accountId: `ta_bench_${strategyId}_${i}`, login });
    },
  );
  const items: unknown[] = [];
  for (const s of subs) {
    const clientId = `client-bench-${s.login}`;
    items.push(
      accountItem(s.accountId, clientId, s.login),
      subscriptionEntity.item(
        {
          subscriptionId: s.subscriptionId,
          strategyId,
          providerClientId: 'client-bench-provider',
          followerClientId: clientId,
          followerAccountId: s.accountId,
          currency: 'USD',
          allocation: { mode: 'fixed_volume', volume: '100' },
          protections: { copyStops: false },
          status: 'active',
          idempotencyKey: s.subscriptionId,
          requestHash: 'bench',
        },
        at,
      ),
      copyStateEntity.item(
        {
          subscriptionId: s.subscriptionId,
          currency: 'USD',
          startEquity: String(FUNDS),
          peakEquity: String(FUNDS),
          invested: String(FUNDS),
        },
        at,
      ),
      copyAccountClaimEntity.item({ accountId: s.accountId, subscriptionId: s.subscriptionId }, at),
    );
  }
  await batchPut(items as Record<string, unknown>[]);
  console.log(`# copy: ${followers} followers set up in ${fmt((performance.now() - t0) / 1000)} s`);

  /** The provider's deal as the deal stream publishes it (trading.position.opened / trading.deal.closed). */
  const detailOf = (
    fill: { deal: number; positionId: number; price: bigint; volume: bigint },
    side: 'buy' | 'sell',
    entry: 'in' | 'out',
  ) => ({
    dealKey: `mt5#${SERVER}#${fill.deal}`,
    platform: 'mt5',
    server: SERVER,
    deal: fill.deal,
    login: providerLogin,
    accountId: providerAccount,
    clientId: 'client-bench-provider',
    currency: 'USD',
    action: side,
    entry,
    reason: 'client',
    symbol: 'EURUSD',
    volume: fill.volume.toString(),
    price: formatPoints(fill.price, 5),
    profit: '0.00',
    commission: '0.00',
    swap: '0.00',
    positionId: fill.positionId,
    timeMsc: Date.now(),
    eventId: ulid(),
  });
  const publish = (detail: ReturnType<typeof detailOf>) =>
    opts.rt.bus.publish({
      source: 'backoffice',
      detailType: detail.entry === 'in' ? 'trading.position.opened' : 'trading.deal.closed',
      detail,
    });
  const records = async (dealKey: string) =>
    copyTradeEntity.getMany(subs.map((s) => copyTradeKeys.key(copyIdFor(dealKey, s.subscriptionId))));

  const parts = (process.env.BENCH_COPY_PARTS ?? 'latency,fanout,once').split(',');
  // --- latency: one provider deal to every follower (first with cold handlers and caches, then warm) ----------
  let signal = detailOf({ deal: 0, positionId: 0, price: 0n, volume: 0n }, 'buy', 'in');
  for (const run of parts.includes('latency') ? ['cold', 'warm'] : []) {
    const open = await platform.marketOrder({ login: providerLogin, symbol: 'EURUSD', side: 'buy', volume: 1_000n });
    signal = detailOf(open, 'buy', 'in');
    const started = performance.now();
    publish(signal);
    await settle();
    const wall = performance.now() - started;
    const done = await records(signal.dealKey);
    const latencies = done
      .filter((r) => r.latencyMs !== undefined)
      .map((r) => r.latencyMs!)
      .sort((a, b) => a - b);
    console.log(
      `copy latency, ${run} (signal on the bus -> follower fill)\tfollowers ${followers}\tfilled ${done.filter((r) => r.status === 'filled').length}\tp50 ${latencies.length ? percentile(latencies, 50) : '-'} ms\tp99 ${latencies.length ? percentile(latencies, 99) : '-'} ms\tall filled after ${fmt(wall)} ms (${fmt((followers / wall) * 1000)} copies/s)`,
    );
    if (process.env.BENCH_COPY_DEBUG) {
      const queued = done.map((r) => Date.parse(r.createdAt) - r.signalAtMsc).sort((a, b) => a - b);
      const exec = done.map((r) => (r.fill?.timeMsc ?? 0) - Date.parse(r.createdAt)).sort((a, b) => a - b);
      console.log(
        `  signal -> executor start: min ${queued[0]} p50 ${percentile(queued, 50)} max ${queued.at(-1)} ms; executor start -> fill: p50 ${percentile(exec, 50)} max ${exec.at(-1)} ms`,
      );
    }
    const close = await platform.closePosition(providerLogin, open.positionId);
    publish(detailOf({ ...close, positionId: open.positionId }, 'sell', 'out'));
    await settle();
  }

  // --- fan-out against a raw SendMessageBatch of the same messages ------------------------------------------
  if (parts.includes('fanout')) {
    opts.rt.sqs.stop();
    const purge = () => opts.rt.sqs.handle('PurgeQueue', { QueueUrl: env.queueUrl('copy-replication') });
    const fanoutTimes: number[] = [];
    const rawTimes: number[] = [];
    const ctx = { requestId: 'bench', locale: 'en' };
    for (let run = 0; run < fanoutRuns; run++) {
      const detail = { ...signal, dealKey: `${signal.dealKey}-fanout-${run}`, eventId: ulid() };
      let bodies: { body: string; groupId: string; dedupId: string }[] = [];
      let t = performance.now();
      await fanOutDeal({ kind: 'open', deal: detail as never }, ctx, {
        send: async (m) => {
          bodies = [...m];
          await sendMessages('copy-replication', m);
        },
      });
      fanoutTimes.push(performance.now() - t);
      await purge();
      const raw = bodies.map((b) => ({ ...b, dedupId: `${b.dedupId}-raw` }));
      t = performance.now();
      await sendMessages('copy-replication', raw);
      rawTimes.push(performance.now() - t);
      await purge();
    }
    opts.rt.sqs.start();
    fanoutTimes.sort((a, b) => a - b);
    rawTimes.sort((a, b) => a - b);
    const fanMedian = percentile(fanoutTimes, 50);
    const rawMedian = percentile(rawTimes, 50);
    console.log(
      `fan-out of ${followers} messages\tmedian ${fmt(fanMedian)} ms (${fmt((followers / fanMedian) * 1000)} msg/s)\t| raw SendMessageBatch median ${fmt(rawMedian)} ms (${fmt((followers / rawMedian) * 1000)} msg/s)\t| throughput ratio ${(rawMedian / fanMedian).toFixed(2)}`,
    );
  }

  // --- exactly once: positions opened and closed, duplicates and crashes ----------------------------------
  const crashed = new Set<string>();
  faults.afterFill = (copyId) => {
    const bucket = createHash('sha256').update(copyId).digest()[0]!;
    if (bucket < 3 && !crashed.has(copyId)) {
      crashed.add(copyId);
      throw new Error('bench: executor crash after the fill');
    }
  };
  const t1 = performance.now();
  const opened: { deal: number; positionId: number; price: bigint; volume: bigint }[] = [];
  for (let p = 0; p < positions; p++) {
    const fill = await platform.marketOrder({ login: providerLogin, symbol: 'EURUSD', side: 'buy', volume: 1_000n });
    opened.push(fill);
    const d = detailOf(fill, 'buy', 'in');
    publish(d);
    publish(d);
  }
  await settle();
  for (const o of opened) {
    const fill = await platform.closePosition(providerLogin, o.positionId);
    const d = detailOf({ ...fill, positionId: o.positionId }, 'sell', 'out');
    publish(d);
    publish(d);
  }
  await settle();
  faults.afterFill = undefined;
  const seconds = (performance.now() - t1) / 1000;

  const followerLogins = new Set(subs.map((s) => s.login));
  const byComment = new Map<string, number>();
  let openLeft = 0;
  for (const login of followerLogins) {
    openLeft += server.simulator.positions(login).length;
  }
  for (const d of server.simulator.deals()) {
    if (!followerLogins.has(d.login) || (d.action !== 'buy' && d.action !== 'sell')) continue;
    byComment.set(d.comment, (byComment.get(d.comment) ?? 0) + 1);
  }
  const expected = followers * positions * 2 + (parts.includes('latency') ? followers * 4 : 0); // + the latency deals' opens and closes
  const total = [...byComment.values()].reduce((a, b) => a + b, 0);
  const twice = [...byComment.values()].filter((n) => n > 1).length;
  console.log(
    `exactly once: ${followers} followers x ${positions} positions opened and closed (every signal twice, ${crashed.size} executor crashes after the fill) in ${fmt(seconds)} s (${fmt((followers * positions * 2) / seconds)} copies/s)\tfollower deals ${total} of ${expected} expected\tcopy ids dealt twice ${twice}\topen positions left ${openLeft}\tDLQ ${opts.rt.sqs.dlqMessages('copy-replication').length}`,
  );
  await server.stop();
}
