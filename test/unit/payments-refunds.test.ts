/**
 * Refund rules (domain/payments/refunds.ts): only a completed deposit is refundable, in its currency,
 * up to net - refunded - pending (the fee is never returned); a sequence of accepted refunds never
 * exceeds the net; a completed refund's postings sum to zero; the reason catalogue.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  assertRefundable,
  depositAfterRefund,
  refundableMinor,
  refundPostings,
  validateRefundReason,
} from '#domain/payments/refunds.ts';
import { thrown } from '../support/errors.ts';

const deposit = (over: Partial<Parameters<typeof assertRefundable>[0]> = {}) => ({
  status: 'completed',
  currency: 'EUR',
  net: 9_700n,
  refunded: 0n,
  pending: 0n,
  ...over,
});

describe('assertRefundable', () => {
  it('accepts up to the net less completed and pending refunds, and says what stays refundable', () => {
    expect(assertRefundable(deposit(), { amount: 9_700n, currency: 'EUR' })).toBe(0n);
    expect(assertRefundable(deposit({ refunded: 1_000n, pending: 700n }), { amount: 8_000n, currency: 'EUR' })).toBe(0n);
    expect(assertRefundable(deposit({ refunded: 1_000n }), { amount: 500n, currency: 'EUR' })).toBe(8_200n);
  });

  it('refuses one minor unit more than refundable: refund_exceeds_deposit (the fee is not refundable)', () => {
    const e = thrown(() => assertRefundable(deposit({ refunded: 1_000n, pending: 700n }), { amount: 8_001n, currency: 'EUR' }));
    expect([e.code, e.kind]).toEqual(['refund_exceeds_deposit', 'unprocessable']);
    expect(e.meta).toMatchObject({ refundableMinor: '8000' });
    // the gross (10 000 with a 300 fee) is not refundable: only the net is
    expect(thrown(() => assertRefundable(deposit(), { amount: 10_000n, currency: 'EUR' })).code).toBe('refund_exceeds_deposit');
  });

  it('only a completed deposit is refundable', () => {
    for (const status of ['created', 'pending', 'failed', 'expired', 'refunded', 'charged_back']) {
      const e = thrown(() => assertRefundable(deposit({ status }), { amount: 1n, currency: 'EUR' }));
      expect(e.code, status).toBe('deposit_not_refundable');
    }
  });

  it("refuses another currency than the deposit's", () => {
    expect(thrown(() => assertRefundable(deposit(), { amount: 1n, currency: 'USD' })).code).toBe('currency_mismatch');
  });

  it('property: accepted refunds never add up to more than the net', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 10n ** 12n }),
        fc.array(fc.bigInt({ min: 1n, max: 10n ** 12n }), { maxLength: 30 }),
        (net, asks) => {
          let refunded = 0n;
          for (const ask of asks) {
            try {
              const left = assertRefundable(deposit({ net, refunded }), { amount: ask, currency: 'EUR' });
              refunded += ask;
              expect(left).toBe(net - refunded);
            } catch (e) {
              expect((e as { code: string }).code).toBe('refund_exceeds_deposit');
              expect(ask).toBeGreaterThan(net - refunded);
            }
            expect(refunded).toBeLessThanOrEqual(net);
          }
          expect(depositAfterRefund({ net, refunded: 0n }, refunded).full).toBe(refunded === net);
        },
      ),
    );
  });

  it('property: refundable is never negative and never more than the net', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 12n }),
        fc.bigInt({ min: 0n, max: 10n ** 12n }),
        fc.bigInt({ min: 0n, max: 10n ** 12n }),
        (net, refunded, pending) => {
          const r = refundableMinor({ net, refunded, pending });
          expect(r >= 0n && r <= net).toBe(true);
        },
      ),
    );
  });
});

describe('refundPostings', () => {
  it('property: wallet -amount, clearing +amount, summing to zero', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 10n ** 20n }), (amount) => {
        const p = refundPostings({ wallet: 'w', clearing: 'c' }, { amount, currency: 'EUR' });
        expect(p.reduce((s, x) => s + x.amount, 0n)).toBe(0n);
        expect(p.find((x) => x.accountId === 'w')!.amount).toBe(-amount);
      }),
    );
  });
});

describe('depositAfterRefund', () => {
  it('a partial refund keeps the deposit completed; the last one makes it refunded', () => {
    expect(depositAfterRefund({ net: 9_700n, refunded: 0n }, 4_000n)).toEqual({ refunded: 4_000n, full: false });
    expect(depositAfterRefund({ net: 9_700n, refunded: 4_000n }, 5_700n)).toEqual({ refunded: 9_700n, full: true });
  });
});

describe('validateRefundReason', () => {
  it('accepts catalogue codes; other needs a note; anything else is unknown_reason', () => {
    expect(validateRefundReason('client_request', undefined)).toBe('client_request');
    expect(validateRefundReason('other', 'goodwill')).toBe('other');
    expect(thrown(() => validateRefundReason('other', '  ')).code).toBe('note_required');
    expect(thrown(() => validateRefundReason('because', undefined)).code).toBe('unknown_reason');
  });
});
