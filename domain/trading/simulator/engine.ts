/**
 * The trading simulator: an in-memory stand-in for an MT5 server in hedging mode (quotes, accounts, market
 * orders, positions, deals, swaps, commission, stop-out and negative balance protection). Pure: no I/O, no
 * Date.now or Math.random; time comes in as `now` arguments and randomness from a seeded PRNG in the state.
 *
 * Invariants:
 * - hedging: every fill opens a new position (no netting); a position's id is its opening order's ticket
 * - a client fill is a buy at the ask (+ slippage) or a sell at the bid (- slippage): slippage is adverse only,
 *   uniform in [0, slippagePoints], drawn from the state's PRNG; a stop-out fills at the bid / ask exactly
 * - a refused request changes nothing (no deal, no counter, no RNG step), except that the clock advances
 * - after every change (setQuote, tick, setTradingOpen, rollover, an order, a close, a balance operation) every
 *   account is enforced: while its margin level is below stopOutLevel, its most losing position (profit +
 *   storage, then the lowest id) on an open market is closed with reason stop_out; then a retail account
 *   with no open position and a negative balance gets an so_compensation deal bringing the balance to 0
 * - balance = sum of the account's non-credit deals' (profit + commission + storage); credit = sum of its
 *   credit deals' profit; for each position, volumeInitial = its open volume + the volumes of its out deals
 * - a negative balance operation never leaves free margin < 0, and only a credit operation can spend credit
 * - an externalId is applied once: the same (login, type, amount) again returns the original deal and
 *   applies nothing; a different request with the same externalId is duplicate_external_id
 * - the clock never goes back: a deal's time is max(now, the latest now seen), so deal times are monotonic
 */
import { currency } from '../../money/currencies.ts';
import { ESMA_RETAIL_LEVERAGE, type InstrumentClass } from '../../onboarding/catalog.ts';
import { TradingError } from '../errors.ts';
import {
  type AccountState,
  BALANCE_OPERATIONS,
  type BalanceOperation,
  type Deal,
  type DealReason,
  type Position,
  type Quote,
  type Side,
  type SymbolSpec,
  type TradingAccount,
} from '../model.ts';
import {
  belowLevel,
  closingPrice,
  commissionFor,
  effectiveLeverage,
  marginLevel,
  openingPrice,
  profitAt,
  requiredMargin,
  storageShare,
  swapFor,
} from './margin.ts';
import { conversionFactor, type Market, walk } from './quotes.ts';
import type { Ratio } from './ratio.ts';
import { randomInt, seedState } from './rng.ts';
import {
  type AccountRecord,
  decodeState,
  encodeState,
  type PositionRecord,
  type SimState,
  type SimulatorSnapshot,
} from './state.ts';

export interface SymbolConfig {
  spec: SymbolSpec;
  /** Initial bid, points; ask = bid + spreadPoints. */
  bid: bigint;
  spreadPoints: bigint;
  /** Largest bid move per tick, points; default 0 (moves only by setQuote). */
  volatilityPoints?: bigint;
  /** Largest adverse slippage of a client fill, points; default 0. */
  slippagePoints?: bigint;
  /** Default true. */
  tradingOpen?: boolean;
}

export interface SimulatorOptions {
  symbols: readonly SymbolConfig[];
  /** Seed of the PRNG (mulberry32). */
  seed: number;
  /** Initial clock and quote time, ms; default 0. */
  startTimeMsc?: number;
}

export interface CreateAccountInput {
  login: number;
  currency: string;
  leverage: number;
  group: string;
  retail: boolean;
  /** Percent, default 100. */
  marginCallLevel?: number;
  /** Percent, default 50 (ESMA retail close-out). */
  stopOutLevel?: number;
  /** Class caps for a retail account; default ESMA_RETAIL_LEVERAGE. Ignored for professional accounts. */
  leverageCaps?: Readonly<Record<InstrumentClass, number>>;
  readOnly?: boolean;
}

export interface MarketOrderInput {
  login: number;
  symbol: string;
  side: Side;
  /** MT5 units (lots x 10,000). */
  volume: bigint;
  now: number;
  comment?: string;
}

export interface ClosePositionInput {
  login: number;
  positionId: number;
  /** MT5 units; default the whole open volume. */
  volume?: bigint;
  now: number;
  comment?: string;
}

export interface TradeResult {
  order: number;
  deal: Deal;
  /** The position after the trade (null when closed, including by a stop-out the trade triggered). */
  position: Position | null;
}

const positiveInt = (n: number, what: string) => {
  if (!Number.isSafeInteger(n) || n <= 0) throw new RangeError(`${what} must be a positive safe integer`);
};
const nonNegativeInt = (n: number, what: string) => {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${what} must be a non-negative safe integer`);
};

const volumeError = (volume: bigint, message: string) =>
  new TradingError('invalid_volume', message, [{ field: 'volume', code: 'invalid_volume', message }], {
    volume: volume.toString(),
  });

/** Null when `volume` may open a position of `spec`, else why not. */
export function checkOpenVolume(spec: SymbolSpec, volume: bigint): string | null {
  if (volume < spec.volumeMin) return `Volume below the minimum ${spec.volumeMin} for ${spec.symbol}`;
  if (volume > spec.volumeMax) return `Volume above the maximum ${spec.volumeMax} for ${spec.symbol}`;
  if (volume % spec.volumeStep !== 0n) return `Volume is not a multiple of the step ${spec.volumeStep} for ${spec.symbol}`;
  return null;
}

/** Null when `volume` of an open `current` may close, else why not (the remainder must be 0 or >= the minimum). */
export function checkCloseVolume(spec: SymbolSpec, current: bigint, volume: bigint): string | null {
  if (volume <= 0n || volume > current) return `Volume must be in (0, ${current}]`;
  if (volume % spec.volumeStep !== 0n) return `Volume is not a multiple of the step ${spec.volumeStep} for ${spec.symbol}`;
  if (volume < spec.volumeMin) return `Volume below the minimum ${spec.volumeMin} for ${spec.symbol}`;
  const rest = current - volume;
  if (rest !== 0n && rest < spec.volumeMin) return `The remaining volume ${rest} would be below the minimum ${spec.volumeMin}`;
  return null;
}

function validateSymbol(c: SymbolConfig): void {
  const s = c.spec;
  if (!s.symbol) throw new RangeError('symbol must be non-empty');
  if (!Number.isInteger(s.digits) || s.digits < 0 || s.digits > 18) throw new RangeError(`${s.symbol}: digits must be 0..18`);
  currency(s.quote);
  if (s.contractSize <= 0n) throw new RangeError(`${s.symbol}: contractSize must be positive`);
  if (s.volumeMin <= 0n || s.volumeStep <= 0n || s.volumeMax < s.volumeMin) {
    throw new RangeError(`${s.symbol}: need 0 < volumeMin <= volumeMax and volumeStep > 0`);
  }
  if ((s.commissionPerLot ?? 0n) < 0n) throw new RangeError(`${s.symbol}: commissionPerLot must be >= 0`);
  if (c.bid < 1n || c.spreadPoints < 0n) throw new RangeError(`${s.symbol}: need bid >= 1 and spreadPoints >= 0`);
  if ((c.volatilityPoints ?? 0n) < 0n || (c.slippagePoints ?? 0n) < 0n) {
    throw new RangeError(`${s.symbol}: volatilityPoints and slippagePoints must be >= 0`);
  }
}

export class TradingSimulator {
  private constructor(private readonly s: SimState) {}

  static create(options: SimulatorOptions): TradingSimulator {
    const start = options.startTimeMsc ?? 0;
    const markets = new Map<string, Market>();
    for (const c of options.symbols) {
      validateSymbol(c);
      if (markets.has(c.spec.symbol)) throw new RangeError(`Duplicate symbol ${c.spec.symbol}`);
      markets.set(c.spec.symbol, {
        spec: { ...c.spec },
        quote: { symbol: c.spec.symbol, bid: c.bid, ask: c.bid + c.spreadPoints, time: start },
        spreadPoints: c.spreadPoints,
        volatilityPoints: c.volatilityPoints ?? 0n,
        slippagePoints: c.slippagePoints ?? 0n,
        tradingOpen: c.tradingOpen ?? true,
      });
    }
    return new TradingSimulator({
      clockMsc: start,
      rngState: seedState(options.seed),
      nextOrder: 1,
      nextDeal: 1,
      markets,
      accounts: new Map(),
      positions: new Map(),
      deals: [],
      byExternalId: new Map(),
    });
  }

  static fromSnapshot(snapshot: SimulatorSnapshot): TradingSimulator {
    return new TradingSimulator(decodeState(snapshot));
  }

  snapshot(): SimulatorSnapshot {
    return encodeState(this.s);
  }

  /** The simulated clock: the latest `now` seen, ms. */
  get now(): number {
    return this.s.clockMsc;
  }

  // --- quotes -----------------------------------------------------------------------------------------

  symbols(): SymbolSpec[] {
    return [...this.s.markets.values()].map((m) => ({ ...m.spec }));
  }

  quote(symbol: string): Quote {
    return { ...this.market(symbol).quote };
  }

  /** Units of `to` per unit of `from` at the current mid quotes (what MT5 calls a deal's RateProfit / RateMargin). */
  conversionRate(from: string, to: string): Ratio {
    return this.factor(from, to);
  }

  quotes(): Quote[] {
    return [...this.s.markets.values()].map((m) => ({ ...m.quote }));
  }

  isTradingOpen(symbol: string): boolean {
    return this.market(symbol).tradingOpen;
  }

  /** Sets a symbol's quote (tests, price shocks); invalid_price unless 1 <= bid <= ask. Then enforces. */
  setQuote(symbol: string, bid: bigint, ask: bigint, now?: number): void {
    const m = this.market(symbol);
    if (bid < 1n || ask < bid) {
      throw new TradingError('invalid_price', `Need 1 <= bid <= ask for ${symbol}`, [
        { field: 'bid', code: 'invalid_price', message: 'Need 1 <= bid <= ask' },
      ]);
    }
    const t = this.advance(now);
    m.quote = { symbol, bid, ask, time: t };
    this.enforce(t);
  }

  /** Advances every open market's random walk by one step (in symbol order), then enforces. */
  tick(now: number): void {
    const t = this.advance(now);
    for (const m of this.s.markets.values()) {
      if (!m.tradingOpen) continue;
      const next = walk(m, this.s.rngState, t);
      m.quote = next.quote;
      this.s.rngState = next.rngState;
    }
    this.enforce(t);
  }

  setTradingOpen(symbol: string, open: boolean, now?: number): void {
    const m = this.market(symbol);
    const t = this.advance(now);
    m.tradingOpen = open;
    this.enforce(t);
  }

  // --- accounts ---------------------------------------------------------------------------------------

  /**
   * Opens an account with zero balance. account_exists for a used login; RangeError for a bad login, leverage or
   * level; unknown_currency; an Error when a symbol's quote currency cannot be converted into the account currency.
   */
  createAccount(input: CreateAccountInput): TradingAccount {
    positiveInt(input.login, 'login');
    positiveInt(input.leverage, 'leverage');
    currency(input.currency);
    const marginCallLevel = input.marginCallLevel ?? 100;
    const stopOutLevel = input.stopOutLevel ?? 50;
    nonNegativeInt(marginCallLevel, 'marginCallLevel');
    nonNegativeInt(stopOutLevel, 'stopOutLevel');
    const leverageCaps = Object.freeze({ ...(input.leverageCaps ?? ESMA_RETAIL_LEVERAGE) });
    for (const [cls, cap] of Object.entries(leverageCaps)) positiveInt(cap, `leverageCaps.${cls}`);
    if (this.s.accounts.has(input.login)) throw new TradingError('account_exists', `Account ${input.login} already exists`);
    for (const m of this.s.markets.values()) this.factor(m.spec.quote, input.currency);
    const record: AccountRecord = {
      login: input.login,
      currency: input.currency,
      leverage: input.leverage,
      group: input.group,
      retail: input.retail,
      marginCallLevel,
      stopOutLevel,
      leverageCaps,
      readOnly: input.readOnly ?? false,
      balance: 0n,
      credit: 0n,
    };
    this.s.accounts.set(input.login, record);
    return this.account(input.login);
  }

  account(login: number): TradingAccount {
    const { balance: _b, credit: _c, ...config } = this.acct(login);
    return config;
  }

  accounts(): TradingAccount[] {
    return [...this.s.accounts.keys()].map((login) => this.account(login));
  }

  setReadOnly(login: number, readOnly: boolean): void {
    this.acct(login).readOnly = readOnly;
  }

  /**
   * A balance operation of `amount` (signed, account minor units). 'credit' moves the credit, every other type the
   * balance. A negative amount that would leave free margin < 0 is no_money; so is a negative credit operation that
   * would leave credit < 0, and a negative non-credit one larger than free margin - credit (credit is not the
   * client's money, so a withdrawal cannot spend it). With an `externalId`
   * already applied: the original deal for the same (login, type, amount), duplicate_external_id otherwise.
   */
  changeBalance(login: number, amount: bigint, type: BalanceOperation, comment: string, externalId?: string, now?: number): Deal {
    const t = this.advance(now);
    if (!BALANCE_OPERATIONS.includes(type)) throw new RangeError(`Unknown balance operation ${String(type)}`);
    if (externalId !== undefined) {
      const seen = this.s.byExternalId.get(externalId);
      if (seen) {
        if (seen.login === login && seen.action === type && seen.profit === amount) return seen;
        throw new TradingError('duplicate_external_id', `externalId ${externalId} was applied to a different operation`, [], {
          deal: seen.deal,
        });
      }
    }
    const account = this.acct(login);
    if (amount === 0n) {
      throw new TradingError('invalid_amount', 'Amount must not be zero', [
        { field: 'amount', code: 'invalid_amount', message: 'Amount must not be zero' },
      ]);
    }
    if (amount < 0n) {
      // credit is not the client's money: only a credit operation may spend it
      const state = this.evaluate(account).state;
      const available = type === 'credit' ? state.freeMargin : state.freeMargin - account.credit;
      if (available + amount < 0n || (type === 'credit' && account.credit + amount < 0n)) {
        throw new TradingError('no_money', `Not enough free margin for ${amount}`, [], {
          freeMargin: state.freeMargin.toString(),
        });
      }
    }
    const deal = this.writeBalanceDeal(login, type, amount, t, comment, externalId);
    if (type === 'credit') account.credit += amount;
    else account.balance += amount;
    this.enforce(t);
    return deal;
  }

  accountState(login: number): AccountState {
    return this.evaluate(this.acct(login)).state;
  }

  /** Open positions of `login`, by id, valued at the current quotes. */
  positions(login: number): Position[] {
    return this.evaluate(this.acct(login)).positions;
  }

  // --- trading ----------------------------------------------------------------------------------------

  /** Opens a new position (hedging: never nets). */
  marketOrder(input: MarketOrderInput): TradeResult {
    const t = this.advance(input.now);
    const account = this.acct(input.login);
    if (account.readOnly) throw new TradingError('trade_disabled', `Account ${account.login} is read-only`);
    const m = this.market(input.symbol);
    if (!m.tradingOpen) throw new TradingError('market_closed', `Market closed for ${input.symbol}`);
    const why = checkOpenVolume(m.spec, input.volume);
    if (why) throw volumeError(input.volume, why);
    const fill = this.slipped(m, input.side === 'buy' ? 'up' : 'down', openingPrice(input.side, m.quote));
    const margin = requiredMargin(
      m.spec,
      input.volume,
      fill.price,
      effectiveLeverage(account, m.spec.instrumentClass),
      this.factor(m.spec.quote, account.currency),
      account.currency,
    );
    const commission = commissionFor(m.spec, input.volume);
    const { freeMargin } = this.evaluate(account).state;
    if (margin - commission > freeMargin) {
      throw new TradingError('no_money', `Not enough free margin: need ${margin - commission}, have ${freeMargin}`, [], {
        margin: margin.toString(),
        freeMargin: freeMargin.toString(),
      });
    }
    this.s.rngState = fill.rngState;
    const order = this.s.nextOrder++;
    const position: PositionRecord = {
      positionId: order,
      login: account.login,
      symbol: m.spec.symbol,
      side: input.side,
      volume: input.volume,
      volumeInitial: input.volume,
      openPrice: fill.price,
      openTimeMsc: t,
      storage: 0n,
    };
    this.s.positions.set(order, position);
    const deal = this.writeDeal({
      login: account.login,
      order,
      action: input.side,
      entry: 'in',
      reason: 'client',
      timeMsc: t,
      symbol: m.spec.symbol,
      price: fill.price,
      volume: input.volume,
      profit: 0n,
      commission,
      storage: 0n,
      positionId: order,
      comment: input.comment ?? '',
    });
    account.balance += commission;
    this.enforce(t);
    return { order, deal, position: this.positionView(order) };
  }

  /** Closes a position fully or partly at the bid (a buy) or the ask (a sell), with adverse slippage. */
  closePosition(input: ClosePositionInput): TradeResult {
    const t = this.advance(input.now);
    const account = this.acct(input.login);
    if (account.readOnly) throw new TradingError('trade_disabled', `Account ${account.login} is read-only`);
    const p = this.s.positions.get(input.positionId);
    if (!p || p.login !== input.login) {
      throw new TradingError('position_not_found', `No open position ${input.positionId} on account ${input.login}`);
    }
    const m = this.market(p.symbol);
    if (!m.tradingOpen) throw new TradingError('market_closed', `Market closed for ${p.symbol}`);
    const volume = input.volume ?? p.volume;
    const why = checkCloseVolume(m.spec, p.volume, volume);
    if (why) throw volumeError(volume, why);
    const fill = this.slipped(m, p.side === 'buy' ? 'down' : 'up', closingPrice(p.side, m.quote));
    this.s.rngState = fill.rngState;
    const order = this.s.nextOrder++;
    const deal = this.close(p, volume, fill.price, 'client', t, order, input.comment ?? '');
    this.enforce(t);
    return { order, deal, position: this.positionView(p.positionId) };
  }

  /** Credits / charges `days` days of swap to every open position's storage, then enforces. */
  rollover(now: number, days = 1): void {
    positiveInt(days, 'days');
    const t = this.advance(now);
    for (const p of this.s.positions.values()) {
      const account = this.acct(p.login);
      const m = this.market(p.symbol);
      p.storage += swapFor(m.spec, p.side, p.volume, days, this.factor(m.spec.quote, account.currency), account.currency);
    }
    this.enforce(t);
  }

  // --- deals ------------------------------------------------------------------------------------------

  /** Up to `limit` deals with id > `cursor` (0 = from the start), by id. */
  dealsSince(cursor: number, limit: number): Deal[] {
    positiveInt(limit, 'limit');
    const deals = this.s.deals;
    let lo = 0;
    let hi = deals.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (deals[mid]!.deal <= cursor) lo = mid + 1;
      else hi = mid;
    }
    return deals.slice(lo, lo + limit);
  }

  /** Every deal of `login` (or of the server), by id. */
  deals(login?: number): Deal[] {
    return login === undefined ? [...this.s.deals] : this.s.deals.filter((d) => d.login === login);
  }

  // --- internals --------------------------------------------------------------------------------------

  private advance(now?: number): number {
    if (now !== undefined) {
      if (!Number.isFinite(now)) throw new RangeError('now must be a finite number of ms');
      if (now > this.s.clockMsc) this.s.clockMsc = now;
    }
    return this.s.clockMsc;
  }

  private acct(login: number): AccountRecord {
    const a = this.s.accounts.get(login);
    if (!a) throw new TradingError('account_not_found', `No account ${login}`);
    return a;
  }

  private market(symbol: string): Market {
    const m = this.s.markets.get(symbol);
    if (!m) throw new TradingError('symbol_not_found', `No symbol ${symbol}`);
    return m;
  }

  private factor(from: string, to: string): Ratio {
    const f = conversionFactor(from, to, this.s.markets.values());
    if (!f) {
      throw new Error(
        `No conversion path from ${from} to ${to}: add a ${from}${to} or ${to}${from} pair, or pairs of both with USD`,
      );
    }
    return f;
  }

  /** `price` moved against the client by a uniform [0, slippagePoints] (the RNG state is returned, not stored). */
  private slipped(m: Market, against: 'up' | 'down', price: bigint): { price: bigint; rngState: number } {
    if (m.slippagePoints <= 0n) return { price, rngState: this.s.rngState };
    const r = randomInt(this.s.rngState, 0n, m.slippagePoints);
    const slipped = against === 'up' ? price + r.value : price - r.value;
    if (slipped < 1n) throw new TradingError('invalid_price', `Slippage would fill ${m.spec.symbol} at ${slipped} points`);
    return { price: slipped, rngState: r.state };
  }

  private writeDeal(fields: Omit<Deal, 'deal'>): Deal {
    const deal = Object.freeze({ deal: this.s.nextDeal++, ...fields });
    this.s.deals.push(deal);
    if (deal.externalId !== undefined) this.s.byExternalId.set(deal.externalId, deal);
    return deal;
  }

  /** A deal with no symbol, order or position: a balance operation (its amount is the profit, as in MT5) or a compensation. */
  private writeBalanceDeal(
    login: number,
    action: BalanceOperation | 'so_compensation',
    amount: bigint,
    t: number,
    comment: string,
    externalId?: string,
  ): Deal {
    return this.writeDeal({
      login,
      order: 0,
      action,
      entry: 'in',
      reason: 'dealer',
      timeMsc: t,
      symbol: '',
      price: 0n,
      volume: 0n,
      profit: amount,
      commission: 0n,
      storage: 0n,
      positionId: 0,
      comment,
      ...(externalId !== undefined ? { externalId } : {}),
    });
  }

  /** Closes `volume` of `p` at `price`: realises profit, the swap share and a commission, all into the balance. */
  private close(p: PositionRecord, volume: bigint, price: bigint, reason: DealReason, t: number, order: number, comment: string) {
    const account = this.acct(p.login);
    const m = this.market(p.symbol);
    const profit = profitAt(
      m.spec,
      p.side,
      volume,
      p.openPrice,
      price,
      this.factor(m.spec.quote, account.currency),
      account.currency,
    );
    const storage = storageShare(p.storage, volume, p.volume);
    const commission = commissionFor(m.spec, volume);
    const deal = this.writeDeal({
      login: p.login,
      order,
      action: p.side === 'buy' ? 'sell' : 'buy',
      entry: 'out',
      reason,
      timeMsc: t,
      symbol: p.symbol,
      price,
      volume,
      profit,
      commission,
      storage,
      positionId: p.positionId,
      comment,
    });
    account.balance += profit + commission + storage;
    p.volume -= volume;
    p.storage -= storage;
    if (p.volume === 0n) this.s.positions.delete(p.positionId);
    return deal;
  }

  private openPositions(login: number): PositionRecord[] {
    return [...this.s.positions.values()].filter((p) => p.login === login).sort((a, b) => a.positionId - b.positionId);
  }

  private valued(p: PositionRecord, account: AccountRecord): { view: Position; margin: bigint } {
    const m = this.market(p.symbol);
    const factor = this.factor(m.spec.quote, account.currency);
    const priceCurrent = closingPrice(p.side, m.quote);
    return {
      view: {
        ...p,
        priceCurrent,
        profit: profitAt(m.spec, p.side, p.volume, p.openPrice, priceCurrent, factor, account.currency),
      },
      margin: requiredMargin(
        m.spec,
        p.volume,
        p.openPrice,
        effectiveLeverage(account, m.spec.instrumentClass),
        factor,
        account.currency,
      ),
    };
  }

  private positionView(positionId: number): Position | null {
    const p = this.s.positions.get(positionId);
    return p ? this.valued(p, this.acct(p.login)).view : null;
  }

  private evaluate(account: AccountRecord): { state: AccountState; positions: Position[] } {
    let profit = 0n;
    let margin = 0n;
    const positions: Position[] = [];
    for (const p of this.openPositions(account.login)) {
      const v = this.valued(p, account);
      positions.push(v.view);
      profit += v.view.profit + v.view.storage;
      margin += v.margin;
    }
    const equity = account.balance + account.credit + profit;
    return {
      state: {
        login: account.login,
        currency: account.currency,
        balance: account.balance,
        credit: account.credit,
        equity,
        margin,
        freeMargin: equity - margin,
        marginLevel: marginLevel(equity, margin),
        profit,
      },
      positions,
    };
  }

  /** Stop-out, then negative balance protection, for every account (in creation order). */
  private enforce(t: number): void {
    for (const account of this.s.accounts.values()) {
      this.stopOut(account, t);
      if (account.retail && account.balance < 0n && this.openPositions(account.login).length === 0) {
        this.writeBalanceDeal(account.login, 'so_compensation', -account.balance, t, 'negative balance protection');
        account.balance = 0n;
      }
    }
  }

  private stopOut(account: AccountRecord, t: number): void {
    for (;;) {
      const { state, positions } = this.evaluate(account);
      if (!belowLevel(state.equity, state.margin, account.stopOutLevel)) return;
      const victim = positions
        .filter((p) => this.market(p.symbol).tradingOpen)
        .sort((a, b) => {
          const d = a.profit + a.storage - (b.profit + b.storage);
          return d < 0n ? -1 : d > 0n ? 1 : a.positionId - b.positionId;
        })[0];
      if (!victim) return;
      const p = this.s.positions.get(victim.positionId)!;
      this.close(p, p.volume, victim.priceCurrent, 'stop_out', t, this.s.nextOrder++, `so ${state.marginLevel}%`);
    }
  }
}
