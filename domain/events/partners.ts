/**
 * Events of the introducing-broker network (issue 16, ADR 0018): partners and their approval, referral attribution
 * and moves, commission accruals and clawbacks, payouts.
 *
 * Invariants: every definition follows domain/events/define.ts; money is a signed decimal string in `currency`;
 * a decision or a move carries the staff member's id and the reason; `partner.commission.accrued` is written once
 * per (deal, write) in the transaction of its lines, and lists them, so a consumer can total a partner's earnings
 * from the events alone.
 */
import * as z from 'zod';
import { currencyCode, defineEvent, id, instant, signedDecimal } from './define.ts';

const line = z.object({
  lineId: id,
  partnerId: id,
  rule: id,
  tier: z.number().int().min(0),
  amount: signedDecimal,
  currency: currencyCode,
});
const lineExample = {
  lineId: 'mt5#local-simulator#42/ib_01J8Z3/per_lot/0',
  partnerId: 'ib_01J8Z3',
  rule: 'per_lot',
  tier: 0,
  amount: '7.00',
  currency: 'USD',
};
const totals = z.array(z.object({ partnerId: id, amount: signedDecimal, currency: currencyCode }));

export const PARTNER_EVENTS = [
  defineEvent({
    detailType: 'partner.applied',
    version: 1,
    context: 'partners',
    external: true,
    description: 'A client applied to become a partner (or staff created one); compliance decides.',
    schema: z.object({ partnerId: id, clientId: id, parentId: id.nullable(), referralCode: id.nullable() }),
    example: { partnerId: 'ib_01J8Z3', clientId: 'client-01J8Z3', parentId: null, referralCode: null },
  }),
  defineEvent({
    detailType: 'partner.decided',
    version: 1,
    context: 'partners',
    external: true,
    description: "Compliance approved or rejected a partner application, or put a partner's payouts on hold or released them.",
    schema: z.object({
      partnerId: id,
      clientId: id,
      decision: z.enum(['approved', 'rejected', 'hold', 'release']),
      reason: z.string().min(1),
      decidedBy: id,
    }),
    example: {
      partnerId: 'ib_01J8Z3',
      clientId: 'client-01J8Z3',
      decision: 'approved' as const,
      reason: 'KYC verified, agreement signed',
      decidedBy: 'staff-01J8Z3',
    },
  }),
  defineEvent({
    detailType: 'partner.client.attributed',
    version: 1,
    context: 'partners',
    external: true,
    description:
      'A client (or a sub-IB) is attributed to a partner from a date: at registration through a referral link, or moved by staff.',
    schema: z.object({
      subject: z.enum(['client', 'partner']),
      subjectId: id,
      partnerId: id.nullable(),
      previousPartnerId: id.nullable(),
      effectiveFrom: instant,
      source: z.enum(['registration', 'move']),
      code: id.optional(),
      campaign: z.string().optional(),
      movedBy: id.optional(),
      reason: z.string().optional(),
    }),
    example: {
      subject: 'client' as const,
      subjectId: 'client-01J8Z3',
      partnerId: 'ib_01J8Z3',
      previousPartnerId: null,
      effectiveFrom: '2026-12-07T10:00:00.000Z',
      source: 'registration' as const,
      code: 'DEMO-IB',
      campaign: 'spring-webinar',
    },
  }),
  defineEvent({
    detailType: 'partner.plan.changed',
    version: 1,
    context: 'partners',
    external: true,
    description:
      "A plan version was written, or a partner's plan assignment changed, from `effectiveFrom` (in the past only when retroactive: the deals since then are re-priced).",
    schema: z.object({
      planId: id.nullable(),
      version: z.number().int().min(1).nullable(),
      partnerId: id.nullable(),
      effectiveFrom: instant,
      retroactive: z.boolean(),
      changedBy: id,
    }),
    example: {
      planId: 'demo-ib',
      version: 2,
      partnerId: null,
      effectiveFrom: '2026-12-07T10:00:00.000Z',
      retroactive: false,
      changedBy: 'staff-01J8Z3',
    },
  }),
  defineEvent({
    detailType: 'partner.commission.accrued',
    version: 1,
    context: 'partners',
    external: true,
    description:
      "Commission lines were written for a deal (or a CPA qualification): each partner's line per rule, exactly once, or an adjustment.",
    schema: z.object({
      sourceKey: id,
      clientId: id,
      kind: z.enum(['deal', 'cpa', 'adjustment']),
      lines: z.array(line),
    }),
    example: { sourceKey: 'mt5#local-simulator#42', clientId: 'client-01J8Z3', kind: 'deal' as const, lines: [lineExample] },
  }),
  defineEvent({
    detailType: 'partner.commission.clawed_back',
    version: 1,
    context: 'partners',
    external: true,
    description:
      "A chargeback or a fraud flag clawed back the commissions earned on a client's deals within the tenant's window.",
    schema: z.object({
      causeId: id,
      cause: z.enum(['chargeback', 'fraud']),
      clientId: id,
      windowFrom: instant,
      lines: z.number().int().min(0),
      totals,
    }),
    example: {
      causeId: 'cb_01J8Z3',
      cause: 'chargeback' as const,
      clientId: 'client-01J8Z3',
      windowFrom: '2026-09-08T10:00:00.000Z',
      lines: 12,
      totals: [{ partnerId: 'ib_01J8Z3', amount: '-84.00', currency: 'USD' }],
    },
  }),
  defineEvent({
    detailType: 'partner.payout.paid',
    version: 1,
    context: 'partners',
    external: true,
    description: "A partner's scheduled payout: one ledger journal of exactly the sum of the lines it lists.",
    schema: z.object({
      payoutId: id,
      partnerId: id,
      clientId: id,
      amount: signedDecimal,
      currency: currencyCode,
      lines: z.number().int().min(1),
      periodEnd: instant,
      journalId: id,
    }),
    example: {
      payoutId: 'po_ib_01J8Z3_2026-12-07_USD',
      partnerId: 'ib_01J8Z3',
      clientId: 'client-01J8Z3',
      amount: '412.80',
      currency: 'USD',
      lines: 57,
      periodEnd: '2026-12-07T00:00:00.000Z',
      journalId: 'pj_po_ib_01J8Z3_2026-12-07_USD',
    },
  }),
] as const;
