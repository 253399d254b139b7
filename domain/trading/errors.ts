/**
 * Trading errors: the codes a trading platform (the simulator, later the MT5 adapter) refuses a request with.
 *
 * Invariants:
 * - a code is stable once shipped (snake_case, never renamed); TRADING_ERROR_CODES is the whole list
 * - a TradingError is a DomainError, so the HTTP edge maps it by `kind` like every other business error
 * - only platform_unavailable is retryable: every other code is an answer about this request that the
 *   same request will get again
 */
import { DomainError, type ErrorKind, type FieldError } from '../errors.ts';

export const TRADING_ERROR_CODES = [
  'no_money',
  'invalid_volume',
  'invalid_price',
  'invalid_amount',
  'market_closed',
  'account_not_found',
  'account_exists',
  'symbol_not_found',
  'position_not_found',
  'trade_disabled',
  'platform_unavailable',
  'duplicate_external_id',
] as const;
export type TradingErrorCode = (typeof TRADING_ERROR_CODES)[number];

/** HTTP kind per code; platform_unavailable is 'unavailable' (503: the platform did not answer, retry later). */
export const TRADING_ERROR_KINDS: Readonly<Record<TradingErrorCode, ErrorKind>> = {
  no_money: 'unprocessable',
  invalid_volume: 'unprocessable',
  invalid_price: 'unprocessable',
  invalid_amount: 'unprocessable',
  market_closed: 'conflict',
  account_not_found: 'not_found',
  account_exists: 'conflict',
  symbol_not_found: 'not_found',
  position_not_found: 'not_found',
  trade_disabled: 'forbidden',
  platform_unavailable: 'unavailable',
  duplicate_external_id: 'conflict',
};

export class TradingError extends DomainError {
  declare readonly code: TradingErrorCode;
  readonly retryable: boolean;

  constructor(code: TradingErrorCode, message: string, errors: FieldError[] = [], meta: Record<string, unknown> = {}) {
    super(code, TRADING_ERROR_KINDS[code], message, errors, meta);
    this.name = 'TradingError';
    this.retryable = code === 'platform_unavailable';
  }
}

export const isTradingError = (e: unknown): e is TradingError => e instanceof TradingError;
