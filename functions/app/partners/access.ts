/**
 * What the partner network's use cases share (issue 16): who may act, the caller's own partner record, the dates
 * versioned changes take effect from, and the problem codes of the network.
 *
 * Invariants:
 * - a partner acts through its client token: the caller owns a partner record when its clientId is the caller's
 *   sub; a client without one is 404 partner_not_found, and a partner reading another partner's resource gets that
 *   resource's 404 (marked as a cross-client probe), never 403
 * - an effective date is normalised to the ISO form with milliseconds and Z (the versioned items' sort keys compare
 *   as text); absent is now; earlier than now (less CLOCK_SKEW_MS) is refused with the caller's code unless
 *   `retroactive` is true, and a retroactive change needs a reason (400 reason_required)
 */
import { DomainError } from '#domain/errors.ts';
import type { Caller, Role } from '#domain/identity/roles.ts';
import { crossClientProbe } from '#domain/security/probes.ts';
import { getPartner, type PartnerItem, partnerClaimOf, partnerNotFound } from '#store/partners.ts';

/** Partners act with their client token (a 'partner' group member is a client too). */
export const PARTNER_ROLES: readonly Role[] = ['client', 'partner'];
/** Who decides applications, holds payouts and moves clients and sub-IBs. */
export const NETWORK_STAFF: readonly Role[] = ['compliance', 'admin'];
/** Who writes commission plans and assigns them. */
export const PLAN_STAFF: readonly Role[] = ['finance', 'admin'];
/** Who reads partners and plans. */
export const PARTNER_READERS: readonly Role[] = ['compliance', 'finance', 'admin'];

/** How far in the past an effective date may be without `retroactive` (clock skew between caller and us). */
export const CLOCK_SKEW_MS = 60_000;

/** The caller's own partner record (any status), or 404 partner_not_found. */
export async function ownPartner(caller: Caller): Promise<PartnerItem> {
  const claim = await partnerClaimOf(caller.sub);
  const partner = claim ? await getPartner(claim.partnerId, { consistent: true }) : undefined;
  if (!partner) throw partnerNotFound();
  return partner;
}

/** The caller's own partner record, which must be approved (409 partner_not_approved). */
export async function ownApprovedPartner(caller: Caller): Promise<PartnerItem> {
  const partner = await ownPartner(caller);
  if (partner.status !== 'approved') throw partnerNotApproved('Your partner account', partner.status);
  return partner;
}

/** A resource of partner `ownerPartner` the caller asked for: its 404 unless the caller is that partner's client. */
export function assertOwner<E extends object>(caller: Caller, owner: PartnerItem | undefined, notFound: () => E): void {
  if (!owner || owner.clientId !== caller.sub) throw crossClientProbe(notFound(), caller, owner?.clientId ?? caller.sub);
}

export const partnerNotApproved = (who: string, status: string, field = 'partnerId') =>
  new DomainError('partner_not_approved', 'conflict', `${who} is ${status}, not approved`, [
    { field, code: 'partner_not_approved', message: `Partner is ${status}` },
  ]);

export const networkTooDeep = (depth: number, max: number) =>
  new DomainError('network_too_deep', 'unprocessable', `The network would be ${depth} tiers deep; the most is ${max}`, [
    { field: 'parentId', code: 'network_too_deep', message: `At most ${max} tiers` },
  ]);

export interface Dated {
  effectiveFrom?: string | undefined;
  retroactive?: boolean | undefined;
  reason?: string | undefined;
}

/** The instant a versioned change takes effect from (module invariants). */
export function effectiveInstant(input: Dated, now: Date, pastCode: 'move_in_past' | 'effective_in_past'): string {
  if (input.effectiveFrom === undefined) return now.toISOString();
  const t = Date.parse(input.effectiveFrom);
  if (Number.isNaN(t)) {
    throw new DomainError('invalid_date', 'validation', 'effectiveFrom must be an ISO date-time', [
      { field: 'effectiveFrom', code: 'invalid_date', message: 'Not an ISO date-time' },
    ]);
  }
  if (t < now.getTime() - CLOCK_SKEW_MS) {
    if (!input.retroactive) {
      throw new DomainError(pastCode, 'unprocessable', 'effectiveFrom is in the past; set retroactive: true with a reason', [
        { field: 'effectiveFrom', code: pastCode, message: 'In the past' },
      ]);
    }
    if (!input.reason) {
      throw new DomainError('reason_required', 'validation', 'A retroactive change needs a reason', [
        { field: 'reason', code: 'reason_required', message: 'Required when retroactive' },
      ]);
    }
  }
  return new Date(t).toISOString();
}
