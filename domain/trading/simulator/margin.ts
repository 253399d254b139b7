/**
 * Money arithmetic of positions: required margin, floating and realised profit, swap, commission and the
 * margin level. Pure functions over bigints; every amount is rounded ONCE, at the end, from an exact ratio.
 *
 * Invariants:
 * - every money result is in minor units of the account currency, rounded half-even (roundHalfEven) from the
 *   exact value: points x volume x contractSize x factor x 10^exponent / (10^digits x 10,000 x leverage)
 * - required margin = volume_lots x contractSize x openPrice / effective leverage, in the quote currency,
 *   converted at the current factor; effective leverage = min(account leverage, class cap) for a retail
 *   account and the account leverage otherwise
 * - profit of a buy = (closePrice - openPrice) x ..., of a sell = (openPrice - closePrice) x ...; a buy is
 *   valued at the bid and a sell at the ask
 * - commission = commissionPerLot x volume / 10,000, half-even, charged (negative) on every deal, open and close
 * - the stop-out comparison is exact (equity x 100 < level x margin); the margin level string is for display
 */
import { currency } from '../../money/currencies.ts';
import { roundHalfEven } from '../../money/index.ts';
import type { InstrumentClass } from '../../onboarding/catalog.ts';
import { type Side, type SymbolSpec, type TradingAccount, VOLUME_PER_LOT } from '../model.ts';
import { pow10, type Ratio } from './ratio.ts';

/** N for N:1: the account leverage, capped per class for a retail account. */
export function effectiveLeverage(account: Pick<TradingAccount, 'leverage' | 'retail' | 'leverageCaps'>, cls: InstrumentClass) {
  const cap = account.leverageCaps[cls];
  return account.retail && cap < account.leverage ? cap : account.leverage;
}

/**
 * points x volume x contractSize (a quote-currency amount: points are 10^-digits, volume is lots x 10,000),
 * times `factor` (account currency per quote currency), divided by `divisor`, in account minor units.
 * Rounding: half-even, once.
 */
export function quoteAmountToMinor(
  spec: Pick<SymbolSpec, 'digits' | 'contractSize'>,
  points: bigint,
  volume: bigint,
  factor: Ratio,
  accountCurrency: string,
  divisor = 1n,
): bigint {
  const num = points * volume * spec.contractSize * factor.num * pow10(currency(accountCurrency).exponent);
  const den = pow10(spec.digits) * VOLUME_PER_LOT * factor.den * divisor;
  return roundHalfEven(num, den);
}

/** Required margin of `volume` opened at `openPrice`, account minor units (half-even). */
export const requiredMargin = (
  spec: SymbolSpec,
  volume: bigint,
  openPrice: bigint,
  leverage: number,
  factor: Ratio,
  accountCurrency: string,
): bigint => quoteAmountToMinor(spec, openPrice, volume, factor, accountCurrency, BigInt(leverage));

/** P/L of `volume` opened at `openPrice` and valued at `closePrice`, account minor units (half-even). */
export const profitAt = (
  spec: SymbolSpec,
  side: Side,
  volume: bigint,
  openPrice: bigint,
  closePrice: bigint,
  factor: Ratio,
  accountCurrency: string,
): bigint =>
  quoteAmountToMinor(spec, side === 'buy' ? closePrice - openPrice : openPrice - closePrice, volume, factor, accountCurrency);

/** Swap of one rollover of `days` days, account minor units (half-even); positive is credited. */
export const swapFor = (spec: SymbolSpec, side: Side, volume: bigint, days: number, factor: Ratio, accountCurrency: string) =>
  quoteAmountToMinor(
    spec,
    (side === 'buy' ? spec.swapLongPoints : spec.swapShortPoints) * BigInt(days),
    volume,
    factor,
    accountCurrency,
  );

/** Commission for one side of `volume`, as the (non-positive) amount charged on the deal. Rounding: half-even. */
export const commissionFor = (spec: SymbolSpec, volume: bigint): bigint =>
  -roundHalfEven((spec.commissionPerLot ?? 0n) * volume, VOLUME_PER_LOT);

/** The price a position is valued and closed at: the bid for a buy, the ask for a sell. */
export const closingPrice = (side: Side, quote: { bid: bigint; ask: bigint }) => (side === 'buy' ? quote.bid : quote.ask);

/** The price a new position opens at: the ask for a buy, the bid for a sell. */
export const openingPrice = (side: Side, quote: { bid: bigint; ask: bigint }) => (side === 'buy' ? quote.ask : quote.bid);

export { marginLevel } from '../model.ts';

/** Exact: is equity / margin x 100 below `level` percent? Never with no margin. */
export const belowLevel = (equity: bigint, margin: bigint, level: number): boolean =>
  margin > 0n && equity * 100n < BigInt(level) * margin;

/** Realised share of accumulated swap when `volume` of `total` closes: all of it on a full close, else half-even. */
export const storageShare = (storage: bigint, volume: bigint, total: bigint): bigint =>
  volume === total ? storage : roundHalfEven(storage * volume, total);
