/**
 * The PSP adapters by provider id (the `provider` of a payment method in the tenant config).
 *
 * Invariants: an unknown provider is a configuration error (the tenant config names only providers
 * registered here: test/unit checks the demo tenant); tests may replace a provider's adapter with
 * `usePspForTests` and must restore it (the returned function). Lookups go through Maps, never `in` on an
 * object: a provider id comes from a URL, and `__proto__` or `constructor` must be unknown, not inherited.
 */
import type { PspPort } from '#domain/payments/ports.ts';
import { tenantConfig } from '#shared/tenant.ts';
import { sandboxPsp } from './sandbox.ts';
import { stripePsp } from './stripe.ts';

const factories = new Map<string, () => PspPort>([
  ['sandbox', sandboxPsp],
  ['stripe', () => stripePsp()],
]);

const overrides = new Map<string, PspPort>();
const instances = new Map<string, PspPort>();

export const PSP_PROVIDERS = [...factories.keys()];

export function pspFor(provider: string): PspPort {
  const o = overrides.get(provider);
  if (o) return o;
  let p = instances.get(provider);
  if (!p) {
    const make = factories.get(provider);
    if (!make) throw new Error(`Unknown payment provider ${provider}`);
    p = make();
    instances.set(provider, p);
  }
  return p;
}

export const isKnownProvider = (provider: string) => factories.has(provider) || overrides.has(provider);

/**
 * A provider this tenant takes payments through: registered here AND named by one of its payment methods (a
 * registered provider the tenant does not use has no secrets, so its webhooks can only be refused).
 */
export const isConfiguredProvider = (provider: string) =>
  overrides.has(provider) || (factories.has(provider) && tenantConfig().payments.methods.some((m) => m.provider === provider));

/** Replaces a provider's adapter (tests only); returns the restore function. */
export function usePspForTests(provider: string, port: PspPort): () => void {
  overrides.set(provider, port);
  return () => overrides.delete(provider);
}
