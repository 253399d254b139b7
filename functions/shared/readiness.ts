/**
 * Whether this process is ready to serve real requests, for the readiness answer of GET /health?ready
 * (functions/api/health.ts).
 *
 * Invariants:
 * - in AWS nothing ever marks a process not ready: a Lambda whose handler runs is ready (its dependencies are
 *   managed services), so the default is ready
 * - the local runtime (local/runtime.ts) marks the process not ready before its gateway listens and ready only
 *   once its whole start-up has finished (interrupted workflows resumed, demo seed done), and not ready again
 *   when it stops
 * - process-wide: kept on globalThis under a registered symbol, so every copy of this module in the process
 *   (the runtime's and the handlers') reads the same flag
 */
const KEY = Symbol.for('backoffice.readiness');
type Holder = { [KEY]?: boolean };

export function isReady(): boolean {
  return (globalThis as Holder)[KEY] ?? true;
}

/** For the local runtime (and tests). */
export function setReady(ready: boolean): void {
  (globalThis as Holder)[KEY] = ready;
}
