/**
 * An admin creates a staff user (POST /v1/admin/staff; the create-admin script; the local demo seed).
 *
 * Invariants:
 * - a staff user has a non-empty, duplicate-free set of staff roles (checked by the edge); each role is a
 *   Cognito group in the staff pool
 * - provisioning is shared with registration (provision-user.ts): reserve the email, create the Cognito
 *   user (email_verified: an admin typed the address; an orphan of a crashed attempt is replaced), add one
 *   group per role, then the staff item, its unique email (active) and its audit item ('staff.created',
 *   actor = the admin) in one commit; a failure after the Cognito user exists deletes that user and
 *   releases the reservation (or leaves it to expire)
 * - emails are unique across clients and staff (one UNIQUE#EMAIL namespace): an active owner or a live
 *   reservation is 409 email_taken
 */
import type { CommandContext } from '#app/context.ts';
import type { Caller, Role } from '#domain/identity/roles.ts';
import { normalizeEmail } from '#domain/identity/rules.ts';
import { actorFrom, commit } from '#store/audit.ts';
import { newStaff, putStaff, type StaffItem, type StaffRole } from '#store/staff.ts';
import { provisionUser } from './provision-user.ts';
import { staffRecord } from './shared.ts';

/** The role the actor acts in (the edge lets admins only). */
const ACTOR_ROLES: readonly Role[] = ['admin'];

export interface CreateStaffInput {
  email: string;
  firstName: string;
  lastName: string;
  roles: StaffRole[];
  /** Without one, Cognito sends its own invitation. */
  temporaryPassword?: string | undefined;
}

/** Creates a staff user through the shared provisioning; returns the staff item as committed. */
export async function createStaff(input: CreateStaffInput, caller: Caller, ctx: CommandContext): Promise<StaffItem> {
  const email = normalizeEmail(input.email);
  const { result } = await provisionUser({
    pool: 'staff',
    user: {
      email,
      givenName: input.firstName,
      familyName: input.lastName,
      emailVerified: true,
      ...(input.temporaryPassword ? { temporaryPassword: input.temporaryPassword } : {}),
    },
    groups: input.roles,
    persist: async ({ userId: staffId, claim, now }) => {
      const item = newStaff(
        {
          staffId,
          email,
          firstName: input.firstName,
          lastName: input.lastName,
          roles: input.roles,
          status: 'active',
          createdBy: caller.sub,
        },
        now,
      );
      await commit({
        writes: [putStaff(item), claim],
        audit: {
          actor: actorFrom(caller, ACTOR_ROLES),
          action: 'staff.created',
          entity: { type: 'staff', id: staffId },
          before: null,
          after: staffRecord(item),
          requestId: ctx.requestId,
        },
      });
      return item;
    },
  });
  return result;
}
