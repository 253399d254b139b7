/**
 * The partner network over its routes against a real table (DynamoDB Local; Cognito mocked for registrations):
 * applying and deciding (KYC required for approval, holds), staff-created partners, referral links and the public
 * click recorder, attribution at registration (an unknown or inactive code attributes nothing and never fails the
 * registration; last and first touch over recorded clicks), sub-IBs through sub_ib links and the tenant's maximum
 * depth, versioned moves of clients and sub-IBs (chainAt before and after the effective date; cycles, depth,
 * past dates), and commission plans with their versions, assignments and inheritance down the tree. Every refusal
 * is its specific code and writes nothing; a partner sees only its own links.
 */
import { randomUUID } from 'node:crypto';
import {
  AdminAddUserToGroupCommand,
  AdminCreateUserCommand,
  AdminDeleteUserCommand,
  AdminSetUserPasswordCommand,
  CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ChainEntry } from '#app/partners/chain.ts';
import { parseTenantConfig } from '#domain/tenant/config.ts';
import { ddb } from '#shared/clients.ts';
import { setTenantConfig, tenantConfig } from '#shared/tenant.ts';
import { TEST_POOL_ENV, useHandlerEnv } from '../support/api-env.ts';
import { seedClient } from '../support/clients.ts';
import { countItemsBesidesSecurityEvents } from '../support/dynamodb.ts';
import { apiEvent, bodyOf, claimsFor, lambdaContext } from '../support/events.ts';

type Res = { statusCode: number; body: string };
type Handler = (e: ReturnType<typeof apiEvent>, c: ReturnType<typeof lambdaContext>) => Promise<Res>;
type Claims = Record<string, string>;
type Store = typeof import('#store/partners.ts');

const cognito = mockClient(CognitoIdentityProviderClient);
let table: string;
let partners: Handler;
let admin: Handler;
let registrations: Handler;
let chainAt: (clientId: string, at: string) => Promise<ChainEntry[]>;
let store: Store;

beforeAll(async () => {
  table = await useHandlerEnv('partners-net', TEST_POOL_ENV);
  partners = (await import('#functions/api/partners.ts')).handler as Handler;
  admin = (await import('#functions/api/partners-admin.ts')).handler as Handler;
  registrations = (await import('#functions/api/registrations.ts')).handler as Handler;
  chainAt = (await import('#app/partners/chain.ts')).chainAt;
  store = await import('#store/partners.ts');
});
afterAll(() => cognito.restore());
beforeEach(() => {
  cognito.reset();
  cognito.on(AdminCreateUserCommand).callsFake(async () => ({ User: { Attributes: [{ Name: 'sub', Value: randomUUID() }] } }));
  cognito.on(AdminSetUserPasswordCommand).resolves({});
  cognito.on(AdminAddUserToGroupCommand).resolves({});
  cognito.on(AdminDeleteUserCommand).resolves({});
});

const uid = () => randomUUID().slice(0, 8);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const isoIn = (ms: number) => new Date(Date.now() + ms).toISOString();
const compliance = () => claimsFor(`staff-${uid()}`, ['compliance']);
const finance = () => claimsFor(`staff-${uid()}`, ['finance']);
const sales = () => claimsFor(`staff-${uid()}`, ['sales']);

const call = (
  h: Handler,
  method: string,
  resource: string,
  o: { claims?: Claims; params?: Record<string, string>; body?: unknown; query?: Record<string, string> } = {},
) =>
  h(
    apiEvent({
      method,
      resource,
      ...(o.claims ? { claims: o.claims } : {}),
      ...(o.params ? { pathParameters: o.params } : {}),
      ...(o.body !== undefined ? { body: o.body } : {}),
      ...(o.query ? { query: o.query } : {}),
    }),
    lambdaContext(),
  );

const codeOf = (res: Res) => bodyOf<{ code: string }>(res).code;
const count = () => countItemsBesidesSecurityEvents(table);
/** The answer's status and problem code, asserting the request wrote nothing. */
async function refused(req: () => Promise<Res>): Promise<[number, string]> {
  const before = await count();
  const res = await req();
  expect(await count(), res.body).toBe(before);
  return [res.statusCode, codeOf(res)];
}
const ok = <T>(res: Res, status = 200): T => {
  expect(res.statusCode, res.body).toBe(status);
  return bodyOf<T>(res);
};

async function outbox(detailType: string, match: (detail: Record<string, unknown>) => boolean) {
  const res = await ddb().send(
    new ScanCommand({
      TableName: table,
      ConsistentRead: true,
      FilterExpression: '#t = :o AND detailType = :d',
      ExpressionAttributeNames: { '#t': 'type' },
      ExpressionAttributeValues: { ':o': 'outbox', ':d': detailType },
    }),
  );
  return (res.Items ?? []).map((i) => i.detail as Record<string, unknown>).filter(match);
}

async function client(kycStatus: 'approved' | 'in_review' = 'approved') {
  const c = await seedClient({ clientId: `client-pn-${uid()}`, kycStatus });
  return { id: c.clientId, claims: c.claims };
}
const decide = (partnerId: string, decision: string, claims = compliance(), reason: string | null = 'Checked by compliance') =>
  call(admin, 'POST', '/v1/admin/partners/{partnerId}/decision', {
    claims,
    params: { partnerId },
    body: { decision, ...(reason !== null ? { reason } : {}) },
  });
const apply = (claims: Claims, body: Record<string, unknown> = {}) => call(partners, 'POST', '/v1/partners', { claims, body });

interface TestPartner {
  id: string;
  claims: Claims;
  partnerId: string;
}
/** A KYC-approved client that applied (under `referralCode`) and, unless `approve` is false, was approved. */
async function partner(o: { referralCode?: string; approve?: boolean } = {}): Promise<TestPartner> {
  const c = await client();
  const p = ok<{ partnerId: string }>(await apply(c.claims, o.referralCode ? { referralCode: o.referralCode } : {}), 201);
  if (o.approve !== false) ok(await decide(p.partnerId, 'approve'));
  return { ...c, partnerId: p.partnerId };
}
async function link(p: { claims: Claims }, kind: 'client' | 'sub_ib' = 'client', campaign?: string): Promise<string> {
  const res = await call(partners, 'POST', '/v1/partners/me/links', {
    claims: p.claims,
    body: { kind, ...(campaign ? { campaign } : {}) },
  });
  return ok<{ code: string }>(res, 201).code;
}
const click = (code: string, visitorId: string) => call(partners, 'POST', '/v1/referrals/clicks', { body: { code, visitorId } });
async function register(over: Record<string, unknown> = {}): Promise<{ id: string; claims: Claims }> {
  const res = await call(registrations, 'POST', '/v1/registrations', {
    body: {
      email: `pn.${uid()}@example.com`,
      password: 'Sup3r-Secret!',
      firstName: 'Referred',
      lastName: 'Client',
      dateOfBirth: '1990-04-12',
      countryOfResidence: 'DE',
      clientType: 'retail',
      ...over,
    },
  });
  const { clientId } = ok<{ clientId: string }>(res, 201);
  return { id: clientId, claims: claimsFor(clientId, ['client']) };
}
const chainIds = async (clientId: string, at: string) => (await chainAt(clientId, at)).map((m) => m.partnerId);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `fn` with the tenant's partners settings changed, then restores them. */
async function withPartnersConfig(change: Record<string, unknown>, fn: () => Promise<void>): Promise<void> {
  const before = tenantConfig();
  setTenantConfig(parseTenantConfig({ ...before, partners: { ...before.partners, ...change } }));
  try {
    await fn();
  } finally {
    setTenantConfig(before);
  }
}

describe('applying and deciding', () => {
  it('a client applies (pending); compliance approves (KYC approved), holds and releases payouts; each audited with its event', async () => {
    const c = await client();
    const applied = ok<Record<string, unknown>>(await apply(c.claims, { name: 'Alpha IB', payoutSchedule: 'weekly' }), 201);
    expect(applied).toMatchObject({
      status: 'pending',
      parentId: null,
      depth: 0,
      payoutsHeld: false,
      name: 'Alpha IB',
      payout: { schedule: 'weekly' },
    });
    const partnerId = applied.partnerId as string;
    expect(partnerId).toMatch(/^ib_[0-9a-z]{26}$/);
    expect(ok(await call(partners, 'GET', '/v1/partners/me', { claims: c.claims }))).toEqual(applied);
    expect((await store.edgesOf(partnerId)).map((e) => e.parentId)).toEqual([null]);
    expect(await outbox('partner.applied', (d) => d.partnerId === partnerId)).toEqual([
      { partnerId, clientId: c.id, parentId: null, referralCode: null },
    ]);

    expect((await decide(partnerId, 'approve', sales())).statusCode).toBe(403);
    expect(ok(await decide(partnerId, 'approve'))).toMatchObject({ status: 'approved', clientId: c.id });
    expect(ok(await decide(partnerId, 'hold'))).toMatchObject({ status: 'approved', hold: { reason: 'Checked by compliance' } });
    expect(ok(await call(partners, 'GET', '/v1/partners/me', { claims: c.claims }))).toMatchObject({ payoutsHeld: true });
    expect(await refused(() => decide(partnerId, 'hold'))).toEqual([409, 'partner_decision_not_allowed']);
    const released = ok<Record<string, unknown>>(await decide(partnerId, 'release'));
    expect(released.hold).toBeUndefined();
    expect((await store.getPartner(partnerId, { consistent: true }))?.hold).toBeUndefined();
    expect(await refused(() => decide(partnerId, 'reject'))).toEqual([409, 'partner_decision_not_allowed']);
    expect((await outbox('partner.decided', (d) => d.partnerId === partnerId)).map((d) => d.decision).sort()).toEqual([
      'approved',
      'hold',
      'release',
    ]);
  });

  it('refusals: applying twice, an unknown partner, no reason, no partner account, bad input; approval does not wait for KYC', async () => {
    const c = await client();
    ok(await apply(c.claims), 201);
    expect(await refused(() => apply(c.claims))).toEqual([409, 'already_a_partner']);

    const unverified = await client('in_review');
    const { partnerId } = ok<{ partnerId: string }>(await apply(unverified.claims), 201);
    // KYC is required for payouts (held until approved: partner-payouts.test.ts), not for approval.
    expect(ok(await decide(partnerId, 'reject'))).toMatchObject({ status: 'rejected', reason: 'Checked by compliance' });
    expect(ok(await decide(partnerId, 'approve'))).toMatchObject({ status: 'approved' });

    expect(await refused(() => decide('ib_unknown', 'approve'))).toEqual([404, 'partner_not_found']);
    expect((await refused(() => decide(partnerId, 'approve', compliance(), null)))[0]).toBe(400);
    expect((await refused(() => decide(partnerId, 'promote')))[0]).toBe(400);
    const stranger = await client();
    expect(await refused(() => call(partners, 'GET', '/v1/partners/me', { claims: stranger.claims }))).toEqual([
      404,
      'partner_not_found',
    ]);
    expect((await refused(() => apply(stranger.claims, { payoutSchedule: 'hourly' })))[0]).toBe(400);
    expect((await refused(() => apply(stranger.claims, { referralCode: 'x' })))[0]).toBe(400);
    expect((await refused(() => apply(compliance())))[0]).toBe(403);
  });

  it('staff create a partner for an existing client (approved at once with a reason); staff read partners and their history', async () => {
    const c = await client();
    const create = (body: Record<string, unknown>, claims = compliance()) =>
      call(admin, 'POST', '/v1/admin/partners', { claims, body });
    const created = ok<Record<string, unknown>>(
      await create({ clientId: c.id, name: 'Staff-made IB', approve: { reason: 'Signed agreement' } }),
      201,
    );
    expect(created).toMatchObject({ clientId: c.id, status: 'approved', reason: 'Signed agreement', depth: 0, path: [] });
    expect(created.createdBy).toMatch(/^staff-/);
    expect(ok(await call(partners, 'GET', '/v1/partners/me', { claims: c.claims }))).toMatchObject({ status: 'approved' });

    expect(await refused(() => create({ clientId: c.id }))).toEqual([409, 'already_a_partner']);
    expect(await refused(() => create({ clientId: 'client-nobody' }))).toEqual([404, 'client_not_found']);
    const unverified = await client('in_review');
    expect(ok(await create({ clientId: unverified.id, approve: { reason: 'Signed' } }), 201)).toMatchObject({
      status: 'approved',
    });
    const other = await client();
    expect(await refused(() => create({ clientId: other.id, parentId: 'ib_unknown' }))).toEqual([404, 'partner_not_found']);
    const pending = await partner({ approve: false });
    expect(await refused(() => create({ clientId: other.id, parentId: pending.partnerId }))).toEqual([
      409,
      'partner_not_approved',
    ]);
    expect((await refused(() => create({ clientId: other.id }, sales())))[0]).toBe(403);
    expect((await refused(() => create({ clientId: other.id }, finance())))[0]).toBe(403);

    const child = ok<{ partnerId: string; parentId: string; depth: number }>(
      await create({ clientId: other.id, parentId: created.partnerId }),
      201,
    );
    expect(child).toMatchObject({ parentId: created.partnerId, depth: 1, status: 'pending' });

    const approved = ok<{ items: { partnerId: string }[] }>(
      await call(admin, 'GET', '/v1/admin/partners', { claims: finance(), query: { status: 'approved', limit: '100' } }),
    );
    expect(approved.items.map((p) => p.partnerId)).toContain(created.partnerId);
    const pendingList = ok<{ items: { partnerId: string }[] }>(
      await call(admin, 'GET', '/v1/admin/partners', { claims: compliance(), query: { limit: '100' } }),
    );
    expect(pendingList.items.map((p) => p.partnerId)).toContain(child.partnerId);
    expect(pendingList.items.map((p) => p.partnerId)).not.toContain(created.partnerId);
    const detail = ok<{ parents: { parentId: string | null }[]; plans: unknown[] }>(
      await call(admin, 'GET', '/v1/admin/partners/{partnerId}', {
        claims: compliance(),
        params: { partnerId: child.partnerId },
      }),
    );
    expect(detail.parents.map((e) => e.parentId)).toEqual([created.partnerId]);
    expect(detail.plans).toEqual([]);
    expect(
      await refused(() =>
        call(admin, 'GET', '/v1/admin/partners/{partnerId}', { claims: compliance(), params: { partnerId: 'ib_x' } }),
      ),
    ).toEqual([404, 'partner_not_found']);
    expect((await call(admin, 'GET', '/v1/admin/partners', { claims: sales() })).statusCode).toBe(403);
    expect((await call(admin, 'GET', '/v1/admin/partners', { claims: compliance(), query: { status: 'gone' } })).statusCode).toBe(
      400,
    );
  });
});

describe('links and clicks', () => {
  it('an approved partner creates links with campaign tags, lists and reads its own; another partner’s is 404', async () => {
    const pending = await partner({ approve: false });
    expect(
      await refused(() => call(partners, 'POST', '/v1/partners/me/links', { claims: pending.claims, body: { kind: 'client' } })),
    ).toEqual([409, 'partner_not_approved']);

    const p = await partner();
    const chosen = `sp-${uid()}`;
    const first = ok<Record<string, unknown>>(
      await call(partners, 'POST', '/v1/partners/me/links', {
        claims: p.claims,
        body: { code: chosen, campaign: 'Spring webinar' },
      }),
      201,
    );
    expect(first).toMatchObject({
      code: chosen.toUpperCase(),
      kind: 'client',
      campaign: 'Spring webinar',
      funnel: { clicks: 0, registrations: 0, verified: 0, funded: 0, trading: 0 },
    });
    const generated = await link(p, 'sub_ib');
    expect(generated).toMatch(/^[A-Z2-9]{8}$/);
    expect(
      await refused(() =>
        call(partners, 'POST', '/v1/partners/me/links', { claims: p.claims, body: { code: chosen.toLowerCase() } }),
      ),
    ).toEqual([409, 'link_code_taken']);
    expect(
      (await refused(() => call(partners, 'POST', '/v1/partners/me/links', { claims: p.claims, body: { code: 'a b' } })))[0],
    ).toBe(400);
    expect(
      (await refused(() => call(partners, 'POST', '/v1/partners/me/links', { claims: p.claims, body: { kind: 'vip' } })))[0],
    ).toBe(400);

    const list = ok<{ items: { code: string; kind: string }[]; hasMore: boolean }>(
      await call(partners, 'GET', '/v1/partners/me/links', { claims: p.claims }),
    );
    expect(list.items.map((l) => l.code)).toEqual([generated, chosen.toUpperCase()]);
    const page = ok<{ items: unknown[]; hasMore: boolean; nextCursor: string }>(
      await call(partners, 'GET', '/v1/partners/me/links', { claims: p.claims, query: { limit: '1' } }),
    );
    expect(page).toMatchObject({ hasMore: true });
    const rest = ok<{ items: { code: string }[] }>(
      await call(partners, 'GET', '/v1/partners/me/links', { claims: p.claims, query: { limit: '1', cursor: page.nextCursor } }),
    );
    expect(rest.items.map((l) => l.code)).toEqual([chosen.toUpperCase()]);

    const read = (claims: Claims, code: string) =>
      call(partners, 'GET', '/v1/partners/me/links/{code}', { claims, params: { code } });
    expect(ok(await read(p.claims, chosen))).toMatchObject({ code: chosen.toUpperCase() });
    const other = await partner();
    expect(await refused(() => read(other.claims, chosen))).toEqual([404, 'link_not_found']);
    expect(await refused(() => read(other.claims, 'NO-SUCH-CODE'))).toEqual([404, 'link_not_found']);
    const otherList = ok<{ items: unknown[] }>(await call(partners, 'GET', '/v1/partners/me/links', { claims: other.claims }));
    expect(otherList.items).toEqual([]);
    const stranger = await client();
    expect(await refused(() => call(partners, 'GET', '/v1/partners/me/links', { claims: stranger.claims }))).toEqual([
      404,
      'partner_not_found',
    ]);
  });

  it('a click is public and counted once on its link; an unknown code is 404; bad input is 400', async () => {
    const p = await partner();
    const code = await link(p, 'client', 'banner');
    const visitor = `v-${uid()}-${uid()}`;
    expect(ok(await click(code.toLowerCase(), visitor), 202)).toEqual({ code, recorded: true });
    const clicks = await store.clicksOf(visitor);
    expect(clicks).toHaveLength(1);
    expect(clicks[0]).toMatchObject({ code, partnerId: p.partnerId, campaign: 'banner' });
    expect(clicks[0]!.expiresAt).toBeGreaterThan(Date.now() / 1000 + 80 * 86_400);
    expect(
      ok<{ funnel: { clicks: number } }>(
        await call(partners, 'GET', '/v1/partners/me/links/{code}', {
          claims: p.claims,
          params: { code },
        }),
      ).funnel.clicks,
    ).toBe(1);
    expect(await refused(() => click('NO-SUCH-CODE', visitor))).toEqual([404, 'link_not_found']);
    expect((await refused(() => click(code, 'short')))[0]).toBe(400);
    expect((await refused(() => call(partners, 'POST', '/v1/referrals/clicks', { body: { code } })))[0]).toBe(400);
  });
});

describe('attribution at registration', () => {
  it('a registration through a link attributes the client: referral, attribution from the registration, counter, event', async () => {
    const p = await partner();
    const code = await link(p, 'client', 'spring');
    const c = await register({ referralCode: code.toLowerCase() });
    const referral = await store.getReferral(c.id, { consistent: true });
    expect(referral).toMatchObject({
      clientId: c.id,
      partnerId: p.partnerId,
      code,
      campaign: 'spring',
      volume: '0',
      windowVolume: '0',
      cpaPaid: false,
    });
    const attributions = await store.attributionsOf(c.id);
    expect(attributions).toMatchObject([{ partnerId: p.partnerId, code, source: 'registration', from: referral!.registeredAt }]);
    expect((await store.getLink(code, { consistent: true }))?.registrations).toBe(1);
    expect(await outbox('partner.client.attributed', (d) => d.subjectId === c.id)).toEqual([
      {
        subject: 'client',
        subjectId: c.id,
        partnerId: p.partnerId,
        previousPartnerId: null,
        effectiveFrom: referral!.registeredAt,
        source: 'registration',
        code,
        campaign: 'spring',
      },
    ]);
    expect(await chainAt(c.id, new Date().toISOString())).toEqual([
      { partnerId: p.partnerId, tier: 0, plan: null, rules: null, planFrom: null },
    ]);
    expect(await chainAt(c.id, '2020-01-01T00:00:00.000Z')).toEqual([]);
  });

  it('an unknown code, or a code of a partner not approved, registers without attribution (the profile keeps the code)', async () => {
    const unknown = `NOPE-${uid()}`;
    const a = await register({ referralCode: unknown });
    expect(await store.getReferral(a.id, { consistent: true })).toBeUndefined();
    expect(await store.attributionsOf(a.id)).toEqual([]);
    const { getClientProfile } = await import('#store/clients.ts');
    expect((await getClientProfile(a.id, { consistent: true }))?.referralCode).toBe(unknown);

    const p = await partner();
    const code = await link(p);
    const item = (await store.getPartner(p.partnerId, { consistent: true }))!;
    const { commit, systemActor } = await import('#store/audit.ts');
    const at = new Date().toISOString();
    await commit({
      writes: [store.partnerEntity.patch(item, { ...item, status: 'suspended' }, at)],
      audit: {
        actor: systemActor('test'),
        action: 'partner.suspended',
        entity: { type: 'partner', id: p.partnerId },
        before: null,
        after: null,
        requestId: 'test',
      },
    });
    const b = await register({ referralCode: code });
    expect(await store.getReferral(b.id, { consistent: true })).toBeUndefined();
    expect((await store.getLink(code, { consistent: true }))?.registrations).toBe(0);
    expect(await refused(() => click(code, `v-${uid()}-x`))).toEqual([404, 'link_not_found']);
  });

  it('last touch (the tenant default): the code the registration carried wins, else the newest click', async () => {
    const [a, b, carried] = [await partner(), await partner(), await partner()];
    const [codeA, codeB, codeC] = [await link(a), await link(b), await link(carried)];
    const visitor = `v-${uid()}-${uid()}`;
    ok(await click(codeA, visitor), 202);
    await sleep(5);
    ok(await click(codeB, visitor), 202);
    const byClick = await register({ visitorId: visitor });
    expect((await store.getReferral(byClick.id, { consistent: true }))?.partnerId).toBe(b.partnerId);
    const byCode = await register({ visitorId: visitor, referralCode: codeC });
    expect((await store.getReferral(byCode.id, { consistent: true }))?.partnerId).toBe(carried.partnerId);
    const unknownCode = await register({ visitorId: visitor, referralCode: `NOPE-${uid()}` });
    expect((await store.getReferral(unknownCode.id, { consistent: true }))?.partnerId).toBe(b.partnerId);
    expect((await store.getLink(codeB, { consistent: true }))?.registrations).toBe(2);
  });

  it('first touch: the oldest recorded click wins over the carried code', async () => {
    await withPartnersConfig({ attribution: 'first_touch' }, async () => {
      const [a, b, carried] = [await partner(), await partner(), await partner()];
      const [codeA, codeB, codeC] = [await link(a), await link(b), await link(carried)];
      const visitor = `v-${uid()}-${uid()}`;
      ok(await click(codeA, visitor), 202);
      await sleep(5);
      ok(await click(codeB, visitor), 202);
      const c = await register({ visitorId: visitor, referralCode: codeC });
      const referral = await store.getReferral(c.id, { consistent: true });
      expect(referral).toMatchObject({ partnerId: a.partnerId, code: codeA });
      const noClicks = await register({ visitorId: `v-${uid()}-${uid()}`, referralCode: codeC });
      expect((await store.getReferral(noClicks.id, { consistent: true }))?.partnerId).toBe(carried.partnerId);
    });
  });

  it('a bad visitor id is 400 and registers nobody', async () => {
    const res = await call(registrations, 'POST', '/v1/registrations', {
      body: {
        email: `pn.${uid()}@example.com`,
        password: 'Sup3r-Secret!',
        firstName: 'A',
        lastName: 'B',
        dateOfBirth: '1990-04-12',
        countryOfResidence: 'DE',
        clientType: 'retail',
        visitorId: 'bad id!',
      },
    });
    expect(res.statusCode).toBe(400);
    expect(cognito.commandCalls(AdminCreateUserCommand)).toHaveLength(0);
  });
});

describe('sub-IBs and depth', () => {
  it('a sub-IB signs up through a partner’s sub_ib link, or the sub_ib link it registered through', async () => {
    const root = await partner();
    const subLink = await link(root, 'sub_ib', 'recruit');
    const clientLink = await link(root, 'client');
    const sub = await client();
    const applied = ok<Record<string, unknown>>(await apply(sub.claims, { referralCode: subLink.toLowerCase() }), 201);
    expect(applied).toMatchObject({ parentId: root.partnerId, depth: 1, referralCode: subLink });
    expect(await outbox('partner.applied', (d) => d.partnerId === applied.partnerId)).toEqual([
      { partnerId: applied.partnerId, clientId: sub.id, parentId: root.partnerId, referralCode: subLink },
    ]);

    const registered = await register({ referralCode: subLink });
    const viaRegistration = ok<Record<string, unknown>>(await apply(registered.claims), 201);
    expect(viaRegistration).toMatchObject({ parentId: root.partnerId, depth: 1 });
    const staffView = (await store.getPartner(viaRegistration.partnerId as string, { consistent: true }))!;
    expect(staffView.path).toEqual([root.partnerId]);

    const other = await client();
    expect(await refused(() => apply(other.claims, { referralCode: clientLink }))).toEqual([422, 'not_a_sub_ib_link']);
    expect(await refused(() => apply(other.claims, { referralCode: `NOPE-${uid()}` }))).toEqual([422, 'invalid_referral_code']);
    const pendingRoot = await partner({ approve: false });
    const item = (await store.getPartner(pendingRoot.partnerId, { consistent: true }))!;
    expect(item.status).toBe('pending');
  });

  it('a network deeper than the tenant maximum is refused', async () => {
    await withPartnersConfig({ maxDepth: 2 }, async () => {
      const root = await partner();
      const a = await partner({ referralCode: await link(root, 'sub_ib') });
      const b = await partner({ referralCode: await link(a, 'sub_ib') });
      expect((await store.getPartner(b.partnerId, { consistent: true }))?.path).toEqual([root.partnerId, a.partnerId]);
      const deepLink = await link(b, 'sub_ib');
      const c = await client();
      expect(await refused(() => apply(c.claims, { referralCode: deepLink }))).toEqual([422, 'network_too_deep']);
    });
  });
});

describe('moves', () => {
  const moveClient = (clientId: string, body: Record<string, unknown>, claims = compliance()) =>
    call(admin, 'POST', '/v1/admin/clients/{clientId}/partner', { claims, params: { clientId }, body });
  const moveParent = (partnerId: string, body: Record<string, unknown>, claims = compliance()) =>
    call(admin, 'POST', '/v1/admin/partners/{partnerId}/parent', { claims, params: { partnerId }, body });

  it('a client moved from a future date: chainAt is the old partner before it and the new one from it', async () => {
    const [p1, p2] = [await partner(), await partner()];
    const c = await register({ referralCode: await link(p1) });
    const future = isoIn(2 * DAY);
    const moved = ok<Record<string, unknown>>(
      await moveClient(c.id, { partnerId: p2.partnerId, effectiveFrom: future, reason: 'Client asked to change IB' }),
    );
    expect(moved).toEqual({ clientId: c.id, partnerId: p2.partnerId, previousPartnerId: p1.partnerId, effectiveFrom: future });
    expect(await chainIds(c.id, new Date().toISOString())).toEqual([p1.partnerId]);
    expect(await chainIds(c.id, isoIn(3 * DAY))).toEqual([p2.partnerId]);
    expect((await store.getReferral(c.id, { consistent: true }))?.partnerId).toBe(p2.partnerId);
    expect((await store.attributionsOf(c.id)).map((a) => [a.source, a.partnerId])).toEqual([
      ['registration', p1.partnerId],
      ['move', p2.partnerId],
    ]);
    expect(await outbox('partner.client.attributed', (d) => d.subjectId === c.id && d.source === 'move')).toMatchObject([
      { subject: 'client', partnerId: p2.partnerId, previousPartnerId: p1.partnerId, effectiveFrom: future },
    ]);
    const { auditKeys } = await import('#store/keys.ts');
    const { GetCommand } = await import('@aws-sdk/lib-dynamodb');
    const audit = await ddb().send(
      new GetCommand({ TableName: table, Key: auditKeys.item('partner-referral', c.id, 2), ConsistentRead: true }),
    );
    expect(audit.Item).toMatchObject({
      action: 'partner.client.moved',
      after: { partnerId: p2.partnerId, effectiveFrom: future },
    });

    // the same partner at a later date is no change; the referral's partner and the chain stay
    expect(
      await refused(() => moveClient(c.id, { partnerId: p2.partnerId, effectiveFrom: isoIn(3 * DAY), reason: 'Again' })),
    ).toEqual([409, 'move_no_change']);
  });

  it('refusals of a client move: past, unknown, not approved, no change, no reason, role; a retroactive one with a reason', async () => {
    const [p1, p2] = [await partner(), await partner()];
    const pending = await partner({ approve: false });
    const c = await register({ referralCode: await link(p1) });
    const reason = 'Compliance review';
    expect(await refused(() => moveClient(c.id, { partnerId: p2.partnerId, effectiveFrom: isoIn(-DAY), reason }))).toEqual([
      422,
      'move_in_past',
    ]);
    expect(await refused(() => moveClient('client-nobody', { partnerId: p2.partnerId, reason }))).toEqual([
      404,
      'client_not_found',
    ]);
    expect(await refused(() => moveClient(c.id, { partnerId: 'ib_unknown', reason }))).toEqual([404, 'partner_not_found']);
    expect(await refused(() => moveClient(c.id, { partnerId: pending.partnerId, reason }))).toEqual([
      409,
      'partner_not_approved',
    ]);
    expect(await refused(() => moveClient(c.id, { partnerId: p1.partnerId, reason }))).toEqual([409, 'move_no_change']);
    expect((await refused(() => moveClient(c.id, { partnerId: p2.partnerId })))[0]).toBe(400);
    expect((await refused(() => moveClient(c.id, { partnerId: p2.partnerId, effectiveFrom: 'tomorrow', reason })))[0]).toBe(400);
    expect((await refused(() => moveClient(c.id, { partnerId: p2.partnerId, reason }, sales())))[0]).toBe(403);
    expect((await refused(() => moveClient(c.id, { partnerId: p2.partnerId, reason }, finance())))[0]).toBe(403);

    // a client without a partner, attributed retroactively: the past is priced with the new partner
    const seeded = await client();
    const past = isoIn(-2 * HOUR);
    ok(await moveClient(seeded.id, { partnerId: p1.partnerId, effectiveFrom: past, retroactive: true, reason }));
    expect(await chainIds(seeded.id, isoIn(-HOUR))).toEqual([p1.partnerId]);
    expect(await chainIds(seeded.id, isoIn(-3 * HOUR))).toEqual([]);
    const referral = await store.getReferral(seeded.id, { consistent: true });
    expect(referral).toMatchObject({ partnerId: p1.partnerId, volume: '0' });
    // dated before the version now in effect, it would end there
    expect(
      await refused(() =>
        moveClient(seeded.id, { partnerId: p2.partnerId, effectiveFrom: isoIn(-3 * HOUR), retroactive: true, reason }),
      ),
    ).toEqual([409, 'move_superseded']);
    // detached from any partner from now
    ok(await moveClient(seeded.id, { partnerId: null, reason }));
    expect(await chainIds(seeded.id, isoIn(HOUR))).toEqual([]);
    expect((await store.getReferral(seeded.id, { consistent: true }))?.partnerId).toBeNull();
  });

  it('a sub-IB moved with its sub-network from a future date; cycles, depth and past dates refused', async () => {
    const [r1, r2] = [await partner(), await partner()];
    const a = await partner({ referralCode: await link(r1, 'sub_ib') });
    const b = await partner({ referralCode: await link(a, 'sub_ib') });
    const c = await register({ referralCode: await link(b) });
    const reason = 'Network restructured';
    const future = isoIn(2 * DAY);
    expect(await chainIds(c.id, new Date().toISOString())).toEqual([b.partnerId, a.partnerId, r1.partnerId]);

    const moved = ok<Record<string, unknown>>(
      await moveParent(a.partnerId, { parentId: r2.partnerId, effectiveFrom: future, reason }),
    );
    expect(moved).toMatchObject({ parentId: r2.partnerId, path: [r2.partnerId], depth: 1 });
    expect((await store.getPartner(b.partnerId, { consistent: true }))?.path).toEqual([r2.partnerId, a.partnerId]);
    expect(await chainIds(c.id, new Date().toISOString())).toEqual([b.partnerId, a.partnerId, r1.partnerId]);
    expect(await chainIds(c.id, isoIn(3 * DAY))).toEqual([b.partnerId, a.partnerId, r2.partnerId]);
    expect(await store.childrenOf(r2.partnerId)).toMatchObject([{ partnerId: a.partnerId }]);
    expect(await outbox('partner.client.attributed', (d) => d.subjectId === a.partnerId)).toMatchObject([
      { subject: 'partner', partnerId: r2.partnerId, previousPartnerId: r1.partnerId, source: 'move', effectiveFrom: future },
    ]);
    const detail = ok<{ parents: { parentId: string; from: string; reason?: string }[] }>(
      await call(admin, 'GET', '/v1/admin/partners/{partnerId}', { claims: compliance(), params: { partnerId: a.partnerId } }),
    );
    expect(detail.parents.map((e) => e.parentId)).toEqual([r1.partnerId, r2.partnerId]);
    expect(detail.parents[1]).toMatchObject({ from: future, reason });

    expect(await refused(() => moveParent(r2.partnerId, { parentId: b.partnerId, reason }))).toEqual([422, 'partner_cycle']);
    expect(await refused(() => moveParent(a.partnerId, { parentId: a.partnerId, reason }))).toEqual([422, 'partner_cycle']);
    // r1 under b at a date when b is still below r1 (before the move takes effect)
    expect(await refused(() => moveParent(r1.partnerId, { parentId: b.partnerId, effectiveFrom: isoIn(DAY), reason }))).toEqual([
      422,
      'partner_cycle',
    ]);
    expect(await refused(() => moveParent(a.partnerId, { parentId: r1.partnerId, effectiveFrom: isoIn(-DAY), reason }))).toEqual([
      422,
      'move_in_past',
    ]);
    expect(
      await refused(() => moveParent(a.partnerId, { parentId: r2.partnerId, effectiveFrom: isoIn(3 * DAY), reason })),
    ).toEqual([409, 'move_no_change']);
    expect(await refused(() => moveParent('ib_unknown', { parentId: r2.partnerId, reason }))).toEqual([404, 'partner_not_found']);
    expect(await refused(() => moveParent(b.partnerId, { parentId: 'ib_unknown', reason }))).toEqual([404, 'partner_not_found']);
    expect((await refused(() => moveParent(b.partnerId, { parentId: r1.partnerId, reason }, finance())))[0]).toBe(403);

    await withPartnersConfig({ maxDepth: 2 }, async () => {
      const deep = await partner({ referralCode: await link(r1, 'sub_ib') });
      // a (with b below it) under deep: a at depth 2, b at 3
      expect(
        await refused(() => moveParent(a.partnerId, { parentId: deep.partnerId, effectiveFrom: isoIn(4 * DAY), reason })),
      ).toEqual([422, 'network_too_deep']);
    });

    // to the top of the tree from now
    ok(await moveParent(b.partnerId, { parentId: null, reason }));
    expect(await store.getPartner(b.partnerId, { consistent: true })).toMatchObject({ parentId: null, path: [], depth: 0 });
    expect(await chainIds(c.id, isoIn(HOUR))).toEqual([b.partnerId]);
  });
});

describe('plans and assignments', () => {
  const createPlan = (body: Record<string, unknown>, claims = finance()) =>
    call(admin, 'POST', '/v1/admin/partner-plans', { claims, body });
  const addVersion = (planId: string, body: Record<string, unknown>, claims = finance()) =>
    call(admin, 'POST', '/v1/admin/partner-plans/{planId}/versions', { claims, params: { planId }, body });
  const assign = (partnerId: string, body: Record<string, unknown>, claims = finance()) =>
    call(admin, 'POST', '/v1/admin/partners/{partnerId}/plan', { claims, params: { partnerId }, body });
  const planBody = (over: Record<string, unknown> = {}) => ({
    planId: `std-${uid()}`,
    name: 'Standard',
    currency: 'USD',
    rules: {
      perLot: { default: '5.00', symbols: { EURUSD: '7.00' } },
      commissionShare: { shareBps: 2000 },
      tierOverrides: [{ tier: 1, perLot: '1.00' }],
    },
    qualification: { minHoldSeconds: 120 },
    ...over,
  });

  it('finance creates a plan and versions it from a date; assigned to a root it is inherited below, overrides are a partner’s own', async () => {
    const body = planBody();
    const created = ok<{ planId: string; currency: string; versions: Record<string, unknown>[] }>(await createPlan(body), 201);
    expect(created).toMatchObject({ planId: body.planId, name: 'Standard', currency: 'USD' });
    expect(created.versions).toMatchObject([
      {
        version: 1,
        rules: { perLot: { default: '5.00', symbols: { EURUSD: '7.00' }, groups: {} }, symbolGroups: {} },
        qualification: { minHoldSeconds: 120, minMovePoints: 0, excludeSamePrice: true, hedgedOnce: true },
      },
    ]);
    const v2From = isoIn(3 * DAY);
    const versioned = ok<{ versions: { version: number; name: string; effectiveFrom: string }[] }>(
      await addVersion(body.planId, {
        effectiveFrom: v2From,
        rules: { ...body.rules, perLot: { default: '6.00' } },
        qualification: { minHoldSeconds: 60 },
      }),
      201,
    );
    expect(versioned.versions.map((v) => [v.version, v.name, v.effectiveFrom])).toEqual([
      [1, 'Standard', created.versions[0]!.effectiveFrom],
      [2, 'Standard', v2From],
    ]);
    const listed = ok<{ items: { planId: string; versions: unknown[] }[] }>(
      await call(admin, 'GET', '/v1/admin/partner-plans', { claims: compliance() }),
    );
    expect(listed.items.find((p) => p.planId === body.planId)?.versions).toHaveLength(2);
    expect(
      ok(await call(admin, 'GET', '/v1/admin/partner-plans/{planId}', { claims: finance(), params: { planId: body.planId } })),
    ).toMatchObject({ planId: body.planId, versions: [{ version: 1 }, { version: 2 }] });

    const root = await partner();
    const sub = await partner({ referralCode: await link(root, 'sub_ib') });
    const subSub = await partner({ referralCode: await link(sub, 'sub_ib') });
    const c = await register({ referralCode: await link(subSub) });
    expect((await chainAt(c.id, new Date().toISOString())).map((m) => m.plan)).toEqual([null, null, null]);

    expect(ok(await assign(root.partnerId, { planId: body.planId }), 201)).toMatchObject({
      planId: body.planId,
      by: expect.stringMatching(/^staff-/),
    });
    ok(await assign(sub.partnerId, { overrides: { perLot: { default: '8.00' } }, reason: 'Top producer' }), 201);

    const now = await chainAt(c.id, new Date().toISOString());
    expect(now.map((m) => [m.partnerId, m.tier, m.plan?.planId, m.plan?.version, m.planFrom])).toEqual([
      [subSub.partnerId, 0, body.planId, 1, root.partnerId],
      [sub.partnerId, 1, body.planId, 1, root.partnerId],
      [root.partnerId, 2, body.planId, 1, root.partnerId],
    ]);
    expect(now[0]!.rules?.perLot).toEqual({ default: '5.00', symbols: { EURUSD: '7.00' }, groups: {} });
    expect(now[1]!.rules?.perLot).toEqual({ default: '8.00', symbols: { EURUSD: '7.00' }, groups: {} });
    expect(now[1]!.rules?.commissionShare).toEqual({ shareBps: 2000 });
    expect(now[2]!.rules?.tierOverrides).toEqual([{ tier: 1, perLot: '1.00' }]);

    const later = await chainAt(c.id, isoIn(4 * DAY));
    expect(later.map((m) => m.plan?.version)).toEqual([2, 2, 2]);
    expect(later.map((m) => m.rules?.perLot?.default)).toEqual(['6.00', '8.00', '6.00']);
    expect(later[0]!.plan?.qualification.minHoldSeconds).toBe(60);

    // the sub-IB's own plan from a date: it and its sub-network leave the root's
    const own = planBody({ rules: { perLot: { default: '2.50' } } });
    ok(await createPlan(own), 201);
    const ownFrom = isoIn(5 * DAY);
    ok(await assign(sub.partnerId, { planId: own.planId, effectiveFrom: ownFrom }), 201);
    const after = await chainAt(c.id, isoIn(6 * DAY));
    expect(after.map((m) => [m.plan?.planId, m.planFrom])).toEqual([
      [own.planId, sub.partnerId],
      [own.planId, sub.partnerId],
      [body.planId, root.partnerId],
    ]);
    expect(after[1]!.rules?.perLot?.default).toBe('2.50');
    const detail = ok<{ plans: { planId?: string; overrides?: unknown; from: string }[] }>(
      await call(admin, 'GET', '/v1/admin/partners/{partnerId}', { claims: finance(), params: { partnerId: sub.partnerId } }),
    );
    expect(detail.plans.map((a) => a.planId ?? null)).toEqual([null, own.planId]);
    expect(detail.plans[1]!.from).toBe(ownFrom);
  });

  it('refusals: role, currency, duplicate tiers, past dates, taken and unknown ids, empty assignments, bad rules', async () => {
    const body = planBody();
    expect((await refused(() => createPlan(body, compliance())))[0]).toBe(403);
    expect(await refused(() => createPlan(planBody({ currency: 'XYZ' })))).toEqual([422, 'unknown_currency']);
    expect(await refused(() => createPlan(planBody({ currency: 'CHF' })))).toEqual([422, 'currency_not_enabled']);
    expect(
      await refused(() =>
        createPlan(
          planBody({
            rules: {
              tierOverrides: [
                { tier: 1, perLot: '1.00' },
                { tier: 1, childShareBps: 100 },
              ],
            },
          }),
        ),
      ),
    ).toEqual([422, 'duplicate_tier_override']);
    expect(await refused(() => createPlan(planBody({ effectiveFrom: isoIn(-DAY) })))).toEqual([422, 'effective_in_past']);
    expect(await refused(() => createPlan(planBody({ effectiveFrom: isoIn(-DAY), retroactive: true })))).toEqual([
      400,
      'reason_required',
    ]);
    expect((await refused(() => createPlan(planBody({ rules: { commissionShare: { shareBps: 20_000 } } }))))[0]).toBe(400);
    expect((await refused(() => createPlan(planBody({ rules: { perLot: { default: '5.123456789' } } }))))[0]).toBe(400);
    expect((await refused(() => createPlan(planBody({ planId: 'Bad Id' }))))[0]).toBe(400);
    ok(await createPlan(body), 201);
    expect(await refused(() => createPlan(body))).toEqual([409, 'plan_exists']);
    const retroFrom = isoIn(-DAY);
    const retro = planBody({ effectiveFrom: retroFrom, retroactive: true, reason: 'Agreed from last month' });
    expect(ok<{ versions: { effectiveFrom: string }[] }>(await createPlan(retro), 201).versions[0]!.effectiveFrom).toBe(
      retroFrom,
    );

    expect(await refused(() => addVersion(`nope-${uid()}`, { rules: {} }))).toEqual([404, 'plan_not_found']);
    expect(await refused(() => addVersion(body.planId, { rules: {}, effectiveFrom: isoIn(-DAY) }))).toEqual([
      422,
      'effective_in_past',
    ]);
    expect((await refused(() => addVersion(body.planId, { rules: {}, currency: 'EUR' })))[0]).toBe(400);
    expect((await refused(() => addVersion(body.planId, { rules: {} }, compliance())))[0]).toBe(403);

    const p = await partner();
    expect(await refused(() => assign(p.partnerId, {}))).toEqual([400, 'assignment_empty']);
    expect(await refused(() => assign(p.partnerId, { planId: `nope-${uid()}` }))).toEqual([404, 'plan_not_found']);
    expect(await refused(() => assign('ib_unknown', { planId: body.planId }))).toEqual([404, 'partner_not_found']);
    expect(await refused(() => assign(p.partnerId, { planId: body.planId, effectiveFrom: isoIn(-DAY) }))).toEqual([
      422,
      'effective_in_past',
    ]);
    expect((await refused(() => assign(p.partnerId, { overrides: { perLot: { default: 'one' } } })))[0]).toBe(400);
    expect((await refused(() => assign(p.partnerId, { planId: body.planId }, compliance())))[0]).toBe(403);
    const from = isoIn(DAY);
    ok(await assign(p.partnerId, { planId: body.planId, effectiveFrom: from }), 201);
    expect(await refused(() => assign(p.partnerId, { planId: body.planId, effectiveFrom: from }))).toEqual([409, 'conflict']);
  });
});
