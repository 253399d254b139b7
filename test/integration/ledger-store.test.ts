/**
 * The ledger store against DynamoDB Local, named after the invariants in functions/store/ledger/*.
 */
import { randomUUID } from 'node:crypto';
import { ScanCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DomainError } from '#domain/errors.ts';
import { fxTransferJournal, MAX_POSTINGS, transferJournal } from '#domain/ledger/index.ts';
import { ddb } from '#shared/clients.ts';
import { auditKeys, ledgerKeys } from '#store/keys.ts';
import { ledgerDdb } from '#store/ledger/codec.ts';
import {
  allPostings,
  balanceAsOf,
  ensureWallet,
  expireHold,
  getAccount,
  getBalance,
  getHold,
  getJournal,
  houseAccount,
  listPostings,
  listWallets,
  openAccount,
  placeHold,
  postHold,
  postJournal,
  scanAccounts,
  scanJournals,
  scanOpenHolds,
  setAccountFlags,
  voidHold,
} from '#store/ledger/index.ts';
import { useTestTable } from '../support/dynamodb.ts';
import { assertGapFree, fund, liftWaitDeadline } from '../support/ledger.ts';

let table: string;
beforeAll(async () => {
  table = await useTestTable('ledger');
});
afterEach(() => {
  vi.restoreAllMocks();
});

const actor = { id: 'staff-1', role: 'finance' };
const ctx = { actor, requestId: 'req-test' };
const usd = (amount: bigint) => ({ amount, currency: 'USD' });
const idem = (key: string, requestHash = 'h') => ({ scope: 'test', key, requestHash });
const codeOf = async (p: Promise<unknown>) => {
  try {
    await p;
    return 'ok';
  } catch (e) {
    if (e instanceof DomainError) return e.code;
    throw e;
  }
};

async function itemsWithPrefix(prefix: string) {
  const res = await ddb().send(
    new ScanCommand({ TableName: table, FilterExpression: 'begins_with(pk, :p)', ExpressionAttributeValues: { ':p': prefix } }),
  );
  return res.Items ?? [];
}

describe('wallets: deterministic, idempotent, one per currency', () => {
  it('ensureWallet creates once (even concurrently) and listWallets shows balances', async () => {
    const client = `c-${randomUUID()}`;
    const made = await Promise.all(Array.from({ length: 5 }, () => ensureWallet(client, 'USD', ctx)));
    expect(new Set(made.map((m) => m.accountId)).size).toBe(1);
    await ensureWallet(client, 'EUR', ctx);
    await fund(made[0]!, 1234n);
    const ws = await listWallets(client);
    expect(ws.map((w) => [w.currency, w.balance.ledger, w.flags.noNegative])).toEqual([
      ['EUR', 0n, true],
      ['USD', 1234n, true],
    ]);
    const audits = await itemsWithPrefix(auditKeys.partition('ledger-account', made[0]!.accountId));
    expect(audits.filter((a) => a.type === 'audit')).toHaveLength(1);
  });
});

describe('50 concurrent transfers out of a wallet funded for 30 post exactly 30', () => {
  it('exactly 30 posted, 20 insufficient_funds, final balance exact, running balances gap-free', async () => {
    liftWaitDeadline();
    const client = `c-${randomUUID()}`;
    const a = await ensureWallet(client, 'USD', ctx);
    const b = await ensureWallet(`c-${randomUUID()}`, 'USD', ctx);
    await fund(a, 3000n);
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        codeOf(
          postJournal({
            draft: transferJournal({ journalId: `t50-${client}-${i}`, from: a, to: b, amount: usd(100n) }),
            idempotency: idem(`t50-${client}-${i}`),
            actor,
            requestId: `r${i}`,
          }),
        ),
      ),
    );
    expect(results.filter((r) => r === 'ok')).toHaveLength(30);
    expect(results.filter((r) => r === 'insufficient_funds')).toHaveLength(20);
    expect(await getBalance(a.accountId)).toMatchObject({ ledger: 0n, held: 0n, available: 0n, seq: 31 });
    expect((await getBalance(b.accountId)).ledger).toBe(3000n);
    await assertGapFree(a.accountId);
    await assertGapFree(b.accountId);
  }, 180_000);
});

describe('idempotency: same key + same body replays, another body is rejected', () => {
  it('100 requests over 10 keys make exactly 10 journals', async () => {
    liftWaitDeadline();
    const run = randomUUID();
    const a = await ensureWallet(`c-${run}`, 'USD', ctx);
    const b = await ensureWallet(`d-${run}`, 'USD', ctx);
    await fund(a, 100_000n);
    const res = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        postJournal({
          draft: transferJournal({ journalId: `idem-${run}-${i % 10}`, from: a, to: b, amount: usd(100n) }),
          idempotency: idem(`k-${run}-${i % 10}`, `hash-${i % 10}`),
          actor,
          requestId: `r${i}`,
        }),
      ),
    );
    expect(res.filter((r) => !r.replayed)).toHaveLength(10);
    for (let i = 0; i < 100; i++) expect(res[i]!.journal.journalId).toBe(`idem-${run}-${i % 10}`);
    expect((await getBalance(a.accountId)).ledger).toBe(100_000n - 1000n);
    expect((await getBalance(b.accountId)).seq).toBe(10);
    const reused = await codeOf(
      postJournal({
        draft: transferJournal({ journalId: `idem-${run}-other`, from: a, to: b, amount: usd(999n) }),
        idempotency: idem(`k-${run}-3`, 'another-hash'),
        actor,
        requestId: 'r-reuse',
      }),
    );
    expect(reused).toBe('idempotency_key_reused');
    expect(await getJournal(`idem-${run}-other`)).toBeUndefined();
  }, 180_000);
});

describe('a sharded house account takes concurrent postings without serialising', () => {
  it('40 concurrent deposits through an 8-shard psp_clearing all succeed and the shards sum', async () => {
    liftWaitDeadline();
    const run = randomUUID();
    const psp = await openAccount(
      { accountId: `psp-${run}`, kind: 'psp_clearing', currency: 'EUR', ownerId: 'house', shards: 8, noNegative: false },
      ctx,
    );
    const wallets = await Promise.all(Array.from({ length: 40 }, (_, i) => ensureWallet(`sh-${run}-${i}`, 'EUR', ctx)));
    const res = await Promise.all(
      wallets.map((w, i) =>
        codeOf(
          postJournal({
            draft: transferJournal({
              journalId: `sh-${run}-${i}`,
              from: psp,
              to: w,
              amount: { amount: BigInt(i + 1), currency: 'EUR' },
              type: 'deposit',
            }),
            idempotency: idem(`sh-${run}-${i}`),
            actor,
            requestId: 'r',
          }),
        ),
      ),
    );
    expect(res.every((r) => r === 'ok')).toBe(true);
    const s = await assertGapFree(psp.accountId);
    expect(s.sum).toBe(-820n);
    expect(s.shards.filter((x) => x.count > 0).length).toBeGreaterThan(4);
    expect((await getBalance(psp.accountId)).ledger).toBe(-820n);
    const page1 = await listPostings(psp.accountId, { limit: 25 });
    const page2 = await listPostings(psp.accountId, { limit: 25, cursor: page1.nextCursor });
    expect(page1.hasMore).toBe(true);
    expect(page2.hasMore).toBe(false);
    const ids = [...page1.items, ...page2.items].map((p) => p.journalId);
    expect(new Set(ids).size).toBe(40);
    const keys = [...page1.items, ...page2.items].map(
      (p) => `${p.postedAt}#${String(p.shard).padStart(3, '0')}#${String(p.seq).padStart(12, '0')}`,
    );
    expect(keys).toEqual([...keys].sort().reverse());
    const asc: string[] = [];
    for await (const p of allPostings(psp.accountId)) asc.push(p.journalId);
    expect(asc).toEqual([...ids].reverse());
  }, 180_000);
});

describe('crash safety: a journal is visible whole or not at all, and a retry posts once', () => {
  const setup = async () => {
    const run = randomUUID();
    const a = await ensureWallet(`cr-${run}`, 'USD', ctx);
    const b = await ensureWallet(`cs-${run}`, 'USD', ctx);
    await fund(a, 500n);
    return { run, a, b };
  };
  const send = ddb().send.bind(ddb());

  it('a failure before the transaction reaches DynamoDB leaves nothing; the retry posts once', async () => {
    const { run, a, b } = await setup();
    const spy = vi.spyOn(ddb(), 'send').mockImplementation((async (cmd: unknown) => {
      if (
        cmd instanceof TransactWriteCommand &&
        JSON.stringify(cmd.input.TransactItems, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)).includes(`crash1-${run}`)
      ) {
        throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
      }
      return send(cmd as never);
    }) as never);
    const input = {
      draft: transferJournal({ journalId: `crash1-${run}`, from: a, to: b, amount: usd(200n) }),
      idempotency: idem(`crash1-${run}`),
      actor,
      requestId: 'r',
    };
    await expect(postJournal(input)).rejects.toThrow('socket hang up');
    spy.mockRestore();
    expect(await getJournal(`crash1-${run}`)).toBeUndefined();
    expect((await getBalance(a.accountId)).ledger).toBe(500n);
    expect(await itemsWithPrefix(ledgerKeys.idempotency('test', `crash1-${run}`).pk)).toHaveLength(0);
    const first = await postJournal(input);
    const again = await postJournal(input);
    expect(first.replayed).toBe(false);
    expect(again).toMatchObject({ replayed: true, journal: { journalId: `crash1-${run}` } });
    expect((await getBalance(a.accountId)).ledger).toBe(300n);
    await assertGapFree(a.accountId);
  });

  it('a failure after DynamoDB committed (lost response) shows the whole journal; the retry replays it', async () => {
    const { run, a, b } = await setup();
    const spy = vi.spyOn(ddb(), 'send').mockImplementation((async (cmd: unknown) => {
      const out = await send(cmd as never);
      if (
        cmd instanceof TransactWriteCommand &&
        JSON.stringify(cmd.input.TransactItems, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)).includes(`crash2-${run}`)
      ) {
        throw Object.assign(new Error('ECONNRESET'), { name: 'NetworkingError' });
      }
      return out;
    }) as never);
    const input = {
      draft: transferJournal({ journalId: `crash2-${run}`, from: a, to: b, amount: usd(200n) }),
      idempotency: idem(`crash2-${run}`),
      actor,
      requestId: 'r',
    };
    await expect(postJournal(input)).rejects.toThrow('ECONNRESET');
    spy.mockRestore();
    const j = await getJournal(`crash2-${run}`);
    expect(j?.postings.map((p) => p.amount)).toEqual([-200n, 200n]);
    expect((await getBalance(a.accountId)).ledger).toBe(300n);
    expect((await getBalance(b.accountId)).ledger).toBe(200n);
    const retry = await postJournal(input);
    expect(retry.replayed).toBe(true);
    expect((await getBalance(a.accountId)).ledger).toBe(300n);
    await assertGapFree(a.accountId);
  });
});

describe('an FX transfer is one journal that balances in each currency through the FX position', () => {
  it('debits the source, credits the target rounded down, and the FX position absorbs both legs', async () => {
    const run = randomUUID();
    const from = await ensureWallet(`fx-${run}`, 'USD', ctx);
    const to = await ensureWallet(`fx-${run}`, 'JPY', ctx);
    await fund(from, 100_00n);
    const [fxFrom, fxTo] = await Promise.all([houseAccount('fx_position', 'USD'), houseAccount('fx_position', 'JPY')]);
    const { journal } = await postJournal({
      draft: fxTransferJournal({
        journalId: `fx-${run}`,
        from,
        to,
        fxFrom,
        fxTo,
        amount: usd(33_33n),
        rate: '149.987',
        rateSource: 'test',
        rateAt: '2026-11-25T00:00:00.000Z',
      }),
      idempotency: idem(`fx-${run}`),
      actor,
      requestId: 'r',
    });
    const byAccount = new Map(journal.postings.map((p) => [p.accountId, p]));
    // 33.33 USD x 149.987 = 4999.06671 JPY -> 4999 (down: the client never gets more than the exact conversion)
    expect(byAccount.get(from.accountId)).toMatchObject({ amount: -33_33n, currency: 'USD' });
    expect(byAccount.get(fxFrom.accountId)).toMatchObject({ amount: 33_33n, currency: 'USD' });
    expect(byAccount.get(fxTo.accountId)).toMatchObject({ amount: -4999n, currency: 'JPY' });
    expect(byAccount.get(to.accountId)).toMatchObject({ amount: 4999n, currency: 'JPY' });
    for (const cur of ['USD', 'JPY']) {
      const sum = journal.postings.filter((p) => p.currency === cur).reduce((a, p) => a + p.amount, 0n);
      expect(sum, cur).toBe(0n);
    }
    expect((await getBalance(to.accountId)).ledger).toBe(4999n);
    expect((await getBalance(from.accountId)).ledger).toBe(66_67n);
    expect(journal.metadata.fx).toMatchObject({ rate: '149.987', rateSource: 'test' });
  });
});

describe('a failed funds condition writes nothing', () => {
  it('no journal, postings, audit, outbox or idempotency item', async () => {
    const run = randomUUID();
    const a = await ensureWallet(`nf-${run}`, 'USD', ctx);
    const b = await ensureWallet(`ng-${run}`, 'USD', ctx);
    const outboxBefore = (await itemsWithPrefix('OUTBOX#')).length;
    expect(
      await codeOf(
        postJournal({
          draft: transferJournal({ journalId: `nf-${run}`, from: a, to: b, amount: usd(1n) }),
          idempotency: idem(`nf-${run}`),
          actor,
          requestId: 'r',
        }),
      ),
    ).toBe('insufficient_funds');
    expect(await getJournal(`nf-${run}`)).toBeUndefined();
    expect(await itemsWithPrefix(ledgerKeys.postingPartition(a.accountId, 0))).toHaveLength(0);
    expect(await itemsWithPrefix(auditKeys.partition('journal', `nf-${run}`))).toHaveLength(0);
    expect(await itemsWithPrefix(ledgerKeys.idempotency('test', `nf-${run}`).pk)).toHaveLength(0);
    expect((await itemsWithPrefix('OUTBOX#')).length).toBe(outboxBefore);
    expect(await getBalance(a.accountId)).toMatchObject({ ledger: 0n, version: 1, seq: 0 });
  });

  it('a frozen account takes no postings until unfrozen (audited)', async () => {
    const run = randomUUID();
    const a = await ensureWallet(`fz-${run}`, 'USD', ctx);
    await fund(a, 100n);
    await setAccountFlags(a.accountId, { frozen: true }, ctx);
    expect((await getAccount(a.accountId))?.flags.frozen).toBe(true);
    expect(await codeOf(fund(a, 1n))).toBe('account_frozen');
    await setAccountFlags(a.accountId, { frozen: false }, ctx);
    expect(await codeOf(fund(a, 1n))).toBe('ok');
    const audits = (await itemsWithPrefix(auditKeys.partition('ledger-account', a.accountId))).filter((x) => x.type === 'audit');
    expect(audits.map((x) => x.action).sort()).toEqual([
      'ledger.account.frozen',
      'ledger.account.opened',
      'ledger.account.unfrozen',
    ]);
  });
});

describe('a journal larger than MAX_POSTINGS is rejected before any write', () => {
  it('journal_too_large, and nothing is sent to DynamoDB', async () => {
    const spy = vi.spyOn(ddb(), 'send');
    const ledgerSpy = vi.spyOn(ledgerDdb(), 'send');
    const postings = Array.from({ length: MAX_POSTINGS + 1 }, (_, i) => ({
      accountId: `x${i}`,
      amount: i === 0 ? -BigInt(MAX_POSTINGS) : 1n,
      currency: 'USD',
    }));
    const run = randomUUID();
    expect(
      await codeOf(
        postJournal({
          draft: { journalId: `big-${run}`, type: 'adjustment', postings, metadata: {} },
          idempotency: idem(`big-${run}`),
          actor,
          requestId: 'r',
        }),
      ),
    ).toBe('journal_too_large');
    expect(spy).not.toHaveBeenCalled();
    expect(ledgerSpy).not.toHaveBeenCalled();
  });

  it('a journal of exactly MAX_POSTINGS postings commits in one transaction', async () => {
    const run = randomUUID();
    const accounts = await Promise.all(
      Array.from({ length: MAX_POSTINGS }, (_, i) =>
        openAccount({ accountId: `mx-${run}-${i}`, kind: 'suspense', currency: 'USD', ownerId: 'house' }, ctx),
      ),
    );
    const postings = accounts.map((a, i) => ({
      accountId: a.accountId,
      amount: i === 0 ? -BigInt(MAX_POSTINGS - 1) : 1n,
      currency: 'USD',
    }));
    const { journal } = await postJournal({
      draft: { journalId: `max-${run}`, type: 'adjustment', postings, metadata: {} },
      idempotency: idem(`max-${run}`),
      actor,
      requestId: 'r',
    });
    expect(journal.postings).toHaveLength(MAX_POSTINGS);
    expect((await getBalance(accounts[0]!.accountId)).ledger).toBe(-BigInt(MAX_POSTINGS - 1));
  });
});

describe('balanceAsOf answers from the postings running balances', () => {
  it('at several past instants', async () => {
    const run = randomUUID();
    const a = await ensureWallet(`asof-${run}`, 'USD', ctx);
    const t0 = new Date();
    await new Promise((r) => setTimeout(r, 5));
    const instants: { at: Date; expected: bigint }[] = [{ at: t0, expected: 0n }];
    let total = 0n;
    for (const amt of [100n, 250n, 5n]) {
      await fund(a, amt);
      total += amt;
      await new Promise((r) => setTimeout(r, 5));
      instants.push({ at: new Date(), expected: total });
    }
    for (const i of instants) expect(await balanceAsOf(a.accountId, i.at)).toBe(i.expected);
    const page = await listPostings(a.accountId, { from: instants[1]!.at, to: instants[3]!.at, limit: 10 });
    expect(page.items.map((p) => p.amount)).toEqual([5n, 250n]);
    expect(page.items.map((p) => p.balanceAfter)).toEqual([355n, 350n]);
  });

  it('amounts beyond 2^53 survive exactly', async () => {
    const run = randomUUID();
    const a = await ensureWallet(`big-${run}`, 'BTC', ctx);
    const huge = 123456789012345678901234567n;
    await fund(a, huge);
    expect((await getBalance(a.accountId)).ledger).toBe(huge);
    expect((await listPostings(a.accountId, { limit: 1 })).items[0]!.balanceAfter).toBe(huge);
  });
});

describe('holds: reserve, post once, void or expire', () => {
  it('place -> available drops; void restores; second void is hold_not_pending', async () => {
    const run = randomUUID();
    const a = await ensureWallet(`h1-${run}`, 'USD', ctx);
    await fund(a, 1000n);
    const { hold } = await placeHold({
      accountId: a.accountId,
      amount: usd(400n),
      expiresAt: new Date(Date.now() + 3_600_000),
      idempotency: idem(`h1-${run}`),
      actor,
      requestId: 'r',
    });
    expect(await getBalance(a.accountId)).toMatchObject({ ledger: 1000n, held: 400n, available: 600n });
    expect(
      await codeOf(
        placeHold({
          accountId: a.accountId,
          amount: usd(601n),
          expiresAt: new Date(Date.now() + 3_600_000),
          idempotency: idem(`h1b-${run}`),
          actor,
          requestId: 'r',
        }),
      ),
    ).toBe('insufficient_funds');
    const replay = await placeHold({
      accountId: a.accountId,
      amount: usd(400n),
      expiresAt: new Date(Date.now() + 3_600_000),
      idempotency: idem(`h1-${run}`),
      actor,
      requestId: 'r',
    });
    expect(replay).toMatchObject({ replayed: true, hold: { holdId: hold.holdId } });
    const open: string[] = [];
    for await (const h of scanOpenHolds()) open.push(h.holdId);
    expect(open).toContain(hold.holdId);
    await voidHold(hold.holdId, { reason: 'client cancelled', actor, requestId: 'r' });
    expect(await getBalance(a.accountId)).toMatchObject({ ledger: 1000n, held: 0n, available: 1000n });
    expect(await codeOf(voidHold(hold.holdId, { reason: 'again', actor, requestId: 'r' }))).toBe('hold_not_pending');
    expect(
      await codeOf(
        postHold(hold.holdId, { counterAccountId: (await houseAccount('psp_clearing', 'USD')).accountId, actor, requestId: 'r' }),
      ),
    ).toBe('hold_not_pending');
    const after: string[] = [];
    for await (const h of scanOpenHolds()) after.push(h.holdId);
    expect(after).not.toContain(hold.holdId);
  });

  it('post debits once, releases the hold in the same journal; a second post is hold_not_pending', async () => {
    const run = randomUUID();
    const a = await ensureWallet(`h2-${run}`, 'USD', ctx);
    const psp = await houseAccount('psp_clearing', 'USD');
    await fund(a, 1000n);
    const pspBefore = (await getBalance(psp.accountId)).ledger;
    const { hold } = await placeHold({
      accountId: a.accountId,
      amount: usd(300n),
      expiresAt: new Date(Date.now() + 3_600_000),
      idempotency: idem(`h2-${run}`),
      actor,
      requestId: 'r',
    });
    const posts = await Promise.all(
      Array.from({ length: 5 }, () =>
        codeOf(postHold(hold.holdId, { counterAccountId: psp.accountId, type: 'withdrawal', actor, requestId: 'r' })),
      ),
    );
    expect(posts.filter((p) => p === 'ok')).toHaveLength(1);
    expect(posts.filter((p) => p !== 'ok').every((p) => p === 'hold_not_pending')).toBe(true);
    expect(await getBalance(a.accountId)).toMatchObject({ ledger: 700n, held: 0n, available: 700n });
    expect((await getBalance(psp.accountId)).ledger).toBe(pspBefore + 300n);
    const h = await getHold(hold.holdId);
    expect(h).toMatchObject({ status: 'posted', journalId: `hp_${hold.holdId}` });
    const j = await getJournal(`hp_${hold.holdId}`);
    expect(j?.type).toBe('withdrawal');
    expect(j?.metadata).toMatchObject({ holdId: hold.holdId });
    await assertGapFree(a.accountId);
  });

  it('expired holds: not before expiresAt; after it, released once', async () => {
    const run = randomUUID();
    const a = await ensureWallet(`h3-${run}`, 'USD', ctx);
    await fund(a, 50n);
    const expiresAt = new Date(Date.now() + 60_000);
    const { hold } = await placeHold({
      accountId: a.accountId,
      amount: usd(50n),
      expiresAt,
      idempotency: idem(`h3-${run}`),
      actor,
      requestId: 'r',
    });
    expect(await codeOf(expireHold(hold.holdId, new Date()))).toBe('hold_not_expired');
    const due: string[] = [];
    for await (const h of scanOpenHolds({ expiringBy: expiresAt })) due.push(h.holdId);
    expect(due).toContain(hold.holdId);
    expect((await expireHold(hold.holdId, expiresAt)).status).toBe('expired');
    expect(await codeOf(expireHold(hold.holdId, expiresAt))).toBe('hold_not_pending');
    expect(await getBalance(a.accountId)).toMatchObject({ ledger: 50n, held: 0n, available: 50n });
  });
});

describe('reconciliation listings use the indexes', () => {
  it('scanAccounts and scanJournals find what was written', async () => {
    const run = randomUUID();
    const a = await ensureWallet(`sc-${run}`, 'USD', ctx);
    const since = new Date(Date.now() - 1000);
    const { journal } = await fund(a, 10n);
    const accounts: string[] = [];
    for await (const x of scanAccounts()) accounts.push(x.accountId);
    expect(accounts).toContain(a.accountId);
    const journals: string[] = [];
    for await (const j of scanJournals(since)) journals.push(j.journalId);
    expect(journals).toContain(journal.journalId);
  });
});
