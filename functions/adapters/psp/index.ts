/**
 * The PSP adapters by provider id (the `provider` of a payment method in the tenant config).
 *
 * Invariants: an unknown provider is a configuration error (the tenant config names only providers
 * registered here: test/unit checks the demo tenant); tests may replace a provider's adapter with
 * `usePspForTests` and must restore it (the returned function).
 */
import type { PspPort } from '#domain/payments/ports.ts';
import { sandboxPsp } from './sandbox.ts';
import { stripePsp } from './stripe.ts';

const factories: Record<string, () => PspPort> = {
  sandbox: sandboxPsp,
  stripe: () => stripePsp(),
};

const overrides = new Map<string, PspPort>();
const instances = new Map<string, PspPort>();

export const PSP_PROVIDERS = Object.keys(factories);

export function pspFor(provider: string): PspPort {
  const o = overrides.get(provider);
  if (o) return o;
  let p = instances.get(provider);
  if (!p) {
    const make = factories[provider];
    if (!make) throw new Error(`Unknown payment provider ${provider}`);
    p = make();
    instances.set(provider, p);
  }
  return p;
}

export const isKnownProvider = (provider: string) => provider in factories || overrides.has(provider);

/** Replaces a provider's adapter (tests only); returns the restore function. */
export function usePspForTests(provider: string, port: PspPort): () => void {
  overrides.set(provider, port);
  return () => overrides.delete(provider);
}
