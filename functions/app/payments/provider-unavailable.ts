/**
 * The payment provider could not be reached (or answered with an outage) while a use case needed it.
 *
 * Invariants:
 * - thrown only after the use case has made its state safe (the deposit failed, the refund failed and its
 *   hold voided): nothing is left waiting for a provider that never took the request
 * - not a DomainError: no business kind fits an outage; the HTTP edge answers it 502
 *   payment_provider_unavailable with `message` as the detail
 */
export class PaymentProviderUnavailable extends Error {
  readonly code = 'payment_provider_unavailable';
  constructor(message: string) {
    super(message);
    this.name = 'PaymentProviderUnavailable';
  }
}

export const isPaymentProviderUnavailable = (err: unknown): err is PaymentProviderUnavailable =>
  err instanceof PaymentProviderUnavailable;
