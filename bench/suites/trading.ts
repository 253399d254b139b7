/**
 * Trading (issue 14, first figures): simulator fills per second. A market order of 0.01 lot EURUSD on the
 * simulator engine called in process (the baseline), against the same order through the MT5 adapter and the
 * simulator's MT5 Manager Web API server (dealer/send_request + get_request_result over a pinned keep-alive
 * socket per adapter), without and with the server's state file, in the same run. Each adapter owns one
 * session (one socket), so concurrency N uses N adapters on N accounts.
 * Not here yet (issue 14 item 8): deal ingestion of 100,000 deals and wallet->account transfers.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { TradingSimulator } from '#domain/trading/simulator/index.ts';
import { mt5Platform } from '#functions/adapters/platforms/mt5.ts';
import { DEFAULT_SYMBOLS, startMt5Server } from '#local/platforms/mt5-server.ts';
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

export async function tradingSuite(input: { ops: number }) {
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
    return rows;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
