/**
 * Paying a partner now (issue 16 part 4): finance or an admin runs one partner's payout in one currency off the
 * schedule (a broker's off-cycle run, or a test). The payment itself is payouts.ts payPartner, with the same rules
 * as the daily run: the window up to now less the tenant's payoutSafetySeconds, the tenant's minimum, holds.
 *
 * Invariants:
 * - finance and admins only (PAYOUT_RUNNERS); bad input changes nothing: 422 unknown_currency,
 *   422 currency_not_enabled, 404 partner_not_found, 409 partner_not_approved
 * - the payout id is the tenant-local date of now: a second run the same day answers the day's paid payout
 *   (replayed) rather than paying again; a held or below-minimum payout of the day is recomputed
 */
import { DomainError } from '#domain/errors.ts';
import type { Caller, Role } from '#domain/identity/roles.ts';
import { isCurrency } from '#domain/money/index.ts';
import { tenantLocalDate, windowEnd } from '#domain/partners/payouts.ts';
import { tenantConfig } from '#shared/tenant.ts';
import type { CommandContext } from '../context.ts';
import { type PayoutOutcome, payPartner } from './payouts.ts';

/** Staff who may pay a partner off the schedule. */
export const PAYOUT_RUNNERS: readonly Role[] = ['finance', 'admin'];

const currencyError = (code: 'unknown_currency' | 'currency_not_enabled', message: string) =>
  new DomainError(code, 'unprocessable', message, [{ field: 'currency', code, message }]);

/** Pays one partner's window in `currency` now (module comment). */
export async function payoutRunNow(
  input: { partnerId: string; currency: string },
  caller: Caller,
  ctx: CommandContext,
): Promise<PayoutOutcome> {
  if (!caller.isStaff || !caller.roles.some((r) => PAYOUT_RUNNERS.includes(r))) {
    throw new DomainError('forbidden_role', 'forbidden', 'Your role may not pay partners');
  }
  const cfg = tenantConfig();
  if (!isCurrency(input.currency)) throw currencyError('unknown_currency', 'Unknown currency');
  if (!cfg.currencies.includes(input.currency)) throw currencyError('currency_not_enabled', 'This currency is not enabled');
  const now = ctx.now ?? new Date();
  return payPartner(
    {
      partnerId: input.partnerId,
      currency: input.currency,
      cutoff: windowEnd(now, cfg.partners.payoutSafetySeconds),
      localDate: tenantLocalDate(now, cfg.timezone),
    },
    ctx,
  );
}
