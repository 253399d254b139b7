/**
 * How the payment routes answer a use case's PaymentProviderUnavailable (functions/app/payments/
 * provider-unavailable.ts): 502 payment_provider_unavailable with the use case's message as the detail.
 *
 * Invariants:
 * - only that error is translated; any other error is rethrown unchanged (the edge maps it as usual)
 */
import { isPaymentProviderUnavailable } from '#app/payments/provider-unavailable.ts';
import { EdgeError } from '#middleware/http.ts';

/** For `.catch(...)` on a use case that asks a payment provider: never returns. */
export function providerUnavailableAs502(err: unknown): never {
  if (isPaymentProviderUnavailable(err)) throw new EdgeError('payment_provider_unavailable', 502, [], {}, err.message);
  throw err;
}
