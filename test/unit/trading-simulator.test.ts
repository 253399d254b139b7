/** Trading simulator (domain/trading/simulator): fills, margin, conversion, profit, swaps, commission, refusals, stop-out, snapshots. */
import { describe, expect, it } from 'vitest';
import { TRADING_ERROR_CODES, TradingError } from '#domain/trading/errors.ts';
import type { SymbolSpec } from '#domain/trading/model.ts';
import {
  type CreateAccountInput,
  conversionFactor,
  type Market,
  marginLevel,
  nextUint32,
  randomInt,
  type SymbolConfig,
  TradingSimulator,
} from '#domain/trading/simulator/index.ts';

const EURUSD: SymbolSpec = {
  symbol: 'EURUSD',
  digits: 5,
  contractSize: 100_000n,
  instrumentClass: 'fx_major',
  base: 'EUR',
  quote: 'USD',
  volumeMin: 100n,
  volumeMax: 1_000_000n,
  volumeStep: 100n,
  swapLongPoints: -7n,
  swapShortPoints: 2n,
  commissionPerLot: 350n,
};
const USDJPY: SymbolSpec = {
  symbol: 'USDJPY',
  digits: 3,
  contractSize: 100_000n,
  instrumentClass: 'fx_major',
  base: 'USD',
  quote: 'JPY',
  volumeMin: 100n,
  volumeMax: 1_000_000n,
  volumeStep: 100n,
  swapLongPoints: 150n,
  swapShortPoints: -300n,
};
const XAUUSD: SymbolSpec = {
  symbol: 'XAUUSD',
  digits: 2,
  contractSize: 100n,
  instrumentClass: 'gold',
  base: 'XAU',
  quote: 'USD',
  volumeMin: 1000n,
  volumeMax: 500_000n,
  volumeStep: 100n,
  swapLongPoints: -50n,
  swapShortPoints: 20n,
};

const SYMBOLS: SymbolConfig[] = [
  { spec: EURUSD, bid: 108_500n, spreadPoints: 10n, volatilityPoints: 20n },
  { spec: USDJPY, bid: 150_000n, spreadPoints: 15n, volatilityPoints: 30n },
  { spec: XAUUSD, bid: 235_000n, spreadPoints: 30n, volatilityPoints: 100n },
];

const sim = (symbols: SymbolConfig[] = SYMBOLS, seed = 42) =>
  TradingSimulator.create({ symbols, seed, startTimeMsc: 1_700_000_000_000 });

const account = (s: TradingSimulator, over: Partial<CreateAccountInput> = {}, deposit = 1_000_000n) => {
  const a = s.createAccount({ login: 1001, currency: 'USD', leverage: 100, group: 'retail\\usd', retail: true, ...over });
  if (deposit !== 0n) s.changeBalance(a.login, deposit, 'balance', 'deposit');
  return a.login;
};

const thrown = (f: () => unknown): TradingError => {
  try {
    f();
  } catch (e) {
    return e as TradingError;
  }
  throw new Error('expected a throw');
};

const T = 1_700_000_000_000;

describe('fills', () => {
  it('a buy fills at the ask and a sell at the bid, each opening its own position (hedging)', () => {
    const s = sim();
    const login = account(s);
    const buy = s.marketOrder({ login, symbol: 'EURUSD', side: 'buy', volume: 10_000n, now: T + 1 });
    const sell = s.marketOrder({ login, symbol: 'EURUSD', side: 'sell', volume: 10_000n, now: T + 2 });
    expect(buy.deal).toMatchObject({ action: 'buy', entry: 'in', reason: 'client', price: 108_510n, volume: 10_000n });
    expect(sell.deal).toMatchObject({ action: 'sell', entry: 'in', price: 108_500n, positionId: sell.order });
    expect(buy.position).toMatchObject({ positionId: buy.order, side: 'buy', openPrice: 108_510n, priceCurrent: 108_500n });
    expect(sell.position).toMatchObject({ side: 'sell', openPrice: 108_500n, priceCurrent: 108_510n });
    expect(s.positions(login).map((p) => p.positionId)).toEqual([buy.order, sell.order]);
    // each is down one spread: 10 points x 1 lot = 10.00 USD
    expect(s.positions(login).map((p) => p.profit)).toEqual([-1000n, -1000n]);
  });

  it('closes a buy at the bid and a sell at the ask, realising the profit into the balance', () => {
    const s = sim();
    const login = account(s, {}, 1_000_000n);
    const buy = s.marketOrder({ login, symbol: 'EURUSD', side: 'buy', volume: 10_000n, now: T });
    const sell = s.marketOrder({ login, symbol: 'EURUSD', side: 'sell', volume: 10_000n, now: T });
    s.setQuote('EURUSD', 108_610n, 108_620n);
    const c1 = s.closePosition({ login, positionId: buy.order, now: T + 10 });
    const c2 = s.closePosition({ login, positionId: sell.order, now: T + 11 });
    expect(c1.deal).toMatchObject({ action: 'sell', entry: 'out', price: 108_610n, profit: 10_000n, commission: -350n });
    expect(c2.deal).toMatchObject({ action: 'buy', entry: 'out', price: 108_620n, profit: -12_000n, commission: -350n });
    expect(c1.position).toBeNull();
    expect(s.accountState(login)).toMatchObject({ balance: 1_000_000n + 10_000n - 12_000n - 4n * 350n, margin: 0n });
    expect(s.accountState(login).marginLevel).toBeNull();
  });

  it('slippage is adverse, bounded and deterministic for a seed', () => {
    const withSlip = SYMBOLS.map((c) => ({ ...c, slippagePoints: 5n }));
    const run = () => {
      const s = sim(withSlip, 7);
      const login = account(s);
      return Array.from({ length: 20 }, (_, i) => {
        const side = i % 2 === 0 ? 'buy' : 'sell';
        return s.marketOrder({ login, symbol: 'EURUSD', side, volume: 100n, now: T + i }).deal.price;
      });
    };
    const prices = run();
    expect(run()).toEqual(prices);
    prices.forEach((p, i) => {
      if (i % 2 === 0) expect(p >= 108_510n && p <= 108_515n).toBe(true);
      else expect(p >= 108_495n && p <= 108_500n).toBe(true);
    });
    expect(new Set(prices).size).toBeGreaterThan(2);
  });
});

describe('partial close', () => {
  it('splits volume, swap and commission; volumes add up to the original', () => {
    const s = sim();
    const login = account(s);
    const open = s.marketOrder({ login, symbol: 'EURUSD', side: 'buy', volume: 10_000n, now: T });
    s.rollover(T + 1, 2); // -7 points x 1 lot x 2 days = -14.00 USD
    expect(s.positions(login)[0]!.storage).toBe(-1400n);
    s.setQuote('EURUSD', 108_710n, 108_720n);
    const part = s.closePosition({ login, positionId: open.order, volume: 3_300n, now: T + 2 });
    // profit 200 points x 0.33 lot = 66.00; commission 3.50 x 0.33 = 1.155 -> 116 (half-even of 115.5); swap -1400 x 0.33 = -462
    expect(part.deal).toMatchObject({ volume: 3_300n, profit: 6_600n, commission: -116n, storage: -462n, entry: 'out' });
    expect(part.position).toMatchObject({ volume: 6_700n, volumeInitial: 10_000n, storage: -938n, openPrice: 108_510n });
    const rest = s.closePosition({ login, positionId: open.order, now: T + 3 });
    expect(rest.deal).toMatchObject({ volume: 6_700n, profit: 13_400n, commission: -234n, storage: -938n });
    expect(part.deal.volume + rest.deal.volume).toBe(open.deal.volume);
    expect(s.accountState(login).balance).toBe(1_000_000n - 350n + 6_600n - 116n - 462n + 13_400n - 234n - 938n);
  });

  it('refuses a close below the minimum, off the step, above the open volume or leaving less than the minimum', () => {
    const s = sim();
    const login = account(s);
    // XAUUSD: minimum 0.10 lot, step 0.01
    const { order } = s.marketOrder({ login, symbol: 'XAUUSD', side: 'buy', volume: 2_500n, now: T });
    for (const volume of [500n, 1_050n, 2_600n, 1_600n, 0n, -100n]) {
      expect(thrown(() => s.closePosition({ login, positionId: order, volume, now: T })).code).toBe('invalid_volume');
    }
    expect(s.positions(login)[0]!.volume).toBe(2_500n);
    expect(s.closePosition({ login, positionId: order, volume: 1_000n, now: T }).position?.volume).toBe(1_500n);
    expect(s.closePosition({ login, positionId: order, now: T }).position).toBeNull();
  });
});

describe('margin and conversion', () => {
  const margins = (accountCurrency: string, retail: boolean) => {
    const out: Record<string, bigint> = {};
    for (const [symbol, volume] of [
      ['EURUSD', 10_000n],
      ['USDJPY', 10_000n],
      ['XAUUSD', 10_000n],
    ] as const) {
      const s = sim();
      const login = account(s, { currency: accountCurrency, retail }, accountCurrency === 'JPY' ? 100_000_000n : 100_000_000n);
      s.marketOrder({ login, symbol, side: 'buy', volume, now: T });
      out[symbol] = s.accountState(login).margin;
    }
    return out;
  };

  it('retail USD account: notional at the open price over the class cap (30 FX, 20 gold)', () => {
    // EURUSD 100,000 x 1.08510 / 30 = 3617.00; USDJPY 100,000 x 150.015 / 30 = 500,050 JPY / 150.0075 = 3333.50;
    // XAUUSD 100 x 2350.30 / 20 = 11,751.50
    expect(margins('USD', true)).toEqual({ EURUSD: 361_700n, USDJPY: 333_350n, XAUUSD: 1_175_150n });
  });

  it('retail EUR account: converted through EURUSD (inverse) and USD (cross for JPY) at the mid price', () => {
    // 3617 / 1.08505 = 3333.4869; 500,050 / 150.0075 / 1.08505 = 3072.2077; 11,751.50 / 1.08505 = 10830.3765
    expect(margins('EUR', true)).toEqual({ EURUSD: 333_349n, USDJPY: 307_221n, XAUUSD: 1_083_038n });
  });

  it('a JPY account (exponent 0) converts USD through USDJPY (direct)', () => {
    // 3617 x 150.0075 = 542,577.1 JPY
    expect(margins('JPY', true).EURUSD).toBe(542_577n);
  });

  it('a professional account uses its own leverage, not the retail caps', () => {
    expect(margins('USD', false)).toEqual({ EURUSD: 108_510n, USDJPY: 100_005n, XAUUSD: 235_030n });
  });

  it('retail caps come from the account when given', () => {
    const s = sim();
    const caps = { fx_major: 50, fx_minor: 20, gold: 10, index_major: 20, index_minor: 10, commodity: 10, equity: 5, crypto: 2 };
    const login = account(s, { leverageCaps: caps, leverage: 40 });
    s.marketOrder({ login, symbol: 'EURUSD', side: 'buy', volume: 10_000n, now: T });
    expect(s.accountState(login).margin).toBe(271_275n); // 108,510 / 40 (the account leverage is below the cap)
  });

  it('conversion factors: identity, direct, inverse, cross via USD, and none', () => {
    const markets: Market[] = SYMBOLS.map((c) => ({
      spec: c.spec,
      quote: { symbol: c.spec.symbol, bid: c.bid, ask: c.bid + c.spreadPoints, time: 0 },
      spreadPoints: c.spreadPoints,
      volatilityPoints: 0n,
      slippagePoints: 0n,
      tradingOpen: true,
    }));
    expect(conversionFactor('USD', 'USD', markets)).toEqual({ num: 1n, den: 1n });
    expect(conversionFactor('EUR', 'USD', markets)).toEqual({ num: 217_010n, den: 200_000n });
    expect(conversionFactor('USD', 'EUR', markets)).toEqual({ num: 200_000n, den: 217_010n });
    const cross = conversionFactor('EUR', 'JPY', markets)!;
    expect(cross.num * 2_000n * 200_000n).toBe(217_010n * 300_015n * cross.den);
    expect(conversionFactor('XAU', 'USD', markets)).toBeNull(); // gold is not a currency pair
    expect(conversionFactor('GBP', 'USD', markets)).toBeNull();
  });

  it('an account whose currency cannot be reached from every quote currency is refused at creation', () => {
    const s = sim();
    expect(() => s.createAccount({ login: 1, currency: 'GBP', leverage: 30, group: 'g', retail: true })).toThrow(
      /No conversion path from USD to GBP/,
    );
    expect(thrown(() => s.createAccount({ login: 1, currency: 'XXX', leverage: 30, group: 'g', retail: true })).code).toBe(
      'unknown_currency',
    );
  });

  it('the margin level is equity / margin x 100, 2 decimals half-even, null without margin', () => {
    expect(marginLevel(74_580n, 131_098n)).toBe('56.89');
    expect(marginLevel(1n, 8n)).toBe('12.50');
    expect(marginLevel(-5n, 1_000n)).toBe('-0.50');
    expect(marginLevel(100n, 0n)).toBeNull();
  });
});

describe('profit', () => {
  it('USDJPY P/L is in JPY, converted into USD and EUR at the mid price', () => {
    for (const [cur, expected] of [
      ['USD', 65_229n],
      ['EUR', 60_116n],
    ] as const) {
      const s = sim();
      const login = account(s, { currency: cur }, 100_000_000n);
      s.marketOrder({ login, symbol: 'USDJPY', side: 'buy', volume: 10_000n, now: T });
      s.setQuote('USDJPY', 151_000n, 151_015n);
      // (151.000 - 150.015) x 100,000 = 98,500 JPY; / 151.0075 = 652.29 USD; / 1.08505 = 601.16 EUR
      expect(s.positions(login)[0]!.profit).toBe(expected);
      expect(s.accountState(login).profit).toBe(expected);
    }
  });

  it('a sell is valued at the ask', () => {
    const s = sim();
    const login = account(s);
    s.marketOrder({ login, symbol: 'XAUUSD', side: 'sell', volume: 1_000n, now: T });
    s.setQuote('XAUUSD', 234_000n, 234_030n);
    // (2350.00 - 2340.30) x 100 x 0.1 = 97.00 USD
    expect(s.positions(login)[0]).toMatchObject({ priceCurrent: 234_030n, profit: 9_700n });
  });
});

describe('swaps', () => {
  it('rollover adds points x lots x contract x point value to storage, long and short, converted', () => {
    const s = sim();
    const usd = account(s, {}, 10_000_000n);
    const eur = account(s, { login: 1002, currency: 'EUR' });
    s.marketOrder({ login: usd, symbol: 'EURUSD', side: 'buy', volume: 10_000n, now: T });
    s.marketOrder({ login: usd, symbol: 'EURUSD', side: 'sell', volume: 20_000n, now: T });
    s.marketOrder({ login: usd, symbol: 'XAUUSD', side: 'buy', volume: 1_000n, now: T });
    s.marketOrder({ login: eur, symbol: 'EURUSD', side: 'buy', volume: 10_000n, now: T });
    s.rollover(T + 1);
    s.rollover(T + 2, 2); // a triple day is rollover(now, 3)
    // long -7 points = -7.00 USD/lot/day; short +2 points x 2 lots = +4.00/day; gold -50 points x 100 x 0.1 = -5.00/day
    expect(s.positions(usd).map((p) => p.storage)).toEqual([-2_100n, 1_200n, -1_500n]);
    // EUR account: -700 cents USD / 1.08505 = -645.13 -> -645 per day, rounded per rollover: -645 + -1290
    expect(s.positions(eur)[0]!.storage).toBe(-645n - 1_290n);
    const before = s.accountState(usd);
    expect(before.profit).toBe(before.equity - before.balance); // storage is part of the floating profit
    const close = s.closePosition({ login: usd, positionId: s.positions(usd)[0]!.positionId, now: T + 3 });
    expect(close.deal.storage).toBe(-2_100n);
  });

  it('swaps can trigger a stop-out', () => {
    const s = sim([{ spec: { ...EURUSD, swapLongPoints: -5_000n, commissionPerLot: 0n }, bid: 108_500n, spreadPoints: 10n }]);
    const login = account(s, {}, 400_000n);
    s.marketOrder({ login, symbol: 'EURUSD', side: 'buy', volume: 10_000n, now: T });
    s.rollover(T + 1); // -5000 points = -5,000.00 USD
    expect(s.positions(login)).toEqual([]);
    expect(s.deals(login).at(-2)).toMatchObject({ reason: 'stop_out', storage: -500_000n });
    expect(s.accountState(login).balance).toBe(0n); // compensated
  });
});

describe('commission', () => {
  it('is charged per side on the deal, half-even to minor units', () => {
    const s = sim();
    const login = account(s);
    const a = s.marketOrder({ login, symbol: 'EURUSD', side: 'buy', volume: 100n, now: T }); // 3.5 -> 4
    const b = s.marketOrder({ login, symbol: 'EURUSD', side: 'buy', volume: 300n, now: T }); // 10.5 -> 10
    const c = s.marketOrder({ login, symbol: 'USDJPY', side: 'buy', volume: 300n, now: T }); // no commission
    expect([a.deal.commission, b.deal.commission, c.deal.commission]).toEqual([-4n, -10n, 0n]);
    expect(s.accountState(login).balance).toBe(1_000_000n - 14n);
    const out = s.closePosition({ login, positionId: b.order, now: T });
    expect(out.deal.commission).toBe(-10n);
  });
});

describe('refusals', () => {
  it('invalid_volume: below the minimum, above the maximum, off the step', () => {
    const s = sim();
    const login = account(s);
    for (const volume of [0n, 50n, 150n, 1_000_100n, -100n]) {
      const e = thrown(() => s.marketOrder({ login, symbol: 'EURUSD', side: 'buy', volume, now: T }));
      expect(e).toBeInstanceOf(TradingError);
      expect([e.code, e.kind, e.retryable]).toEqual(['invalid_volume', 'unprocessable', false]);
    }
    expect(s.deals(login)).toHaveLength(1); // the deposit only
  });

  it('market_closed: no orders or closes; the walk leaves the symbol alone; reopening works', () => {
    const s = sim();
    const login = account(s);
    const { order } = s.marketOrder({ login, symbol: 'EURUSD', side: 'buy', volume: 100n, now: T });
    s.setTradingOpen('EURUSD', false);
    expect(thrown(() => s.marketOrder({ login, symbol: 'EURUSD', side: 'buy', volume: 100n, now: T })).code).toBe(
      'market_closed',
    );
    expect(thrown(() => s.closePosition({ login, positionId: order, now: T })).code).toBe('market_closed');
    const before = s.quote('EURUSD');
    for (let i = 1; i <= 10; i++) s.tick(T + i * 1000);
    expect(s.quote('EURUSD')).toEqual(before);
    expect(s.quote('XAUUSD').time).toBe(T + 10_000);
    s.setTradingOpen('EURUSD', true);
    expect(s.closePosition({ login, positionId: order, now: T + 20_000 }).position).toBeNull();
  });

  it('account_not_found, symbol_not_found, position_not_found, trade_disabled', () => {
    const s = sim();
    const login = account(s);
    const other = account(s, { login: 2002 });
    const { order } = s.marketOrder({ login, symbol: 'EURUSD', side: 'buy', volume: 100n, now: T });
    expect(thrown(() => s.marketOrder({ login: 9, symbol: 'EURUSD', side: 'buy', volume: 100n, now: T })).code).toBe(
      'account_not_found',
    );
    expect(thrown(() => s.accountState(9)).code).toBe('account_not_found');
    expect(thrown(() => s.changeBalance(9, 100n, 'balance', 'x')).code).toBe('account_not_found');
    expect(thrown(() => s.marketOrder({ login, symbol: 'BTCUSD', side: 'buy', volume: 100n, now: T })).code).toBe(
      'symbol_not_found',
    );
    expect(thrown(() => s.closePosition({ login: other, positionId: order, now: T })).code).toBe('position_not_found');
    expect(thrown(() => s.closePosition({ login, positionId: 12345, now: T })).code).toBe('position_not_found');
    s.setReadOnly(login, true);
    const e = thrown(() => s.marketOrder({ login, symbol: 'EURUSD', side: 'buy', volume: 100n, now: T }));
    expect([e.code, e.kind]).toEqual(['trade_disabled', 'forbidden']);
    expect(thrown(() => s.closePosition({ login, positionId: order, now: T })).code).toBe('trade_disabled');
    expect(s.changeBalance(login, 100n, 'balance', 'deposits still apply').profit).toBe(100n);
    expect(thrown(() => s.createAccount({ login, currency: 'USD', leverage: 1, group: 'g', retail: true })).code).toBe(
      'account_exists',
    );
  });

  it('no_money: an order whose margin and commission exceed the free margin; a withdrawal beyond it', () => {
    const s = sim();
    const login = account(s, {}, 361_700n); // exactly one lot of EURUSD's margin
    const e = thrown(() => s.marketOrder({ login, symbol: 'EURUSD', side: 'buy', volume: 10_000n, now: T }));
    expect([e.code, e.kind]).toEqual(['no_money', 'unprocessable']); // + 3.50 commission does not fit
    s.changeBalance(login, 350n, 'balance', 'top up');
    s.marketOrder({ login, symbol: 'EURUSD', side: 'buy', volume: 10_000n, now: T });
    const st = s.accountState(login);
    expect(st).toMatchObject({ margin: 361_700n, balance: 361_700n, equity: 361_700n - 1_000n, freeMargin: -1_000n });
    expect(thrown(() => s.changeBalance(login, -1n, 'balance', 'withdrawal')).code).toBe('no_money');
    expect(thrown(() => s.changeBalance(login, -1n, 'credit', 'remove credit')).code).toBe('no_money');
    expect(thrown(() => s.changeBalance(login, 0n, 'balance', 'zero')).code).toBe('invalid_amount');
  });

  it('no_money: a withdrawal cannot spend credit, a credit removal cannot take credit below zero', () => {
    const s = sim();
    const login = account(s, {}, 10_000n);
    s.changeBalance(login, 50_000n, 'credit', 'credit line');
    expect(thrown(() => s.changeBalance(login, -10_001n, 'balance', 'withdrawal')).code).toBe('no_money');
    expect(thrown(() => s.changeBalance(login, -50_001n, 'credit', 'remove')).code).toBe('no_money');
    s.changeBalance(login, -10_000n, 'balance', 'withdrawal');
    s.changeBalance(login, -50_000n, 'credit', 'remove');
    expect(s.accountState(login)).toMatchObject({ balance: 0n, credit: 0n });
  });

  it('setQuote refuses bid < 1 or ask < bid', () => {
    const s = sim();
    expect(thrown(() => s.setQuote('EURUSD', 0n, 10n)).code).toBe('invalid_price');
    expect(thrown(() => s.setQuote('EURUSD', 11n, 10n)).code).toBe('invalid_price');
  });

  it('only platform_unavailable is retryable', () => {
    for (const code of TRADING_ERROR_CODES) {
      expect(new TradingError(code, 'x').retryable).toBe(code === 'platform_unavailable');
    }
  });
});

describe('balance operations', () => {
  it('credit moves the credit, the other types the balance; each is a deal whose profit is the amount', () => {
    const s = sim();
    const login = account(s, {}, 0n);
    s.changeBalance(login, 10_000n, 'balance', 'deposit', undefined, T + 5);
    s.changeBalance(login, 5_000n, 'credit', 'credit line');
    s.changeBalance(login, 2_000n, 'bonus', 'bonus');
    s.changeBalance(login, -500n, 'charge', 'fee');
    s.changeBalance(login, 1n, 'correction', 'fix');
    expect(s.accountState(login)).toMatchObject({ balance: 11_501n, credit: 5_000n, equity: 16_501n });
    expect(s.deals(login).map((d) => [d.action, d.profit, d.reason, d.entry, d.timeMsc])).toEqual([
      ['balance', 10_000n, 'dealer', 'in', T + 5],
      ['credit', 5_000n, 'dealer', 'in', T + 5],
      ['bonus', 2_000n, 'dealer', 'in', T + 5],
      ['charge', -500n, 'dealer', 'in', T + 5],
      ['correction', 1n, 'dealer', 'in', T + 5],
    ]);
  });

  it('an externalId applies exactly once; a different operation under it is duplicate_external_id', () => {
    const s = sim();
    const login = account(s, {}, 0n);
    const first = s.changeBalance(login, 10_000n, 'balance', 'deposit', 'psp-1');
    const again = s.changeBalance(login, 10_000n, 'balance', 'deposit (retry)', 'psp-1');
    expect(again).toBe(first);
    expect(s.accountState(login).balance).toBe(10_000n);
    expect(thrown(() => s.changeBalance(login, 20_000n, 'balance', 'x', 'psp-1')).code).toBe('duplicate_external_id');
    // a refused operation records nothing: its externalId stays free
    expect(thrown(() => s.changeBalance(login, -50_000n, 'balance', 'w', 'wd-1')).code).toBe('no_money');
    expect(s.changeBalance(login, -5_000n, 'balance', 'w', 'wd-1').profit).toBe(-5_000n);
    expect(s.deals(login)).toHaveLength(2);
    // survives a snapshot
    const restored = TradingSimulator.fromSnapshot(JSON.parse(JSON.stringify(s.snapshot())));
    expect(restored.changeBalance(login, 10_000n, 'balance', 'deposit', 'psp-1').deal).toBe(first.deal);
    expect(restored.accountState(login).balance).toBe(5_000n);
  });
});

describe('stop-out and negative balance protection', () => {
  it('closes the most losing position first and stops once the margin level is back above the stop-out level', () => {
    const s = sim();
    const login = account(s, {}, 200_000n);
    const fx = s.marketOrder({ login, symbol: 'EURUSD', side: 'buy', volume: 2_000n, now: T });
    const gold = s.marketOrder({ login, symbol: 'XAUUSD', side: 'buy', volume: 1_000n, now: T });
    // margin: 20,000 x 1.08510 / 30 = 723.40 and 10 oz x 2350.30 / 20 = 1175.15
    expect(s.accountState(login).margin).toBe(189_855n);
    s.setQuote('XAUUSD', 224_000n, 224_030n, T + 1);
    // equity 2000 - 0.70 commission - 2.00 (EURUSD spread) - 1103.00 (gold) = 894.30 -> 47.10 %: gold, the most
    // losing, is closed; then 894.30 / 723.40 = 123.62 %
    const so = s.deals(login).filter((d) => d.reason === 'stop_out');
    expect(so).toHaveLength(1);
    expect(so[0]).toMatchObject({ positionId: gold.order, action: 'sell', entry: 'out', price: 224_000n, profit: -110_300n });
    expect(so[0]!.comment).toBe('so 47.10%');
    expect(s.positions(login).map((p) => p.positionId)).toEqual([fx.order]);
    expect(s.accountState(login).marginLevel).toBe('123.62');
  });

  it('a retail account ends at exactly zero after a gap through its equity (so_compensation)', () => {
    const s = sim();
    const login = account(s, {}, 100_000n);
    s.marketOrder({ login, symbol: 'EURUSD', side: 'buy', volume: 2_500n, now: T });
    s.setQuote('EURUSD', 100_000n, 100_010n, T + 1);
    // -8510 points x 0.25 lot = -2127.50; commissions 0.88 x 2; balance 1000 - 2129.26 = -1129.26
    const deals = s.deals(login);
    expect(deals.at(-2)).toMatchObject({ reason: 'stop_out', profit: -212_750n, commission: -88n });
    expect(deals.at(-1)).toMatchObject({ action: 'so_compensation', profit: 112_926n, timeMsc: T + 1 });
    expect(s.accountState(login)).toMatchObject({ balance: 0n, equity: 0n, margin: 0n });
  });

  it('a professional account is stopped out but keeps its negative balance', () => {
    const s = sim();
    const login = account(s, { retail: false, leverage: 30 }, 100_000n);
    s.marketOrder({ login, symbol: 'EURUSD', side: 'buy', volume: 2_500n, now: T });
    s.setQuote('EURUSD', 100_000n, 100_010n, T + 1);
    expect(s.positions(login)).toEqual([]);
    expect(s.accountState(login).balance).toBe(-112_926n);
    expect(s.deals(login).some((d) => d.action === 'so_compensation')).toBe(false);
  });

  it('a closed market is not stopped out until it reopens', () => {
    const s = sim();
    const login = account(s, {}, 100_000n);
    s.marketOrder({ login, symbol: 'EURUSD', side: 'buy', volume: 2_500n, now: T });
    s.setTradingOpen('EURUSD', false);
    s.setQuote('EURUSD', 100_000n, 100_010n, T + 1);
    expect(s.positions(login)).toHaveLength(1);
    s.setTradingOpen('EURUSD', true, T + 2);
    expect(s.positions(login)).toHaveLength(0);
    expect(s.accountState(login).balance).toBe(0n);
  });
});

describe('quotes', () => {
  it('tick walks every open symbol within its volatility, keeps the spread, and is deterministic for a seed', () => {
    const walk = (seed: number) => {
      const s = sim(SYMBOLS, seed);
      const out: bigint[] = [];
      for (let i = 1; i <= 50; i++) {
        const prev = s.quote('XAUUSD');
        s.tick(T + i);
        const q = s.quote('XAUUSD');
        expect(q.ask - q.bid).toBe(30n);
        expect(q.bid - prev.bid <= 100n && prev.bid - q.bid <= 100n).toBe(true);
        expect(q.time).toBe(T + i);
        out.push(q.bid);
      }
      return out;
    };
    expect(walk(1)).toEqual(walk(1));
    expect(walk(1)).not.toEqual(walk(2));
  });

  it('mulberry32 is a pure step function; randomInt stays in range', () => {
    expect(nextUint32(0)).toEqual(nextUint32(0));
    let state = 123;
    for (let i = 0; i < 1000; i++) {
      const r = randomInt(state, -3n, 3n);
      expect(r.value >= -3n && r.value <= 3n).toBe(true);
      expect(r.state).not.toBe(state);
      state = r.state;
    }
  });
});

describe('deals', () => {
  it('dealsSince pages through every deal by id', () => {
    const s = sim();
    const a = account(s);
    const b = account(s, { login: 1002 });
    for (let i = 0; i < 5; i++) s.marketOrder({ login: i % 2 ? a : b, symbol: 'EURUSD', side: 'buy', volume: 100n, now: T + i });
    const all = s.deals();
    expect(all.map((d) => d.deal)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const paged = [];
    let cursor = 0;
    for (;;) {
      const page = s.dealsSince(cursor, 3);
      if (page.length === 0) break;
      paged.push(...page);
      cursor = page.at(-1)!.deal;
    }
    expect(paged).toEqual(all);
    expect(s.dealsSince(7, 10)).toEqual([]);
    expect(s.dealsSince(5, 1).map((d) => d.deal)).toEqual([6]);
    expect(Object.isFrozen(all[0])).toBe(true);
  });
});

describe('snapshot', () => {
  it('round-trips through JSON and behaves the same afterwards', () => {
    const s = sim(SYMBOLS.map((c) => ({ ...c, slippagePoints: 3n })));
    const usd = account(s);
    const eur = account(s, { login: 1002, currency: 'EUR', retail: false, leverage: 200 });
    s.changeBalance(eur, 5_000n, 'credit', 'credit', 'c-1');
    s.marketOrder({ login: usd, symbol: 'EURUSD', side: 'buy', volume: 1_000n, now: T + 1 });
    s.marketOrder({ login: eur, symbol: 'XAUUSD', side: 'sell', volume: 2_000n, now: T + 2 });
    s.tick(T + 3);
    s.rollover(T + 4);
    s.setTradingOpen('USDJPY', false);
    const json = JSON.stringify(s.snapshot());
    const r = TradingSimulator.fromSnapshot(JSON.parse(json));
    expect(r.snapshot()).toEqual(s.snapshot());
    expect(JSON.stringify(r.snapshot())).toBe(json);
    expect(r.accountState(eur)).toEqual(s.accountState(eur));
    expect(r.positions(usd)).toEqual(s.positions(usd));
    expect(r.now).toBe(s.now);
    for (const x of [s, r]) {
      x.tick(T + 10);
      x.marketOrder({ login: usd, symbol: 'EURUSD', side: 'sell', volume: 200n, now: T + 11 });
      x.closePosition({ login: eur, positionId: x.positions(eur)[0]!.positionId, volume: 1_000n, now: T + 12 });
    }
    expect(r.snapshot()).toEqual(s.snapshot());
    expect(() => TradingSimulator.fromSnapshot({ ...s.snapshot(), version: 2 as 1 })).toThrow(/unsupported version/);
  });
});
