/**
 * Deposit and withdrawal lifecycles (domain/payments/status.ts) and the sandbox PSP's outcome rule
 * (sandbox.ts): only listed transitions, terminal statuses final, no way backwards, the withdrawal
 * hold's fate per status; the amount's cents pick the sandbox outcome in every exponent.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  assertTransition,
  canTransition,
  DEPOSIT_STATUSES,
  DEPOSIT_TRANSITIONS,
  isTerminalDeposit,
  isTerminalWithdrawal,
  sandboxLastTwoDigits,
  sandboxOutcome,
  WITHDRAWAL_STATUSES,
  WITHDRAWAL_TRANSITIONS,
  withdrawalHold,
} from '#domain/payments/index.ts';

describe('lifecycles move only forward along listed transitions', () => {
  it('deposits: created -> pending -> completed -> refunded / charged_back; failures are final', () => {
    expect(canTransition(DEPOSIT_TRANSITIONS, 'created', 'pending')).toBe(true);
    expect(canTransition(DEPOSIT_TRANSITIONS, 'pending', 'completed')).toBe(true);
    expect(canTransition(DEPOSIT_TRANSITIONS, 'completed', 'charged_back')).toBe(true);
    expect(canTransition(DEPOSIT_TRANSITIONS, 'failed', 'completed')).toBe(false);
    expect(canTransition(DEPOSIT_TRANSITIONS, 'completed', 'pending')).toBe(false);
    expect(DEPOSIT_STATUSES.filter(isTerminalDeposit)).toEqual(['failed', 'expired', 'refunded', 'charged_back']);
  });

  it('withdrawals: received -> (under_review) -> approved -> processing -> completed; the hold is posted or voided at the end', () => {
    expect(canTransition(WITHDRAWAL_TRANSITIONS, 'received', 'under_review')).toBe(true);
    expect(canTransition(WITHDRAWAL_TRANSITIONS, 'approved', 'processing')).toBe(true);
    expect(canTransition(WITHDRAWAL_TRANSITIONS, 'completed', 'failed')).toBe(false);
    expect(canTransition(WITHDRAWAL_TRANSITIONS, 'processing', 'cancelled')).toBe(false);
    expect(WITHDRAWAL_STATUSES.filter(isTerminalWithdrawal)).toEqual(['rejected', 'cancelled', 'completed', 'failed']);
    expect(Object.fromEntries(WITHDRAWAL_STATUSES.map((s) => [s, withdrawalHold(s)]))).toEqual({
      received: 'held',
      under_review: 'held',
      approved: 'held',
      processing: 'held',
      rejected: 'voided',
      cancelled: 'voided',
      completed: 'posted',
      failed: 'voided',
    });
  });

  it('every transition target is a known status, and no status can return to itself', () => {
    for (const [table, statuses] of [
      [DEPOSIT_TRANSITIONS, DEPOSIT_STATUSES],
      [WITHDRAWAL_TRANSITIONS, WITHDRAWAL_STATUSES],
    ] as const) {
      for (const [from, tos] of Object.entries(table)) {
        for (const to of tos) expect((statuses as readonly string[]).includes(to)).toBe(true);
        expect((tos as readonly string[]).includes(from)).toBe(false);
      }
    }
  });

  it('an unlisted transition is invalid_status_transition (409) with what is allowed', () => {
    let error: { code?: string; kind?: string; meta?: unknown } = {};
    try {
      assertTransition('deposit', DEPOSIT_TRANSITIONS, 'failed', 'completed');
    } catch (e) {
      error = e as typeof error;
    }
    expect(error).toMatchObject({
      code: 'invalid_status_transition',
      kind: 'conflict',
      meta: { kind: 'deposit', from: 'failed', to: 'completed', allowed: [] },
    });
    expect(() => assertTransition('withdrawal', WITHDRAWAL_TRANSITIONS, 'approved', 'processing')).not.toThrow();
  });
});

describe('sandbox outcome: the last two digits of the minor units decide', () => {
  it('ends in 13: failed, ends in 42: pending, anything else: succeeded', () => {
    const o = (amount: bigint, currency: string) => sandboxOutcome({ amount, currency });
    expect([o(10_013n, 'USD'), o(10_042n, 'USD'), o(10_000n, 'USD'), o(10_014n, 'USD'), o(11_300n, 'USD')]).toEqual([
      'failed',
      'pending',
      'succeeded',
      'succeeded',
      'succeeded',
    ]);
    // minor units whatever the exponent: micro-units for USDT, yen for JPY
    expect(o(20_000_013n, 'USDT')).toBe('failed');
    expect(o(20_130_000n, 'USDT')).toBe('succeeded');
    expect(o(1_042n, 'JPY')).toBe('pending');
  });

  it('the outcome depends on nothing but the last two digits', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 10n ** 20n }), fc.constantFrom('USD', 'JPY', 'USDT', 'BTC'), (amount, currency) => {
        const d = sandboxLastTwoDigits({ amount, currency });
        expect(d >= 0n && d < 100n).toBe(true);
        expect(sandboxOutcome({ amount, currency })).toBe(d === 13n ? 'failed' : d === 42n ? 'pending' : 'succeeded');
      }),
    );
  });
});
