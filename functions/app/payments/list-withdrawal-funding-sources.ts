/**
 * Use case: the accounts the caller deposited from, where its withdrawals must go back first (closed loop;
 * GET /v1/funding-sources), each with what it is still owed back per currency.
 *
 * Invariants:
 * - a client lists only its own funding sources (keyed by the caller)
 * - oldest first; what a source is owed is closedLoopPlan's (deposited - returned, never below 0), only for
 *   currencies with something owed, in the plan's order
 */
import type { Caller } from '#domain/identity/roles.ts';
import { closedLoopPlan } from '#domain/payments/withdrawal-checks.ts';
import { type FundingSource, listFundingSources } from '#store/payments/client-state.ts';
import type { CommandContext } from '../context.ts';

export type { FundingSource };

export interface FundingSourceOwed {
  currency: string;
  /** Minor units still to return to the source. */
  outstanding: bigint;
  /** The source's display (what the client recognises). */
  display: string;
}

export interface WithdrawalFundingSource {
  source: FundingSource;
  owed: FundingSourceOwed[];
}

/** Each source with what it is still owed back per currency (sorted by currency). */
export function owedBySource(sources: readonly FundingSource[]): WithdrawalFundingSource[] {
  const currencies = [...new Set(sources.flatMap((s) => Object.keys(s.deposited)))].sort();
  const owedBy = new Map<string, FundingSourceOwed[]>();
  for (const currency of currencies) {
    for (const o of closedLoopPlan(sources, currency, { account: '' }, 0n).owed) {
      const list = owedBy.get(o.sourceId) ?? [];
      list.push({ currency, outstanding: o.outstanding, display: o.display });
      owedBy.set(o.sourceId, list);
    }
  }
  return sources.map((source) => ({ source, owed: owedBy.get(source.sourceId) ?? [] }));
}

export async function listWithdrawalFundingSources(
  _input: Record<string, never>,
  caller: Caller,
  _ctx?: CommandContext,
): Promise<WithdrawalFundingSource[]> {
  return owedBySource(await listFundingSources(caller.sub));
}
