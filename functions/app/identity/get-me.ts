/**
 * The caller's own record (GET /v1/me).
 *
 * Invariants:
 * - a caller only ever gets its own record, looked up by its token's sub (never by a parameter): its staff
 *   item when it signed in to the staff pool, else its client profile
 * - a signed-in caller without a record is 404 profile_not_found
 */
import type { CommandContext } from '#app/context.ts';
import type { Caller } from '#domain/identity/roles.ts';
import { getStaff } from '#store/staff.ts';
import { type ClientProfileItem, ownClientProfile, profileNotFound, type StaffItem } from './shared.ts';

export type Me = { kind: 'client'; profile: ClientProfileItem } | { kind: 'staff'; staff: StaffItem };

export async function getMe(caller: Caller, _ctx: CommandContext): Promise<Me> {
  if (caller.isStaff) {
    const staff = await getStaff(caller.sub);
    if (!staff) throw profileNotFound();
    return { kind: 'staff', staff };
  }
  return { kind: 'client', profile: await ownClientProfile(caller) };
}
