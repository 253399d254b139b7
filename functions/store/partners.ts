/**
 * The introducing-broker network's items (keys: functions/store/keys.ts partnerKeys; rules: domain/partners/;
 * issue 16, ADR 0018): partners, their versioned parent edges and plan assignments, plan versions, referral links
 * and clicks, client attributions and the referral (current partner + funnel) of each referred client.
 *
 * Invariants:
 * - every item is declared once with defineEntity; reads parse; writes are CommitWrites for commit()
 * - a partner is on the status index of its current status only, on the client index (a client has at most one
 *   partner record: its claim item is put-if-absent with it) and on the children index of its current parent
 * - edges (PARTNERTREE#id / FROM#iso), assignments (PARTNERPLAN#id / FROM#iso) and attributions (PATTR#id /
 *   FROM#iso) are versioned: the value at time t is the latest item with from <= t; they are put-if-absent and
 *   never changed. The partner's parentId/path/depth and the referral's partnerId are the LATEST version's (a
 *   move effective in the future shows there at once; chainAt reads the versions)
 * - plan versions are immutable (put-if-absent; newPlanItem: the item's `version` is the plan's version)
 * - counters are DynamoDB Numbers changed with ADD only: a link's clicks, registrations, verified, funded,
 *   trading; a referral's volume and windowVolume (MT5 volume units). A referral's volumes are READ as integer
 *   strings but stored as Numbers so ADD works: the referral is written new by newReferralWrite and changed by
 *   patch (which never SETs an unchanged attribute) or by the ADD/milestone writes here, never by replace
 * - a click is recorded with its link's counter in one transaction but without audit or event (recordClick)
 * - a funnel milestone (verified, funded, trading) is set on the referral once, conditioned on it being unset,
 *   with the link's counter ADDed in the same transaction (referralMilestoneWrites)
 */
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { DomainError } from '#domain/errors.ts';
import { PlanOverridesSchema, type PlanVersion, PlanVersionSchema } from '#domain/partners/plans.ts';
import { ddb } from '#shared/clients.ts';
import { defineEntity, type IndexAttributes, type ItemOf } from './entity.ts';
import { type CommitWrite, tableName } from './items.ts';
import { partnerKeys } from './keys.ts';
import type { Page } from './pagination.ts';

export const PARTNER_STATUSES = ['pending', 'approved', 'rejected', 'suspended'] as const;
export type PartnerStatus = (typeof PARTNER_STATUSES)[number];
export const PAYOUT_SCHEDULES = ['daily', 'weekly', 'monthly'] as const;
export type PayoutSchedule = (typeof PAYOUT_SCHEDULES)[number];
export const LINK_KINDS = ['client', 'sub_ib'] as const;
export type LinkKind = (typeof LINK_KINDS)[number];
/** Funnel milestones after registration, each counted once per referred client on its link. */
export const MILESTONES = ['verified', 'funded', 'trading'] as const;
export type Milestone = (typeof MILESTONES)[number];

/** A click is kept this long for first/last-touch attribution (DynamoDB TTL). */
export const CLICK_TTL_DAYS = 90;

const id = z.string().min(1);
const iso = z.string().min(1);
/** A stored integer count read as an integer string (DynamoDB Number kept by ADD, or a string). */
const intString = z.union([
  z.string().regex(/^-?\d+$/),
  z
    .number()
    .int()
    .transform((n) => String(n)),
]);

// ------------------------------------------------------------------------------------------------ partner

export const PartnerSchema = z.object({
  partnerId: id,
  /** The client the partner is (its payouts go to this client's wallet). */
  clientId: id,
  status: z.enum(PARTNER_STATUSES),
  /** Payouts held while compliance reviews (absent: not held). */
  hold: z.object({ reason: z.string().min(1), by: id, at: iso }).optional(),
  /** Current (latest edge's) parent, null for a root partner. */
  parentId: z.string().min(1).nullable(),
  /** Current ancestors, root first (path.at(-1) === parentId). */
  path: z.array(id),
  /** path.length: 0 for a root partner. */
  depth: z.number().int().min(0),
  payout: z.object({ schedule: z.enum(PAYOUT_SCHEDULES) }),
  /** Per currency: the periodEnd of the last paid payout (payouts write it). */
  paidThrough: z.record(z.string(), iso).default({}),
  /** A display name (the client's name or a company), shown to its parents. */
  name: z.string().min(1).max(120).optional(),
  /** The sub-IB link code the application came through. */
  referralCode: z.string().optional(),
  /** The staff member who created the partner (absent: the client applied). */
  createdBy: id.optional(),
  decidedBy: id.optional(),
  decidedAt: iso.optional(),
  reason: z.string().optional(),
});

export const partnerEntity = defineEntity({
  type: partnerKeys.type,
  schema: PartnerSchema,
  key: (p) => partnerKeys.partner(p.partnerId),
  indexes: (p) => ({
    gsi1pk: partnerKeys.statusPartition(p.status),
    gsi1sk: `${p.createdAt}#${p.partnerId}`,
    gsi2pk: partnerKeys.clientPartition(p.clientId),
    gsi2sk: 'PARTNER',
    gsi3pk: partnerKeys.childrenPartition(p.parentId),
    gsi3sk: p.partnerId,
  }),
  what: 'partner',
});
export type PartnerItem = ItemOf<typeof partnerEntity>;

/** One partner record per client: put-if-absent with the partner (409 already_a_partner). */
export const partnerClaimEntity = defineEntity({
  type: 'partner-claim',
  schema: z.object({ clientId: id, partnerId: id }),
  key: (c) => ({ pk: partnerKeys.clientPartition(c.clientId), sk: 'PARTNER' }),
});

// ------------------------------------------------------------------------------------------------ edges, assignments

export const EdgeSchema = z.object({
  partnerId: id,
  /** ISO instant from which `parentId` is the partner's parent. */
  from: iso,
  parentId: z.string().min(1).nullable(),
  /** Who set it (a staff member, or the partner's own client id at application). */
  by: id,
  reason: z.string().optional(),
  retroactive: z.boolean().optional(),
});
export const edgeEntity = defineEntity({
  type: partnerKeys.edgeType,
  schema: EdgeSchema,
  key: (e) => partnerKeys.edge(e.partnerId, e.from),
  what: 'partner edge',
});
export type EdgeItem = ItemOf<typeof edgeEntity>;

export const AssignmentSchema = z.object({
  partnerId: id,
  /** ISO instant from which the plan applies to the partner (and, by inheritance, its sub-network without one). */
  from: iso,
  /** Absent: the partner keeps inheriting its nearest ancestor's plan, with its own `overrides` on top. */
  planId: id.optional(),
  overrides: PlanOverridesSchema.optional(),
  by: id,
  reason: z.string().optional(),
});
export const assignmentEntity = defineEntity({
  type: partnerKeys.assignmentType,
  schema: AssignmentSchema,
  key: (a) => partnerKeys.assignment(a.partnerId, a.from),
  what: 'plan assignment',
});
export type AssignmentItem = ItemOf<typeof assignmentEntity>;

// ------------------------------------------------------------------------------------------------ plans

export const planEntity = defineEntity({
  type: partnerKeys.planType,
  schema: PlanVersionSchema.extend({ createdBy: id, retroactive: z.boolean().optional(), reason: z.string().optional() }),
  key: (p) => partnerKeys.plan(p.planId, p.version),
  indexes: (p) => ({
    gsi1pk: partnerKeys.plansPartition,
    gsi1sk: `${p.planId}#${String(p.version).padStart(6, '0')}`,
  }),
  what: 'plan',
});
export type PlanItem = ItemOf<typeof planEntity>;

/**
 * A new plan version item. Its `version` attribute is the PLAN's version (the envelope's is the same attribute:
 * planEntity.item would set it to 1, and the key with it), so it is put back and the key recomputed; a plan version
 * is never replaced, so the envelope's optimistic version is never needed.
 */
export function newPlanItem(fields: Parameters<typeof planEntity.item>[0], now: string): PlanItem {
  const item = planEntity.item(fields, now);
  return planEntity.indexed({ ...item, version: fields.version });
}

/** The domain's plan version of a stored one (no envelope). */
export const planVersionOf = (p: PlanItem): PlanVersion => ({
  planId: p.planId,
  version: p.version,
  name: p.name,
  currency: p.currency,
  effectiveFrom: p.effectiveFrom,
  rules: p.rules,
  qualification: p.qualification,
});

// ------------------------------------------------------------------------------------------------ links, clicks

export const LinkSchema = z.object({
  code: z.string().regex(/^[A-Za-z0-9_-]{3,32}$/),
  partnerId: id,
  kind: z.enum(LINK_KINDS),
  campaign: z.string().min(1).max(64).optional(),
  clicks: z.number().int().min(0).default(0),
  registrations: z.number().int().min(0).default(0),
  verified: z.number().int().min(0).default(0),
  funded: z.number().int().min(0).default(0),
  trading: z.number().int().min(0).default(0),
});
export const linkEntity = defineEntity({
  type: partnerKeys.linkType,
  schema: LinkSchema,
  key: (l) => partnerKeys.link(l.code),
  indexes: (l) => ({ gsi1pk: partnerKeys.linksPartition(l.partnerId), gsi1sk: `${l.createdAt}#${l.code}` }),
  what: 'link',
});
export type LinkItem = ItemOf<typeof linkEntity>;

export const clickEntity = defineEntity({
  type: partnerKeys.clickType,
  schema: z.object({
    visitorId: id,
    at: iso,
    code: id,
    partnerId: id,
    campaign: z.string().optional(),
    /** TTL (epoch seconds). */
    expiresAt: z.number().int(),
  }),
  key: (c) => partnerKeys.click(c.visitorId, c.at, c.code),
});
export type ClickItem = ItemOf<typeof clickEntity>;

const linkCounterUpdate = (code: string, counter: 'clicks' | 'registrations' | Milestone) => ({
  Key: partnerKeys.link(code),
  UpdateExpression: 'ADD #c :one',
  ConditionExpression: 'attribute_exists(pk)',
  ExpressionAttributeNames: { '#c': counter },
  ExpressionAttributeValues: { ':one': 1 },
});

/** ADD one to a link's counter (the link must exist). */
export const linkCounterAdd = (code: string, counter: 'clicks' | 'registrations' | Milestone): CommitWrite => ({
  Update: linkCounterUpdate(code, counter),
  conditionFailedError: linkNotFound(),
});

/**
 * Records a click: the click item (put-if-absent) and the link's clicks counter in one transaction, without an audit
 * entry or an event (anonymous marketing bookkeeping with a TTL, like the sign-in throttle's counters: not a business
 * change). false: the same click (visitor, instant, code) was recorded before, or the link is gone.
 */
export async function recordClick(click: ClickItem): Promise<boolean> {
  const table = tableName();
  try {
    await ddb().send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: table, Item: clickEntity.indexed(click), ConditionExpression: 'attribute_not_exists(pk)' } },
          { Update: { ...linkCounterUpdate(click.code, 'clicks'), TableName: table } },
        ],
      }),
    );
    return true;
  } catch (err) {
    const reasons = (err as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
    if (reasons.some((r) => r.Code === 'ConditionalCheckFailed')) return false;
    throw err;
  }
}

// ------------------------------------------------------------------------------------------------ attribution, referral

export const attributionEntity = defineEntity({
  type: partnerKeys.attributionType,
  schema: z.object({
    clientId: id,
    /** ISO instant from which the client belongs to `partnerId` (null: to no partner). */
    from: iso,
    partnerId: z.string().min(1).nullable(),
    code: z.string().optional(),
    campaign: z.string().optional(),
    source: z.enum(['registration', 'move']),
    by: id,
    reason: z.string().optional(),
    retroactive: z.boolean().optional(),
  }),
  key: (a) => partnerKeys.attribution(a.clientId, a.from),
  what: 'attribution',
});
export type AttributionItem = ItemOf<typeof attributionEntity>;

export const ReferralSchema = z.object({
  clientId: id,
  /** The latest attribution's partner (null: detached by staff; the funnel stays). */
  partnerId: z.string().min(1).nullable(),
  /** The link the client registered through (its counters count this client's milestones). */
  code: z.string().optional(),
  campaign: z.string().optional(),
  registeredAt: iso,
  verifiedAt: iso.optional(),
  firstDeposit: z.object({ amount: z.string().regex(/^\d+$/), currency: z.string(), at: iso }).optional(),
  firstTradeAt: iso.optional(),
  lastTradeAt: iso.optional(),
  /** Every closed deal's volume, MT5 units (integer string; stored as a Number, ADDed). */
  volume: intString,
  /** Volume within the CPA's lots window, MT5 units (integer string; stored as a Number, ADDed). */
  windowVolume: intString,
  cpaPaid: z.boolean().default(false),
});
export const referralEntity = defineEntity({
  type: partnerKeys.referralType,
  schema: ReferralSchema,
  key: (r) => partnerKeys.referral(r.clientId),
  indexes: (r): IndexAttributes =>
    r.partnerId ? { gsi1pk: partnerKeys.referralsPartition(r.partnerId), gsi1sk: `${r.registeredAt}#${r.clientId}` } : {},
  what: 'referral',
});
export type ReferralItem = ItemOf<typeof referralEntity>;

/** Put-if-absent of a new referral, its counters as DynamoDB Numbers (so ADD works on them). */
export function newReferralWrite(r: ReferralItem): CommitWrite {
  const w = referralEntity.putNew(r, new DomainError('referral_exists', 'conflict', 'The client is already attributed'));
  const put = (w as { Put: { Item: Record<string, unknown> } }).Put;
  put.Item = { ...put.Item, volume: Number(r.volume), windowVolume: Number(r.windowVolume) };
  return w;
}

/** ADDs a closed deal's volume (MT5 units) to a referral, and to its CPA window volume when within the window. */
export const referralVolumeAdd = (clientId: string, units: bigint, windowUnits: bigint, lastTradeAt: string): CommitWrite => ({
  Update: {
    Key: partnerKeys.referral(clientId),
    UpdateExpression: 'SET lastTradeAt = :at ADD volume :v, windowVolume :w',
    ConditionExpression: 'attribute_exists(pk)',
    ExpressionAttributeValues: { ':v': Number(units), ':w': Number(windowUnits), ':at': lastTradeAt },
  },
});

/**
 * A funnel milestone, once: SET on the referral conditioned on it being unset, and the link's counter ADDed in
 * the same transaction. The caller checks the referral first (a set milestone fails the whole commit with
 * `milestone_already_set`). 'funded' needs the first deposit; 'trading' sets firstTradeAt.
 */
export function referralMilestoneWrites(
  r: ReferralItem,
  milestone: Milestone,
  at: string,
  firstDeposit?: { amount: string; currency: string; at: string },
): CommitWrite[] {
  const attr = milestone === 'verified' ? 'verifiedAt' : milestone === 'funded' ? 'firstDeposit' : 'firstTradeAt';
  const value = milestone === 'funded' ? firstDeposit : at;
  if (value === undefined) throw new Error('referralMilestoneWrites: funded needs the first deposit');
  const writes: CommitWrite[] = [
    {
      Update: {
        Key: partnerKeys.referral(r.clientId),
        UpdateExpression: 'SET #m = :m',
        ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(#m)',
        ExpressionAttributeNames: { '#m': attr },
        ExpressionAttributeValues: { ':m': value },
      },
      conditionFailedError: new DomainError('milestone_already_set', 'conflict', `The referral's ${milestone} is already set`),
    },
  ];
  if (r.code) writes.push(linkCounterAdd(r.code, milestone));
  return writes;
}

// ------------------------------------------------------------------------------------------------ errors

export const partnerNotFound = () =>
  new DomainError('partner_not_found', 'not_found', 'No partner with this id', [
    { field: 'partnerId', code: 'partner_not_found', message: 'Unknown partner' },
  ]);
export const planNotFound = () =>
  new DomainError('plan_not_found', 'not_found', 'No commission plan with this id', [
    { field: 'planId', code: 'plan_not_found', message: 'Unknown plan' },
  ]);
export const linkNotFound = () =>
  new DomainError('link_not_found', 'not_found', 'No referral link with this code', [
    { field: 'code', code: 'link_not_found', message: 'Unknown link' },
  ]);

// ------------------------------------------------------------------------------------------------ readers

export const getPartner = (partnerId: string, opts: { consistent?: boolean } = {}) =>
  partnerEntity.get(partnerKeys.partner(partnerId), opts);

export const getPartners = (partnerIds: readonly string[]) =>
  partnerEntity.getMany([...new Set(partnerIds)].map((p) => partnerKeys.partner(p)));

/** The partner record of a client (at most one), from the client index (eventually consistent). */
export async function partnerOfClient(clientId: string): Promise<PartnerItem | undefined> {
  const page = await partnerEntity.query({ index: 'gsi2', partition: partnerKeys.clientPartition(clientId), limit: 1 });
  return page.items[0];
}

/** The claim of a client's partner record, strongly consistent (the application's idempotency). */
export const partnerClaimOf = (clientId: string) =>
  partnerClaimEntity.get({ pk: partnerKeys.clientPartition(clientId), sk: 'PARTNER' }, { consistent: true });

async function all<T>(gen: AsyncGenerator<T[]>): Promise<T[]> {
  const out: T[] = [];
  for await (const page of gen) out.push(...page);
  return out;
}

const versioned = (pk: string) => ({
  KeyConditionExpression: 'pk = :p AND begins_with(sk, :s)',
  ExpressionAttributeValues: { ':p': pk, ':s': 'FROM#' },
  ConsistentRead: true,
});

/** Every parent edge of a partner, oldest first. */
export const edgesOf = (partnerId: string): Promise<EdgeItem[]> =>
  all(edgeEntity.queryPages(versioned(partnerKeys.edgePartition(partnerId))));

/** Every plan assignment of a partner, oldest first. */
export const assignmentsOf = (partnerId: string): Promise<AssignmentItem[]> =>
  all(assignmentEntity.queryPages(versioned(partnerKeys.assignmentPartition(partnerId))));

/** Every attribution of a client, oldest first. */
export const attributionsOf = (clientId: string): Promise<AttributionItem[]> =>
  all(attributionEntity.queryPages(versioned(partnerKeys.attributionPartition(clientId))));

/** Every version of a plan, oldest first (none: unknown plan). */
export const planVersions = (planId: string): Promise<PlanItem[]> =>
  all(
    planEntity.queryPages({
      KeyConditionExpression: 'pk = :p AND begins_with(sk, :s)',
      ExpressionAttributeValues: { ':p': partnerKeys.planPartition(planId), ':s': 'V#' },
      ConsistentRead: true,
    }),
  );

/** Every plan version of the tenant, by plan then version. */
export const allPlanVersions = (): Promise<PlanItem[]> =>
  all(
    planEntity.queryPages({
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :p',
      ExpressionAttributeValues: { ':p': partnerKeys.plansPartition },
    }),
  );

export const getReferral = (clientId: string, opts: { consistent?: boolean } = {}) =>
  referralEntity.get(partnerKeys.referral(clientId), opts);

export const getLink = (code: string, opts: { consistent?: boolean } = {}) => linkEntity.get(partnerKeys.link(code), opts);

/** A partner's links, newest first. */
export const listLinks = (partnerId: string, opts: { limit: number; cursor?: string | undefined }): Promise<Page<LinkItem>> =>
  linkEntity.query({
    index: 'gsi1',
    partition: partnerKeys.linksPartition(partnerId),
    limit: opts.limit,
    cursor: opts.cursor,
    forward: false,
  });

/** Every link of a partner (the dashboard's funnel). */
export const linksOf = (partnerId: string): Promise<LinkItem[]> =>
  all(
    linkEntity.queryPages({
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :p',
      ExpressionAttributeValues: { ':p': partnerKeys.linksPartition(partnerId) },
    }),
  );

/** A visitor's recorded clicks, oldest first. */
export const clicksOf = (visitorId: string): Promise<ClickItem[]> =>
  all(
    clickEntity.queryPages({
      KeyConditionExpression: 'pk = :p',
      ExpressionAttributeValues: { ':p': partnerKeys.clickPartition(visitorId) },
      ConsistentRead: true,
    }),
  );

/** Partners in `status`, newest first (staff). */
export const listPartnersByStatus = (
  status: PartnerStatus,
  opts: { limit: number; cursor?: string | undefined },
): Promise<Page<PartnerItem>> =>
  partnerEntity.query({
    index: 'gsi1',
    partition: partnerKeys.statusPartition(status),
    limit: opts.limit,
    cursor: opts.cursor,
    forward: false,
  });

/** The current direct sub-partners of a partner (null: the roots). */
export const childrenOf = (parentId: string | null): Promise<PartnerItem[]> =>
  all(
    partnerEntity.queryPages({
      IndexName: 'gsi3',
      KeyConditionExpression: 'gsi3pk = :p',
      ExpressionAttributeValues: { ':p': partnerKeys.childrenPartition(parentId) },
    }),
  );

/** The current referrals of a partner, newest registration first. */
export const listReferrals = (
  partnerId: string,
  opts: { limit: number; cursor?: string | undefined },
): Promise<Page<ReferralItem>> =>
  referralEntity.query({
    index: 'gsi1',
    partition: partnerKeys.referralsPartition(partnerId),
    limit: opts.limit,
    cursor: opts.cursor,
    forward: false,
  });

/** Every current referral of a partner (the dashboard's counts). */
export const referralsOf = (partnerId: string): Promise<ReferralItem[]> =>
  all(
    referralEntity.queryPages({
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :p',
      ExpressionAttributeValues: { ':p': partnerKeys.referralsPartition(partnerId) },
    }),
  );

/** The audit snapshot of a partner (no envelope). */
export const partnerSnapshot = (p: PartnerItem) => ({
  partnerId: p.partnerId,
  clientId: p.clientId,
  status: p.status,
  parentId: p.parentId,
  path: p.path,
  depth: p.depth,
  payout: p.payout,
  ...(p.hold ? { hold: p.hold } : {}),
  ...(p.reason ? { reason: p.reason } : {}),
});
