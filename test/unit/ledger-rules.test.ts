/** Ledger rules (domain/ledger), named after the invariants they protect. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DomainError } from '#domain/errors.ts';
import {
  type Account,
  applyJournal,
  type Balance,
  expireHoldTransition,
  fxTransferJournal,
  type Hold,
  holdFinding,
  type JournalDraft,
  journalBalanced,
  MAX_POSTINGS,
  newHold,
  postHoldTransition,
  reconcileBalance,
  release,
  reserve,
  transferJournal,
  validateJournal,
  voidHoldTransition,
  ZERO_BALANCE,
} from '#domain/ledger/index.ts';

const acct = (accountId: string, currency = 'USD', noNegative = true, frozen = false): Account => ({
  accountId,
  kind: noNegative ? 'client_wallet' : 'psp_clearing',
  currency,
  ownerId: noNegative ? 'c1' : 'house',
  flags: { noNegative, frozen },
  shards: 1,
});
const map = (...as: Account[]) => new Map(as.map((a) => [a.accountId, a]));
const draft = (postings: JournalDraft['postings'], extra: Partial<JournalDraft> = {}): JournalDraft => ({
  journalId: 'j1',
  type: 'transfer',
  postings,
  metadata: {},
  ...extra,
});
const codeOf = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    if (e instanceof DomainError) return e.code;
    throw e;
  }
  return 'ok';
};

describe('a valid journal balances per currency and names each account once', () => {
  const a = acct('a');
  const b = acct('b');
  const e = acct('e', 'EUR');
  const accounts = map(a, b, e, acct('f', 'USD', true, true));
  it.each([
    [
      'journal_unbalanced',
      draft([
        { accountId: 'a', amount: -5n, currency: 'USD' },
        { accountId: 'b', amount: 4n, currency: 'USD' },
      ]),
    ],
    [
      'journal_unbalanced',
      draft([
        { accountId: 'a', amount: -5n, currency: 'USD' },
        { accountId: 'e', amount: 5n, currency: 'EUR' },
      ]),
    ],
    [
      'currency_mismatch',
      draft([
        { accountId: 'a', amount: -5n, currency: 'USD' },
        { accountId: 'e', amount: 5n, currency: 'USD' },
      ]),
    ],
    [
      'zero_posting',
      draft([
        { accountId: 'a', amount: 0n, currency: 'USD' },
        { accountId: 'b', amount: 0n, currency: 'USD' },
      ]),
    ],
    [
      'account_not_found',
      draft([
        { accountId: 'a', amount: -5n, currency: 'USD' },
        { accountId: 'zz', amount: 5n, currency: 'USD' },
      ]),
    ],
    [
      'account_frozen',
      draft([
        { accountId: 'a', amount: -5n, currency: 'USD' },
        { accountId: 'f', amount: 5n, currency: 'USD' },
      ]),
    ],
    [
      'duplicate_account_posting',
      draft([
        { accountId: 'a', amount: -5n, currency: 'USD' },
        { accountId: 'a', amount: 5n, currency: 'USD' },
      ]),
    ],
    ['journal_too_small', draft([{ accountId: 'a', amount: 5n, currency: 'USD' }])],
    [
      'invalid_journal_id',
      draft(
        [
          { accountId: 'a', amount: -5n, currency: 'USD' },
          { accountId: 'b', amount: 5n, currency: 'USD' },
        ],
        { journalId: 'a#b' },
      ),
    ],
    [
      'invalid_metadata',
      draft(
        [
          { accountId: 'a', amount: -5n, currency: 'USD' },
          { accountId: 'b', amount: 5n, currency: 'USD' },
        ],
        { metadata: { x: 1n } },
      ),
    ],
  ])('%s', (code, d) => {
    expect(codeOf(() => validateJournal(d, accounts))).toBe(code);
  });

  it(`more than MAX_POSTINGS (${MAX_POSTINGS}) postings is journal_too_large; MAX_POSTINGS fits a 100-item transaction`, () => {
    expect(6 + 2 * MAX_POSTINGS).toBeLessThanOrEqual(100);
    const many = Array.from({ length: MAX_POSTINGS + 1 }, (_, i) => acct(`w${i}`, 'USD', false));
    const postings = many.map((m, i) => ({
      accountId: m.accountId,
      amount: i === 0 ? -BigInt(MAX_POSTINGS) : 1n,
      currency: 'USD',
    }));
    expect(codeOf(() => validateJournal(draft(postings), map(...many)))).toBe('journal_too_large');
    expect(
      codeOf(() =>
        validateJournal(
          draft(postings.slice(0, MAX_POSTINGS).map((p, i) => (i === 0 ? { ...p, amount: -BigInt(MAX_POSTINGS - 1) } : p))),
          map(...many),
        ),
      ),
    ).toBe('ok');
  });

  it('applyJournal refuses to take a noNegative account below zero and touches nothing', () => {
    const balances = new Map<string, Balance>([
      ['a', { ...ZERO_BALANCE, ledger: 3n, available: 3n }],
      ['b', ZERO_BALANCE],
    ]);
    expect(
      codeOf(() =>
        applyJournal(
          balances,
          transferJournal({ journalId: 'j', from: a, to: b, amount: { amount: 4n, currency: 'USD' } }),
          accounts,
        ),
      ),
    ).toBe('insufficient_funds');
    const next = applyJournal(
      balances,
      transferJournal({ journalId: 'j', from: a, to: b, amount: { amount: 3n, currency: 'USD' } }),
      accounts,
    );
    expect(next.get('a')).toEqual({ ledger: 0n, held: 0n, available: 0n, version: 1, seq: 1 });
    expect(next.get('b')).toEqual({ ledger: 3n, held: 0n, available: 3n, version: 1, seq: 1 });
    expect(balances.get('a')!.ledger).toBe(3n);
  });
});

describe('an FX transfer is one journal of four postings through the FX position accounts', () => {
  it('credits convert(amount, rate, to, down) and records the rate', () => {
    const d = fxTransferJournal({
      journalId: 'fx1',
      from: acct('usd'),
      to: acct('eur', 'EUR'),
      fxFrom: acct('fxusd', 'USD', false),
      fxTo: acct('fxeur', 'EUR', false),
      amount: { amount: 1001n, currency: 'USD' },
      rate: '0.9234',
      rateSource: 'ecb',
      rateAt: '2025-01-01T00:00:00.000Z',
    });
    expect(d.postings).toEqual([
      { accountId: 'usd', amount: -1001n, currency: 'USD' },
      { accountId: 'fxusd', amount: 1001n, currency: 'USD' },
      { accountId: 'fxeur', amount: -924n, currency: 'EUR' }, // 924.2234 rounded down
      { accountId: 'eur', amount: 924n, currency: 'EUR' },
    ]);
    expect(journalBalanced(d.postings)).toBe(true);
    expect(d.metadata).toMatchObject({
      fx: { rate: '0.9234', rateSource: 'ecb', rateAt: '2025-01-01T00:00:00.000Z', rounding: 'down' },
    });
  });
  it('refuses a conversion that rounds to zero and same-currency FX', () => {
    const base = { journalId: 'fx', fxFrom: acct('fxusd', 'USD', false), rateSource: 's', rateAt: 't' };
    expect(
      codeOf(() =>
        fxTransferJournal({
          ...base,
          from: acct('u'),
          to: acct('j', 'JPY'),
          fxTo: acct('fj', 'JPY', false),
          amount: { amount: 1n, currency: 'USD' },
          rate: '0.5',
        }),
      ),
    ).toBe('amount_too_small');
    expect(
      codeOf(() =>
        fxTransferJournal({
          ...base,
          from: acct('u'),
          to: acct('u2'),
          fxTo: acct('fu', 'USD', false),
          amount: { amount: 100n, currency: 'USD' },
          rate: '1',
        }),
      ),
    ).toBe('same_currency');
  });
});

describe('holds move pending -> posted | voided | expired only', () => {
  const h = newHold({
    holdId: 'h',
    accountId: 'a',
    amount: 5n,
    currency: 'USD',
    expiresAt: '2030-01-01T00:00:00.000Z',
    at: '2029-01-01T00:00:00.000Z',
  });
  it('each closing transition works once, then hold_not_pending', () => {
    const closed: Hold[] = [
      postHoldTransition(h, 'j', '2029-06-01T00:00:00.000Z'),
      voidHoldTransition(h, 'client cancelled', '2029-06-01T00:00:00.000Z'),
      expireHoldTransition(h, '2030-01-01T00:00:00.000Z'),
    ];
    expect(closed.map((c) => c.status)).toEqual(['posted', 'voided', 'expired']);
    for (const c of closed) {
      expect(codeOf(() => postHoldTransition(c, 'j2', '2029-06-01T00:00:00.000Z'))).toBe('hold_not_pending');
      expect(codeOf(() => voidHoldTransition(c, 'x', '2029-06-01T00:00:00.000Z'))).toBe('hold_not_pending');
      expect(codeOf(() => expireHoldTransition(c, '2031-01-01T00:00:00.000Z'))).toBe('hold_not_pending');
    }
  });
  it('cannot expire early nor post late', () => {
    expect(codeOf(() => expireHoldTransition(h, '2029-12-31T23:59:59.999Z'))).toBe('hold_not_expired');
    expect(codeOf(() => postHoldTransition(h, 'j', '2030-01-01T00:00:00.000Z'))).toBe('hold_expired');
    expect(holdFinding(h, new Date('2030-01-01T00:00:00.000Z'))?.code).toBe('hold_overdue');
    expect(holdFinding(h, new Date('2029-12-31T00:00:00.000Z'))).toBeUndefined();
  });
});

describe('reconciliation rules detect each kind of drift', () => {
  it('flags ledger, held and available mismatches', () => {
    const ok: Balance = { ledger: 10n, held: 4n, available: 6n, version: 3, seq: 2 };
    expect(reconcileBalance(ok, 10n, 4n)).toEqual([]);
    expect(reconcileBalance(ok, 11n, 4n).map((f) => f.code)).toEqual(['ledger_mismatch']);
    expect(reconcileBalance(ok, 10n, 3n).map((f) => f.code)).toEqual(['held_mismatch']);
    expect(reconcileBalance({ ...ok, available: 7n }, 10n, 4n).map((f) => f.code)).toEqual(['available_mismatch']);
  });
});

/**
 * Random sequences of deposits, transfers, holds, posts and voids, applied with the pure rules.
 * Rejected operations change nothing; after every step: journals balance, noNegative accounts have
 * available >= 0, ledger = sum of postings, held = sum of pending holds, available = ledger - held.
 */
describe('random operation sequences never break the ledger invariants', () => {
  const house = acct('house', 'USD', false);
  const wallets = ['w0', 'w1', 'w2'].map((id) => acct(id));
  const accounts = map(house, ...wallets);
  const ids = [...accounts.keys()];

  const op = fc.oneof(
    fc.record({ k: fc.constant('deposit' as const), to: fc.integer({ min: 0, max: 2 }), amt: fc.bigInt({ min: 1n, max: 500n }) }),
    fc.record({
      k: fc.constant('transfer' as const),
      from: fc.integer({ min: 0, max: 3 }),
      to: fc.integer({ min: 0, max: 3 }),
      amt: fc.bigInt({ min: -5n, max: 700n }),
    }),
    fc.record({ k: fc.constant('hold' as const), on: fc.integer({ min: 0, max: 2 }), amt: fc.bigInt({ min: 1n, max: 600n }) }),
    fc.record({ k: fc.constant('post' as const), h: fc.nat(20) }),
    fc.record({ k: fc.constant('void' as const), h: fc.nat(20) }),
  );

  it('holds for 300 random sequences', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const balances = new Map<string, Balance>(ids.map((id) => [id, ZERO_BALANCE]));
        const postings = new Map<string, bigint>(ids.map((id) => [id, 0n]));
        const holds: Hold[] = [];
        const journals: JournalDraft[] = [];
        let n = 0;
        const post = (d: JournalDraft, pre?: (b: Map<string, Balance>) => void) => {
          const working = new Map(balances);
          pre?.(working);
          const next = applyJournal(working, d, accounts);
          for (const [id, b] of working) balances.set(id, b);
          for (const [id, b] of next) balances.set(id, b);
          for (const p of d.postings) postings.set(p.accountId, postings.get(p.accountId)! + p.amount);
          journals.push(d);
        };
        for (const o of ops) {
          const jid = `j${n++}`;
          try {
            if (o.k === 'deposit') {
              post(
                transferJournal({
                  journalId: jid,
                  from: house,
                  to: wallets[o.to]!,
                  amount: { amount: o.amt, currency: 'USD' },
                  type: 'deposit',
                }),
              );
            } else if (o.k === 'transfer') {
              const from = accounts.get(ids[o.from]!)!;
              const to = accounts.get(ids[o.to]!)!;
              post({
                journalId: jid,
                type: 'transfer',
                metadata: {},
                postings: [
                  { accountId: from.accountId, amount: -o.amt, currency: 'USD' },
                  { accountId: to.accountId, amount: o.amt, currency: 'USD' },
                ],
              });
            } else if (o.k === 'hold') {
              const w = wallets[o.on]!;
              const b = reserve(balances.get(w.accountId)!, w, o.amt);
              holds.push(
                newHold({
                  holdId: jid,
                  accountId: w.accountId,
                  amount: o.amt,
                  currency: 'USD',
                  expiresAt: '2100-01-01T00:00:00.000Z',
                  at: '2000-01-01T00:00:00.000Z',
                }),
              );
              balances.set(w.accountId, b);
            } else if (holds.length > 0) {
              const i = o.h % holds.length;
              const h = holds[i]!;
              if (o.k === 'post') {
                const closed = postHoldTransition(h, jid, '2001-01-01T00:00:00.000Z');
                post(
                  {
                    journalId: jid,
                    type: 'hold_post',
                    metadata: {},
                    postings: [
                      { accountId: h.accountId, amount: -h.amount, currency: 'USD' },
                      { accountId: 'house', amount: h.amount, currency: 'USD' },
                    ],
                  },
                  (wb) => wb.set(h.accountId, release(wb.get(h.accountId)!, h.amount)),
                );
                holds[i] = closed;
              } else {
                holds[i] = voidHoldTransition(h, 'r', '2001-01-01T00:00:00.000Z');
                balances.set(h.accountId, release(balances.get(h.accountId)!, h.amount));
              }
            }
          } catch (e) {
            if (!(e instanceof DomainError)) throw e;
            expect([
              'insufficient_funds',
              'hold_not_pending',
              'duplicate_account_posting',
              'zero_posting',
              'amount_not_positive',
            ]).toContain(e.code);
          }
          for (const j of journals) expect(journalBalanced(j.postings)).toBe(true);
          for (const id of ids) {
            const b = balances.get(id)!;
            const held = holds.filter((h) => h.accountId === id && h.status === 'pending').reduce((s, h) => s + h.amount, 0n);
            expect(reconcileBalance(b, postings.get(id)!, held)).toEqual([]);
            if (accounts.get(id)!.flags.noNegative) expect(b.available >= 0n).toBe(true);
          }
          const total = [...postings.values()].reduce((s, v) => s + v, 0n);
          expect(total).toBe(0n);
        }
      }),
      { numRuns: 300 },
    );
  });
});
