/**
 * Staff reports and corrections of IB commissions (issue 16 parts 3 and 5): the explanation of one deal's
 * commissions ("why did partner X earn 3.20 on deal Y"), a fraud flag that claws a client's commissions back, and a
 * replay of a period. Use cases: functions/app/partners/explain.ts, fraud-flag.ts, replay-period.ts.
 *
 * Invariants:
 * - explanation: compliance, finance and admins; the deal key is `platform#server#deal`, URL-encoded in the path
 *   (400 invalid_deal_key; 404 deal_not_found); it shows the stored result and lines (rate, inputs, plan version)
 *   beside a recomputation now, and `equal` says whether they agree to the minor unit
 * - fraud flag: compliance and admins, with a reason (3-500 characters); 404 client_not_found; each flag is a new
 *   clawback cause `fraud_<ulid>` audited with the staff member as actor; a line is never reversed twice
 * - replay: finance, compliance and admins; [from, to) ISO date-times, from before to (422 invalid_range), at most
 *   31 days (422 range_too_long); read-only
 * - money is decimal strings of its currency (with the currency beside it), never numbers
 */
import * as z from 'zod';
import { type DealExplanation, EXPLANATION_READERS, explainDeal } from '#app/partners/explain.ts';
import { FRAUD_FLAGGERS, type FraudFlagResult, flagFraud } from '#app/partners/fraud-flag.ts';
import { REPLAY_RUNNERS, replayPeriod } from '#app/partners/replay-period.ts';
import { formatAmount } from '#domain/money/index.ts';
import { formatLots, pointsToPrice } from '#domain/partners/accrual.ts';
import { defineRoute, httpHandler } from '#middleware/http.ts';

const Id = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/);
/** platform#server#deal, after URL-decoding (the path carries it encoded: mt5%23srv%2342). */
const DEAL_KEY = /^[a-z0-9_]{1,16}#[A-Za-z0-9._:-]{1,64}#[1-9]\d{0,17}$/;
const DealKeyParam = z
  .string()
  .min(1)
  .max(200)
  .transform((s) => (s.includes('%') ? safeDecode(s) : s))
  .refine((s) => DEAL_KEY.test(s), { message: 'Not platform#server#deal', params: { code: 'invalid_deal_key' } })
  .meta({ description: 'platform#server#deal, URL-encoded', example: 'mt5%23live-1%23100234' });
function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
const isoInstant = z.iso.datetime({ offset: true }).max(40);

const amountOf = (minor: string | bigint, currency: string) => formatAmount(BigInt(minor), currency);

// ------------------------------------------------------------------------------------------------ explanation

const Reason = z.object({ code: z.string(), detail: z.string() });
const LineView = z.object({
  lineId: z.string(),
  sourceKey: z.string(),
  kind: z.enum(['accrual', 'adjustment', 'clawback']),
  seq: z.number().int(),
  partnerId: z.string(),
  tier: z.number().int(),
  rule: z.string(),
  amount: z.string(),
  currency: z.string(),
  rate: z.string(),
  inputs: z.record(z.string(), z.string()),
  planId: z.string(),
  planVersion: z.number().int(),
  accruedAt: z.string(),
  clawsBack: z.string().optional(),
});
type StoredLine = DealExplanation['stored']['lines'][number];
const lineView = (l: StoredLine) => ({
  lineId: l.lineId,
  sourceKey: l.sourceKey,
  kind: l.kind,
  seq: l.seq,
  partnerId: l.partnerId,
  tier: l.tier,
  rule: l.rule,
  amount: amountOf(l.amount, l.currency),
  currency: l.currency,
  rate: l.rate,
  inputs: l.inputs,
  planId: l.planId,
  planVersion: l.planVersion,
  accruedAt: l.accruedAt,
  ...(l.clawsBack ? { clawsBack: l.clawsBack } : {}),
});

export const ExplanationView = z.object({
  dealKey: z.string(),
  deal: z.object({
    platform: z.string(),
    server: z.string(),
    deal: z.number().int(),
    login: z.number().int(),
    clientId: z.string().nullable(),
    accountId: z.string().nullable(),
    symbol: z.string(),
    action: z.string(),
    entry: z.string(),
    lots: z.string(),
    price: z.string(),
    commission: z.string(),
    currency: z.string(),
    positionId: z.number().int(),
    time: z.string(),
  }),
  stored: z.object({
    result: z
      .object({
        chain: z.array(
          z.object({
            partnerId: z.string(),
            tier: z.number().int(),
            planId: z.string(),
            planVersion: z.number().int(),
            qualified: z.boolean(),
            reasons: z.array(Reason),
          }),
        ),
        reasons: z.array(Reason),
        lots: z.string(),
        qualifyingLots: z.string(),
        hedgedLots: z.string(),
        lines: z.number().int(),
        evaluatedAt: z.string(),
      })
      .nullable()
      .meta({ description: 'null: the deal was never accrued' }),
    lines: z.array(LineView).meta({ description: "The deal's accrual and adjustment lines" }),
    clawbacks: z.array(LineView).meta({ description: 'Lines of clawback causes that reversed one of them' }),
  }),
  recomputed: z.object({
    outcome: z.string().meta({ description: 'priced, or why the deal earns nothing (not_a_close, not_ours, no_partner)' }),
    members: z.array(
      z.object({
        partnerId: z.string(),
        tier: z.number().int(),
        planId: z.string().nullable(),
        planVersion: z.number().int().nullable(),
        planFrom: z.string().nullable().meta({ description: 'The partner whose assignment gave the plan' }),
        qualified: z.boolean(),
        reasons: z.array(Reason),
      }),
    ),
    // A recomputed line: a stored line's pricing fields (it has no id, seq or accrual time yet).
    lines: z.array(
      LineView.pick({
        partnerId: true,
        tier: true,
        rule: true,
        amount: true,
        currency: true,
        rate: true,
        inputs: true,
        planId: true,
        planVersion: true,
      }),
    ),
    lots: z.string().nullable(),
    qualifyingLots: z.string().nullable(),
    hedgedLots: z.string().nullable(),
    open: z.object({ price: z.string(), time: z.string(), lots: z.string() }).nullable(),
  }),
  comparison: z.array(
    z.object({
      partnerId: z.string(),
      rule: z.string(),
      currency: z.string(),
      stored: z.string(),
      expected: z.string(),
      equal: z.boolean(),
    }),
  ),
  equal: z.boolean().meta({ description: 'The stored lines equal the recomputation, per partner, rule and currency' }),
});

const iso = (ms: number) => new Date(ms).toISOString();
const lotsOrNull = (v: bigint | null) => (v === null ? null : formatLots(v));

const explanationView = (e: DealExplanation) => {
  const d = e.deal;
  const r = e.stored.result;
  return {
    dealKey: e.dealKey,
    deal: {
      platform: d.platform,
      server: d.server,
      deal: d.deal,
      login: d.login,
      clientId: d.clientId ?? null,
      accountId: d.accountId ?? null,
      symbol: d.symbol,
      action: d.action,
      entry: d.entry,
      lots: formatLots(BigInt(d.volume)),
      price: pointsToPrice(d.price, d.digits),
      commission: amountOf(d.commission, d.currency),
      currency: d.currency,
      positionId: d.positionId,
      time: iso(d.timeMsc),
    },
    stored: {
      result: r
        ? {
            chain: r.chain,
            reasons: r.reasons,
            lots: r.lots,
            qualifyingLots: formatLots(BigInt(r.qualifyingVolume)),
            hedgedLots: formatLots(BigInt(r.hedgedVolume)),
            lines: r.lines,
            evaluatedAt: r.evaluatedAt,
          }
        : null,
      lines: e.stored.lines.map(lineView),
      clawbacks: e.stored.clawbacks.map(lineView),
    },
    recomputed: {
      outcome: e.recomputed.outcome,
      members: e.recomputed.members,
      lines: e.recomputed.lines.map((l) => ({
        partnerId: l.partnerId,
        tier: l.tier,
        rule: l.rule,
        amount: amountOf(l.amount, l.currency),
        currency: l.currency,
        rate: l.rate,
        inputs: l.inputs,
        planId: l.planId,
        planVersion: l.planVersion,
      })),
      lots: e.recomputed.lots,
      qualifyingLots: lotsOrNull(e.recomputed.qualifyingVolume),
      hedgedLots: lotsOrNull(e.recomputed.hedgedVolume),
      open: e.recomputed.open
        ? { price: e.recomputed.open.price, time: iso(e.recomputed.open.timeMsc), lots: formatLots(e.recomputed.open.volume) }
        : null,
    },
    comparison: e.comparison.map((c) => ({
      partnerId: c.partnerId,
      rule: c.rule,
      currency: c.currency,
      stored: amountOf(c.stored, c.currency),
      expected: amountOf(c.expected, c.currency),
      equal: c.equal,
    })),
    equal: e.equal,
  };
};

// ------------------------------------------------------------------------------------------------ fraud flag, replay

const Totals = z.array(z.object({ partnerId: z.string(), amount: z.string(), currency: z.string() }));
export const FraudFlagView = z.object({
  causeId: z.string(),
  clientId: z.string(),
  at: z.string(),
  outcome: z.enum(['not_referred', 'nothing_to_claw', 'clawed_back', 'already_done']),
  lines: z.number().int().meta({ description: 'Clawback lines written by this flag' }),
  totals: Totals.meta({ description: "Per partner and currency: the cause's clawback lines summed (negative)" }),
});
const fraudFlagView = (f: FraudFlagResult) => ({
  causeId: f.causeId,
  clientId: f.clientId,
  at: f.at,
  outcome: f.outcome,
  lines: f.lines,
  totals: f.totals,
});

const PeriodBody = z.strictObject({
  from: isoInstant.meta({ description: 'Deals closed at or after (ISO date-time)' }),
  to: isoInstant.meta({ description: 'Deals closed before (ISO date-time); at most 31 days after from' }),
});
export const ReplayView = z.object({
  from: z.string(),
  to: z.string(),
  partners: z.number().int(),
  clients: z.number().int(),
  deals: z.number().int(),
  lines: z.number().int(),
  totals: z.array(z.object({ currency: z.string(), stored: z.string(), expected: z.string() })),
  mismatches: z.array(
    z.object({
      dealKey: z.string(),
      partnerId: z.string(),
      rule: z.string(),
      currency: z.string(),
      expected: z.string(),
      stored: z.string(),
      kind: z.enum(['not_accrued', 'amount_differs']),
    }),
  ),
  failed: z.number().int().meta({ description: 'Mismatches found (the list holds at most 500)' }),
});

export const routes = [
  defineRoute({
    method: 'GET',
    path: '/v1/admin/partner-deals/{dealKey}/explanation',
    operationId: 'explainPartnerDeal',
    summary:
      'Why a deal earned its partners what it did: the stored result and lines beside a recomputation now, and whether they agree',
    tags: ['partners'],
    auth: EXPLANATION_READERS,
    params: z.strictObject({ dealKey: DealKeyParam }),
    responses: {
      200: { description: 'The explanation', schema: ExplanationView },
      400: { description: 'invalid_deal_key' },
      404: { description: 'deal_not_found' },
    },
    handler: async ({ caller, params, correlationId, locale }) => ({
      status: 200,
      body: explanationView(await explainDeal({ dealKey: params.dealKey }, caller!, { requestId: correlationId, locale })),
    }),
  }),
  defineRoute({
    method: 'POST',
    path: '/v1/admin/clients/{clientId}/fraud-flag',
    operationId: 'flagClientFraud',
    summary: "Flags a client for fraud: its partners' commissions in the clawback window are clawed back (audited)",
    tags: ['partners'],
    auth: FRAUD_FLAGGERS,
    params: z.strictObject({ clientId: Id }),
    body: z.strictObject({ reason: z.string().trim().min(3).max(500) }),
    idempotency: 'optional',
    responses: {
      200: {
        description:
          'clawed_back (lines written), nothing_to_claw (nothing in the window, or all of it reversed already), not_referred',
        schema: FraudFlagView,
      },
      400: { description: 'validation_failed' },
      404: { description: 'client_not_found' },
    },
    handler: async ({ caller, params, body, correlationId, locale }) => ({
      status: 200,
      body: fraudFlagView(
        await flagFraud({ clientId: params.clientId, reason: body.reason }, caller!, { requestId: correlationId, locale }),
      ),
    }),
  }),
  defineRoute({
    method: 'POST',
    path: '/v1/admin/partners/replay',
    operationId: 'replayPartnerAccruals',
    summary: "Recomputes a period's commissions from the stored deals and plan versions and compares them to the cent",
    tags: ['partners'],
    auth: REPLAY_RUNNERS,
    body: PeriodBody,
    responses: {
      200: { description: 'The comparison (read-only: nothing is corrected)', schema: ReplayView },
      400: { description: 'validation_failed' },
      422: { description: 'invalid_range (from not before to), range_too_long (more than 31 days)' },
    },
    handler: async ({ caller, body, correlationId, locale }) => ({
      status: 200,
      body: await replayPeriod(body, caller!, { requestId: correlationId, locale }),
    }),
  }),
];

export const handler = httpHandler(...routes);
