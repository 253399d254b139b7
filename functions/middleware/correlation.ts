/**
 * Correlation ids.
 *
 * Guarantees:
 * - a caller's `x-correlation-id` is used only if it is 1-128 characters of [A-Za-z0-9-_.:] (it ends up
 *   in logs and headers, so nothing else is trusted); otherwise API Gateway's request id; otherwise a new UUID
 * - the id is on every log line of the request (logger.appendKeys) and on every response, errors included
 *   (see the edge middleware in http.ts)
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent } from 'aws-lambda';

export const CORRELATION_HEADER = 'x-correlation-id';
const SANE = /^[A-Za-z0-9\-_.:]{1,128}$/;

export const isSaneCorrelationId = (v: unknown): v is string => typeof v === 'string' && SANE.test(v);

/** Case-insensitive header lookup on a raw (not yet normalised) event. */
export function headerOf(event: APIGatewayProxyEvent, name: string): string | undefined {
  const headers = event.headers ?? {};
  const wanted = name.toLowerCase();
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === wanted && typeof v === 'string') return v;
  return undefined;
}

export function correlationIdOf(event: APIGatewayProxyEvent): string {
  const fromHeader = headerOf(event, CORRELATION_HEADER)?.trim();
  if (isSaneCorrelationId(fromHeader)) return fromHeader;
  const requestId = event.requestContext?.requestId;
  if (isSaneCorrelationId(requestId)) return requestId;
  return randomUUID();
}
