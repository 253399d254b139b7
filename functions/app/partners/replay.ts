/**
 * Replay of commission accruals (issue 16, ADR 0018): recomputes a period's commissions from the stored deals, the
 * attribution and tree history and the plan versions, and compares them with the stored lines, to the minor unit.
 * The nightly job replays the previous UTC day; staff replay any period on demand.
 *
 * Invariants:
 * - the expected lines come from the same pure function the accrual used (priceDeal -> domain accrueDeal) on the
 *   same stored facts; nothing is read from the lines to compute them
 * - a deal's stored total per (partner, rule, currency) is its accrual and adjustment lines (clawbacks are the
 *   separate reversal of a cause and are not part of what a deal earns)
 * - every closing deal of every referred client's accounts in the period is checked, so a deal whose event was
 *   lost (never accrued) is a mismatch too ('not_accrued'), not a silent gap; so is a deal with lines but no
 *   partner at its time any more (a retroactive detach whose reversal is missing: expected 0)
 * - read-only: a replay writes nothing but its run's record (the job edge); correcting is a re-accrual (adjustments)
 */
import { formatAmount } from '#domain/money/index.ts';
import { sourceLines } from '#store/partner-accruals.ts';
import { childrenOf, type PartnerItem, referralsOf } from '#store/partners.ts';
import { accountDealsBetween, allClientTradingAccounts } from '#store/trading.ts';
import { dealKeyOf, priceDeal } from './accrue.ts';

export const REPLAY_JOB = 'partner-accrual-replay';

export interface ReplayMismatch {
  dealKey: string;
  partnerId: string;
  rule: string;
  currency: string;
  expected: string;
  stored: string;
  kind: 'not_accrued' | 'amount_differs';
}

export interface ReplayResult {
  from: string;
  to: string;
  partners: number;
  clients: number;
  deals: number;
  lines: number;
  /** Per currency: the stored and the recomputed sums of the period's deal lines (decimal strings). */
  totals: { currency: string; stored: string; expected: string }[];
  mismatches: ReplayMismatch[];
  failed: number;
}

const CONCURRENCY = 16;

/** Every partner of the network, walking the tree from its roots. */
async function allPartners(): Promise<PartnerItem[]> {
  const out: PartnerItem[] = [];
  let level = await childrenOf(null);
  while (level.length > 0) {
    out.push(...level);
    const next: PartnerItem[] = [];
    for (const p of level) next.push(...(await childrenOf(p.partnerId)));
    level = next;
  }
  return out;
}

async function pool<T>(items: readonly T[], n: number, work: (t: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (i < items.length) await work(items[i++]!);
    }),
  );
}

export async function replayAccruals(period: { from: string; to: string }): Promise<ReplayResult> {
  const fromMs = Date.parse(period.from);
  const toMs = Date.parse(period.to) - 1;
  const partners = await allPartners();
  const clients = new Set<string>();
  for (const p of partners) for (const r of await referralsOf(p.partnerId)) clients.add(r.clientId);

  const stored = new Map<string, bigint>();
  const expected = new Map<string, bigint>();
  const mismatches: ReplayMismatch[] = [];
  let deals = 0;
  let lines = 0;
  const add = (m: Map<string, bigint>, currency: string, v: bigint) => m.set(currency, (m.get(currency) ?? 0n) + v);

  await pool([...clients], CONCURRENCY, async (clientId) => {
    for (const account of await allClientTradingAccounts(clientId)) {
      const window = await accountDealsBetween(account.accountId, fromMs, toMs);
      for (const d of window) {
        const priced = await priceDeal(d);
        if ('outcome' in priced && priced.outcome !== 'no_partner') continue;
        const dealKey = dealKeyOf(d);
        const have = await sourceLines(dealKey);
        // No partner at the deal's time (a retroactive detach): it should have earned nothing, so what is stored
        // for it (an accrual never reversed) is a mismatch; never accrued, it is not a deal of the network.
        if ('outcome' in priced && have.lines.length === 0) continue;
        const expectedLines = 'outcome' in priced ? [] : priced.accrual.lines;
        deals++;
        const sums = new Map<string, { partnerId: string; rule: string; currency: string; stored: bigint; expected: bigint }>();
        const slot = (partnerId: string, rule: string, currency: string) => {
          const key = `${partnerId}#${rule}#${currency}`;
          const s = sums.get(key) ?? { partnerId, rule, currency, stored: 0n, expected: 0n };
          sums.set(key, s);
          return s;
        };
        for (const l of expectedLines) {
          slot(l.partnerId, l.rule, l.currency).expected += l.amount;
          add(expected, l.currency, l.amount);
        }
        for (const l of have.lines) {
          if (l.kind === 'clawback') continue;
          lines++;
          slot(l.partnerId, l.rule, l.currency).stored += BigInt(l.amount);
          add(stored, l.currency, BigInt(l.amount));
        }
        for (const s of sums.values()) {
          if (s.stored === s.expected) continue;
          mismatches.push({
            dealKey,
            partnerId: s.partnerId,
            rule: s.rule,
            currency: s.currency,
            expected: formatAmount(s.expected, s.currency),
            stored: formatAmount(s.stored, s.currency),
            kind: have.result ? 'amount_differs' : 'not_accrued',
          });
        }
      }
    }
  });

  const currencies = [...new Set([...stored.keys(), ...expected.keys()])].sort();
  return {
    from: period.from,
    to: period.to,
    partners: partners.length,
    clients: clients.size,
    deals,
    lines,
    totals: currencies.map((c) => ({
      currency: c,
      stored: formatAmount(stored.get(c) ?? 0n, c),
      expected: formatAmount(expected.get(c) ?? 0n, c),
    })),
    mismatches: mismatches.sort((a, b) => (a.dealKey < b.dealKey ? -1 : a.dealKey > b.dealKey ? 1 : 0)).slice(0, 500),
    failed: mismatches.length,
  };
}

/** The previous UTC day of `now`: [yesterday 00:00, today 00:00). */
export function previousDay(now: Date): { from: string; to: string } {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return { from: new Date(today - 86_400_000).toISOString(), to: new Date(today).toISOString() };
}
