/**
 * The partner network for staff (issue 16): partners by status and one partner with its parent and plan history;
 * compliance creates partners, decides applications, holds and releases payouts, and moves clients and sub-IBs;
 * finance writes commission plans (versions effective from a date) and assigns them. Use cases:
 * functions/app/partners/network.ts, plans.ts.
 *
 * Invariants: every change carries who (the staff member) and is audited; decisions and moves carry a reason
 * (3-500 characters); dates are ISO date-times, never in the past unless `retroactive: true` with a reason; plans
 * are data (domain/partners/plans.ts), money in them a decimal string of the plan's currency and shares in basis
 * points; reads show the versioned history oldest first.
 */
import * as z from 'zod';
import { NETWORK_STAFF, PARTNER_READERS, PLAN_STAFF } from '#app/partners/access.ts';
import {
  createPartner,
  decidePartner,
  listPartners,
  moveClient,
  moveSubPartner,
  PARTNER_DECISIONS,
  readPartner,
} from '#app/partners/network.ts';
import { addPlanVersion, assignPlan, createPlan, listPlans, type Plan, readPlan } from '#app/partners/plans.ts';
import { PlanOverridesSchema, PlanRulesSchema, QualificationSchema } from '#domain/partners/plans.ts';
import { defineRoute, httpHandler } from '#middleware/http.ts';
import { cursorParam, limitParam, pageBody, pageSchema } from './shared/pages.ts';

const PARTNER_STATUSES = ['pending', 'approved', 'rejected', 'suspended'] as const;
const SCHEDULES = ['daily', 'weekly', 'monthly'] as const;
const Id = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/);
const PartnerParams = z.strictObject({ partnerId: Id });
const Reason = z.string().trim().min(3).max(500);
const Dated = {
  effectiveFrom: z.iso
    .datetime({ offset: true })
    .optional()
    .meta({ description: 'From when it applies (default now); in the past only with retroactive: true' }),
  retroactive: z.boolean().optional().meta({ description: 'Allows a past effectiveFrom (needs a reason)' }),
};

const CreateBody = z.strictObject({
  clientId: Id,
  parentId: Id.nullable().optional(),
  name: z.string().trim().min(1).max(120).optional(),
  payoutSchedule: z.enum(SCHEDULES).optional(),
  approve: z
    .strictObject({ reason: Reason })
    .optional()
    .meta({ description: 'Approve at once (its payouts are held until the client’s KYC is approved)' }),
});
const DecisionBody = z.strictObject({ decision: z.enum(PARTNER_DECISIONS), reason: Reason });
const MoveParentBody = z.strictObject({
  parentId: Id.nullable().meta({ description: 'The new parent partner; null: a top-level partner' }),
  ...Dated,
  reason: Reason,
});
const MoveClientBody = z.strictObject({
  partnerId: Id.nullable().meta({ description: 'The client’s new partner; null: no partner' }),
  ...Dated,
  reason: Reason,
});
const PlanBody = z.strictObject({
  planId: z
    .string()
    .regex(/^[a-z0-9_-]{3,64}$/)
    .optional()
    .meta({ description: 'Generated when absent' }),
  name: z.string().trim().min(1).max(120),
  currency: z.string().regex(/^[A-Z]{3}$/),
  ...Dated,
  reason: Reason.optional(),
  rules: PlanRulesSchema,
  qualification: QualificationSchema.prefault({}),
});
const VersionBody = z.strictObject({
  name: z.string().trim().min(1).max(120).optional().meta({ description: 'Default: the previous version’s' }),
  ...Dated,
  reason: Reason.optional(),
  rules: PlanRulesSchema,
  qualification: QualificationSchema.prefault({}),
});
const AssignBody = z.strictObject({
  planId: Id.optional().meta({ description: 'Absent: the partner keeps inheriting its nearest ancestor’s plan' }),
  overrides: PlanOverridesSchema.optional().meta({ description: 'This partner’s own rates over its plan’s' }),
  ...Dated,
  reason: Reason.optional(),
});

export const StaffPartnerView = z.object({
  partnerId: z.string(),
  clientId: z.string(),
  status: z.enum(PARTNER_STATUSES),
  hold: z.object({ reason: z.string(), by: z.string(), at: z.string() }).optional(),
  parentId: z.string().nullable(),
  path: z.array(z.string()).meta({ description: 'Ancestors, top first (as of the latest move)' }),
  depth: z.number().int(),
  payout: z.object({ schedule: z.enum(SCHEDULES) }),
  paidThrough: z.record(z.string(), z.string()),
  name: z.string().optional(),
  referralCode: z.string().optional(),
  createdBy: z.string().optional(),
  decidedBy: z.string().optional(),
  decidedAt: z.string().optional(),
  reason: z.string().optional(),
  createdAt: z.string(),
});
type PartnerLike = Awaited<ReturnType<typeof readPartner>>['partner'];
const partnerView = (p: PartnerLike) => ({
  partnerId: p.partnerId,
  clientId: p.clientId,
  status: p.status,
  ...(p.hold ? { hold: p.hold } : {}),
  parentId: p.parentId,
  path: p.path,
  depth: p.depth,
  payout: p.payout,
  paidThrough: p.paidThrough,
  ...(p.name ? { name: p.name } : {}),
  ...(p.referralCode ? { referralCode: p.referralCode } : {}),
  ...(p.createdBy ? { createdBy: p.createdBy } : {}),
  ...(p.decidedBy ? { decidedBy: p.decidedBy } : {}),
  ...(p.decidedAt ? { decidedAt: p.decidedAt } : {}),
  ...(p.reason ? { reason: p.reason } : {}),
  createdAt: p.createdAt,
});
const EdgeView = z.object({
  from: z.string(),
  parentId: z.string().nullable(),
  by: z.string(),
  reason: z.string().optional(),
  retroactive: z.boolean().optional(),
});
const AssignmentView = z.object({
  from: z.string(),
  planId: z.string().optional(),
  overrides: z.record(z.string(), z.unknown()).optional(),
  by: z.string(),
  reason: z.string().optional(),
});
const PartnerDetailView = StaffPartnerView.extend({
  parents: z.array(EdgeView).meta({ description: 'Its parent from each date, oldest first' }),
  plans: z.array(AssignmentView).meta({ description: 'Its plan assignments from each date, oldest first' }),
});
type Detail = Awaited<ReturnType<typeof readPartner>>;
const detailView = (d: Detail) => ({
  ...partnerView(d.partner),
  parents: d.edges.map((e) => ({
    from: e.from,
    parentId: e.parentId,
    by: e.by,
    ...(e.reason ? { reason: e.reason } : {}),
    ...(e.retroactive ? { retroactive: true } : {}),
  })),
  plans: d.assignments.map(assignmentView),
});
const assignmentView = (a: Detail['assignments'][number]) => ({
  from: a.from,
  ...(a.planId ? { planId: a.planId } : {}),
  ...(a.overrides ? { overrides: a.overrides } : {}),
  by: a.by,
  ...(a.reason ? { reason: a.reason } : {}),
});

const PlanVersionView = z.object({
  version: z.number().int(),
  name: z.string(),
  effectiveFrom: z.string(),
  rules: z.record(z.string(), z.unknown()),
  qualification: z.record(z.string(), z.unknown()),
  createdBy: z.string(),
  createdAt: z.string(),
});
export const PlanView = z.object({
  planId: z.string(),
  name: z.string(),
  currency: z.string(),
  versions: z.array(PlanVersionView).meta({ description: 'Oldest first; a deal is priced by the version in effect at its time' }),
});
const planView = (p: Plan) => ({
  planId: p.planId,
  name: p.name,
  currency: p.currency,
  versions: p.versions.map((v) => ({
    version: v.version,
    name: v.name,
    effectiveFrom: v.effectiveFrom,
    rules: v.rules,
    qualification: v.qualification,
    createdBy: v.createdBy,
    createdAt: v.createdAt,
  })),
});

const MoveView = z.object({
  clientId: z.string(),
  partnerId: z.string().nullable(),
  previousPartnerId: z.string().nullable(),
  effectiveFrom: z.string(),
});

export const routes = [
  defineRoute({
    method: 'GET',
    path: '/v1/admin/partners',
    operationId: 'listPartners',
    summary: 'Partners in a status (default pending), newest first',
    tags: ['partners'],
    auth: PARTNER_READERS,
    query: z.strictObject({
      status: z.enum(PARTNER_STATUSES).default('pending'),
      limit: limitParam(100, 50),
      cursor: cursorParam.optional(),
    }),
    responses: { 200: { description: 'A page of partners', schema: pageSchema(StaffPartnerView) } },
    handler: async ({ query, caller, correlationId, locale }) => ({
      status: 200,
      body: pageBody(await listPartners(query, caller!, { requestId: correlationId, locale }), partnerView),
    }),
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/admin/partners/{partnerId}',
    operationId: 'getPartner',
    summary: 'One partner with its parent and plan-assignment history',
    tags: ['partners'],
    auth: PARTNER_READERS,
    params: PartnerParams,
    responses: {
      200: { description: 'The partner', schema: PartnerDetailView },
      404: { description: 'partner_not_found' },
    },
    handler: async ({ params, caller, correlationId, locale }) => ({
      status: 200,
      body: detailView(await readPartner(params, caller!, { requestId: correlationId, locale })),
    }),
  }),
  defineRoute({
    method: 'POST',
    path: '/v1/admin/partners',
    operationId: 'createPartner',
    summary: 'Create a partner for an existing client (pending, or approved at once with a reason)',
    tags: ['partners'],
    auth: NETWORK_STAFF,
    body: CreateBody,
    idempotency: 'optional',
    responses: {
      201: { description: 'Created', schema: StaffPartnerView },
      404: { description: 'client_not_found, partner_not_found (the parent)' },
      409: { description: 'already_a_partner, partner_not_approved (the parent)' },
      422: { description: 'kyc_required, network_too_deep' },
    },
    handler: async ({ body, caller, correlationId, locale }) => ({
      status: 201,
      body: partnerView(
        await createPartner(
          {
            clientId: body.clientId,
            parentId: body.parentId,
            name: body.name,
            payoutSchedule: body.payoutSchedule,
            approveReason: body.approve?.reason,
          },
          caller!,
          { requestId: correlationId, locale },
        ),
      ),
    }),
  }),
  defineRoute({
    method: 'POST',
    path: '/v1/admin/partners/{partnerId}/decision',
    operationId: 'decidePartner',
    summary: "Approve or reject an application, or hold or release a partner's payouts, with a reason (audited)",
    tags: ['partners'],
    auth: NETWORK_STAFF,
    params: PartnerParams,
    body: DecisionBody,
    idempotency: 'optional',
    responses: {
      200: { description: 'Decided', schema: StaffPartnerView },
      404: { description: 'partner_not_found' },
      409: { description: 'partner_decision_not_allowed, conflict' },
      422: { description: 'kyc_required' },
    },
    handler: async ({ params, body, caller, correlationId, locale }) => ({
      status: 200,
      body: partnerView(await decidePartner({ ...params, ...body }, caller!, { requestId: correlationId, locale })),
    }),
  }),
  defineRoute({
    method: 'POST',
    path: '/v1/admin/partners/{partnerId}/parent',
    operationId: 'moveSubPartner',
    summary: 'Move a sub-IB (with its sub-network) under another partner from a date (audited)',
    tags: ['partners'],
    auth: NETWORK_STAFF,
    params: PartnerParams,
    body: MoveParentBody,
    idempotency: 'optional',
    responses: {
      200: { description: 'Moved (the partner as of its latest move)', schema: StaffPartnerView },
      400: { description: 'reason_required' },
      404: { description: 'partner_not_found' },
      409: { description: 'partner_not_approved, move_no_change, move_superseded, conflict' },
      422: { description: 'move_in_past, partner_cycle, network_too_deep, subtree_too_large' },
    },
    handler: async ({ params, body, caller, correlationId, locale }) => ({
      status: 200,
      body: partnerView(await moveSubPartner({ ...params, ...body }, caller!, { requestId: correlationId, locale })),
    }),
  }),
  defineRoute({
    method: 'POST',
    path: '/v1/admin/clients/{clientId}/partner',
    operationId: 'moveClientToPartner',
    summary: 'Move a client to another partner (or to none) from a date (audited)',
    tags: ['partners'],
    auth: NETWORK_STAFF,
    params: z.strictObject({ clientId: Id }),
    body: MoveClientBody,
    idempotency: 'optional',
    responses: {
      200: { description: 'Moved', schema: MoveView },
      400: { description: 'reason_required' },
      404: { description: 'client_not_found, partner_not_found' },
      409: { description: 'partner_not_approved, move_no_change, move_superseded, conflict' },
      422: { description: 'move_in_past' },
    },
    handler: async ({ params, body, caller, correlationId, locale }) => ({
      status: 200,
      body: await moveClient({ ...params, ...body }, caller!, { requestId: correlationId, locale }),
    }),
  }),
  defineRoute({
    method: 'POST',
    path: '/v1/admin/partner-plans',
    operationId: 'createPartnerPlan',
    summary: 'Create a commission plan (its version 1)',
    tags: ['partners'],
    auth: PLAN_STAFF,
    body: PlanBody,
    idempotency: 'optional',
    responses: {
      201: { description: 'Created', schema: PlanView },
      400: { description: 'reason_required' },
      409: { description: 'plan_exists' },
      422: { description: 'unknown_currency, currency_not_enabled, duplicate_tier_override, effective_in_past' },
    },
    handler: async ({ body, caller, correlationId, locale }) => ({
      status: 201,
      body: planView(await createPlan(body, caller!, { requestId: correlationId, locale })),
    }),
  }),
  defineRoute({
    method: 'POST',
    path: '/v1/admin/partner-plans/{planId}/versions',
    operationId: 'addPartnerPlanVersion',
    summary: "Write a plan's next version, effective from a date (earlier deals keep the earlier version)",
    tags: ['partners'],
    auth: PLAN_STAFF,
    params: z.strictObject({ planId: Id }),
    body: VersionBody,
    idempotency: 'optional',
    responses: {
      201: { description: 'Versioned', schema: PlanView },
      400: { description: 'reason_required' },
      404: { description: 'plan_not_found' },
      409: { description: 'conflict' },
      422: { description: 'duplicate_tier_override, effective_in_past' },
    },
    handler: async ({ params, body, caller, correlationId, locale }) => ({
      status: 201,
      body: planView(await addPlanVersion({ ...params, ...body }, caller!, { requestId: correlationId, locale })),
    }),
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/admin/partner-plans',
    operationId: 'listPartnerPlans',
    summary: 'Every commission plan with its versions',
    tags: ['partners'],
    auth: PARTNER_READERS,
    responses: { 200: { description: 'The plans', schema: z.object({ items: z.array(PlanView) }) } },
    handler: async ({ caller, correlationId, locale }) => ({
      status: 200,
      body: { items: (await listPlans(caller!, { requestId: correlationId, locale })).map(planView) },
    }),
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/admin/partner-plans/{planId}',
    operationId: 'getPartnerPlan',
    summary: 'One commission plan with its versions',
    tags: ['partners'],
    auth: PARTNER_READERS,
    params: z.strictObject({ planId: Id }),
    responses: {
      200: { description: 'The plan', schema: PlanView },
      404: { description: 'plan_not_found' },
    },
    handler: async ({ params, caller, correlationId, locale }) => ({
      status: 200,
      body: planView(await readPlan(params, caller!, { requestId: correlationId, locale })),
    }),
  }),
  defineRoute({
    method: 'POST',
    path: '/v1/admin/partners/{partnerId}/plan',
    operationId: 'assignPartnerPlan',
    summary: 'Assign a plan and/or overrides to a partner from a date (its sub-network without its own inherits the plan)',
    tags: ['partners'],
    auth: PLAN_STAFF,
    params: PartnerParams,
    body: AssignBody,
    idempotency: 'optional',
    responses: {
      201: { description: 'Assigned', schema: AssignmentView },
      400: { description: 'assignment_empty, reason_required' },
      404: { description: 'partner_not_found, plan_not_found' },
      409: { description: 'conflict' },
      422: { description: 'duplicate_tier_override, effective_in_past' },
    },
    handler: async ({ params, body, caller, correlationId, locale }) => ({
      status: 201,
      body: assignmentView(await assignPlan({ ...params, ...body }, caller!, { requestId: correlationId, locale })),
    }),
  }),
];

export const handler = httpHandler(...routes);
