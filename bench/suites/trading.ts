/**
 * Trading (issue 14), three parts, each against a baseline measured in the same run:
 * - simulator fills per second: a market order of 0.01 lot EURUSD on the simulator engine called in process (the
 *   baseline), against the same order through the MT5 adapter and the simulator's MT5 Manager Web API server
 *   (dealer/send_request + get_request_result over a pinned keep-alive socket per adapter), without and with the
 *   server's state file. Each adapter owns one session (one socket), so concurrency N uses N adapters
 * - deal ingestion (dealIngestion, on a table of its own): BENCH_DEALS deals (default 100,000) from an
 *   in-process platform through ingestDeals (pages of 1,000, existence check, transactions of deal + event +
 *   turnover + audit, 4 at a time, cursor) against a raw BatchWriteItem of the same deal and outbox items, one
 *   writer; then exactly once: as many deal items and deal events as deals, a second pass from the start writes
 *   nothing, and two ingesters racing over 20,000 deals of another server write each once
 * - wallet -> account transfers (transfers): POST /v1/trading-accounts/{id}/transfers through the API handler
 *   (edge, saga, ledger journal, MT5 adapter, simulator) at 1/8/32 concurrent clients, against the journal alone
 *   (postJournal wallet -> account) at the same concurrency
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DeleteCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { dealRecord, ingestDeals } from '#app/trading/ingest-deals.ts';
import type { Deal } from '#domain/trading/model.ts';
import type { DealPage, TradingPlatform } from '#domain/trading/port.ts';
import { TradingSimulator } from '#domain/trading/simulator/index.ts';
import { mt5Platform } from '#functions/adapters/platforms/mt5.ts';
import { ensureTable, localClient } from '#local/dynamodb.ts';
import { invoke } from '#local/lambda.ts';
import { DEFAULT_SYMBOLS, startMt5Server } from '#local/platforms/mt5-server.ts';
import { ddb } from '#shared/clients.ts';
import { env } from '#shared/env.ts';
import { systemActor } from '#store/audit.ts';
import { tradingKeys } from '#store/keys.ts';
import { ensureWallet, postJournal } from '#store/ledger/index.ts';
import { outboxItem } from '#store/outbox.ts';
import { type LoginItem, loginEntity } from '#store/trading.ts';
import { seedClient } from '../../test/support/clients.ts';
import { apiEvent, claimsFor } from '../../test/support/events.ts';
import { fund } from '../../test/support/ledger.ts';
import { measure, printComparison, type Stats } from '../lib.ts';

const ORDER = { symbol: 'EURUSD', side: 'buy' as const, volume: 100n };
const BALANCE = 100_000_000n; // 1,000,000.00 USD: margin never runs out in a figure
const manager = { login: 1000, password: 'bench-manager-password' };

function engineBaseline(ops: number): Promise<Stats> {
  const sim = TradingSimulator.create({ symbols: DEFAULT_SYMBOLS, seed: 7, startTimeMsc: Date.now() });
  const login = 100_001;
  sim.createAccount({ login, currency: 'USD', leverage: 30, group: 'real\\bench-usd', retail: true });
  sim.changeBalance(login, BALANCE, 'balance', 'bench');
  return measure('engine marketOrder (in process)', { ops, concurrency: 1 }, async () => {
    sim.marketOrder({ login, ...ORDER, now: Date.now() });
  });
}

async function throughProtocol(name: string, ops: number, concurrency: number, stateFile?: string): Promise<Stats> {
  const server = await startMt5Server({ manager, tickMs: 0, ...(stateFile ? { stateFile } : {}) });
  try {
    const adapters = Array.from({ length: concurrency }, () => mt5Platform({ baseUrl: server.url, manager, server: 'bench' }));
    const logins: number[] = [];
    for (const a of adapters) {
      const { login } = await a.createAccount({
        group: 'real\\bench-usd',
        currency: 'USD',
        leverage: 30,
        name: 'Bench',
        clientRef: 'bench',
        passwords: { main: 'Bench-Main-Passw0rd', investor: 'Bench-Inv-Passw0rd' },
      });
      await a.changeBalance({ login, amount: BALANCE, type: 'balance', comment: 'bench', externalId: `B${login}` });
      logins.push(login);
    }
    // one adapter per concurrent caller: `measure` runs `concurrency` callers, so one is always free
    const free = adapters.map((_, i) => i);
    return await measure(name, { ops, concurrency }, async () => {
      const i = free.pop()!;
      try {
        await adapters[i]!.marketOrder({ login: logins[i]!, ...ORDER });
      } finally {
        free.push(i);
      }
    });
  } finally {
    await server.stop();
  }
}

// ---------------------------------------------------------------------------------------------- deal ingestion

const LOGINS = 1_000;

/** `n` deals over LOGINS logins, in pairs (open, close) like a busy server's history. */
function syntheticDeals(n: number, t0: number): Deal[] {
  return Array.from({ length: n }, (_, i) => {
    const opening = i % 2 === 0;
    return {
      deal: i + 1,
      login: 500_000 + (i % LOGINS),
      order: i + 1,
      action: opening ? 'buy' : 'sell',
      entry: opening ? 'in' : 'out',
      reason: 'client',
      timeMsc: t0 + i,
      symbol: 'EURUSD',
      price: 108_500n + BigInt(i % 100),
      volume: 1_000n,
      profit: opening ? 0n : BigInt((i % 400) - 200),
      commission: -35n,
      storage: 0n,
      positionId: i - (opening ? 0 : 1) + 1,
      comment: '',
      notional: 1_085_000n,
      currency: 'USD',
      digits: 5,
    } satisfies Deal;
  });
}

/** An in-process platform that serves `deals` by cursor (the deal id after which to read). */
function dealSource(deals: Deal[], server: string): TradingPlatform {
  const unsupported = () => Promise.reject(new Error('bench source: deals only'));
  return {
    platform: 'mt5',
    server,
    dealsSince: async (cursor: string, limit: number): Promise<DealPage> => {
      const from = cursor ? Number(cursor) : 0;
      const page = deals.slice(from, from + limit);
      return { deals: page, cursor: page.length ? String(page.at(-1)!.deal) : cursor };
    },
    createAccount: unsupported,
    setLeverage: unsupported,
    setGroup: unsupported,
    setAccess: unsupported,
    resetPasswords: unsupported,
    changeBalance: unsupported,
    findBalanceOperation: unsupported,
    accountState: unsupported,
    positions: unsupported,
    marketOrder: unsupported,
    closePosition: unsupported,
    findTrade: unsupported,
    instrument: unsupported,
  };
}

async function batchWrite(items: readonly object[]): Promise<void> {
  const table = env.tableName;
  for (let i = 0; i < items.length; i += 25) {
    let pending: { PutRequest: { Item: Record<string, unknown> } }[] | undefined = items
      .slice(i, i + 25)
      .map((Item) => ({ PutRequest: { Item: Item as Record<string, unknown> } }));
    while (pending && pending.length > 0) {
      const res = await ddb().send(new BatchWriteCommand({ RequestItems: { [table]: pending } }));
      pending = res.UnprocessedItems?.[table] as typeof pending;
    }
  }
}

async function countWhere(filter: string, values: Record<string, unknown>): Promise<number> {
  let n = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const res = await ddb().send(
      new ScanCommand({
        TableName: env.tableName,
        FilterExpression: filter,
        ExpressionAttributeValues: values,
        Select: 'COUNT',
        ExclusiveStartKey: start,
      }),
    );
    n += res.Count ?? 0;
    start = res.LastEvaluatedKey;
  } while (start);
  return n;
}

/**
 * Runs `fn` against a table of its own on the same DynamoDB Local: the runtime table's stream relay would otherwise
 * publish 100,000 deal events while the figure runs and compete with it (the relay is not what is measured).
 */
async function onOwnTable<T>(fn: () => Promise<T>): Promise<T> {
  const table = `bench-deals-${Date.now().toString(36)}`;
  const admin = localClient(process.env.AWS_ENDPOINT_URL_DYNAMODB!);
  await ensureTable(admin, table);
  const previous = process.env.TABLE_NAME;
  process.env.TABLE_NAME = table;
  try {
    return await fn();
  } finally {
    process.env.TABLE_NAME = previous;
    await admin.send(new DeleteTableCommand({ TableName: table })).catch(() => undefined);
    admin.destroy();
  }
}

export const dealIngestion = (n = Number(process.env.BENCH_DEALS ?? 100_000)) => onOwnTable(() => ingestionFigures(n));

async function ingestionFigures(n: number): Promise<{ subject: Stats; baseline: Stats }> {
  const t0 = Date.now() - n;
  const deals = syntheticDeals(n, t0);
  const run = Date.now().toString(36);
  const ownedLogins = Array.from({ length: LOGINS / 2 }, (_, i) => 500_000 + i * 2);
  const at = new Date().toISOString();
  const logins: LoginItem[] = ownedLogins.map((login) =>
    loginEntity.item(
      {
        platform: 'mt5',
        server: `ingest-${run}`,
        login,
        accountId: `ta_bench_${login}`,
        clientId: `bench-${login}`,
        currency: 'USD',
      },
      at,
    ),
  );
  await batchWrite(logins);

  // baseline: the same deal and event items, BatchWriteItem, 25 per call, one writer
  const rawServer = `raw-${run}`;
  const owners = new Map(logins.map((l) => [l.login, l]));
  const started = performance.now();
  for (let i = 0; i < n; i += 1000) {
    const items: object[] = [];
    for (const d of deals.slice(i, i + 1000)) {
      const { item, event } = dealRecord('mt5', rawServer, d, owners.get(d.login) ?? null, at);
      items.push(item, outboxItem(event, new Date()));
    }
    await batchWrite(items);
  }
  const rawSeconds = (performance.now() - started) / 1000;
  const baseline: Stats = {
    name: 'raw BatchWriteItem of the deal + event items',
    ops: n,
    concurrency: 1,
    errors: 0,
    seconds: rawSeconds,
    perSecond: n / rawSeconds,
    p50: Number.NaN,
    p99: Number.NaN,
  };

  // subject: one ingester (the scheduled job's case), timed
  const server = `ingest-${run}`;
  const source = dealSource(deals, server);
  const ctx = { requestId: `bench-ingest-${run}`, locale: 'en' };
  const t = performance.now();
  const single = await ingestDeals({ platform: 'mt5', adapter: source, maxDeals: n * 2 }, ctx);
  const seconds = (performance.now() - t) / 1000;
  const subject: Stats = {
    name: 'ingestDeals, one ingester (deals/s)',
    ops: n,
    concurrency: 1,
    errors: Math.abs(single.written - n),
    seconds,
    perSecond: n / seconds,
    p50: Number.NaN,
    p99: Number.NaN,
  };
  const count = async (s: string) => ({
    deals: await countWhere('begins_with(pk, :p)', { ':p': `TDEAL#mt5#${s}#` }),
    events: await countWhere('begins_with(pk, :o) AND detail.server = :s', { ':o': 'OUTBOX#', ':s': s }),
  });
  const stored = await count(server);
  // a second pass from the start (the cursor lost) writes nothing: every deal is found stored
  await ddb().send(new DeleteCommand({ TableName: env.tableName, Key: tradingKeys.cursor('mt5', server) }));
  const again = (await ingestDeals({ platform: 'mt5', adapter: source, maxDeals: n * 2 }, ctx)).written;
  // two ingesters racing over the same deals of another server (a job run on demand during a scheduled one)
  const raceN = Math.min(n, 20_000);
  const raceServer = `race-${run}`;
  const raceSource = dealSource(deals.slice(0, raceN), raceServer);
  const raced = await Promise.all([
    ingestDeals({ platform: 'mt5', adapter: raceSource, maxDeals: raceN * 2 }, ctx),
    ingestDeals({ platform: 'mt5', adapter: raceSource, maxDeals: raceN * 2 }, ctx),
  ]);
  const raceStored = await count(raceServer);
  console.log(
    `\n## trading: deal ingestion exactly once: ${n} deals by one ingester -> ${single.written} written, ${stored.deals} deal items, ${stored.events} deal events; re-read from the start -> ${again} written; ${raceN} deals by two racing ingesters -> ${raced.map((r) => r.written).join(' + ')} written, ${raceStored.deals} deal items, ${raceStored.events} deal events`,
  );
  return { subject, baseline };
}

// ---------------------------------------------------------------------------------------------- transfers

interface Trader {
  clientId: string;
  claims: Record<string, string>;
  accountId: string;
  walletId: string;
  ledgerAccountId: string;
}

async function traders(n: number): Promise<Trader[]> {
  const out: Trader[] = [];
  for (let i = 0; i < n; i++) {
    const clientId = `bench-trader-${randomUUID().slice(0, 8)}`;
    await seedClient({ clientId, countryOfResidence: 'DE', jurisdiction: 'EU', clientType: 'retail', kycStatus: 'approved' });
    const wallet = await ensureWallet(clientId, 'USD', { actor: systemActor('bench'), requestId: 'bench' });
    await fund(wallet, 100_000_000n);
    const claims = claimsFor(clientId, ['client']);
    const res = (await invoke(
      'api-trading-accounts',
      apiEvent({
        method: 'POST',
        resource: '/v1/trading-accounts',
        claims,
        headers: { 'Idempotency-Key': randomUUID(), 'Content-Type': 'application/json' },
        body: JSON.stringify({ accountType: 'standard', kind: 'live', currency: 'USD', leverage: 30 }),
      }),
    )) as { statusCode: number; body: string };
    if (res.statusCode !== 201) throw new Error(`bench: opening an account failed: ${res.statusCode} ${res.body}`);
    const { accountId } = JSON.parse(res.body) as { accountId: string };
    out.push({ clientId, claims, accountId, walletId: wallet.accountId, ledgerAccountId: `tacc_${accountId}` });
  }
  return out;
}

export async function transfers(ops: number): Promise<{ subject: Stats; baseline: Stats }[]> {
  const people = await traders(32);
  // the first deposit clears the type's minimum; then every figure moves 1.00
  for (const p of people) await transferOf(p, '100.00');
  const rows: { subject: Stats; baseline: Stats }[] = [];
  for (const c of [1, 8, 32]) {
    const baseline = await measure('postJournal wallet -> account (no platform)', { ops, concurrency: c }, (i) => {
      const p = people[Math.abs(i) % c]!;
      return postJournal({
        draft: {
          journalId: `bench-${randomUUID()}`,
          type: 'transfer',
          postings: [
            { accountId: p.walletId, amount: -100n, currency: 'USD' },
            { accountId: p.ledgerAccountId, amount: 100n, currency: 'USD' },
          ],
          metadata: {},
        },
        idempotency: { scope: 'bench', key: randomUUID(), requestHash: 'h' },
        actor: systemActor('bench'),
        requestId: 'bench',
      });
    });
    const subject = await measure('POST /v1/trading-accounts/{id}/transfers (saga)', { ops, concurrency: c }, (i) =>
      transferOf(people[Math.abs(i) % c]!, '1.00'),
    );
    rows.push({ subject, baseline });
  }
  return rows;
}

async function transferOf(p: Trader, amount: string): Promise<void> {
  const res = (await invoke(
    'api-trading-accounts',
    apiEvent({
      method: 'POST',
      resource: '/v1/trading-accounts/{accountId}/transfers',
      pathParameters: { accountId: p.accountId },
      claims: p.claims,
      headers: { 'Idempotency-Key': randomUUID(), 'Content-Type': 'application/json' },
      body: JSON.stringify({ direction: 'deposit', amount: { amount, currency: 'USD' } }),
    }),
  )) as { statusCode: number; body: string };
  if (res.statusCode !== 201 || !res.body.includes('"completed"')) throw new Error(`transfer: ${res.statusCode} ${res.body}`);
}

export async function tradingSuite(input: { ops: number; parts?: readonly string[] }) {
  const ops = Number(process.env.BENCH_TRADING_OPS ?? Math.min(input.ops, 2000));
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-trading-'));
  try {
    const baseline = await engineBaseline(ops);
    const rows: { subject: Stats; baseline: Stats }[] = [];
    for (const c of [1, 8]) rows.push({ subject: await throughProtocol('MT5 Web API fill (in memory)', ops, c), baseline });
    rows.push({
      subject: await throughProtocol('MT5 Web API fill (state file)', Math.min(ops, 500), 1, path.join(dir, 'state.json')),
      baseline,
    });
    console.log('\n## trading: simulator fills through the MT5 Manager Web API vs the engine in process');
    printComparison(rows);
    if (input.parts?.includes('transfers')) {
      const t = await transfers(Number(process.env.BENCH_TRANSFER_OPS ?? Math.min(input.ops, 200)));
      console.log('\n## trading: wallet -> account transfers (saga through the API handler) vs the journal alone');
      printComparison(t);
      rows.push(...t);
    }
    if (input.parts?.includes('ingestion')) {
      const d = await dealIngestion();
      console.log('\n## trading: deal ingestion vs a raw batch write of the same items');
      printComparison([d]);
      rows.push(d);
    }
    return rows;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
