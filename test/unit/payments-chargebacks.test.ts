/**
 * Chargeback money (domain/payments/chargebacks.ts): the wallet pays min(available, A) and never goes
 * negative, the rest is the chargeback receivable, postings sum to zero with no zero posting, and a
 * won dispute is the exact negation of the opening.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  canMoveChargeback,
  chargebackPostings,
  chargebackReversalPostings,
  chargebackSplit,
} from '#domain/payments/chargebacks.ts';

const accounts = { clearing: 'clearing', wallet: 'wallet', receivable: 'receivable' };
const sum = (ps: { amount: bigint }[]) => ps.reduce((s, p) => s + p.amount, 0n);

describe('chargebackSplit', () => {
  it('a wallet with enough pays all of it; no receivable posting', () => {
    const s = chargebackSplit(5_000n, 12_000n);
    expect(s).toEqual({ amount: 5_000n, fromWallet: 5_000n, receivable: 0n });
    expect(chargebackPostings(accounts, s, 'EUR')).toEqual([
      { accountId: 'clearing', amount: 5_000n, currency: 'EUR' },
      { accountId: 'wallet', amount: -5_000n, currency: 'EUR' },
    ]);
  });

  it('a spent wallet pays what it has, the shortfall goes to the receivable', () => {
    const s = chargebackSplit(5_000n, 1_200n);
    expect(s).toEqual({ amount: 5_000n, fromWallet: 1_200n, receivable: 3_800n });
    expect(chargebackPostings(accounts, chargebackSplit(5_000n, 0n), 'EUR')).toEqual([
      { accountId: 'clearing', amount: 5_000n, currency: 'EUR' },
      { accountId: 'receivable', amount: -5_000n, currency: 'EUR' },
    ]);
  });

  it('property: wallet never negative, covered exactly, postings sum to zero with no zero posting', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 10n ** 15n }), fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n }), (a, available) => {
        const s = chargebackSplit(a, available);
        expect(s.fromWallet >= 0n).toBe(true);
        expect(s.receivable >= 0n).toBe(true);
        expect(s.fromWallet + s.receivable).toBe(a);
        // the wallet's available after the debit is never below zero
        const walletAfter = (available > 0n ? available : 0n) - s.fromWallet;
        expect(walletAfter >= 0n).toBe(true);
        // the wallet pays as much as it can: either all of A or all it has
        expect(s.fromWallet === a || s.fromWallet === (available > 0n ? available : 0n)).toBe(true);
        const open = chargebackPostings(accounts, s, 'EUR');
        expect(sum(open)).toBe(0n);
        expect(open.every((p) => p.amount !== 0n)).toBe(true);
        const back = chargebackReversalPostings(accounts, s, 'EUR');
        expect(sum(back)).toBe(0n);
        // opening + reversal leaves every account where it was
        for (const p of open) expect(p.amount + back.find((b) => b.accountId === p.accountId)!.amount).toBe(0n);
      }),
    );
  });

  it('refuses a non-positive amount', () => {
    expect(() => chargebackSplit(0n, 10n)).toThrow();
  });
});

describe('lifecycle', () => {
  it('open -> won | lost, nothing after', () => {
    expect(canMoveChargeback('open', 'won')).toBe(true);
    expect(canMoveChargeback('open', 'lost')).toBe(true);
    expect(canMoveChargeback('won', 'lost')).toBe(false);
    expect(canMoveChargeback('lost', 'won')).toBe(false);
  });
});
