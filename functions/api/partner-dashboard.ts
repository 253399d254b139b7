/**
 * The partner dashboard (issue 16 part 5): a partner's network tree with counts, its referred clients, its
 * accruals by day, rule or client, and its links' conversion funnel. Use cases: functions/app/partners/dashboard.ts,
 * dashboard-accruals.ts, dashboard-links.ts. (Its payouts: partner-payouts.ts.)
 *
 * Invariants:
 * - every route is /v1/partners/me/...: the partner is the caller's own approved partner record, found by its
 *   client id; no route takes a partner id, so another partner's data cannot be named. A client who is not a
 *   partner is 404 partner_not_found, a partner not approved 409 partner_not_approved
 * - sub-partners' clients are counts and aggregates only (the network's nodes and tiers, `tier:<n>` accrual
 *   groups); the client list is the caller's own referrals, each with only what a partner may see (no documents,
 *   address, email, phone or date of birth)
 * - money is { amount, currency } with the currency's decimals (decimal strings), never converted; volumes are lots
 *   (decimal strings); conversion ratios are decimal strings with 4 decimals, or null over a zero count
 * - accruals: from and to are ISO date-times, [from, to) (400 validation_failed when malformed), from before to
 *   (422 invalid_range), at most 92 days apart (422 range_too_long); groupBy day (tenant-local dates), rule or
 *   client (default day)
 */
import * as z from 'zod';
import {
  type ClientTotals,
  KYC_STAGES,
  myNetwork,
  myReferredClients,
  type PartnerNetwork,
  type ReferredClientRow,
} from '#app/partners/dashboard.ts';
import { ACCRUAL_GROUPS, type CurrencySum, myAccruals, type PartnerAccruals } from '#app/partners/dashboard-accruals.ts';
import { myLinkFunnels } from '#app/partners/dashboard-links.ts';
import type { Role } from '#domain/identity/roles.ts';
import { formatAmount } from '#domain/money/index.ts';
import { formatLots } from '#domain/partners/accrual.ts';
import { defineRoute, httpHandler } from '#middleware/http.ts';
import { cursorParam, limitParam, pageBody, pageSchema } from './shared/pages.ts';

/** Partners act with their client token (as /v1/partners/me/payouts). */
const PARTNER: readonly Role[] = ['client', 'partner'];

const Money = z.object({ amount: z.string(), currency: z.string() });
const money = (minor: bigint, currency: string) => ({ amount: formatAmount(minor, currency), currency });
const isoInstant = z.iso.datetime({ offset: true }).max(40);

// ------------------------------------------------------------------------------------------------ network

const TotalsView = z
  .object({
    clients: z.number().int().meta({ description: 'Referred clients' }),
    verified: z.number().int(),
    funded: z.number().int(),
    trading: z.number().int().meta({ description: 'Traded at least once' }),
    active: z.number().int().meta({ description: 'Traded in the last 30 days' }),
    volumeLots: z.string().meta({ description: 'Lots of every closed deal' }),
    firstDeposits: z.array(Money).meta({ description: 'Their first deposits, summed per currency' }),
  })
  .meta({ description: 'Aggregates of referred clients (never the clients themselves)' });
const totalsView = (t: ClientTotals) => ({
  clients: t.clients,
  verified: t.verified,
  funded: t.funded,
  trading: t.trading,
  active: t.active,
  volumeLots: formatLots(t.volume),
  firstDeposits: [...t.firstDeposits.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([c, a]) => money(a, c)),
});

export const NetworkView = z.object({
  partnerId: z.string(),
  asOf: z.string(),
  nodes: z.array(
    z.object({
      partnerId: z.string(),
      name: z.string().optional(),
      parentId: z.string().nullable().meta({ description: 'null for you (your own upline is not shown)' }),
      depth: z.number().int().meta({ description: '0: you; 1: your direct sub-partners; ...' }),
      status: z.enum(['pending', 'approved', 'rejected', 'suspended']),
      subPartners: z.number().int().meta({ description: 'Direct sub-partners' }),
      clients: z.number().int().meta({ description: "The node's own referred clients" }),
      totals: TotalsView,
    }),
  ),
  tiers: z.array(z.object({ depth: z.number().int(), partners: z.number().int(), totals: TotalsView })),
  totals: TotalsView.extend({ partners: z.number().int() }),
  truncated: z.boolean().meta({ description: 'More than 1,000 partners: the deepest were not read' }),
});
const networkView = (n: PartnerNetwork) => ({
  partnerId: n.partnerId,
  asOf: n.asOf,
  nodes: n.nodes.map((node) => ({
    partnerId: node.partnerId,
    ...(node.name ? { name: node.name } : {}),
    parentId: node.parentId,
    depth: node.depth,
    status: node.status,
    subPartners: node.subPartners,
    clients: node.totals.clients,
    totals: totalsView(node.totals),
  })),
  tiers: n.tiers.map((t) => ({ depth: t.depth, partners: t.partners, totals: totalsView(t.totals) })),
  totals: { partners: n.totals.partners, ...totalsView(n.totals) },
  truncated: n.truncated,
});

// ------------------------------------------------------------------------------------------------ clients

export const ReferredClientView = z
  .object({
    clientId: z.string(),
    displayName: z.string().nullable().meta({ description: 'First name and last initial', example: 'Anna E.' }),
    country: z.string().nullable().meta({ description: 'Country of residence (ISO 3166-1 alpha-2)' }),
    registeredAt: z.string(),
    kycStage: z.enum(KYC_STAGES),
    firstDeposit: Money.extend({ at: z.string() }).nullable(),
    volumeLots: z.string().meta({ description: 'Lots of every closed deal' }),
    activity: z.enum(['active', 'dormant']).meta({ description: 'dormant: no trade in the last 30 days (or never)' }),
    lastTradeAt: z.string().nullable(),
    code: z.string().nullable().meta({ description: 'The link the client registered through' }),
    campaign: z.string().nullable(),
  })
  .meta({ description: 'What a partner may see of a client it referred: no documents, address, email, phone or birth date' });
const clientView = (r: ReferredClientRow) => ({
  clientId: r.clientId,
  displayName: r.displayName,
  country: r.country,
  registeredAt: r.registeredAt,
  kycStage: r.kycStage,
  firstDeposit: r.firstDeposit ? { ...money(r.firstDeposit.amount, r.firstDeposit.currency), at: r.firstDeposit.at } : null,
  volumeLots: r.volumeLots,
  activity: r.activity,
  lastTradeAt: r.lastTradeAt,
  code: r.code,
  campaign: r.campaign,
});

// ------------------------------------------------------------------------------------------------ accruals

const AccrualsQuery = z.strictObject({
  from: isoInstant.meta({ description: 'Accrued at or after (ISO date-time)' }),
  to: isoInstant.meta({ description: 'Accrued before (ISO date-time); at most 92 days after from' }),
  groupBy: z.enum(ACCRUAL_GROUPS).default('day'),
});
const SumView = Money.extend({ lines: z.number().int() });
const sumView = (s: CurrencySum) => ({ ...money(s.amount, s.currency), lines: s.lines });
export const AccrualsView = z.object({
  partnerId: z.string(),
  from: z.string(),
  to: z.string(),
  groupBy: z.enum(ACCRUAL_GROUPS),
  timeZone: z.string().meta({ description: 'The time zone of the days (the tenant’s)' }),
  totals: z.array(SumView).meta({ description: 'Per currency: accruals, adjustments and clawbacks netted' }),
  groups: z.array(
    z.object({
      key: z.string().meta({
        description:
          'day: a date (YYYY-MM-DD); rule: per_lot, spread_share, commission_share, cpa, override or clawback; client: one of your clients, or tier:<n> for what you earned through your sub-partners at depth n',
      }),
      sums: z.array(SumView),
    }),
  ),
});
const accrualsView = (a: PartnerAccruals) => ({
  partnerId: a.partnerId,
  from: a.from,
  to: a.to,
  groupBy: a.groupBy,
  timeZone: a.timeZone,
  totals: a.totals.map(sumView),
  groups: a.groups.map((g) => ({ key: g.key, sums: g.sums.map(sumView) })),
});

// ------------------------------------------------------------------------------------------------ links

const FunnelView = z.object({
  clicks: z.number().int(),
  registrations: z.number().int(),
  verified: z.number().int(),
  funded: z.number().int(),
  trading: z.number().int(),
});
const ratio = z.string().nullable();
const ConversionView = z
  .object({
    registrationPerClick: ratio,
    verifiedPerRegistration: ratio,
    fundedPerVerified: ratio,
    tradingPerFunded: ratio,
    tradingPerRegistration: ratio,
  })
  .meta({ description: 'Decimal strings with 4 decimals; null when the denominator is 0' });
export const FunnelsView = z.object({
  partnerId: z.string(),
  links: z.array(
    z.object({
      code: z.string(),
      kind: z.enum(['client', 'sub_ib']),
      campaign: z.string().nullable(),
      createdAt: z.string(),
      funnel: FunnelView,
      conversion: ConversionView,
    }),
  ),
  campaigns: z.array(
    z.object({ campaign: z.string().nullable(), links: z.number().int(), funnel: FunnelView, conversion: ConversionView }),
  ),
  total: z.object({ links: z.number().int(), funnel: FunnelView, conversion: ConversionView }),
});

const NOT_A_PARTNER = {
  404: { description: 'partner_not_found (the caller is not a partner)' },
  409: { description: 'partner_not_approved' },
};

export const routes = [
  defineRoute({
    method: 'GET',
    path: '/v1/partners/me/network',
    operationId: 'getMyPartnerNetwork',
    summary: 'Your network: every sub-partner under you, with counts and aggregates per partner and per tier',
    tags: ['partners'],
    auth: PARTNER,
    responses: { 200: { description: 'The network', schema: NetworkView }, ...NOT_A_PARTNER },
    handler: async ({ caller, correlationId, locale }) => ({
      status: 200,
      body: networkView(await myNetwork(caller!, { requestId: correlationId, locale })),
    }),
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/partners/me/clients',
    operationId: 'listMyReferredClients',
    summary: 'The clients you referred, newest registration first (what a partner may see of them)',
    tags: ['partners'],
    auth: PARTNER,
    query: z.strictObject({ limit: limitParam(100, 50), cursor: cursorParam.optional() }),
    responses: {
      200: { description: 'A page of referred clients', schema: pageSchema(ReferredClientView) },
      400: { description: 'validation_failed, invalid_cursor' },
      ...NOT_A_PARTNER,
    },
    handler: async ({ caller, query, correlationId, locale }) => ({
      status: 200,
      body: pageBody(await myReferredClients(query, caller!, { requestId: correlationId, locale }), clientView),
    }),
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/partners/me/accruals',
    operationId: 'getMyPartnerAccruals',
    summary: 'Your commissions accrued in a period, per currency, by day, rule or client',
    tags: ['partners'],
    auth: PARTNER,
    query: AccrualsQuery,
    responses: {
      200: { description: 'The sums', schema: AccrualsView },
      400: { description: 'validation_failed' },
      ...NOT_A_PARTNER,
      422: { description: 'invalid_range (from not before to), range_too_long (more than 92 days)' },
    },
    handler: async ({ caller, query, correlationId, locale }) => ({
      status: 200,
      body: accrualsView(await myAccruals(query, caller!, { requestId: correlationId, locale })),
    }),
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/partners/me/links/funnel',
    operationId: 'getMyLinkFunnels',
    summary: 'Your links and campaigns as a funnel: clicks, registrations, verified, funded, trading, and conversions',
    tags: ['partners'],
    auth: PARTNER,
    responses: { 200: { description: 'The funnels', schema: FunnelsView }, ...NOT_A_PARTNER },
    handler: async ({ caller, correlationId, locale }) => ({
      status: 200,
      body: await myLinkFunnels(caller!, { requestId: correlationId, locale }),
    }),
  }),
];

export const handler = httpHandler(...routes);
