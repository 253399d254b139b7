/**
 * Wallet and transfer handlers against a real table on DynamoDB Local: ownership (404 for another
 * client's wallet on every route), every bad-input code, FX at the tenant rate, idempotent replay
 * (same journal id), key reuse with another body (422), nothing written on failure, statements.
 */
import { randomUUID } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { ddb } from '#shared/clients.ts';
import { useHandlerEnv } from '../support/api-env.ts';
import { apiEvent, bodyOf, claimsFor, lambdaContext } from '../support/events.ts';

type Handler = (
  e: ReturnType<typeof apiEvent>,
  c: ReturnType<typeof lambdaContext>,
) => Promise<{ statusCode: number; body: string; headers?: Record<string, unknown> }>;
let wallets: Handler;
let transfers: Handler;
let adjustments: Handler;
let table: string;

const uid = () => randomUUID().slice(0, 8);
const clientA = claimsFor(`client-a-${uid()}`, ['client']);
const clientB = claimsFor(`client-b-${uid()}`, ['client']);
const finance = claimsFor(`finance-${uid()}`, ['finance']);
const compliance = claimsFor(`compliance-${uid()}`, ['compliance']);
const sales = claimsFor(`sales-${uid()}`, ['sales']);
const wal = (claims: Record<string, string>, cur: string) => `wal_${claims.sub}_${cur}`;

const call = (h: Handler, input: Parameters<typeof apiEvent>[0]) => h(apiEvent(input), lambdaContext());
const listWallets = (claims: Record<string, string>) => call(wallets, { method: 'GET', resource: '/v1/wallets', claims });
const txns = (
  claims: Record<string, string>,
  walletId: string,
  query?: Record<string, string>,
  headers?: Record<string, string>,
) =>
  call(wallets, {
    method: 'GET',
    resource: '/v1/wallets/{walletId}/transactions',
    pathParameters: { walletId },
    claims,
    ...(query ? { query } : {}),
    ...(headers ? { headers } : {}),
  });
const statement = (claims: Record<string, string>, walletId: string, month: string) =>
  call(wallets, {
    method: 'GET',
    resource: '/v1/wallets/{walletId}/statement',
    pathParameters: { walletId },
    query: { month },
    claims,
  });
const transfer = (claims: Record<string, string>, body: unknown, key: string | null = `trf-${uid()}-${uid()}`) =>
  call(transfers, {
    method: 'POST',
    resource: '/v1/transfers',
    claims,
    body,
    headers: key ? { 'Idempotency-Key': key } : {},
  });
const fund = async (claims: Record<string, string>, cur: string, amount: string) => {
  const res = await call(adjustments, {
    method: 'POST',
    resource: '/v1/admin/adjustments',
    claims: finance,
    body: {
      walletId: wal(claims, cur),
      direction: 'credit',
      amount: { amount, currency: cur },
      reason: 'Test funding of the wallet',
    },
    headers: { 'Idempotency-Key': `fund-${uid()}-${uid()}` },
  });
  expect(res.statusCode, res.body).toBe(201);
};
/** Cells of one CSV line (RFC 4180 quotes). */
const cells = (line: string): string[] =>
  [...line.matchAll(/("(?:[^"]|"")*"|[^,]*)(,|$)/g)].slice(0, -1).map((m) => m[1]!.replace(/^"|"$/g, '').replace(/""/g, '"'));
const countItems = async () =>
  (await ddb().send(new ScanCommand({ TableName: table, Select: 'COUNT', ConsistentRead: true }))).Count ?? 0;
const balanceOf = async (claims: Record<string, string>, cur: string) => {
  const items = bodyOf<{ items: { currency: string; balance: { amount: string }; available: { amount: string } }[] }>(
    await listWallets(claims),
  ).items;
  return items.find((w) => w.currency === cur)!;
};

beforeAll(async () => {
  table = await useHandlerEnv('ledger-wallets');
  wallets = (await import('#functions/api/wallets.ts')).handler as Handler;
  transfers = (await import('#functions/api/transfers.ts')).handler as Handler;
  adjustments = (await import('#functions/api/adjustments.ts')).handler as Handler;
  await listWallets(clientA);
  await listWallets(clientB);
  // house accounts are opened on first use; open the FX ones now so "nothing written" counts only the movement
  const { houseAccount } = await import('#store/ledger/accounts.ts');
  for (const cur of ['USD', 'EUR', 'GBP']) await houseAccount('fx_position', cur, { shards: 8 });
  await fund(clientA, 'USD', '1000.00');
  await fund(clientB, 'USD', '50.00');
});

describe('GET /v1/wallets', () => {
  it('gives one wallet per enabled currency, zero balances included, money as decimal strings', async () => {
    const res = await listWallets(clientB);
    expect(res.statusCode).toBe(200);
    const items = bodyOf<{ items: { walletId: string; currency: string; balance: unknown; held: unknown }[] }>(res).items;
    expect(items.map((w) => w.currency)).toEqual(['USD', 'EUR', 'GBP', 'JPY', 'USDT']);
    expect(items[0]).toMatchObject({
      walletId: wal(clientB, 'USD'),
      balance: { amount: '50.00', currency: 'USD' },
      available: { amount: '50.00', currency: 'USD' },
      held: { amount: '0.00', currency: 'USD' },
      frozen: false,
    });
    expect(items.find((w) => w.currency === 'JPY')).toMatchObject({ balance: { amount: '0', currency: 'JPY' } });
    expect(items.find((w) => w.currency === 'USDT')).toMatchObject({ balance: { amount: '0.000000', currency: 'USDT' } });
  });

  it('staff (no client role) get 403', async () => {
    expect((await listWallets(finance)).statusCode).toBe(403);
  });
});

describe('ownership: a client never reaches another client wallet', () => {
  it('transactions and statement of another client wallet are 404 wallet_not_found, like an unknown id', async () => {
    for (const id of [wal(clientB, 'USD'), 'wal_nobody_USD', 'house_house_adjustments_USD']) {
      const t = await txns(clientA, id);
      expect(t.statusCode, id).toBe(404);
      expect(bodyOf(t).code).toBe('wallet_not_found');
      const s = await statement(clientA, id, '2025-01');
      expect(s.statusCode, id).toBe(404);
      expect(bodyOf(s).code).toBe('wallet_not_found');
    }
  });

  it('transfers from or to another client wallet are 404 and write nothing', async () => {
    const before = await countItems();
    const from = await transfer(clientA, {
      fromWalletId: wal(clientB, 'USD'),
      toWalletId: wal(clientA, 'EUR'),
      amount: { amount: '1.00', currency: 'USD' },
    });
    expect(from.statusCode).toBe(404);
    expect(bodyOf(from).code).toBe('wallet_not_found');
    const to = await transfer(clientA, {
      fromWalletId: wal(clientA, 'USD'),
      toWalletId: wal(clientB, 'EUR'),
      amount: { amount: '1.00', currency: 'USD' },
    });
    expect(to.statusCode).toBe(404);
    expect(bodyOf(to).code).toBe('wallet_not_found');
    expect(await countItems()).toBe(before);
    expect((await balanceOf(clientB, 'USD')).balance.amount).toBe('50.00');
  });

  it('finance and compliance may read any wallet; other staff roles may not', async () => {
    expect((await txns(finance, wal(clientA, 'USD'))).statusCode).toBe(200);
    expect((await txns(compliance, wal(clientA, 'USD'))).statusCode).toBe(200);
    expect((await statement(compliance, wal(clientA, 'USD'), '2025-01')).statusCode).toBe(200);
    expect((await txns(sales, wal(clientA, 'USD'))).statusCode).toBe(403);
  });

  it('staff cannot move client money through /v1/transfers', async () => {
    const r = await transfer(finance, {
      fromWalletId: wal(clientA, 'USD'),
      toWalletId: wal(clientA, 'EUR'),
      amount: { amount: '1.00', currency: 'USD' },
    });
    expect(r.statusCode).toBe(403);
  });
});

describe('POST /v1/transfers', () => {
  const good = () => ({
    fromWalletId: wal(clientA, 'USD'),
    toWalletId: wal(clientA, 'EUR'),
    amount: { amount: '100.00', currency: 'USD' },
  });

  it('requires an Idempotency-Key', async () => {
    const r = await transfer(clientA, good(), null);
    expect(r.statusCode).toBe(400);
    expect(bodyOf(r).code).toBe('idempotency_key_required');
  });

  const bad: [string, Record<string, unknown>, number, string][] = [
    ['zero', { amount: { amount: '0.00', currency: 'USD' } }, 422, 'amount_not_positive'],
    ['negative', { amount: { amount: '-5.00', currency: 'USD' } }, 400, 'invalid_amount'],
    ['not a number', { amount: { amount: '1e3', currency: 'USD' } }, 400, 'invalid_amount'],
    ['over-precise', { amount: { amount: '1.001', currency: 'USD' } }, 422, 'amount_too_precise'],
    ['unknown currency', { amount: { amount: '1.00', currency: 'XXX' } }, 422, 'unknown_currency'],
    ['currency not enabled', { amount: { amount: '1.00', currency: 'CHF' } }, 422, 'currency_not_enabled'],
    ['mismatched currency', { amount: { amount: '1.00', currency: 'EUR' } }, 422, 'currency_mismatch'],
    ['same wallet', { toWalletId: 'SELF' }, 422, 'same_wallet'],
    ['insufficient funds', { amount: { amount: '100000.00', currency: 'USD' } }, 422, 'insufficient_funds'],
    ['unknown field', { extra: true }, 400, 'validation_failed'],
  ];
  for (const [name, patch, status, code] of bad) {
    it(`${name}: ${status} ${code}, nothing written`, async () => {
      const body = { ...good(), ...patch };
      if (patch.toWalletId === 'SELF') body.toWalletId = body.fromWalletId;
      const before = await countItems();
      const r = await transfer(clientA, body);
      expect(r.statusCode, r.body).toBe(status);
      expect(bodyOf(r).code).toBe(code);
      expect(String(r.headers?.['content-type'])).toContain('application/problem+json');
      expect(await countItems()).toBe(before);
    });
  }

  it('USD -> EUR posts one FX journal at the tenant rate with markup; the rate is on both entries', async () => {
    const key = `fx-${uid()}-${uid()}`;
    const r = await transfer(clientA, { ...good(), reference: 'to savings' }, key);
    expect(r.statusCode, r.body).toBe(201);
    const out = bodyOf<{
      journalId: string;
      type: string;
      fx: { rate: string; midRate: string; markupBps: number; text: string };
      postings: { walletId: string; amount: { amount: string; currency: string } }[];
    }>(r);
    expect(out.type).toBe('fx_transfer');
    // 1 / 1.0850 = 0.9216589862 mid; minus 25 bps
    expect(out.fx).toMatchObject({
      rate: '0.9193548387',
      midRate: '0.9216589862',
      markupBps: 25,
      text: '1 USD = 0.9193548387 EUR',
    });
    expect(out.postings).toEqual([
      { walletId: wal(clientA, 'USD'), amount: { amount: '-100.00', currency: 'USD' } },
      { walletId: wal(clientA, 'EUR'), amount: { amount: '91.93', currency: 'EUR' } },
    ]);

    const usd = bodyOf<{
      items: { journalId: string; amount: unknown; balance: unknown; description: string; fx?: { rate: string } }[];
    }>(await txns(clientA, wal(clientA, 'USD'))).items[0]!;
    expect(usd).toMatchObject({
      journalId: out.journalId,
      amount: { amount: '-100.00', currency: 'USD' },
      balance: { amount: '900.00', currency: 'USD' },
      status: 'posted',
      reference: 'to savings',
      fx: { rate: '0.9193548387' },
    });
    expect(usd.description).toBe('Currency exchange USD → EUR, rate 1 USD = 0.9193548387 EUR');
    const eur = bodyOf<{ items: { description: string; fx?: { rate: string } }[] }>(
      await txns(clientA, wal(clientA, 'EUR'), undefined, { 'Accept-Language': 'de' }),
    ).items[0]!;
    expect(eur.fx?.rate).toBe('0.9193548387');
    expect(eur.description).toBe('Währungsumtausch USD → EUR, Kurs 1 USD = 0,9193548387 EUR');

    // replay: same key, same body -> same journal, no second movement, said in the header; the ledger's
    // idempotency item is the only record (route mode 'command': no edge IDEMPOTENCY# item)
    const again = await transfer(clientA, { ...good(), reference: 'to savings' }, key);
    expect(again.statusCode).toBe(201);
    expect(bodyOf(again)).toEqual(out);
    expect(again.headers?.['idempotent-replayed']).toBe('true');
    expect(r.headers?.['idempotent-replayed']).toBeUndefined();
    expect((await balanceOf(clientA, 'USD')).balance.amount).toBe('900.00');
    const edgeRecords = await ddb().send(
      new ScanCommand({
        TableName: table,
        FilterExpression: '#t = :t',
        ExpressionAttributeNames: { '#t': 'type' },
        ExpressionAttributeValues: { ':t': 'idempotency' },
        ConsistentRead: true,
      }),
    );
    expect(edgeRecords.Items?.filter((i) => String(i.pk).includes(key)) ?? []).toEqual([]);

    // same key, another body -> 422, nothing written
    const before = await countItems();
    const reused = await transfer(clientA, { ...good(), amount: { amount: '5.00', currency: 'USD' } }, key);
    expect(reused.statusCode).toBe(422);
    expect(bodyOf(reused).code).toBe('idempotency_key_reused');
    expect(await countItems()).toBe(before);
  });

  it('the ledger idempotency key holds even without the edge record (same journal id)', async () => {
    const { postTransfer: run } = await import('#app/ledger/post-transfer.ts');
    const { callerFrom } = await import('#middleware/auth.ts');
    const caller = callerFrom(apiEvent({ method: 'GET', resource: '/', claims: clientA }))!;
    const input = {
      fromWalletId: wal(clientA, 'USD'),
      toWalletId: wal(clientA, 'GBP'),
      amount: { amount: '10.00', currency: 'USD' },
    };
    const key = `direct-${uid()}-${uid()}`;
    const first = await run(input, caller, { idempotencyKey: key, requestId: 'r1', locale: 'en' });
    const second = await run(input, caller, { idempotencyKey: key, requestId: 'r2', locale: 'en' });
    expect(second.journal.journalId).toBe(first.journal.journalId);
    expect((await balanceOf(clientA, 'USD')).balance.amount).toBe('890.00');
    await expect(
      run({ ...input, amount: { amount: '11.00', currency: 'USD' } }, caller, {
        idempotencyKey: key,
        requestId: 'r3',
        locale: 'en',
      }),
    ).rejects.toMatchObject({
      code: 'idempotency_key_reused',
    });
  });

  it('twins sent at once with one Idempotency-Key post once: every answer is 201 with the same journal', async () => {
    await fund(clientB, 'USD', '50.00');
    const before = (await balanceOf(clientB, 'USD')).balance.amount;
    const key = `twin-${uid()}-${uid()}`;
    const body = {
      fromWalletId: wal(clientB, 'USD'),
      toWalletId: wal(clientB, 'EUR'),
      amount: { amount: '3.00', currency: 'USD' },
    };
    const answers = await Promise.all(Array.from({ length: 6 }, () => transfer(clientB, body, key)));
    expect(answers.map((a) => a.statusCode)).toEqual(Array(6).fill(201));
    expect(new Set(answers.map((a) => bodyOf<{ journalId: string }>(a).journalId)).size).toBe(1);
    expect(answers.filter((a) => a.headers?.['idempotent-replayed'] === 'true')).toHaveLength(5);
    const cents = (a: string) => BigInt(a.replace('.', ''));
    expect(cents((await balanceOf(clientB, 'USD')).balance.amount)).toBe(cents(before) - 300n);
  });

  it('a frozen wallet is 422 account_frozen', async () => {
    const { setAccountFlags } = await import('#store/ledger/accounts.ts');
    const ctx = { actor: { id: 'compliance-x', role: 'compliance' }, requestId: 'freeze' };
    await setAccountFlags(wal(clientB, 'USD'), { frozen: true }, ctx);
    try {
      const r = await transfer(clientB, {
        fromWalletId: wal(clientB, 'USD'),
        toWalletId: wal(clientB, 'EUR'),
        amount: { amount: '1.00', currency: 'USD' },
      });
      expect(r.statusCode).toBe(422);
      expect(bodyOf(r).code).toBe('account_frozen');
    } finally {
      await setAccountFlags(wal(clientB, 'USD'), { frozen: false }, ctx);
    }
  });
});

describe('GET /v1/wallets/{walletId}/transactions', () => {
  it('pages newest first with a cursor, and filters by time', async () => {
    const first = await txns(clientA, wal(clientA, 'USD'), { limit: '1' });
    const page1 = bodyOf<{ items: { journalId: string }[]; nextCursor?: string; hasMore: boolean }>(first);
    expect(page1.items).toHaveLength(1);
    expect(page1.hasMore).toBe(true);
    const page2 = bodyOf<{ items: { journalId: string }[] }>(
      await txns(clientA, wal(clientA, 'USD'), { limit: '1', cursor: page1.nextCursor! }),
    );
    expect(page2.items[0]!.journalId).not.toBe(page1.items[0]!.journalId);
    const future = bodyOf<{ items: unknown[] }>(await txns(clientA, wal(clientA, 'USD'), { from: '2999-01-01T00:00:00Z' }));
    expect(future.items).toEqual([]);
    const bad = await txns(clientA, wal(clientA, 'USD'), { from: 'yesterday' });
    expect(bad.statusCode).toBe(400);
    const cross = await txns(clientB, wal(clientB, 'USD'), { cursor: page1.nextCursor! });
    expect(cross.statusCode).toBe(400);
    expect(bodyOf(cross).code).toBe('invalid_cursor');
  });
});

describe('GET /v1/wallets/{walletId}/statement', () => {
  it('downloads this month as CSV with opening and closing balances, entries oldest first', async () => {
    const month = new Date().toISOString().slice(0, 7);
    const r = await statement(clientA, wal(clientA, 'USD'), month);
    expect(r.statusCode).toBe(200);
    expect(r.headers?.['content-type']).toBe('text/csv; charset=utf-8');
    expect(r.headers?.['content-disposition']).toBe(`attachment; filename="statement-${wal(clientA, 'USD')}-${month}.csv"`);
    const lines = r.body.trimEnd().split('\r\n');
    expect(lines[0]).toBe('date,type,description,reference,amount,currency,balance,fx_rate,journal_id');
    expect(lines[1]).toMatch(/,opening_balance,Opening balance,,,USD,0\.00,,$/);
    expect(lines.at(-1)).toMatch(/,closing_balance,Closing balance,,,USD,890\.00,,$/);
    const amounts = lines.slice(2, -1).map((l) => cells(l)[4]);
    expect(cells(lines[3]!)[2]).toBe('Currency exchange USD → EUR, rate 1 USD = 0.9193548387 EUR');
    expect(amounts).toEqual(['1000.00', '-100.00', '-10.00']);
  });

  it('a month before any activity has equal opening and closing balances; a bad month is 400', async () => {
    const r = await statement(clientA, wal(clientA, 'USD'), '2020-01');
    expect(r.body.split('\r\n').filter(Boolean)).toHaveLength(3);
    expect((await statement(clientA, wal(clientA, 'USD'), '2020-13')).statusCode).toBe(400);
  });
});
