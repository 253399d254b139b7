/**
 * The sandbox PSP adapter (local default). Being written (issue 5): the request side enqueues to the
 * psp-sandbox queue; functions/workers/psp-sandbox.ts is the provider's back end.
 */
import type { PspPort } from '#domain/payments/ports.ts';

export function sandboxPsp(): PspPort {
  throw new Error('sandbox PSP adapter: not written yet');
}
