/**
 * A partner's referral links and campaigns as a conversion funnel (issue 16 part 5): clicks -> registrations ->
 * verified -> funded -> trading, per link, per campaign and in total. GET /v1/partners/me/links/funnel. The
 * partner is the caller's own (dashboard.ts dashboardPartner).
 *
 * Invariants:
 * - the counts are the links' own counters (functions/store/partners.ts: each ADDed once per referred client and
 *   milestone, in the milestone's transaction), read as stored; a campaign's and the total's are their sums
 * - a conversion is a ratio of two counts of the same funnel as a decimal string with RATIO_DECIMALS decimals,
 *   rounded half-even, exact (bigint arithmetic, never a float); null when its denominator is 0. A registration
 *   may come without a click (a typed code), so registrations per click may exceed 1
 * - links newest first; campaigns by name, links without a campaign under campaign null, last
 * - reads only
 */
import type { Caller } from '#domain/identity/roles.ts';
import { roundHalfEven } from '#domain/money/index.ts';
import { type LinkItem, type LinkKind, linksOf } from '#store/partners.ts';
import type { CommandContext } from '../context.ts';
import { dashboardPartner } from './dashboard.ts';

export const RATIO_DECIMALS = 4;
export const FUNNEL_STEPS = ['clicks', 'registrations', 'verified', 'funded', 'trading'] as const;

export interface Funnel {
  clicks: number;
  registrations: number;
  verified: number;
  funded: number;
  trading: number;
}

export interface Conversion {
  /** registrations / clicks */
  registrationPerClick: string | null;
  /** verified / registrations */
  verifiedPerRegistration: string | null;
  /** funded / verified */
  fundedPerVerified: string | null;
  /** trading / funded */
  tradingPerFunded: string | null;
  /** trading / registrations: the whole funnel after sign-up */
  tradingPerRegistration: string | null;
}

export interface LinkFunnel {
  code: string;
  kind: LinkKind;
  campaign: string | null;
  createdAt: string;
  funnel: Funnel;
  conversion: Conversion;
}

export interface CampaignFunnel {
  campaign: string | null;
  links: number;
  funnel: Funnel;
  conversion: Conversion;
}

export interface PartnerLinkFunnels {
  partnerId: string;
  links: LinkFunnel[];
  campaigns: CampaignFunnel[];
  total: { links: number; funnel: Funnel; conversion: Conversion };
}

/** num / den with RATIO_DECIMALS decimals, half-even; null when den is 0. */
export function ratio(num: number, den: number): string | null {
  if (den === 0) return null;
  const scale = 10n ** BigInt(RATIO_DECIMALS);
  const scaled = roundHalfEven(BigInt(num) * scale, BigInt(den));
  const int = scaled / scale;
  const frac = (scaled % scale).toString().padStart(RATIO_DECIMALS, '0');
  return `${int}.${frac}`;
}

export const conversionOf = (f: Funnel): Conversion => ({
  registrationPerClick: ratio(f.registrations, f.clicks),
  verifiedPerRegistration: ratio(f.verified, f.registrations),
  fundedPerVerified: ratio(f.funded, f.verified),
  tradingPerFunded: ratio(f.trading, f.funded),
  tradingPerRegistration: ratio(f.trading, f.registrations),
});

const funnelOf = (l: LinkItem): Funnel => ({
  clicks: l.clicks,
  registrations: l.registrations,
  verified: l.verified,
  funded: l.funded,
  trading: l.trading,
});

const emptyFunnel = (): Funnel => ({ clicks: 0, registrations: 0, verified: 0, funded: 0, trading: 0 });
const addFunnel = (into: Funnel, f: Funnel) => {
  for (const s of FUNNEL_STEPS) into[s] += f[s];
};

/** The caller's links, campaigns and total as conversion funnels (module invariants). */
export async function myLinkFunnels(caller: Caller, _ctx: CommandContext): Promise<PartnerLinkFunnels> {
  const me = await dashboardPartner(caller);
  const links = (await linksOf(me.partnerId)).sort((a, b) =>
    a.createdAt === b.createdAt ? (a.code < b.code ? -1 : 1) : a.createdAt < b.createdAt ? 1 : -1,
  );
  const campaigns = new Map<string | null, { links: number; funnel: Funnel }>();
  const total = { links: 0, funnel: emptyFunnel() };
  const rows = links.map((l) => {
    const funnel = funnelOf(l);
    const campaign = l.campaign ?? null;
    const c = campaigns.get(campaign) ?? { links: 0, funnel: emptyFunnel() };
    c.links++;
    addFunnel(c.funnel, funnel);
    campaigns.set(campaign, c);
    total.links++;
    addFunnel(total.funnel, funnel);
    return { code: l.code, kind: l.kind, campaign, createdAt: l.createdAt, funnel, conversion: conversionOf(funnel) };
  });
  return {
    partnerId: me.partnerId,
    links: rows,
    campaigns: [...campaigns.entries()]
      .sort(([a], [b]) => (a === b ? 0 : a === null ? 1 : b === null ? -1 : a < b ? -1 : 1))
      .map(([campaign, c]) => ({ campaign, links: c.links, funnel: c.funnel, conversion: conversionOf(c.funnel) })),
    total: { ...total, conversion: conversionOf(total.funnel) },
  };
}
