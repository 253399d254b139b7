/**
 * Journal rules: validation and the pure application of a journal to balances.
 *
 * Invariants:
 * - a valid journal has 2..MAX_POSTINGS postings, no zero posting, at most one posting per account,
 *   each in its account's currency, and per currency its postings sum to zero (journal_balanced)
 * - MAX_POSTINGS is derived from DynamoDB's 100-item transaction limit: every posting costs two
 *   items (the posting and its account's balance update) beside JOURNAL_FIXED_ITEMS fixed ones;
 *   a larger journal is rejected (journal_too_large), never split
 * - applyJournal is pure; it moves ledger and available by each posting, leaves held unchanged,
 *   bumps version and seq by one per posting, and refuses (insufficient_funds) any posting that
 *   would leave a noNegative account with available < 0; frozen accounts take no postings
 */
import { DomainError, type FieldError } from '../errors.ts';
import { isCurrency, MAX_AMOUNT } from '../money/index.ts';
import type { Account, Balance, JournalDraft, PostingDraft } from './model.ts';

/** Items every journal transaction holds besides its postings: journal, idempotency key, audit
 * item, audit chain head, outbox event, and one spare (the hold item when a hold is posted). */
export const JOURNAL_FIXED_ITEMS = 6;
export const TRANSACTION_ITEM_LIMIT = 100;
export const MAX_POSTINGS = Math.floor((TRANSACTION_ITEM_LIMIT - JOURNAL_FIXED_ITEMS) / 2);

export const MAX_METADATA_BYTES = 8192;
export const MAX_REFERENCE_LENGTH = 128;
export const MAX_DESCRIPTION_LENGTH = 500;
export const ID_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;

const fail = (code: string, message: string, errors: FieldError[] = [], meta: Record<string, unknown> = {}) =>
  new DomainError(code, 'unprocessable', message, errors, meta);

/** True when, per currency, the postings sum to zero. */
export function journalBalanced(postings: readonly Pick<PostingDraft, 'amount' | 'currency'>[]): boolean {
  const sums = new Map<string, bigint>();
  for (const p of postings) sums.set(p.currency, (sums.get(p.currency) ?? 0n) + p.amount);
  for (const s of sums.values()) if (s !== 0n) return false;
  return true;
}

function metadataSize(metadata: unknown): number | undefined {
  try {
    const s = JSON.stringify(metadata);
    return s === undefined ? undefined : Buffer.byteLength(s, 'utf8');
  } catch {
    return undefined;
  }
}

/** Checks a draft against the accounts it names. Throws the first rule it breaks. */
export function validateJournal(draft: JournalDraft, accounts: ReadonlyMap<string, Account>): void {
  if (!ID_PATTERN.test(draft.journalId)) {
    throw fail('invalid_journal_id', 'A journal id is 1-128 characters of A-Z a-z 0-9 _ . : -', [
      { field: 'journalId', code: 'invalid_journal_id', message: 'Invalid journal id' },
    ]);
  }
  const n = draft.postings.length;
  if (n > MAX_POSTINGS) {
    throw fail(
      'journal_too_large',
      `A journal has at most ${MAX_POSTINGS} postings`,
      [{ field: 'postings', code: 'journal_too_large', message: `At most ${MAX_POSTINGS} postings` }],
      { max: MAX_POSTINGS, postings: n },
    );
  }
  if (n < 2) {
    throw fail('journal_too_small', 'A journal has at least two postings', [
      { field: 'postings', code: 'journal_too_small', message: 'At least two postings' },
    ]);
  }
  if (draft.reference !== undefined && draft.reference.length > MAX_REFERENCE_LENGTH) {
    throw fail('reference_too_long', `A reference has at most ${MAX_REFERENCE_LENGTH} characters`);
  }
  if (draft.description !== undefined && draft.description.length > MAX_DESCRIPTION_LENGTH) {
    throw fail('description_too_long', `A description has at most ${MAX_DESCRIPTION_LENGTH} characters`);
  }
  const size = metadataSize(draft.metadata);
  if (size === undefined || typeof draft.metadata !== 'object' || draft.metadata === null || Array.isArray(draft.metadata)) {
    throw fail('invalid_metadata', 'Journal metadata must be a JSON object');
  }
  if (size > MAX_METADATA_BYTES) throw fail('metadata_too_large', `Journal metadata is at most ${MAX_METADATA_BYTES} bytes`);

  const seen = new Set<string>();
  draft.postings.forEach((p, i) => {
    const field = `postings[${i}]`;
    if (p.amount === 0n)
      throw fail('zero_posting', 'A posting cannot be zero', [
        { field: `${field}.amount`, code: 'zero_posting', message: 'Zero amount' },
      ]);
    if (p.amount >= MAX_AMOUNT || -p.amount >= MAX_AMOUNT) {
      throw fail('amount_too_large', 'Amount is too large', [
        { field: `${field}.amount`, code: 'amount_too_large', message: 'Too large' },
      ]);
    }
    if (!isCurrency(p.currency)) {
      throw fail('unknown_currency', 'Unknown currency', [
        { field: `${field}.currency`, code: 'unknown_currency', message: 'Unknown currency' },
      ]);
    }
    const account = accounts.get(p.accountId);
    if (!account) {
      throw fail(
        'account_not_found',
        'A posting names an account that does not exist',
        [{ field: `${field}.accountId`, code: 'account_not_found', message: 'No such account' }],
        { accountId: p.accountId },
      );
    }
    if (seen.has(p.accountId)) {
      throw fail(
        'duplicate_account_posting',
        'A journal posts to each account at most once',
        [{ field: `${field}.accountId`, code: 'duplicate_account_posting', message: 'Account already posted to' }],
        { accountId: p.accountId },
      );
    }
    seen.add(p.accountId);
    if (account.currency !== p.currency) {
      throw fail(
        'currency_mismatch',
        `Account ${p.accountId} is in ${account.currency}, not ${p.currency}`,
        [{ field: `${field}.currency`, code: 'currency_mismatch', message: 'Currency differs from the account currency' }],
        { accountId: p.accountId },
      );
    }
    if (account.flags.frozen) {
      throw fail(
        'account_frozen',
        'The account is frozen',
        [{ field: `${field}.accountId`, code: 'account_frozen', message: 'Frozen' }],
        {
          accountId: p.accountId,
        },
      );
    }
  });
  if (!journalBalanced(draft.postings)) {
    throw fail('journal_unbalanced', 'Per currency, the postings of a journal must sum to zero', [
      { field: 'postings', code: 'journal_unbalanced', message: 'Postings do not sum to zero per currency' },
    ]);
  }
}

/** One posting applied to one balance (no validation of the journal around it). */
export function applyPosting(balance: Balance, account: Account, amount: bigint): Balance {
  const next: Balance = {
    ledger: balance.ledger + amount,
    held: balance.held,
    available: balance.available + amount,
    version: balance.version + 1,
    seq: balance.seq + 1,
  };
  if (account.flags.noNegative && amount < 0n && next.available < 0n) {
    throw new DomainError('insufficient_funds', 'unprocessable', 'Insufficient available funds', [], {
      accountId: account.accountId,
      available: balance.available.toString(),
      required: (-amount).toString(),
    });
  }
  return next;
}

/**
 * Validates the draft and returns the balances after it, keyed by accountId (only touched ones).
 * `balances` holds the current balance of every posted account (for a sharded account: of the
 * shard the journal hits).
 */
export function applyJournal(
  balances: ReadonlyMap<string, Balance>,
  draft: JournalDraft,
  accounts: ReadonlyMap<string, Account>,
): Map<string, Balance> {
  validateJournal(draft, accounts);
  const out = new Map<string, Balance>();
  for (const p of draft.postings) {
    const before = balances.get(p.accountId);
    if (!before) throw fail('account_not_found', `No balance for account ${p.accountId}`, [], { accountId: p.accountId });
    out.set(p.accountId, applyPosting(before, accounts.get(p.accountId)!, p.amount));
  }
  return out;
}
