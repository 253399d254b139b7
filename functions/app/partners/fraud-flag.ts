/**
 * A staff fraud flag on a client (issue 16 part 3): the commissions its partners earned on the client within the
 * tenant's clawback window are clawed back (functions/app/partners/clawback.ts, cause 'fraud').
 * POST /v1/admin/clients/{clientId}/fraud-flag, for FRAUD_FLAGGERS (compliance, admins).
 *
 * Invariants:
 * - each flag is its own cause, `fraud_<ulid>`, at the flag's instant; the clawback's lines, audit entries (actor:
 *   the staff member, with the flag's reason) and partner.commission.clawed_back are clawBack's, in its
 *   transactions
 * - a line is reversed once whatever the cause: a second flag (or a retried request) claws back only what no cause
 *   reversed yet, so it answers nothing_to_claw rather than doubling a reversal
 * - an unknown client is 404 client_not_found and changes nothing; a client with no partner and no line answers
 *   not_referred and writes nothing
 * - callers without a FRAUD_FLAGGERS role are refused (403 forbidden_role)
 */
import { ulid } from 'ulid';
import { DomainError } from '#domain/errors.ts';
import type { Caller } from '#domain/identity/roles.ts';
import { actorFrom } from '#store/audit.ts';
import { getClientProfile } from '#store/clients.ts';
import type { CommandContext } from '../context.ts';
import { NETWORK_STAFF } from './access.ts';
import { type ClawbackResult, clawBack } from './clawback.ts';
import { assertStaff } from './reports.ts';

/** Who flags a client for fraud. */
export const FRAUD_FLAGGERS = NETWORK_STAFF;

const clientNotFound = () =>
  new DomainError('client_not_found', 'not_found', 'No client with this id', [
    { field: 'clientId', code: 'client_not_found', message: 'Unknown client' },
  ]);

export const fraudCauseId = () => `fraud_${ulid().toLowerCase()}`;

export interface FraudFlagResult extends ClawbackResult {
  causeId: string;
  clientId: string;
  at: string;
}

/** Staff flag a client for fraud: its partners' commissions in the window are clawed back (module invariants). */
export async function flagFraud(
  input: { clientId: string; reason: string },
  caller: Caller,
  ctx: CommandContext,
): Promise<FraudFlagResult> {
  assertStaff(caller, FRAUD_FLAGGERS);
  const actor = actorFrom(caller, FRAUD_FLAGGERS);
  if (!(await getClientProfile(input.clientId))) throw clientNotFound();
  const causeId = fraudCauseId();
  const at = (ctx.now ?? new Date()).toISOString();
  const result = await clawBack({ causeId, cause: 'fraud', clientId: input.clientId, at, reason: input.reason }, ctx, actor);
  return { ...result, causeId, clientId: input.clientId, at };
}
