/**
 * POST /v1/admin/staff and GET /v1/admin/staff (admins only).
 *
 * Invariants:
 * - a staff user has a non-empty, duplicate-free set of staff roles; each role is a Cognito group
 *   in the staff pool
 * - provisioning is shared with registration (functions/api/shared/provision-user.ts): reserve the
 *   email, create the Cognito user (email_verified: an admin typed the address; an orphan of a crashed
 *   attempt is replaced), add one group per role, then the staff item, its unique email (active) and
 *   its audit item ('staff.created', actor = the admin) in one commit; a failure after the Cognito user
 *   exists deletes that user and releases the reservation (or leaves it to expire)
 * - emails are unique across clients and staff (one UNIQUE#EMAIL namespace): an active owner or a
 *   live reservation is 409 email_taken
 * - the list is newest first, cursor-paginated ({ items, nextCursor, hasMore })
 */
import * as z from 'zod';
import { normalizeEmail } from '#domain/identity/rules.ts';
import { type Role, STAFF_ROLES } from '#functions/manifest.ts';
import { type Caller, defineRoute, httpHandler } from '#middleware/http.ts';
import { actorFrom, commit } from '#store/audit.ts';
import { cursorParam, limitParam } from '#store/pagination.ts';
import { listStaff, newStaff, putStaff, type StaffRole, staffView } from '#store/staff.ts';
import { emailField, passwordField } from './registrations.ts';
import { provisionUser } from './shared/provision-user.ts';

const ALLOWED: readonly Role[] = ['admin'];
const staffRole = z.enum(STAFF_ROLES as [StaffRole, ...StaffRole[]]);
const name = z.string().trim().min(1).max(100);

export const CreateStaffBody = z.strictObject({
  email: emailField,
  firstName: name,
  lastName: name,
  roles: z
    .array(staffRole)
    .min(1)
    .max(STAFF_ROLES.length)
    .refine((r) => new Set(r).size === r.length, { message: 'roles must not repeat', params: { code: 'duplicate_role' } }),
  temporaryPassword: passwordField.optional(),
});

export const ListStaffQuery = z.strictObject({ limit: limitParam(100, 50), cursor: cursorParam.optional() });

const StaffView = z.object({
  staffId: z.string(),
  email: z.string(),
  firstName: z.string(),
  lastName: z.string(),
  roles: z.array(z.string()),
  status: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

/** Creates a staff user through the shared provisioning (see functions/api/shared/provision-user.ts). */
export async function createStaff(body: z.infer<typeof CreateStaffBody>, caller: Caller, requestId: string) {
  const email = normalizeEmail(body.email);
  const { result } = await provisionUser({
    pool: 'staff',
    user: {
      email,
      givenName: body.firstName,
      familyName: body.lastName,
      emailVerified: true,
      ...(body.temporaryPassword ? { temporaryPassword: body.temporaryPassword } : {}),
    },
    groups: body.roles,
    persist: async ({ userId: staffId, claim, now }) => {
      const item = newStaff(
        {
          staffId,
          email,
          firstName: body.firstName,
          lastName: body.lastName,
          roles: body.roles,
          status: 'active',
          createdBy: caller.sub,
        },
        now,
      );
      await commit({
        writes: [putStaff(item), claim],
        audit: {
          actor: actorFrom(caller, ALLOWED),
          action: 'staff.created',
          entity: { type: 'staff', id: staffId },
          before: null,
          after: staffView(item),
          requestId,
        },
      });
      return staffView(item);
    },
  });
  return result;
}

export const routes = [
  defineRoute({
    method: 'POST',
    path: '/v1/admin/staff',
    operationId: 'createStaff',
    summary: 'Create a staff user',
    tags: ['admin'],
    auth: ALLOWED,
    body: CreateStaffBody,
    idempotency: 'optional',
    responses: { 201: { description: 'Created', schema: StaffView }, 409: { description: 'email_taken' } },
    handler: async ({ body, caller, correlationId }) => ({ status: 201, body: await createStaff(body, caller!, correlationId) }),
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/admin/staff',
    operationId: 'listStaff',
    summary: 'List staff users, newest first',
    tags: ['admin'],
    auth: ALLOWED,
    query: ListStaffQuery,
    responses: {
      200: {
        description: 'A page of staff users',
        schema: z.object({ items: z.array(StaffView), nextCursor: z.string().optional(), hasMore: z.boolean() }),
      },
    },
    handler: async ({ query }) => ({ status: 200, body: await listStaff(query.limit, query.cursor) }),
  }),
];

export const handler = httpHandler(...routes);
