/**
 * A partner's accruals over a period (issue 16 part 5), summed per currency and grouped by day, rule or client:
 * GET /v1/partners/me/accruals. The partner is the caller's own (dashboard.ts dashboardPartner).
 *
 * Invariants:
 * - the sums are the exact bigint sums of the partner's own lines (functions/store/partner-accruals.ts
 *   partnerLines) whose accruedAt is in [from, to): accruals, adjustments and clawbacks alike, so a period's sums
 *   are what the partner's payouts of that period net
 * - the period is bounded: from before to (422 invalid_range), at most MAX_ACCRUAL_RANGE_DAYS long (422
 *   range_too_long); nothing is read on a refusal
 * - a day is the tenant-local date of the line's accruedAt (TenantConfig.timezone)
 * - grouped by client, only the partner's own clients (tier 0 lines) are keys; a line earned through a sub-partner
 *   (tier n >= 1) is summed under `tier:<n>`, never under its client id (sub-partners' clients are aggregates only)
 * - every group and the totals are per currency, never converted; groups sorted by key, currencies by code
 * - reads only
 */
import type { Caller } from '#domain/identity/roles.ts';
import { tenantConfig } from '#shared/tenant.ts';
import { type LineItem, partnerLines } from '#store/partner-accruals.ts';
import type { CommandContext } from '../context.ts';
import { dashboardPartner } from './dashboard.ts';
import { boundedPeriod } from './reports.ts';

/** The longest period one request sums. */
export const MAX_ACCRUAL_RANGE_DAYS = 92;

export const ACCRUAL_GROUPS = ['day', 'rule', 'client'] as const;
export type AccrualGroupBy = (typeof ACCRUAL_GROUPS)[number];

export interface CurrencySum {
  currency: string;
  /** Minor units, signed. */
  amount: bigint;
  lines: number;
}

export interface AccrualGroup {
  /** A tenant-local date (day), a rule, or a client id / `tier:<n>` (client). */
  key: string;
  sums: CurrencySum[];
}

export interface PartnerAccruals {
  partnerId: string;
  from: string;
  to: string;
  groupBy: AccrualGroupBy;
  /** The time zone of the days (groupBy day). */
  timeZone: string;
  totals: CurrencySum[];
  groups: AccrualGroup[];
}

/** The tenant-local date (YYYY-MM-DD) of an instant. */
export function localDate(iso: string, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(
    new Date(iso),
  );
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')}`;
}

const keyOf = (l: LineItem, groupBy: AccrualGroupBy, timeZone: string): string => {
  if (groupBy === 'day') return localDate(l.accruedAt, timeZone);
  if (groupBy === 'rule') return l.rule;
  return l.tier === 0 ? l.clientId : `tier:${l.tier}`;
};

class Sums {
  readonly byCurrency = new Map<string, CurrencySum>();
  add(l: LineItem): void {
    const s = this.byCurrency.get(l.currency) ?? { currency: l.currency, amount: 0n, lines: 0 };
    s.amount += BigInt(l.amount);
    s.lines++;
    this.byCurrency.set(l.currency, s);
  }
  list(): CurrencySum[] {
    return [...this.byCurrency.values()].sort((a, b) => (a.currency < b.currency ? -1 : a.currency > b.currency ? 1 : 0));
  }
}

/** The caller's accruals in [from, to), per currency, grouped (module invariants). */
export async function myAccruals(
  input: { from: string; to: string; groupBy: AccrualGroupBy },
  caller: Caller,
  _ctx: CommandContext,
): Promise<PartnerAccruals> {
  const { fromMs, toMs } = boundedPeriod(input.from, input.to, MAX_ACCRUAL_RANGE_DAYS);
  const me = await dashboardPartner(caller);
  const timeZone = tenantConfig().timezone;
  const totals = new Sums();
  const groups = new Map<string, Sums>();
  // partnerLines is (fromExclusive, toInclusive] on accruedAt (millisecond ISO instants): [from, to) is
  // (from - 1 ms, to - 1 ms].
  const after = new Date(fromMs - 1).toISOString();
  const upTo = new Date(toMs - 1).toISOString();
  for await (const page of partnerLines(me.partnerId, after, upTo)) {
    for (const l of page) {
      totals.add(l);
      const key = keyOf(l, input.groupBy, timeZone);
      const g = groups.get(key) ?? new Sums();
      g.add(l);
      groups.set(key, g);
    }
  }
  return {
    partnerId: me.partnerId,
    from: new Date(fromMs).toISOString(),
    to: new Date(toMs).toISOString(),
    groupBy: input.groupBy,
    timeZone,
    totals: totals.list(),
    groups: [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, s]) => ({ key, sums: s.list() })),
  };
}
