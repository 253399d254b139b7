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
 */
import * as z from 'zod';
import { DomainError } from '#domain/errors.ts';
import { defineRoute, httpHandler } from '#middleware/http.ts';
import { clientTrail } from '#store/audit-trail.ts';
import { getClientProfile } from '#store/clients.ts';
import { cursorParam, limitParam } from '#store/pagination.ts';
import { SecurityEventView } from './security-events.ts';

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
    handler: async ({ params, query }) => {
      if (!(await getClientProfile(params.clientId))) {
        throw new DomainError('client_not_found', 'not_found', 'No client with this id');
      }
      return { status: 200, body: await clientTrail(params.clientId, query.limit, query.cursor) };
    },
  }),
];

export const handler = httpHandler(...routes);
