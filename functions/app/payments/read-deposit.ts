/**
 * One deposit with its whole timeline (GET /v1/deposits/{depositId}): to its client, or to staff.
 *
 * Invariants:
 * - a client reads only its own deposits: another client's id is 404 deposit_not_found, exactly like a
 *   missing one (marked as a cross-client probe, which the HTTP edge records as a security event)
 * - finance, compliance and admins read any deposit; `staff` says the caller may see the staff fields
 */

import type { CommandContext } from '#app/context.ts';
import type { Caller } from '#domain/identity/roles.ts';
import { crossClientProbe } from '#domain/security/probes.ts';
import { depositNotFound, getDeposit } from '#store/payments/deposits.ts';
import { DEPOSIT_STAFF_READERS, type Deposit } from './deposit-shared.ts';

export interface ReadDepositInput {
  depositId: string;
}

/** The deposit if `caller` may read it: its owner, or finance / compliance / admin. Else 404. */
export async function readDeposit(
  input: ReadDepositInput,
  caller: Caller,
  _ctx: CommandContext,
): Promise<{ deposit: Deposit; staff: boolean }> {
  const deposit = await getDeposit(input.depositId);
  if (!deposit) throw depositNotFound();
  if (caller.roles.some((r) => DEPOSIT_STAFF_READERS.includes(r))) return { deposit, staff: true };
  if (deposit.clientId !== caller.sub) throw crossClientProbe(depositNotFound(), caller, deposit.clientId);
  return { deposit, staff: false };
}
