/**
 * Security events seen at the HTTP edge (recorded by functions/app/platform/record-security-event.ts; ADR 0010).
 *
 * Guarantees:
 * - a client refused another client's resource is a `cross_client_probe` (by the asking client, target the
 *   owner): the code that refuses it marks the error it throws with auth.ts `crossClientProbe(error, caller, owner)`.
 *   The answer is unchanged: the route's own 404, exactly as for a resource that does not exist. Staff
 *   refused for want of a role are not probes (they get 403 forbidden_role, below)
 * - every 403 forbidden_role to a signed-in caller is a `forbidden_role` event (target: the route, detail: the
 *   caller's roles), on the caller's trail when the caller is a client
 * - `noteRefusal` runs in the edge's error middleware after the response is built; recording is best effort and
 *   time-bounded (record-security-event.ts), so it never changes, fails or noticeably delays the answer
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { recordSecurityEvent } from '#app/platform/record-security-event.ts';
import { isDomainError } from '#domain/errors.ts';
import { sourceOf } from '#domain/security/events.ts';
import { logger } from '#shared/powertools.ts';
import { callerFrom, crossClientProbeOf } from './auth.ts';

export const sourceOfEvent = (event: APIGatewayProxyEvent) => sourceOf(event.requestContext?.identity?.sourceIp);

/** Records the security event an error answer stands for, if it stands for one (never throws). */
export async function noteRefusal(
  error: unknown,
  ctx: { event: APIGatewayProxyEvent; routeKey?: string | undefined; correlationId: string },
): Promise<void> {
  try {
    if (!error || typeof error !== 'object') return;
    const source = sourceOfEvent(ctx.event);
    const route = ctx.routeKey ?? `${ctx.event.httpMethod} ${ctx.event.resource ?? ctx.event.path}`;
    const probe = crossClientProbeOf(error);
    if (probe) {
      await recordSecurityEvent({
        kind: 'cross_client_probe',
        by: `user:${probe.clientId}`,
        target: `client:${probe.ownerClientId}`,
        clientId: probe.clientId,
        source,
        requestId: ctx.correlationId,
        detail: { route },
      });
      return;
    }
    if (isDomainError(error) && error.code === 'forbidden_role') {
      const caller = callerFrom(ctx.event);
      if (!caller) return;
      await recordSecurityEvent({
        kind: 'forbidden_role',
        by: `user:${caller.sub}`,
        target: route,
        clientId: caller.isStaff ? undefined : caller.sub,
        source,
        requestId: ctx.correlationId,
        detail: { roles: caller.roles.join(',') || 'none' },
      });
    }
  } catch (err) {
    logger.warn('security event not noted', { error: (err as Error).message });
  }
}
