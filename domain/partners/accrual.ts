/**
 * Introducing-broker commissions for one closing deal (issue 16, ADR 0018): which members of the client's partner
 * chain qualify, the lines each earns, the volume hedged on an opposite leg, CPA qualification, the adjustment lines
 * that bring a re-accrued source to its expected sums, and the payout schedule. Pure: no I/O, no clock (times are
 * inputs), money is bigint minor units, every rate is an exact rational.
 *
 * Invariants:
 * - deterministic: the same deal and chain give the same lines in the same order (replay calls accrueDeal again)
 * - money is exact: every amount is computed as one rational from its inputs (decimal strings, bigint volumes,
 *   integer bps) and rounded once, half-even, to the line currency's minor units; nothing is a float
 * - qualification is each member's own plan's: without the opening deal nothing qualifies (no_opening_deal);
 *   otherwise every failing check gives a reason, in a fixed order (held_too_short, same_price,
 *   price_move_too_small, fully_hedged), and a member that does not qualify gets no line
 * - a point is 10^-d, d the most decimals of the close and open price strings; a move is counted in whole points
 * - hedgedOnce: the qualifying volume is volume - hedgedVolume (never negative); lines scale by it; all of it hedged
 *   gives fully_hedged. Without hedgedOnce the whole volume qualifies
 * - tier 0 (the client's own partner) earns per_lot (symbol, then group, then default rate x lots, plan currency),
 *   spread_share (markup points x point x notional / price x share x qualifying / volume, account currency) and
 *   commission_share (|close commission| + |open commission| x volume / open volume, x share x qualifying / volume,
 *   account currency); nothing applicable gives no_rate; spread_share without a notional gives no_rate
 * - tier k >= 1 earns only `override` lines from its own plan's tierOverrides entry for tier k: perLot x its
 *   qualifying lots (its plan currency) or childShareBps of the tier k-1 member's lines for this deal, one line per
 *   currency; no entry gives nothing
 * - a zero amount gives no line; a line whose currency is unknown gives no line and unknown_currency
 * - hedgedVolume: closes are matched in (time, deal id) order; a close is hedged by the still-unmatched volume of
 *   earlier opposite-side closes that closed while it was open, earliest first, and consumes what it matches, so a
 *   volume is counted on one opposite leg only; the result is capped at the close's volume
 * - adjustmentsFor: stored + adjustments sums to expected for every (partnerId, rule, currency); equal sums give
 *   nothing
 * - CPA pays tier 0 once: qualified when the first deposit is in the plan currency, at least minFirstDeposit and
 *   within depositWithinDays of registration, and the volume traded within lotsWithinDays reaches minLots; a first
 *   deposit that misses is final (failed); a window that closes without the condition fails; otherwise pending
 * - payoutDue: daily every day, weekly on Mondays, monthly on the 1st of the tenant-local date
 */
import { CURRENCIES, roundHalfEven } from '../money/index.ts';
import { type PlanRules, type PlanVersion, RULE_TYPES, type RuleType } from './plans.ts';

/** MT5 volume units per lot. */
export const UNITS_PER_LOT = 10_000n;
const BPS = 10_000n;
const DAY_MS = 86_400_000;

// ---------------------------------------------------------------------------------------------------------
// Types

/** One closing deal, as stored (functions/store/trading.ts DealItem), plus the position's opening deal. */
export interface DealInput {
  dealKey: string;
  clientId: string;
  accountId: string;
  /** The account currency (ISO 4217). */
  currency: string;
  symbol: string;
  /** The CLOSING deal's direction (a sell closes a buy position). */
  action: 'buy' | 'sell';
  /** MT5 units: lots x 10,000 (1 lot = 10000n; 0.01 lot = 100n). */
  volume: bigint;
  /** Close price, decimal string with the symbol's digits (point = 10^-digits). */
  price: string;
  /** Signed decimal string in major units of the account currency (negative = charged). */
  commission: string;
  /** The deal's value, decimal string in major units of the account currency (absent: rules needing it give no line). */
  notional?: string;
  timeMsc: number;
  /** The position's opening deal (commission: signed decimal string, major units of the account currency). */
  open?: { price: string; timeMsc: number; volume: bigint; commission: string };
  /** Volume of this close already counted on an opposite leg (see hedgedVolume()). */
  hedgedVolume: bigint;
}

/**
 * The client's partner (tier 0) and its ancestors (tier 1, 2, ...), each with the plan in effect at the deal and its
 * effective rules (effectiveRules). plan/rules null: no plan anywhere up the chain (the member gets no_plan).
 */
export interface ChainMember {
  partnerId: string;
  tier: number;
  plan: PlanVersion | null;
  rules: PlanRules | null;
}

export interface LineDraft {
  partnerId: string;
  tier: number;
  rule: RuleType;
  /** Minor units of `currency`, signed. */
  amount: bigint;
  currency: string;
  /** A decimal money rate (per lot) or basis points, as a string (inputs.rateUnit says which). */
  rate: string;
  inputs: Record<string, string>;
  planId: string;
  planVersion: number;
}

export const REASON_CODES = [
  'no_opening_deal',
  'held_too_short',
  'same_price',
  'price_move_too_small',
  'fully_hedged',
  'no_plan',
  'no_rate',
  'unknown_currency',
  // CPA
  'cpa_not_in_plan',
  'no_deposit',
  'deposit_currency',
  'deposit_too_small',
  'deposit_too_late',
  'deposit_window_over',
  'lots_below_minimum',
  'lots_window_over',
] as const;
export type ReasonCode = (typeof REASON_CODES)[number];
export interface Reason {
  code: ReasonCode;
  detail: string;
}

export interface MemberResult {
  partnerId: string;
  tier: number;
  planId: string;
  planVersion: number;
  qualified: boolean;
  reasons: Reason[];
}

export interface DealAccrual {
  lines: LineDraft[];
  members: MemberResult[];
  /** The deal's lots, at least 2 decimals ("0.10", "0.0001"). */
  lots: string;
  /** The tier-0 member's qualifying volume (no chain: volume - hedgedVolume). */
  qualifyingVolume: bigint;
  /** min(deal.hedgedVolume, volume). */
  hedgedVolume: bigint;
}

// ---------------------------------------------------------------------------------------------------------
// Exact decimals

/** value = num / 10^scale */
interface Dec {
  num: bigint;
  scale: number;
}

const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/;
const pow10 = (n: number): bigint => 10n ** BigInt(n);

/** A signed decimal string as an exact rational; a malformed one is a programming error (RangeError). */
function dec(s: string, what: string): Dec {
  const m = typeof s === 'string' && s.length <= 60 ? DECIMAL.exec(s) : null;
  if (!m) throw new RangeError(`accrual: ${what} is not a decimal string: ${JSON.stringify(s).slice(0, 40)}`);
  const frac = m[3] ?? '';
  const abs = BigInt(`${m[2]}${frac}`);
  return { num: m[1] === '-' ? -abs : abs, scale: frac.length };
}

const absDec = (d: Dec): Dec => ({ num: d.num < 0n ? -d.num : d.num, scale: d.scale });

/** a compared with b: -1, 0, 1. */
function cmpDec(a: Dec, b: Dec): number {
  const s = Math.max(a.scale, b.scale);
  const x = a.num * pow10(s - a.scale);
  const y = b.num * pow10(s - b.scale);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** num/den as a decimal string rounded half-even to at most `digits` decimals, trailing zeros trimmed (display only). */
export function ratioToDecimal(num: bigint, den: bigint, digits = 8): string {
  const scaled = roundHalfEven(num * pow10(digits), den);
  const neg = scaled < 0n;
  const s = (neg ? -scaled : scaled).toString().padStart(digits + 1, '0');
  let int = s.slice(0, s.length - digits);
  const frac = s.slice(s.length - digits).replace(/0+$/, '');
  if (int === '') int = '0';
  return `${neg && scaled !== 0n ? '-' : ''}${int}${frac ? `.${frac}` : ''}`;
}

/** Minor units as an integer string (inputs). */
const minorString = (amount: bigint): string => amount.toString();

/** Volume units as lots with at least 2 decimals: 1000n -> "0.10", 1n -> "0.0001", 10000n -> "1.00". */
export function formatLots(volume: bigint): string {
  const neg = volume < 0n;
  const abs = neg ? -volume : volume;
  const int = abs / UNITS_PER_LOT;
  let frac = (abs % UNITS_PER_LOT).toString().padStart(4, '0');
  while (frac.length > 2 && frac.endsWith('0')) frac = frac.slice(0, -1);
  return `${neg ? '-' : ''}${int}.${frac}`;
}

/**
 * A stored deal price (points, an integer string, with the symbol's digits) as the decimal string DealInput takes:
 * ("110050", 5) -> "1.10050", ("15012", 0) -> "15012". Commission and notional are stored in minor units: pass them
 * through formatAmount (domain/money) to get DealInput's major-unit decimal strings.
 */
export function pointsToPrice(points: string, digits: number): string {
  if (!/^\d+$/.test(points) || !Number.isSafeInteger(digits) || digits < 0 || digits > 12) {
    throw new RangeError(`pointsToPrice: bad points or digits: ${JSON.stringify(points).slice(0, 30)}, ${digits}`);
  }
  if (digits === 0) return BigInt(points).toString();
  const s = BigInt(points)
    .toString()
    .padStart(digits + 1, '0');
  return `${s.slice(0, s.length - digits)}.${s.slice(s.length - digits)}`;
}

const exponentOf = (code: string): number | undefined =>
  Object.hasOwn(CURRENCIES, code) ? CURRENCIES[code]!.exponent : undefined;

// ---------------------------------------------------------------------------------------------------------
// Qualification

interface Qualified {
  qualified: boolean;
  reasons: Reason[];
  qualifyingVolume: bigint;
}

interface DealFacts {
  price: Dec;
  openPrice: Dec;
  /** Decimals of a point (max of the two price strings). */
  pointDigits: number;
  /** |price - openPrice| in whole points. */
  movePoints: bigint;
  holdMs: number;
  hedged: bigint;
}

/** deal.hedgedVolume within 0..volume (bigint: no Math.min). */
function clampHedged(deal: DealInput): bigint {
  if (deal.hedgedVolume <= 0n) return 0n;
  if (deal.volume <= 0n) return 0n;
  if (deal.hedgedVolume > deal.volume) return deal.volume;
  return deal.hedgedVolume;
}

function dealFacts(deal: DealInput): DealFacts | undefined {
  if (!deal.open) return undefined;
  const price = dec(deal.price, 'price');
  const openPrice = dec(deal.open.price, 'open.price');
  const pointDigits = Math.max(price.scale, openPrice.scale);
  const a = price.num * pow10(pointDigits - price.scale);
  const b = openPrice.num * pow10(pointDigits - openPrice.scale);
  const hedged = clampHedged(deal);
  return { price, openPrice, pointDigits, movePoints: a > b ? a - b : b - a, holdMs: deal.timeMsc - deal.open.timeMsc, hedged };
}

const seconds = (ms: number): string => {
  const whole = Math.trunc(ms / 1000);
  const rest = Math.abs(ms % 1000);
  return rest === 0
    ? `${whole}`
    : `${ms < 0 && whole === 0 ? '-' : ''}${whole}.${rest.toString().padStart(3, '0').replace(/0+$/, '')}`;
};

function qualify(deal: DealInput, facts: DealFacts | undefined, plan: PlanVersion): Qualified {
  if (!facts) {
    return {
      qualified: false,
      reasons: [{ code: 'no_opening_deal', detail: "the position's opening deal is unknown: nothing can be checked" }],
      qualifyingVolume: 0n,
    };
  }
  const q = plan.qualification;
  const reasons: Reason[] = [];
  if (facts.holdMs < q.minHoldSeconds * 1000) {
    reasons.push({ code: 'held_too_short', detail: `held ${seconds(facts.holdMs)} s, minimum ${q.minHoldSeconds} s` });
  }
  if (q.excludeSamePrice && cmpDec(facts.price, facts.openPrice) === 0) {
    reasons.push({ code: 'same_price', detail: `opened and closed at ${deal.open!.price}` });
  }
  if (q.minMovePoints > 0 && facts.movePoints < BigInt(q.minMovePoints)) {
    reasons.push({
      code: 'price_move_too_small',
      detail: `moved ${facts.movePoints} points (${deal.open!.price} -> ${deal.price}), minimum ${q.minMovePoints}`,
    });
  }
  let qualifyingVolume = deal.volume < 0n ? 0n : deal.volume;
  if (q.hedgedOnce) {
    qualifyingVolume = qualifyingVolume - facts.hedged;
    if (qualifyingVolume < 0n) qualifyingVolume = 0n;
    if (qualifyingVolume === 0n) {
      reasons.push({ code: 'fully_hedged', detail: `all ${formatLots(deal.volume)} lots hedged by opposite positions` });
    }
  }
  return { qualified: reasons.length === 0, reasons, qualifyingVolume };
}

// ---------------------------------------------------------------------------------------------------------
// Rate resolution

type RateSource = 'symbol' | 'group' | 'default';

function resolve<T>(
  table: { default?: T | undefined; symbols: Record<string, T>; groups: Record<string, T> },
  symbol: string,
  group: string | undefined,
): { value: T; source: RateSource } | undefined {
  if (Object.hasOwn(table.symbols, symbol)) return { value: table.symbols[symbol]!, source: 'symbol' };
  if (group !== undefined && Object.hasOwn(table.groups, group)) return { value: table.groups[group]!, source: 'group' };
  if (table.default !== undefined) return { value: table.default, source: 'default' };
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------
// accrueDeal

/** Pure: the lines a closing deal earns its partner chain. Deterministic (replay calls it again). */
export function accrueDeal(deal: DealInput, chain: readonly ChainMember[]): DealAccrual {
  const facts = dealFacts(deal);
  const lines: LineDraft[] = [];
  const members: MemberResult[] = [];
  const hedged = clampHedged(deal);
  let tier0Volume: bigint | undefined;
  let childLines: LineDraft[] = [];

  chain.forEach((member, index) => {
    if (member.tier !== index) throw new RangeError(`accrueDeal: chain[${index}] has tier ${member.tier}`);
    const { plan, rules } = member;
    if (!plan || !rules) {
      members.push({
        partnerId: member.partnerId,
        tier: index,
        planId: '',
        planVersion: 0,
        qualified: false,
        reasons: [{ code: 'no_plan', detail: 'no plan is assigned to this partner or any of its ancestors' }],
      });
      if (index === 0) tier0Volume = 0n;
      childLines = [];
      return;
    }
    const q = qualify(deal, facts, plan);
    if (index === 0) tier0Volume = q.qualifyingVolume;
    const reasons = [...q.reasons];
    let own: LineDraft[] = [];
    if (q.qualified && facts) {
      const ctx: LineContext = { deal, facts, member, plan, rules, qualifyingVolume: q.qualifyingVolume, reasons };
      own = index === 0 ? tierZeroLines(ctx) : overrideLines(ctx, childLines);
    }
    lines.push(...own);
    childLines = own;
    members.push({
      partnerId: member.partnerId,
      tier: index,
      planId: plan.planId,
      planVersion: plan.version,
      qualified: q.qualified,
      reasons,
    });
  });

  const volume = deal.volume < 0n ? 0n : deal.volume;
  const fallback = volume - hedged < 0n ? 0n : volume - hedged;
  return { lines, members, lots: formatLots(deal.volume), qualifyingVolume: tier0Volume ?? fallback, hedgedVolume: hedged };
}

interface LineContext {
  deal: DealInput;
  facts: DealFacts;
  member: ChainMember;
  plan: PlanVersion;
  rules: PlanRules;
  qualifyingVolume: bigint;
  reasons: Reason[];
}

function baseInputs(c: LineContext): Record<string, string> {
  const { deal, facts } = c;
  return {
    symbol: deal.symbol,
    volume: deal.volume.toString(),
    dealLots: formatLots(deal.volume),
    qualifyingVolume: c.qualifyingVolume.toString(),
    lots: formatLots(c.qualifyingVolume),
    hedgedVolume: facts.hedged.toString(),
    price: deal.price,
    openPrice: deal.open!.price,
    pointDigits: String(facts.pointDigits),
    movePoints: facts.movePoints.toString(),
    holdSeconds: seconds(facts.holdMs),
  };
}

function line(
  c: LineContext,
  rule: RuleType,
  amount: bigint,
  currency: string,
  rate: string,
  inputs: Record<string, string>,
): LineDraft {
  return {
    partnerId: c.member.partnerId,
    tier: c.member.tier,
    rule,
    amount,
    currency,
    rate,
    inputs,
    planId: c.plan.planId,
    planVersion: c.plan.version,
  };
}

/** rate (decimal money per lot) x lots, in minor units of `currency`, rounded once. */
function perLotAmount(rate: string, qualifyingVolume: bigint, exponent: number): bigint {
  const r = dec(rate, 'per-lot rate');
  return roundHalfEven(r.num * qualifyingVolume * pow10(exponent), pow10(r.scale) * UNITS_PER_LOT);
}

function unknownCurrency(c: LineContext, rule: RuleType, code: string): void {
  c.reasons.push({ code: 'unknown_currency', detail: `${rule}: unknown currency ${JSON.stringify(code).slice(0, 20)}` });
}

function tierZeroLines(c: LineContext): LineDraft[] {
  const { deal, facts, plan, rules, qualifyingVolume } = c;
  const out: LineDraft[] = [];
  const group = Object.hasOwn(rules.symbolGroups, deal.symbol) ? rules.symbolGroups[deal.symbol] : undefined;
  const groupInput: Record<string, string> = group !== undefined ? { group } : {};
  let applicable = false;

  // per_lot: plan currency
  const perLot = rules.perLot ? resolve(rules.perLot, deal.symbol, group) : undefined;
  if (perLot) {
    applicable = true;
    const exp = exponentOf(plan.currency);
    if (exp === undefined) unknownCurrency(c, 'per_lot', plan.currency);
    else {
      const amount = perLotAmount(perLot.value, qualifyingVolume, exp);
      if (amount !== 0n) {
        out.push(
          line(c, 'per_lot', amount, plan.currency, perLot.value, {
            ...baseInputs(c),
            ...groupInput,
            rateUnit: 'per_lot',
            rateSource: perLot.source,
          }),
        );
      }
    }
  }

  const accountExp = exponentOf(deal.currency);
  const volume = deal.volume;

  // spread_share: account currency
  if (rules.spreadShare) {
    const markup = resolve(rules.spreadShare.markupPoints, deal.symbol, group);
    if (markup) {
      applicable = true;
      if (deal.notional === undefined) {
        c.reasons.push({ code: 'no_rate', detail: "spread_share needs the deal's notional" });
      } else if (facts.price.num <= 0n) {
        c.reasons.push({ code: 'no_rate', detail: 'spread_share needs a positive close price' });
      } else if (accountExp === undefined) {
        unknownCurrency(c, 'spread_share', deal.currency);
      } else if (volume > 0n) {
        const notional = absDec(dec(deal.notional, 'notional'));
        const bps = BigInt(rules.spreadShare.shareBps);
        // markup x 10^-d x notional / price, in minor units, x bps / 10,000 x qualifying / volume
        const num = BigInt(markup.value) * notional.num * pow10(facts.price.scale) * pow10(accountExp) * bps * qualifyingVolume;
        const den = pow10(notional.scale) * pow10(facts.pointDigits) * facts.price.num * BPS * volume;
        const amount = roundHalfEven(num, den);
        if (amount !== 0n) {
          out.push(
            line(c, 'spread_share', amount, deal.currency, String(rules.spreadShare.shareBps), {
              ...baseInputs(c),
              ...groupInput,
              rateUnit: 'bps',
              markupPoints: String(markup.value),
              markupSource: markup.source,
              notional: deal.notional,
              markupValue: ratioToDecimal(
                BigInt(markup.value) * notional.num * pow10(facts.price.scale),
                pow10(notional.scale) * pow10(facts.pointDigits) * facts.price.num,
              ),
            }),
          );
        }
      }
    }
  }

  // commission_share: account currency
  if (rules.commissionShare) {
    applicable = true;
    if (accountExp === undefined) unknownCurrency(c, 'commission_share', deal.currency);
    else if (volume > 0n) {
      const open = deal.open!;
      const close = absDec(dec(deal.commission, 'commission'));
      const openC = open.volume > 0n ? absDec(dec(open.commission, 'open.commission')) : { num: 0n, scale: 0 };
      const ov = open.volume > 0n ? open.volume : 1n;
      const bps = BigInt(rules.commissionShare.shareBps);
      // charged x qualifying / volume = close x qualifying / volume + open x qualifying / openVolume
      const chargedNum = close.num * pow10(openC.scale) * ov + openC.num * pow10(close.scale) * volume;
      const chargedDen = pow10(close.scale + openC.scale) * ov;
      const amount = roundHalfEven(chargedNum * pow10(accountExp) * bps * qualifyingVolume, chargedDen * BPS * volume);
      if (amount !== 0n) {
        out.push(
          line(c, 'commission_share', amount, deal.currency, String(rules.commissionShare.shareBps), {
            ...baseInputs(c),
            rateUnit: 'bps',
            commission: deal.commission,
            openCommission: open.commission,
            openVolume: open.volume.toString(),
            charged: ratioToDecimal(chargedNum, chargedDen),
          }),
        );
      }
    }
  }

  if (!applicable) {
    c.reasons.push({
      code: 'no_rate',
      detail: `no per_lot rate for ${deal.symbol}${group !== undefined ? ` (group ${group})` : ''} and no share rule`,
    });
  }
  return out;
}

function overrideLines(c: LineContext, child: readonly LineDraft[]): LineDraft[] {
  const tier = c.member.tier;
  const entry = c.rules.tierOverrides.find((o) => o.tier === tier);
  if (!entry) return [];
  if ('perLot' in entry) {
    const exp = exponentOf(c.plan.currency);
    if (exp === undefined) {
      unknownCurrency(c, 'override', c.plan.currency);
      return [];
    }
    const amount = perLotAmount(entry.perLot, c.qualifyingVolume, exp);
    if (amount === 0n) return [];
    return [
      line(c, 'override', amount, c.plan.currency, entry.perLot, {
        ...baseInputs(c),
        rateUnit: 'per_lot',
        overrideTier: String(tier),
      }),
    ];
  }
  // childShareBps: of the tier k-1 member's lines for this deal, one line per currency (first-seen order)
  const sums = new Map<string, bigint>();
  for (const l of child) sums.set(l.currency, (sums.get(l.currency) ?? 0n) + l.amount);
  const out: LineDraft[] = [];
  const childPartnerId = child[0]?.partnerId;
  for (const [currency, sum] of sums) {
    const amount = roundHalfEven(sum * BigInt(entry.childShareBps), BPS);
    if (amount === 0n) continue;
    out.push(
      line(c, 'override', amount, currency, String(entry.childShareBps), {
        ...baseInputs(c),
        rateUnit: 'bps',
        overrideTier: String(tier),
        childPartnerId: childPartnerId ?? '',
        childAmount: minorString(sum),
      }),
    );
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Hedging

export interface HedgeDeal {
  action: 'buy' | 'sell';
  volume: bigint;
  timeMsc: number;
  deal: number;
  /** The position's opening time; a close without it is taken as unhedged (all its volume can hedge later closes). */
  openTimeMsc?: number;
}

const before = (a: { timeMsc: number; deal: number }, b: { timeMsc: number; deal: number }): boolean =>
  a.timeMsc < b.timeMsc || (a.timeMsc === b.timeMsc && a.deal < b.deal);

/**
 * The volume of `close` already hedged by opposite-side closes of the same account and symbol that closed while it
 * was open (in (openTimeMsc, timeMsc], earlier by (time, deal id)), capped at close.volume. Closes are matched in
 * (time, deal id) order and each consumes the unmatched volume it matches, earliest first, so a volume hedges one
 * opposite leg only. Pass the account's closes of the symbol (both sides, with their openTimeMsc) from at least the
 * earliest open among those in the window; a close outside the list is not counted.
 */
export function hedgedVolume(close: HedgeDeal & { openTimeMsc: number }, others: readonly HedgeDeal[]): bigint {
  const all = [...others.filter((o) => o.deal !== close.deal && before(o, close)), close].sort((a, b) =>
    a.timeMsc !== b.timeMsc ? a.timeMsc - b.timeMsc : a.deal - b.deal,
  );
  /** Unmatched volume of each close processed so far, in order. */
  const free: { d: HedgeDeal; left: bigint }[] = [];
  for (const d of all) {
    const volume = d.volume > 0n ? d.volume : 0n;
    let matched = 0n;
    if (d.openTimeMsc !== undefined) {
      for (const f of free) {
        if (matched >= volume) break;
        if (f.left === 0n || f.d.action === d.action) continue;
        if (!(f.d.timeMsc > d.openTimeMsc && f.d.timeMsc <= d.timeMsc)) continue;
        const take = f.left < volume - matched ? f.left : volume - matched;
        f.left -= take;
        matched += take;
      }
    }
    if (d === close) return matched;
    free.push({ d, left: volume - matched });
  }
  return 0n; // unreachable: close is in `all`
}

// ---------------------------------------------------------------------------------------------------------
// CPA

export interface CpaReferral {
  registeredAt: string;
  firstDeposit?: { amount: bigint; currency: string; at: string };
  /** MT5 units traded within lotsWithinDays of registration. */
  windowVolume: bigint;
}

export type CpaResult =
  | { status: 'qualified'; amount: bigint }
  | { status: 'pending' | 'failed' | 'not_applicable'; reasons: Reason[] };

const instant = (iso: string, what: string): number => {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) throw new RangeError(`evaluateCpa: ${what} is not an ISO instant`);
  return t;
};

/**
 * CPA: whether the referral qualifies now under `rules.cpa` (undefined -> not_applicable). `currency` is the plan's;
 * the amount is rules.cpa.amount in its minor units (rounded half-even once; 0 is possible and gives no line).
 */
export function evaluateCpa(rules: PlanRules, currency: string, r: CpaReferral, nowIso: string): CpaResult {
  const cpa = rules.cpa;
  if (!cpa) return { status: 'not_applicable', reasons: [{ code: 'cpa_not_in_plan', detail: 'the plan pays no CPA' }] };
  const exp = exponentOf(currency);
  if (exp === undefined) {
    return {
      status: 'not_applicable',
      reasons: [{ code: 'unknown_currency', detail: `unknown currency ${currency.slice(0, 12)}` }],
    };
  }
  const registered = instant(r.registeredAt, 'registeredAt');
  const now = instant(nowIso, 'now');
  const depositDeadline = registered + cpa.depositWithinDays * DAY_MS;
  const lotsDeadline = registered + cpa.lotsWithinDays * DAY_MS;
  const failed: Reason[] = [];
  const pending: Reason[] = [];

  const dep = r.firstDeposit;
  if (!dep) {
    if (now > depositDeadline) {
      failed.push({ code: 'deposit_window_over', detail: `no deposit within ${cpa.depositWithinDays} days of registration` });
    } else
      pending.push({ code: 'no_deposit', detail: `no deposit yet; due within ${cpa.depositWithinDays} days of registration` });
  } else {
    // the first deposit is fixed: one that misses is final
    if (dep.currency !== currency) {
      failed.push({
        code: 'deposit_currency',
        detail: `first deposit in ${dep.currency.slice(0, 12)}, the plan pays on ${currency}`,
      });
    } else {
      const min = dec(cpa.minFirstDeposit, 'minFirstDeposit');
      if (dep.amount * pow10(min.scale) < min.num * pow10(exp)) {
        failed.push({ code: 'deposit_too_small', detail: `first deposit below the minimum ${cpa.minFirstDeposit} ${currency}` });
      }
    }
    if (instant(dep.at, 'firstDeposit.at') > depositDeadline) {
      failed.push({
        code: 'deposit_too_late',
        detail: `first deposit more than ${cpa.depositWithinDays} days after registration`,
      });
    }
  }

  const minLots = dec(cpa.minLots, 'minLots');
  // windowVolume >= minLots x 10,000
  if (r.windowVolume * pow10(minLots.scale) < minLots.num * UNITS_PER_LOT) {
    const detail = `${formatLots(r.windowVolume)} lots traded, minimum ${cpa.minLots} within ${cpa.lotsWithinDays} days of registration`;
    if (now > lotsDeadline) failed.push({ code: 'lots_window_over', detail });
    else pending.push({ code: 'lots_below_minimum', detail });
  }

  const reasons = [...failed, ...pending].sort((a, b) => REASON_CODES.indexOf(a.code) - REASON_CODES.indexOf(b.code));
  if (failed.length > 0) return { status: 'failed', reasons };
  if (pending.length > 0) return { status: 'pending', reasons };
  const amount = dec(cpa.amount, 'cpa.amount');
  return { status: 'qualified', amount: roundHalfEven(amount.num * pow10(exp), pow10(amount.scale)) };
}

// ---------------------------------------------------------------------------------------------------------
// Adjustments

export interface StoredLine {
  partnerId: string;
  rule: string;
  currency: string;
  amount: bigint;
  tier: number;
  planId?: string;
  planVersion?: number;
}

const keyOf = (l: { partnerId: string; rule: string; currency: string }): string =>
  JSON.stringify([l.partnerId, l.rule, l.currency]);
const isRuleType = (r: string): r is RuleType => (RULE_TYPES as readonly string[]).includes(r);

/**
 * Adjustments: what must be written so the stored lines of a source sum to the expected ones, per
 * (partnerId, rule, currency); each difference is one new line (kind 'adjustment'); nothing if equal. Stored lines
 * whose rule is not a RuleType (clawback) are ignored. Order: expected keys in first-seen order, then stored-only keys.
 */
export function adjustmentsFor(expected: readonly LineDraft[], stored: readonly StoredLine[]): LineDraft[] {
  const want = new Map<string, { first: LineDraft; sum: bigint }>();
  for (const l of expected) {
    const k = keyOf(l);
    const cur = want.get(k);
    if (cur) cur.sum += l.amount;
    else want.set(k, { first: l, sum: l.amount });
  }
  const have = new Map<string, { last: StoredLine; sum: bigint }>();
  for (const l of stored) {
    if (!isRuleType(l.rule)) continue;
    const k = keyOf(l);
    const cur = have.get(k);
    if (cur) {
      cur.sum += l.amount;
      cur.last = l;
    } else have.set(k, { last: l, sum: l.amount });
  }
  const out: LineDraft[] = [];
  for (const [k, w] of want) {
    const h = have.get(k)?.sum ?? 0n;
    if (w.sum === h) continue;
    out.push({
      ...w.first,
      amount: w.sum - h,
      inputs: { ...w.first.inputs, expectedAmount: minorString(w.sum), storedAmount: minorString(h) },
    });
  }
  for (const [k, h] of have) {
    if (want.has(k) || h.sum === 0n) continue;
    const l = h.last;
    out.push({
      partnerId: l.partnerId,
      tier: l.tier,
      rule: l.rule as RuleType,
      amount: -h.sum,
      currency: l.currency,
      rate: '0',
      inputs: { expectedAmount: '0', storedAmount: minorString(h.sum) },
      planId: l.planId ?? '',
      planVersion: l.planVersion ?? 0,
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Payout schedule

const LOCAL_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Whether a partner with `schedule` is due on the tenant-local date (yyyy-mm-dd): daily every day; weekly Mondays;
 *  monthly the 1st. A malformed date is a programming error (RangeError). */
export function payoutDue(schedule: 'daily' | 'weekly' | 'monthly', localDate: string): boolean {
  const m = LOCAL_DATE.exec(localDate);
  const y = Number(m?.[1]);
  const mo = Number(m?.[2]);
  const d = Number(m?.[3]);
  const t = Date.UTC(y, mo - 1, d);
  const check = new Date(t);
  if (!m || check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d) {
    throw new RangeError(`payoutDue: not a date: ${JSON.stringify(localDate).slice(0, 20)}`);
  }
  if (schedule === 'daily') return true;
  if (schedule === 'weekly') return check.getUTCDay() === 1;
  return d === 1;
}
