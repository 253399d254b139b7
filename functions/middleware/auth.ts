/**
 * Who is calling, from the claims API Gateway's Cognito authorizer (or the local gateway) put on the event.
 *
 * Guarantees:
 * - the caller is derived only from `requestContext.authorizer.claims` (or `.jwt.claims`), never from
 *   headers or body: the token was verified before the Lambda ran
 * - `cognito:groups` is read in every shape it arrives in (array, JSON array string, "[a b]",
 *   comma- or space-separated string); unknown group names are dropped, roles are unique
 * - non-public routes without a subject are 401 `unauthenticated`; a caller without an allowed role is
 *   403 `forbidden_role`; 'authenticated' admits any signed-in caller
 * - `assertOwnerOrStaff` never reveals that another client's resource exists: a client asking for
 *   someone else's clientId gets 404 `not_found`, exactly as for a missing resource
 * - that refusal is marked as a cross-client probe (`crossClientProbe`; routes with their own ownership check
 *   mark theirs the same way), which the edge records as a security event (security.ts); the answer is the same
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { crossClientProbe } from '#domain/security/probes.ts';
import { ROLES, type Role, type RouteSpec, STAFF_ROLES } from '#functions/manifest.ts';
import type { Caller } from './http.ts';
import { EdgeError } from './problem.ts';

const ROLE_SET: ReadonlySet<string> = new Set(ROLES);
const STAFF_SET: ReadonlySet<string> = new Set(STAFF_ROLES);

/** Parses `cognito:groups` in any of the shapes API Gateway and local gateways produce. */
export function parseGroups(raw: unknown): string[] {
  if (raw === undefined || raw === null) return [];
  if (Array.isArray(raw)) return raw.flatMap((g) => parseGroups(g));
  if (typeof raw !== 'string') return [];
  let s = raw.trim();
  if (s.startsWith('[') && s.endsWith(']')) {
    try {
      const parsed: unknown = JSON.parse(s);
      if (Array.isArray(parsed)) return parsed.flatMap((g) => parseGroups(g));
    } catch {
      // not JSON: "[admin finance]" as API Gateway renders a list claim
    }
    s = s.slice(1, -1);
  }
  return s
    .split(/[\s,]+/)
    .map((t) => t.replace(/^["']+|["']+$/g, ''))
    .filter((t) => t.length > 0);
}

export function rolesFrom(groups: string[]): Role[] {
  return [...new Set(groups.filter((g): g is Role => ROLE_SET.has(g)))];
}

type Claims = Record<string, unknown>;

export function claimsOf(event: APIGatewayProxyEvent): Claims | undefined {
  const authorizer = event.requestContext?.authorizer as { claims?: unknown; jwt?: { claims?: unknown } } | null | undefined;
  const claims = authorizer?.claims ?? authorizer?.jwt?.claims;
  if (claims && typeof claims === 'object') return claims as Claims;
  if (typeof claims === 'string') {
    try {
      const parsed: unknown = JSON.parse(claims);
      if (parsed && typeof parsed === 'object') return parsed as Claims;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/**
 * Defense in depth beside the authorizer: a role counts only when the token was issued by the pool
 * that role lives in (staff roles: the staff pool; client and partner: the clients pool), so a group
 * created by mistake in the wrong pool can never make a client an administrator. Issuers end with
 * `/<userPoolId>` in AWS and locally. Inside Lambda, missing pool ids fail closed (no roles); outside
 * Lambda without pool ids (unit tests of the middleware) roles are taken as the authorizer passed them.
 */
export function roleAllowedForIssuer(role: Role, iss: unknown): boolean {
  const staffPool = process.env.STAFF_USER_POOL_ID;
  const clientPool = process.env.USER_POOL_ID;
  if (!staffPool || !clientPool) {
    // Deployed functions always carry both pool ids (infra/); a function without them must not trust groups.
    if (process.env.STAGE !== 'local' && process.env.AWS_LAMBDA_FUNCTION_NAME) return false;
    return true;
  }
  if (typeof iss !== 'string') return false;
  const pool = STAFF_SET.has(role) ? staffPool : clientPool;
  return iss.endsWith(`/${pool}`);
}

/** The caller from the event's claims, or null when there is no subject. */
export function callerFrom(event: APIGatewayProxyEvent): Caller | null {
  const claims = claimsOf(event);
  const sub = claims?.sub;
  if (!claims || typeof sub !== 'string' || sub.length === 0) return null;
  const roles = rolesFrom(parseGroups(claims['cognito:groups'])).filter((r) => roleAllowedForIssuer(r, claims.iss));
  const email = typeof claims.email === 'string' ? claims.email : '';
  return { sub, email, roles, isStaff: roles.some((r) => STAFF_SET.has(r)) };
}

/** Enforces a route's `auth`: throws 401/403 EdgeErrors, returns the caller (null on public routes without claims). */
export function authorize(event: APIGatewayProxyEvent, auth: RouteSpec['auth']): Caller | null {
  const caller = callerFrom(event);
  if (auth === 'public') return caller;
  if (!caller) throw new EdgeError('unauthenticated', 401);
  if (auth === 'authenticated') return caller;
  if (!caller.roles.some((r) => auth.includes(r))) throw new EdgeError('forbidden_role', 403);
  return caller;
}

/**
 * A client may only reach its own clientId (=== caller.sub). Staff need one of `staffRoles`.
 * Throws a DomainError (EdgeError) with code 'not_found' and kind 'not_found' for a client on another client's resource, so the
 * answer is the same as for a resource that does not exist; 'forbidden_role' for staff without the role;
 * 'unauthenticated' when there is no caller at all.
 */
export function assertOwnerOrStaff(
  caller: Caller | null,
  clientId: string,
  staffRoles: Role[],
  notFound: () => Error = () => new EdgeError('not_found', 404),
): void {
  if (!caller) throw new EdgeError('unauthenticated', 401);
  if (caller.sub === clientId) return;
  if (caller.isStaff) {
    if (caller.roles.some((r) => staffRoles.includes(r))) return;
    throw new EdgeError('forbidden_role', 403);
  }
  // The same error the route gives for a resource that does not exist (pass the route's own, e.g.
  // wallet_not_found), so "exists but not yours" cannot be told from "does not exist".
  throw crossClientProbe(notFound(), caller, clientId);
}

// The mark lives in domain/ so use cases can mark their own ownership refusals (one WeakMap for both).
export { crossClientProbe, crossClientProbeOf } from '#domain/security/probes.ts';
