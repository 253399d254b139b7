/**
 * A wallet's monthly statement (GET /v1/wallets/{walletId}/statement?month=YYYY-MM): the facts the
 * edge renders as CSV.
 *
 * Invariants:
 * - the owner reads its wallet; finance, compliance and admins read any (WALLET_STAFF_ROLES); anything
 *   else is 404 wallet_not_found (accessibleWallet)
 * - the statement covers one UTC calendar month [start, end): the opening balance is the balance as of
 *   just before the month, the closing balance as of its last millisecond, the entries oldest first
 */
import type { CommandContext } from '#app/context.ts';
import type { Caller } from '#domain/identity/roles.ts';
import type { Account } from '#domain/ledger/index.ts';
import { monthBounds } from '#domain/ledger/statement.ts';
import { allPostings, balanceAsOf } from '#store/ledger/postings.ts';
import { accessibleWallet, type LedgerEntry, WALLET_STAFF_ROLES } from './shared.ts';

export interface GetWalletStatementInput {
  walletId: string;
  /** YYYY-MM (UTC). */
  month: string;
}

export interface WalletStatement {
  wallet: Account;
  month: string;
  periodStart: string;
  periodEnd: string;
  opening: bigint;
  closing: bigint;
  /** Oldest first. */
  entries: LedgerEntry[];
}

const MS = 1;

export async function getWalletStatement(
  input: GetWalletStatementInput,
  caller: Caller,
  _ctx: CommandContext,
): Promise<WalletStatement> {
  const wallet = await accessibleWallet(caller, input.walletId, WALLET_STAFF_ROLES);
  const { start, end } = monthBounds(input.month);
  const startAt = new Date(start);
  const lastMs = new Date(Date.parse(end) - MS);
  const [opening, closing] = await Promise.all([
    balanceAsOf(wallet.accountId, new Date(startAt.getTime() - MS)),
    balanceAsOf(wallet.accountId, lastMs),
  ]);
  const entries: LedgerEntry[] = [];
  for await (const p of allPostings(wallet.accountId, startAt, lastMs)) entries.push(p);
  return { wallet, month: input.month, periodStart: start, periodEnd: end, opening, closing, entries };
}
