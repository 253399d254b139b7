/**
 * Provisioning a user (client self-registration, admin-created staff): one identity-provider user,
 * one owner item (profile / staff item) and one active UNIQUE#EMAIL claim, or nothing that blocks a
 * retry. The step the register-client and create-staff use cases share (each supplies `persist`: its
 * owner item, audit item and events); not called by an edge.
 *
 * Order:
 *   1. reserve the email (UNIQUE#EMAIL pending, reservation id, short TTL): an active owner or a live
 *      reservation is 409 email_taken, and nothing else is touched
 *   2. create the provider user; on 'email_taken' (a user with that name exists although no one owns
 *      the email and we hold the reservation) the user is an ORPHAN of an earlier attempt that crashed
 *      or failed to compensate. Unless a profile / staff item exists for its sub (then: 409, the user
 *      is left alone), it is ADOPTED by replacement: deleted and created again from this request. Not
 *      adopted in place, on purpose:
 *      - whoever set the orphan's password can sign in to Cognito directly (the app client is
 *        public) and holds tokens for its sub; keeping the sub would hand those tokens the new
 *        owner's account. A new sub has nothing in common with them.
 *      - resetting in place needs calls the provisioning functions are not granted (list / remove
 *        groups, update attributes: infra COGNITO_ADMIN_ACTIONS); stale role groups on a staff
 *        orphan would survive, and so would stale names and email_verified
 *      - a new user also gets the requested invitation / temporary password
 *   3. set the permanent password (when given) and add the groups
 *   4. `persist`: ONE commit of the owner item + `claim` (the reservation turned active, conditioned on
 *      our reservation id) + audit + outbox
 * On a failure after step 2 the provider user is deleted and then the reservation released. If the
 * delete fails (or the function dies), the reservation is left to expire (RESERVATION_TTL_SECONDS)
 * and the next attempt adopts the orphan: no email is ever locked out for good. The user is NOT
 * deleted when the email's item shows someone else may own it now (another reservation, or an
 * active claim on this very sub: our commit landed after all).
 *
 * Nothing here logs an email or a password.
 */
import { cognitoIdentity } from '#adapters/identity/cognito.ts';
import type { CreateUserInput, UserPool } from '#domain/identity/ports.ts';
import { logger } from '#shared/powertools.ts';
import { getClientProfile } from '#store/clients.ts';
import type { CommitWrite } from '#store/items.ts';
import { getStaff } from '#store/staff.ts';
import {
  activateEmail,
  type EmailReservation,
  emailTaken,
  findEmailClaim,
  isEmailTaken,
  releaseEmail,
  reserveEmail,
} from '#store/unique-email.ts';

export interface ProvisionRequest<T> {
  /** The pool, which is also the UNIQUE#EMAIL kind. */
  pool: UserPool;
  /** `email` must be normalised. */
  user: CreateUserInput;
  groups: readonly string[];
  /**
   * Writes the owner item, its audit item and events in ONE commit that includes `claim`. `userId`
   * is the provider's sub (clientId / staffId).
   */
  persist: (ctx: { userId: string; claim: CommitWrite; now: string }) => Promise<T>;
  /** Clock, for tests. */
  now?: () => Date;
}

export interface Provisioned<T> {
  userId: string;
  /** True when an orphan of an earlier attempt was adopted (replaced) rather than a fresh user created. */
  adopted: boolean;
  result: T;
}

export async function provisionUser<T>(req: ProvisionRequest<T>): Promise<Provisioned<T>> {
  const clock = req.now ?? (() => new Date());
  const { pool, user } = req;
  const reservation = await reserveEmail(user.email, pool, clock());
  let userId: string | undefined;
  try {
    const acquired = await acquireUser(pool, user);
    userId = acquired.sub;
    if (user.password !== undefined) await cognitoIdentity.setPassword(pool, user.email, user.password);
    for (const group of req.groups) await cognitoIdentity.addToGroup(pool, user.email, group);
    const now = clock().toISOString();
    const result = await req.persist({ userId, claim: activateEmail(reservation, userId, now), now });
    return { userId, adopted: acquired.adopted, result };
  } catch (err) {
    await compensate(reservation, userId);
    throw err;
  }
}

/** Creates the provider user, or adopts (replaces) the orphan an earlier attempt left behind. */
async function acquireUser(pool: UserPool, user: CreateUserInput): Promise<{ sub: string; adopted: boolean }> {
  try {
    return { ...(await cognitoIdentity.createUser(pool, user)), adopted: false };
  } catch (err) {
    if (!isEmailTaken(err)) throw err;
  }
  const orphan = await cognitoIdentity.getUser(pool, user.email);
  if (orphan?.sub && (await ownerItemExists(pool, orphan.sub))) {
    // A provider user with an owner item but no active UNIQUE#EMAIL item: inconsistent data, not an orphan.
    logger.error('provisioning: provider user has an owner item but its email is unowned', { pool, userId: orphan.sub });
    throw emailTaken();
  }
  logger.warn('provisioning: replacing an orphaned provider user', { pool, orphanId: orphan?.sub });
  await cognitoIdentity.deleteUser(pool, user.email);
  return { ...(await cognitoIdentity.createUser(pool, user)), adopted: true };
}

async function ownerItemExists(pool: UserPool, sub: string): Promise<boolean> {
  return pool === 'staff' ? !!(await getStaff(sub)) : !!(await getClientProfile(sub));
}

/** Undoes a failed attempt without ever taking a user away from someone who may own it now. */
async function compensate(reservation: EmailReservation, userId: string | undefined): Promise<void> {
  const { kind: pool, email } = reservation;
  try {
    if (userId !== undefined) {
      const claim = await findEmailClaim(email);
      const ownedElsewhere =
        claim !== undefined &&
        (claim.status === 'pending' ? claim.reservationId !== reservation.reservationId : claim.ownerId === userId);
      if (ownedElsewhere) {
        logger.warn('provisioning compensation: email claimed since; provider user kept', { pool, userId });
        return;
      }
      await cognitoIdentity.deleteUser(pool, email);
    }
    await releaseEmail(reservation);
  } catch (e) {
    logger.error('provisioning compensation failed: reservation left to expire, the next attempt adopts the user', {
      pool,
      userId,
      error: (e as Error).name,
    });
  }
}
