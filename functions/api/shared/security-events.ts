/**
 * A security event as compliance sees it (GET /v1/admin/security-events, and the client trail's
 * `entryType: 'security-event'` entries of GET /v1/admin/clients/{clientId}/audit): schema and view.
 *
 * Invariants:
 * - a view shows the counted event (kind, by, target, count, hour bucket, first/last seen, last source) and
 *   its detail only when it has one; never the storage attributes or the last request id
 * - `count` is a number (the store's ADD may hand back any numeric type)
 */
import * as z from 'zod';
import type { SecurityEventItem } from '#app/platform/list-security-events.ts';
import { SECURITY_EVENT_KINDS } from '#domain/security/events.ts';

export const SecurityEventView = z.object({
  eventId: z.string(),
  kind: z.enum(SECURITY_EVENT_KINDS),
  by: z.string().describe('user:<sub> when signed in, else ip:<address> (an IPv6 address as its /64)'),
  target: z.string().describe("client:<id>, staff:<id>, account:<hash> (no one has the email), a route, psp:<provider>, or '*'"),
  clientId: z.string().optional().describe('The client this is about (on its audit trail)'),
  count: z.number().int(),
  bucket: z.string().describe('The UTC hour it was counted in, YYYY-MM-DDTHH'),
  firstSeenAt: z.string(),
  lastSeenAt: z.string(),
  lastSource: z.string(),
  detail: z.record(z.string(), z.string()).optional(),
});

/** An event as compliance sees it. */
export function securityEventView(i: SecurityEventItem) {
  return {
    eventId: i.eventId,
    kind: i.kind,
    by: i.by,
    target: i.target,
    ...(i.clientId ? { clientId: i.clientId } : {}),
    count: Number(i.count),
    bucket: i.bucket,
    firstSeenAt: i.firstSeenAt,
    lastSeenAt: i.lastSeenAt,
    lastSource: i.lastSource,
    ...(i.detail && Object.keys(i.detail).length > 0 ? { detail: i.detail } : {}),
  };
}
export type SecurityEventViewOf = ReturnType<typeof securityEventView>;
