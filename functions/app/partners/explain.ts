/**
 * The staff explanation of one deal's commissions (issue 16 part 5): "why did partner X earn 3.20 on deal Y".
 * GET /v1/admin/partner-deals/{dealKey}/explanation, for PARTNER_READERS (compliance, finance, admins).
 *
 * Invariants:
 * - the explanation is the stored facts side by side with a recomputation now: the deal as stored; the deal's
 *   stored result (the chain, each member's plan version, whether it qualified and why not) and every stored line
 *   of the deal with its kind, rate, inputs and plan version; the clawback lines that reversed any of them; and
 *   priceDeal's result from the same stored facts (functions/app/partners/accrue.ts, the function the accrual and
 *   the replay use), with the chain and its reasons and the expected lines
 * - `equal` compares per (partner, rule, currency) the stored accrual and adjustment lines' sum with the
 *   recomputed sum, exactly (bigint), as the replay does: clawbacks are a separate cause's reversal, not what the
 *   deal earned, so they are shown but not compared. A deal that prices to nothing (not a close, no partner at its
 *   time) expects no line
 * - a deal key is `platform#server#deal` (400 invalid_deal_key otherwise); an unknown deal is 404 deal_not_found
 * - reads only; callers without a PARTNER_READERS role are refused (403 forbidden_role)
 */
import { DomainError } from '#domain/errors.ts';
import type { Caller } from '#domain/identity/roles.ts';
import type { LineDraft, Reason } from '#domain/partners/accrual.ts';
import { tradingKeys } from '#store/keys.ts';
import { clientLinesFrom, type LineItem, type ResultItem, sourceLines } from '#store/partner-accruals.ts';
import { type DealItem, dealEntity } from '#store/trading.ts';
import type { CommandContext } from '../context.ts';
import { PARTNER_READERS } from './access.ts';
import { type AccrueOutcome, parseDealKey, priceDeal } from './accrue.ts';
import type { ChainEntry } from './chain.ts';
import { assertStaff } from './reports.ts';

export { PARTNER_READERS as EXPLANATION_READERS } from './access.ts';

export const invalidDealKey = () =>
  new DomainError('invalid_deal_key', 'validation', 'A deal key is platform#server#deal', [
    { field: 'dealKey', code: 'invalid_deal_key', message: 'Not platform#server#deal' },
  ]);
export const dealNotFound = () =>
  new DomainError('deal_not_found', 'not_found', 'No stored deal with this key', [
    { field: 'dealKey', code: 'deal_not_found', message: 'Unknown deal' },
  ]);

export interface RecomputedMember {
  partnerId: string;
  tier: number;
  /** The plan version in effect at the deal's time (null: none up the chain). */
  planId: string | null;
  planVersion: number | null;
  /** The partner whose assignment gave the plan (itself or the ancestor it inherits from). */
  planFrom: string | null;
  qualified: boolean;
  reasons: Reason[];
}

export interface Comparison {
  partnerId: string;
  rule: string;
  currency: string;
  /** Minor units: the stored accrual + adjustment lines. */
  stored: bigint;
  /** Minor units: recomputed now. */
  expected: bigint;
  equal: boolean;
}

export interface DealExplanation {
  dealKey: string;
  deal: DealItem;
  stored: {
    result: ResultItem | null;
    /** The deal's accrual and adjustment lines, by line id. */
    lines: LineItem[];
    /** Lines of clawback causes that reversed one of the deal's lines. */
    clawbacks: LineItem[];
  };
  recomputed: {
    /** 'priced', or why the deal earns nothing (not_a_close, not_ours, no_partner). */
    outcome: 'priced' | AccrueOutcome;
    members: RecomputedMember[];
    lines: LineDraft[];
    lots: string | null;
    qualifyingVolume: bigint | null;
    hedgedVolume: bigint | null;
    /** The opening deal the recomputation used (null: not found, nothing qualifies). */
    open: { price: string; timeMsc: number; volume: bigint } | null;
  };
  comparison: Comparison[];
  /** Every comparison is equal. */
  equal: boolean;
}

const byLineId = (a: LineItem, b: LineItem) => (a.lineId < b.lineId ? -1 : a.lineId > b.lineId ? 1 : 0);

/** The clawback lines of any cause that reverse one of `lines` (a clawback keeps its original's deal time). */
async function clawbacksOf(clientId: string, dealTimeMsc: number, lines: readonly LineItem[]): Promise<LineItem[]> {
  const ids = new Set(lines.map((l) => l.lineId));
  if (ids.size === 0) return [];
  const out: LineItem[] = [];
  for await (const page of clientLinesFrom(clientId, dealTimeMsc)) {
    for (const l of page) {
      if (l.dealTimeMsc > dealTimeMsc) return out.sort(byLineId);
      if (l.kind === 'clawback' && l.clawsBack && ids.has(l.clawsBack)) out.push(l);
    }
  }
  return out.sort(byLineId);
}

/** Staff: a deal's stored commissions, why, and whether a recomputation now gives the same (module invariants). */
export async function explainDeal(input: { dealKey: string }, caller: Caller, _ctx: CommandContext): Promise<DealExplanation> {
  assertStaff(caller, PARTNER_READERS);
  let key: { platform: string; server: string; deal: number };
  try {
    key = parseDealKey(input.dealKey);
  } catch {
    throw invalidDealKey();
  }
  const deal = await dealEntity.get(tradingKeys.deal(key.platform, key.server, key.deal), { consistent: true });
  if (!deal) throw dealNotFound();
  const [{ lines: all, result }, priced] = await Promise.all([sourceLines(input.dealKey), priceDeal(deal)]);
  const lines = all.filter((l) => l.kind !== 'clawback').sort(byLineId);
  const clawbacks = deal.clientId ? await clawbacksOf(deal.clientId, deal.timeMsc, lines) : [];

  const sums = new Map<string, Comparison>();
  const slot = (partnerId: string, rule: string, currency: string) => {
    const k = `${partnerId}#${rule}#${currency}`;
    const s = sums.get(k) ?? { partnerId, rule, currency, stored: 0n, expected: 0n, equal: true };
    sums.set(k, s);
    return s;
  };
  for (const l of lines) slot(l.partnerId, l.rule, l.currency).stored += BigInt(l.amount);

  let recomputed: DealExplanation['recomputed'];
  if ('outcome' in priced) {
    recomputed = {
      outcome: priced.outcome,
      members: [],
      lines: [],
      lots: null,
      qualifyingVolume: null,
      hedgedVolume: null,
      open: null,
    };
  } else {
    const planFrom = new Map((priced.chain as ChainEntry[]).map((m) => [m.partnerId, m.planFrom ?? null]));
    for (const l of priced.accrual.lines) slot(l.partnerId, l.rule, l.currency).expected += l.amount;
    recomputed = {
      outcome: 'priced',
      members: priced.accrual.members.map((m) => ({
        partnerId: m.partnerId,
        tier: m.tier,
        planId: m.planId || null,
        planVersion: m.planId ? m.planVersion : null,
        planFrom: planFrom.get(m.partnerId) ?? null,
        qualified: m.qualified,
        reasons: m.reasons,
      })),
      lines: priced.accrual.lines,
      lots: priced.accrual.lots,
      qualifyingVolume: priced.accrual.qualifyingVolume,
      hedgedVolume: priced.accrual.hedgedVolume,
      open: priced.input.open
        ? { price: priced.input.open.price, timeMsc: priced.input.open.timeMsc, volume: priced.input.open.volume }
        : null,
    };
  }
  const comparison = [...sums.values()]
    .map((s) => ({ ...s, equal: s.stored === s.expected }))
    .sort((a, b) => {
      const x = `${a.partnerId}#${a.rule}#${a.currency}`;
      const y = `${b.partnerId}#${b.rule}#${b.currency}`;
      return x < y ? -1 : x > y ? 1 : 0;
    });
  return {
    dealKey: input.dealKey,
    deal,
    stored: { result: result ?? null, lines, clawbacks },
    recomputed,
    comparison,
    equal: comparison.every((c) => c.equal),
  };
}
