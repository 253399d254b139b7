/**
 * Re-accrual after a retroactive change (issue 16, ADR 0018): when staff move a client, or a sub-IB with its
 * network, or change a plan or a partner's assignment, with an effectiveFrom in the past (`retroactive: true`,
 * audited with its reason), the deals closed since then were priced with the old network or rates. Each is accrued
 * again (functions/app/partners/accrue.ts): the differences are written as adjustment lines of the next seq;
 * nothing is edited.
 *
 * Invariants:
 * - the clients re-priced are the moved client, or every client referred to the moved (or re-assigned) partner or
 *   any partner below it now (a sub-IB's move changes the chain of its whole network's deals; an assignment
 *   changes its own rates, its inheritors' and its overrides on its network), or, for a new plan version, the
 *   networks of every partner that has ever been assigned the plan
 * - only closing deals whose platform time is at or after the move's effectiveFrom are touched (the chain before it
 *   is unchanged)
 * - idempotent: accruing a deal whose stored lines already sum to its price writes nothing; a redelivered move
 *   event re-prices nothing twice
 * - a move effective now or later changes no past deal: nothing to do
 */
import { assignmentsOf, childrenOf, referralsOf } from '#store/partners.ts';
import { accountDealsBetween, allClientTradingAccounts } from '#store/trading.ts';
import type { CommandContext } from '../context.ts';
import { accrueDealCommissions, dealKeyOf } from './accrue.ts';

export interface ReaccrueResult {
  clients: number;
  deals: number;
  adjusted: number;
}

/** The moved partner and every partner below it, as the tree stands now. */
async function subtree(partnerId: string): Promise<string[]> {
  const out = [partnerId];
  for (let i = 0; i < out.length; i++) for (const c of await childrenOf(out[i]!)) out.push(c.partnerId);
  return out;
}

export async function reaccrueAfterMove(
  input: { subject: 'client' | 'partner'; subjectId: string; effectiveFrom: string; movedAt: string },
  ctx: CommandContext,
): Promise<ReaccrueResult> {
  if (!(Date.parse(input.effectiveFrom) < Date.parse(input.movedAt))) return { clients: 0, deals: 0, adjusted: 0 };
  const clients = input.subject === 'client' ? [input.subjectId] : await networkClients([input.subjectId]);
  return reaccrueClients(clients, input.effectiveFrom, input.movedAt, ctx);
}

export async function reaccrueAfterPlanChange(
  input: { planId: string | null; partnerId: string | null; effectiveFrom: string; changedAt: string },
  ctx: CommandContext,
): Promise<ReaccrueResult> {
  if (!(Date.parse(input.effectiveFrom) < Date.parse(input.changedAt))) return { clients: 0, deals: 0, adjusted: 0 };
  const roots = input.partnerId ? [input.partnerId] : input.planId ? await partnersAssigned(input.planId) : [];
  return reaccrueClients(await networkClients(roots), input.effectiveFrom, input.changedAt, ctx);
}

/** Every partner that has (had) an assignment naming the plan, walking the tree from its roots. */
async function partnersAssigned(planId: string): Promise<string[]> {
  const out: string[] = [];
  const all = (await subtrees((await childrenOf(null)).map((p) => p.partnerId))).values();
  for (const id of all) if ((await assignmentsOf(id)).some((a) => a.planId === planId)) out.push(id);
  return out;
}

async function subtrees(roots: readonly string[]): Promise<Set<string>> {
  const out = new Set<string>();
  for (const r of roots) for (const id of await subtree(r)) out.add(id);
  return out;
}

async function networkClients(roots: readonly string[]): Promise<string[]> {
  const partners = [...(await subtrees(roots))];
  return (await Promise.all(partners.map(referralsOf))).flat().map((r) => r.clientId);
}

async function reaccrueClients(
  clients: readonly string[],
  from: string,
  until: string,
  ctx: CommandContext,
): Promise<ReaccrueResult> {
  const unique = new Set(clients);
  let deals = 0;
  let adjusted = 0;
  for (const clientId of unique) {
    for (const account of await allClientTradingAccounts(clientId)) {
      for (const d of await accountDealsBetween(account.accountId, Date.parse(from), Date.parse(until))) {
        const r = await accrueDealCommissions(dealKeyOf(d), ctx);
        if (r.outcome === 'not_a_close' || r.outcome === 'not_ours') continue;
        deals++;
        if (r.outcome === 'adjusted' || r.outcome === 'accrued') adjusted++;
      }
    }
  }
  return { clients: unique.size, deals, adjusted };
}
