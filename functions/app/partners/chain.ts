/**
 * The partner chain of a client at an instant (issue 16, ADR 0018): who earns from the client's deal at time t, and
 * under which plan version and rules. The accrual, the replay and the staff explanation all price with it.
 *
 * Invariants:
 * - read from the versioned items only (attributions, parent edges, plan assignments, plan versions: the latest
 *   item whose from / effectiveFrom is not after t), never from the current items, so a move scheduled for later
 *   or a retroactive one prices every deal by the network as it stood at the deal's time, and a replay of any
 *   period reproduces the same chain
 * - tier 0 is the client's partner at t, tier n+1 the parent at t of tier n; the walk stops at a partner without a
 *   parent at t. A partner's status is not versioned and so not read here: a held or suspended partner still
 *   accrues (holds stop payouts, not accruals)
 * - a partner's plan is its own assignment's at t when that names a plan, else the nearest ancestor's (at t) that
 *   does; its overrides are its own assignment's only (an ancestor's personal rates are not inherited). No plan up
 *   the chain, or no version of the plan in effect at t: plan and rules null (the accrual records no_plan)
 * - a cycle or a chain longer than MAX_CHAIN (corrupt data: moves refuse both) is an error, never a loop
 */
import type { PlanRules, PlanVersion } from '#domain/partners/plans.ts';
import { effectiveRules, versionAt } from '#domain/partners/plans.ts';
import {
  type AssignmentItem,
  assignmentsOf,
  attributionsOf,
  type EdgeItem,
  edgesOf,
  type PlanItem,
  planVersionOf,
  planVersions,
} from '#store/partners.ts';

/** A chain longer than this is corrupt data (the tenant maximum depth is at most 20). */
export const MAX_CHAIN = 32;

export interface ChainEntry {
  partnerId: string;
  /** 0: the client's own partner; 1: its parent; ... */
  tier: number;
  /** The plan version in effect at t (null: no plan up the chain, or none of its versions yet in effect). */
  plan: PlanVersion | null;
  /** effectiveRules(plan, the partner's own overrides); null with plan null. */
  rules: PlanRules | null;
  /** The partner whose assignment gave the plan (itself, or the ancestor it inherits from); null without a plan. */
  planFrom: string | null;
}

/** The latest of `items` whose `from` is not after `at` (items oldest first or in any order). */
export function atInstant<T extends { from: string }>(items: readonly T[], at: string): T | undefined {
  let best: T | undefined;
  for (const i of items) if (i.from <= at && (!best || i.from > best.from)) best = i;
  return best;
}

export interface ChainReader {
  chainAt(clientId: string, at: string): Promise<ChainEntry[]>;
  /** The partner's ancestors at `at`, nearest first (throws on a cycle or a chain longer than MAX_CHAIN). */
  ancestorsAt(partnerId: string, at: string): Promise<string[]>;
}

/**
 * A chain reader that reads each partition once for its lifetime (a batch of deals, a replay run, a test). Only
 * for a bounded job: what it has read is not re-read, so a move committed meanwhile is not seen.
 */
export function chainReader(): ChainReader {
  const edges = new Map<string, Promise<EdgeItem[]>>();
  const assignments = new Map<string, Promise<AssignmentItem[]>>();
  const plans = new Map<string, Promise<PlanItem[]>>();
  const once = <T>(m: Map<string, Promise<T>>, k: string, load: (k: string) => Promise<T>) => {
    let p = m.get(k);
    if (!p) {
      p = load(k);
      m.set(k, p);
      p.catch(() => m.delete(k));
    }
    return p;
  };
  const edgesOfP = (id: string) => once(edges, id, edgesOf);
  const assignmentsOfP = (id: string) => once(assignments, id, assignmentsOf);
  const planVersionsOf = (id: string) => once(plans, id, planVersions);

  async function ancestorsAt(partnerId: string, at: string): Promise<string[]> {
    const out: string[] = [];
    const seen = new Set([partnerId]);
    let current = partnerId;
    for (;;) {
      const parent = atInstant(await edgesOfP(current), at)?.parentId ?? null;
      if (parent === null) return out;
      if (seen.has(parent) || out.length >= MAX_CHAIN) {
        throw new Error(`partner chain: a cycle or a chain longer than ${MAX_CHAIN} above ${partnerId} at ${at}`);
      }
      seen.add(parent);
      out.push(parent);
      current = parent;
    }
  }

  async function chainAt(clientId: string, at: string): Promise<ChainEntry[]> {
    const attribution = atInstant(await attributionsOf(clientId), at);
    if (!attribution?.partnerId) return [];
    const members = [attribution.partnerId, ...(await ancestorsAt(attribution.partnerId, at))];
    const own = await Promise.all(members.map(async (m) => atInstant(await assignmentsOfP(m), at)));
    // the plan each member prices with: its own assignment's, else the nearest ancestor's that names one
    const planOf: ({ planId: string; from: string } | null)[] = new Array(members.length).fill(null);
    let inherited: { planId: string; from: string } | null = null;
    for (let i = members.length - 1; i >= 0; i--) {
      const a = own[i];
      if (a?.planId) inherited = { planId: a.planId, from: members[i]! };
      planOf[i] = inherited;
    }
    const versions = new Map<string, PlanVersion | null>();
    await Promise.all(
      [...new Set(planOf.filter((p) => p !== null).map((p) => p.planId))].map(async (planId) => {
        const v = versionAt(await planVersionsOf(planId), at);
        versions.set(planId, v ? planVersionOf(v) : null);
      }),
    );
    return members.map((partnerId, tier) => {
      const p = planOf[tier];
      const plan = p ? (versions.get(p.planId) ?? null) : null;
      return {
        partnerId,
        tier,
        plan,
        rules: plan ? effectiveRules(plan, own[tier]?.overrides) : null,
        planFrom: plan && p ? p.from : null,
      };
    });
  }

  return { chainAt, ancestorsAt };
}

/**
 * The chain of partners earning from a deal of `clientId` at `at` (ISO): tier 0 the client's partner at t, then its
 * ancestors at t, each with its plan version and rules at t (module invariants). [] when the client had no partner.
 */
export const chainAt = (clientId: string, at: string): Promise<ChainEntry[]> => chainReader().chainAt(clientId, at);
