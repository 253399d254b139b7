/**
 * GET /v1/admin/clients/{clientId}/audit: a client's audit trail, newest first (compliance, admin).
 *
 * Invariants:
 * - only staff with compliance or admin reach it (the edge answers 403 forbidden_role to others,
 *   clients included, even for their own clientId)
 * - an unknown clientId is 404 client_not_found
 * - the trail is one gsi1 query, cursor-paginated (limit 1..100, default 50): the client's audit entries
 *   (`entryType: 'audit'`) and the security events about the client (`entryType: 'security-event'`: failed
 *   sign-ins and lockouts on its account, its probes of other clients, its refused roles; counted per hour,
 *   not hash-chained: docs/decisions/0010-security-events.md)
 * - the route calls the use case functions/app/platform/list-client-audit.ts; the views are this module's
 *   (audit entries) and functions/api/shared/security-events.ts (security events)
 */
import * as z from 'zod';
import { type AuditItem, listClientAudit, type TrailItem } from '#app/platform/list-client-audit.ts';
import { defineRoute, httpHandler } from '#middleware/http.ts';
import { cursorParam, limitParam, pageBody } from './shared/pages.ts';
import { SecurityEventView, type SecurityEventViewOf, securityEventView } from './shared/security-events.ts';

export const AuditParams = z.strictObject({
  clientId: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[A-Za-z0-9-]+$/),
});
export const AuditQuery = z.strictObject({ limit: limitParam(100, 50), cursor: cursorParam.optional() });

const AuditEntry = z.object({
  entryType: z.literal('audit'),
  seq: z.number(),
  at: z.string(),
  actor: z.object({ id: z.string(), role: z.string() }),
  action: z.string(),
  entity: z.object({ type: z.string(), id: z.string() }),
  clientId: z.string().optional(),
  before: z.unknown(),
  after: z.unknown(),
  reason: z.string().optional(),
  evidence: z.unknown().optional(),
  requestId: z.string(),
  hash: z.string(),
  prevHash: z.string(),
});

const Entry = z.discriminatedUnion('entryType', [
  AuditEntry,
  SecurityEventView.extend({ entryType: z.literal('security-event') }),
]);

/** An audit entry as compliance sees it: the chained record, without storage attributes. */
export function auditEntryView(i: AuditItem) {
  return {
    seq: i.seq,
    at: i.at,
    actor: i.actor,
    action: i.action,
    entity: i.entity,
    clientId: i.clientId,
    before: i.before ?? null,
    after: i.after ?? null,
    reason: i.reason,
    evidence: i.evidence,
    requestId: i.requestId,
    hash: i.hash,
    prevHash: i.prevHash,
  };
}
export type AuditEntryView = ReturnType<typeof auditEntryView>;

export type TrailEntryView = ({ entryType: 'audit' } & AuditEntryView) | ({ entryType: 'security-event' } & SecurityEventViewOf);

/** One entry of a client's trail: an audit entry, or a security event about the client. */
export function trailEntryView(i: TrailItem): TrailEntryView {
  return i.type === 'security-event'
    ? { entryType: 'security-event', ...securityEventView(i) }
    : { entryType: 'audit', ...auditEntryView(i) };
}

export const routes = [
  defineRoute({
    method: 'GET',
    path: '/v1/admin/clients/{clientId}/audit',
    operationId: 'listClientAudit',
    summary: "A client's audit trail, newest first",
    tags: ['compliance'],
    auth: ['compliance', 'admin'],
    params: AuditParams,
    query: AuditQuery,
    responses: {
      200: {
        description: 'A page of audit entries',
        schema: z.object({ items: z.array(Entry), nextCursor: z.string().optional(), hasMore: z.boolean() }),
      },
      404: { description: 'client_not_found' },
    },
    handler: async ({ params, query, caller, correlationId, locale }) => {
      const page = await listClientAudit({ clientId: params.clientId, ...query }, caller!, { requestId: correlationId, locale });
      return { status: 200, body: pageBody(page, trailEntryView) };
    },
  }),
];

export const handler = httpHandler(...routes);
