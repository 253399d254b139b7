/**
 * A client's audit trail, newest first: what compliance reads (GET /v1/admin/clients/{clientId}/audit).
 *
 * Invariants:
 * - an unknown clientId is 404 client_not_found (checked before the trail is read)
 * - the trail is one gsi1 query, cursor-paginated: the client's audit items (`type: 'audit'`) and the
 *   security events about the client (`type: 'security-event'`: counted per hour, not hash-chained;
 *   docs/decisions/0010-security-events.md), as stored; the edge presents them
 * - read only: the caller (compliance, admin: the edge's role check) is not recorded
 */

import type { CommandContext } from '#app/context.ts';
import { DomainError } from '#domain/errors.ts';
import type { Caller } from '#domain/identity/roles.ts';
import type { AuditItem } from '#store/audit.ts';
import { clientTrail, type TrailItem } from '#store/audit-trail.ts';
import { getClientProfile } from '#store/clients.ts';
import type { Page } from '#store/pagination.ts';
import type { SecurityEventItem } from '#store/security-events.ts';

export type { AuditItem, SecurityEventItem, TrailItem };

export interface ListClientAuditInput {
  clientId: string;
  limit: number;
  cursor?: string | undefined;
}

export const clientNotFound = () => new DomainError('client_not_found', 'not_found', 'No client with this id');

export async function listClientAudit(
  input: ListClientAuditInput,
  _caller: Caller,
  _ctx: CommandContext,
): Promise<Page<TrailItem>> {
  if (!(await getClientProfile(input.clientId))) throw clientNotFound();
  return clientTrail(input.clientId, input.limit, input.cursor);
}
