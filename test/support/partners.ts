/**
 * Introducing-broker fixtures (issue 16) for integration tests, the ib bench and the end-to-end journey: a commission
 * plan version, a partner tree of N tiers with its versioned edges and plan assignments, a referred client (its
 * attribution, its referral item, optionally a referral link, and a live trading account with its login), and the
 * opening and closing deals of a position as ingestion stores them (functions/app/trading/ingest-deals.ts dealRecord:
 * the same item, on the account and position indexes, and the same `trading.deal.closed` detail).
 *
 * Every builder is pure (`...Items` returns the fixture and the raw items to write, so a bench can write many in
 * bulk); `seed...` writes them with putItems (BatchWriteItem, no audit and no events: fixtures, not business changes).
 * Ids are unique per process (a random prefix and a counter), so tests sharing a table never collide. Nothing here
 * imports vitest.
 */
import { randomBytes } from 'node:crypto';
import { BatchWriteCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { dealRecord } from '#app/trading/ingest-deals.ts';
import type { PlanOverrides, PlanVersion } from '#domain/partners/plans.ts';
import { PlanVersionSchema } from '#domain/partners/plans.ts';
import type { Deal } from '#domain/trading/model.ts';
import { ddb } from '#shared/clients.ts';
import { env } from '#shared/env.ts';
import { partnerKeys } from '#store/keys.ts';
import type { LineItem, ResultItem } from '#store/partner-accruals.ts';
import { sourceLines } from '#store/partner-accruals.ts';
import {
  assignmentEntity,
  attributionEntity,
  edgeEntity,
  linkEntity,
  newPlanItem,
  partnerClaimEntity,
  partnerEntity,
  referralEntity,
} from '#store/partners.ts';
import { type DealItem, loginEntity, tradingAccountEntity } from '#store/trading.ts';

/** A raw item to write: an entity's item, with its keys, indexes and envelope. */
export interface Item {
  pk: string;
  sk: string;
  type: string;
}

/** A date long before any fixture's deal: the default start of plan versions, edges and assignments. */
export const EPOCH = '2020-01-01T00:00:00.000Z';
export const DAY_MS = 86_400_000;
/** MT5 volume units per lot. */
export const LOT = 10_000n;
export const iso = (ms: number) => new Date(ms).toISOString();

const RUN = randomBytes(3).toString('hex');
let counter = 0;
/** A process-unique lower-case id part. */
export const fixtureId = () => `${RUN}${(counter++).toString(36).padStart(4, '0')}`;
// Deal and position numbers: unique in the process, well inside safe integers.
let nextNumber = (Number.parseInt(RUN, 16) % 1_000_000) * 1_000_000 + 1;
const nextTicket = () => nextNumber++;
let nextLogin = 700_000 + (Number.parseInt(RUN, 16) % 100_000) * 100;

const CREATED_BY = 'staff-fixtures';

// ------------------------------------------------------------------------------------------------ writing

/** Writes raw items (fixtures: no audit, no events) with BatchWriteItem, 25 at a time, retrying unprocessed ones. */
export async function putItems(items: readonly Item[]): Promise<void> {
  const table = env.tableName;
  for (let i = 0; i < items.length; i += 25) {
    let pending: { PutRequest: { Item: Record<string, unknown> } }[] | undefined = items
      .slice(i, i + 25)
      .map((Item) => ({ PutRequest: { Item: Item as unknown as Record<string, unknown> } }));
    for (let attempt = 0; pending && pending.length > 0; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 20 * 2 ** attempt)));
      const res = await ddb().send(new BatchWriteCommand({ RequestItems: { [table]: pending } }));
      pending = res.UnprocessedItems?.[table] as { PutRequest: { Item: Record<string, unknown> } }[] | undefined;
    }
  }
}

// ------------------------------------------------------------------------------------------------ plans

/**
 * The standard plan's rules: per lot EURUSD 7.00 (symbol), the fx group 6.00, otherwise 5.00; 50 % of a 10-point
 * markup; 20 % of the commission charged; tier 1 earns 2.00 per lot, tier 2 10 % of tier 1's lines. No CPA.
 */
export const STANDARD_RULES = {
  perLot: { default: '5.00', symbols: { EURUSD: '7.00' }, groups: { fx: '6.00' } },
  spreadShare: { markupPoints: { default: 10 }, shareBps: 5000 },
  commissionShare: { shareBps: 2000 },
  tierOverrides: [
    { tier: 1, perLot: '2.00' },
    { tier: 2, childShareBps: 1000 },
  ],
  symbolGroups: { GBPUSD: 'fx' },
};

/** A CPA of 100.00 on a first deposit of at least 200.00 within 30 days and 1 lot within 60 days of registration. */
export const CPA_100 = {
  amount: '100.00',
  minFirstDeposit: '200.00',
  depositWithinDays: 30,
  minLots: '1.00',
  lotsWithinDays: 60,
};

export interface PlanSpec {
  /** Default: a fresh `plan-<id>`. */
  planId?: string;
  /** Default 1. */
  version?: number;
  name?: string;
  /** Default USD. */
  currency?: string;
  /** Default EPOCH. */
  effectiveFrom?: string;
  /** Default STANDARD_RULES. */
  rules?: unknown;
  /** Default {} (the schema's defaults: no minimum hold or move, same price excluded, hedged once). */
  qualification?: unknown;
}

/** A plan version, parsed by the domain's schema (defaults applied). */
export function planVersion(spec: PlanSpec = {}): PlanVersion {
  return PlanVersionSchema.parse({
    planId: spec.planId ?? `plan-${fixtureId()}`,
    version: spec.version ?? 1,
    name: spec.name ?? 'Fixture plan',
    currency: spec.currency ?? 'USD',
    effectiveFrom: spec.effectiveFrom ?? EPOCH,
    rules: spec.rules ?? STANDARD_RULES,
    qualification: spec.qualification ?? {},
  });
}

export function planItems(spec: PlanSpec = {}, now = new Date().toISOString()): { plan: PlanVersion; items: Item[] } {
  const plan = planVersion(spec);
  // newPlanItem: the item keeps the plan's version (the envelope's `version` is the same attribute)
  return { plan, items: [newPlanItem({ ...plan, createdBy: CREATED_BY }, now)] };
}

/** Writes a plan version (a new plan, or version n+1 of spec.planId). */
export async function seedPlan(spec: PlanSpec = {}): Promise<PlanVersion> {
  const { plan, items } = planItems(spec);
  await putItems(items);
  return plan;
}

// ------------------------------------------------------------------------------------------------ partners

export interface PartnerSpec {
  /** Default: a fresh `ib_<id>`. */
  partnerId?: string;
  /** The partner's own client id; default `client-ib-<id>`. */
  clientId?: string;
  /** Default null (a root). */
  parentId?: string | null;
  /** The parent's path (root first); the partner's is it + parentId. Default []. */
  parentPath?: readonly string[];
  /** The assignment's plan (absent: inherits). */
  planId?: string;
  overrides?: PlanOverrides;
  /** The edge's and the assignment's `from`. Default EPOCH. */
  from?: string;
  status?: 'pending' | 'approved' | 'rejected' | 'suspended';
  schedule?: 'daily' | 'weekly' | 'monthly';
  name?: string;
}

export interface PartnerFixture {
  partnerId: string;
  clientId: string;
  parentId: string | null;
  /** Ancestors, root first. */
  path: string[];
}

/** One partner: its item, client claim, its first edge and (with a plan or overrides) its first plan assignment. */
export function partnerItems(spec: PartnerSpec = {}, now = new Date().toISOString()): { partner: PartnerFixture; items: Item[] } {
  const id = fixtureId();
  const partnerId = spec.partnerId ?? `ib_${id}`;
  const clientId = spec.clientId ?? `client-ib-${id}`;
  const parentId = spec.parentId ?? null;
  const path = parentId ? [...(spec.parentPath ?? []), parentId] : [];
  const from = spec.from ?? EPOCH;
  const items: Item[] = [
    partnerEntity.item(
      {
        partnerId,
        clientId,
        status: spec.status ?? 'approved',
        parentId,
        path,
        depth: path.length,
        payout: { schedule: spec.schedule ?? 'daily' },
        paidThrough: {},
        name: spec.name ?? `Partner ${id}`,
      },
      now,
    ),
    partnerClaimEntity.item({ clientId, partnerId }, now),
    edgeEntity.item({ partnerId, from, parentId, by: CREATED_BY }, now),
  ];
  if (spec.planId || spec.overrides) {
    items.push(
      assignmentEntity.item(
        {
          partnerId,
          from,
          ...(spec.planId ? { planId: spec.planId } : {}),
          ...(spec.overrides ? { overrides: spec.overrides } : {}),
          by: CREATED_BY,
        },
        now,
      ),
    );
  }
  return { partner: { partnerId, clientId, parentId, path }, items };
}

export interface TreeSpec {
  /** How many tiers: a chain of this many partners, the root at tier tiers-1 and the leaf (tier 0) under them. */
  tiers: number;
  /** Assigned to the root only (the others inherit it), unless `plans` says otherwise. */
  planId?: string;
  /** Per tier (tier 0 first): the plan assigned to that partner (undefined: inherits). Overrides `planId`. */
  plans?: readonly (string | undefined)[];
  /** Per tier (tier 0 first): the partner's own rate overrides. */
  overrides?: readonly (PlanOverrides | undefined)[];
  /** Hang the chain's top under this existing partner (a bench's wide tree). Default: the top is a root. */
  under?: PartnerFixture;
  /** The edges' and assignments' `from`. Default EPOCH. */
  from?: string;
}

export interface TreeFixture {
  /** Tier 0 (the leaf, the client's partner) first, the top last. */
  chain: PartnerFixture[];
  /** The partner ids, tier 0 first. */
  ids: string[];
  /** Tier 0: the partner referred clients are attributed to. */
  leaf: PartnerFixture;
  top: PartnerFixture;
}

export function treeItems(spec: TreeSpec, now = new Date().toISOString()): { tree: TreeFixture; items: Item[] } {
  if (!Number.isInteger(spec.tiers) || spec.tiers < 1) throw new RangeError('treeItems: tiers must be >= 1');
  const items: Item[] = [];
  const topDown: PartnerFixture[] = [];
  let parent: PartnerFixture | undefined = spec.under;
  for (let tier = spec.tiers - 1; tier >= 0; tier--) {
    const planId = spec.plans ? spec.plans[tier] : tier === spec.tiers - 1 ? spec.planId : undefined;
    const overrides = spec.overrides?.[tier];
    const built = partnerItems(
      {
        parentId: parent?.partnerId ?? null,
        parentPath: parent?.path ?? [],
        ...(planId ? { planId } : {}),
        ...(overrides ? { overrides } : {}),
        ...(spec.from ? { from: spec.from } : {}),
        name: `Tier ${tier}`,
      },
      now,
    );
    items.push(...built.items);
    topDown.push(built.partner);
    parent = built.partner;
  }
  const chain = topDown.reverse();
  return { tree: { chain, ids: chain.map((p) => p.partnerId), leaf: chain[0]!, top: chain.at(-1)! }, items };
}

/** Writes a chain of `tiers` partners (tier 0 first in what it returns). */
export async function seedTree(spec: TreeSpec): Promise<TreeFixture> {
  const { tree, items } = treeItems(spec);
  await putItems(items);
  return tree;
}

/** A plan assignment of a partner from `from` (a new plan, or overrides only): a versioned item, never a change. */
export function assignmentItems(
  a: { partnerId: string; from: string; planId?: string; overrides?: PlanOverrides },
  now = new Date().toISOString(),
): Item[] {
  return [
    assignmentEntity.item(
      {
        partnerId: a.partnerId,
        from: a.from,
        ...(a.planId ? { planId: a.planId } : {}),
        ...(a.overrides ? { overrides: a.overrides } : {}),
        by: CREATED_BY,
        reason: 'fixture',
      },
      now,
    ),
  ];
}

/** A referral link of a partner (its counters at 0). */
export function linkItems(
  partnerId: string,
  o: { code?: string; kind?: 'client' | 'sub_ib'; campaign?: string; registrations?: number } = {},
  now = new Date().toISOString(),
): { code: string; items: Item[] } {
  const code = o.code ?? `L${fixtureId()}`;
  const campaign = o.campaign ? { campaign: o.campaign } : {};
  return {
    code,
    items: [
      linkEntity.item(
        { code, partnerId, kind: o.kind ?? 'client', ...campaign, clicks: 0, registrations: o.registrations ?? 0 },
        now,
      ),
    ],
  };
}

// ------------------------------------------------------------------------------------------------ referred clients

export interface ClientSpec {
  /** The partner the client registered under (tier 0 of its chain). */
  partnerId: string;
  /** Registration (the attribution's `from` and the referral's registeredAt). */
  registeredAt: string;
  clientId?: string;
  /** The trading account's currency; default USD. */
  currency?: string;
  /** Default 'test-ib'. */
  server?: string;
  /** Registered through a new link of the partner (its code on the referral and the attribution). Default true. */
  link?: boolean;
  campaign?: string;
}

export interface ReferredClient {
  clientId: string;
  partnerId: string;
  registeredAt: string;
  /** The link's code (absent without a link). */
  code?: string;
  accountId: string;
  login: number;
  platform: 'mt5';
  server: string;
  currency: string;
}

export function referredClientItems(spec: ClientSpec, now = new Date().toISOString()): { client: ReferredClient; items: Item[] } {
  const id = fixtureId();
  const clientId = spec.clientId ?? `client-ref-${id}`;
  const currency = spec.currency ?? 'USD';
  const server = spec.server ?? 'test-ib';
  const login = nextLogin++;
  const accountId = `ta_${id}`;
  const items: Item[] = [];
  let code: string | undefined;
  if (spec.link ?? true) {
    const link = linkItems(spec.partnerId, { registrations: 1, ...(spec.campaign ? { campaign: spec.campaign } : {}) }, now);
    code = link.code;
    items.push(...link.items);
  }
  items.push(
    attributionEntity.item(
      {
        clientId,
        from: spec.registeredAt,
        partnerId: spec.partnerId,
        ...(code ? { code } : {}),
        ...(spec.campaign ? { campaign: spec.campaign } : {}),
        source: 'registration',
        by: clientId,
      },
      now,
    ),
  );
  // The referral's volumes are DynamoDB Numbers (ADDed), as newReferralWrite writes them.
  const referral = referralEntity.item(
    {
      clientId,
      partnerId: spec.partnerId,
      ...(code ? { code } : {}),
      ...(spec.campaign ? { campaign: spec.campaign } : {}),
      registeredAt: spec.registeredAt,
      volume: '0',
      windowVolume: '0',
      cpaPaid: false,
    },
    now,
  );
  const stored: Item = { ...referral, volume: 0, windowVolume: 0 } as unknown as typeof referral;
  items.push(stored);
  items.push(
    tradingAccountEntity.item(
      {
        accountId,
        clientId,
        kind: 'live',
        platform: 'mt5',
        server,
        typeId: 'standard',
        group: `real\\standard-${currency.toLowerCase()}`,
        currency,
        leverage: 30,
        status: 'active',
        access: 'full',
        login,
        idempotencyKey: `fixture-${id}`,
        requestHash: 'fixture',
      },
      now,
    ),
    loginEntity.item({ platform: 'mt5', server, login, accountId, clientId, currency }, now),
  );
  return {
    client: {
      clientId,
      partnerId: spec.partnerId,
      registeredAt: spec.registeredAt,
      ...(code ? { code } : {}),
      accountId,
      login,
      platform: 'mt5',
      server,
      currency,
    },
    items,
  };
}

export async function seedReferredClient(spec: ClientSpec): Promise<ReferredClient> {
  const { client, items } = referredClientItems(spec);
  await putItems(items);
  return client;
}

/** A versioned attribution of the client from `from` (a move; null: to no partner). Does not touch the referral. */
export function attributionItems(
  a: { clientId: string; partnerId: string | null; from: string; retroactive?: boolean },
  now = new Date().toISOString(),
): Item[] {
  return [
    attributionEntity.item(
      {
        clientId: a.clientId,
        from: a.from,
        partnerId: a.partnerId,
        source: 'move',
        by: CREATED_BY,
        reason: 'fixture move',
        ...(a.retroactive ? { retroactive: true } : {}),
      },
      now,
    ),
  ];
}

// ------------------------------------------------------------------------------------------------ deals

export interface TradeSpec {
  /** The position's side (its closing deal is the other action). Default buy. */
  side?: 'buy' | 'sell';
  /** Default EURUSD. */
  symbol?: string;
  /** Default 5. */
  digits?: number;
  /** MT5 units; default 1 lot. */
  volume?: bigint;
  /** Points. */
  openPrice: bigint;
  closePrice: bigint;
  openAt: number;
  closeAt: number;
  /** Charged per side, account minor units (<= 0). Default -350 per lot, pro rata, rounded down in magnitude. */
  openCommission?: bigint;
  closeCommission?: bigint;
  /**
   * The closing deal's notional in account minor units; default volume x 100,000 x price (a 100,000 contract
   * quoted in the account currency), rounded down; null: not reported.
   */
  notional?: bigint | null;
  /** Close only part of the position: the closing deal's volume (default: all of it). */
  closeVolume?: bigint;
  /** An existing position to close (no opening deal written). */
  positionId?: number;
  /** Write no opening deal (a position whose open is not in the deal store). */
  withoutOpen?: boolean;
}

export interface TradeFixture {
  /** The closing deal's key (`mt5#server#deal`), what `trading.deal.closed` names. */
  dealKey: string;
  positionId: number;
  open?: DealItem;
  close: DealItem;
  /** The closing deal's `trading.deal.closed` detail, as ingestion publishes it. */
  closedEvent: Record<string, unknown>;
}

const notionalOf = (volume: bigint, price: bigint, digits: number, exponent = 2) =>
  (volume * 10n * price * 10n ** BigInt(exponent)) / 10n ** BigInt(digits);

/** The opening and closing deals of a position on the client's account, as ingestion stores them. */
export function tradeItems(account: ReferredClient, t: TradeSpec, now = new Date().toISOString()): TradeFixture {
  const side = t.side ?? 'buy';
  const symbol = t.symbol ?? 'EURUSD';
  const digits = t.digits ?? 5;
  const volume = t.volume ?? LOT;
  const closeVolume = t.closeVolume ?? volume;
  const positionId = t.positionId ?? nextTicket();
  const owner = {
    platform: account.platform,
    server: account.server,
    login: account.login,
    accountId: account.accountId,
    clientId: account.clientId,
    currency: account.currency,
  } as Parameters<typeof dealRecord>[3];
  const perSide = (v: bigint) => -((350n * v) / LOT);
  const deal = (d: Partial<Deal> & Pick<Deal, 'deal' | 'action' | 'entry' | 'price' | 'volume' | 'timeMsc'>): Deal => ({
    login: account.login,
    order: d.deal,
    reason: 'client',
    symbol,
    profit: 0n,
    commission: 0n,
    storage: 0n,
    positionId,
    comment: '',
    currency: account.currency,
    digits,
    ...d,
  });
  let open: DealItem | undefined;
  if (!t.positionId && !t.withoutOpen) {
    open = dealRecord(
      'mt5',
      account.server,
      deal({
        deal: nextTicket(),
        action: side,
        entry: 'in',
        price: t.openPrice,
        volume,
        timeMsc: t.openAt,
        commission: t.openCommission ?? perSide(volume),
        notional: notionalOf(volume, t.openPrice, digits),
      }),
      owner,
      now,
    ).item;
  }
  const closeDeal = nextTicket();
  const notional = t.notional === undefined ? notionalOf(closeVolume, t.closePrice, digits) : t.notional;
  const { item: close, event } = dealRecord(
    'mt5',
    account.server,
    deal({
      deal: closeDeal,
      action: side === 'buy' ? 'sell' : 'buy',
      entry: 'out',
      price: t.closePrice,
      volume: closeVolume,
      timeMsc: t.closeAt,
      commission: t.closeCommission ?? perSide(closeVolume),
      // EURUSD-like: a point is 1.00 per lot
      profit: ((side === 'buy' ? t.closePrice - t.openPrice : t.openPrice - t.closePrice) * closeVolume) / 100n,
      ...(notional !== null ? { notional } : {}),
    }),
    owner,
    now,
  );
  return {
    dealKey: `mt5#${account.server}#${closeDeal}`,
    positionId,
    ...(open ? { open } : {}),
    close,
    closedEvent: event.detail as Record<string, unknown>,
  };
}

/** Writes a position's opening (unless positionId/withoutOpen) and closing deals. */
export async function seedTrade(account: ReferredClient, t: TradeSpec): Promise<TradeFixture> {
  const trade = tradeItems(account, t);
  await putItems(trade.open ? [trade.open, trade.close] : [trade.close]);
  return trade;
}

// ------------------------------------------------------------------------------------------------ reading

/** A source's lines (sorted by lineId) and result, strongly consistent. */
export async function linesOf(sourceKey: string): Promise<{ lines: LineItem[]; result: ResultItem | undefined }> {
  const { lines, result } = await sourceLines(sourceKey);
  return { lines: [...lines].sort((a, b) => (a.lineId < b.lineId ? -1 : a.lineId > b.lineId ? 1 : 0)), result };
}

/** Sum of lines' amounts per `partnerId#rule#currency` (minor units). */
export function sums(
  lines: readonly { partnerId: string; rule: string; currency: string; amount: string }[],
): Record<string, bigint> {
  const out: Record<string, bigint> = {};
  for (const l of lines) {
    const k = `${l.partnerId}#${l.rule}#${l.currency}`;
    out[k] = (out[k] ?? 0n) + BigInt(l.amount);
  }
  return out;
}

/** The referral item as stored (its volumes as Numbers), strongly consistent. */
export async function rawReferral(clientId: string): Promise<Record<string, unknown> | undefined> {
  const res = await ddb().send(
    new QueryCommand({
      TableName: env.tableName,
      KeyConditionExpression: 'pk = :p AND sk = :s',
      ExpressionAttributeValues: { ':p': partnerKeys.referral(clientId).pk, ':s': partnerKeys.referral(clientId).sk },
      ConsistentRead: true,
    }),
  );
  return res.Items?.[0];
}
