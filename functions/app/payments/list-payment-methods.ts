/**
 * The deposit and withdrawal methods offered in the caller's country (GET /v1/payment-methods), optionally
 * only those supporting a direction and accepting a currency.
 *
 * Invariants:
 * - the country is the caller's own profile's country of residence (looked up by its sub); no profile
 *   is 404 profile_not_found
 * - the list is methodsFor() (domain/payments): only methods offered in that country, in its display
 *   order (country entry > jurisdiction entry > default); none is an empty list, never an error (a
 *   restricted or unserved country sees none)
 * - a currency filter the tenant cannot use is 400: unknown_currency, or currency_not_enabled
 * - read-only: nothing is written, nothing is logged
 */

import type { CommandContext } from '#app/context.ts';
import { DomainError } from '#domain/errors.ts';
import type { Caller } from '#domain/identity/roles.ts';
import { isCurrency } from '#domain/money/index.ts';
import { methodsFor, type OfferedMethod, type PaymentDirection } from '#domain/payments/index.ts';
import type { TenantConfig } from '#domain/tenant/config.ts';
import { tenantConfig } from '#shared/tenant.ts';
import { getClientProfile } from '#store/clients.ts';

export interface ListPaymentMethodsInput {
  direction?: PaymentDirection | undefined;
  /** A well-formed currency code (the edge checks the form). */
  currency?: string | undefined;
}

/** 400 unknown_currency / currency_not_enabled for a well-formed currency filter the tenant cannot use. */
function assertCurrencyFilter(cfg: TenantConfig, currency: string): void {
  const code = !isCurrency(currency) ? 'unknown_currency' : !cfg.currencies.includes(currency) ? 'currency_not_enabled' : null;
  if (!code) return;
  const message = code === 'unknown_currency' ? 'Unknown currency' : 'This currency is not enabled';
  throw new DomainError(code, 'validation', message, [{ field: 'currency', code, message }]);
}

/** The methods offered to the caller, in display order (see the module invariants). */
export async function listPaymentMethods(
  input: ListPaymentMethodsInput,
  caller: Caller,
  _ctx: CommandContext,
): Promise<OfferedMethod[]> {
  const cfg = tenantConfig();
  if (input.currency !== undefined) assertCurrencyFilter(cfg, input.currency);
  const profile = await getClientProfile(caller.sub);
  if (!profile) throw new DomainError('profile_not_found', 'not_found', 'No profile exists for this user');
  return methodsFor(cfg, { country: profile.countryOfResidence, direction: input.direction, currency: input.currency });
}
