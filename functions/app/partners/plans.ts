/**
 * Commission plans as data and their assignment to partners (issue 16, ADR 0018; rules: domain/partners/plans.ts).
 * Finance writes plans (version 1 at creation, then new versions effective from a date) and assigns a plan and/or
 * overrides to a partner from a date; its sub-network without an assignment of its own inherits it (chain.ts).
 *
 * Invariants:
 * - a plan's currency is a known, enabled currency (422 unknown_currency, currency_not_enabled) and never changes
 *   across its versions; its tier overrides name each tier once (422 duplicate_tier_override)
 * - a version is immutable: version n+1 is put-if-absent (a concurrent one: 409 conflict), effective from a date
 *   not in the past unless `retroactive` with a reason (422 effective_in_past, 400 reason_required), because a past
 *   date re-prices deals already accrued (their re-accrual writes adjustment lines)
 * - a plan id is chosen or generated (`plan_<ulid>`); a taken one is 409 plan_exists; an unknown one 404
 *   plan_not_found
 * - an assignment names a plan, overrides, or both (400 assignment_empty), for an existing partner (404
 *   partner_not_found), with the same date rule; two at one instant: 409 conflict
 * - every write is one commit with its audit entry (actor: the finance or admin user); plans and assignments have
 *   no events of their own (an accrual names the plan version it used)
 */
import { ulid } from 'ulid';
import { DomainError } from '#domain/errors.ts';
import type { Caller } from '#domain/identity/roles.ts';
import { isCurrency } from '#domain/money/index.ts';
import {
  type PlanOverrides,
  type PlanRules,
  PlanRulesSchema,
  PlanVersionSchema,
  type Qualification,
  QualificationSchema,
} from '#domain/partners/plans.ts';
import { tenantConfig } from '#shared/tenant.ts';
import { actorFrom, commit } from '#store/audit.ts';
import {
  type AssignmentItem,
  allPlanVersions,
  assignmentEntity,
  getPartner,
  newPlanItem,
  type PlanItem,
  partnerEntity,
  partnerNotFound,
  planEntity,
  planNotFound,
  planVersions,
} from '#store/partners.ts';
import type { CommandContext } from '../context.ts';
import { type Dated, effectiveInstant, PARTNER_READERS, PLAN_STAFF } from './access.ts';

export interface PlanInput extends Dated {
  name: string;
  rules: PlanRules;
  qualification: Qualification;
}

export interface Plan {
  planId: string;
  name: string;
  currency: string;
  /** Oldest first. */
  versions: PlanItem[];
}

const currencyError = (code: 'unknown_currency' | 'currency_not_enabled', message: string) =>
  new DomainError(code, 'unprocessable', message, [{ field: 'currency', code, message }]);

function assertRules(rules: PlanRules): void {
  const tiers = rules.tierOverrides.map((t) => t.tier);
  const dup = tiers.find((t, i) => tiers.indexOf(t) !== i);
  if (dup !== undefined) {
    throw new DomainError('duplicate_tier_override', 'unprocessable', `Tier ${dup} has more than one override`, [
      { field: 'rules.tierOverrides', code: 'duplicate_tier_override', message: `Tier ${dup} twice` },
    ]);
  }
}

function versionFields(planId: string, version: number, currency: string, input: PlanInput, from: string, by: string) {
  // parsed whole so a version is stored exactly as the accrual reads it (defaults applied)
  const parsed = PlanVersionSchema.parse({
    planId,
    version,
    name: input.name,
    currency,
    effectiveFrom: from,
    rules: PlanRulesSchema.parse(input.rules),
    qualification: QualificationSchema.parse(input.qualification),
  });
  return { ...parsed, createdBy: by, ...(input.retroactive ? { retroactive: true, reason: input.reason } : {}) };
}

function planAudit(p: PlanItem) {
  return {
    planId: p.planId,
    version: p.version,
    name: p.name,
    currency: p.currency,
    effectiveFrom: p.effectiveFrom,
    rules: p.rules,
    qualification: p.qualification,
  };
}

/** Finance creates a plan: its version 1. */
export async function createPlan(
  input: PlanInput & { planId?: string | undefined; currency: string },
  caller: Caller,
  ctx: CommandContext,
): Promise<Plan> {
  const actor = actorFrom(caller, PLAN_STAFF);
  if (!isCurrency(input.currency)) throw currencyError('unknown_currency', 'Unknown currency');
  if (!tenantConfig().currencies.includes(input.currency)) throw currencyError('currency_not_enabled', 'Not enabled here');
  assertRules(input.rules);
  const now = ctx.now ?? new Date();
  const from = effectiveInstant(input, now, 'effective_in_past');
  const planId = input.planId ?? `plan_${ulid().toLowerCase()}`;
  const at = now.toISOString();
  const plan = newPlanItem(versionFields(planId, 1, input.currency, input, from, caller.sub), at);
  await commit({
    writes: [
      planEntity.putNew(
        plan,
        new DomainError('plan_exists', 'conflict', 'A plan with this id exists', [
          { field: 'planId', code: 'plan_exists', message: 'Plan id taken' },
        ]),
      ),
    ],
    audit: {
      actor,
      action: 'partner.plan.created',
      entity: { type: planEntity.type, id: planId },
      newEntity: true,
      before: null,
      after: planAudit(plan),
      requestId: ctx.requestId,
    },
  });
  return { planId, name: plan.name, currency: plan.currency, versions: [plan] };
}

/** Finance writes a plan's next version, effective from a date. */
export async function addPlanVersion(
  input: Omit<PlanInput, 'name'> & { planId: string; name?: string | undefined },
  caller: Caller,
  ctx: CommandContext,
): Promise<Plan> {
  const actor = actorFrom(caller, PLAN_STAFF);
  const versions = await planVersions(input.planId);
  const last = versions.at(-1);
  if (!last) throw planNotFound();
  assertRules(input.rules);
  const now = ctx.now ?? new Date();
  const from = effectiveInstant(input, now, 'effective_in_past');
  const at = now.toISOString();
  const plan = newPlanItem(
    versionFields(input.planId, last.version + 1, last.currency, { ...input, name: input.name ?? last.name }, from, caller.sub),
    at,
  );
  await commit({
    writes: [planEntity.putNew(plan)],
    audit: {
      actor,
      action: 'partner.plan.versioned',
      entity: { type: planEntity.type, id: input.planId },
      before: planAudit(last),
      after: planAudit(plan),
      requestId: ctx.requestId,
    },
    outbox: [
      {
        detailType: 'partner.plan.changed',
        detail: {
          planId: plan.planId,
          version: plan.version,
          partnerId: null,
          effectiveFrom: from,
          retroactive: from < at,
          changedBy: caller.sub,
        },
      },
    ],
  });
  return { planId: plan.planId, name: plan.name, currency: plan.currency, versions: [...versions, plan] };
}

function plansOf(items: readonly PlanItem[]): Plan[] {
  const byId = new Map<string, PlanItem[]>();
  for (const v of items) byId.set(v.planId, [...(byId.get(v.planId) ?? []), v]);
  return [...byId.values()].map((vs) => {
    const sorted = vs.sort((a, b) => a.version - b.version);
    const latest = sorted.at(-1)!;
    return { planId: latest.planId, name: latest.name, currency: latest.currency, versions: sorted };
  });
}

/** Every plan with its versions, by plan id. */
export async function listPlans(caller: Caller, _ctx: CommandContext): Promise<Plan[]> {
  actorFrom(caller, PARTNER_READERS);
  return plansOf(await allPlanVersions());
}

/** One plan with its versions. */
export async function readPlan(input: { planId: string }, caller: Caller, _ctx: CommandContext): Promise<Plan> {
  actorFrom(caller, PARTNER_READERS);
  const [plan] = plansOf(await planVersions(input.planId));
  if (!plan) throw planNotFound();
  return plan;
}

/** Finance assigns a plan and/or overrides to a partner from a date (its sub-network inherits the plan). */
export async function assignPlan(
  input: Dated & { partnerId: string; planId?: string | undefined; overrides?: PlanOverrides | undefined },
  caller: Caller,
  ctx: CommandContext,
): Promise<AssignmentItem> {
  const actor = actorFrom(caller, PLAN_STAFF);
  if (!input.planId && !input.overrides) {
    throw new DomainError('assignment_empty', 'validation', 'Assign a plan, overrides, or both', [
      { field: 'planId', code: 'assignment_empty', message: 'planId or overrides required' },
    ]);
  }
  const partner = await getPartner(input.partnerId, { consistent: true });
  if (!partner) throw partnerNotFound();
  if (input.planId && (await planVersions(input.planId)).length === 0) throw planNotFound();
  if (input.overrides?.tierOverrides) assertRules({ tierOverrides: input.overrides.tierOverrides } as PlanRules);
  const now = ctx.now ?? new Date();
  const from = effectiveInstant(input, now, 'effective_in_past');
  const at = now.toISOString();
  const assignment = assignmentEntity.item(
    {
      partnerId: partner.partnerId,
      from,
      ...(input.planId ? { planId: input.planId } : {}),
      ...(input.overrides ? { overrides: input.overrides } : {}),
      by: caller.sub,
      ...(input.reason ? { reason: input.reason } : {}),
    },
    at,
  );
  await commit({
    writes: [
      assignmentEntity.putNew(
        assignment,
        new DomainError('conflict', 'conflict', 'Another assignment takes effect at the same instant; choose another date'),
      ),
    ],
    audit: {
      actor,
      action: 'partner.plan.assigned',
      entity: { type: partnerEntity.type, id: partner.partnerId },
      clientId: partner.clientId,
      before: null,
      after: {
        planId: input.planId ?? null,
        overrides: input.overrides ?? null,
        effectiveFrom: from,
        ...(input.retroactive ? { retroactive: true } : {}),
        ...(input.reason ? { reason: input.reason } : {}),
      },
      requestId: ctx.requestId,
    },
    outbox: [
      {
        detailType: 'partner.plan.changed',
        detail: {
          planId: input.planId ?? null,
          version: null,
          partnerId: partner.partnerId,
          effectiveFrom: from,
          retroactive: from < at,
          changedBy: caller.sub,
        },
      },
    ],
  });
  return assignment;
}
