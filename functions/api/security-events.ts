/**
 * GET /v1/admin/security-events: what attacks left behind, for compliance (compliance, admin; read only).
 * The window and the summary: functions/app/platform/list-security-events.ts; the view:
 * functions/api/shared/security-events.ts; docs/decisions/0010-security-events.md.
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
import { listSecurityEvents } from '#app/platform/list-security-events.ts';
import { SECURITY_EVENT_KINDS } from '#domain/security/events.ts';
import type { Role } from '#functions/manifest.ts';
import { defineRoute, httpHandler } from '#middleware/http.ts';
import { cursorParam, limitParam, pageBody, pageSchema } from './shared/pages.ts';
import { SecurityEventView, securityEventView } from './shared/security-events.ts';

const ALLOWED: readonly Role[] = ['compliance', 'admin'];

export const SecurityEventsQuery = z.strictObject({
  kind: z.enum(SECURITY_EVENT_KINDS).optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  limit: limitParam(100, 50),
  cursor: cursorParam.optional(),
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
    handler: async ({ query, caller, correlationId, locale }) => {
      const { window, summary, page } = await listSecurityEvents(query, caller!, { requestId: correlationId, locale });
      return { status: 200, body: { window, summary, ...pageBody(page, securityEventView) } };
    },
  }),
];

export const handler = httpHandler(...routes);
