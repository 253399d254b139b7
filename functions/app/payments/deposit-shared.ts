/**
 * What the deposit use cases share: the deposit as they return it, who may read one, and the race rule
 * of a transition that another writer (the provider's webhook, the expiry job) may beat.
 *
 * Invariants:
 * - a use case returns the stored deposit as `Deposit` (edges present it: functions/api/shared/
 *   deposit-view.ts; they never import the store)
 * - finance, compliance and admins read any deposit (with the staff fields); a client only its own, and
 *   another client's is the same 404 deposit_not_found as a missing one (marked as a cross-client probe)
 * - a transition that loses its version race (409 conflict) or its provider reference (409
 *   provider_ref_taken) is not an error to the caller: the deposit is re-read and shown as the winner left it
 */
import { isDomainError } from '#domain/errors.ts';
import type { Role } from '#domain/identity/roles.ts';
import { getDeposit, type StoredDeposit } from '#store/payments/deposits.ts';
import type { DepositWithRefunds } from '#store/payments/refunds.ts';

/** A deposit as the use cases return it (the stored item). */
export type Deposit = StoredDeposit;
export type { DepositWithRefunds, StoredDeposit };

/** Staff roles that may read any client's deposit (with the staff view). */
export const DEPOSIT_STAFF_READERS: readonly Role[] = ['finance', 'compliance', 'admin'];

/** created or pending: the provider may still settle it, the expiry job may still expire it. */
export const isOpenDeposit = (d: Pick<StoredDeposit, 'status'>) => d.status === 'created' || d.status === 'pending';

/** Runs a transition; when the deposit changed meanwhile (409), the change that won is returned instead. */
export async function settleRace(run: () => Promise<StoredDeposit>, depositId: string): Promise<StoredDeposit> {
  try {
    return await run();
  } catch (err) {
    if (!isDomainError(err) || (err.code !== 'conflict' && err.code !== 'provider_ref_taken')) throw err;
    const now = await getDeposit(depositId, { consistent: true });
    if (!now) throw err;
    return now;
  }
}
