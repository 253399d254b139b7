/**
 * The demo tenant's introducing-broker network (issue 16), through the product's own use cases:
 * - a commission plan "Demo IB" (EUR): per lot by symbol, group and default, a share of the spread markup and of
 *   the commission, a CPA, tier overrides for parents, and the anti-abuse qualification rules;
 * - partner@demo.test (Paul) a top-level partner with that plan, its sub-IB Nora (ib-north@demo.test) who
 *   registered through Paul's sub-IB link, and Nora's sub-IB Cyril (ib-city@demo.test): three tiers. Each has a
 *   client link and a sub-IB link with fixed codes (PAUL, PAUL-IB, NORTH, NORTH-IB, CITY, CITY-IB);
 * - Nora and Cyril are verified with clean documents (seed.ts's KYC step); Paul's review waits for compliance, so
 *   his payouts are held (kyc_required) until compliance approves it.
 *
 * Invariants: idempotent and resumable like the rest of the seed (every step reads first); the sub-IBs register
 * before the KYC step (registerSubPartners) and become partners after it (seedDemoPartners).
 */
import type { Role } from '#functions/manifest.ts';

export const DEMO_PLAN_ID = 'demo-ib';

/** The demo network's sub-IBs, in tier order, each registering through its parent's sub-IB link. */
export const DEMO_SUB_PARTNERS = [
  { email: 'ib-north@demo.test', firstName: 'Nora', lastName: 'North', dateOfBirth: '1986-02-11', via: 'PAUL-IB', code: 'NORTH' },
  { email: 'ib-city@demo.test', firstName: 'Cyril', lastName: 'City', dateOfBirth: '1992-09-23', via: 'NORTH-IB', code: 'CITY' },
] as const;

const ctx = { requestId: 'seed', locale: 'en' };
const STAFF = { sub: 'system:seed', email: 'seed@local', roles: ['admin'] as Role[], isStaff: true };
const clientCaller = (sub: string, email: string) => ({ sub, email, roles: ['client', 'partner'] as Role[], isStaff: false });

const DEMO_PLAN = {
  name: 'Demo IB',
  currency: 'EUR',
  rules: {
    perLot: { default: '4.00', symbols: { EURUSD: '6.00' }, groups: { metals: '10.00' } },
    symbolGroups: { XAUUSD: 'metals', XAGUSD: 'metals' },
    spreadShare: { markupPoints: { default: 10, symbols: {}, groups: {} }, shareBps: 2_000 },
    commissionShare: { shareBps: 2_500 },
    cpa: { amount: '150.00', minFirstDeposit: '200.00', depositWithinDays: 30, minLots: '1.00', lotsWithinDays: 60 },
    // What a partner earns from its sub-network: 10 % of its sub-IB's commission, 0.50 a lot two tiers down.
    tierOverrides: [
      { tier: 1, childShareBps: 1_000 },
      { tier: 2, perLot: '0.50' },
    ],
  },
  qualification: { minHoldSeconds: 120, minMovePoints: 3, excludeSamePrice: true, hedgedOnce: true },
};

/** Registers the demo sub-IBs (before the KYC step verifies them): each through its parent's sub-IB link. */
export async function registerSubPartners(password: string): Promise<void> {
  const { findEmailOwner } = await import('#store/unique-email.ts');
  const { registerClient } = await import('#app/identity/register-client.ts');
  await ensureTopPartner();
  for (const s of DEMO_SUB_PARTNERS) {
    if (await findEmailOwner(s.email)) continue;
    await registerClient(
      {
        email: s.email,
        password,
        firstName: s.firstName,
        lastName: s.lastName,
        dateOfBirth: s.dateOfBirth,
        countryOfResidence: 'DE',
        clientType: 'retail',
        locale: 'en',
        referralCode: s.via,
      },
      ctx,
    );
    // The next tier registers through this one's sub-IB link: it must exist before.
    await ensurePartner(s.email, s.code);
  }
}

/** After the KYC step: the whole network exists (a resumed seed completes what an earlier run began). */
export async function seedDemoPartners(): Promise<void> {
  await ensureTopPartner();
  for (const s of DEMO_SUB_PARTNERS) await ensurePartner(s.email, s.code);
}

/** Paul: the plan, his partner record (approved), the plan assigned, his links. */
async function ensureTopPartner(): Promise<void> {
  const { planVersions } = await import('#store/partners.ts');
  const { createPlan, assignPlan } = await import('#app/partners/plans.ts');
  if ((await planVersions(DEMO_PLAN_ID)).length === 0) {
    await createPlan({ planId: DEMO_PLAN_ID, ...DEMO_PLAN, reason: 'Demo commission plan' }, STAFF, ctx);
  }
  const paul = await ensurePartner('partner@demo.test', 'PAUL');
  if (!paul) return;
  const { assignmentsOf } = await import('#store/partners.ts');
  if ((await assignmentsOf(paul.partnerId)).length === 0) {
    await assignPlan({ partnerId: paul.partnerId, planId: DEMO_PLAN_ID, reason: 'Demo network plan' }, STAFF, ctx);
  }
}

/**
 * A demo partner: applied (under the sub-IB link it registered through), approved, with its client link `<code>`
 * and its sub-IB link `<code>-IB`. Undefined while its user does not exist yet.
 */
async function ensurePartner(email: string, code: string): Promise<{ partnerId: string } | undefined> {
  const { findEmailOwner } = await import('#store/unique-email.ts');
  const { partnerOfClient, getLink } = await import('#store/partners.ts');
  const { applyAsPartner, decidePartner } = await import('#app/partners/network.ts');
  const { createLink } = await import('#app/partners/links.ts');
  const owner = await findEmailOwner(email);
  if (!owner) return undefined;
  const caller = clientCaller(owner.ownerId, email);
  let partner = await partnerOfClient(owner.ownerId);
  if (!partner) partner = await applyAsPartner({ payoutSchedule: 'weekly' }, caller, ctx);
  if (partner.status === 'pending') {
    partner = await decidePartner(
      { partnerId: partner.partnerId, decision: 'approve', reason: 'Demo partner agreement signed' },
      STAFF,
      ctx,
    );
  }
  for (const [c, kind, campaign] of [
    [code, 'client', 'demo-webinar'],
    [`${code}-IB`, 'sub_ib', undefined],
  ] as const) {
    if (!(await getLink(c))) await createLink({ code: c, kind, campaign }, caller, ctx);
  }
  return partner;
}
