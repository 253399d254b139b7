/**
 * What several ledger use cases (and the payments use cases that move money) share: who may use a
 * wallet, and the ledger's own idempotency scope and request hash.
 *
 * Invariants:
 * - a wallet is reachable by its owner always, and by staff only with one of the roles the use case
 *   names (none for money-moving commands); anything else (another client's wallet, an unknown id, a
 *   house account) is the same 404 wallet_not_found, another client's also marked as a cross-client probe
 * - a ledger idempotency scope is `<command>:<sub>` while that fits the store's 64 characters, else the
 *   command and a hash of the sub: never a truncation, so two callers never share a scope
 * - the request hash is sha256 of the request's canonical JSON
 * - a command that must happen exactly once has an idempotency key (400 idempotency_key_required otherwise)
 */
import { createHash } from 'node:crypto';
import type { CommandContext } from '#app/context.ts';
import { canonicalJson } from '#domain/audit/chain.ts';
import { DomainError } from '#domain/errors.ts';
import type { Caller, Role } from '#domain/identity/roles.ts';
import type { Account } from '#domain/ledger/index.ts';
import { crossClientProbe } from '#domain/security/probes.ts';
import { getAccount } from '#store/ledger/accounts.ts';

/** A posting as the ledger use cases return it (the edges present it; they never import the store). */
export type { PostingView as LedgerEntry } from '#store/ledger/postings.ts';

/** Staff roles that may read any client's wallet. */
export const WALLET_STAFF_ROLES: readonly Role[] = ['finance', 'compliance', 'admin'];

export const walletNotFound = () => new DomainError('wallet_not_found', 'not_found', 'No wallet with this id');

/**
 * The wallet `walletId` if `caller` may use it: its owner always; staff with one of `staffRoles`
 * (none for money-moving commands). Anything else is 404 wallet_not_found, exactly like an unknown id.
 */
export async function accessibleWallet(caller: Caller, walletId: string, staffRoles: readonly Role[] = []): Promise<Account> {
  return walletAccess(caller, await getAccount(walletId), staffRoles);
}

/** accessibleWallet's check on an account already read (e.g. in one BatchGet with others). */
export function walletAccess<A extends Pick<Account, 'kind' | 'ownerId'>>(
  caller: Caller,
  account: A | undefined,
  staffRoles: readonly Role[] = [],
): A {
  if (account?.kind !== 'client_wallet') throw walletNotFound();
  if (account.ownerId === caller.sub) return account;
  if (caller.roles.some((r) => staffRoles.includes(r))) return account;
  throw crossClientProbe(walletNotFound(), caller, account.ownerId);
}

/** sha256 of the request's canonical JSON: what the ledger's idempotency item remembers. */
export const requestHash = (body: unknown): string => createHash('sha256').update(canonicalJson(body), 'utf8').digest('hex');

/**
 * The ledger idempotency scope for a caller's command: `transfer:<sub>` while that fits the store's
 * 64-character scope, else the command and a hash of the sub (never a truncation: two callers must
 * never share a scope and replay each other's journals).
 */
export const ledgerScope = (command: string, sub: string) => {
  const plain = `${command}:${sub}`;
  return plain.length <= 64
    ? plain
    : `${command}:${createHash('sha256')
        .update(sub, 'utf8')
        .digest('hex')
        .slice(0, 63 - command.length)}`;
};

/** The Idempotency-Key of a command that must happen exactly once (the edge requires it; a use case insists). */
export function idempotencyKeyOf(ctx: CommandContext): string {
  if (!ctx.idempotencyKey)
    throw new DomainError('idempotency_key_required', 'validation', 'This command needs an idempotency key');
  return ctx.idempotencyKey;
}
