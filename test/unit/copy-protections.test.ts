/**
 * Copy protections (domain/copy/protections.ts), named after their invariants: the equity stop as a level
 * (amount, or bps of the invested amount), the trailing drawdown from a flow-adjusted peak, the open
 * position and open volume limits, slippage measured against the follower by side, SL/TP copied only on
 * the flag, and the order beforeCopy checks them in. Money is cents, prices are points (EURUSD 1.08512 =
 * 108512), volumes MT5 units.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  adverseSlippage,
  assertProtectionSettings,
  beforeCopy,
  type CopyCandidate,
  checkDrawdown,
  checkEquityStop,
  checkOpenPositions,
  checkOpenVolume,
  checkSlippage,
  copiedStops,
  nextPeak,
  onEquityUpdate,
  type ProtectionSettings,
  peakAfterFlow,
} from '#domain/copy/protections.ts';
import { refusalCode } from '../support/errors.ts';

const code = refusalCode;

describe('equity stop-loss', () => {
  it('an absolute level stops at equity <= level', () => {
    const stop = { kind: 'amount' as const, level: 80_000n }; // 800.00
    expect(checkEquityStop(stop, { equity: 80_001n, invested: 100_000n })).toEqual({ action: 'copy' });
    expect(checkEquityStop(stop, { equity: 80_000n, invested: 100_000n })).toEqual({
      action: 'stop',
      reason: 'equity_stop_loss',
    });
  });

  it('a percentage is a level of the invested amount: 60 % of 1,000.00 = 600.00', () => {
    const stop = { kind: 'percent' as const, bps: 6_000 };
    expect(checkEquityStop(stop, { equity: 60_001n, invested: 100_000n }).action).toBe('copy');
    expect(checkEquityStop(stop, { equity: 60_000n, invested: 100_000n }).action).toBe('stop');
    // 33.33 % of 10.00 = 3.333: 3.34 copies, 3.33 stops (exact, no rounding of the level)
    const third = { kind: 'percent' as const, bps: 3_333 };
    expect(checkEquityStop(third, { equity: 334n, invested: 1_000n }).action).toBe('copy');
    expect(checkEquityStop(third, { equity: 333n, invested: 1_000n }).action).toBe('stop');
    expect(checkEquityStop(undefined, { equity: -5n, invested: 100n }).action).toBe('copy');
  });
});

describe('trailing drawdown', () => {
  it('stops when the drawdown from the peak reaches the limit', () => {
    // peak 1,000.00, 20 %: 800.01 copies, 800.00 stops
    expect(checkDrawdown(2_000, { peak: 100_000n, equity: 80_001n }).action).toBe('copy');
    expect(checkDrawdown(2_000, { peak: 100_000n, equity: 80_000n })).toEqual({ action: 'stop', reason: 'max_drawdown' });
    // the peak trails: equity 1,200.00 raises it; 20 % below is 960.00
    const up = onEquityUpdate(
      { maxDrawdownBps: 2_000, copyStops: false },
      { peak: 100_000n, equity: 120_000n, invested: 100_000n },
    );
    expect(up).toEqual({ decision: { action: 'copy' }, peak: 120_000n });
    expect(
      onEquityUpdate({ maxDrawdownBps: 2_000, copyStops: false }, { peak: up.peak, equity: 96_001n, invested: 100_000n }).decision
        .action,
    ).toBe('copy');
    expect(
      onEquityUpdate({ maxDrawdownBps: 2_000, copyStops: false }, { peak: up.peak, equity: 96_000n, invested: 100_000n })
        .decision,
    ).toEqual({
      action: 'stop',
      reason: 'max_drawdown',
    });
  });

  it('a withdrawal lowers the peak by its amount so it is not a drawdown; a deposit raises it', () => {
    // peak 1,000.00, withdraw 300.00: peak 700.00, equity 700.00 -> no drawdown
    const peak = peakAfterFlow(100_000n, { kind: 'withdrawal', amount: 30_000n });
    expect(peak).toBe(70_000n);
    expect(checkDrawdown(1_000, { peak, equity: 70_000n }).action).toBe('copy');
    expect(peakAfterFlow(100_000n, { kind: 'deposit', amount: 50_000n })).toBe(150_000n);
    expect(peakAfterFlow(10_000n, { kind: 'withdrawal', amount: 50_000n })).toBe(0n);
    expect(checkDrawdown(1_000, { peak: 0n, equity: 0n }).action).toBe('copy');
    expect(nextPeak(5n, 7n)).toBe(7n);
    expect(nextPeak(7n, 5n)).toBe(7n);
    expect(code(() => peakAfterFlow(1n, { kind: 'deposit', amount: -1n }))).toBe('invalid_amount');
  });
});

describe('limits on open positions and volume', () => {
  it('skips the deal that would exceed them; reaching them exactly is allowed', () => {
    expect(checkOpenPositions(3, 2)).toEqual({ action: 'copy' });
    expect(checkOpenPositions(3, 3)).toEqual({ action: 'skip', reason: 'max_open_positions' });
    expect(checkOpenPositions(undefined, 1_000)).toEqual({ action: 'copy' });
    // max 1 lot; 0.9 open: + 0.1 copies (exactly 1 lot), + 0.11 skips
    expect(checkOpenVolume(10_000n, 9_000n, 1_000n)).toEqual({ action: 'copy' });
    expect(checkOpenVolume(10_000n, 9_000n, 1_100n)).toEqual({ action: 'skip', reason: 'max_open_volume' });
  });
});

describe('slippage', () => {
  it('a buy slips when the follower pays more, a sell when it gets less', () => {
    // buy filled at 1.08512 for the provider, max 3 points
    expect(checkSlippage(3n, { side: 'buy', providerPrice: 108_512n, followerPrice: 108_515n })).toEqual({ action: 'copy' });
    expect(checkSlippage(3n, { side: 'buy', providerPrice: 108_512n, followerPrice: 108_516n })).toEqual({
      action: 'skip',
      reason: 'slippage_exceeded',
    });
    expect(checkSlippage(3n, { side: 'buy', providerPrice: 108_512n, followerPrice: 108_400n }).action).toBe('copy');
    // sell at 1.08512: 1.08508 is 4 points worse, 1.08600 is better
    expect(checkSlippage(3n, { side: 'sell', providerPrice: 108_512n, followerPrice: 108_508n }).action).toBe('skip');
    expect(checkSlippage(3n, { side: 'sell', providerPrice: 108_512n, followerPrice: 108_600n }).action).toBe('copy');
    expect(checkSlippage(0n, { side: 'sell', providerPrice: 108_512n, followerPrice: 108_512n }).action).toBe('copy');
    expect(checkSlippage(undefined, { side: 'buy', providerPrice: 1n, followerPrice: 999n }).action).toBe('copy');
  });
});

describe('stop loss and take profit', () => {
  it('are copied only with the flag', () => {
    const stops = { stopLoss: 108_000n, takeProfit: 109_000n };
    expect(copiedStops(true, stops)).toEqual(stops);
    expect(copiedStops(false, stops)).toEqual({ stopLoss: null, takeProfit: null, reason: 'stops_not_copied' });
  });
});

describe('beforeCopy', () => {
  const settings: ProtectionSettings = {
    equityStop: { kind: 'amount', level: 50_000n },
    maxDrawdownBps: 3_000,
    maxOpenPositions: 5,
    maxOpenVolume: 50_000n,
    maxSlippagePoints: 5n,
    copyStops: true,
  };
  const ok: CopyCandidate = {
    equity: 100_000n,
    invested: 100_000n,
    peak: 100_000n,
    side: 'buy',
    providerPrice: 108_512n,
    followerPrice: 108_514n,
    openPositions: 1,
    openVolume: 10_000n,
    volume: 10_000n,
  };

  it('copies when every check passes and names the first failing one in order', () => {
    expect(beforeCopy(settings, ok)).toEqual({ action: 'copy' });
    const everything = { ...ok, equity: 40_000n, followerPrice: 109_000n, openPositions: 9, openVolume: 90_000n };
    expect(beforeCopy(settings, everything)).toEqual({ action: 'stop', reason: 'equity_stop_loss' });
    expect(beforeCopy(settings, { ...everything, equity: 60_000n })).toEqual({ action: 'stop', reason: 'max_drawdown' });
    expect(beforeCopy(settings, { ...everything, equity: 90_000n })).toEqual({ action: 'skip', reason: 'slippage_exceeded' });
    expect(beforeCopy(settings, { ...everything, equity: 90_000n, followerPrice: ok.followerPrice })).toEqual({
      action: 'skip',
      reason: 'max_open_positions',
    });
    expect(beforeCopy(settings, { ...ok, openVolume: 45_000n })).toEqual({ action: 'skip', reason: 'max_open_volume' });
    expect(beforeCopy({ copyStops: false }, { ...everything, equity: 1n })).toEqual({ action: 'copy' });
  });

  it('refuses malformed settings', () => {
    expect(() => assertProtectionSettings(settings)).not.toThrow();
    expect(code(() => assertProtectionSettings({ copyStops: false, equityStop: { kind: 'amount', level: 0n } }))).toBe(
      'invalid_equity_stop',
    );
    expect(code(() => assertProtectionSettings({ copyStops: false, equityStop: { kind: 'percent', bps: 10_000 } }))).toBe(
      'invalid_equity_stop',
    );
    expect(code(() => assertProtectionSettings({ copyStops: false, maxDrawdownBps: 0 }))).toBe('invalid_max_drawdown');
    expect(code(() => assertProtectionSettings({ copyStops: false, maxDrawdownBps: 12.5 }))).toBe('invalid_max_drawdown');
    expect(code(() => assertProtectionSettings({ copyStops: false, maxOpenPositions: 0 }))).toBe('invalid_max_open_positions');
    expect(code(() => assertProtectionSettings({ copyStops: false, maxOpenVolume: 0n }))).toBe('invalid_max_open_volume');
    expect(code(() => assertProtectionSettings({ copyStops: false, maxSlippagePoints: -1n }))).toBe('invalid_slippage_limit');
  });
});

describe('properties', () => {
  const price = fc.bigInt({ min: 1n, max: 10_000_000n });
  const amount = fc.bigInt({ min: -1_000_000n, max: 1_000_000_000n });

  it('slippage: a move in the follower favour never skips; a buy and a sell mirror each other', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('buy' as const, 'sell' as const),
        price,
        price,
        fc.bigInt({ min: 0n, max: 1_000n }),
        (side, p, q, max) => {
          const adverse = adverseSlippage(side, p, q);
          expect(adverse).toBe(-adverseSlippage(side === 'buy' ? 'sell' : 'buy', p, q));
          const d = checkSlippage(max, { side, providerPrice: p, followerPrice: q });
          if (adverse <= 0n) expect(d.action).toBe('copy');
          return (d.action === 'skip') === adverse > max;
        },
      ),
      { numRuns: 1_000 },
    );
  });

  it('drawdown and equity stop: a lower equity never turns a stop into a copy', () => {
    fc.assert(
      fc.property(
        amount,
        amount,
        amount,
        fc.integer({ min: 1, max: 9_999 }),
        fc.oneof(
          fc.integer({ min: 1, max: 9_999 }).map((bps) => ({ kind: 'percent' as const, bps })),
          fc.bigInt({ min: 1n, max: 1_000_000n }).map((level) => ({ kind: 'amount' as const, level })),
        ),
        amount,
        (peak, a, b, dd, stop, invested) => {
          const [lo, hi] = a <= b ? [a, b] : [b, a];
          const s: ProtectionSettings = { equityStop: stop, maxDrawdownBps: dd, copyStops: false };
          const at = (equity: bigint) => onEquityUpdate(s, { peak, equity, invested }).decision.action;
          return at(hi) === 'copy' || at(lo) === 'stop';
        },
      ),
      { numRuns: 1_000 },
    );
  });

  it('the drawdown stop matches the definition (peak - equity) / peak >= limit, exactly', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 1_000_000_000n }),
        fc.bigInt({ min: 0n, max: 1_000_000_000n }),
        fc.integer({ min: 1, max: 9_999 }),
        (peak, equity, dd) => {
          let p = peak;
          if (equity > p) p = equity;
          const stopped = checkDrawdown(dd, { peak, equity }).action === 'stop';
          return stopped === (p - equity) * 10_000n >= p * BigInt(dd);
        },
      ),
      { numRuns: 1_000 },
    );
  });

  it('beforeCopy copies exactly when every individual check copies', () => {
    fc.assert(
      fc.property(
        fc.record({
          equity: amount,
          invested: amount,
          peak: amount,
          side: fc.constantFrom('buy' as const, 'sell' as const),
          providerPrice: price,
          followerPrice: price,
          openPositions: fc.integer({ min: 0, max: 20 }),
          openVolume: fc.bigInt({ min: 0n, max: 100_000n }),
          volume: fc.bigInt({ min: 1n, max: 100_000n }),
        }),
        fc.record({
          maxDrawdownBps: fc.option(fc.integer({ min: 1, max: 9_999 }), { nil: undefined }),
          maxOpenPositions: fc.option(fc.integer({ min: 1, max: 20 }), { nil: undefined }),
          maxOpenVolume: fc.option(fc.bigInt({ min: 1n, max: 150_000n }), { nil: undefined }),
          maxSlippagePoints: fc.option(fc.bigInt({ min: 0n, max: 5_000_000n }), { nil: undefined }),
          copyStops: fc.boolean(),
        }),
        (c, s) => {
          const all = [
            onEquityUpdate(s, c).decision,
            checkSlippage(s.maxSlippagePoints, c),
            checkOpenPositions(s.maxOpenPositions, c.openPositions),
            checkOpenVolume(s.maxOpenVolume, c.openVolume, c.volume),
          ];
          const first = all.find((d) => d.action !== 'copy') ?? { action: 'copy' };
          expect(beforeCopy(s, c)).toEqual(first);
        },
      ),
      { numRuns: 500 },
    );
  });
});
