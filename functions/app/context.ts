/**
 * What every use case is given besides its typed input and its caller.
 *
 * A use case (functions/app/<context>/<command>.ts) is the one place that orchestrates domain/,
 * the store and the ports. Edges (API handlers, workflow steps, jobs, workers) build this from
 * their own event and call exactly one use case.
 */
export interface CommandContext {
  /** Correlates logs, audit items and events of one request or execution. */
  requestId: string;
  /** The tenant locale (or the request's Accept-Language, restricted to the tenant's locales) for texts. */
  locale: string;
  /** A client-chosen key for commands that must happen exactly once (Idempotency-Key). */
  idempotencyKey?: string;
  /** Injected clock for tests and replays; defaults to now. */
  now?: Date;
}
