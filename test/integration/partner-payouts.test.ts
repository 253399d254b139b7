/**
 * Partner payouts against a real table on DynamoDB Local (issue 16 part 4; functions/app/partners/payouts.ts,
 * payout-statement.ts, payout-reads.ts, payout-run-now.ts, functions/api/partner-payouts.ts). Partners and their
 * accrual lines are written straight to the store (the accrual engine is tested on its own), so every window's
 * amount is known to the minor unit.
 *
 * What it proves, by the invariants' names: the amount is the exact sum of the window's lines (random amounts,
 * clawbacks included) and one journal moves exactly it from commission_expense to the partner's wallet; a window
 * below the minimum or not positive is recorded and carried forward; a held partner gets a held payout and no
 * journal; re-running (again, and concurrently) pays once; a crash after the journal is recovered by re-running,
 * and a journal found without its payout is completed from the journal, never posted twice; the statement (JSON and
 * CSV) totals the journal exactly; the window is (from, periodEnd]: a line at the cutoff is in, one after it in the
 * next payout; a partner reads only its own payouts (another's is 404); bad inputs get their specific codes and
 * change nothing; the daily run pays the partners due on the date.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { PayoutOutcome } from '#app/partners/payouts.ts';
import { toMinor } from '#domain/money/index.ts';
import { payoutRequestHash } from '#domain/partners/payouts.ts';
import { parseTenantConfig } from '#domain/tenant/config.ts';
import { setTenantConfig } from '#shared/tenant.ts';
import demo from '../../infra/tenants/demo.json' with { type: 'json' };
import { useHandlerEnv } from '../support/api-env.ts';
import { seedClient } from '../support/clients.ts';
import { parseCsv as parseRfc4180 } from '../support/csv.ts';
import { countItemsBesidesSecurityEvents } from '../support/dynamodb.ts';
import { apiEvent, bodyOf, claimsFor, lambdaContext } from '../support/events.ts';

type Res = { statusCode: number; body: string; headers?: Record<string, unknown> };
type Handler = (e: ReturnType<typeof apiEvent>, c: ReturnType<typeof lambdaContext>) => Promise<Res>;

const ctx = { requestId: 'test', locale: 'en' };
let table = '';
let api: Handler;

beforeAll(async () => {
  table = await useHandlerEnv('ppay');
  setTenantConfig(
    parseTenantConfig({
      ...demo,
      partners: { payoutMinimum: { USD: '50.00', EUR: '10.00' }, payoutSafetySeconds: 300 },
    }),
  );
  api = (await import('#functions/api/partner-payouts.ts')).handler as unknown as Handler;
});

let n = 0;
const uid = () => `${Date.now().toString(36)}${(n++).toString(36)}`;
const iso = (ms: number) => new Date(ms).toISOString();
/** The run: 2026-03-02 (a Monday) 01:00 in Nicosia; cutoff = run - 300 s. */
const RUN = Date.parse('2026-03-01T23:00:00.000Z');
const DAY = 86_400_000;
const cutoffOf = (runMs: number) => iso(runMs - 300_000);

const pay = async (partnerId: string, currency: string, cutoff: string, localDate: string): Promise<PayoutOutcome> =>
  (await import('#app/partners/payouts.ts')).payPartner({ partnerId, currency, cutoff, localDate }, ctx);

interface Seeded {
  partnerId: string;
  clientId: string;
  claims: Record<string, string>;
}

async function seedPartner(
  o: {
    status?: 'approved' | 'pending';
    hold?: boolean;
    schedule?: 'daily' | 'weekly' | 'monthly';
    kyc?: 'approved' | 'in_review';
  } = {},
): Promise<Seeded> {
  const { partnerEntity } = await import('#store/partners.ts');
  const { commit, systemActor } = await import('#store/audit.ts');
  const id = uid();
  const partnerId = `ib_${id}`;
  const clientId = `client-pp-${id}`;
  const at = new Date().toISOString();
  // KYC is required for payouts: the partner's client profile (approved unless the test says otherwise).
  await seedClient({
    clientId,
    countryOfResidence: 'DE',
    jurisdiction: 'EU',
    clientType: 'retail',
    kycStatus: o.kyc ?? 'approved',
  });
  const item = partnerEntity.item(
    {
      partnerId,
      clientId,
      status: o.status ?? 'approved',
      ...(o.hold ? { hold: { reason: 'KYC refresh under review', by: 'staff-c1', at } } : {}),
      parentId: null,
      path: [],
      depth: 0,
      payout: { schedule: o.schedule ?? 'daily' },
      paidThrough: {},
    },
    at,
  );
  await commit({
    writes: [partnerEntity.putNew(item)],
    audit: {
      actor: systemActor('test'),
      action: 'partner.created',
      entity: { type: 'partner', id: partnerId },
      clientId,
      before: null,
      after: { partnerId },
      requestId: 'test',
    },
  });
  return { partnerId, clientId, claims: claimsFor(clientId, ['client']) };
}

/** Writes accrual lines of `partnerId` straight to the store: one per amount (minor units), accrued at `at[i]`. */
async function seedLines(
  partnerId: string,
  amounts: readonly bigint[],
  at: (i: number) => number,
  currency = 'USD',
): Promise<string[]> {
  const { lineEntity, lineIdOf } = await import('#store/partner-accruals.ts');
  const { ddb } = await import('#shared/clients.ts');
  const ids: string[] = [];
  await Promise.all(
    amounts.map(async (amount, i) => {
      const sourceKey = amount < 0n ? `clawback#cb_${uid()}` : `mt5#local-simulator#${uid()}`;
      const rule = amount < 0n ? 'clawback' : 'per_lot';
      const lineId = lineIdOf(sourceKey, partnerId, rule, 0);
      ids[i] = lineId;
      const accruedAt = iso(at(i));
      const item = lineEntity.item(
        {
          lineId,
          sourceKey,
          kind: amount < 0n ? 'clawback' : 'accrual',
          seq: 0,
          partnerId,
          tier: i % 3,
          rule,
          amount: amount.toString(),
          currency,
          rate: amount < 0n ? '1' : '7.00',
          inputs: { lots: '1.00', symbol: 'EURUSD' },
          planId: 'plan-std',
          planVersion: 2,
          clientId: `client-ref-${i % 4}`,
          dealTimeMsc: at(i) - 60_000,
          accruedAt,
        },
        accruedAt,
      );
      await ddb().send(new PutCommand({ TableName: table, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }));
    }),
  );
  return ids;
}

const ledger = () => import('#store/ledger/index.ts');
async function balanceOf(accountId: string): Promise<bigint> {
  const { getAccount, getBalance } = await ledger();
  return (await getAccount(accountId)) ? (await getBalance(accountId)).ledger : 0n;
}
const walletOf = async (clientId: string, currency = 'USD') => (await ledger()).walletId(clientId, currency);
const expenseId = async (currency = 'USD') => (await ledger()).houseAccountId('commission_expense', currency);
const partnerOf = async (partnerId: string) => (await import('#store/partners.ts')).getPartner(partnerId, { consistent: true });

async function paidEvents(payoutId: string): Promise<Record<string, unknown>[]> {
  const { pendingOutboxItems } = await import('#store/outbox.ts');
  const out: Record<string, unknown>[] = [];
  for await (const page of pendingOutboxItems(new Date(Date.now() + 60_000))) {
    for (const item of page)
      if (item.detailType === 'partner.payout.paid' && item.detail.payoutId === payoutId) out.push(item.detail);
  }
  return out;
}

/** The journals posted under a payout id: the journal itself, or none. */
async function journalOf(payoutId: string) {
  return (await ledger()).getJournal(`pj_${payoutId}`);
}

const call = (
  method: string,
  resource: string,
  o: { claims: Record<string, string>; params?: Record<string, string>; query?: Record<string, string>; body?: unknown },
) =>
  api(
    apiEvent({
      method,
      resource,
      claims: o.claims,
      ...(o.params ? { pathParameters: o.params } : {}),
      ...(o.query ? { query: o.query } : {}),
      ...(o.body !== undefined ? { body: o.body } : {}),
    }),
    lambdaContext(),
  );

const finance = () => claimsFor(`staff-${uid()}`, ['finance']);

/** Parses our CSV (RFC 4180 as statementCsv writes it: CRLF rows, quoted cells only when needed). */
function parseCsv(text: string): string[][] {
  expect(text.endsWith('\r\n')).toBe(true);
  return parseRfc4180(text);
}

/** The sum of a CSV statement's amount column, minor units. */
function csvTotal(csv: string, currency: string): { total: bigint; rows: number } {
  const [header, ...rows] = parseCsv(csv);
  const col = header!.indexOf('amount');
  expect(col).toBeGreaterThanOrEqual(0);
  return { total: rows.reduce((s, r) => s + toMinor(r[col]!, currency), 0n), rows: rows.length };
}

// ------------------------------------------------------------------------------------------------ the amount

describe('the amount is the exact sum of the window', () => {
  it('to the minor unit, over random line amounts with clawbacks; one journal from commission_expense to the wallet', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.bigInt({ min: -40_000n, max: 250_000n }), { minLength: 1, maxLength: 30 }),
        async (amounts) => {
          const p = await seedPartner();
          await seedLines(p.partnerId, amounts, (i) => RUN - DAY + i * 1000);
          const net = amounts.reduce((s, a) => s + a, 0n);
          const expenseBefore = await balanceOf(await expenseId());
          const r = await pay(p.partnerId, 'USD', cutoffOf(RUN), '2026-03-02');
          if (net < 50_00n) {
            expect(r).toMatchObject({ outcome: 'below_minimum', payout: { amount: net.toString(), lines: amounts.length } });
            expect(await journalOf(`po_${p.partnerId}_2026-03-02_USD`)).toBeUndefined();
            expect(await balanceOf(await walletOf(p.clientId))).toBe(0n);
            return;
          }
          expect(r).toMatchObject({
            outcome: 'paid',
            replayed: false,
            payout: { amount: net.toString(), lines: amounts.length },
          });
          const payoutId = `po_${p.partnerId}_2026-03-02_USD`;
          const journal = (await journalOf(payoutId))!;
          expect(journal.type).toBe('commission');
          expect(journal.postings.map((x) => [x.accountId, x.amount])).toEqual(
            expect.arrayContaining([
              [await expenseId(), -net],
              [await walletOf(p.clientId), net],
            ]),
          );
          expect(journal.postings).toHaveLength(2);
          expect(await balanceOf(await walletOf(p.clientId))).toBe(net);
          expect((await balanceOf(await expenseId())) - expenseBefore).toBe(-net);
          const { payoutStatement } = await import('#app/partners/payout-statement.ts');
          const s = await payoutStatement(payoutId);
          expect(s.total).toBe(net);
          expect(csvTotal(s.csv, 'USD')).toEqual({ total: net, rows: amounts.length });
          expect(s.json.lines.reduce((sum, l) => sum + toMinor(l.amount, 'USD'), 0n)).toBe(net);
        },
      ),
      { numRuns: 12 },
    );
  });

  it('the payout is written with the journal: paid item, paidThrough moved, the audit entry and partner.payout.paid', async () => {
    const p = await seedPartner();
    await seedLines(p.partnerId, [60_00n, 12_34n, -2_34n], (i) => RUN - 3600_000 + i);
    const r = await pay(p.partnerId, 'USD', cutoffOf(RUN), '2026-03-02');
    const payoutId = `po_${p.partnerId}_2026-03-02_USD`;
    expect(r).toMatchObject({
      outcome: 'paid',
      payout: {
        payoutId,
        status: 'paid',
        amount: '7000',
        lines: 3,
        from: '1970-01-01T00:00:00.000Z',
        periodEnd: cutoffOf(RUN),
        journalId: `pj_${payoutId}`,
      },
    });
    expect((await partnerOf(p.partnerId))!.paidThrough).toEqual({ USD: cutoffOf(RUN) });
    expect(await paidEvents(payoutId)).toEqual([
      {
        payoutId,
        partnerId: p.partnerId,
        clientId: p.clientId,
        amount: '70.00',
        currency: 'USD',
        lines: 3,
        periodEnd: cutoffOf(RUN),
        journalId: `pj_${payoutId}`,
      },
    ]);
    const { auditItems } = await import('#store/audit.ts');
    const trail: { action: string }[] = [];
    for await (const page of auditItems({ type: 'partner-payout', id: payoutId })) trail.push(...(page as { action: string }[]));
    expect(trail.map((a) => a.action)).toEqual(['partner.payout.paid']);
  });
});

// ------------------------------------------------------------------------------------------------ carried forward

describe('below the minimum or not positive: recorded and carried forward', () => {
  it('30.00 is below the 50.00 minimum: recorded, nothing moves; with 25.00 more the next day both are paid', async () => {
    const p = await seedPartner();
    await seedLines(p.partnerId, [30_00n], () => RUN - DAY);
    const first = await pay(p.partnerId, 'USD', cutoffOf(RUN), '2026-03-02');
    expect(first).toMatchObject({
      outcome: 'below_minimum',
      payout: { status: 'below_minimum', amount: '3000', minimum: '5000' },
    });
    expect((await partnerOf(p.partnerId))!.paidThrough).toEqual({});
    expect(await balanceOf(await walletOf(p.clientId))).toBe(0n);
    expect(await paidEvents(first.outcome === 'below_minimum' ? first.payout.payoutId : '')).toEqual([]);

    await seedLines(p.partnerId, [25_00n], () => RUN + 3600_000);
    const next = await pay(p.partnerId, 'USD', cutoffOf(RUN + DAY), '2026-03-03');
    expect(next).toMatchObject({
      outcome: 'paid',
      payout: { amount: '5500', lines: 2, from: '1970-01-01T00:00:00.000Z', periodEnd: cutoffOf(RUN + DAY) },
    });
    expect(await balanceOf(await walletOf(p.clientId))).toBe(55_00n);
  });

  it('a negative net (clawbacks over earnings) is below_minimum and recovered from the next payout', async () => {
    const p = await seedPartner();
    await seedLines(p.partnerId, [40_00n, -100_00n], (i) => RUN - DAY + i);
    expect(await pay(p.partnerId, 'USD', cutoffOf(RUN), '2026-03-02')).toMatchObject({
      outcome: 'below_minimum',
      payout: { amount: '-6000', lines: 2 },
    });
    await seedLines(p.partnerId, [200_00n], () => RUN + 1000);
    expect(await pay(p.partnerId, 'USD', cutoffOf(RUN + DAY), '2026-03-03')).toMatchObject({
      outcome: 'paid',
      payout: { amount: '14000', lines: 3 },
    });
    expect(await balanceOf(await walletOf(p.clientId))).toBe(140_00n);
  });

  it('a re-run of the day replaces the day’s below-minimum payout with the window as it is now', async () => {
    const p = await seedPartner();
    await seedLines(p.partnerId, [10_00n], () => RUN - DAY);
    await pay(p.partnerId, 'USD', cutoffOf(RUN), '2026-03-02');
    await seedLines(p.partnerId, [45_00n], () => RUN - 1000_000);
    const later = await pay(p.partnerId, 'USD', cutoffOf(RUN + 60_000), '2026-03-02');
    expect(later).toMatchObject({ outcome: 'paid', payout: { amount: '5500', lines: 2, status: 'paid' } });
  });
});

// ------------------------------------------------------------------------------------------------ held

describe('a held partner', () => {
  it('a partner whose KYC is not approved is held (kyc_required), nothing moves; verified, the next run pays', async () => {
    const p = await seedPartner({ kyc: 'in_review' });
    await seedLines(p.partnerId, [60_00n], () => RUN - DAY);
    const r = await pay(p.partnerId, 'USD', cutoffOf(RUN), '2026-03-02');
    expect(r).toMatchObject({ outcome: 'held', payout: { status: 'held', amount: '6000', lines: 1 } });
    expect((r as { payout: { holdReason?: string } }).payout.holdReason).toMatch(/^kyc_required/);
    expect(await balanceOf(await walletOf(p.clientId))).toBe(0n);
    const { clientKeys } = await import('#store/keys.ts');
    const { ddb } = await import('#shared/clients.ts');
    const { UpdateCommand } = await import('@aws-sdk/lib-dynamodb');
    await ddb().send(
      new UpdateCommand({
        TableName: table,
        Key: clientKeys.key(p.clientId),
        UpdateExpression: 'SET kycStatus = :a',
        ExpressionAttributeValues: { ':a': 'approved' },
      }),
    );
    const next = await pay(p.partnerId, 'USD', cutoffOf(RUN + DAY), '2026-03-03');
    expect(next).toMatchObject({ outcome: 'paid', payout: { status: 'paid', amount: '6000' } });
    expect(await balanceOf(await walletOf(p.clientId))).toBe(60_00n);
  });

  it('gets a held payout with the hold reason and no journal; released, the next run pays the whole window', async () => {
    const p = await seedPartner({ hold: true });
    await seedLines(p.partnerId, [80_00n], () => RUN - DAY);
    const r = await pay(p.partnerId, 'USD', cutoffOf(RUN), '2026-03-02');
    expect(r).toMatchObject({
      outcome: 'held',
      payout: { status: 'held', amount: '8000', lines: 1, holdReason: 'KYC refresh under review' },
    });
    expect(r.outcome === 'held' && r.payout.journalId).toBeFalsy();
    expect(await journalOf(`po_${p.partnerId}_2026-03-02_USD`)).toBeUndefined();
    expect(await balanceOf(await walletOf(p.clientId))).toBe(0n);
    expect((await partnerOf(p.partnerId))!.paidThrough).toEqual({});

    // the partner's view hides the compliance reason; staff see it
    const mine = await call('GET', '/v1/partners/me/payouts', { claims: p.claims });
    expect(mine.statusCode, mine.body).toBe(200);
    const [item] = bodyOf<{ items: Record<string, unknown>[] }>(mine).items;
    expect(item).toMatchObject({ status: 'held', amount: { amount: '80.00', currency: 'USD' } });
    expect(item).not.toHaveProperty('holdReason');
    const staff = await call('GET', '/v1/admin/partners/{partnerId}/payouts', {
      claims: finance(),
      params: { partnerId: p.partnerId },
    });
    expect(bodyOf<{ items: unknown[] }>(staff).items).toMatchObject([{ holdReason: 'KYC refresh under review' }]);

    // released
    const { partnerEntity } = await import('#store/partners.ts');
    const { commit, systemActor } = await import('#store/audit.ts');
    const held = (await partnerOf(p.partnerId))!;
    const released = { ...held };
    delete released.hold;
    await commit({
      writes: [partnerEntity.patch(held, released, new Date().toISOString())],
      audit: {
        actor: systemActor('test'),
        action: 'partner.released',
        entity: { type: 'partner', id: p.partnerId },
        before: null,
        after: {},
        requestId: 'test',
      },
    });
    expect(await pay(p.partnerId, 'USD', cutoffOf(RUN + DAY), '2026-03-03')).toMatchObject({
      outcome: 'paid',
      payout: { amount: '8000', lines: 1 },
    });
    expect(await balanceOf(await walletOf(p.clientId))).toBe(80_00n);
  });
});

// ------------------------------------------------------------------------------------------------ exactly once

describe('re-running pays once', () => {
  it('again and concurrently: one journal, the wallet credited once, the paid payout answered', async () => {
    const p = await seedPartner();
    await seedLines(p.partnerId, [51_00n, 49_99n], (i) => RUN - DAY + i);
    const runs = await Promise.all([1, 2, 3, 4].map(() => pay(p.partnerId, 'USD', cutoffOf(RUN), '2026-03-02')));
    expect(runs.every((r) => r.outcome === 'paid')).toBe(true);
    expect(runs.filter((r) => r.outcome === 'paid' && !r.replayed)).toHaveLength(1);
    const again = await pay(p.partnerId, 'USD', cutoffOf(RUN + 3600_000), '2026-03-02');
    expect(again).toMatchObject({ outcome: 'paid', replayed: true, payout: { amount: '10099' } });
    expect(await balanceOf(await walletOf(p.clientId))).toBe(100_99n);
    expect(await paidEvents(`po_${p.partnerId}_2026-03-02_USD`)).toHaveLength(1);
    // the next day has nothing new: nothing is written
    expect(await pay(p.partnerId, 'USD', cutoffOf(RUN + DAY), '2026-03-03')).toMatchObject({ outcome: 'nothing' });
  });

  it('a crash right after the journal is recovered by re-running: the paid payout, nothing posted twice', async () => {
    const p = await seedPartner();
    await seedLines(p.partnerId, [77_77n], () => RUN - DAY);
    const { faults } = await import('#app/partners/payouts.ts');
    faults.afterJournal = () => {
      throw new Error('crash after the journal');
    };
    try {
      await expect(pay(p.partnerId, 'USD', cutoffOf(RUN), '2026-03-02')).rejects.toThrow('crash after the journal');
    } finally {
      faults.afterJournal = undefined;
    }
    const payoutId = `po_${p.partnerId}_2026-03-02_USD`;
    // the journal's transaction held the rest: all of it is there
    expect(await journalOf(payoutId)).toBeDefined();
    expect(await balanceOf(await walletOf(p.clientId))).toBe(77_77n);
    const rerun = await pay(p.partnerId, 'USD', cutoffOf(RUN), '2026-03-02');
    expect(rerun).toMatchObject({ outcome: 'paid', replayed: true, payout: { amount: '7777', status: 'paid' } });
    expect(await balanceOf(await walletOf(p.clientId))).toBe(77_77n);
    expect(await paidEvents(payoutId)).toHaveLength(1);
  });

  it('a journal found without its payout (crashed between them) is completed from the journal, never posted twice', async () => {
    const p = await seedPartner();
    await seedLines(p.partnerId, [60_00n, 5_01n], (i) => RUN - DAY + i);
    const payoutId = `po_${p.partnerId}_2026-03-02_USD`;
    const from = '1970-01-01T00:00:00.000Z';
    const periodEnd = cutoffOf(RUN);
    // the journal alone, as a process that died after it would have left it
    const { ensureWallet, houseAccount, postJournal } = await ledger();
    const actor = { id: 'system:partner-payouts', role: 'system' } as const;
    const wallet = await ensureWallet(p.clientId, 'USD', { actor, requestId: 'test' });
    const expense = await houseAccount('commission_expense', 'USD');
    await postJournal({
      draft: {
        journalId: `pj_${payoutId}`,
        type: 'commission',
        postings: [
          { accountId: expense.accountId, amount: -65_01n, currency: 'USD' },
          { accountId: wallet.accountId, amount: 65_01n, currency: 'USD' },
        ],
        reference: payoutId,
        metadata: {
          partnerPayout: { payoutId, partnerId: p.partnerId, localDate: '2026-03-02', from, periodEnd, amount: '6501', lines: 2 },
        },
      },
      idempotency: {
        scope: 'partner-payout',
        key: payoutId,
        requestHash: payoutRequestHash({ from, periodEnd, amount: 65_01n, lines: 2 }),
      },
      actor,
      requestId: 'test',
    });
    expect(await (await import('#store/partner-payouts.ts')).getPayout(payoutId)).toBeUndefined();

    const r = await pay(p.partnerId, 'USD', cutoffOf(RUN + 60_000), '2026-03-02');
    expect(r).toMatchObject({
      outcome: 'paid',
      payout: { payoutId, status: 'paid', amount: '6501', lines: 2, periodEnd, recovered: true, journalId: `pj_${payoutId}` },
    });
    expect(await balanceOf(wallet.accountId)).toBe(65_01n);
    expect((await partnerOf(p.partnerId))!.paidThrough).toEqual({ USD: periodEnd });
    expect(await paidEvents(payoutId)).toMatchObject([{ amount: '65.01', lines: 2 }]);
    // and again: the paid payout
    expect(await pay(p.partnerId, 'USD', cutoffOf(RUN + 60_000), '2026-03-02')).toMatchObject({
      outcome: 'paid',
      replayed: true,
    });
    expect(await balanceOf(wallet.accountId)).toBe(65_01n);
  });
});

// ------------------------------------------------------------------------------------------------ statement

describe('the statement', () => {
  it('JSON and CSV list every line of the window and total the journal exactly', async () => {
    const p = await seedPartner();
    const ids = await seedLines(p.partnerId, [12_345n, 67_890n, -1_111n, 1n], (i) => RUN - DAY + i * 60_000);
    await pay(p.partnerId, 'USD', cutoffOf(RUN), '2026-03-02');
    const payoutId = `po_${p.partnerId}_2026-03-02_USD`;
    const journal = (await journalOf(payoutId))!;
    const credited = journal.postings.find((x) => x.accountId === `wal_${p.clientId}_USD`)!.amount;
    expect(credited).toBe(79_125n);

    const json = await call('GET', '/v1/partners/me/payouts/{payoutId}/statement', {
      claims: p.claims,
      params: { payoutId },
    });
    expect(json.statusCode, json.body).toBe(200);
    const s = bodyOf<{ total: string; amount: string; lineCount: number; lines: { lineId: string; amount: string }[] }>(json);
    expect(s).toMatchObject({ total: '791.25', amount: '791.25', lineCount: 4, status: 'paid', journalId: `pj_${payoutId}` });
    expect(s.lines.map((l) => l.lineId)).toEqual(ids);
    expect(s.lines[0]).toMatchObject({
      sourceKey: expect.stringMatching(/^mt5#local-simulator#/),
      kind: 'accrual',
      rule: 'per_lot',
      tier: 0,
      clientId: 'client-ref-0',
      amount: '123.45',
      rate: '7.00',
      planId: 'plan-std',
      planVersion: 2,
    });
    expect(s.lines.reduce((sum, l) => sum + toMinor(l.amount, 'USD'), 0n)).toBe(credited);
    // A line earned through a sub-partner does not name that sub-partner's client to the partner; staff see it.
    const shown = s.lines as unknown as { clientId: string }[];
    expect(shown.map((l) => l.clientId)).toEqual(['client-ref-0', 'tier:1', 'tier:2', 'client-ref-3']);
    const staffView = await call('GET', '/v1/admin/partner-payouts/{payoutId}/statement', {
      claims: claimsFor('staff-f1', ['finance']),
      params: { payoutId },
    });
    expect(staffView.statusCode, staffView.body).toBe(200);
    expect(bodyOf<{ lines: { clientId: string }[] }>(staffView).lines.map((l) => l.clientId)).toEqual([
      'client-ref-0',
      'client-ref-1',
      'client-ref-2',
      'client-ref-3',
    ]);

    const csv = await call('GET', '/v1/partners/me/payouts/{payoutId}/statement', {
      claims: p.claims,
      params: { payoutId },
      query: { format: 'csv' },
    });
    expect(csv.statusCode, csv.body).toBe(200);
    expect(csv.headers?.['content-type']).toBe('text/csv; charset=utf-8');
    expect(String(csv.headers?.['content-disposition'])).toContain(`payout-${payoutId}.csv`);
    expect(csvTotal(csv.body, 'USD')).toEqual({ total: credited, rows: 4 });
    const [header, first] = parseCsv(csv.body);
    expect(header).toEqual([
      'line_id',
      'source_key',
      'kind',
      'rule',
      'tier',
      'client_id',
      'amount',
      'currency',
      'rate',
      'accrued_at',
      'plan_id',
      'plan_version',
    ]);
    expect(first).toEqual([
      ids[0],
      expect.stringMatching(/^mt5#local-simulator#/),
      'accrual',
      'per_lot',
      '0',
      'client-ref-0',
      '123.45',
      'USD',
      '7.00',
      iso(RUN - DAY),
      'plan-std',
      '2',
    ]);

    const staff = await call('GET', '/v1/admin/partner-payouts/{payoutId}/statement', {
      claims: claimsFor(`staff-${uid()}`, ['compliance']),
      params: { payoutId },
      query: { format: 'csv' },
    });
    expect(staff.statusCode).toBe(200);
    // The same statement, but staff see the clients of the lines earned through sub-partners.
    expect(staff.body).toBe(String(csv.body).replace(',tier:1,', ',client-ref-1,').replace(',tier:2,', ',client-ref-2,'));
    expect(String(csv.body)).toContain(',tier:1,');
  });
});

// ------------------------------------------------------------------------------------------------ window bounds

describe('the window is (from, periodEnd]', () => {
  it('a line accrued exactly at the cutoff is in; one a millisecond later is in the next payout, and no line twice', async () => {
    const p = await seedPartner();
    const cutoff = Date.parse(cutoffOf(RUN));
    const [atCutoff] = await seedLines(p.partnerId, [50_00n], () => cutoff);
    const [after] = await seedLines(p.partnerId, [50_00n], () => cutoff + 1);
    const first = await pay(p.partnerId, 'USD', cutoffOf(RUN), '2026-03-02');
    expect(first).toMatchObject({ outcome: 'paid', payout: { amount: '5000', lines: 1, periodEnd: iso(cutoff) } });
    const { payoutStatement } = await import('#app/partners/payout-statement.ts');
    expect((await payoutStatement(`po_${p.partnerId}_2026-03-02_USD`)).lines.map((l) => l.lineId)).toEqual([atCutoff]);

    const second = await pay(p.partnerId, 'USD', cutoffOf(RUN + DAY), '2026-03-03');
    expect(second).toMatchObject({ outcome: 'paid', payout: { amount: '5000', lines: 1, from: iso(cutoff) } });
    expect((await payoutStatement(`po_${p.partnerId}_2026-03-03_USD`)).lines.map((l) => l.lineId)).toEqual([after]);
    expect(await balanceOf(await walletOf(p.clientId))).toBe(100_00n);
  });

  it('each currency is its own window and its own payout', async () => {
    const p = await seedPartner();
    await seedLines(p.partnerId, [60_00n], () => RUN - DAY, 'USD');
    await seedLines(p.partnerId, [12_50n], () => RUN - DAY, 'EUR');
    expect(await pay(p.partnerId, 'EUR', cutoffOf(RUN), '2026-03-02')).toMatchObject({
      outcome: 'paid',
      payout: { payoutId: `po_${p.partnerId}_2026-03-02_EUR`, amount: '1250', lines: 1 },
    });
    expect(await pay(p.partnerId, 'USD', cutoffOf(RUN), '2026-03-02')).toMatchObject({
      outcome: 'paid',
      payout: { amount: '6000', lines: 1 },
    });
    expect(await balanceOf(await walletOf(p.clientId, 'EUR'))).toBe(12_50n);
    expect(await balanceOf(await walletOf(p.clientId, 'USD'))).toBe(60_00n);
    expect((await partnerOf(p.partnerId))!.paidThrough).toEqual({ USD: cutoffOf(RUN), EUR: cutoffOf(RUN) });
  });
});

// ------------------------------------------------------------------------------------------------ ownership

describe('a partner reads only its own payouts', () => {
  it("another partner's payout is 404 payout_not_found, as an unknown one; a client without a partner record is 404", async () => {
    const a = await seedPartner();
    const b = await seedPartner();
    await seedLines(b.partnerId, [99_00n], () => RUN - DAY);
    await pay(b.partnerId, 'USD', cutoffOf(RUN), '2026-03-02');
    const theirs = `po_${b.partnerId}_2026-03-02_USD`;
    for (const payoutId of [theirs, `po_${a.partnerId}_2026-03-02_USD`]) {
      const r = await call('GET', '/v1/partners/me/payouts/{payoutId}/statement', { claims: a.claims, params: { payoutId } });
      expect(r.statusCode).toBe(404);
      expect(bodyOf(r)).toMatchObject({ code: 'payout_not_found' });
    }
    const mine = await call('GET', '/v1/partners/me/payouts', { claims: a.claims });
    expect(bodyOf<{ items: unknown[] }>(mine)).toMatchObject({ items: [], hasMore: false });
    const theirList = await call('GET', '/v1/partners/me/payouts', { claims: b.claims });
    expect(bodyOf<{ items: unknown[] }>(theirList).items).toMatchObject([{ payoutId: theirs, status: 'paid' }]);

    const stranger = await call('GET', '/v1/partners/me/payouts', { claims: claimsFor(`client-pp-none-${uid()}`, ['client']) });
    expect(stranger.statusCode).toBe(404);
    expect(bodyOf(stranger)).toMatchObject({ code: 'partner_not_found' });

    // a partner may not use the staff routes (403), staff who may not read payouts neither
    const asClient = await call('GET', '/v1/admin/partner-payouts/{payoutId}/statement', {
      claims: a.claims,
      params: { payoutId: theirs },
    });
    expect(asClient.statusCode).toBe(403);
    const sales = await call('GET', '/v1/admin/partners/{partnerId}/payouts', {
      claims: claimsFor(`staff-${uid()}`, ['sales']),
      params: { partnerId: b.partnerId },
    });
    expect(sales.statusCode).toBe(403);
    const unknown = await call('GET', '/v1/admin/partners/{partnerId}/payouts', {
      claims: finance(),
      params: { partnerId: 'ib_nobody' },
    });
    expect(unknown.statusCode).toBe(404);
    expect(bodyOf(unknown)).toMatchObject({ code: 'partner_not_found' });
  });

  it('lists page with a cursor, newest run first', async () => {
    const p = await seedPartner();
    for (let d = 0; d < 3; d++) {
      await seedLines(p.partnerId, [50_00n], () => RUN - DAY + d * DAY);
      await pay(p.partnerId, 'USD', cutoffOf(RUN + d * DAY), `2026-03-0${2 + d}`);
    }
    const first = bodyOf<{ items: { runDate: string }[]; nextCursor?: string; hasMore: boolean }>(
      await call('GET', '/v1/partners/me/payouts', { claims: p.claims, query: { limit: '2' } }),
    );
    expect(first.items.map((i) => i.runDate)).toEqual(['2026-03-04', '2026-03-03']);
    expect(first.hasMore).toBe(true);
    const second = bodyOf<{ items: { runDate: string }[]; hasMore: boolean }>(
      await call('GET', '/v1/partners/me/payouts', { claims: p.claims, query: { limit: '2', cursor: first.nextCursor! } }),
    );
    expect(second).toMatchObject({ items: [{ runDate: '2026-03-02' }], hasMore: false });
    const bad = await call('GET', '/v1/partners/me/payouts', { claims: p.claims, query: { cursor: 'bm90LWEta2V5' } });
    expect(bad.statusCode).toBe(400);
    expect(bodyOf(bad)).toMatchObject({ code: 'invalid_cursor' });
  });
});

// ------------------------------------------------------------------------------------------------ pay now, bad inputs

describe('pay now (finance, admin)', () => {
  it('pays the window up to now less the safety margin, then answers the day’s payout', async () => {
    const p = await seedPartner();
    await seedLines(p.partnerId, [64_00n], () => Date.now() - 3600_000);
    await seedLines(p.partnerId, [1_00n], () => Date.now() - 10_000); // inside the safety margin: the next payout
    const r = await call('POST', '/v1/admin/partners/{partnerId}/payouts/run', {
      claims: finance(),
      params: { partnerId: p.partnerId },
      body: { currency: 'USD' },
    });
    expect(r.statusCode, r.body).toBe(200);
    expect(bodyOf(r)).toMatchObject({
      outcome: 'paid',
      replayed: false,
      payout: { status: 'paid', amount: { amount: '64.00', currency: 'USD' }, lines: 1, partnerId: p.partnerId },
    });
    const again = await call('POST', '/v1/admin/partners/{partnerId}/payouts/run', {
      claims: claimsFor(`staff-${uid()}`, ['admin']),
      params: { partnerId: p.partnerId },
      body: { currency: 'USD' },
    });
    expect(bodyOf(again)).toMatchObject({ outcome: 'paid', replayed: true });
    expect(await balanceOf(await walletOf(p.clientId))).toBe(64_00n);
  });

  it('bad inputs get their specific codes and change nothing', async () => {
    const approved = await seedPartner();
    const pending = await seedPartner({ status: 'pending' });
    await seedLines(approved.partnerId, [70_00n], () => Date.now() - 3600_000);
    await seedLines(pending.partnerId, [70_00n], () => Date.now() - 3600_000);
    const before = await countItemsBesidesSecurityEvents(table);
    const run = (partnerId: string, body: unknown, claims = finance()) =>
      call('POST', '/v1/admin/partners/{partnerId}/payouts/run', { claims, params: { partnerId }, body });
    const cases: [string, Promise<Res>, number, string][] = [
      ['lower-case currency', run(approved.partnerId, { currency: 'usd' }), 400, 'validation_failed'],
      ['no currency', run(approved.partnerId, {}), 400, 'validation_failed'],
      ['an extra field', run(approved.partnerId, { currency: 'USD', amount: '1.00' }), 400, 'validation_failed'],
      ['unknown currency', run(approved.partnerId, { currency: 'XYZ' }), 422, 'unknown_currency'],
      ['currency not enabled', run(approved.partnerId, { currency: 'CHF' }), 422, 'currency_not_enabled'],
      ['unknown partner', run('ib_nobody', { currency: 'USD' }), 404, 'partner_not_found'],
      ['a malformed partner id', run('ib nobody!', { currency: 'USD' }), 400, 'validation_failed'],
      ['a pending partner', run(pending.partnerId, { currency: 'USD' }), 409, 'partner_not_approved'],
      [
        'compliance may not pay',
        run(approved.partnerId, { currency: 'USD' }, claimsFor(`staff-${uid()}`, ['compliance'])),
        403,
        'forbidden_role',
      ],
      ['a partner may not pay itself', run(approved.partnerId, { currency: 'USD' }, approved.claims), 403, 'forbidden_role'],
    ];
    for (const [what, res, status, code] of cases) {
      const r = await res;
      expect(r.statusCode, `${what}: ${r.body}`).toBe(status);
      expect(bodyOf(r), what).toMatchObject({ code });
    }
    const statementCases: [string, Record<string, string>, Record<string, string>, string][] = [
      ['format xml', { payoutId: `po_${approved.partnerId}_2026-03-02_USD` }, { format: 'xml' }, 'validation_failed'],
      ['a payout id of another shape', { payoutId: 'wal_client_USD' }, {}, 'validation_failed'],
    ];
    for (const [what, params, query, code] of statementCases) {
      const r = await call('GET', '/v1/admin/partner-payouts/{payoutId}/statement', { claims: finance(), params, query });
      expect(r.statusCode, what).toBe(400);
      expect(bodyOf(r), what).toMatchObject({ code });
    }
    const missing = await call('GET', '/v1/admin/partner-payouts/{payoutId}/statement', {
      claims: finance(),
      params: { payoutId: 'po_ib_nobody_2026-03-02_USD' },
    });
    expect(missing.statusCode).toBe(404);
    expect(bodyOf(missing)).toMatchObject({ code: 'payout_not_found' });
    expect(await countItemsBesidesSecurityEvents(table)).toBe(before);
    expect(await balanceOf(await walletOf(approved.clientId))).toBe(0n);
  });
});

// ------------------------------------------------------------------------------------------------ the daily run

describe('the daily run', () => {
  it('pays the approved partners due on the date (daily; weekly on Mondays; monthly on the 1st), holds the held', async () => {
    const { runPayouts } = await import('#app/partners/payouts.ts');
    const now = new Date(RUN + 29 * DAY - 3600_000); // 2026-03-31 01:00 in Nicosia (summer time from 03-29)
    const old = (i: number) => RUN + 28 * DAY - i;
    const daily = await seedPartner();
    const weekly = await seedPartner({ schedule: 'weekly' });
    const monthly = await seedPartner({ schedule: 'monthly' });
    const held = await seedPartner({ hold: true });
    const pending = await seedPartner({ status: 'pending' });
    for (const p of [daily, weekly, monthly, held, pending]) await seedLines(p.partnerId, [100_00n], old);
    await seedLines(daily.partnerId, [20_00n], old, 'EUR');

    // a Tuesday that is not the 1st: daily only
    const tuesday = await runPayouts({ now }, ctx); // the tenant-local date of now: 2026-03-31
    expect(tuesday.failed).toBe(0);
    expect(tuesday.paid).toBeGreaterThanOrEqual(2);
    expect(tuesday.held).toBeGreaterThanOrEqual(1);
    const { getPayout } = await import('#store/partner-payouts.ts');
    expect(await getPayout(`po_${daily.partnerId}_2026-03-31_USD`)).toMatchObject({ status: 'paid', amount: '10000' });
    expect(await getPayout(`po_${daily.partnerId}_2026-03-31_EUR`)).toMatchObject({ status: 'paid', amount: '2000' });
    expect(await getPayout(`po_${held.partnerId}_2026-03-31_USD`)).toMatchObject({ status: 'held' });
    for (const p of [weekly, monthly, pending]) expect(await getPayout(`po_${p.partnerId}_2026-03-31_USD`)).toBeUndefined();

    // the run again: nothing paid twice
    const again = await runPayouts({ now, localDate: '2026-03-31' }, ctx);
    expect(again).toMatchObject({ paid: 0, failed: 0 });
    expect(await balanceOf(await walletOf(daily.clientId))).toBe(100_00n);

    // a Wednesday the 1st: monthly (and daily); the next Monday: weekly
    const next = new Date(now.getTime() + DAY);
    await runPayouts({ now: next, localDate: '2026-04-01' }, ctx);
    expect(await getPayout(`po_${monthly.partnerId}_2026-04-01_USD`)).toMatchObject({ status: 'paid', amount: '10000' });
    expect(await getPayout(`po_${weekly.partnerId}_2026-04-01_USD`)).toBeUndefined();
    await runPayouts({ now: new Date(now.getTime() + 6 * DAY), localDate: '2026-04-06' }, ctx);
    expect(await getPayout(`po_${weekly.partnerId}_2026-04-06_USD`)).toMatchObject({ status: 'paid', amount: '10000' });
    expect(await balanceOf(await walletOf(pending.clientId))).toBe(0n);
  });

  it('the job runs it for the tenant-local date of now', async () => {
    const p = await seedPartner();
    await seedLines(p.partnerId, [55_55n], () => Date.now() - 3600_000);
    const { handler } = await import('#functions/jobs/partner-payouts.ts');
    const r = (await (handler as (e: unknown, c: unknown) => Promise<{ failed: number; paid: number }>)({}, lambdaContext()))!;
    expect(r).toMatchObject({ failed: 0 });
    expect(r.paid).toBeGreaterThanOrEqual(1);
    expect(await balanceOf(await walletOf(p.clientId))).toBe(55_55n);
  });
});
