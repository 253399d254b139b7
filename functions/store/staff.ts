/**
 * Staff users (pk STAFF#<staffId>, sk PROFILE). A staff user's id is its `sub` in the staff pool.
 *
 * Invariants:
 * - declared once as an entity (staffEntity): every item read is parsed, keys and gsi1 computed on write
 * - a staff user has a non-empty set of staff roles (never 'client' or 'partner')
 * - a staff item is created with its unique-email claim and its audit item in one commit
 * - gsi1 lists staff users by createdAt (STAFF partition)
 * - item I/O only: views live with the API (functions/api/shared/identity-views.ts), the audit record with
 *   the use cases (functions/app/identity/shared.ts)
 */
import * as z from 'zod';
import { STAFF_ROLES } from '#domain/identity/roles.ts';
import { defineEntity, type ItemOf } from './entity.ts';
import { staffKeys } from './keys.ts';
import type { Page } from './pagination.ts';

export type StaffRole = (typeof STAFF_ROLES)[number];

const staffSchema = z.object({
  staffId: z.string().min(1),
  email: z.string().min(1),
  firstName: z.string(),
  lastName: z.string(),
  roles: z.array(z.enum(STAFF_ROLES as [StaffRole, ...StaffRole[]])).min(1),
  status: z.enum(['active', 'disabled']),
  createdBy: z.string(),
});
export type StaffFields = z.output<typeof staffSchema>;

export const staffEntity = defineEntity({
  type: staffKeys.type,
  schema: staffSchema,
  key: (s) => staffKeys.key(s.staffId),
  indexes: (s) => staffKeys.listIndex(s.createdAt, s.staffId),
  what: 'staff user',
});

export type StaffItem = ItemOf<typeof staffEntity>;

export const newStaff = (fields: StaffFields, now: string): StaffItem => staffEntity.item(fields, now);

export const putStaff = (item: StaffItem) => staffEntity.putNew(item);

export const getStaff = (staffId: string): Promise<StaffItem | undefined> => staffEntity.get(staffKeys.key(staffId));

/** Staff users, newest first (gsi1, STAFF partition). */
export function listStaffPage(limit: number, cursor?: string): Promise<Page<StaffItem>> {
  return staffEntity.query({ index: 'gsi1', partition: staffKeys.listPartition, limit, cursor, forward: false });
}
