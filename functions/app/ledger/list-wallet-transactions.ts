/**
 * A wallet's entries, newest first (GET /v1/wallets/{walletId}/transactions).
 *
 * Invariants:
 * - the owner reads its wallet; finance, compliance and admins read any (WALLET_STAFF_ROLES); anything
 *   else is 404 wallet_not_found, exactly like an unknown id (accessibleWallet)
 * - entries are the wallet's postings, each with its running balance; [from, to] is inclusive;
 *   cursor-paginated (the store validates the cursor: 400 invalid_cursor)
 */
import type { CommandContext } from '#app/context.ts';
import type { Caller } from '#domain/identity/roles.ts';
import { listPostings } from '#store/ledger/postings.ts';
import type { Page } from '#store/pagination.ts';
import { accessibleWallet, type LedgerEntry, WALLET_STAFF_ROLES } from './shared.ts';

export interface ListWalletTransactionsInput {
  walletId: string;
  from?: Date | undefined;
  to?: Date | undefined;
  cursor?: string | undefined;
  limit: number;
}

export async function listWalletTransactions(
  input: ListWalletTransactionsInput,
  caller: Caller,
  _ctx: CommandContext,
): Promise<Page<LedgerEntry>> {
  const wallet = await accessibleWallet(caller, input.walletId, WALLET_STAFF_ROLES);
  return listPostings(wallet.accountId, {
    ...(input.from ? { from: input.from } : {}),
    ...(input.to ? { to: input.to } : {}),
    cursor: input.cursor,
    limit: input.limit,
  });
}
