/**
 * Staff users (pk STAFF#<staffId>, sk PROFILE). A staff user's id is its `sub` in the staff pool.
 *
 * Invariants:
 * - a staff user has a non-empty set of staff roles (never 'client' or 'partner')
 * - a staff item is created with its unique-email claim and its audit item in one commit
 * - gsi1 lists staff users by createdAt (STAFF partition)
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { STAFF_ROLES } from '#functions/manifest.ts';
import { ddb } from '#shared/clients.ts';
import { newItem, putNew, tableName } from './items.ts';
import { staffKeys } from './keys.ts';
import { type Page, queryPage } from './pagination.ts';
import type { BaseItem } from './table.ts';

export type StaffRole = (typeof STAFF_ROLES)[number];

export interface StaffFields {
  staffId: string;
  email: string;
  firstName: string;
  lastName: string;
  roles: StaffRole[];
  status: 'active' | 'disabled';
  createdBy: string;
}

export type StaffItem = BaseItem & StaffFields & { type: 'staff'; gsi1pk: string; gsi1sk: string };

export function newStaff(fields: StaffFields, now: string): StaffItem {
  return newItem(
    { ...staffKeys.key(fields.staffId), type: staffKeys.type, ...fields, ...staffKeys.listIndex(now, fields.staffId) },
    now,
  ) as StaffItem;
}

export const putStaff = (item: StaffItem) => putNew(item);

export async function getStaff(staffId: string): Promise<StaffItem | undefined> {
  const res = await ddb().send(new GetCommand({ TableName: tableName(), Key: staffKeys.key(staffId) }));
  return res.Item as StaffItem | undefined;
}

export function staffView(s: StaffItem) {
  return {
    staffId: s.staffId,
    email: s.email,
    firstName: s.firstName,
    lastName: s.lastName,
    roles: s.roles,
    status: s.status,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
  };
}

/** Staff users, newest first. */
export async function listStaff(limit: number, cursor?: string): Promise<Page<ReturnType<typeof staffView>>> {
  const page = await queryPage<StaffItem>({ index: 'gsi1', partition: staffKeys.listPartition, limit, cursor, forward: false });
  return { ...page, items: page.items.map(staffView) };
}
