/**
 * The partner dashboard and the staff commission reports over HTTP against a real table on DynamoDB Local (issue 16
 * part 5; functions/api/partner-dashboard.ts, partners-reports.ts; functions/app/partners/dashboard*.ts, explain.ts,
 * fraud-flag.ts, replay-period.ts). The network, plans, referred clients and deals are written by
 * test/support/partners.ts; the deals are accrued, the funnel milestones recorded and the clicks counted by the real
 * use cases, so every count and amount is known exactly.
 *
 * The network: ROOT (tier 2 from the leaf) -> MID -> LEAF, the standard plan assigned to ROOT. ROOT referred ANNA
 * (verified, funded, traded 10 days ago), DORA (in review, never traded) and ERIK (traded 40 days ago); LEAF referred
 * BRUNO (traded). OTHER is an unrelated root with its own client CLARA.
 *
 * What it proves, by the modules' invariants:
 * - the network is the current tree under the caller with counts per node and per tier; its own upline is not shown
 * - a referred client is shown with only what a partner may see: never documents, address, email, phone, date of
 *   birth or the full last name (no such key, no such value anywhere in the response)
 * - sub-partners' clients are counts and aggregates only: never a row, never a key of the accruals by client
 * - the KYC stage and active/dormant (DORMANT_AFTER_DAYS) follow the referral's milestones and last trade
 * - the accruals are the exact sums of the partner's lines per currency, by day, rule or client; the period is
 *   bounded (422 invalid_range, range_too_long) and malformed input is 400
 * - the funnel is the links' counters per link, per campaign and in total, with exact 4-decimal ratios (null over 0)
 * - ownership: every route is the caller's own partner; a non-partner is 404 partner_not_found, a pending partner
 *   409 partner_not_approved, another partner's cursor 400 invalid_cursor, staff 403
 * - the explanation shows the stored result and lines (rate, inputs, plan version) beside priceDeal's recomputation
 *   and says whether they are equal; a retroactive plan change makes them differ until the deal is re-accrued
 * - the fraud flag claws the client's commissions back as a `fraud_<ulid>` cause, audited with the staff actor, and
 *   never twice; the replay compares a period to the cent (max 31 days)
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { accrueDealCommissions } from '#app/partners/accrue.ts';
import { DORMANT_AFTER_DAYS } from '#app/partners/dashboard.ts';
import { recordDeposit, recordVerified } from '#app/partners/funnel.ts';
import { clickEntity, recordClick } from '#store/partners.ts';
import { useHandlerEnv } from '../support/api-env.ts';
import { auditTrail } from '../support/audit.ts';
import { PERSONAL_DETAILS, seedClient } from '../support/clients.ts';
import { apiEvent, bodyOf, claimsFor, lambdaContext } from '../support/events.ts';
import {
  assignmentItems,
  DAY_MS,
  iso,
  linesOf,
  linkItems,
  partnerItems,
  putItems,
  type ReferredClient,
  seedPlan,
  seedReferredClient,
  seedTrade,
  seedTree,
  type TradeFixture,
  type TradeSpec,
  type TreeFixture,
} from '../support/partners.ts';

// The app modules imported below build Powertools' logger and metrics at import: quiet before they load.
vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
});

type Res = { statusCode: number; body: string };
type Handler = (e: ReturnType<typeof apiEvent>, c: ReturnType<typeof lambdaContext>) => Promise<Res>;
type Claims = Record<string, string>;
// biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field
type Body = any;

const ctx = { requestId: 'test', locale: 'en' };
let dashboard: Handler;
let reports: Handler;

const call = (
  h: Handler,
  method: string,
  resource: string,
  o: { claims: Claims; params?: Record<string, string>; query?: Record<string, string>; body?: unknown; key?: string },
) =>
  h(
    apiEvent({
      method,
      resource,
      claims: o.claims,
      ...(o.params ? { pathParameters: o.params } : {}),
      ...(o.query ? { query: o.query } : {}),
      ...(o.body !== undefined ? { body: o.body } : {}),
      ...(o.key ? { headers: { 'Idempotency-Key': o.key } } : {}),
    }),
    lambdaContext(),
  );
const get = (resource: string, claims: Claims, query?: Record<string, string>) =>
  call(dashboard, 'GET', resource, { claims, ...(query ? { query } : {}) });
const codeOf = (res: Res) => bodyOf<{ code: string }>(res).code;
const staff = (role: string) => claimsFor(`staff-${role}-${Math.random().toString(36).slice(2, 8)}`, [role]);

const NOW = Date.now();
const REGISTERED = iso(NOW - 20 * DAY_MS);
const T0 = NOW - 10 * DAY_MS;

/** 0.37 lots of EURUSD bought at 1.10000 and sold at 1.10050 ten minutes later (it qualifies on the standard plan). */
const trade = (at: number, volume = 3_700n): TradeSpec => ({
  volume,
  openPrice: 110_000n,
  closePrice: 110_050n,
  openAt: at,
  closeAt: at + 600_000,
  openCommission: -129n,
  closeCommission: -130n,
});

/** The PII a partner must never see. */
const FORBIDDEN_KEYS = [
  'email',
  'phone',
  'dateOfBirth',
  'address',
  'line1',
  'postalCode',
  'city',
  'personalDetails',
  'documents',
  'lastName',
  'nationality',
  'taxResidence',
  'kyc',
];
function keysOf(value: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const v of value) keysOf(v, out);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.add(k);
      keysOf(v, out);
    }
  }
  return out;
}

let plan: { planId: string };
let tree: TreeFixture;
let root: { partnerId: string; claims: Claims };
let anna: ReferredClient;
let dora: ReferredClient;
let erik: ReferredClient;
let bruno: ReferredClient;
let clara: ReferredClient;
let other: { partnerId: string; claims: Claims };
let annaTrade: TradeFixture;
let brunoTrade: TradeFixture;
let erikTrade: TradeFixture;
let claraTrade: TradeFixture;
let campaignCode: string;

beforeAll(async () => {
  await useHandlerEnv('pdash');
  dashboard = (await import('#functions/api/partner-dashboard.ts')).handler as unknown as Handler;
  reports = (await import('#functions/api/partners-reports.ts')).handler as unknown as Handler;

  plan = await seedPlan();
  tree = await seedTree({ tiers: 3, planId: plan.planId });
  root = { partnerId: tree.top.partnerId, claims: claimsFor(tree.top.clientId, ['client']) };

  // ROOT's own clients (with full profiles: the PII the dashboard must not show)
  anna = await seedReferredClient({ partnerId: root.partnerId, registeredAt: REGISTERED });
  await seedClient({ clientId: anna.clientId, kycStatus: 'approved' });
  dora = await seedReferredClient({ partnerId: root.partnerId, registeredAt: iso(NOW - 5 * DAY_MS), campaign: 'spring' });
  await seedClient({ clientId: dora.clientId, firstName: 'Dora', lastName: 'Lindqvist', kycStatus: 'in_review' });
  erik = await seedReferredClient({ partnerId: root.partnerId, registeredAt: iso(NOW - 60 * DAY_MS) });
  await seedClient({ clientId: erik.clientId, firstName: 'Erik', lastName: 'Ström' });
  // LEAF's client: ROOT sees it only as counts
  bruno = await seedReferredClient({ partnerId: tree.leaf.partnerId, registeredAt: REGISTERED });
  await seedClient({ clientId: bruno.clientId, firstName: 'Bruno', lastName: 'Secret' });
  // an unrelated network
  const otherTree = await seedTree({ tiers: 1, planId: plan.planId });
  other = { partnerId: otherTree.top.partnerId, claims: claimsFor(otherTree.top.clientId, ['client']) };
  clara = await seedReferredClient({ partnerId: other.partnerId, registeredAt: REGISTERED });
  await seedClient({ clientId: clara.clientId, firstName: 'Clara', lastName: 'Other' });
  const campaignLink = linkItems(root.partnerId, { campaign: 'spring' });
  campaignCode = campaignLink.code;
  await putItems(campaignLink.items);

  // ANNA: four clicks on her link, verified, funded with 250.00, traded
  // (the fixture's link codes are lower case, which the click use case upper-cases: the store records them as they are)
  for (const v of ['v1', 'v2', 'v3', 'v4']) {
    const at = iso(NOW - 21 * DAY_MS);
    const click = { visitorId: `${v}-${anna.clientId}`, at, code: anna.code!, partnerId: root.partnerId, expiresAt: 0 };
    expect(await recordClick(clickEntity.item(click, at))).toBe(true);
  }
  await recordVerified(anna.clientId, iso(NOW - 19 * DAY_MS), ctx);
  await recordDeposit(
    { clientId: anna.clientId, amount: '250.00', currency: 'USD', at: iso(NOW - 18 * DAY_MS), first: true },
    ctx,
  );
  annaTrade = await seedTrade(anna, trade(T0));
  brunoTrade = await seedTrade(bruno, trade(T0 + 1_000));
  erikTrade = await seedTrade(erik, trade(NOW - 40 * DAY_MS, 10_000n));
  claraTrade = await seedTrade(clara, trade(T0 + 2_000));
  for (const t of [annaTrade, brunoTrade, erikTrade, claraTrade]) {
    expect((await accrueDealCommissions(t.dealKey, ctx)).outcome).toBe('accrued');
  }
});

/** ROOT's own lines (every source), read from the sources written above. */
async function rootLines() {
  const out = [];
  for (const t of [annaTrade, brunoTrade, erikTrade]) {
    out.push(...(await linesOf(t.dealKey)).lines.filter((l) => l.partnerId === root.partnerId));
  }
  return out;
}

describe('GET /v1/partners/me/network', () => {
  it('is the current tree under the caller with counts per node and per tier, its own upline not shown', async () => {
    const res = await get('/v1/partners/me/network', root.claims);
    expect(res.statusCode, res.body).toBe(200);
    const n: Body = bodyOf(res);
    expect(n.partnerId).toBe(root.partnerId);
    expect(n.truncated).toBe(false);
    expect(n.nodes.map((x: Body) => [x.partnerId, x.parentId, x.depth, x.subPartners, x.clients])).toEqual([
      [root.partnerId, null, 0, 1, 3],
      [tree.chain[1]!.partnerId, root.partnerId, 1, 1, 0],
      [tree.leaf.partnerId, tree.chain[1]!.partnerId, 2, 0, 1],
    ]);
    const me = n.nodes[0];
    expect(me.status).toBe('approved');
    expect(me.totals).toEqual({
      clients: 3,
      verified: 1,
      funded: 1,
      trading: 2,
      active: 1,
      volumeLots: '1.37',
      firstDeposits: [{ amount: '250.00', currency: 'USD' }],
    });
    expect(n.tiers.map((t: Body) => [t.depth, t.partners, t.totals.clients, t.totals.volumeLots])).toEqual([
      [0, 1, 3, '1.37'],
      [1, 1, 0, '0.00'],
      [2, 1, 1, '0.37'],
    ]);
    expect(n.totals).toMatchObject({ partners: 3, clients: 4, trading: 3, active: 2, volumeLots: '1.74' });
  });

  it("sub-partners' clients are counts only: no client id of theirs, nor another network's, appears", async () => {
    const res = await get('/v1/partners/me/network', root.claims);
    for (const id of [bruno.clientId, clara.clientId, other.partnerId, anna.clientId]) expect(res.body).not.toContain(id);
  });

  it("a partner's network holds its own sub-tree only", async () => {
    const mid = claimsFor(tree.chain[1]!.clientId, ['client']);
    const n: Body = bodyOf(await get('/v1/partners/me/network', mid));
    expect(n.nodes.map((x: Body) => [x.partnerId, x.parentId, x.depth])).toEqual([
      [tree.chain[1]!.partnerId, null, 0],
      [tree.leaf.partnerId, tree.chain[1]!.partnerId, 1],
    ]);
    expect(JSON.stringify(n)).not.toContain(root.partnerId);
  });
});

describe('GET /v1/partners/me/clients', () => {
  it("lists the caller's own referrals newest first with only what a partner may see", async () => {
    const res = await get('/v1/partners/me/clients', root.claims);
    expect(res.statusCode, res.body).toBe(200);
    const page: Body = bodyOf(res);
    expect(page.hasMore).toBe(false);
    expect(page.items.map((c: Body) => c.clientId)).toEqual([dora.clientId, anna.clientId, erik.clientId]);
    const [d, a, e] = page.items;
    expect(a).toEqual({
      clientId: anna.clientId,
      displayName: 'Anna Maria E.',
      country: 'DE',
      registeredAt: REGISTERED,
      kycStage: 'verified',
      firstDeposit: { amount: '250.00', currency: 'USD', at: iso(NOW - 18 * DAY_MS) },
      volumeLots: '0.37',
      activity: 'active',
      lastTradeAt: iso(T0 + 600_000),
      code: anna.code,
      campaign: null,
    });
    expect(d).toMatchObject({
      displayName: 'Dora L.',
      kycStage: 'pending',
      firstDeposit: null,
      volumeLots: '0.00',
      activity: 'dormant',
      lastTradeAt: null,
      campaign: 'spring',
    });
    // last trade 40 days ago: more than DORMANT_AFTER_DAYS
    expect(DORMANT_AFTER_DAYS).toBe(30);
    expect(e).toMatchObject({ displayName: 'Erik S.', kycStage: 'not_started', volumeLots: '1.00', activity: 'dormant' });
  });

  it('never shows documents, address, email, phone, date of birth or the full last name (no such key, no such value)', async () => {
    const res = await get('/v1/partners/me/clients', root.claims);
    const keys = keysOf(bodyOf(res));
    for (const k of FORBIDDEN_KEYS) expect(keys.has(k), `key ${k}`).toBe(false);
    for (const value of [
      `${anna.clientId}@example.test`,
      PERSONAL_DETAILS.phone,
      PERSONAL_DETAILS.address.line1,
      PERSONAL_DETAILS.address.postalCode,
      '1984-08-12',
      'Eriksson',
      'Lindqvist',
    ]) {
      expect(res.body).not.toContain(value);
    }
  });

  it("sub-partners' and other networks' clients never appear as rows", async () => {
    const res = await get('/v1/partners/me/clients', root.claims, { limit: '100' });
    for (const id of [bruno.clientId, clara.clientId]) expect(res.body).not.toContain(id);
    expect(res.body).not.toContain('Bruno');
    const others: Body = bodyOf(await get('/v1/partners/me/clients', other.claims));
    expect(others.items.map((c: Body) => c.clientId)).toEqual([clara.clientId]);
  });

  it("pages with a cursor; another partner's cursor is 400 invalid_cursor", async () => {
    const first: Body = bodyOf(await get('/v1/partners/me/clients', root.claims, { limit: '2' }));
    expect(first.items).toHaveLength(2);
    expect(first.hasMore).toBe(true);
    const second: Body = bodyOf(await get('/v1/partners/me/clients', root.claims, { limit: '2', cursor: first.nextCursor }));
    expect(second.items.map((c: Body) => c.clientId)).toEqual([erik.clientId]);
    const stolen = await get('/v1/partners/me/clients', other.claims, { limit: '2', cursor: first.nextCursor });
    expect(stolen.statusCode).toBe(400);
    expect(codeOf(stolen)).toBe('invalid_cursor');
  });

  it('bad paging input is 400 with its code', async () => {
    for (const [query, code] of [
      [{ limit: '0' }, 'validation_failed'],
      [{ limit: '101' }, 'validation_failed'],
      [{ cursor: 'not a cursor!' }, 'invalid_cursor'],
      [{ partnerId: other.partnerId }, 'validation_failed'],
    ] as const) {
      const res = await get('/v1/partners/me/clients', root.claims, query);
      expect(res.statusCode, JSON.stringify(query)).toBe(400);
      expect(codeOf(res)).toBe(code);
    }
  });
});

describe('GET /v1/partners/me/accruals', () => {
  const period = () => ({ from: iso(NOW - DAY_MS), to: iso(Date.now() + 60_000) });

  it("sums the partner's lines exactly per currency, by rule", async () => {
    const lines = await rootLines();
    expect(lines.length).toBeGreaterThan(0);
    const res = await get('/v1/partners/me/accruals', root.claims, { ...period(), groupBy: 'rule' });
    expect(res.statusCode, res.body).toBe(200);
    const a: Body = bodyOf(res);
    const total = lines.reduce((s, l) => s + BigInt(l.amount), 0n);
    expect(a.totals).toEqual([{ amount: (Number(total) / 100).toFixed(2), currency: 'USD', lines: lines.length }]);
    const byRule = new Map<string, bigint>();
    for (const l of lines) byRule.set(l.rule, (byRule.get(l.rule) ?? 0n) + BigInt(l.amount));
    expect(a.groups.map((g: Body) => g.key)).toEqual([...byRule.keys()].sort());
    for (const g of a.groups) expect(g.sums[0].amount).toBe((Number(byRule.get(g.key)!) / 100).toFixed(2));
    // ROOT earns tier 0 rules on its own clients and an override (tier 2) on LEAF's
    expect(a.groups.map((g: Body) => g.key)).toEqual(['commission_share', 'override', 'per_lot', 'spread_share']);
  });

  it('by client: its own clients by id, what it earned through sub-partners as tier:<n>, never their client ids', async () => {
    const res = await get('/v1/partners/me/accruals', root.claims, { ...period(), groupBy: 'client' });
    const a: Body = bodyOf(res);
    expect(a.groups.map((g: Body) => g.key)).toEqual([anna.clientId, erik.clientId, 'tier:2'].sort());
    expect(res.body).not.toContain(bruno.clientId);
    const lines = await rootLines();
    const tier2 = lines.filter((l) => l.tier === 2).reduce((s, l) => s + BigInt(l.amount), 0n);
    expect(a.groups.find((g: Body) => g.key === 'tier:2').sums[0].amount).toBe((Number(tier2) / 100).toFixed(2));
  });

  it('by day (tenant-local dates, the default grouping); nothing outside [from, to)', async () => {
    const a: Body = bodyOf(await get('/v1/partners/me/accruals', root.claims, period()));
    expect(a.groupBy).toBe('day');
    expect(a.timeZone).toBeTruthy();
    expect(a.groups.every((g: Body) => /^\d{4}-\d{2}-\d{2}$/.test(g.key))).toBe(true);
    const before: Body = bodyOf(
      await get('/v1/partners/me/accruals', root.claims, { from: iso(NOW - 30 * DAY_MS), to: iso(NOW - 2 * DAY_MS) }),
    );
    expect(before.totals).toEqual([]);
    expect(before.groups).toEqual([]);
  });

  it("another partner's accruals never include this partner's lines", async () => {
    const a: Body = bodyOf(await get('/v1/partners/me/accruals', other.claims, { ...period(), groupBy: 'client' }));
    expect(a.groups.map((g: Body) => g.key)).toEqual([clara.clientId]);
  });

  it('a period of exactly 92 days is served; 422 range_too_long beyond, 422 invalid_range when from is not before to', async () => {
    const from = NOW - 100 * DAY_MS;
    expect(
      (await get('/v1/partners/me/accruals', root.claims, { from: iso(from), to: iso(from + 92 * DAY_MS) })).statusCode,
    ).toBe(200);
    for (const [q, code] of [
      [{ from: iso(from), to: iso(from + 92 * DAY_MS + 1) }, 'range_too_long'],
      [{ from: iso(NOW), to: iso(NOW) }, 'invalid_range'],
      [{ from: iso(NOW), to: iso(NOW - DAY_MS) }, 'invalid_range'],
    ] as const) {
      const res = await get('/v1/partners/me/accruals', root.claims, q);
      expect(res.statusCode, JSON.stringify(q)).toBe(422);
      expect(codeOf(res)).toBe(code);
    }
  });

  it('malformed input is 400 validation_failed', async () => {
    const queries: Record<string, string>[] = [
      { to: iso(NOW) },
      { from: 'yesterday', to: iso(NOW) },
      { from: iso(NOW - DAY_MS), to: '2026-13-01' },
      { from: iso(NOW - DAY_MS), to: iso(NOW), groupBy: 'week' },
      { from: iso(NOW - DAY_MS), to: iso(NOW), partnerId: other.partnerId },
    ];
    for (const q of queries) {
      const res = await get('/v1/partners/me/accruals', root.claims, q);
      expect(res.statusCode, JSON.stringify(q)).toBe(400);
      expect(codeOf(res)).toBe('validation_failed');
    }
  });
});

describe('GET /v1/partners/me/links/funnel', () => {
  it('is each link’s counters with exact 4-decimal conversions (null over 0), per campaign and in total', async () => {
    const res = await get('/v1/partners/me/links/funnel', root.claims);
    expect(res.statusCode, res.body).toBe(200);
    const f: Body = bodyOf(res);
    const annaLink = f.links.find((l: Body) => l.code === anna.code);
    expect(annaLink.funnel).toEqual({ clicks: 4, registrations: 1, verified: 1, funded: 1, trading: 1 });
    expect(annaLink.conversion).toEqual({
      registrationPerClick: '0.2500',
      verifiedPerRegistration: '1.0000',
      fundedPerVerified: '1.0000',
      tradingPerFunded: '1.0000',
      tradingPerRegistration: '1.0000',
    });
    const empty = f.links.find((l: Body) => l.code === campaignCode);
    expect(empty.funnel).toEqual({ clicks: 0, registrations: 0, verified: 0, funded: 0, trading: 0 });
    expect(empty.conversion.registrationPerClick).toBeNull();
    // three client links (ANNA's, DORA's with campaign spring, ERIK's) and the campaign link
    expect(f.total.links).toBe(4);
    expect(f.total.funnel).toEqual({ clicks: 4, registrations: 3, verified: 1, funded: 1, trading: 2 });
    expect(f.total.conversion).toMatchObject({ registrationPerClick: '0.7500', tradingPerRegistration: '0.6667' });
    expect(f.campaigns.map((c: Body) => [c.campaign, c.links, c.funnel.registrations])).toEqual([
      ['spring', 2, 1],
      [null, 2, 2],
    ]);
    expect(res.body).not.toContain(bruno.code!);
  });
});

describe('ownership and roles', () => {
  const ROUTES = ['/v1/partners/me/network', '/v1/partners/me/clients', '/v1/partners/me/links/funnel'];
  const accrualsQuery = { from: iso(NOW - DAY_MS), to: iso(NOW) };

  it('a client who is not a partner is 404 partner_not_found on every route', async () => {
    const { claims } = await seedClient();
    for (const r of [...ROUTES, '/v1/partners/me/accruals']) {
      const res = await get(r, claims, r.endsWith('accruals') ? accrualsQuery : undefined);
      expect(res.statusCode, r).toBe(404);
      expect(codeOf(res)).toBe('partner_not_found');
    }
  });

  it('a partner not approved is 409 partner_not_approved', async () => {
    const pending = partnerItems({ status: 'pending' });
    await putItems(pending.items);
    const claims = claimsFor(pending.partner.clientId, ['client']);
    for (const r of [...ROUTES, '/v1/partners/me/accruals']) {
      const res = await get(r, claims, r.endsWith('accruals') ? accrualsQuery : undefined);
      expect(res.statusCode, r).toBe(409);
      expect(codeOf(res)).toBe('partner_not_approved');
    }
  });

  it('staff are 403 forbidden_role on the partner routes; clients and sales on the staff routes', async () => {
    expect((await get('/v1/partners/me/network', staff('admin'))).statusCode).toBe(403);
    const explain = (claims: Claims) =>
      call(reports, 'GET', '/v1/admin/partner-deals/{dealKey}/explanation', { claims, params: { dealKey: annaTrade.dealKey } });
    expect((await explain(root.claims)).statusCode).toBe(403);
    expect((await explain(staff('sales'))).statusCode).toBe(403);
    const flag = await call(reports, 'POST', '/v1/admin/clients/{clientId}/fraud-flag', {
      claims: staff('finance'),
      params: { clientId: anna.clientId },
      body: { reason: 'not allowed' },
    });
    expect(flag.statusCode).toBe(403);
    const replay = await call(reports, 'POST', '/v1/admin/partners/replay', {
      claims: root.claims,
      body: { from: iso(NOW - DAY_MS), to: iso(NOW) },
    });
    expect(replay.statusCode).toBe(403);
  });
});

describe('GET /v1/admin/partner-deals/{dealKey}/explanation', () => {
  const explain = (dealKey: string, claims = staff('compliance')) =>
    call(reports, 'GET', '/v1/admin/partner-deals/{dealKey}/explanation', { claims, params: { dealKey } });

  it('shows the stored result and every line with rate, inputs and plan version beside the recomputation: equal', async () => {
    const res = await explain(brunoTrade.dealKey, staff('finance'));
    expect(res.statusCode, res.body).toBe(200);
    const e: Body = bodyOf(res);
    const { lines } = await linesOf(brunoTrade.dealKey);
    expect(e.dealKey).toBe(brunoTrade.dealKey);
    expect(e.deal).toMatchObject({ clientId: bruno.clientId, symbol: 'EURUSD', lots: '0.37', price: '1.10050', entry: 'out' });
    expect(e.stored.result.chain.map((m: Body) => [m.partnerId, m.tier, m.planId, m.planVersion, m.qualified])).toEqual([
      [tree.leaf.partnerId, 0, plan.planId, 1, true],
      [tree.chain[1]!.partnerId, 1, plan.planId, 1, true],
      [root.partnerId, 2, plan.planId, 1, true],
    ]);
    expect(e.stored.lines).toHaveLength(lines.length);
    for (const l of e.stored.lines) {
      expect(l.rate).toBeTruthy();
      expect(Object.keys(l.inputs).length).toBeGreaterThan(0);
      expect(l.planVersion).toBe(1);
    }
    expect(e.recomputed.outcome).toBe('priced');
    expect(e.recomputed.members.map((m: Body) => [m.partnerId, m.planFrom, m.qualified])).toEqual([
      [tree.leaf.partnerId, root.partnerId, true],
      [tree.chain[1]!.partnerId, root.partnerId, true],
      [root.partnerId, root.partnerId, true],
    ]);
    expect(e.recomputed.lines.map((l: Body) => [l.partnerId, l.rule, l.amount]).sort()).toEqual(
      e.stored.lines.map((l: Body) => [l.partnerId, l.rule, l.amount]).sort(),
    );
    expect(e.comparison.length).toBe(lines.length);
    expect(e.comparison.every((c: Body) => c.equal && c.stored === c.expected)).toBe(true);
    expect(e.equal).toBe(true);
  });

  it('a retroactive rate change makes the recomputation differ until the deal is re-accrued (adjustment lines)', async () => {
    // ROOT's own EURUSD rate is 11.00 from before ANNA's deal (the same plan: its sub-network still inherits it)
    await putItems(
      assignmentItems({
        partnerId: root.partnerId,
        planId: plan.planId,
        overrides: { perLot: { symbols: { EURUSD: '11.00' } } },
        from: iso(T0 - DAY_MS),
      }),
    );
    const before: Body = bodyOf(await explain(annaTrade.dealKey));
    expect(before.equal).toBe(false);
    expect(before.comparison.filter((c: Body) => !c.equal)).toEqual([
      { partnerId: root.partnerId, rule: 'per_lot', currency: 'USD', stored: '2.59', expected: '4.07', equal: false },
    ]);
    expect(before.recomputed.lines.find((l: Body) => l.rule === 'per_lot')).toMatchObject({ rate: '11.00', amount: '4.07' });

    expect((await accrueDealCommissions(annaTrade.dealKey, ctx)).outcome).toBe('adjusted');
    const after: Body = bodyOf(await explain(annaTrade.dealKey));
    expect(after.equal).toBe(true);
    expect(after.stored.lines.filter((l: Body) => l.kind === 'adjustment').map((l: Body) => [l.rule, l.amount])).toEqual([
      ['per_lot', '1.48'],
    ]);
    // LEAF's client's deal is priced as before (the override is ROOT's own)
    expect(bodyOf<Body>(await explain(brunoTrade.dealKey)).equal).toBe(true);
  });

  it('accepts the key URL-encoded; 400 invalid_deal_key for a malformed key, 404 deal_not_found for an unknown one', async () => {
    const encoded = await call(reports, 'GET', '/v1/admin/partner-deals/{dealKey}/explanation', {
      claims: staff('admin'),
      params: { dealKey: encodeURIComponent(erikTrade.dealKey) },
    });
    expect(encoded.statusCode, encoded.body).toBe(200);
    expect(bodyOf<Body>(encoded).dealKey).toBe(erikTrade.dealKey);
    for (const bad of ['garbage', 'mt5#srv', 'mt5#srv#0', 'mt5#srv#12x', 'mt5/srv/12']) {
      const res = await explain(bad);
      expect(res.statusCode, bad).toBe(400);
      expect(codeOf(res)).toBe('invalid_deal_key');
    }
    const unknown = await explain('mt5#test-ib#999999999999');
    expect(unknown.statusCode).toBe(404);
    expect(codeOf(unknown)).toBe('deal_not_found');
  });
});

describe('POST /v1/admin/clients/{clientId}/fraud-flag', () => {
  const flag = (clientId: string, body: unknown, claims = staff('compliance')) =>
    call(reports, 'POST', '/v1/admin/clients/{clientId}/fraud-flag', { claims, params: { clientId }, body });

  it('claws back every line of the client in the window as a fraud_<ulid> cause, audited with the staff actor', async () => {
    const claims = staff('compliance');
    const lines = (await linesOf(erikTrade.dealKey)).lines;
    const res = await flag(erik.clientId, { reason: 'Bonus abuse ring' }, claims);
    expect(res.statusCode, res.body).toBe(200);
    const f: Body = bodyOf(res);
    expect(f.causeId).toMatch(/^fraud_[0-9a-z]{26}$/);
    expect(f.outcome).toBe('clawed_back');
    expect(f.lines).toBe(lines.length);
    const earned = lines.reduce((s, l) => s + BigInt(l.amount), 0n);
    expect(f.totals).toEqual([{ partnerId: root.partnerId, currency: 'USD', amount: (Number(-earned) / 100).toFixed(2) }]);
    const trail = await auditTrail('partner-clawback', f.causeId);
    expect(trail.length).toBeGreaterThan(0);
    expect(trail[0].actor).toEqual({ id: claims.sub, role: 'compliance' });
    expect(trail[0].reason).toBe('Bonus abuse ring');

    // the explanation shows the reversal beside the deal's lines (and still compares the deal's own lines)
    const e: Body = bodyOf(
      await call(reports, 'GET', '/v1/admin/partner-deals/{dealKey}/explanation', {
        claims,
        params: { dealKey: erikTrade.dealKey },
      }),
    );
    expect(e.stored.clawbacks.map((l: Body) => l.clawsBack).sort()).toEqual(lines.map((l) => l.lineId).sort());
    expect(e.equal).toBe(true);
    // the partner's accruals net the clawback
    const a: Body = bodyOf(
      await get('/v1/partners/me/accruals', root.claims, {
        from: iso(NOW - DAY_MS),
        to: iso(Date.now() + 60_000),
        groupBy: 'client',
      }),
    );
    expect(a.groups.find((g: Body) => g.key === erik.clientId).sums[0].amount).toBe('0.00');
  });

  it('a second flag reverses nothing twice (nothing_to_claw); a client with no partner is not_referred', async () => {
    const again: Body = bodyOf(await flag(erik.clientId, { reason: 'Flagged again' }));
    expect(again).toMatchObject({ outcome: 'nothing_to_claw', lines: 0 });
    const { clientId } = await seedClient();
    const plain: Body = bodyOf(await flag(clientId, { reason: 'Not referred' }));
    expect(plain).toMatchObject({ outcome: 'not_referred', lines: 0, totals: [] });
  });

  it('bad input gets its code and changes nothing', async () => {
    const before = (await linesOf(annaTrade.dealKey)).lines.length;
    const unknown = await flag('client-nobody-here', { reason: 'Who is this' });
    expect(unknown.statusCode).toBe(404);
    expect(codeOf(unknown)).toBe('client_not_found');
    for (const body of [{}, { reason: 'no' }, { reason: 'x'.repeat(501) }, { reason: 'Valid reason', extra: 1 }]) {
      const res = await flag(anna.clientId, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(codeOf(res)).toBe('validation_failed');
    }
    const bad = await flag('bad id!', { reason: 'Valid reason' });
    expect(bad.statusCode).toBe(400);
    expect((await linesOf(annaTrade.dealKey)).lines.length).toBe(before);
  });
});

describe('POST /v1/admin/partners/replay', () => {
  const replay = (body: unknown, claims = staff('finance')) =>
    call(reports, 'POST', '/v1/admin/partners/replay', { claims, body });

  it('recomputes the period from the stored facts and matches the stored lines to the cent', async () => {
    const res = await replay({ from: iso(NOW - 30 * DAY_MS), to: iso(NOW) }, staff('compliance'));
    expect(res.statusCode, res.body).toBe(200);
    const r: Body = bodyOf(res);
    expect(r.deals).toBeGreaterThanOrEqual(3);
    expect(r.failed).toBe(0);
    expect(r.mismatches).toEqual([]);
    for (const t of r.totals) expect(t.stored).toBe(t.expected);
  });

  it('422 range_too_long beyond 31 days, 422 invalid_range when from is not before to, 400 when malformed', async () => {
    const from = NOW - 40 * DAY_MS;
    for (const [body, code] of [
      [{ from: iso(from), to: iso(from + 31 * DAY_MS + 1) }, 'range_too_long'],
      [{ from: iso(NOW), to: iso(NOW) }, 'invalid_range'],
    ] as const) {
      const res = await replay(body);
      expect(res.statusCode, JSON.stringify(body)).toBe(422);
      expect(codeOf(res)).toBe(code);
    }
    for (const body of [{ from: iso(NOW - DAY_MS) }, { from: 'today', to: iso(NOW) }, { from: iso(from), to: iso(NOW), x: 1 }]) {
      const res = await replay(body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(codeOf(res)).toBe('validation_failed');
    }
  });
});
