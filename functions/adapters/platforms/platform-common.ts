/**
 * Small decisions the platform adapters (mt5.ts, ctrader.ts, dxtrade.ts, match-trader.ts) make the same way: the
 * zero-amount refusal and the exactly-once verdict on an externalId the platform already holds (domain/trading/
 * port.ts: "applying the same externalId twice applies it once and answers with the original operation"), and the
 * account state from a platform's balance / credit / equity / margin figures. Where and how each platform keeps the
 * id (a comment suffix, an external id field, a client-side transfer code) stays in its adapter; only the verdict
 * lives here.
 */
import { TradingError } from '#domain/trading/errors.ts';
import { type AccountState, marginLevel } from '#domain/trading/model.ts';
import type { BalanceResult } from '#domain/trading/port.ts';

/** A zero amount is refused before anything is read or written (invalid_amount, on the `amount` field). */
export function refuseZeroAmount(amount: bigint): void {
  if (amount === 0n) {
    throw new TradingError('invalid_amount', 'Amount must not be zero', [
      { field: 'amount', code: 'invalid_amount', message: 'Amount must not be zero' },
    ]);
  }
}

/** What the platform already holds under an externalId, as the adapter found it. */
export interface AppliedOperation {
  /** The platform's id for it: the ticket the original call answered. */
  ticket: string;
  /** Whether it is the operation now asked for (same kind and signed amount, by the platform's own terms). */
  same: boolean;
  /** Carried on the duplicate_external_id error (the platform's record id), for support. */
  meta?: Record<string, unknown>;
}

/**
 * The exactly-once verdict of changeBalance: nothing under the id -> undefined (apply it now); the same
 * operation -> `{ ticket, replayed: true }` (nothing is applied); another operation -> duplicate_external_id.
 */
export function replayOf(externalId: string, seen: AppliedOperation | undefined): BalanceResult | undefined {
  if (!seen) return undefined;
  if (!seen.same) {
    throw new TradingError(
      'duplicate_external_id',
      `externalId ${externalId} was applied to a different operation`,
      [],
      seen.meta ?? {},
    );
  }
  return { ticket: seen.ticket, replayed: true };
}

/**
 * The account state from the platform's figures in minor units, where the platform reports no floating P/L of its
 * own: profit = equity - balance - credit; the margin level from equity and margin (domain/trading/model.ts).
 */
export function accountStateOf(
  login: number,
  currency: string,
  f: { balance: bigint; credit: bigint; equity: bigint; margin: bigint; freeMargin: bigint },
): AccountState {
  return {
    login,
    currency,
    ...f,
    marginLevel: marginLevel(f.equity, f.margin),
    profit: f.equity - f.balance - f.credit,
  };
}
