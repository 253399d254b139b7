/**
 * Use case: one withdrawal with its whole timeline (GET /v1/withdrawals/{withdrawalId}).
 *
 * Invariants:
 * - its owner reads it; finance, compliance and admins read any withdrawal, and are told to show the staff
 *   view (`staff: true`)
 * - anyone else gets 404 withdrawal_not_found, indistinguishable from an unknown id, marked as a
 *   cross-client probe when a client asked for another client's withdrawal (the edge records it)
 */

import type { Caller } from '#domain/identity/roles.ts';
import { crossClientProbe } from '#domain/security/probes.ts';
import { getWithdrawal as readWithdrawal, withdrawalNotFound } from '#store/payments/withdrawals.ts';
import type { CommandContext } from '../context.ts';
import { WITHDRAWAL_STAFF_READERS, type Withdrawal } from './withdrawal-shared.ts';

export interface GetWithdrawalInput {
  withdrawalId: string;
}

/** The withdrawal if the caller may read it (module invariants), and whether the staff view applies. */
export async function getWithdrawal(
  input: GetWithdrawalInput,
  caller: Caller,
  _ctx?: CommandContext,
): Promise<{ withdrawal: Withdrawal; staff: boolean }> {
  const w = await readWithdrawal(input.withdrawalId, { consistent: true });
  if (!w) throw withdrawalNotFound(input.withdrawalId);
  if (w.clientId === caller.sub) return { withdrawal: w, staff: false };
  if (caller.roles.some((r) => WITHDRAWAL_STAFF_READERS.includes(r))) return { withdrawal: w, staff: true };
  throw crossClientProbe(withdrawalNotFound(input.withdrawalId), caller, w.clientId);
}
