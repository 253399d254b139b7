/**
 * The instrumentation every non-HTTP Lambda runs (workflow steps, jobs, stream and queue workers): the
 * same Powertools stack as the HTTP edge (functions/middleware/http.ts) without the HTTP parts.
 *
 * Stack (outermost first): logger context (injectLambdaContext, keys reset per invocation, so nothing a
 * previous invocation appended leaks into the next) -> metrics (cold-start metric, then the invocation's
 * metrics flushed when it ends, also on error) -> tracer (captureLambdaHandler; off outside Lambda and
 * locally, see powertools.ts) -> the handler.
 *
 * Invariants:
 * - the wrapped handler has the handler's own type: it returns exactly what the handler returns (an SQS
 *   or stream batch handler its partial batch failures, a Step Functions task its output) and throws
 *   what it throws (a task's error name is what the ASL's Retry/Catch match on). An absent event reaches
 *   the handler as {} (middy's default; Lambda always passes one), so a handler's default event must be {}
 * - the event is never logged or traced (it may carry PII); responses are not added to traces
 * - metrics are flushed only when the invocation stored any: an invocation without application metrics
 *   writes nothing (Powertools' logMetrics would warn "No application metrics to publish" on every such
 *   invocation, in CloudWatch and in test output)
 * - `isInstrumented` tells a wrapped handler from a bare one (test/unit/handler-instrumentation.test.ts
 *   checks every step, job and worker of the manifest)
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { logger, metrics, tracer } from './powertools.ts';

const INSTRUMENTED = Symbol.for('backoffice.instrumented');

/** Cold-start metric before; the stored metrics published after (or on error) when there are any. */
function flushMetrics(): MiddlewareObj<unknown, unknown, Error, Context> {
  const flush = () => {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  };
  return {
    before: (request) => {
      metrics.captureColdStartMetric(request.context?.functionName);
    },
    after: flush,
    onError: flush,
  };
}

/** The handler's own type, also callable the way Lambda calls it (with the context a handler may not declare). */
export type Instrumented<H extends (...args: never[]) => unknown> = H &
  ((event: Parameters<H>[0], context: Context) => ReturnType<H>);

/**
 * Wraps a step, job or worker handler in the instrumentation stack (see the module doc). Apply it where
 * the handler is exported: `export const handler = instrumented(handle);`.
 */
// biome-ignore lint/suspicious/noExplicitAny: a handler's event and result types are whatever it declares; H keeps them
export function instrumented<H extends (event: any, context: Context) => Promise<any>>(handle: H): Instrumented<H> {
  type Event = Parameters<H>[0];
  const wrapped = middy<Event, Awaited<ReturnType<H>>, Error, Context>((event: Event, context: Context) => handle(event, context))
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(flushMetrics())
    .use(captureLambdaHandler(tracer, { captureResponse: false }));
  Object.defineProperty(wrapped, INSTRUMENTED, { value: true });
  return wrapped as unknown as Instrumented<H>;
}

/** Whether `fn` was wrapped by `instrumented`. */
export const isInstrumented = (fn: unknown): boolean =>
  typeof fn === 'function' && (fn as unknown as Record<symbol, unknown>)[INSTRUMENTED] === true;
