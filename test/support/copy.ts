/**
 * The setup the copy-trading integration tests share (strategies-api, copy-replication, copy-fees, copy-statistics):
 * a file's handler environment on a fresh table with the local MT5 Web API server started for it, the strategies and
 * trading-accounts handlers, and the steps every journey starts with: a KYC-approved client seeded in the store, a
 * live trading account opened through the trading-accounts route (funded on the simulator by a balance operation),
 * a strategy submitted and approved by compliance through the strategies routes, and a follower subscribed to it.
 *
 * `useCopyEnv` registers the file's beforeAll (server, environment, handlers, platform adapter) and afterAll (the
 * server stopped); what it returns reads the handlers, the server and the adapter once the beforeAll has run.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect } from 'vitest';
import type { Mt5Platform } from '#adapters/platforms/mt5.ts';
import { type Mt5Server, startMt5Server } from '#local/platforms/mt5-server.ts';
import { useHandlerEnv } from './api-env.ts';
import { seedClient } from './clients.ts';
import { apiEvent, bodyOf, claimsFor, lambdaContext } from './events.ts';

export type Res = { statusCode: number; body: string };
export type Handler = (e: ReturnType<typeof apiEvent>, c: ReturnType<typeof lambdaContext>) => Promise<Res>;
export type Claims = Record<string, string>;

/** The local MT5 server's manager (the adapter's credentials). */
export const MANAGER = { login: 1000, password: 'Manager-Pass-1' };
export const uid = () => randomUUID().slice(0, 8);
export const usd = (amount: string) => ({ amount, currency: 'USD' });
/** The context the application functions are called with directly. */
export const ctx = { requestId: 'test', locale: 'en' };
/** A fresh compliance officer's claims. */
export const compliance = () => claimsFor(`staff-${uid()}`, ['compliance']);

/** Calls an API handler as API Gateway would, with a fresh Idempotency-Key unless `key` is given. */
export const call = (
  h: Handler,
  method: string,
  resource: string,
  o: { claims: Claims; params?: Record<string, string>; body?: unknown; query?: Record<string, string>; key?: string },
) =>
  h(
    apiEvent({
      method,
      resource,
      claims: o.claims,
      ...(o.params ? { pathParameters: o.params } : {}),
      ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}),
      ...(o.query ? { query: o.query } : {}),
      headers: { 'Idempotency-Key': o.key ?? uid(), 'Content-Type': 'application/json' },
    }),
    lambdaContext(),
  );

/** A strategy's fee schedule, money as decimal strings in the strategy's currency. */
export type StrategyFees = {
  performanceBps: number;
  managementBpsPerYear: number;
  volumePerMillion: string;
  subscriptionPerMonth: string;
};
/** 20 % performance fee, nothing else. */
export const FEES_20: StrategyFees = {
  performanceBps: 2000,
  managementBpsPerYear: 0,
  volumePerMillion: '0.00',
  subscriptionPerMonth: '0.00',
};

export interface StrategyInput {
  name: string;
  description?: string;
  /** Default FEES_20. */
  fees?: StrategyFees;
  /** Default '100.00'. */
  minInvestment?: string;
}

export interface CopyEnvOptions {
  /** The test table's name prefix. */
  table: string;
  /** Client ids are `client-<clientPrefix>-<uid>`. */
  clientPrefix: string;
  /** The accounts' and the strategies' currency. Default USD. */
  currency?: string;
  /** The comment of the balance operations that fund accounts. Default 'test funds'. */
  fundingComment?: string;
  /** Runs once the handler environment is set, before the handlers are loaded. */
  configure?: () => void;
}

export interface Follower {
  id: string;
  claims: Claims;
  accountId: string;
  login: number;
  subscriptionId: string;
}

export function useCopyEnv(options: CopyEnvOptions) {
  const currency = options.currency ?? 'USD';
  const fundingComment = options.fundingComment ?? 'test funds';
  const money = (amount: string) => ({ amount, currency });
  let strategies: Handler;
  let trading: Handler;
  let mt5: Mt5Server;
  let platform: Mt5Platform;

  beforeAll(async () => {
    mt5 = await startMt5Server({ manager: MANAGER, tickMs: 0 });
    await useHandlerEnv(options.table, {
      MT5_WEB_API_URL: mt5.url,
      MT5_MANAGER_LOGIN: String(MANAGER.login),
      MT5_MANAGER_PASSWORD: MANAGER.password,
      MT5_SERVER: 'test-mt5',
    });
    options.configure?.();
    strategies = (await import('#functions/api/strategies.ts')).handler as Handler;
    trading = (await import('#functions/api/trading-accounts.ts')).handler as Handler;
    const { Mt5Platform } = await import('#adapters/platforms/mt5.ts');
    platform = new Mt5Platform({ baseUrl: mt5.url, manager: MANAGER, server: 'test-mt5' });
  });

  afterAll(async () => {
    await mt5?.stop();
  });

  /** A KYC-approved retail client resident in DE, and its claims. */
  async function client() {
    const id = `client-${options.clientPrefix}-${uid()}`;
    await seedClient({ clientId: id, countryOfResidence: 'DE', jurisdiction: 'EU', clientType: 'retail', kycStatus: 'approved' });
    return { id, claims: claimsFor(id, ['client']) };
  }

  /** Opens a standard 1:30 account through the trading-accounts route (201 expected); its id. */
  async function openAccount(claims: Claims, kind: 'live' | 'demo' = 'live'): Promise<string> {
    const res = await call(trading, 'POST', '/v1/trading-accounts', {
      claims,
      body: { accountType: 'standard', kind, currency, leverage: 30 },
    });
    expect(res.statusCode, res.body).toBe(201);
    return bodyOf<{ accountId: string }>(res).accountId;
  }

  /** A live account with `amount` (minor units) put on it by a balance operation on the platform (none for 0). */
  async function fundedAccount(claims: Claims, amount: bigint): Promise<{ accountId: string; login: number }> {
    const accountId = await openAccount(claims);
    const { getTradingAccount } = await import('#store/trading.ts');
    const login = (await getTradingAccount(accountId))!.login!;
    if (amount > 0n) {
      await platform.changeBalance({ login, amount, type: 'balance', comment: fundingComment, externalId: `t_${uid()}` });
    }
    return { accountId, login };
  }

  /** The body of a strategy submission for the account. */
  function strategyBody(accountId: string, s: StrategyInput) {
    const fees = s.fees ?? FEES_20;
    return {
      accountId,
      name: s.name,
      ...(s.description !== undefined ? { description: s.description } : {}),
      fees: {
        performanceBps: fees.performanceBps,
        managementBpsPerYear: fees.managementBpsPerYear,
        volumePerMillion: money(fees.volumePerMillion),
        subscriptionPerMonth: money(fees.subscriptionPerMonth),
      },
      minInvestment: money(s.minInvestment ?? '100.00'),
    };
  }

  /** Compliance approves the strategy (200 expected). */
  async function approve(strategyId: string): Promise<void> {
    const decided = await call(strategies, 'POST', '/v1/admin/strategies/{strategyId}/decision', {
      claims: compliance(),
      params: { strategyId },
      body: { decision: 'approve', reason: 'Checked' },
    });
    expect(decided.statusCode, decided.body).toBe(200);
  }

  /** A new client's strategy on a live account funded with `funds`, submitted (201 expected) and approved. */
  async function approvedStrategy(s: StrategyInput, funds = 0n) {
    const p = await client();
    const acc = await fundedAccount(p.claims, funds);
    const res = await call(strategies, 'POST', '/v1/strategies', { claims: p.claims, body: strategyBody(acc.accountId, s) });
    expect(res.statusCode, res.body).toBe(201);
    const strategyId = bodyOf<{ strategyId: string }>(res).strategyId;
    await approve(strategyId);
    return { strategyId, provider: p, accountId: acc.accountId, login: acc.login };
  }

  /** Subscribes the account to the strategy (201 expected), copy stops off unless `protections` say otherwise. */
  async function subscribe(
    f: { claims: Claims },
    strategyId: string,
    accountId: string,
    allocation: Record<string, unknown>,
    protections: Record<string, unknown> = {},
  ): Promise<string> {
    const res = await call(strategies, 'POST', '/v1/strategies/{strategyId}/subscriptions', {
      claims: f.claims,
      params: { strategyId },
      body: { accountId, allocation, protections: { copyStops: false, ...protections } },
    });
    expect(res.statusCode, res.body).toBe(201);
    return bodyOf<{ subscriptionId: string }>(res).subscriptionId;
  }

  /** A new client following the strategy with a live account funded with `amount`. */
  async function follower(
    strategyId: string,
    amount: bigint,
    allocation: Record<string, unknown>,
    protections: Record<string, unknown> = {},
  ): Promise<Follower> {
    const f = await client();
    const acc = await fundedAccount(f.claims, amount);
    return { ...f, ...acc, subscriptionId: await subscribe(f, strategyId, acc.accountId, allocation, protections) };
  }

  return {
    /** The strategies API handler. */
    get strategies() {
      return strategies;
    },
    /** The trading-accounts API handler. */
    get trading() {
      return trading;
    },
    /** The local MT5 Web API server. */
    get mt5() {
      return mt5;
    },
    /** The MT5 adapter on the local server, as the manager. */
    get platform() {
      return platform;
    },
    client,
    openAccount,
    fundedAccount,
    strategyBody,
    approve,
    approvedStrategy,
    subscribe,
    follower,
  };
}
