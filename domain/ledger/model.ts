/**
 * Ledger vocabulary: accounts, balances, postings and journals (docs/decisions/0005-ledger-model.md).
 *
 * Invariants:
 * - amounts are bigint minor units; a posting's amount is signed, positive = value INTO the account
 * - an account has exactly one currency; every posting to it is in that currency
 * - a balance is ledger (sum of postings), held (sum of open holds) and available = ledger - held
 * - version counts every change to a balance item; seq counts its postings (1, 2, 3, ... no gaps)
 */
import type { AuditActor } from '../audit/chain.ts';

export const ACCOUNT_KINDS = [
  'client_wallet',
  'trading_account',
  'psp_clearing',
  'fee_income',
  'fx_position',
  'house_adjustments',
  'ib_payable',
  'strategy_pool',
  'chargeback_receivable',
  'suspense',
  /** The broker's expense of partner (IB) commissions paid out: debited by each payout, so it goes negative. */
  'commission_expense',
] as const;
export type AccountKind = (typeof ACCOUNT_KINDS)[number];

/** Kinds whose accounts hold money owed to someone: they can never go below zero available. */
export const NO_NEGATIVE_KINDS: readonly AccountKind[] = ['client_wallet', 'trading_account', 'ib_payable', 'strategy_pool'];

/** House kinds that most movements touch: sharded by default. */
export const HOT_KINDS: readonly AccountKind[] = ['psp_clearing', 'fee_income', 'fx_position', 'commission_expense'];
export const DEFAULT_HOT_SHARDS = 8;
export const MAX_SHARDS = 64;

export const HOUSE_OWNER = 'house';

export interface AccountFlags {
  noNegative: boolean;
  frozen: boolean;
}

export interface Account {
  accountId: string;
  kind: AccountKind;
  currency: string;
  /** clientId, or 'house' for the broker's own accounts. */
  ownerId: string;
  flags: AccountFlags;
  /** Number of balance items (shards); 1 for everything but hot house accounts. */
  shards: number;
}

/** What never changes after an account is opened (so it may be cached): everything but the flags. */
export type AccountFacts = Omit<Account, 'flags'>;

export interface Balance {
  /** Sum of postings. */
  ledger: bigint;
  /** Sum of open (pending) holds. */
  held: bigint;
  /** ledger - held. */
  available: bigint;
  /** Changes to the balance item(s) (for a sharded account: the sum over its shards). */
  version: number;
  /** Postings so far (for a sharded account: the sum over its shards). */
  seq: number;
}

export const ZERO_BALANCE: Balance = Object.freeze({ ledger: 0n, held: 0n, available: 0n, version: 0, seq: 0 });

export const JOURNAL_TYPES = [
  'transfer',
  'fx_transfer',
  'adjustment',
  'deposit',
  'withdrawal',
  'fee',
  'hold_post',
  'commission',
  'chargeback',
  'reversal',
] as const;
export type JournalType = (typeof JOURNAL_TYPES)[number];

export interface PostingDraft {
  accountId: string;
  /** Signed minor units: + = into the account. */
  amount: bigint;
  currency: string;
}

export interface JournalDraft {
  journalId: string;
  type: JournalType;
  postings: PostingDraft[];
  reference?: string | undefined;
  description?: string | undefined;
  metadata: Record<string, unknown>;
}

/** A posting as written: which balance shard it hit, its seq there and that shard's balance after it. */
export interface PostedPosting extends PostingDraft {
  shard: number;
  seq: number;
  balanceAfter: bigint;
}

export interface PostedJournal {
  journalId: string;
  type: JournalType;
  postings: PostedPosting[];
  reference?: string | undefined;
  description?: string | undefined;
  metadata: Record<string, unknown>;
  actor: AuditActor;
  requestId: string;
  clientId?: string | undefined;
  idempotency: { scope: string; key: string };
  postedAt: string;
}
