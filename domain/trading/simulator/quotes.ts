/**
 * Quotes: the seeded random walk of each symbol's price, and currency conversion through the simulator's own
 * quotes.
 *
 * Invariants:
 * - a quote always has 1 <= bid <= ask (points); the walk keeps ask - bid equal to the symbol's fixed spread
 * - the walk is a pure function of (quote, rng state, now): the same seed and calls give the same prices
 * - a conversion factor is exact (a Ratio) and uses the mid price (bid + ask) / 2; nothing is rounded here,
 *   callers round once
 * - a conversion path is, in this order: identity; a direct pair (base = from, quote = to); an inverse pair
 *   (base = to, quote = from); a cross through USD with each leg direct or inverse. Only symbols whose base
 *   and quote are both known currencies convert (XAUUSD never does); no path is null, never a guess
 */
import { isCurrency } from '../../money/currencies.ts';
import type { Quote, SymbolSpec } from '../model.ts';
import { inv, mul, ONE, pow10, type Ratio, ratio } from './ratio.ts';
import { randomInt } from './rng.ts';

/** A symbol's market: its spec, last quote and the walk's parameters. */
export interface Market {
  spec: SymbolSpec;
  quote: Quote;
  /** ask - bid, points, fixed. */
  spreadPoints: bigint;
  /** Largest move of the bid per tick, points (a uniform step in [-v, v]); 0 = the price only moves by setQuote. */
  volatilityPoints: bigint;
  /** Largest adverse slippage of a client fill, points (uniform in [0, s]); 0 = none. */
  slippagePoints: bigint;
  /** Client orders on a closed market are refused; the walk and the stop-out leave it alone. */
  tradingOpen: boolean;
}

/** One random-walk step of a market's quote: bid moves by a uniform step, never below 1 point. */
export function walk(market: Market, rngState: number, now: number): { quote: Quote; rngState: number } {
  if (market.volatilityPoints <= 0n) return { quote: { ...market.quote, time: now }, rngState };
  const r = randomInt(rngState, -market.volatilityPoints, market.volatilityPoints);
  const moved = market.quote.bid + r.value;
  const bid = moved < 1n ? 1n : moved;
  return { quote: { symbol: market.spec.symbol, bid, ask: bid + market.spreadPoints, time: now }, rngState: r.state };
}

/** (bid + ask) / 2 as a price in major units of the quote currency per one unit of the base. */
export const midPrice = (quote: Quote, digits: number): Ratio => ratio(quote.bid + quote.ask, 2n * pow10(digits));

const convertible = (m: Market) => isCurrency(m.spec.base) && isCurrency(m.spec.quote);

/** One leg: `to` per one `from` through a direct or an inverse pair, or null. */
function leg(from: string, to: string, markets: Iterable<Market>): Ratio | null {
  if (from === to) return ONE;
  let inverse: Market | undefined;
  for (const m of markets) {
    if (!convertible(m)) continue;
    if (m.spec.base === from && m.spec.quote === to) return midPrice(m.quote, m.spec.digits);
    if (!inverse && m.spec.base === to && m.spec.quote === from) inverse = m;
  }
  return inverse ? inv(midPrice(inverse.quote, inverse.spec.digits)) : null;
}

/** Units of `to` per one unit of `from` at the current mid prices, or null when no path exists. */
export function conversionFactor(from: string, to: string, markets: Iterable<Market>): Ratio | null {
  const list = [...markets];
  const direct = leg(from, to, list);
  if (direct) return direct;
  if (from === 'USD' || to === 'USD') return null;
  const a = leg(from, 'USD', list);
  const b = a && leg('USD', to, list);
  return a && b ? mul(a, b) : null;
}
