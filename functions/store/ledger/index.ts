/**
 * The ledger store: accounts, journals, postings and holds on the single table.
 * See docs/decisions/0005-ledger-model.md and each module's invariants.
 */

export type { Account, Balance, Hold, JournalDraft, PostedJournal } from '#domain/ledger/index.ts';
export {
  accountShards,
  ensureWallet,
  getAccount,
  getAccounts,
  getBalance,
  houseAccount,
  houseAccountId,
  type LedgerCtx,
  listWallets,
  type OpenAccountInput,
  openAccount,
  type ShardBalance,
  scanAccounts,
  setAccountFlags,
  walletId,
} from './accounts.ts';
export { ledgerDdb } from './codec.ts';
export {
  expireHold,
  getHold,
  type HoldExtra,
  type PlaceHoldInput,
  type PostHoldInput,
  pendingHeldOnShard,
  placeHold,
  postHold,
  type StoredHold,
  scanOpenHolds,
  voidHold,
} from './holds.ts';
export {
  getJournal,
  type Idempotency,
  newJournalId,
  type PostJournalInput,
  type PostJournalResult,
  postJournal,
  scanJournals,
} from './journals.ts';
export {
  allPostings,
  balanceAsOf,
  listPostings,
  type PostingRef,
  type PostingSummary,
  type PostingView,
  readJournals,
  readPostings,
  type ShardPostingSummary,
  sumPostings,
} from './postings.ts';
