/**
 * Copy trading protections: the follower's risk limits, checked before each copied opening deal and on
 * every equity update of the follower's copy account. Each check returns a decision with a stable reason:
 * 'copy' (go ahead), 'skip' (do not copy this deal; the subscription goes on) or 'stop' (close the copied
 * positions and stop copying; the use case does both). Exact bigint comparisons: no division, no rounding.
 *
 * Invariants:
 * - equity stop-loss: a level; 'amount' is that level in minor units, 'percent' is bps of the invested
 *   amount (the follower's net money put into the copy: deposits - withdrawals, supplied by the caller).
 *   It triggers ('stop', equity_stop_loss) when equity <= level, i.e. equity x 10,000 <= invested x bps
 * - trailing drawdown: peak = the highest equity seen since the copy started, moved by money flows
 *   (a deposit raises it by the amount, a withdrawal lowers it by the amount, never below 0) so a
 *   withdrawal is not a drawdown; it triggers ('stop', max_drawdown) when peak > 0 and
 *   (peak - equity) x 10,000 >= peak x maxDrawdownBps
 * - max open positions: 'skip' (max_open_positions) when openPositions + 1 > maxOpenPositions
 * - max open volume: 'skip' (max_open_volume) when openVolume + volume > maxOpenVolume (MT5 units, all
 *   the copy account's open positions)
 * - slippage: adverse = followerPrice - providerPrice for a buy, providerPrice - followerPrice for a sell
 *   (points); 'skip' (slippage_exceeded) when adverse > maxSlippagePoints; a move in the follower's favour
 *   never skips
 * - only opening deals are checked: a provider's close is always copied (skipping it would leave the
 *   follower exposed); beforeCopy runs the checks in the order equity stop, drawdown, slippage, open
 *   positions, open volume and returns the first that does not say 'copy'
 * - stop loss / take profit are copied only when the subscription's copyStops flag is set; otherwise the
 *   follower's order carries none (reason stops_not_copied) and the provider's closes drive the exit
 * - an unset limit never triggers; malformed settings are refused (invalid_* codes, DomainError)
 */
import { DomainError } from '../errors.ts';
import type { Side } from '../trading/model.ts';

const BPS = 10_000n;

export type EquityStop = { kind: 'amount'; level: bigint } | { kind: 'percent'; bps: number };

export interface ProtectionSettings {
  equityStop?: EquityStop;
  /** Trailing maximum drawdown from the peak equity, bps (1..9,999). */
  maxDrawdownBps?: number;
  maxOpenPositions?: number;
  /** MT5 units. */
  maxOpenVolume?: bigint;
  /** Points of the symbol. */
  maxSlippagePoints?: bigint;
  copyStops: boolean;
}

export type ProtectionReason =
  | 'equity_stop_loss'
  | 'max_drawdown'
  | 'max_open_positions'
  | 'max_open_volume'
  | 'slippage_exceeded';

export type ProtectionDecision =
  | { action: 'copy' }
  | { action: 'skip'; reason: 'max_open_positions' | 'max_open_volume' | 'slippage_exceeded' }
  | { action: 'stop'; reason: 'equity_stop_loss' | 'max_drawdown' };

export const COPY: ProtectionDecision = Object.freeze({ action: 'copy' });

const refuse = (code: string, field: string, message: string): never => {
  throw new DomainError(code, 'unprocessable', message, [{ field, code, message }]);
};

const validBps = (v: number, max: number): boolean => Number.isSafeInteger(v) && v > 0 && v <= max;

/** Refuses malformed settings: invalid_equity_stop, invalid_max_drawdown, invalid_max_open_positions, ... */
export function assertProtectionSettings(s: ProtectionSettings): void {
  const stop = s.equityStop;
  if (stop?.kind === 'amount' && stop.level <= 0n)
    refuse('invalid_equity_stop', 'equityStop', 'An equity stop level must be positive');
  if (stop?.kind === 'percent' && !validBps(stop.bps, 9_999)) {
    refuse('invalid_equity_stop', 'equityStop', 'An equity stop percentage must be between 0.01 % and 99.99 %');
  }
  if (s.maxDrawdownBps !== undefined && !validBps(s.maxDrawdownBps, 9_999)) {
    refuse('invalid_max_drawdown', 'maxDrawdownBps', 'A maximum drawdown must be between 0.01 % and 99.99 %');
  }
  if (s.maxOpenPositions !== undefined && !validBps(s.maxOpenPositions, Number.MAX_SAFE_INTEGER)) {
    refuse(
      'invalid_max_open_positions',
      'maxOpenPositions',
      'A maximum number of open positions must be a positive whole number',
    );
  }
  if (s.maxOpenVolume !== undefined && s.maxOpenVolume <= 0n) {
    refuse('invalid_max_open_volume', 'maxOpenVolume', 'A maximum open volume must be positive');
  }
  if (s.maxSlippagePoints !== undefined && s.maxSlippagePoints < 0n) {
    refuse('invalid_slippage_limit', 'maxSlippagePoints', 'A slippage limit must not be negative');
  }
}

/** 'stop' (equity_stop_loss) when equity <= the stop level. */
export function checkEquityStop(stop: EquityStop | undefined, state: { equity: bigint; invested: bigint }): ProtectionDecision {
  if (!stop) return COPY;
  const hit = stop.kind === 'amount' ? state.equity <= stop.level : state.equity * BPS <= state.invested * BigInt(stop.bps);
  return hit ? { action: 'stop', reason: 'equity_stop_loss' } : COPY;
}

/** The peak after an equity observation: max(peak, equity). */
export function nextPeak(peak: bigint, equity: bigint): bigint {
  return equity > peak ? equity : peak;
}

/** The peak after a money flow: + a deposit, - a withdrawal, never below 0. */
export function peakAfterFlow(peak: bigint, flow: { kind: 'deposit' | 'withdrawal'; amount: bigint }): bigint {
  if (flow.amount < 0n) refuse('invalid_amount', 'amount', 'A flow amount must not be negative');
  const next = flow.kind === 'deposit' ? peak + flow.amount : peak - flow.amount;
  return next < 0n ? 0n : next;
}

/** 'stop' (max_drawdown) when the drawdown from the peak reaches the limit; the peak includes `equity`. */
export function checkDrawdown(maxDrawdownBps: number | undefined, state: { peak: bigint; equity: bigint }): ProtectionDecision {
  if (maxDrawdownBps === undefined) return COPY;
  const peak = nextPeak(state.peak, state.equity);
  if (peak <= 0n) return COPY;
  return (peak - state.equity) * BPS >= peak * BigInt(maxDrawdownBps) ? { action: 'stop', reason: 'max_drawdown' } : COPY;
}

export function checkOpenPositions(maxOpenPositions: number | undefined, openPositions: number): ProtectionDecision {
  if (maxOpenPositions === undefined) return COPY;
  return openPositions + 1 > maxOpenPositions ? { action: 'skip', reason: 'max_open_positions' } : COPY;
}

export function checkOpenVolume(maxOpenVolume: bigint | undefined, openVolume: bigint, volume: bigint): ProtectionDecision {
  if (maxOpenVolume === undefined) return COPY;
  return openVolume + volume > maxOpenVolume ? { action: 'skip', reason: 'max_open_volume' } : COPY;
}

/** Points the follower's expected price is worse than the provider's fill (negative: better). */
export function adverseSlippage(side: Side, providerPrice: bigint, followerPrice: bigint): bigint {
  return side === 'buy' ? followerPrice - providerPrice : providerPrice - followerPrice;
}

export function checkSlippage(
  maxSlippagePoints: bigint | undefined,
  deal: { side: Side; providerPrice: bigint; followerPrice: bigint },
): ProtectionDecision {
  if (maxSlippagePoints === undefined) return COPY;
  return adverseSlippage(deal.side, deal.providerPrice, deal.followerPrice) > maxSlippagePoints
    ? { action: 'skip', reason: 'slippage_exceeded' }
    : COPY;
}

export interface EquityState {
  equity: bigint;
  invested: bigint;
  /** The peak before this observation (flows already applied with peakAfterFlow). */
  peak: bigint;
}

/** On an equity update: the equity stop, then the drawdown; returns the decision and the new peak to keep. */
export function onEquityUpdate(settings: ProtectionSettings, state: EquityState): { decision: ProtectionDecision; peak: bigint } {
  const peak = nextPeak(state.peak, state.equity);
  const stop = checkEquityStop(settings.equityStop, state);
  if (stop.action !== 'copy') return { decision: stop, peak };
  return { decision: checkDrawdown(settings.maxDrawdownBps, { peak, equity: state.equity }), peak };
}

export interface CopyCandidate extends EquityState {
  side: Side;
  /** The provider's fill and the price the follower expects to get, points. */
  providerPrice: bigint;
  followerPrice: bigint;
  /** The copy account's open positions and their total volume now; the allocated volume of this deal. */
  openPositions: number;
  openVolume: bigint;
  volume: bigint;
}

/** Before copying an opening deal: the first check that does not say 'copy' (order in Invariants). */
export function beforeCopy(settings: ProtectionSettings, c: CopyCandidate): ProtectionDecision {
  const equity = onEquityUpdate(settings, c).decision;
  if (equity.action !== 'copy') return equity;
  const checks = [
    () => checkSlippage(settings.maxSlippagePoints, c),
    () => checkOpenPositions(settings.maxOpenPositions, c.openPositions),
    () => checkOpenVolume(settings.maxOpenVolume, c.openVolume, c.volume),
  ];
  for (const check of checks) {
    const d = check();
    if (d.action !== 'copy') return d;
  }
  return COPY;
}

export interface Stops {
  /** Points; null for none. */
  stopLoss: bigint | null;
  takeProfit: bigint | null;
}

/** The SL/TP the follower's order carries: the provider's when copyStops, else none (stops_not_copied). */
export function copiedStops(copyStops: boolean, provider: Stops): Stops & { reason?: 'stops_not_copied' } {
  if (copyStops) return { stopLoss: provider.stopLoss, takeProfit: provider.takeProfit };
  return { stopLoss: null, takeProfit: null, reason: 'stops_not_copied' };
}
