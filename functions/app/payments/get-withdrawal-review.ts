/**
 * Use case: everything a reviewer needs to decide on one withdrawal (GET /v1/admin/withdrawals/{withdrawalId}).
 *
 * Invariants:
 * - reads only, for finance, compliance and admins (the edge's role check); 404 withdrawal_not_found
 * - the withdrawal as stored (the edge shows the staff view), the client's identity summary (null when the
 *   profile is gone), the funding sources with what each is still owed back, the RECENT_DEPOSITS most recent
 *   deposits for context and the wallet's balance (ledger, available, held; minor units)
 * - the rejection reasons a reviewer may pick from (codes, whether a note is needed, the roles that may use
 *   each)
 */
import type { Caller } from '#domain/identity/roles.ts';
import { WITHDRAWAL_REJECTION_REASONS } from '#domain/payments/reasons.ts';
import { getClientProfile } from '#store/clients.ts';
import { getBalance } from '#store/ledger/accounts.ts';
import { listFundingSources } from '#store/payments/client-state.ts';
import { listClientDeposits, type StoredDeposit } from '#store/payments/deposits.ts';
import { getWithdrawal, withdrawalNotFound } from '#store/payments/withdrawals.ts';
import type { CommandContext } from '../context.ts';
import { owedBySource, type WithdrawalFundingSource } from './list-withdrawal-funding-sources.ts';
import type { Withdrawal } from './withdrawal-shared.ts';

/** Completed deposits shown with a withdrawal for context. */
export const RECENT_DEPOSITS = 10;

export interface GetWithdrawalReviewInput {
  withdrawalId: string;
}

export interface WithdrawalReview {
  withdrawal: Withdrawal;
  client: { clientId: string; firstName: string; lastName: string; country: string; kycStatus: string } | null;
  /** The wallet's balance in minor units of the withdrawal's currency. */
  balance: { ledger: bigint; available: bigint; held: bigint };
  fundingSources: WithdrawalFundingSource[];
  recentDeposits: StoredDeposit[];
  rejectionReasons: { code: string; needsNote: boolean; roles: string[] }[];
}

export async function getWithdrawalReview(
  input: GetWithdrawalReviewInput,
  _caller: Caller,
  _ctx?: CommandContext,
): Promise<WithdrawalReview> {
  const w = await getWithdrawal(input.withdrawalId, { consistent: true });
  if (!w) throw withdrawalNotFound(input.withdrawalId);
  const [profile, balance, sources, deposits] = await Promise.all([
    getClientProfile(w.clientId),
    getBalance(w.walletId),
    listFundingSources(w.clientId),
    listClientDeposits(w.clientId, { limit: RECENT_DEPOSITS }),
  ]);
  return {
    withdrawal: w,
    client: profile
      ? {
          clientId: profile.clientId,
          firstName: profile.firstName,
          lastName: profile.lastName,
          country: profile.countryOfResidence,
          kycStatus: profile.kycStatus ?? 'not_started',
        }
      : null,
    balance: { ledger: balance.ledger, available: balance.available, held: balance.held },
    fundingSources: owedBySource(sources),
    recentDeposits: deposits.items,
    rejectionReasons: WITHDRAWAL_REJECTION_REASONS.map((r) => ({ code: r.code, needsNote: r.needsNote, roles: [...r.roles] })),
  };
}
