/**
 * Commission accrual of one closing deal (issue 16, ADR 0018): the deal stream's `trading.deal.closed` (a client's
 * own deal, or a copy/PAMM/MAM deal in an investor's account: the account's client is the investor, so its partner
 * earns) becomes one line per (deal, partner, rule). Rules: domain/partners/accrual.ts; the chain of partners and
 * their plan versions at the deal's time: functions/app/partners/chain.ts.
 *
 * Invariants:
 * - the deal is read from the deal store (the event only names it), and priced with the attribution, the tree and the
 *   plan versions in effect at the deal's time (the platform's time), so a replay prices it the same way
 * - the first evaluation writes the lines (seq 0, kind 'accrual'), the deal's result (why it earned what it earned,
 *   or nothing: every member's reasons), the referral's volume and milestones, an audit entry and
 *   `partner.commission.accrued`: one transaction, conditioned on the result being absent, so a redelivered or
 *   concurrent evaluation cannot add volume twice or write a line twice (one that loses the race evaluates again and
 *   finds the deal done: 'unchanged')
 * - a later evaluation (a retroactive move, a corrected plan assignment) never edits a line: it writes the
 *   difference per (partner, rule, currency) as adjustment lines with the next seq, or nothing when equal; a deal
 *   with no partner at its time any more (a retroactive detach) has everything it earned reversed that way
 * - a CPA is paid once per referred client: its line (source `cpa#<clientId>`) and the referral's cpaPaid flag are
 *   one transaction, whichever event (a deal or the first deposit) completes the qualification; a deal that pays no
 *   CPA commits only if the referral's first deposit and window volume are still as read, so a deposit or another
 *   deal committing meanwhile cannot leave a qualified client unpaid
 * - hedged volume: the closes read start at the earliest open among them, so what an opposite leg has left to hedge
 *   is what the engine's full-history matching leaves it
 */

import { DomainError } from '#domain/errors.ts';
import { formatAmount } from '#domain/money/index.ts';
import {
  accrueDeal,
  adjustmentsFor,
  type ChainMember,
  type DealAccrual,
  type DealInput,
  evaluateCpa,
  type HedgeDeal,
  hedgedVolume,
  type LineDraft,
  pointsToPrice,
} from '#domain/partners/accrual.ts';
import { type AuditInput, commit, systemActor } from '#store/audit.ts';
import type { CommitWrite } from '#store/items.ts';
import { partnerKeys, tradingKeys } from '#store/keys.ts';
import type { OutboxEvent } from '#store/outbox.ts';
import { type LineItem, lineEntity, lineIdOf, type ResultItem, resultEntity, sourceLines } from '#store/partner-accruals.ts';
import { getReferral, linkCounterAdd, type ReferralItem } from '#store/partners.ts';
import { accountDealsBetween, type DealItem, dealEntity, positionDeals } from '#store/trading.ts';
import type { CommandContext } from '../context.ts';
import { chainAt } from './chain.ts';

const ACTOR = systemActor('partner-accruals');
export const ACCRUAL_ENTITY = 'partner-accrual';
const CLOSING_ENTRIES = new Set(['out', 'inout', 'out_by']);

export type AccrueOutcome = 'not_a_close' | 'not_ours' | 'no_partner' | 'accrued' | 'adjusted' | 'unchanged';
export interface AccrueResult {
  outcome: AccrueOutcome;
  lines: number;
}

/** `platform#server#deal` -> the deal's key parts. */
export function parseDealKey(dealKey: string): { platform: string; server: string; deal: number } {
  const first = dealKey.indexOf('#');
  const last = dealKey.lastIndexOf('#');
  const deal = Number(dealKey.slice(last + 1));
  if (first <= 0 || last <= first || !Number.isSafeInteger(deal) || deal < 1) throw new Error(`not a deal key: ${dealKey}`);
  return { platform: dealKey.slice(0, first), server: dealKey.slice(first + 1, last), deal };
}

const isoOf = (ms: number) => new Date(ms).toISOString();
const side = (action: string): 'buy' | 'sell' | undefined => (action === 'buy' || action === 'sell' ? action : undefined);

/** The engine's view of a stored closing deal: its opening deal and the volume hedged while it was open. */
export async function dealInputOf(d: DealItem & { clientId: string; accountId: string }): Promise<DealInput> {
  const action = side(d.action)!;
  const deals = d.positionId > 0 ? await positionDeals(d.platform, d.server, d.positionId) : [];
  const open = deals.find((x) => x.entry === 'in' && x.deal !== d.deal);
  let hedged = 0n;
  if (open) {
    // The same symbol's closes of this account while the position was open, both sides, each with its own
    // position's open time (the engine matches opposite legs earliest first: domain/partners/accrual.ts). What a
    // close in the window has left to hedge depends on what it matched while ITS position was open, so the window
    // starts at the earliest open among its closes (repeated until it no longer moves): a volume already counted
    // on an earlier leg is not counted again.
    const openTimes = new Map<number, Promise<number | undefined>>();
    const openTimeOf = (x: DealItem) => {
      let t = openTimes.get(x.positionId);
      if (!t) {
        t = positionDeals(x.platform, x.server, x.positionId).then((ds) => ds.find((y) => y.entry === 'in')?.timeMsc);
        openTimes.set(x.positionId, t);
      }
      return t;
    };
    let from = open.timeMsc;
    let others: HedgeDeal[];
    for (;;) {
      const window = await accountDealsBetween(d.accountId, from, d.timeMsc);
      const closes = window.filter(
        (x) => x.deal !== d.deal && x.symbol === d.symbol && CLOSING_ENTRIES.has(x.entry) && side(x.action),
      );
      others = await Promise.all(
        closes.map(async (x) => {
          const openTimeMsc = x.positionId > 0 ? await openTimeOf(x) : undefined;
          return {
            action: side(x.action)!,
            volume: BigInt(x.volume),
            timeMsc: x.timeMsc,
            deal: x.deal,
            ...(openTimeMsc !== undefined ? { openTimeMsc } : {}),
          };
        }),
      );
      const earliest = Math.min(from, ...others.map((o) => o.openTimeMsc ?? from));
      if (earliest >= from) break;
      from = earliest;
    }
    hedged = hedgedVolume(
      { action, volume: BigInt(d.volume), timeMsc: d.timeMsc, deal: d.deal, openTimeMsc: open.timeMsc },
      others,
    );
  }
  return {
    dealKey: dealKeyOf(d),
    clientId: d.clientId,
    accountId: d.accountId,
    currency: d.currency,
    symbol: d.symbol,
    action,
    volume: BigInt(d.volume),
    price: pointsToPrice(d.price, d.digits),
    commission: formatAmount(BigInt(d.commission), d.currency),
    ...(d.notional ? { notional: formatAmount(BigInt(d.notional), d.currency) } : {}),
    timeMsc: d.timeMsc,
    ...(open
      ? {
          open: {
            price: pointsToPrice(open.price, open.digits),
            timeMsc: open.timeMsc,
            volume: BigInt(open.volume),
            commission: formatAmount(BigInt(open.commission), open.currency),
          },
        }
      : {}),
    hedgedVolume: hedged,
  };
}

export const dealKeyOf = (d: { platform: string; server: string; deal: number }) => `${d.platform}#${d.server}#${d.deal}`;

/** What a deal should have earned, from the stored facts alone (the accrual and the replay both call this). */
export async function priceDeal(
  d: DealItem,
): Promise<{ input: DealInput; chain: ChainMember[]; accrual: DealAccrual } | { outcome: AccrueOutcome }> {
  if (!CLOSING_ENTRIES.has(d.entry) || !side(d.action)) return { outcome: 'not_a_close' };
  if (!d.clientId || !d.accountId) return { outcome: 'not_ours' };
  const chain = await chainAt(d.clientId, isoOf(d.timeMsc));
  if (chain.length === 0) return { outcome: 'no_partner' };
  const input = await dealInputOf(d as DealItem & { clientId: string; accountId: string });
  return { input, chain, accrual: accrueDeal(input, chain) };
}

/** Another evaluation of the same deal (or a write to the same referral) committed between our reads and our commit. */
const RACED = 'accrual_raced';
const raced = () => new DomainError(RACED, 'conflict', 'Another evaluation of this deal or client committed first; retry');
const ATTEMPTS = 3;

/** Accrues (or re-accrues) one deal's commissions, exactly once per (deal, partner, rule) and seq. */
export async function accrueDealCommissions(dealKey: string, ctx: CommandContext): Promise<AccrueResult> {
  // A concurrent evaluation that committed first makes ours fail on its condition (the result, a line, the
  // referral): evaluating again against what it wrote gives 'unchanged' (or the remaining difference).
  for (let attempt = 1; ; attempt++) {
    try {
      return await evaluate(dealKey, ctx);
    } catch (err) {
      if (!(err instanceof DomainError) || err.code !== RACED || attempt >= ATTEMPTS) throw err;
    }
  }
}

async function evaluate(dealKey: string, ctx: CommandContext): Promise<AccrueResult> {
  const k = parseDealKey(dealKey);
  const d = await dealEntity.get(tradingKeys.deal(k.platform, k.server, k.deal), { consistent: true });
  if (!d) throw new Error(`partner accruals: deal ${dealKey} is not stored`);
  const priced = await priceDeal(d);
  if ('outcome' in priced && priced.outcome !== 'no_partner') return { outcome: priced.outcome, lines: 0 };
  const { lines: stored, result } = await sourceLines(dealKey);
  // No partner at the deal's time: nothing to accrue, unless an earlier evaluation accrued it (a retroactive detach
  // since): then what it wrote is brought to zero by adjustments, like any other change of the chain.
  if ('outcome' in priced && !result) return { outcome: 'no_partner', lines: 0 };
  const detached = 'outcome' in priced;
  const { input, chain, accrual } = 'outcome' in priced ? await unattributed(d) : priced;
  const at = new Date().toISOString();
  if (!result) return firstEvaluation(d, input, chain, accrual, at, ctx);

  const own = stored.filter((l) => l.kind !== 'clawback');
  const drafts = adjustmentsFor(
    accrual.lines,
    own.map((l) => ({
      partnerId: l.partnerId,
      rule: l.rule,
      currency: l.currency,
      amount: BigInt(l.amount),
      tier: l.tier,
      planId: l.planId,
      planVersion: l.planVersion,
    })),
  );
  if (drafts.length === 0) return { outcome: detached ? 'no_partner' : 'unchanged', lines: 0 };
  const lines = numbered(dealKey, drafts, own, 'adjustment', input, at);
  const next = resultItemFields(dealKey, input, accrual, result.lines + lines.length, at);
  await commit({
    writes: [
      ...lines.map((l) => lineEntity.putNew(lineEntity.item(l, at), raced())),
      resultEntity.replace(result, { ...result, ...next }, at, { onRace: raced() }),
    ],
    audit: [auditOf(dealKey, input.clientId, result, next, lines, 'partner.commission.adjusted', ctx)],
    outbox: [accruedEvent(dealKey, input.clientId, 'adjustment', lines)],
  });
  return { outcome: 'adjusted', lines: lines.length };
}

/** A deal priced with no partner chain (it earns nothing). */
async function unattributed(d: DealItem): Promise<{ input: DealInput; chain: ChainMember[]; accrual: DealAccrual }> {
  const input = await dealInputOf(d as DealItem & { clientId: string; accountId: string });
  return { input, chain: [], accrual: accrueDeal(input, []) };
}

async function firstEvaluation(
  d: DealItem,
  input: DealInput,
  chain: ChainMember[],
  accrual: DealAccrual,
  at: string,
  ctx: CommandContext,
): Promise<AccrueResult> {
  const lines = numbered(input.dealKey, accrual.lines, [], 'accrual', input, at);
  const result = resultItemFields(input.dealKey, input, accrual, lines.length, at);
  const referral = await getReferral(input.clientId, { consistent: true });
  const extra = referral ? referralWrites(referral, chain[0]!, accrual, input.volume, d.timeMsc, at) : { writes: [], cpa: [] };
  const outbox: OutboxEvent[] = [];
  if (lines.length > 0) outbox.push(accruedEvent(input.dealKey, input.clientId, 'deal', lines));
  if (extra.cpa.length > 0) outbox.push(accruedEvent(cpaSource(input.clientId), input.clientId, 'cpa', extra.cpa));
  await commit({
    writes: [
      resultEntity.putNew(resultEntity.item(result, at), raced()),
      ...lines.map((l) => lineEntity.putNew(lineEntity.item(l, at), raced())),
      ...extra.cpa.map((l) => lineEntity.putNew(lineEntity.item(l, at), raced())),
      ...extra.writes,
    ],
    audit: [
      { ...auditOf(input.dealKey, input.clientId, null, result, lines, 'partner.commission.accrued', ctx), newEntity: true },
    ],
    outbox,
  });
  return { outcome: 'accrued', lines: lines.length + extra.cpa.length };
}

export const cpaSource = (clientId: string) => `cpa#${clientId}`;

type LineFields = Parameters<typeof lineEntity.item>[0];

/** Drafts -> line items' fields, each (partner, rule) numbered after the stored lines of the same source. */
function numbered(
  sourceKey: string,
  drafts: readonly LineDraft[],
  stored: readonly LineItem[],
  kind: 'accrual' | 'adjustment',
  input: { clientId: string; accountId?: string; timeMsc: number },
  at: string,
): LineFields[] {
  const next = new Map<string, number>();
  for (const l of stored) {
    const key = `${l.partnerId}#${l.rule}`;
    next.set(key, Math.max(next.get(key) ?? 0, l.seq + 1));
  }
  return drafts.map((dr) => {
    const key = `${dr.partnerId}#${dr.rule}`;
    const seq = next.get(key) ?? 0;
    next.set(key, seq + 1);
    return {
      lineId: lineIdOf(sourceKey, dr.partnerId, dr.rule, seq),
      sourceKey,
      kind,
      seq,
      partnerId: dr.partnerId,
      tier: dr.tier,
      rule: dr.rule,
      amount: dr.amount.toString(),
      currency: dr.currency,
      rate: dr.rate,
      inputs: dr.inputs,
      planId: dr.planId,
      planVersion: dr.planVersion,
      clientId: input.clientId,
      ...(input.accountId ? { accountId: input.accountId } : {}),
      dealTimeMsc: input.timeMsc,
      accruedAt: at,
    };
  });
}

function resultItemFields(sourceKey: string, input: DealInput, a: DealAccrual, lines: number, at: string) {
  return {
    sourceKey,
    clientId: input.clientId,
    accountId: input.accountId,
    dealTimeMsc: input.timeMsc,
    symbol: input.symbol,
    lots: a.lots,
    volume: input.volume.toString(),
    qualifyingVolume: a.qualifyingVolume.toString(),
    hedgedVolume: a.hedgedVolume.toString(),
    chain: a.members.map((m) => ({
      partnerId: m.partnerId,
      tier: m.tier,
      planId: m.planId,
      planVersion: m.planVersion,
      qualified: m.qualified,
      reasons: m.reasons.map((r) => ({ code: r.code, detail: r.detail })),
    })),
    reasons: input.open ? [] : [{ code: 'no_opening_deal', detail: 'the position’s opening deal is not in the deal store' }],
    lines,
    evaluatedAt: at,
  };
}

/**
 * The referral's side of a first evaluation: volume, first and last trade (the link's `trading` counter the first
 * time), the CPA window's volume, and the CPA line when this deal completes the qualification.
 */
function referralWrites(
  r: ReferralItem,
  direct: ChainMember,
  a: DealAccrual,
  volume: bigint,
  dealTimeMsc: number,
  at: string,
): { writes: CommitWrite[]; cpa: LineFields[] } {
  const tierZero = a.members.find((m) => m.tier === 0);
  const counted = tierZero?.qualified ? a.qualifyingVolume : 0n;
  const cpaRule = direct.rules?.cpa;
  const windowEnd = cpaRule ? Date.parse(r.registeredAt) + cpaRule.lotsWithinDays * 86_400_000 : 0;
  const inWindow = cpaRule !== undefined && dealTimeMsc <= windowEnd;
  const windowVolume = BigInt(r.windowVolume ?? 0) + (inWindow ? counted : 0n);
  const cpa = r.cpaPaid ? [] : cpaLines(r, direct, windowVolume, at);
  const names: Record<string, string> = {
    '#vol': 'volume',
    '#wv': 'windowVolume',
    '#last': 'lastTradeAt',
    '#first': 'firstTradeAt',
  };
  const values: Record<string, unknown> = {
    ':v': Number(volume),
    ':w': inWindow ? Number(counted) : 0,
    ':t': isoOf(dealTimeMsc),
  };
  const sets = ['#last = :t', '#first = if_not_exists(#first, :t)'];
  const conditions = ['attribute_exists(pk)'];
  if (cpa.length > 0) {
    names['#cpa'] = 'cpaPaid';
    values[':yes'] = true;
    values[':no'] = false;
    sets.push('#cpa = :yes');
    conditions.push('(attribute_not_exists(#cpa) OR #cpa = :no)');
  }
  if (cpaRule && inWindow && !r.cpaPaid && cpa.length === 0) {
    // No CPA on what was read: a first deposit or another deal of the client committed meanwhile could complete it,
    // so this commit holds only if neither did (else raced: evaluated again on the new referral).
    values[':wvRead'] = Number(r.windowVolume ?? 0);
    conditions.push('#wv = :wvRead');
    if (!r.firstDeposit) {
      names['#fd'] = 'firstDeposit';
      conditions.push('attribute_not_exists(#fd)');
    }
  }
  const firstTrade = !r.firstTradeAt;
  if (firstTrade) conditions.push('attribute_not_exists(#first)');
  const writes: CommitWrite[] = [
    {
      Update: {
        Key: partnerKeys.referral(r.clientId),
        UpdateExpression: `SET ${sets.join(', ')} ADD #vol :v, #wv :w`,
        ConditionExpression: conditions.join(' AND '),
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      },
      conditionFailedError: raced(),
    },
  ];
  if (firstTrade && r.code) writes.push(linkCounterAdd(r.code, 'trading'));
  return { writes, cpa };
}

/** The CPA line when the referral qualifies now under its direct partner's plan (none otherwise). */
export function cpaLines(r: ReferralItem, direct: ChainMember, windowVolume: bigint, at: string): LineFields[] {
  const { plan, rules } = direct;
  const cpa = rules?.cpa;
  if (!plan || !rules || !cpa || r.cpaPaid) return [];
  const outcome = evaluateCpa(
    rules,
    plan.currency,
    {
      registeredAt: r.registeredAt,
      ...(r.firstDeposit
        ? { firstDeposit: { amount: BigInt(r.firstDeposit.amount), currency: r.firstDeposit.currency, at: r.firstDeposit.at } }
        : {}),
      windowVolume,
    },
    at,
  );
  if (outcome.status !== 'qualified' || outcome.amount === 0n) return [];
  const source = cpaSource(r.clientId);
  return [
    {
      lineId: lineIdOf(source, direct.partnerId, 'cpa', 0),
      sourceKey: source,
      kind: 'accrual',
      seq: 0,
      partnerId: direct.partnerId,
      tier: 0,
      rule: 'cpa',
      amount: outcome.amount.toString(),
      currency: plan.currency,
      rate: cpa.amount,
      inputs: {
        registeredAt: r.registeredAt,
        firstDeposit: r.firstDeposit ? formatAmount(BigInt(r.firstDeposit.amount), r.firstDeposit.currency) : '',
        firstDepositAt: r.firstDeposit?.at ?? '',
        minFirstDeposit: cpa.minFirstDeposit,
        depositWithinDays: String(cpa.depositWithinDays),
        windowLots: lotsOf(windowVolume),
        minLots: cpa.minLots,
        lotsWithinDays: String(cpa.lotsWithinDays),
      },
      planId: plan.planId,
      planVersion: plan.version,
      clientId: r.clientId,
      dealTimeMsc: Date.parse(at),
      accruedAt: at,
    },
  ];
}

const lotsOf = (volume: bigint) => formatAmount(volume / 100n, 'USD');

function auditOf(
  sourceKey: string,
  clientId: string,
  before: ResultItem | null,
  after: unknown,
  lines: readonly LineFields[],
  action: string,
  ctx: CommandContext,
): AuditInput {
  return {
    actor: ACTOR,
    action,
    entity: { type: ACCRUAL_ENTITY, id: sourceKey },
    clientId,
    before: before ? { lines: before.lines } : null,
    after: { result: after, lines: lines.map((l) => ({ lineId: l.lineId, amount: l.amount, currency: l.currency })) },
    requestId: ctx.requestId,
  };
}

export function accruedEvent(
  sourceKey: string,
  clientId: string,
  kind: 'deal' | 'cpa' | 'adjustment',
  lines: readonly LineFields[],
): OutboxEvent {
  return {
    detailType: 'partner.commission.accrued',
    detail: {
      sourceKey,
      clientId,
      kind,
      lines: lines.map((l) => ({
        lineId: l.lineId,
        partnerId: l.partnerId,
        rule: l.rule,
        tier: l.tier,
        amount: formatAmount(BigInt(l.amount), l.currency),
        currency: l.currency,
      })),
    },
  };
}
