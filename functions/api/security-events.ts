/**
 * GET /v1/admin/security-events: what attacks left behind, for compliance (compliance, admin; read only).
 * The events themselves: functions/store/security-events.ts, docs/decisions/0010-security-events.md.
 *
 * Invariants:
 * - clients and other staff roles get 403 forbidden_role at the edge (itself recorded as a security event)
 * - the window is [from, to] in whole UTC hours (events are counted per hour: an hour that overlaps the
 *   window is in it); default the last 24 hours; from after to is 400 invalid_time_window, more than 31 days
 *   400 time_window_too_large
 * - `kind` narrows to one kind (its own index partition); without it every kind is listed
 * - items are the counted events, newest hour first, cursor-paginated (limit 1..100, default 50); a cursor
 *   belongs to its kind filter (another filter is 400 invalid_cursor)
 * - `summary` covers the whole window (not just the page): the sum of counts per kind, the top 10 sources
 *   (`by`: a signed-in user or an address) and targets, over at most 5,000 events (`truncated` says when
 *   there were more)
 */
import * as z from 'zod';
import { DomainError } from '#domain/errors.ts';
import { hourBucket, SECURITY_EVENT_KINDS } from '#domain/security/events.ts';
import type { Role } from '#functions/manifest.ts';
import { defineRoute, httpHandler } from '#middleware/http.ts';
import { cursorParam, limitParam } from '#store/pagination.ts';
import { listSecurityEvents, securityEventView, summarizeSecurityEvents } from '#store/security-events.ts';
import { pageBody, pageSchema } from './shared/pages.ts';

const ALLOWED: readonly Role[] = ['compliance', 'admin'];
export const MAX_WINDOW_DAYS = 31;
const DAY_MS = 86_400_000;

export const SecurityEventsQuery = z.strictObject({
  kind: z.enum(SECURITY_EVENT_KINDS).optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  limit: limitParam(100, 50),
  cursor: cursorParam.optional(),
});

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

const Count = (name: 'source' | 'target') => z.object({ [name]: z.string(), count: z.number().int() });

export const SecurityEventsResult = pageSchema(SecurityEventView).extend({
  window: z.object({ from: z.string(), to: z.string() }),
  summary: z.object({
    total: z.number().int(),
    byKind: z.record(z.string(), z.number().int()),
    topSources: z.array(Count('source')),
    topTargets: z.array(Count('target')),
    eventsScanned: z.number().int(),
    truncated: z.boolean(),
  }),
});

/** The window as hour buckets (see the module invariants). */
export function windowOf(q: { from?: string | undefined; to?: string | undefined }, now: Date) {
  const to = q.to ? new Date(q.to) : now;
  const from = q.from ? new Date(q.from) : new Date(to.getTime() - DAY_MS);
  if (from.getTime() > to.getTime()) {
    throw new DomainError('invalid_time_window', 'validation', 'from must not be after to', [
      { field: 'from', code: 'invalid_time_window', message: 'after to' },
    ]);
  }
  if (to.getTime() - from.getTime() > MAX_WINDOW_DAYS * DAY_MS) {
    throw new DomainError('time_window_too_large', 'validation', `The window may span at most ${MAX_WINDOW_DAYS} days`, [
      { field: 'from', code: 'time_window_too_large', message: `at most ${MAX_WINDOW_DAYS} days before to` },
    ]);
  }
  return { from: from.toISOString(), to: to.toISOString(), fromBucket: hourBucket(from), toBucket: hourBucket(to) };
}

export const routes = [
  defineRoute({
    method: 'GET',
    path: '/v1/admin/security-events',
    operationId: 'listSecurityEvents',
    summary: 'Security events in a time window, with counts per kind and the top sources and targets',
    tags: ['compliance'],
    auth: ALLOWED,
    query: SecurityEventsQuery,
    responses: {
      200: { description: 'A page of events and the summary of the window', schema: SecurityEventsResult },
      400: { description: 'invalid_time_window, time_window_too_large, invalid_cursor, validation_failed' },
    },
    handler: async ({ query }) => {
      const w = windowOf(query, new Date());
      const filter = { kind: query.kind, fromBucket: w.fromBucket, toBucket: w.toBucket };
      const [page, summary] = await Promise.all([
        listSecurityEvents({ ...filter, limit: query.limit, cursor: query.cursor }),
        summarizeSecurityEvents(filter),
      ]);
      return {
        status: 200,
        body: { window: { from: w.from, to: w.to }, summary, ...pageBody(page, securityEventView) },
      };
    },
  }),
];

export const handler = httpHandler(...routes);
