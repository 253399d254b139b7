/**
 * Reading partner payouts (issue 16 parts 4 and 5): a partner lists its own payouts (pending: held or below the
 * minimum; paid) and reads each one's statement; finance, compliance and admins read any partner's. The statement
 * itself: payout-statement.ts.
 *
 * Invariants:
 * - a partner is found by the caller's client id (its partner record); a caller without one is 404
 *   partner_not_found
 * - a partner reads only its own payouts: another partner's payout id is the same 404 payout_not_found as an unknown
 *   one (marked a cross-client probe), never 403
 * - staff in PAYOUT_STAFF_READERS read any partner's payouts; an unknown partner is 404 partner_not_found
 * - reads only
 */
import { DomainError } from '#domain/errors.ts';
import type { Caller, Role } from '#domain/identity/roles.ts';
import { crossClientProbe } from '#domain/security/probes.ts';
import type { Page } from '#store/pagination.ts';
import { getPayout, type PayoutItem, partnerPayouts, payoutNotFound } from '#store/partner-payouts.ts';
import { getPartner, type PartnerItem, partnerNotFound, partnerOfClient } from '#store/partners.ts';
import type { CommandContext } from '../context.ts';
import { type PayoutStatementResult, payoutStatement } from './payout-statement.ts';

export type { PayoutItem } from '#store/partner-payouts.ts';

/** Staff who read any partner's payouts and statements. */
export const PAYOUT_STAFF_READERS: readonly Role[] = ['finance', 'compliance', 'admin'];

const isStaffReader = (caller: Caller) => caller.isStaff && caller.roles.some((r) => PAYOUT_STAFF_READERS.includes(r));

const notStaff = () => new DomainError('forbidden_role', 'forbidden', 'Your role may not read partner payouts');

/** The caller's own partner record (404 partner_not_found without one). */
async function myPartner(caller: Caller): Promise<PartnerItem> {
  const partner = await partnerOfClient(caller.sub);
  if (!partner) throw partnerNotFound();
  return partner;
}

/** The caller's payouts, newest run date first. */
export async function listMyPayouts(
  input: { limit: number; cursor?: string | undefined },
  caller: Caller,
  _ctx: CommandContext,
): Promise<Page<PayoutItem>> {
  const partner = await myPartner(caller);
  return partnerPayouts(partner.partnerId, input);
}

/** A partner's payouts for staff, newest run date first. */
export async function listPartnerPayouts(
  input: { partnerId: string; limit: number; cursor?: string | undefined },
  caller: Caller,
  _ctx: CommandContext,
): Promise<Page<PayoutItem>> {
  if (!isStaffReader(caller)) throw notStaff();
  if (!(await getPartner(input.partnerId))) throw partnerNotFound();
  return partnerPayouts(input.partnerId, input);
}

/** The statement of one of the caller's payouts (another partner's: 404 payout_not_found). */
export async function myPayoutStatement(
  input: { payoutId: string },
  caller: Caller,
  _ctx: CommandContext,
): Promise<PayoutStatementResult> {
  const [partner, payout] = await Promise.all([partnerOfClient(caller.sub), getPayout(input.payoutId)]);
  if (!payout || !partner || payout.partnerId !== partner.partnerId) {
    throw crossClientProbe(payoutNotFound(), caller, payout?.clientId ?? caller.sub);
  }
  return payoutStatement(input.payoutId, 'partner');
}

/** Any payout's statement, for staff. */
export async function staffPayoutStatement(
  input: { payoutId: string },
  caller: Caller,
  _ctx: CommandContext,
): Promise<PayoutStatementResult> {
  if (!isStaffReader(caller)) throw notStaff();
  return payoutStatement(input.payoutId);
}
