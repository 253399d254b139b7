/**
 * A ledger account for finance, compliance and admins (GET /v1/admin/ledger/accounts/{accountId}).
 *
 * Invariants:
 * - read only; the edge admits finance, compliance and admins
 * - the balance is the sum of the account's shards; a sharded account also lists every shard
 * - the latest postings come newest first (at most LAST_POSTINGS), with whether there are more
 * - an unknown id is 404 account_not_found
 */
import type { CommandContext } from '#app/context.ts';
import { DomainError } from '#domain/errors.ts';
import type { Caller } from '#domain/identity/roles.ts';
import type { Account, Balance } from '#domain/ledger/index.ts';
import { accountShards, getAccount, sumShards } from '#store/ledger/accounts.ts';
import { listPostings } from '#store/ledger/postings.ts';
import type { LedgerEntry } from './shared.ts';

const LAST_POSTINGS = 20;

export interface LedgerAccountDetail {
  account: Account;
  balance: Balance;
  /** Every shard's balance, for a sharded account only. */
  shardBalances?: (Balance & { shard: number })[];
  lastPostings: LedgerEntry[];
  hasMorePostings: boolean;
}

export async function getLedgerAccount(
  input: { accountId: string },
  _caller: Caller,
  _ctx: CommandContext,
): Promise<LedgerAccountDetail> {
  const account = await getAccount(input.accountId);
  if (!account) throw new DomainError('account_not_found', 'not_found', 'No ledger account with this id');
  const shards = await accountShards(input.accountId);
  const page = await listPostings(input.accountId, { limit: LAST_POSTINGS });
  return {
    account,
    balance: sumShards(shards),
    ...(account.shards > 1 ? { shardBalances: shards } : {}),
    lastPostings: page.items,
    hasMorePostings: page.hasMore,
  };
}
