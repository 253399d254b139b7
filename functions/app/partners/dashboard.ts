/**
 * The partner dashboard (issue 16 part 5), what a partner reads about its own business: its network tree with
 * counts (myNetwork) and the clients it referred (myReferredClients). Its accruals: dashboard-accruals.ts; its
 * links' conversion funnel: dashboard-links.ts. All of them start from dashboardPartner().
 *
 * Invariants:
 * - the partner is the caller's own partner record (found by the caller's client id, never by an id it passes);
 *   a caller without one is 404 partner_not_found, one not approved 409 partner_not_approved; nothing here takes
 *   another partner's id, so another partner's data cannot be asked for
 * - the network is the CURRENT tree under the partner (the children index, the current referrals): depth is
 *   relative to the caller (0: itself), its own upline is never shown (the root node has no parentId), and at most
 *   MAX_NETWORK_PARTNERS partners are read (then `truncated`)
 * - sub-partners' clients are visible to an ancestor only as counts and aggregates (per node, per tier, in total),
 *   never as rows: myReferredClients lists the caller's own referrals only
 * - a referred client is shown with what a partner may see, whitelisted field by field (clientRow): its client id,
 *   first name and last initial, country of residence, registration time, KYC stage, first deposit, volume in
 *   lots, active or dormant, link code and campaign. Never its documents, address, email, phone, date of birth,
 *   full last name or personal details (a test asserts these keys are absent)
 * - the KYC stage is 'verified' once the referral's verified milestone is set (or the profile is approved),
 *   'pending' while verification is under way (in review, action required, or rejected: why a client is not
 *   verified is compliance's business, not the partner's), else 'not_started'
 * - a client is 'active' when its last trade is within DORMANT_AFTER_DAYS of now, else 'dormant' (never traded
 *   included)
 * - reads only
 */
import type { Caller } from '#domain/identity/roles.ts';
import { formatLots } from '#domain/partners/accrual.ts';
import { type ClientProfileItem, clientEntity } from '#store/clients.ts';
import { clientKeys } from '#store/keys.ts';
import type { Page } from '#store/pagination.ts';
import {
  childrenOf,
  listReferrals,
  type PartnerItem,
  type PartnerStatus,
  type ReferralItem,
  referralsOf,
} from '#store/partners.ts';
import type { CommandContext } from '../context.ts';
import { ownApprovedPartner } from './access.ts';

/** No trade in this many days: the client is dormant (the tenant config has no dormancy setting yet). */
export const DORMANT_AFTER_DAYS = 30;
/** The most partners myNetwork reads (the caller included); a larger network is `truncated`. */
export const MAX_NETWORK_PARTNERS = 1_000;
const DAY_MS = 86_400_000;
const CONCURRENCY = 16;

/** The caller's own approved partner record (module invariants). */
export const dashboardPartner = (caller: Caller): Promise<PartnerItem> => ownApprovedPartner(caller);

const nowOf = (ctx: CommandContext) => ctx.now ?? new Date();

export const isActive = (r: Pick<ReferralItem, 'lastTradeAt'>, now: Date) =>
  r.lastTradeAt !== undefined && Date.parse(r.lastTradeAt) >= now.getTime() - DORMANT_AFTER_DAYS * DAY_MS;

async function mapLimit<T, U>(items: readonly T[], n: number, work: (t: T) => Promise<U>): Promise<U[]> {
  const out = new Array<U>(items.length);
  let i = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (i < items.length) {
        const k = i++;
        out[k] = await work(items[k]!);
      }
    }),
  );
  return out;
}

// ------------------------------------------------------------------------------------------------ network

/** Aggregates of a set of referred clients (never the clients themselves). */
export interface ClientTotals {
  clients: number;
  verified: number;
  funded: number;
  /** Traded at least once. */
  trading: number;
  /** Traded within DORMANT_AFTER_DAYS. */
  active: number;
  /** MT5 volume units of every closed deal. */
  volume: bigint;
  /** Their first deposits, summed per currency (minor units). */
  firstDeposits: Map<string, bigint>;
}

const emptyTotals = (): ClientTotals => ({
  clients: 0,
  verified: 0,
  funded: 0,
  trading: 0,
  active: 0,
  volume: 0n,
  firstDeposits: new Map(),
});

function addReferral(t: ClientTotals, r: ReferralItem, now: Date): void {
  t.clients++;
  if (r.verifiedAt) t.verified++;
  if (r.firstDeposit) {
    t.funded++;
    t.firstDeposits.set(
      r.firstDeposit.currency,
      (t.firstDeposits.get(r.firstDeposit.currency) ?? 0n) + BigInt(r.firstDeposit.amount),
    );
  }
  if (r.firstTradeAt || r.lastTradeAt) t.trading++;
  if (isActive(r, now)) t.active++;
  t.volume += BigInt(r.volume);
}

function addTotals(into: ClientTotals, t: ClientTotals): void {
  into.clients += t.clients;
  into.verified += t.verified;
  into.funded += t.funded;
  into.trading += t.trading;
  into.active += t.active;
  into.volume += t.volume;
  for (const [c, a] of t.firstDeposits) into.firstDeposits.set(c, (into.firstDeposits.get(c) ?? 0n) + a);
}

export interface NetworkNode {
  partnerId: string;
  name?: string | undefined;
  /** The node's parent in the tree; null for the caller (its own upline is not shown). */
  parentId: string | null;
  /** 0: the caller; 1: its direct sub-partners; ... */
  depth: number;
  status: PartnerStatus;
  /** Direct sub-partners (all statuses). */
  subPartners: number;
  /** The node's own referred clients, as aggregates. */
  totals: ClientTotals;
}

export interface TierCounts {
  depth: number;
  partners: number;
  totals: ClientTotals;
}

export interface PartnerNetwork {
  partnerId: string;
  asOf: string;
  /** Breadth first: the caller, then each depth in turn. */
  nodes: NetworkNode[];
  /** Per depth (0: the caller's own clients). */
  tiers: TierCounts[];
  /** The whole network's (the caller's own clients included). */
  totals: ClientTotals & { partners: number };
  /** More than MAX_NETWORK_PARTNERS partners: the deepest ones were not read. */
  truncated: boolean;
}

/** The caller's network: its current sub-partners at every depth, with counts and aggregates (no client rows). */
export async function myNetwork(caller: Caller, ctx: CommandContext): Promise<PartnerNetwork> {
  const me = await dashboardPartner(caller);
  const now = nowOf(ctx);
  const nodes: NetworkNode[] = [];
  let truncated = false;
  let level: { partner: PartnerItem; parentId: string | null }[] = [{ partner: me, parentId: null }];
  for (let depth = 0; level.length > 0; depth++) {
    const read = await mapLimit(level, CONCURRENCY, async ({ partner, parentId }) => {
      const [children, referrals] = await Promise.all([childrenOf(partner.partnerId), referralsOf(partner.partnerId)]);
      const totals = emptyTotals();
      for (const r of referrals) addReferral(totals, r, now);
      const node: NetworkNode = {
        partnerId: partner.partnerId,
        ...(partner.name ? { name: partner.name } : {}),
        parentId,
        depth,
        status: partner.status,
        subPartners: children.length,
        totals,
      };
      return { node, children };
    });
    const next: typeof level = [];
    for (const { node, children } of read) {
      nodes.push(node);
      for (const c of children.sort((a, b) => (a.partnerId < b.partnerId ? -1 : 1))) {
        next.push({ partner: c, parentId: node.partnerId });
      }
    }
    const room = MAX_NETWORK_PARTNERS - nodes.length;
    if (next.length > room) truncated = true;
    level = next.slice(0, Math.max(0, room));
  }

  const tiers = new Map<number, TierCounts>();
  const totals = { ...emptyTotals(), partners: 0 };
  for (const n of nodes) {
    const tier = tiers.get(n.depth) ?? { depth: n.depth, partners: 0, totals: emptyTotals() };
    tier.partners++;
    addTotals(tier.totals, n.totals);
    tiers.set(n.depth, tier);
    totals.partners++;
    addTotals(totals, n.totals);
  }
  return {
    partnerId: me.partnerId,
    asOf: now.toISOString(),
    nodes,
    tiers: [...tiers.values()].sort((a, b) => a.depth - b.depth),
    totals,
    truncated,
  };
}

// ------------------------------------------------------------------------------------------------ referred clients

export const KYC_STAGES = ['not_started', 'pending', 'verified'] as const;
export type KycStage = (typeof KYC_STAGES)[number];

/** One referred client, as a partner may see it (module invariants: nothing else is ever copied in). */
export interface ReferredClientRow {
  clientId: string;
  /** First name and last initial ("Anna E."); null when the profile has no name. */
  displayName: string | null;
  country: string | null;
  registeredAt: string;
  kycStage: KycStage;
  /** Minor units. */
  firstDeposit: { amount: bigint; currency: string; at: string } | null;
  /** Lots with at least 2 decimals. */
  volumeLots: string;
  activity: 'active' | 'dormant';
  lastTradeAt: string | null;
  code: string | null;
  campaign: string | null;
}

export function kycStageOf(r: ReferralItem, profile: ClientProfileItem | undefined): KycStage {
  if (r.verifiedAt || profile?.kycStatus === 'approved') return 'verified';
  const s = profile?.kycStatus;
  return s === 'in_review' || s === 'action_required' || s === 'rejected' ? 'pending' : 'not_started';
}

/** "Anna Maria" + "Eriksson" -> "Anna Maria E."; the first name alone without a last name; null without either. */
export function displayNameOf(profile: ClientProfileItem | undefined): string | null {
  const first = profile?.firstName.trim() ?? '';
  const initial = [...(profile?.lastName.trim() ?? '')][0];
  const name = [first, initial ? `${initial.toUpperCase()}.` : ''].filter((s) => s !== '').join(' ');
  return name === '' ? null : name;
}

/** The whitelist: a referral and its client's profile -> what the partner sees. */
export function clientRow(r: ReferralItem, profile: ClientProfileItem | undefined, now: Date): ReferredClientRow {
  return {
    clientId: r.clientId,
    displayName: displayNameOf(profile),
    country: profile?.countryOfResidence || null,
    registeredAt: r.registeredAt,
    kycStage: kycStageOf(r, profile),
    firstDeposit: r.firstDeposit
      ? { amount: BigInt(r.firstDeposit.amount), currency: r.firstDeposit.currency, at: r.firstDeposit.at }
      : null,
    volumeLots: formatLots(BigInt(r.volume)),
    activity: isActive(r, now) ? 'active' : 'dormant',
    lastTradeAt: r.lastTradeAt ?? null,
    code: r.code ?? null,
    campaign: r.campaign ?? null,
  };
}

/** The caller's own referred clients, newest registration first (sub-partners' clients: counts only, myNetwork). */
export async function myReferredClients(
  input: { limit: number; cursor?: string | undefined },
  caller: Caller,
  ctx: CommandContext,
): Promise<Page<ReferredClientRow>> {
  const me = await dashboardPartner(caller);
  const now = nowOf(ctx);
  const page = await listReferrals(me.partnerId, input);
  const profiles = new Map(
    (await clientEntity.getMany(page.items.map((r) => clientKeys.key(r.clientId)))).map((p) => [p.clientId, p]),
  );
  return {
    items: page.items.map((r) => clientRow(r, profiles.get(r.clientId), now)),
    hasMore: page.hasMore,
    ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
  };
}
