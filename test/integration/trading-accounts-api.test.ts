/**
 * The trading account routes against a real table and the local MT5 Web API server (the simulator) over loopback
 * HTTP, through the unchanged MT5 adapter: opening live and demo accounts (passwords once, replays, bad input),
 * wallet <-> account transfers as a saga (minimum first deposit, free margin, a platform refusal reversed, a
 * timeout resolved by asking the platform, exactly once under twins), positions and the ingested deal stream
 * (exactly once), leverage and password changes, another client's account, and the staff views (groups,
 * discrepancies, access with a reason).
 */
import { randomUUID } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usePlatformForTests } from '#adapters/platforms/index.ts';
import { Mt5Platform } from '#adapters/platforms/mt5.ts';
import { ingestDeals } from '#app/trading/ingest-deals.ts';
import { reconcileAccount } from '#app/trading/reconcile-accounts.ts';
import { LEASE_MS, resolvePendingTransfers } from '#app/trading/transfers.ts';
import { tradingTransferIdFor } from '#domain/trading/accounts.ts';
import { TradingError } from '#domain/trading/errors.ts';
import type { TradingPlatform } from '#domain/trading/port.ts';
import { type Mt5Server, startMt5Server } from '#local/platforms/mt5-server.ts';
import { ddb } from '#shared/clients.ts';
import { ensureWallet, getBalance } from '#store/ledger/index.ts';
import { getTradingAccount, getTransfer, turnoverBetween } from '#store/trading.ts';
import { useHandlerEnv } from '../support/api-env.ts';
import { seedClient } from '../support/clients.ts';
import { apiEvent, bodyOf, claimsFor, lambdaContext } from '../support/events.ts';
import { fund } from '../support/ledger.ts';

type Res = { statusCode: number; body: string; headers?: Record<string, unknown> };
type Handler = (e: ReturnType<typeof apiEvent>, c: ReturnType<typeof lambdaContext>) => Promise<Res>;
let handler: Handler;
let admin: Handler;
let table: string;
let mt5: Mt5Server;
let adapter: Mt5Platform;

const MANAGER = { login: 1000, password: 'Manager-Pass-1' };
const uid = () => randomUUID().slice(0, 8);

interface AccountBody {
  accountId: string;
  kind: string;
  status: string;
  access: string;
  leverage: number;
  login?: number;
  group?: string;
  currency: string;
  passwords?: { main: string; investor: string };
  state: {
    balance: { amount: string };
    equity: { amount: string };
    freeMargin: { amount: string };
    marginLevel: string | null;
  } | null;
}
interface TransferBody {
  transferId: string;
  status: string;
  reason?: string;
  amount: { amount: string; currency: string };
}

async function client(country = 'DE', kyc: 'approved' | 'not_started' = 'approved') {
  const id = `client-tr-${uid()}`;
  await seedClient({
    clientId: id,
    countryOfResidence: country,
    jurisdiction: country === 'DE' ? 'EU' : 'ROW',
    clientType: 'retail',
    kycStatus: kyc,
  });
  return { id, claims: claimsFor(id, ['client']) };
}

const call = (
  h: Handler,
  method: string,
  resource: string,
  o: {
    claims?: Record<string, string>;
    params?: Record<string, string>;
    body?: unknown;
    key?: string;
    query?: Record<string, string>;
  },
) =>
  h(
    apiEvent({
      method,
      resource,
      ...(o.claims ? { claims: o.claims } : {}),
      ...(o.params ? { pathParameters: o.params } : {}),
      ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}),
      ...(o.query ? { query: o.query } : {}),
      headers: { ...(o.key ? { 'Idempotency-Key': o.key } : {}), 'Content-Type': 'application/json' },
    }),
    lambdaContext(),
  );

const open = (claims: Record<string, string>, body: unknown, key = uid()) =>
  call(handler, 'POST', '/v1/trading-accounts', { claims, body, key });

async function liveAccount(claims: Record<string, string>, leverage = 30): Promise<AccountBody> {
  const res = await open(claims, { accountType: 'standard', kind: 'live', currency: 'USD', leverage });
  expect(res.statusCode, res.body).toBe(201);
  return bodyOf<AccountBody>(res);
}

const transfer = (claims: Record<string, string>, accountId: string, direction: string, amount: string, key = uid()) =>
  call(handler, 'POST', '/v1/trading-accounts/{accountId}/transfers', {
    claims,
    params: { accountId },
    body: { direction, amount: { amount, currency: 'USD' } },
    key,
  });

const walletOf = async (clientId: string) => (await getBalance(`wal_${clientId}_USD`)).ledger;
const platformBalance = async (login: number) => (await adapter.accountState(login)).balance;
const countItems = async () =>
  (await ddb().send(new ScanCommand({ TableName: table, Select: 'COUNT', ConsistentRead: true }))).Count ?? 0;

async function fundedClient(amount = 1_000_00n) {
  const c = await client();
  const wallet = await ensureWallet(c.id, 'USD', { actor: { id: 'test', role: 'system' }, requestId: 'seed' });
  await fund(wallet, amount);
  return c;
}

async function terminal(path: string, body: unknown) {
  const res = await fetch(`${mt5.url}${path}`, { method: 'POST', body: JSON.stringify(body) });
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json() as Promise<{ positionId: number }>;
}

beforeAll(async () => {
  mt5 = await startMt5Server({ manager: MANAGER, tickMs: 0 });
  table = await useHandlerEnv('trading-accounts', {
    MT5_WEB_API_URL: mt5.url,
    MT5_MANAGER_LOGIN: String(MANAGER.login),
    MT5_MANAGER_PASSWORD: MANAGER.password,
    MT5_SERVER: 'test-mt5',
  });
  adapter = new Mt5Platform({ baseUrl: mt5.url, manager: MANAGER, server: 'test-mt5' });
  handler = (await import('#functions/api/trading-accounts.ts')).handler as Handler;
  admin = (await import('#functions/api/trading-admin.ts')).handler as Handler;
});

afterAll(async () => {
  await mt5?.stop();
});

describe('opening an account', () => {
  it('a live MT5 account: 201 with the login and the passwords once; a replay is 200 without them', async () => {
    const c = await client();
    const key = uid();
    const body = { accountType: 'standard', kind: 'live', currency: 'USD', leverage: 30 };
    const res = await open(c.claims, body, key);
    expect(res.statusCode, res.body).toBe(201);
    const a = bodyOf<AccountBody>(res);
    expect(a).toMatchObject({ kind: 'live', status: 'active', access: 'full', leverage: 30, currency: 'USD' });
    expect(a.passwords!.main).toMatch(/^(?=.*[a-z])(?=.*[A-Z])(?=.*\d)(?=.*[#@!$%*_-]).{12}$/);
    expect(a.passwords!.investor).not.toBe(a.passwords!.main);
    const user = mt5.simulator.account(a.login!);
    expect(user).toMatchObject({ leverage: 30, group: 'real\\standard-usd', currency: 'USD' });

    const replay = await open(c.claims, body, key);
    expect(replay.statusCode).toBe(200);
    expect(replay.headers?.['idempotent-replayed']).toBe('true');
    const again = bodyOf<AccountBody>(replay);
    expect(again.accountId).toBe(a.accountId);
    expect(again.passwords).toBeUndefined();
    expect(mt5.simulator.accounts().filter((x) => x.login === a.login)).toHaveLength(1);

    const reused = await open(c.claims, { ...body, leverage: 20 }, key);
    expect(reused.statusCode).toBe(422);
    expect(bodyOf<{ code: string }>(reused).code).toBe('idempotency_key_reused');
    // no password is stored anywhere
    const items = await ddb().send(new ScanCommand({ TableName: table, ConsistentRead: true }));
    expect(JSON.stringify(items.Items)).not.toContain(a.passwords!.main);
  });

  it('twins of one open request create one platform account: the others answer the replay or 409 in progress', async () => {
    const c = await client();
    const key = uid();
    const body = { accountType: 'standard', kind: 'live', currency: 'USD', leverage: 30 };
    const before = mt5.simulator.accounts().length;
    const all = await Promise.all(Array.from({ length: 4 }, () => open(c.claims, body, key)));
    const statuses = all.map((r) => r.statusCode).sort();
    expect(
      statuses.filter((s) => s === 201),
      all.map((r) => r.body).join('\n'),
    ).toHaveLength(1);
    for (const r of all.filter((x) => x.statusCode !== 201)) {
      if (r.statusCode === 409) expect(bodyOf<{ code: string }>(r).code).toBe('account_opening_in_progress');
      else expect(r.statusCode).toBe(200);
    }
    expect(mt5.simulator.accounts().length).toBe(before + 1);
    expect(bodyOf<AccountBody>(await open(c.claims, body, key)).status).toBe('active');
  });

  it('bad input gets a specific problem and changes nothing', async () => {
    const c = await client();
    const pending = await client('DE', 'not_started');
    const before = await countItems();
    const cases: [Record<string, string>, unknown, number, string][] = [
      [c.claims, { accountType: 'platinum', kind: 'live', currency: 'USD', leverage: 30 }, 404, 'account_type_not_found'],
      [c.claims, { accountType: 'swap-free', kind: 'live', currency: 'USD', leverage: 30 }, 404, 'account_type_not_found'],
      [c.claims, { accountType: 'standard', kind: 'live', currency: 'USD', leverage: 100 }, 422, 'leverage_above_cap'],
      [c.claims, { accountType: 'standard', kind: 'live', currency: 'USD', leverage: 25 }, 422, 'leverage_not_offered'],
      [c.claims, { accountType: 'standard', kind: 'live', currency: 'JPY', leverage: 30 }, 422, 'currency_not_offered'],
      [pending.claims, { accountType: 'standard', kind: 'live', currency: 'USD', leverage: 30 }, 403, 'kyc_required'],
      [c.claims, { accountType: 'standard', kind: 'live', currency: 'USD' }, 400, 'validation_failed'],
    ];
    for (const [claims, body, status, code] of cases) {
      const res = await open(claims, body);
      expect(res.statusCode, `${code}: ${res.body}`).toBe(status);
      expect(res.headers?.['content-type'] ?? res.headers?.['Content-Type']).toContain('application/problem+json');
      expect(bodyOf<{ code: string }>(res).code).toBe(code);
      if (code === 'leverage_above_cap') {
        const p = bodyOf<{ detail: string; errors: { field: string; message: string }[] }>(res);
        expect(p.detail).toContain('1:30 cap');
        expect(p.errors).toEqual([{ field: 'leverage', code: 'leverage_above_cap', message: 'At most 1:30' }]);
      }
    }
    // the 403 of a role-allowed route is not a security event; only the refusals above happened
    expect(await countItems()).toBe(before);
  });

  it('a demo account needs no KYC and starts with the type’s demo balance, applied once', async () => {
    const c = await client('DE', 'not_started');
    const res = await open(c.claims, { accountType: 'standard', kind: 'demo', currency: 'EUR', leverage: 30 });
    expect(res.statusCode, res.body).toBe(201);
    const a = bodyOf<AccountBody>(res);
    expect(mt5.simulator.account(a.login!).group).toBe('demo\\standard-eur');
    expect((await adapter.accountState(a.login!)).balance).toBe(10_000_00n);
    const demo = await transfer(c.claims, a.accountId, 'deposit', '10.00');
    expect(bodyOf<{ code: string }>(demo).code).toBe('demo_account_transfer');
  });
});

describe('moving money between the wallet and the account', () => {
  it('deposit, trade, withdraw: the ledger and the platform agree, and reconciliation finds nothing', async () => {
    const c = await fundedClient();
    const a = await liveAccount(c.claims);
    const before = await countItems();
    const small = await transfer(c.claims, a.accountId, 'deposit', '50.00');
    expect(small.statusCode).toBe(422);
    expect(bodyOf<{ code: string; detail: string }>(small)).toMatchObject({
      code: 'amount_below_first_deposit_minimum',
      detail: 'The first deposit into this account is at least 100.00 USD',
    });
    const broke = await transfer(c.claims, a.accountId, 'deposit', '5000.00');
    expect(bodyOf<{ code: string }>(broke).code).toBe('insufficient_funds');
    expect(await countItems()).toBe(before);

    const dep = await transfer(c.claims, a.accountId, 'deposit', '500.00');
    expect(dep.statusCode, dep.body).toBe(201);
    expect(bodyOf<TransferBody>(dep)).toMatchObject({ status: 'completed', amount: { amount: '500.00', currency: 'USD' } });
    expect(await walletOf(c.id)).toBe(500_00n);
    expect(await platformBalance(a.login!)).toBe(500_00n);
    // the minimum applies to the first deposit only
    const second = await transfer(c.claims, a.accountId, 'deposit', '20.00');
    expect(bodyOf<TransferBody>(second).status).toBe('completed');

    // a position takes margin: more than the free margin cannot leave
    await terminal('/terminal/orders', { login: a.login, symbol: 'EURUSD', side: 'buy', lots: '0.10' });
    const view = bodyOf<AccountBody>(
      await call(handler, 'GET', '/v1/trading-accounts/{accountId}', { claims: c.claims, params: { accountId: a.accountId } }),
    );
    expect(view.state!.marginLevel).not.toBeNull();
    const tooMuch = await transfer(c.claims, a.accountId, 'withdrawal', '519.00');
    expect(tooMuch.statusCode).toBe(422);
    const noMoney = bodyOf<{ code: string; detail: string }>(tooMuch);
    expect(noMoney.code).toBe('no_money');
    expect(noMoney.detail).toMatch(
      /^At most \d+\.\d\d USD can leave the account now \(free margin \d+\.\d\d, balance 520\.00\)$/,
    );

    const positions = bodyOf<{ items: { positionId: number; lots: string; symbol: string }[] }>(
      await call(handler, 'GET', '/v1/trading-accounts/{accountId}/positions', {
        claims: c.claims,
        params: { accountId: a.accountId },
      }),
    );
    expect(positions.items).toHaveLength(1);
    expect(positions.items[0]).toMatchObject({ symbol: 'EURUSD', lots: '0.10' });
    await terminal(`/terminal/positions/${positions.items[0]!.positionId}/close`, { login: a.login });

    const wd = await transfer(c.claims, a.accountId, 'withdrawal', '100.00');
    expect(bodyOf<TransferBody>(wd).status, wd.body).toBe('completed');
    expect(await walletOf(c.id)).toBe(580_00n);

    const ingested = await ingestDeals({ platform: 'mt5' }, { requestId: 'test', locale: 'en' });
    expect(ingested.written).toBeGreaterThanOrEqual(5);
    const deals = bodyOf<{ items: { action: string; entry: string; lots: string; price: string }[] }>(
      await call(handler, 'GET', '/v1/trading-accounts/{accountId}/deals', {
        claims: c.claims,
        params: { accountId: a.accountId },
      }),
    );
    expect(deals.items.map((d) => `${d.action}/${d.entry}`)).toEqual([
      'balance/in',
      'sell/out',
      'buy/in',
      'balance/in',
      'balance/in',
    ]);
    expect(deals.items[2]!.price).toMatch(/^1\.\d{5}$/);
    const again = await ingestDeals({ platform: 'mt5' }, { requestId: 'test', locale: 'en' });
    expect(again.written).toBe(0);
    // the client's trading turnover (the AML round-trip rule reads it): both trade deals' notional, 0.10 lot each
    const dealItems = (await ddb().send(new ScanCommand({ TableName: table, ConsistentRead: true }))).Items ?? [];
    const notional = dealItems
      .filter((i) => i.type === 'trading-deal' && i.accountId === a.accountId && i.notional)
      .reduce((n, i) => n + BigInt(i.notional as string), 0n);
    expect(notional).toBeGreaterThan(2n * 10_000_00n);
    const hour = new Date(Date.now() - 3_600_000);
    expect(await turnoverBetween(c.id, 'USD', hour, new Date())).toBe(notional);
    expect(await turnoverBetween(c.id, 'EUR', hour, new Date())).toBe(0n);

    const account = (await getTradingAccount(a.accountId))!;
    expect(await reconcileAccount(account)).toEqual([]);
    expect((await getBalance(account.ledgerAccountId!)).ledger).toBe(420_00n);
  });

  it('a platform refusal moves the money back: the transfer fails with the platform’s code', async () => {
    const c = await fundedClient();
    const a = await liveAccount(c.claims);
    const refusing: TradingPlatform = Object.assign(Object.create(adapter) as Mt5Platform, {
      changeBalance: async () => {
        throw new TradingError('trade_disabled', 'Trading is disabled for this account');
      },
    });
    const restore = usePlatformForTests('mt5', refusing);
    try {
      const res = await transfer(c.claims, a.accountId, 'deposit', '300.00');
      expect(res.statusCode, res.body).toBe(201);
      expect(bodyOf<TransferBody>(res)).toMatchObject({ status: 'failed', reason: 'trade_disabled' });
    } finally {
      restore();
    }
    expect(await walletOf(c.id)).toBe(1_000_00n);
    expect(await platformBalance(a.login!)).toBe(0n);
    expect((await getBalance(`tacc_${a.accountId}`)).ledger).toBe(0n);
  });

  it('a timeout is resolved by asking the platform, and the money moves once', async () => {
    const c = await fundedClient();
    const a = await liveAccount(c.claims);
    // the platform applies the operation but the answer is lost
    const lossy: TradingPlatform = Object.assign(Object.create(adapter) as Mt5Platform, {
      changeBalance: async (change: Parameters<TradingPlatform['changeBalance']>[0]) => {
        await adapter.changeBalance(change);
        throw new TradingError('platform_unavailable', 'timed out');
      },
    });
    const restore = usePlatformForTests('mt5', lossy);
    let t: TransferBody;
    try {
      const res = await transfer(c.claims, a.accountId, 'deposit', '250.00');
      t = bodyOf<TransferBody>(res);
      expect(t.status).toBe('pending');
    } finally {
      restore();
    }
    expect(await walletOf(c.id)).toBe(750_00n);
    const r = await resolvePendingTransfers({ minAgeMs: 0, max: 100 }, { requestId: 'test', locale: 'en' });
    expect(r.completed).toBeGreaterThanOrEqual(1);
    const got = bodyOf<TransferBody>(
      await call(handler, 'GET', '/v1/trading-accounts/{accountId}/transfers/{transferId}', {
        claims: c.claims,
        params: { accountId: a.accountId, transferId: t.transferId },
      }),
    );
    expect(got.status).toBe('completed');
    expect(await platformBalance(a.login!)).toBe(250_00n);
    const ops = mt5.simulator.deals(a.login!).filter((d) => d.action === 'balance');
    expect(ops).toHaveLength(1);
  });

  it('a request that dies after the journal, before the platform answered, is completed once by the resolver after its lease', async () => {
    const c = await fundedClient();
    const a = await liveAccount(c.claims);
    // the platform never answers this request: it is as if the process died mid-way
    const hung: TradingPlatform = Object.assign(Object.create(adapter) as Mt5Platform, {
      changeBalance: () => new Promise<never>(() => {}),
    });
    const restore = usePlatformForTests('mt5', hung);
    const key = uid();
    void transfer(c.claims, a.accountId, 'deposit', '300.00', key);
    const transferId = tradingTransferIdFor(a.accountId, key);
    for (let i = 0; i < 500 && !(await getTransfer(transferId, { consistent: true })); i++)
      await new Promise((r) => setTimeout(r, 20));
    restore();
    expect((await getTransfer(transferId, { consistent: true }))?.status).toBe('pending');
    expect(await walletOf(c.id)).toBe(700_00n);
    // within the lease, neither a replay nor the resolver talks to the platform
    const ctx = { requestId: 'test', locale: 'en' };
    expect((await resolvePendingTransfers({ minAgeMs: 0, max: 500 }, ctx)).completed).toBe(0);
    expect(bodyOf<TransferBody>(await transfer(c.claims, a.accountId, 'deposit', '300.00', key)).status).toBe('pending');
    expect(await platformBalance(a.login!)).toBe(0n);
    // after it, the resolver asks the platform (nothing there), sends it once, and completes the transfer
    const later = new Date(Date.now() + LEASE_MS + 1_000);
    await resolvePendingTransfers({ minAgeMs: 0, max: 500 }, { ...ctx, now: later });
    await resolvePendingTransfers({ minAgeMs: 0, max: 500 }, { ...ctx, now: later });
    expect((await getTransfer(transferId, { consistent: true }))?.status).toBe('completed');
    expect(await platformBalance(a.login!)).toBe(300_00n);
    expect(mt5.simulator.deals(a.login!).filter((d) => d.action === 'balance')).toHaveLength(1);
    expect(await walletOf(c.id)).toBe(700_00n);
  });

  it('six twins of one request move the money once', async () => {
    const c = await fundedClient();
    const a = await liveAccount(c.claims);
    const key = uid();
    const all = await Promise.all(Array.from({ length: 6 }, () => transfer(c.claims, a.accountId, 'deposit', '120.00', key)));
    const ids = new Set(all.map((r) => bodyOf<TransferBody>(r).transferId));
    expect(ids.size, all.map((r) => r.body).join('\n')).toBe(1);
    for (const r of all) expect([200, 201]).toContain(r.statusCode);
    expect(await walletOf(c.id)).toBe(880_00n);
    expect(await platformBalance(a.login!)).toBe(120_00n);
  });
});

describe('changing an account', () => {
  it('leverage within the cap, a password reset, and staff restricting the account with a reason', async () => {
    const c = await client();
    const a = await liveAccount(c.claims);
    const lev = await call(handler, 'POST', '/v1/trading-accounts/{accountId}/leverage', {
      claims: c.claims,
      params: { accountId: a.accountId },
      body: { leverage: 20 },
    });
    expect(lev.statusCode, lev.body).toBe(200);
    expect(mt5.simulator.account(a.login!).leverage).toBe(20);
    const over = await call(handler, 'POST', '/v1/trading-accounts/{accountId}/leverage', {
      claims: c.claims,
      params: { accountId: a.accountId },
      body: { leverage: 200 },
    });
    expect(bodyOf<{ code: string; detail: string }>(over)).toMatchObject({ code: 'leverage_above_cap' });
    expect(bodyOf<{ detail: string }>(over).detail).toContain('1:30 cap');
    expect(mt5.simulator.account(a.login!).leverage).toBe(20);

    const reset = await call(handler, 'POST', '/v1/trading-accounts/{accountId}/password-resets', {
      claims: c.claims,
      params: { accountId: a.accountId },
      body: { which: 'investor' },
    });
    expect(reset.statusCode, reset.body).toBe(201);
    expect(Object.keys(bodyOf<Record<string, string>>(reset))).toEqual(['investor']);

    const staff = claimsFor(`staff-${uid()}`, ['compliance']);
    const restricted = await call(admin, 'POST', '/v1/admin/trading-accounts/{accountId}/access', {
      claims: staff,
      params: { accountId: a.accountId },
      body: { access: 'read_only', reason: 'AML review of deposits' },
    });
    expect(restricted.statusCode, restricted.body).toBe(200);
    expect(mt5.simulator.account(a.login!).readOnly).toBe(true);
    const noReason = await call(admin, 'POST', '/v1/admin/trading-accounts/{accountId}/access', {
      claims: staff,
      params: { accountId: a.accountId },
      body: { access: 'disabled' },
    });
    expect(noReason.statusCode).toBe(400);
    const sales = claimsFor(`staff-${uid()}`, ['sales']);
    const refused = await call(admin, 'POST', '/v1/admin/trading-accounts/{accountId}/access', {
      claims: sales,
      params: { accountId: a.accountId },
      body: { access: 'full', reason: 'because' },
    });
    expect(refused.statusCode).toBe(403);

    const view = bodyOf<{ items: (AccountBody & { accessReason?: string; discrepancies: unknown[] })[] }>(
      await call(admin, 'GET', '/v1/admin/clients/{clientId}/trading-accounts', { claims: sales, params: { clientId: c.id } }),
    );
    expect(view.items).toHaveLength(1);
    expect(view.items[0]).toMatchObject({
      group: 'real\\standard-usd',
      access: 'read_only',
      accessReason: 'AML review of deposits',
      discrepancies: [],
    });
  });

  it("another client's account is 404 on every route, and a client never sees the group", async () => {
    const owner = await client();
    const other = await client();
    const a = await liveAccount(owner.claims);
    const params = { accountId: a.accountId };
    for (const [method, resource, body] of [
      ['GET', '/v1/trading-accounts/{accountId}', undefined],
      ['GET', '/v1/trading-accounts/{accountId}/positions', undefined],
      ['GET', '/v1/trading-accounts/{accountId}/deals', undefined],
      ['GET', '/v1/trading-accounts/{accountId}/transfers', undefined],
      ['POST', '/v1/trading-accounts/{accountId}/leverage', { leverage: 10 }],
      ['POST', '/v1/trading-accounts/{accountId}/password-resets', { which: 'both' }],
      [
        'POST',
        '/v1/trading-accounts/{accountId}/transfers',
        { direction: 'deposit', amount: { amount: '100.00', currency: 'USD' } },
      ],
    ] as const) {
      const res = await call(handler, method, resource, { claims: other.claims, params, body, key: uid() });
      expect(res.statusCode, `${method} ${resource}`).toBe(404);
      expect(bodyOf<{ code: string }>(res).code).toBe('trading_account_not_found');
    }
    const mine = bodyOf<AccountBody>(
      await call(handler, 'GET', '/v1/trading-accounts/{accountId}', { claims: owner.claims, params }),
    );
    expect(mine.group).toBeUndefined();
    expect(mt5.simulator.account(a.login!).leverage).toBe(30);
  });
});

describe('retail protection through the platform', () => {
  it('a price gap stops the account out at the 50 % close-out and negative balance protection leaves it at zero', async () => {
    const c = await fundedClient();
    const a = await liveAccount(c.claims);
    expect(bodyOf<TransferBody>(await transfer(c.claims, a.accountId, 'deposit', '200.00')).status).toBe('completed');
    await terminal('/terminal/quotes', { symbol: 'EURUSD', bid: '1.08500', ask: '1.08510' });
    await terminal('/terminal/orders', { login: a.login, symbol: 'EURUSD', side: 'buy', lots: '0.05' });
    // 850 points against a 0.05-lot buy: a 425.00 USD loss on 200.00 of equity
    await terminal('/terminal/quotes', { symbol: 'EURUSD', bid: '1.00000', ask: '1.00010' });
    await terminal('/terminal/quotes', { symbol: 'EURUSD', bid: '1.08500', ask: '1.08510' });
    const view = bodyOf<AccountBody>(
      await call(handler, 'GET', '/v1/trading-accounts/{accountId}', { claims: c.claims, params: { accountId: a.accountId } }),
    );
    expect(view.state!.balance.amount).toBe('0.00');
    expect(view.state!.equity.amount).toBe('0.00');
    await ingestDeals({ platform: 'mt5' }, { requestId: 'test', locale: 'en' });
    const deals = bodyOf<{ items: { action: string; reason: string; profit: { amount: string } }[] }>(
      await call(handler, 'GET', '/v1/trading-accounts/{accountId}/deals', {
        claims: c.claims,
        params: { accountId: a.accountId },
      }),
    );
    expect(deals.items[0]).toMatchObject({ action: 'so_compensation' });
    expect(deals.items[1]).toMatchObject({ action: 'sell', reason: 'stop_out' });
    expect(Number(deals.items[0]!.profit.amount)).toBeGreaterThan(0);
  });
});

describe('reconciliation', () => {
  it('a balance operation made on the platform outside the back office is reported with its amount', async () => {
    const c = await fundedClient();
    const a = await liveAccount(c.claims);
    expect(bodyOf<TransferBody>(await transfer(c.claims, a.accountId, 'deposit', '200.00')).status).toBe('completed');
    await adapter.changeBalance({ login: a.login!, amount: 50_00n, type: 'balance', comment: 'dealer', externalId: 'manual-1' });
    await ingestDeals({ platform: 'mt5' }, { requestId: 'test', locale: 'en' });
    const findings = await reconcileAccount((await getTradingAccount(a.accountId))!);
    expect(findings.map((f) => [f.code, f.actual ?? f.expected])).toEqual([
      ['unknown_platform_operation', '50.00'],
      ['platform_differs', '250.00'],
    ]);
  });
});
