/**
 * The partner network for clients and partners (issue 16): a client applies to become a partner, reads its partner
 * account, creates and lists its referral links; visitors' clicks on a link are recorded (public). Use cases:
 * functions/app/partners/network.ts, links.ts.
 *
 * Invariants: a partner acts with its client token and sees only its own records (the caller's clientId owns the
 * partner; another partner's link is 404 link_not_found); the click route is public, takes only a code and a visitor
 * id, and answers 404 link_not_found for a code that is unknown or whose partner is not approved; codes are
 * upper-cased; the link counters are the conversion funnel (clicks, registrations, verified, funded, trading).
 */
import * as z from 'zod';
import { PARTNER_ROLES } from '#app/partners/access.ts';
import { createLink, listMyLinks, readMyLink, recordClick } from '#app/partners/links.ts';
import { applyAsPartner, readOwnPartner } from '#app/partners/network.ts';
import { defineRoute, httpHandler } from '#middleware/http.ts';
import { cursorParam, limitParam, pageBody, pageSchema } from './shared/pages.ts';

const PARTNER_STATUSES = ['pending', 'approved', 'rejected', 'suspended'] as const;
const SCHEDULES = ['daily', 'weekly', 'monthly'] as const;
const Code = z.string().regex(/^[A-Za-z0-9_-]{3,32}$/, 'letters, digits, - and _, 3 to 32');
const Campaign = z.string().regex(/^[A-Za-z0-9 ._-]{1,64}$/, 'letters, digits, space, . - and _, at most 64');
const VisitorId = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, 'letters, digits, - and _, 8 to 64');

const ApplyBody = z.strictObject({
  referralCode: Code.optional().meta({
    description: 'The sub-IB link code of the partner to sign up under (default: the sub-IB link you registered through)',
  }),
  name: z.string().trim().min(1).max(120).optional().meta({ description: 'Shown to your parent partners' }),
  payoutSchedule: z.enum(SCHEDULES).optional().meta({ description: 'Default monthly' }),
});
const LinkBody = z.strictObject({
  code: Code.optional().meta({ description: 'Your own code (upper-cased); generated when absent' }),
  kind: z.enum(['client', 'sub_ib']).default('client').meta({ description: 'Refers clients, or sub-partners' }),
  campaign: Campaign.optional(),
});
const ClickBody = z.strictObject({
  code: Code,
  visitorId: VisitorId.meta({ description: 'A stable id of the visitor’s browser (sent again at registration)' }),
});

export const MyPartnerView = z.object({
  partnerId: z.string(),
  status: z.enum(PARTNER_STATUSES),
  payoutsHeld: z.boolean().meta({ description: 'Payouts are held while compliance reviews (commissions still accrue)' }),
  parentId: z.string().nullable(),
  depth: z.number().int().meta({ description: '0: a top-level partner' }),
  payout: z.object({ schedule: z.enum(SCHEDULES) }),
  name: z.string().optional(),
  referralCode: z.string().optional(),
  decidedAt: z.string().optional(),
  createdAt: z.string(),
});
type PartnerLike = Awaited<ReturnType<typeof readOwnPartner>>;
const myPartnerView = (p: PartnerLike) => ({
  partnerId: p.partnerId,
  status: p.status,
  payoutsHeld: p.hold !== undefined,
  parentId: p.parentId,
  depth: p.depth,
  payout: p.payout,
  ...(p.name ? { name: p.name } : {}),
  ...(p.referralCode ? { referralCode: p.referralCode } : {}),
  ...(p.decidedAt ? { decidedAt: p.decidedAt } : {}),
  createdAt: p.createdAt,
});

export const LinkView = z.object({
  code: z.string(),
  kind: z.enum(['client', 'sub_ib']),
  campaign: z.string().optional(),
  funnel: z
    .object({
      clicks: z.number().int(),
      registrations: z.number().int(),
      verified: z.number().int(),
      funded: z.number().int(),
      trading: z.number().int(),
    })
    .meta({ description: 'Clicks, then referred clients registered, KYC-verified, funded (first deposit) and trading' }),
  createdAt: z.string(),
});
type LinkLike = Awaited<ReturnType<typeof readMyLink>>;
const linkView = (l: LinkLike) => ({
  code: l.code,
  kind: l.kind,
  ...(l.campaign ? { campaign: l.campaign } : {}),
  funnel: { clicks: l.clicks, registrations: l.registrations, verified: l.verified, funded: l.funded, trading: l.trading },
  createdAt: l.createdAt,
});

export const routes = [
  defineRoute({
    method: 'POST',
    path: '/v1/partners',
    operationId: 'applyAsPartner',
    summary: 'Apply to become a partner (introducing broker), optionally under a partner through its sub-IB link',
    tags: ['partners'],
    auth: PARTNER_ROLES,
    body: ApplyBody,
    idempotency: 'optional',
    responses: {
      201: { description: 'Applied: pending until compliance decides', schema: MyPartnerView },
      409: { description: 'already_a_partner, partner_not_approved (the referring partner)' },
      422: { description: 'invalid_referral_code, not_a_sub_ib_link, network_too_deep' },
    },
    handler: async ({ body, caller, correlationId, locale }) => ({
      status: 201,
      body: myPartnerView(await applyAsPartner(body, caller!, { requestId: correlationId, locale })),
    }),
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/partners/me',
    operationId: 'getMyPartner',
    summary: 'Your partner account',
    tags: ['partners'],
    auth: PARTNER_ROLES,
    responses: {
      200: { description: 'Your partner account', schema: MyPartnerView },
      404: { description: 'partner_not_found (you have not applied)' },
    },
    handler: async ({ caller, correlationId, locale }) => ({
      status: 200,
      body: myPartnerView(await readOwnPartner(caller!, { requestId: correlationId, locale })),
    }),
  }),
  defineRoute({
    method: 'POST',
    path: '/v1/partners/me/links',
    operationId: 'createPartnerLink',
    summary: 'Create a referral link (a code with a campaign tag) for clients or for sub-partners',
    tags: ['partners'],
    auth: PARTNER_ROLES,
    body: LinkBody,
    idempotency: 'optional',
    responses: {
      201: { description: 'Created', schema: LinkView },
      404: { description: 'partner_not_found' },
      409: { description: 'partner_not_approved, link_code_taken' },
    },
    handler: async ({ body, caller, correlationId, locale }) => ({
      status: 201,
      body: linkView(await createLink(body, caller!, { requestId: correlationId, locale })),
    }),
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/partners/me/links',
    operationId: 'listPartnerLinks',
    summary: 'Your referral links with their conversion funnel, newest first',
    tags: ['partners'],
    auth: PARTNER_ROLES,
    query: z.strictObject({ limit: limitParam(100, 50), cursor: cursorParam.optional() }),
    responses: {
      200: { description: 'A page of links', schema: pageSchema(LinkView) },
      404: { description: 'partner_not_found' },
    },
    handler: async ({ query, caller, correlationId, locale }) => ({
      status: 200,
      body: pageBody(await listMyLinks(query, caller!, { requestId: correlationId, locale }), linkView),
    }),
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/partners/me/links/{code}',
    operationId: 'getPartnerLink',
    summary: 'One of your referral links with its conversion funnel',
    tags: ['partners'],
    auth: PARTNER_ROLES,
    params: z.strictObject({ code: Code }),
    responses: {
      200: { description: 'The link', schema: LinkView },
      404: { description: 'link_not_found (also another partner’s)' },
    },
    handler: async ({ params, caller, correlationId, locale }) => ({
      status: 200,
      body: linkView(await readMyLink(params, caller!, { requestId: correlationId, locale })),
    }),
  }),
  defineRoute({
    method: 'POST',
    path: '/v1/referrals/clicks',
    operationId: 'recordReferralClick',
    summary: 'Record a visitor following a referral link (for first- or last-touch attribution at registration)',
    tags: ['partners'],
    auth: 'public',
    body: ClickBody,
    responses: {
      202: {
        description: 'Recorded (recorded false: the same click was recorded before)',
        schema: z.object({ code: z.string(), recorded: z.boolean() }),
      },
      404: { description: 'link_not_found' },
    },
    handler: async ({ body, correlationId, locale }) => ({
      status: 202,
      body: await recordClick(body, { requestId: correlationId, locale }),
    }),
  }),
];

export const handler = httpHandler(...routes);
