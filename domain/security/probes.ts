/**
 * Cross-client probes: a client asking for another client's resource. The code that refuses it (a use
 * case's ownership check, or the edge's assertOwnerOrStaff) marks the not-found error it throws; the
 * HTTP edge (functions/middleware/security.ts) reads the mark and records a `cross_client_probe`
 * security event. It lives in domain/ so use cases can mark their refusals without importing the edge.
 *
 * Invariants:
 * - the answer is unchanged: the marked error is the route's own not-found error, so "exists but not
 *   yours" cannot be told from "does not exist"
 * - staff are never probing clients (they lack a role: 403), and nor is the owner: neither is marked
 * - the mark is held beside the error (a WeakMap), never on it, so nothing leaks into the response
 */
import type { Caller } from '#domain/identity/roles.ts';

export interface CrossClientProbe {
  /** The client who asked. */
  clientId: string;
  /** The client who owns the resource. */
  ownerClientId: string;
}

const probes = new WeakMap<object, CrossClientProbe>();

/**
 * Marks `error` (the route's own not-found error) as a client asking for another client's resource, and returns
 * it to be thrown. Staff are never probing clients (they lack a role: 403), and nor is the owner.
 */
export function crossClientProbe<E extends object>(error: E, caller: Pick<Caller, 'sub' | 'isStaff'>, ownerClientId: string): E {
  if (!caller.isStaff && caller.sub !== ownerClientId) probes.set(error, { clientId: caller.sub, ownerClientId });
  return error;
}

/** The cross-client probe an error was marked with, if any. */
export const crossClientProbeOf = (error: unknown): CrossClientProbe | undefined =>
  error && typeof error === 'object' ? probes.get(error) : undefined;
