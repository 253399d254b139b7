/**
 * POST /v1/admin/staff and GET /v1/admin/staff (admins only).
 *
 * Invariants:
 * - a staff user has a non-empty, duplicate-free set of staff roles; each role is a Cognito group
 *   in the staff pool
 * - creation is the create-staff use case (functions/app/identity/create-staff.ts, provisioning shared
 *   with registration): the Cognito user with one group per role, the staff item, its unique email and its
 *   audit item ('staff.created', actor = the admin), or nothing that blocks a retry
 * - emails are unique across clients and staff (one UNIQUE#EMAIL namespace): an active owner or a
 *   live reservation is 409 email_taken
 * - the list is newest first, cursor-paginated ({ items, nextCursor, hasMore })
 */
import * as z from 'zod';
import { createStaff } from '#app/identity/create-staff.ts';
import { listStaff } from '#app/identity/list-staff.ts';
import { type Role, STAFF_ROLES } from '#domain/identity/roles.ts';
import { defineRoute, httpHandler } from '#middleware/http.ts';
import { emailField, passwordField } from './shared/identity-fields.ts';
import { staffView } from './shared/identity-views.ts';
import { cursorParam, limitParam, pageBody } from './shared/pages.ts';

const ALLOWED: readonly Role[] = ['admin'];
type StaffRole = (typeof STAFF_ROLES)[number];
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
    handler: async ({ body, caller, correlationId, locale }) => ({
      status: 201,
      body: staffView(await createStaff(body, caller!, { requestId: correlationId, locale })),
    }),
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
    handler: async ({ query, caller, correlationId, locale }) => ({
      status: 200,
      body: pageBody(await listStaff(query, caller!, { requestId: correlationId, locale }), staffView),
    }),
  }),
];

export const handler = httpHandler(...routes);
