/**
 * The withdrawal compliance checks (domain/payments/withdrawal-checks.ts), named after the rules a
 * reviewer and a client rely on: each check's boundaries (exactly at a limit and one minor unit either
 * side), the closed loop (money goes back where it came from first), the round-trip window, the
 * approve / review table; and properties: approve only when clean and within the limit, reasons are the
 * failing checks in order, deterministic, exact with amounts far beyond float precision.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Money } from '#domain/money/index.ts';
import {
  assessWithdrawal,
  CHECK_ORDER,
  type ClosedLoopSource,
  closedLoopPlan,
  isSameAccount,
  type WithdrawalCheckInput,
  type WithdrawalCheckResult,
} from '#domain/payments/withdrawal-checks.ts';
import type { WithdrawalPolicy } from '#domain/tenant/config.ts';

const NOW = new Date('2025-06-15T12:00:00.000Z');
const HOUR = 3_600_000;

const usd = (amount: bigint): Money => ({ amount, currency: 'USD' });

const POLICY: WithdrawalPolicy = {
  autoApproveMax: { USD: '2000.00', JPY: '200000' },
  largeAmount: { USD: '10000.00', JPY: '1000000' },
  roundTripHours: 72,
  roundTripSharePercent: 50,
  minTurnoverPercent: 100,
  reviewTimeoutDays: 14,
  payoutTimeoutHours: 72,
};

const card = (deposited: bigint, returned = 0n, currency = 'USD'): ClosedLoopSource => ({
  sourceId: 'src_card',
  methodId: 'card',
  display: 'Visa •4242',
  account: 'tok_4242',
  deposited: { [currency]: deposited },
  returned: { [currency]: returned },
});
const iban = (deposited: bigint, returned = 0n): ClosedLoopSource => ({
  sourceId: 'src_iban',
  methodId: 'sepa-wire',
  display: 'DE89 •••• 3000',
  account: 'DE89 3704 0044 0532 0130 00',
  deposited: { USD: deposited },
  returned: { USD: returned },
});

const TO_CARD = { sourceId: 'src_card', account: 'tok_4242' };
const TO_IBAN = { sourceId: 'src_iban', account: 'DE89370400440532013000' };
const TO_NEW = { account: 'GB29NWBK60161331926819' };

/** A clean request: approved KYC, no sources, nothing recent, within every limit. */
function input(over: Partial<WithdrawalCheckInput> = {}): WithdrawalCheckInput {
  return {
    now: NOW,
    gross: usd(100_00n),
    methodId: 'sepa-wire',
    destination: TO_NEW,
    policy: POLICY,
    kyc: { status: 'approved', identityExpiresOn: '2030-01-01', documentsRequested: false },
    sources: [],
    recentDeposits: [],
    tradingTurnover: usd(0n),
    ...over,
  };
}

const check = (i: WithdrawalCheckInput, name: WithdrawalCheckResult['check']) =>
  assessWithdrawal(i).checks.find((c) => c.check === name)!;

describe('kyc_valid', () => {
  it('passes for an approved client with a valid document', () => {
    expect(check(input(), 'kyc_valid')).toMatchObject({ passed: true });
  });

  it.each(['pending', 'rejected', 'not_started', 'documents_requested'])('fails kyc_not_approved when KYC is %s', (status) => {
    const c = check(input({ kyc: { status, documentsRequested: false } }), 'kyc_valid');
    expect(c).toMatchObject({ passed: false, reason: 'kyc_not_approved', evidence: { status } });
  });

  it('a document is valid through its expiry date, expired from the next UTC day', () => {
    const onDay = (identityExpiresOn: string, now: string) =>
      check(
        input({ now: new Date(now), kyc: { status: 'approved', identityExpiresOn, documentsRequested: false } }),
        'kyc_valid',
      );
    expect(onDay('2025-06-15', '2025-06-15T23:59:59.999Z')).toMatchObject({ passed: true });
    expect(onDay('2025-06-14', '2025-06-15T00:00:00.000Z')).toMatchObject({ passed: false, reason: 'kyc_expired' });
    expect(onDay('2025-06-16', '2025-06-15T00:00:00.000Z')).toMatchObject({ passed: true });
  });

  it('an unreadable expiry date counts as expired (a human looks)', () => {
    const c = check(
      input({ kyc: { status: 'approved', identityExpiresOn: '2025-02-30', documentsRequested: false } }),
      'kyc_valid',
    );
    expect(c).toMatchObject({ passed: false, reason: 'kyc_expired', evidence: { identityExpiresOnInvalid: true } });
  });

  it('an approved client without a known expiry passes', () => {
    expect(check(input({ kyc: { status: 'approved', documentsRequested: false } }), 'kyc_valid').passed).toBe(true);
  });
});

describe('closed_loop', () => {
  const loop = (
    sources: ClosedLoopSource[],
    destination: WithdrawalCheckInput['destination'],
    gross: bigint,
    methodId = 'card',
  ) => check(input({ sources, destination, gross: usd(gross), methodId }), 'closed_loop');

  it('single source: back to the card up to and beyond what it sent (profits, nothing else owed)', () => {
    expect(loop([card(100_00n)], TO_CARD, 100_00n).passed).toBe(true);
    expect(loop([card(100_00n)], TO_CARD, 150_00n).passed).toBe(true);
  });

  it('a new account while the card is still owed fails, naming the card and the amount', () => {
    const c = loop([card(100_00n)], TO_NEW, 10_00n, 'sepa-wire');
    expect(c).toMatchObject({ passed: false, reason: 'closed_loop' });
    expect(c.evidence).toMatchObject({
      owed: [{ sourceId: 'src_card', display: 'Visa •4242', outstanding: { amount: '100.00', currency: 'USD' } }],
      totalOwed: { amount: '100.00', currency: 'USD' },
      maxToDestination: { amount: '0.00', currency: 'USD' },
      destination: { sourceId: null, isSource: false },
    });
  });

  it('partially returned: the rest is still owed; fully returned: profits may go anywhere', () => {
    const partly = loop([card(100_00n, 60_00n)], TO_NEW, 1n, 'sepa-wire');
    expect(partly).toMatchObject({ passed: false, evidence: { totalOwed: { amount: '40.00' } } });
    expect(loop([card(100_00n, 100_00n)], TO_NEW, 500_00n, 'sepa-wire').passed).toBe(true);
    // more came back than went in (a refund plus a chargeback): never a negative debt
    const over = loop([card(100_00n, 150_00n)], TO_NEW, 1n, 'sepa-wire');
    expect(over).toMatchObject({ passed: true, evidence: { owed: [], totalOwed: { amount: '0.00' } } });
  });

  it('two sources: each may take up to what it sent, not more, while the other is owed', () => {
    const both = [card(100_00n), iban(50_00n)];
    expect(loop(both, TO_CARD, 100_00n).passed).toBe(true);
    expect(loop(both, TO_CARD, 100_01n)).toMatchObject({ passed: false, evidence: { maxToDestination: { amount: '100.00' } } });
    expect(loop(both, TO_IBAN, 50_00n, 'sepa-wire').passed).toBe(true);
    expect(loop(both, TO_IBAN, 50_01n, 'sepa-wire').passed).toBe(false);
    expect(loop(both, TO_NEW, 1n, 'sepa-wire')).toMatchObject({ passed: false, evidence: { totalOwed: { amount: '150.00' } } });
  });

  it('two sources: once the card is repaid, profits may go to the IBAN but not to a new account while the IBAN is owed', () => {
    const repaid = [card(100_00n, 100_00n), iban(50_00n)];
    expect(loop(repaid, TO_IBAN, 80_00n, 'sepa-wire').passed).toBe(true);
    expect(loop(repaid, TO_CARD, 10_00n).passed).toBe(false); // the card is owed nothing; the IBAN still is
    expect(loop(repaid, TO_NEW, 10_00n, 'sepa-wire').passed).toBe(false);
  });

  it("only the withdrawal's currency counts", () => {
    expect(loop([card(100_00n, 0n, 'EUR')], TO_NEW, 10_00n, 'sepa-wire').passed).toBe(true);
  });

  it('a destination without a source id matches a source by account (spaces and case ignored) and method', () => {
    const both = [card(100_00n), iban(50_00n)];
    expect(loop(both, { account: ' de89 3704 0044 0532 0130 00 ' }, 50_00n, 'sepa-wire').passed).toBe(true);
    // the same account through another method is not that source
    expect(loop(both, { account: 'DE89370400440532013000' }, 50_00n, 'swift-wire').passed).toBe(false);
    // a source id of another method is not the destination either
    expect(loop(both, TO_CARD, 10_00n, 'sepa-wire').passed).toBe(false);
  });
});

describe('closedLoopPlan', () => {
  it('tells the client where money must go first and how much the destination may take', () => {
    const plan = closedLoopPlan([card(100_00n), iban(50_00n, 20_00n)], 'USD', TO_IBAN, 40_00n);
    expect(plan).toEqual({
      allowed: false,
      owed: [
        { sourceId: 'src_card', methodId: 'card', display: 'Visa •4242', outstanding: 100_00n },
        { sourceId: 'src_iban', methodId: 'sepa-wire', display: 'DE89 •••• 3000', outstanding: 30_00n },
      ],
      totalOwed: 130_00n,
      destinationSourceId: 'src_iban',
      destinationOutstanding: 30_00n,
      maxToDestination: 30_00n,
    });
  });

  it('no limit (null) when nothing else is owed', () => {
    expect(closedLoopPlan([card(100_00n)], 'USD', TO_CARD, 1_000_00n).maxToDestination).toBeNull();
    expect(closedLoopPlan([], 'USD', TO_NEW, 1_000_00n)).toMatchObject({ allowed: true, owed: [], maxToDestination: null });
  });
});

describe('isSameAccount', () => {
  it('ignores spaces and case, never matches empty', () => {
    expect(isSameAccount('DE89 3704 0044 0532 0130 00', ' de89370400440532013000')).toBe(true);
    expect(isSameAccount('DE89370400440532013000', 'DE89370400440532013001')).toBe(false);
    expect(isSameAccount('  ', '')).toBe(false);
  });
});

describe('aml_large_amount', () => {
  const large = (amount: bigint, currency = 'USD') => check(input({ gross: { amount, currency } }), 'aml_large_amount');

  it('flags at the limit, not one minor unit below', () => {
    expect(large(9_999_99n).passed).toBe(true);
    expect(large(10_000_00n)).toMatchObject({
      passed: false,
      reason: 'aml_large_amount',
      evidence: { gross: { amount: '10000.00' }, largeAmount: { amount: '10000.00', currency: 'USD' } },
    });
    expect(large(10_000_01n).passed).toBe(false);
  });

  it('reads the limit in the currency’s own minor units (JPY has none)', () => {
    expect(large(999_999n, 'JPY').passed).toBe(true);
    expect(large(1_000_000n, 'JPY').passed).toBe(false);
  });

  it('no limit for the currency: never flagged', () => {
    expect(large(10n ** 20n, 'EUR')).toMatchObject({ passed: true, evidence: { largeAmount: null } });
  });
});

describe('aml_round_trip', () => {
  const dep = (amount: bigint, ageMs: number, depositId = 'dep_1') => ({
    depositId,
    completedAt: new Date(NOW.getTime() - ageMs).toISOString(),
    gross: usd(amount),
  });
  const trip = (over: Partial<WithdrawalCheckInput>) => check(input(over), 'aml_round_trip');

  it('flags withdrawing at least half of a recent deposit with too little trading', () => {
    const c = trip({ recentDeposits: [dep(1000_00n, HOUR)], gross: usd(500_00n) });
    expect(c).toMatchObject({
      passed: false,
      reason: 'aml_round_trip',
      evidence: {
        recentTotal: { amount: '1000.00' },
        flaggedFromGross: { amount: '500.00' },
        requiredTurnover: { amount: '1000.00' },
        recentDeposits: [{ depositId: 'dep_1' }],
      },
    });
    expect(trip({ recentDeposits: [dep(1000_00n, HOUR)], gross: usd(499_99n) }).passed).toBe(true);
  });

  it('enough trading clears it: exactly the required turnover passes, one minor unit less does not', () => {
    const base = { recentDeposits: [dep(1000_00n, HOUR)], gross: usd(900_00n) };
    expect(trip({ ...base, tradingTurnover: usd(1000_00n) }).passed).toBe(true);
    expect(trip({ ...base, tradingTurnover: usd(999_99n) }).passed).toBe(false);
  });

  it('the window includes a deposit exactly roundTripHours old and excludes one a millisecond older', () => {
    expect(trip({ recentDeposits: [dep(1000_00n, 72 * HOUR)], gross: usd(600_00n) }).passed).toBe(false);
    const old = trip({ recentDeposits: [dep(1000_00n, 72 * HOUR + 1)], gross: usd(600_00n) });
    expect(old).toMatchObject({ passed: true, evidence: { recentDeposits: [], recentTotal: { amount: '0.00' } } });
  });

  it('sums every deposit in the window, and ignores other currencies', () => {
    const deposits = [dep(300_00n, HOUR, 'a'), dep(300_00n, 2 * HOUR, 'b'), dep(10_000_00n, 100 * HOUR, 'old')];
    expect(trip({ recentDeposits: deposits, gross: usd(300_00n) }).passed).toBe(false);
    expect(trip({ recentDeposits: deposits, gross: usd(299_99n) }).passed).toBe(true);
    const eur = { depositId: 'e', completedAt: NOW.toISOString(), gross: { amount: 1000_00n, currency: 'EUR' } };
    expect(trip({ recentDeposits: [eur], gross: usd(1000_00n) }).passed).toBe(true);
  });

  it('no recent deposit: never flagged', () => {
    expect(trip({ gross: usd(1_000_00n) }).passed).toBe(true);
  });

  it('a share of an odd amount is compared exactly (no rounding down in the client’s favour)', () => {
    // 50% of 0.03 is 0.015: 0.02 is at or above it, 0.01 below
    expect(trip({ recentDeposits: [dep(3n, HOUR)], gross: usd(2n) })).toMatchObject({
      passed: false,
      evidence: { flaggedFromGross: { amount: '0.02' } },
    });
    expect(trip({ recentDeposits: [dep(3n, HOUR)], gross: usd(1n) }).passed).toBe(true);
  });

  it('a completion time that cannot be read counts as recent', () => {
    const bad = { depositId: 'x', completedAt: 'yesterday', gross: usd(100_00n) };
    expect(trip({ recentDeposits: [bad], gross: usd(100_00n) }).passed).toBe(false);
  });
});

describe('documents_requested and withdrawals_frozen', () => {
  it('a pending document request sends it to review', () => {
    expect(check(input({ kyc: { status: 'approved', documentsRequested: true } }), 'documents_requested')).toMatchObject({
      passed: false,
      reason: 'documents_requested',
    });
  });

  it('a freeze sends it to review, with the freeze reason as evidence', () => {
    expect(check(input({ frozen: { reason: 'chargeback' } }), 'withdrawals_frozen')).toMatchObject({
      passed: false,
      reason: 'withdrawals_frozen',
      evidence: { frozen: true, reason: 'chargeback' },
    });
    expect(check(input(), 'withdrawals_frozen').passed).toBe(true);
  });
});

describe('outcome', () => {
  it('clean and within the limit: approved automatically, with the limit reported', () => {
    const a = assessWithdrawal(input());
    expect(a).toMatchObject({ outcome: 'approve', reasons: [], autoApproveLimit: { amount: 2000_00n, currency: 'USD' } });
    expect(a.checks.map((c) => c.check)).toEqual([...CHECK_ORDER]);
    expect(a.checks.every((c) => c.passed)).toBe(true);
  });

  it('exactly at the limit is automatic; one minor unit above goes to manual review', () => {
    expect(assessWithdrawal(input({ gross: usd(2000_00n) })).outcome).toBe('approve');
    expect(assessWithdrawal(input({ gross: usd(2000_01n) }))).toMatchObject({ outcome: 'review', reasons: ['manual_review'] });
  });

  it('a currency without an auto-approval limit is never automatic', () => {
    const a = assessWithdrawal(input({ gross: { amount: 1n, currency: 'EUR' }, tradingTurnover: usd(0n) }));
    expect(a).toMatchObject({ outcome: 'review', reasons: ['manual_review'] });
    expect(a.autoApproveLimit).toBeUndefined();
  });

  it('every failing check is named, in check order, and nothing is rejected automatically', () => {
    const a = assessWithdrawal(
      input({
        gross: usd(20_000_00n),
        kyc: { status: 'pending', documentsRequested: true },
        frozen: { reason: 'chargeback' },
        sources: [card(100_00n)],
        recentDeposits: [{ depositId: 'd', completedAt: NOW.toISOString(), gross: usd(100_00n) }],
      }),
    );
    expect(a.outcome).toBe('review');
    expect(a.reasons).toEqual([
      'kyc_not_approved',
      'closed_loop',
      'aml_large_amount',
      'aml_round_trip',
      'documents_requested',
      'withdrawals_frozen',
    ]);
  });

  it('a single failing check under the limit still goes to review, named alone', () => {
    expect(assessWithdrawal(input({ frozen: { reason: 'chargeback' } }))).toMatchObject({
      outcome: 'review',
      reasons: ['withdrawals_frozen'],
    });
  });

  it('refuses nonsense input loudly (a programming error, not a client refusal)', () => {
    expect(() => assessWithdrawal(input({ gross: usd(0n) }))).toThrow(RangeError);
    expect(() => assessWithdrawal(input({ tradingTurnover: { amount: 5n, currency: 'EUR' } }))).toThrow(RangeError);
  });
});

describe('properties', () => {
  const amount = fc.bigInt({ min: 1n, max: 5_000_00n });
  const sourceArb = fc.record({
    sourceId: fc.constantFrom('s1', 's2', 's3'),
    methodId: fc.constantFrom('card', 'sepa-wire'),
    deposited: fc.bigInt({ min: 0n, max: 3_000_00n }),
    returned: fc.bigInt({ min: 0n, max: 3_000_00n }),
  });
  const inputArb = fc
    .record({
      gross: amount,
      currency: fc.constantFrom('USD', 'USD', 'EUR'),
      methodId: fc.constantFrom('card', 'sepa-wire'),
      sources: fc.uniqueArray(sourceArb, { selector: (s) => s.sourceId, maxLength: 3 }),
      destination: fc.constantFrom<string | undefined>('s1', 's2', 's3', undefined),
      status: fc.constantFrom('approved', 'approved', 'pending'),
      expiryDays: fc.option(fc.integer({ min: -3, max: 3 }), { nil: undefined }),
      documentsRequested: fc.boolean(),
      frozen: fc.boolean(),
      deposits: fc.array(fc.record({ amount, ageHours: fc.integer({ min: 0, max: 100 }) }), { maxLength: 4 }),
      turnover: fc.bigInt({ min: 0n, max: 10_000_00n }),
      clean: fc.boolean(),
    })
    .map((r): WithdrawalCheckInput => {
      const day = (d: number) => new Date(NOW.getTime() + d * 24 * HOUR).toISOString().slice(0, 10);
      return {
        now: NOW,
        gross: { amount: r.gross, currency: r.currency },
        methodId: r.methodId,
        destination: r.destination ? { sourceId: r.destination, account: `acct-${r.destination}` } : TO_NEW,
        policy: POLICY,
        kyc: {
          status: r.clean ? 'approved' : r.status,
          identityExpiresOn: r.expiryDays === undefined ? undefined : day(r.expiryDays),
          documentsRequested: !r.clean && r.documentsRequested,
        },
        frozen: !r.clean && r.frozen ? { reason: 'chargeback' } : undefined,
        sources: r.sources.map((s) => ({
          ...s,
          display: s.sourceId,
          deposited: { [r.currency]: s.deposited },
          returned: { [r.currency]: s.returned },
        })),
        recentDeposits: r.deposits.map((d, i) => ({
          depositId: `d${i}`,
          completedAt: new Date(NOW.getTime() - d.ageHours * HOUR).toISOString(),
          gross: { amount: d.amount, currency: r.currency },
        })),
        tradingTurnover: { amount: r.turnover, currency: r.currency },
      };
    });

  it('approve implies every check passed and gross <= the currency limit', () => {
    let approved = 0;
    fc.assert(
      fc.property(inputArb, (i) => {
        const a = assessWithdrawal(i);
        if (a.outcome === 'approve') {
          approved += 1;
          expect(a.checks.every((c) => c.passed)).toBe(true);
          expect(a.autoApproveLimit).toBeDefined();
          expect(i.gross.amount <= a.autoApproveLimit!.amount).toBe(true);
          expect(a.reasons).toEqual([]);
        }
      }),
    );
    expect(approved).toBeGreaterThan(0); // the generator reaches the approve branch
  });

  it('reasons are exactly the failing checks in order, or manual_review when clean but not automatic', () => {
    fc.assert(
      fc.property(inputArb, (i) => {
        const a = assessWithdrawal(i);
        expect(a.checks.map((c) => c.check)).toEqual([...CHECK_ORDER]);
        const failing = a.checks.filter((c) => !c.passed);
        for (const c of failing) expect(c.reason).toBeDefined();
        if (failing.length > 0) expect(a.reasons).toEqual(failing.map((c) => c.reason));
        else if (a.outcome === 'review') expect(a.reasons).toEqual(['manual_review']);
        expect(['approve', 'review']).toContain(a.outcome);
      }),
    );
  });

  it('is deterministic, and its evidence is plain JSON with amounts as decimal strings', () => {
    fc.assert(
      fc.property(inputArb, (i) => {
        const a = assessWithdrawal(i);
        expect(assessWithdrawal(i)).toEqual(a);
        const json = JSON.stringify(a.checks); // a bigint left in the evidence would throw here
        expect(JSON.parse(json)).toEqual(a.checks);
        for (const m of json.matchAll(/"amount":"([^"]*)"/g)) expect(m[1]).toMatch(/^\d+\.\d{2}$/);
      }),
    );
  });

  it('closed loop: a destination may exceed its own debt only when no other source is owed', () => {
    fc.assert(
      fc.property(inputArb, (i) => {
        const plan = closedLoopPlan(i.sources, i.gross.currency, i.destination, i.gross.amount, i.methodId);
        const othersOwe = plan.owed.some((o) => o.sourceId !== plan.destinationSourceId);
        expect(plan.allowed).toBe(!othersOwe || i.gross.amount <= plan.destinationOutstanding);
        if (plan.destinationSourceId === undefined) expect(plan.allowed).toBe(plan.totalOwed === 0n);
        expect(plan.totalOwed).toBe(plan.owed.reduce((s, o) => s + o.outstanding, 0n));
        for (const o of plan.owed) expect(o.outstanding > 0n).toBe(true);
      }),
    );
  });

  it('round trip is exact for amounts far beyond float precision', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 2n ** 60n, max: 2n ** 90n }),
        fc.integer({ min: 1, max: 100 }),
        fc.integer({ min: 0, max: 10_000 }),
        (total, share, minTurnover) => {
          const policy = { ...POLICY, roundTripSharePercent: share, minTurnoverPercent: minTurnover, largeAmount: {} };
          const threshold = (total * BigInt(share) + 99n) / 100n; // smallest gross with gross*100 >= total*share
          const required = (total * BigInt(minTurnover) + 99n) / 100n;
          const deposits = [{ depositId: 'd', completedAt: NOW.toISOString(), gross: usd(total) }];
          const flagged = (gross: bigint, turnover: bigint) =>
            !check(
              input({ policy, gross: usd(gross), recentDeposits: deposits, tradingTurnover: usd(turnover) }),
              'aml_round_trip',
            ).passed;
          expect(flagged(threshold, 0n)).toBe(required > 0n);
          expect(flagged(threshold - 1n, 0n)).toBe(false);
          if (required > 0n) {
            expect(flagged(threshold, required - 1n)).toBe(true);
            expect(flagged(threshold, required)).toBe(false);
          }
        },
      ),
    );
  });
});
