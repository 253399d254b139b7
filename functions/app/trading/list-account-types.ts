/**
 * The trading account types the caller may open (GET /v1/trading-account-types), with the leverage it may choose
 * on each and whether it may open a live account now.
 *
 * Invariants:
 * - the client's jurisdiction comes from its own profile's country of residence, its client type from the
 *   profile; no profile is 404 profile_not_found
 * - a type is listed when offeredAccountTypes (domain/trading/account-types.ts) offers it for that jurisdiction
 *   and client type (and `kind`, when given); none is an empty list, never an error
 * - the leverage choices are the type's options within the client's cap (the highest per-class cap of its
 *   jurisdiction and client type); `leverageCap` is that cap, so a client sees why higher options are missing
 * - a type none of whose leverage options is within the cap is not listed (the client could not open it)
 * - live accounts need an approved KYC: `live.allowed` says whether the caller may open one now, and why not
 * - read-only: nothing is written
 */
import type { CommandContext } from '#app/context.ts';
import { DomainError } from '#domain/errors.ts';
import type { Caller } from '#domain/identity/roles.ts';
import type { ClientType, InstrumentClass } from '#domain/onboarding/catalog.ts';
import { requirementsFor } from '#domain/onboarding/requirements.ts';
import {
  type AccountKind,
  type AccountType,
  accountLeverageCap,
  leverageChoices,
  offeredAccountTypes,
} from '#domain/trading/account-types.ts';
import { tenantConfig } from '#shared/tenant.ts';
import { getClientProfile } from '#store/clients.ts';

export interface OfferedAccountType {
  type: AccountType;
  /** The type's leverage options within the caller's cap, ascending. */
  leverageChoices: number[];
}

export interface AccountTypeOffer {
  jurisdiction: string;
  clientType: ClientType;
  leverageCap: number;
  leverageCaps: Record<InstrumentClass, number>;
  live: { allowed: boolean; reason?: 'kyc_not_approved' };
  types: OfferedAccountType[];
}

export async function listAccountTypes(
  input: { kind?: AccountKind | undefined },
  caller: Caller,
  _ctx: CommandContext,
): Promise<AccountTypeOffer> {
  const cfg = tenantConfig();
  const profile = await getClientProfile(caller.sub);
  if (!profile) throw new DomainError('profile_not_found', 'not_found', 'No profile exists for this user');
  const req = requirementsFor(cfg, { country: profile.countryOfResidence, clientType: profile.clientType });
  const caps = req.leverageCaps;
  const types = offeredAccountTypes(cfg.trading, { jurisdiction: req.jurisdiction, clientType: profile.clientType }, input.kind)
    .map((type) => ({ type, leverageChoices: leverageChoices(type, caps) }))
    .filter((t) => t.leverageChoices.length > 0);
  const approved = profile.kycStatus === 'approved';
  return {
    jurisdiction: req.jurisdiction,
    clientType: profile.clientType,
    leverageCap: accountLeverageCap(caps),
    leverageCaps: caps,
    live: approved ? { allowed: true } : { allowed: false, reason: 'kyc_not_approved' },
    types,
  };
}
