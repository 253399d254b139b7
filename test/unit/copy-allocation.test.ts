/**
 * Copy allocation (domain/copy/allocation.ts), named after its invariants: the exact size per mode, rounded
 * down to the step once; the tenant's below-minimum policy; the subscription's and the symbol's caps; partial
 * closes by the follower's initial ratio, never more than it holds, everything on the provider's final close.
 * Volumes are MT5 units (1 lot = 10,000), money is cents.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AllocationInput,
  allocate,
  allocateClose,
  type CopyMode,
  ceilToStep,
  effectiveLimits,
  floorToStep,
  type VolumeLimits,
} from '#domain/copy/allocation.ts';
import { refusalCode } from '../support/errors.ts';

/** EURUSD-like: 0.01 lot minimum and step, 100 lots maximum. */
const FX: VolumeLimits = { volumeMin: 100n, volumeMax: 1_000_000n, volumeStep: 100n };
const LOT = 10_000n;

const input = (over: Partial<AllocationInput> = {}): AllocationInput => ({
  mode: { kind: 'balance_proportional' },
  providerVolume: LOT,
  provider: { balance: 1_000_000n, equity: 1_000_000n }, // 10,000.00
  follower: { balance: 250_000n, equity: 250_000n }, // 2,500.00
  symbol: FX,
  belowMinimum: 'skip',
  ...over,
});

const code = refusalCode;

describe('sizing per mode (worked examples)', () => {
  it('balance proportional: M x Bal_f / Bal_p, rounded down to the step', () => {
    // 1 lot x 2,500.00 / 10,000.00 = 0.25 lot
    expect(allocate(input())).toEqual({ volume: 2_500n });
    // 1 lot x 3,333.33 / 10,000.00 = 3,333.33 units -> 3,300 (0.33 lot), never rounded up
    expect(allocate(input({ follower: { balance: 333_333n, equity: 1n } }))).toEqual({ volume: 3_300n });
  });

  it('equity proportional: M x Eq_f / Eq_p', () => {
    // 0.5 lot x 1,000.00 / 8,000.00 = 625 units -> 600 (0.06 lot); balances are ignored
    const r = allocate(
      input({
        mode: { kind: 'equity_proportional' },
        providerVolume: 5_000n,
        provider: { balance: 1n, equity: 800_000n },
        follower: { balance: 999_999_999n, equity: 100_000n },
      }),
    );
    expect(r).toEqual({ volume: 600n });
  });

  it('balance x ratio and equity x ratio apply the ratio on top of the proportional size', () => {
    // 1 lot x 2,500 / 10,000 x 1.5 = 3,750 units -> 3,700
    expect(allocate(input({ mode: { kind: 'balance_ratio', ratioBps: 15_000 } }))).toEqual({ volume: 3_700n });
    // 0.5 lot x 1,000 / 8,000 x 0.5 = 312.5 units -> 300
    const r = allocate(
      input({
        mode: { kind: 'equity_ratio', ratioBps: 5_000 },
        providerVolume: 5_000n,
        provider: { balance: 1n, equity: 800_000n },
        follower: { balance: 1n, equity: 100_000n },
      }),
    );
    expect(r).toEqual({ volume: 300n });
  });

  it('fixed lot ignores the provider volume and the funds; lot multiplier is M x R', () => {
    expect(allocate(input({ mode: { kind: 'fixed_lot', volume: 3_700n }, providerVolume: 123_400n }))).toEqual({
      volume: 3_700n,
    });
    // 0.375 lot is not on the 0.01 grid -> 0.37
    expect(allocate(input({ mode: { kind: 'fixed_lot', volume: 3_750n } }))).toEqual({ volume: 3_700n });
    // 0.3 lot x 2.5 = 0.75 lot
    expect(allocate(input({ mode: { kind: 'lot_multiplier', multiplierBps: 25_000 }, providerVolume: 3_000n }))).toEqual({
      volume: 7_500n,
    });
    // 0.07 lot x 0.5 = 0.035 -> 0.03
    expect(allocate(input({ mode: { kind: 'lot_multiplier', multiplierBps: 5_000 }, providerVolume: 700n }))).toEqual({
      volume: 300n,
    });
  });

  it('a follower or provider without funds is skipped in the balance and equity modes, not in the others', () => {
    expect(allocate(input({ provider: { balance: 0n, equity: 0n } }))).toEqual({
      volume: 0n,
      skipped: 'provider_funds_not_positive',
    });
    expect(allocate(input({ mode: { kind: 'equity_ratio', ratioBps: 10_000 }, follower: { balance: 5n, equity: -1n } }))).toEqual(
      {
        volume: 0n,
        skipped: 'follower_funds_not_positive',
      },
    );
    expect(allocate(input({ mode: { kind: 'fixed_lot', volume: 100n }, follower: { balance: 0n, equity: 0n } }))).toEqual({
      volume: 100n,
    });
  });
});

describe('minimum, caps and the step grid', () => {
  // 1 lot x 50.00 / 10,000.00 = 50 units = 0.005 lot: below the 0.01 minimum
  const tiny = { balance: 5_000n, equity: 5_000n };

  it("below the symbol's minimum: 'skip' skips, 'clamp' raises to the minimum and says so", () => {
    expect(allocate(input({ follower: tiny }))).toEqual({ volume: 0n, skipped: 'below_minimum_volume' });
    expect(allocate(input({ follower: tiny, belowMinimum: 'clamp' }))).toEqual({ volume: 100n, raisedToMinimum: true });
  });

  it('the subscription maximum reduces, on the step grid; the symbol maximum reduces when it binds', () => {
    const rich = { balance: 2_000_000n, equity: 2_000_000n }; // 1 lot x 20,000 / 10,000 = 2 lots
    expect(allocate(input({ follower: rich, maxVolume: 5_000n }))).toEqual({
      volume: 5_000n,
      reduced: 'subscription_max_volume',
    });
    expect(allocate(input({ follower: rich, maxVolume: 5_050n }))).toEqual({
      volume: 5_000n,
      reduced: 'subscription_max_volume',
    });
    const symbol = { ...FX, volumeMax: LOT };
    expect(allocate(input({ follower: rich, symbol, maxVolume: 15_000n }))).toEqual({
      volume: LOT,
      reduced: 'symbol_max_volume',
    });
    expect(allocate(input({ follower: rich, symbol }))).toEqual({ volume: LOT, reduced: 'symbol_max_volume' });
    // equal caps: the subscription's is named
    expect(allocate(input({ follower: rich, symbol, maxVolume: LOT }))).toEqual({
      volume: LOT,
      reduced: 'subscription_max_volume',
    });
  });

  it('a subscription maximum below the minimum skips, whatever the policy', () => {
    expect(allocate(input({ maxVolume: 50n, belowMinimum: 'clamp' }))).toEqual({
      volume: 0n,
      skipped: 'max_volume_below_minimum',
    });
    expect(allocate(input({ follower: tiny, maxVolume: 50n, belowMinimum: 'clamp' }))).toEqual({
      volume: 0n,
      skipped: 'max_volume_below_minimum',
    });
  });

  it('effective limits move a minimum / maximum off the grid onto it; an empty grid is refused', () => {
    expect(effectiveLimits({ volumeMin: 150n, volumeMax: 1_050n, volumeStep: 100n })).toEqual({
      min: 200n,
      max: 1_000n,
      step: 100n,
    });
    expect(code(() => effectiveLimits({ volumeMin: 150n, volumeMax: 190n, volumeStep: 100n }))).toBe('invalid_symbol_volume');
    expect(code(() => effectiveLimits({ volumeMin: 100n, volumeMax: 1_000n, volumeStep: 0n }))).toBe('invalid_symbol_volume');
    expect(code(() => effectiveLimits({ volumeMin: 0n, volumeMax: 1_000n, volumeStep: 100n }))).toBe('invalid_symbol_volume');
    expect(floorToStep(-5n, 100n)).toBe(0n);
    expect(ceilToStep(101n, 100n)).toBe(200n);
  });

  it('malformed input is refused with stable codes', () => {
    expect(code(() => allocate(input({ mode: { kind: 'balance_ratio', ratioBps: 0 } })))).toBe('invalid_copy_ratio');
    expect(code(() => allocate(input({ mode: { kind: 'equity_ratio', ratioBps: 1.5 } })))).toBe('invalid_copy_ratio');
    expect(code(() => allocate(input({ mode: { kind: 'lot_multiplier', multiplierBps: -1 } })))).toBe('invalid_copy_ratio');
    expect(code(() => allocate(input({ mode: { kind: 'fixed_lot', volume: 0n } })))).toBe('invalid_fixed_volume');
    expect(code(() => allocate(input({ providerVolume: 0n })))).toBe('invalid_provider_volume');
    expect(code(() => allocate(input({ maxVolume: 0n })))).toBe('invalid_max_volume');
  });
});

describe('closes', () => {
  const close = (fInit: bigint, fOpen: bigint | null, pInit: bigint, pAfter: bigint, symbol: VolumeLimits = FX) =>
    allocateClose({
      follower: fOpen === null ? null : { initialVolume: fInit, openVolume: fOpen },
      providerInitialVolume: pInit,
      providerVolumeAfter: pAfter,
      symbol,
    });

  it('a first partial close is follower open x provider closed / provider initial, rounded down to the step', () => {
    // provider 1 lot closes 0.3; follower 0.5 closes 0.5 x 0.3 / 1 = 0.15 lot
    expect(close(5_000n, 5_000n, LOT, 7_000n)).toEqual({ volume: 1_500n, final: false });
    // follower 0.33, provider closes half: 0.165 -> 0.16
    expect(close(3_300n, 3_300n, LOT, 5_000n)).toEqual({ volume: 1_600n, final: false });
  });

  it('later closes keep the initial ratio (the remainder is ceilStep(F_init x P_after / P_init))', () => {
    // follower 0.33 after closing 0.16 holds 0.17; the provider closes 0.25 more (0.25 left):
    // keep ceilStep(3,300 x 2,500 / 10,000 = 825) = 900, close 1,700 - 900 = 800 (0.08 lot).
    // (Using the CURRENT follower volume over the provider's INITIAL volume would close 1,700 x 2,500 / 10,000
    // = 425 -> 400 and drift from the ratio.) Total closed 2,400 of the exact 2,475.
    expect(close(3_300n, 1_700n, LOT, 2_500n)).toEqual({ volume: 800n, final: false });
    // the provider's final close closes the follower's remainder
    expect(close(3_300n, 900n, LOT, 0n)).toEqual({ volume: 900n, final: true });
  });

  it('a close below the minimum waits and is caught up; a remainder below the minimum is closed with it', () => {
    const minTenth = { volumeMin: 1_000n, volumeMax: 1_000_000n, volumeStep: 100n };
    // follower 0.3, provider 1 lot closes 0.1: close 0.03 < 0.1 minimum, the remaining 0.27 is fine -> wait
    expect(close(3_000n, 3_000n, LOT, 9_000n, minTenth)).toEqual({ volume: 0n, final: false, skipped: 'below_minimum_volume' });
    // then the provider closes 0.3 more (0.6 left): keep 1,800, close 3,000 - 1,800 = 1,200 = 0.12 (caught up)
    expect(close(3_000n, 3_000n, LOT, 6_000n, minTenth)).toEqual({ volume: 1_200n, final: false });
    // follower 0.15, provider closes half: keep ceilStep(750) = 800 < 1,000 minimum -> close all 0.15
    expect(close(1_500n, 1_500n, LOT, 5_000n, minTenth)).toEqual({
      volume: 1_500n,
      final: true,
      raised: 'remainder_below_minimum',
    });
  });

  it('no-ops: never copied, nothing open, follower already below its share', () => {
    expect(close(0n, null, LOT, 5_000n)).toEqual({ volume: 0n, final: false, skipped: 'not_copied' });
    expect(close(0n, null, LOT, 0n)).toEqual({ volume: 0n, final: false, skipped: 'not_copied' });
    expect(close(5_000n, 0n, LOT, 0n)).toEqual({ volume: 0n, final: true, skipped: 'nothing_open' });
    // follower closed 0.3 of its 0.5 by hand; the provider closes 0.3 of 1 lot: keep 0.35 >= 0.2 open
    expect(close(5_000n, 2_000n, LOT, 7_000n)).toEqual({ volume: 0n, final: false, skipped: 'nothing_to_close' });
  });

  it('refuses impossible volumes', () => {
    expect(code(() => close(5_000n, 5_000n, LOT, LOT))).toBe('invalid_close_volume');
    expect(code(() => close(5_000n, 5_000n, 0n, 0n))).toBe('invalid_close_volume');
    expect(code(() => close(5_000n, 5_000n, LOT, -1n))).toBe('invalid_close_volume');
    expect(code(() => close(5_000n, 6_000n, LOT, 5_000n))).toBe('invalid_close_volume');
  });
});

// ---------------------------------------------------------------------------------------------------------
// Properties

const symbolArb = fc
  .record({
    step: fc.constantFrom(1n, 10n, 100n, 1_000n),
    minSteps: fc.bigInt({ min: 1n, max: 20n }),
    span: fc.oneof(fc.bigInt({ min: 0n, max: 50n }), fc.bigInt({ min: 0n, max: 1_000_000n })),
  })
  .map(({ step, minSteps, span }) => ({ volumeStep: step, volumeMin: step * minSteps, volumeMax: step * (minSteps + span) }));
/** Mostly positive amounts spread over magnitudes (log-scale), sometimes zero or negative. */
const money = fc.oneof(
  { weight: 1, arbitrary: fc.bigInt({ min: -1_000n, max: 0n }) },
  { weight: 9, arbitrary: fc.integer({ min: 2, max: 10 }).chain((k) => fc.bigInt({ min: 1n, max: 10n ** BigInt(k) })) },
);
const bps = fc.integer({ min: 1, max: 100_000 });
const modeArb: fc.Arbitrary<CopyMode> = fc.oneof(
  fc.constant({ kind: 'balance_proportional' as const }),
  fc.constant({ kind: 'equity_proportional' as const }),
  bps.map((ratioBps) => ({ kind: 'balance_ratio' as const, ratioBps })),
  bps.map((ratioBps) => ({ kind: 'equity_ratio' as const, ratioBps })),
  fc.bigInt({ min: 1n, max: 2_000_000n }).map((volume) => ({ kind: 'fixed_lot' as const, volume })),
  bps.map((multiplierBps) => ({ kind: 'lot_multiplier' as const, multiplierBps })),
);
const inputArb: fc.Arbitrary<AllocationInput> = fc.record({
  mode: modeArb,
  providerVolume: fc.bigInt({ min: 1n, max: 10_000_000n }),
  provider: fc.record({ balance: money, equity: money }),
  follower: fc.record({ balance: money, equity: money }),
  symbol: symbolArb,
  maxVolume: fc.option(fc.bigInt({ min: 1n, max: 3_000_000n }), { nil: undefined }),
  belowMinimum: fc.constantFrom('skip' as const, 'clamp' as const),
});

describe('allocation properties', () => {
  it('is 0 exactly when skipped, else a multiple of the step within [min, symbol max] and the subscription max', () => {
    fc.assert(
      fc.property(inputArb, (i) => {
        const r = allocate(i);
        const { min, max, step } = effectiveLimits(i.symbol);
        if (r.skipped) return r.volume === 0n && r.reduced === undefined;
        expect(r.volume % step).toBe(0n);
        expect(r.volume >= min && r.volume <= max).toBe(true);
        if (i.maxVolume !== undefined) expect(r.volume <= i.maxVolume).toBe(true);
        return true;
      }),
      { numRuns: 1_000 },
    );
  });

  it('without a cap or the minimum involved, the volume is the exact size rounded down: v <= exact < v + step', () => {
    fc.assert(
      fc.property(inputArb, (i) => {
        const r = allocate(i);
        if (r.skipped || r.reduced || r.raisedToMinimum) return true;
        const m = i.mode;
        const { step } = effectiveLimits(i.symbol);
        const [num, den] =
          m.kind === 'balance_proportional'
            ? [i.providerVolume * i.follower.balance, i.provider.balance]
            : m.kind === 'equity_proportional'
              ? [i.providerVolume * i.follower.equity, i.provider.equity]
              : m.kind === 'balance_ratio'
                ? [i.providerVolume * i.follower.balance * BigInt(m.ratioBps), i.provider.balance * 10_000n]
                : m.kind === 'equity_ratio'
                  ? [i.providerVolume * i.follower.equity * BigInt(m.ratioBps), i.provider.equity * 10_000n]
                  : m.kind === 'fixed_lot'
                    ? [m.volume, 1n]
                    : [i.providerVolume * BigInt(m.multiplierBps), 10_000n];
        return r.volume * den <= num && num < (r.volume + step) * den;
      }),
      { numRuns: 2_000 },
    );
  });

  it('is non-decreasing in the follower balance (balance modes) and equity (equity modes)', () => {
    fc.assert(
      fc.property(inputArb, money, money, (i, a, b) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        const v = (x: bigint) => allocate({ ...i, follower: { balance: x, equity: x } }).volume;
        return v(lo) <= v(hi);
      }),
      { numRuns: 1_000 },
    );
  });
});

describe('close properties', () => {
  /** A provider position of pInit split into closes (the last one final), the follower copy opened by allocate. */
  const scenario = fc
    .record({
      symbol: symbolArb,
      pLots: fc.bigInt({ min: 1n, max: 500n }),
      fSteps: fc.bigInt({ min: 1n, max: 2_000n }),
      cuts: fc.array(fc.integer({ min: 1, max: 1_000 }), { minLength: 0, maxLength: 8 }),
    })
    .map(({ symbol, pLots, fSteps, cuts }) => {
      const pInit = pLots * 1_000n;
      const { min, max, step } = effectiveLimits(symbol);
      let fInit = fSteps * step;
      if (fInit < min) fInit = min;
      if (fInit > max) fInit = max;
      // strictly decreasing provider volumes after each partial close, then 0
      const afters = [...new Set(cuts.map((c) => (pInit * BigInt(c)) / 1_001n).filter((v) => v > 0n && v < pInit))].sort(
        (x, y) => (x > y ? -1 : x < y ? 1 : 0),
      );
      return { symbol, pInit, fInit, afters: [...afters, 0n] };
    });

  it('closes sum to at most the follower volume and the provider final close leaves nothing', () => {
    fc.assert(
      fc.property(scenario, ({ symbol, pInit, fInit, afters }) => {
        let open = fInit;
        let closed = 0n;
        for (const pAfter of afters) {
          const r = allocateClose({
            follower: { initialVolume: fInit, openVolume: open },
            providerInitialVolume: pInit,
            providerVolumeAfter: pAfter,
            symbol,
          });
          expect(r.volume >= 0n && r.volume <= open).toBe(true);
          expect(r.final).toBe(r.volume === open);
          open -= r.volume;
          closed += r.volume;
          expect(closed <= fInit).toBe(true);
        }
        return open === 0n && closed === fInit;
      }),
      { numRuns: 1_000 },
    );
  });

  it('with minimum = step the follower keeps ceilStep(F_init x P_after / P_init) after every close', () => {
    fc.assert(
      fc.property(scenario, ({ symbol, pInit, fInit, afters }) => {
        const s = { ...symbol, volumeMin: symbol.volumeStep };
        let open = fInit;
        for (const pAfter of afters) {
          open -= allocateClose({
            follower: { initialVolume: fInit, openVolume: open },
            providerInitialVolume: pInit,
            providerVolumeAfter: pAfter,
            symbol: s,
          }).volume;
          const exactKeep = fInit * pAfter;
          // open is the smallest multiple of the step with open x pInit >= fInit x pAfter
          expect(open % s.volumeStep).toBe(0n);
          expect(open * pInit >= exactKeep).toBe(true);
          expect(open === 0n || (open - s.volumeStep) * pInit < exactKeep).toBe(true);
        }
        return open === 0n;
      }),
      { numRuns: 1_000 },
    );
  });

  it('a first close equals floorStep(F x closed / P_init) when minimum = step', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(1n, 10n, 100n),
        fc.bigInt({ min: 1n, max: 10_000n }),
        fc.bigInt({ min: 2n, max: 10_000_000n }),
        fc.bigInt({ min: 1n, max: 10_000_000n }),
        (step, fSteps, pInit, c) => {
          const closedVolume = (c % (pInit - 1n)) + 1n; // 1 .. pInit - 1: a partial close
          const f = fSteps * step;
          const r = allocateClose({
            follower: { initialVolume: f, openVolume: f },
            providerInitialVolume: pInit,
            providerVolumeAfter: pInit - closedVolume,
            symbol: { volumeMin: step, volumeMax: f, volumeStep: step },
          });
          return r.volume === floorToStep((f * closedVolume) / pInit, step);
        },
      ),
      { numRuns: 1_000 },
    );
  });
});
