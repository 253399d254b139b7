/**
 * The trading simulator (a pure, in-memory MT5 stand-in): the engine, its snapshot format and the pure helpers
 * it is built from (margin and profit arithmetic, conversion, the PRNG).
 *
 * Invariants: see engine.ts (behaviour), margin.ts (arithmetic and rounding), quotes.ts (walk and conversion),
 * state.ts (snapshot) and rng.ts (determinism).
 */
export {
  type ClosePositionInput,
  type CreateAccountInput,
  checkCloseVolume,
  checkOpenVolume,
  type MarketOrderInput,
  type SimulatorOptions,
  type SymbolConfig,
  type TradeResult,
  TradingSimulator,
} from './engine.ts';
export {
  belowLevel,
  closingPrice,
  commissionFor,
  effectiveLeverage,
  marginLevel,
  openingPrice,
  profitAt,
  quoteAmountToMinor,
  requiredMargin,
  storageShare,
  swapFor,
} from './margin.ts';
export { conversionFactor, type Market, midPrice, walk } from './quotes.ts';
export { inv, mul, ONE, type Ratio, ratio } from './ratio.ts';
export { nextUint32, randomInt, seedState } from './rng.ts';
export { type Json, type SimulatorSnapshot, SNAPSHOT_VERSION } from './state.ts';
