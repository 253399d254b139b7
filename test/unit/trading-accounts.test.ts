/**
 * The trading account rules (domain/trading/accounts.ts), exhaustively where they are about money: ids derived
 * from Idempotency-Keys (stable, distinct, within what every adapter can carry as an external id), the free-margin
 * check on a withdrawal from an account, the first-deposit minimum, what a deal is to the rest of the product, and
 * the hour buckets a turnover window sums.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  assertFirstDeposit,
  assertWithdrawable,
  dealKind,
  demoFundingIdOf,
  tradingAccountIdFor,
  tradingTransferIdFor,
  turnoverHour,
  turnoverHours,
} from '#domain/trading/accounts.ts';
import type { AccountState } from '#domain/trading/model.ts';
import { refusalCode } from '../support/errors.ts';

const EXTERNAL_ID = /^[A-Za-z0-9_-]{1,26}$/;

const refusal = refusalCode;

const state = (balance: bigint, freeMargin: bigint): AccountState => ({
  login: 1,
  currency: 'USD',
  balance,
  credit: 0n,
  equity: freeMargin,
  margin: 0n,
  freeMargin,
  marginLevel: null,
  profit: 0n,
});

describe('ids', () => {
  it('a transfer id is stable per (account, key), differs across keys and accounts, and fits every external-id field', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), (account, k1, k2) => {
        const a = tradingTransferIdFor(account, k1);
        expect(a).toBe(tradingTransferIdFor(account, k1));
        expect(a).toMatch(EXTERNAL_ID);
        expect(a).toHaveLength(26);
        if (k1 !== k2) expect(tradingTransferIdFor(account, k2)).not.toBe(a);
        expect(tradingTransferIdFor(`${account}x`, k1)).not.toBe(a);
      }),
    );
  });

  it('an account id is per (client, key), and its demo funding id fits an external-id field', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), (client, key) => {
        const id = tradingAccountIdFor(client, key);
        expect(id).toBe(tradingAccountIdFor(client, key));
        expect(id).not.toBe(tradingAccountIdFor(`${client}-other`, key));
        expect(demoFundingIdOf(id)).toMatch(EXTERNAL_ID);
      }),
    );
  });
});

describe('money rules', () => {
  it('a withdrawal from an account passes exactly when it is at most both the free margin and the balance', () => {
    const minor = fc.bigInt({ min: -10_000_000n, max: 10_000_000n });
    fc.assert(
      fc.property(minor, minor, fc.bigInt({ min: 1n, max: 10_000_000n }), (balance, free, amount) => {
        // biome-ignore lint/complexity/useMathMinMax: bigints (Math.min takes numbers)
        const limit = free < balance ? free : balance;
        expect(refusal(() => assertWithdrawable(state(balance, free), amount))).toBe(amount <= limit ? undefined : 'no_money');
      }),
    );
  });

  it('the refusal names what may leave, never a negative amount', () => {
    try {
      assertWithdrawable(state(100_00n, -5_00n), 1n);
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).toBe('At most 0.00 USD can leave the account now (free margin 0.00, balance 100.00)');
    }
  });

  it('the first deposit is at least the minimum; no minimum, no refusal', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 10n ** 12n }), fc.option(fc.bigInt({ min: 0n, max: 10n ** 12n })), (amount, min) => {
        const code = refusal(() => assertFirstDeposit(amount, min ?? undefined, 'EUR'));
        expect(code).toBe(min !== null && amount < min ? 'amount_below_first_deposit_minimum' : undefined);
      }),
    );
  });
});

describe('deals', () => {
  it('a trade entering is a position opened, any other trade entry closes (part of) one, everything else is money', () => {
    expect(dealKind({ action: 'buy', entry: 'in' })).toBe('position_opened');
    expect(dealKind({ action: 'sell', entry: 'in' })).toBe('position_opened');
    for (const entry of ['out', 'inout', 'out_by'] as const) expect(dealKind({ action: 'sell', entry })).toBe('deal_closed');
    for (const action of ['balance', 'credit', 'charge', 'correction', 'bonus', 'commission', 'so_compensation'] as const) {
      expect(dealKind({ action, entry: 'in' })).toBe('balance_changed');
    }
  });

  it('a turnover window sums every hour bucket it touches, in order, and the bucket of any time inside it', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1_700_000_000_000, max: 1_900_000_000_000 }),
        fc.integer({ min: 0, max: 72 * 3_600_000 }),
        (start, span) => {
          const hours = turnoverHours(new Date(start), new Date(start + span));
          expect(hours[0]).toBe(turnoverHour(start));
          expect(hours.at(-1)).toBe(turnoverHour(start + span));
          expect([...hours].sort()).toEqual(hours);
          expect(new Set(hours).size).toBe(hours.length);
          const inside = start + Math.floor(span / 2);
          expect(hours).toContain(turnoverHour(inside));
        },
      ),
    );
  });
});
