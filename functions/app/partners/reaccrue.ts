/**
 * Re-accrual after a retroactive move (issue 16, ADR 0018): when staff move a client, or a sub-IB with its network,
 * with an effectiveFrom in the past (`retroactive: true`, audited with its reason), the deals closed since then were
 * priced with the old network. Each is accrued again (functions/app/partners/accrue.ts): the differences are written
 * as adjustment lines of the next seq; nothing is edited.
 *
 * Invariants:
 * - the clients re-priced are the moved client, or every client referred to the moved partner or any partner below
 *   it now (a sub-IB's move changes the chain of its whole network's deals)
 * - only closing deals whose platform time is at or after the move's effectiveFrom are touched (the chain before it
 *   is unchanged)
 * - idempotent: accruing a deal whose stored lines already sum to its price writes nothing; a redelivered move
 *   event re-prices nothing twice
 * - a move effective now or later changes no past deal: nothing to do
 */
import { childrenOf, referralsOf } from '#store/partners.ts';
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
  const fromMs = Date.parse(input.effectiveFrom);
  if (!(fromMs < Date.parse(input.movedAt))) return { clients: 0, deals: 0, adjusted: 0 };
  const clients =
    input.subject === 'client'
      ? [input.subjectId]
      : (await Promise.all((await subtree(input.subjectId)).map(referralsOf))).flat().map((r) => r.clientId);
  let deals = 0;
  let adjusted = 0;
  for (const clientId of new Set(clients)) {
    for (const account of await allClientTradingAccounts(clientId)) {
      for (const d of await accountDealsBetween(account.accountId, fromMs, Date.parse(input.movedAt))) {
        const r = await accrueDealCommissions(dealKeyOf(d), ctx);
        if (r.outcome === 'not_a_close' || r.outcome === 'not_ours') continue;
        deals++;
        if (r.outcome === 'adjusted' || r.outcome === 'accrued') adjusted++;
      }
    }
  }
  return { clients: new Set(clients).size, deals, adjusted };
}
