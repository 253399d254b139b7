/**
 * Trading simulator invariants under random sequences of orders, closes, balance operations, price shocks,
 * ticks, rollovers and market open/close toggles (fast-check).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isTradingError, type TradingErrorCode } from '#domain/trading/errors.ts';
import { BALANCE_OPERATIONS, type BalanceOperation, type Side, type SymbolSpec } from '#domain/trading/model.ts';
import { type SymbolConfig, TradingSimulator } from '#domain/trading/simulator/index.ts';

const spec = (over: Partial<SymbolSpec> & Pick<SymbolSpec, 'symbol' | 'base' | 'quote' | 'digits'>): SymbolSpec => ({
  contractSize: 100_000n,
  instrumentClass: 'fx_major',
  volumeMin: 100n,
  volumeMax: 500_000n,
  volumeStep: 100n,
  swapLongPoints: -7n,
  swapShortPoints: 3n,
  ...over,
});

const SYMBOLS: SymbolConfig[] = [
  {
    spec: spec({ symbol: 'EURUSD', base: 'EUR', quote: 'USD', digits: 5, commissionPerLot: 350n }),
    bid: 108_500n,
    spreadPoints: 10n,
    volatilityPoints: 40n,
    slippagePoints: 2n,
  },
  {
    spec: spec({ symbol: 'USDJPY', base: 'USD', quote: 'JPY', digits: 3, swapLongPoints: 120n, swapShortPoints: -250n }),
    bid: 150_000n,
    spreadPoints: 15n,
    volatilityPoints: 60n,
    slippagePoints: 3n,
  },
  {
    spec: spec({
      symbol: 'XAUUSD',
      base: 'XAU',
      quote: 'USD',
      digits: 2,
      contractSize: 100n,
      instrumentClass: 'gold',
      volumeMin: 1_000n,
      swapLongPoints: -40n,
      swapShortPoints: 15n,
      commissionPerLot: 700n,
    }),
    bid: 235_000n,
    spreadPoints: 30n,
    volatilityPoints: 200n,
  },
];
const FLOOR = SYMBOLS.map((c) => c.bid / 5n);

const ACCOUNTS = [
  { login: 1001, currency: 'USD', leverage: 100, retail: true, deposit: 500_000n },
  { login: 1002, currency: 'EUR', leverage: 30, retail: true, deposit: 300_000n },
  { login: 1003, currency: 'JPY', leverage: 20, retail: true, deposit: 500_000n },
  { login: 1004, currency: 'USD', leverage: 200, retail: false, deposit: 500_000n, stopOutLevel: 30 },
] as const;

const T0 = 1_700_000_000_000;

const setup = (seed: number) => {
  const s = TradingSimulator.create({ symbols: SYMBOLS, seed, startTimeMsc: T0 });
  for (const a of ACCOUNTS) {
    s.createAccount({ ...a, group: a.retail ? 'retail' : 'pro' });
    s.changeBalance(a.login, a.deposit, 'balance', 'initial deposit', `init-${a.login}`);
  }
  return s;
};

type Step =
  | { k: 'order'; acc: number; sym: number; side: Side; units: number; offStep: boolean }
  | { k: 'close'; acc: number; pick: number; quarters: number }
  | { k: 'balance'; acc: number; amount: bigint; type: BalanceOperation; ext: string | null }
  | { k: 'shock'; sym: number; pct: number }
  | { k: 'tick' }
  | { k: 'rollover'; days: number }
  | { k: 'market'; sym: number; open: boolean };

const acc = fc.nat(ACCOUNTS.length - 1);
const sym = fc.nat(SYMBOLS.length - 1);
const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      k: fc.constant('order' as const),
      acc,
      sym,
      side: fc.constantFrom<Side>('buy', 'sell'),
      units: fc.integer({ min: 1, max: 80 }),
      offStep: fc.nat(9).map((n) => n === 0), // one order in ten is off the volume step
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ k: fc.constant('close' as const), acc, pick: fc.nat(9), quarters: fc.integer({ min: 0, max: 3 }) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      k: fc.constant('balance' as const),
      acc,
      amount: fc.bigInt({ min: -400_000n, max: 400_000n }),
      type: fc.constantFrom(...BALANCE_OPERATIONS),
      ext: fc.option(fc.constantFrom('ext-1', 'ext-2', 'ext-3'), { nil: null }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('shock' as const), sym, pct: fc.integer({ min: -60, max: 60 }) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('tick' as const) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('rollover' as const), days: fc.constantFrom(1, 3) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('market' as const), sym, open: fc.boolean() }) },
);
const steps = fc.array(step, { minLength: 1, maxLength: 40 });

/** Refusals a random step may legitimately get; anything else (or any other error) is a bug. */
const EXPECTED: ReadonlySet<TradingErrorCode> = new Set([
  'no_money',
  'invalid_volume',
  'invalid_amount',
  'market_closed',
  'duplicate_external_id',
]);

interface Outcome {
  /** What the step returned, for comparing two runs: deal ids or an error code. */
  result: string;
  /** For a close: the position's volume before, the closed volume, the volume after. */
  split?: { before: bigint; closed: bigint; after: bigint };
}

function run(s: TradingSimulator, st: Step, t: number): Outcome {
  try {
    switch (st.k) {
      case 'order': {
        const c = SYMBOLS[st.sym]!;
        const volume = BigInt(st.units) * c.spec.volumeStep + (st.offStep ? 50n : 0n);
        const r = s.marketOrder({ login: ACCOUNTS[st.acc]!.login, symbol: c.spec.symbol, side: st.side, volume, now: t });
        return { result: `deal ${r.deal.deal} price ${r.deal.price}` };
      }
      case 'close': {
        const login = ACCOUNTS[st.acc]!.login;
        const open = s.positions(login);
        if (open.length === 0) return { result: 'none' };
        const p = open[st.pick % open.length]!;
        const step = SYMBOLS.find((c) => c.spec.symbol === p.symbol)!.spec.volumeStep;
        const volume = st.quarters === 0 ? p.volume : ((p.volume * BigInt(st.quarters)) / 4n / step) * step;
        const r = s.closePosition({ login, positionId: p.positionId, volume, now: t });
        const after = r.position?.volume ?? 0n;
        return { result: `deal ${r.deal.deal} price ${r.deal.price}`, split: { before: p.volume, closed: r.deal.volume, after } };
      }
      case 'balance': {
        const d = s.changeBalance(ACCOUNTS[st.acc]!.login, st.amount, st.type, 'op', st.ext ?? undefined, t);
        return { result: `deal ${d.deal}` };
      }
      case 'shock': {
        const q = s.quote(SYMBOLS[st.sym]!.spec.symbol);
        const moved = (q.bid * BigInt(100 + st.pct)) / 100n;
        const bid = moved < FLOOR[st.sym]! ? FLOOR[st.sym]! : moved;
        s.setQuote(q.symbol, bid, bid + (q.ask - q.bid), t);
        return { result: `quote ${bid}` };
      }
      case 'tick':
        s.tick(t);
        return { result: 'tick' };
      case 'rollover':
        s.rollover(t, st.days);
        return { result: 'rollover' };
      case 'market':
        s.setTradingOpen(SYMBOLS[st.sym]!.spec.symbol, st.open, t);
        return { result: `market ${st.open}` };
    }
  } catch (e) {
    if (isTradingError(e) && EXPECTED.has(e.code)) return { result: e.code };
    throw e;
  }
}

const isRetail = (login: number) => ACCOUNTS.find((a) => a.login === login)!.retail;

/** Invariants (1)-(4) on the current state. */
function check(s: TradingSimulator): void {
  const deals = s.deals();
  for (let i = 1; i < deals.length; i++) {
    expect(deals[i]!.deal).toBeGreaterThan(deals[i - 1]!.deal);
    expect(deals[i]!.timeMsc).toBeGreaterThanOrEqual(deals[i - 1]!.timeMsc);
  }
  const openMarket = new Map(SYMBOLS.map((c) => [c.spec.symbol, s.isTradingOpen(c.spec.symbol)]));
  for (const a of s.accounts()) {
    const st = s.accountState(a.login);
    const open = s.positions(a.login);
    // (1) a retail account with nothing open never has a negative balance
    if (a.retail && open.length === 0) expect(st.balance).toBeGreaterThanOrEqual(0n);
    // (2) no account is left below its stop-out level while it has a position the stop-out could close
    if (open.some((p) => openMarket.get(p.symbol)) && st.margin > 0n) {
      expect(st.equity * 100n).toBeGreaterThanOrEqual(BigInt(a.stopOutLevel) * st.margin);
    }
    // (3) balance and credit are the sums of the account's deals
    const mine = deals.filter((d) => d.login === a.login);
    const sum = (ds: typeof mine) => ds.reduce((x, d) => x + d.profit + d.commission + d.storage, 0n);
    expect(st.balance).toBe(sum(mine.filter((d) => d.action !== 'credit')));
    expect(st.credit).toBe(sum(mine.filter((d) => d.action === 'credit')));
    expect(st.equity).toBe(st.balance + st.credit + st.profit);
    expect(st.freeMargin).toBe(st.equity - st.margin);
    // (4) per position: volume in = volumes out + volume still open
    const openVolume = new Map(open.map((p) => [p.positionId, p.volume]));
    const net = new Map<number, bigint>();
    for (const d of mine) {
      if (d.positionId === 0) continue;
      net.set(d.positionId, (net.get(d.positionId) ?? 0n) + (d.entry === 'in' ? d.volume : -d.volume));
    }
    for (const [id, v] of net) expect(v).toBe(openVolume.get(id) ?? 0n);
    for (const p of open) expect(net.get(p.positionId)).toBe(p.volume);
  }
  // an externalId is applied at most once
  const ext = deals.flatMap((d) => (d.externalId ? [d.externalId] : []));
  expect(new Set(ext).size).toBe(ext.length);
}

const play = (s: TradingSimulator, list: Step[], from = 0) =>
  list.map((st, i) => {
    const out = run(s, st, T0 + (from + i + 1) * 1_000);
    check(s);
    if (out.split) expect(out.split.closed + out.split.after).toBe(out.split.before);
    return out;
  });

describe('trading simulator invariants', () => {
  it('(1)-(4) hold after every step; closing everything leaves every retail account at >= 0', () => {
    fc.assert(
      fc.property(fc.integer(), steps, (seed, list) => {
        const s = setup(seed);
        check(s);
        play(s, list);
        // the end: reopen every market and close every position
        let t = T0 + (list.length + 2) * 1_000;
        for (const c of SYMBOLS) s.setTradingOpen(c.spec.symbol, true, t);
        for (const a of ACCOUNTS) {
          for (const p of s.positions(a.login)) s.closePosition({ login: a.login, positionId: p.positionId, now: ++t });
        }
        check(s);
        for (const a of s.accounts()) {
          expect(s.positions(a.login)).toEqual([]);
          if (isRetail(a.login)) expect(s.accountState(a.login).balance).toBeGreaterThanOrEqual(0n);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('price gaps through equity are compensated to exactly zero on retail accounts', () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 1, max: 25 }), fc.integer({ min: 50, max: 90 }), (seed, units, drop) => {
        const s = setup(seed);
        for (const a of ACCOUNTS) {
          try {
            s.marketOrder({ login: a.login, symbol: 'EURUSD', side: 'buy', volume: BigInt(units) * 100n, now: T0 + 1 });
          } catch (e) {
            if (!isTradingError(e) || e.code !== 'no_money') throw e;
          }
        }
        s.setQuote('EURUSD', (108_500n * BigInt(100 - drop)) / 100n, (108_500n * BigInt(100 - drop)) / 100n + 10n, T0 + 2);
        check(s);
        for (const a of ACCOUNTS) {
          const comp = s.deals(a.login).filter((d) => d.action === 'so_compensation');
          const st = s.accountState(a.login);
          if (a.retail) {
            expect(st.balance).toBeGreaterThanOrEqual(0n);
            if (comp.length > 0) expect(st.balance).toBe(0n);
          } else {
            expect(comp).toEqual([]);
          }
        }
      }),
      { numRuns: 100 },
    );
  });

  it('(5) snapshot -> JSON -> restore gives the same state and the same behaviour afterwards', () => {
    fc.assert(
      fc.property(fc.integer(), steps, steps, (seed, before, after) => {
        const a = setup(seed);
        play(a, before);
        const snap = a.snapshot();
        const b = TradingSimulator.fromSnapshot(JSON.parse(JSON.stringify(snap)));
        expect(b.snapshot()).toEqual(snap);
        for (const acct of ACCOUNTS) {
          expect(b.accountState(acct.login)).toEqual(a.accountState(acct.login));
          expect(b.positions(acct.login)).toEqual(a.positions(acct.login));
        }
        const ra = play(a, after, before.length);
        const rb = play(b, after, before.length);
        expect(rb).toEqual(ra);
        expect(b.snapshot()).toEqual(a.snapshot());
      }),
      { numRuns: 100 },
    );
  });
});
