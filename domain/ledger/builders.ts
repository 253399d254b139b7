/**
 * Journal builders for the common movements. They only build drafts; validateJournal /
 * applyJournal (and the store) decide whether a draft may be posted.
 *
 * Invariants:
 * - every built draft balances per currency by construction
 * - an FX transfer is ONE journal of four postings: from -a (cur A), fxFrom +a (cur A),
 *   fxTo -b (cur B), to +b (cur B), with b = convert(a, rate, B, 'down') and the rate, its source
 *   and its timestamp in the metadata
 */
import { DomainError } from '../errors.ts';
import { convert, formatAmount, type Money, parseRate } from '../money/index.ts';
import type { AccountFacts as Account, JournalDraft, JournalType } from './model.ts';

const mismatch = (account: Account, currency: string) =>
  new DomainError(
    'currency_mismatch',
    'unprocessable',
    `Account ${account.accountId} is in ${account.currency}, not ${currency}`,
    [{ field: 'amount.currency', code: 'currency_mismatch', message: 'Currency differs from the account currency' }],
  );

const positive = (m: Money) => {
  if (m.amount <= 0n) {
    throw new DomainError('amount_not_positive', 'unprocessable', 'Amount must be greater than zero', [
      { field: 'amount', code: 'amount_not_positive', message: 'Amount must be greater than zero' },
    ]);
  }
};

/** `amount` from one account to another of the same currency. */
export function transferJournal(input: {
  journalId: string;
  from: Account;
  to: Account;
  amount: Money;
  type?: JournalType;
  reference?: string;
  description?: string;
  metadata?: Record<string, unknown>;
}): JournalDraft {
  positive(input.amount);
  if (input.from.currency !== input.amount.currency) throw mismatch(input.from, input.amount.currency);
  if (input.to.currency !== input.amount.currency) throw mismatch(input.to, input.amount.currency);
  return {
    journalId: input.journalId,
    type: input.type ?? 'transfer',
    postings: [
      { accountId: input.from.accountId, amount: -input.amount.amount, currency: input.amount.currency },
      { accountId: input.to.accountId, amount: input.amount.amount, currency: input.amount.currency },
    ],
    reference: input.reference,
    description: input.description,
    metadata: input.metadata ?? {},
  };
}

/**
 * `amount` (in from.currency) out of `from`, converted at `rate` (units of to.currency per one
 * from.currency) into `to`, through the FX position accounts of both currencies.
 *
 * Rounding: the credited amount is rounded DOWN (toward zero). The client never receives more than
 * the exact conversion is worth, so the broker is never short a fraction of a minor unit it cannot
 * cover; the fraction stays in the FX position (fxFrom took the full `amount`, fxTo gave out a
 * little less), where it is visible and reconcilable rather than lost. Half-even would sometimes
 * round up and create value from nothing on the broker's side.
 */
export function fxTransferJournal(input: {
  journalId: string;
  from: Account;
  to: Account;
  fxFrom: Account;
  fxTo: Account;
  amount: Money;
  rate: string;
  rateSource: string;
  rateAt: string;
  type?: JournalType;
  reference?: string;
  description?: string;
  metadata?: Record<string, unknown>;
}): JournalDraft {
  positive(input.amount);
  parseRate(input.rate);
  const a = input.amount;
  if (input.from.currency !== a.currency) throw mismatch(input.from, a.currency);
  if (input.fxFrom.currency !== a.currency) throw mismatch(input.fxFrom, a.currency);
  if (input.fxTo.currency !== input.to.currency) throw mismatch(input.fxTo, input.to.currency);
  if (input.to.currency === a.currency) {
    throw new DomainError('same_currency', 'unprocessable', 'An FX transfer needs two different currencies');
  }
  const b = convert(a, input.rate, input.to.currency, 'down');
  if (b.amount <= 0n) {
    throw new DomainError('amount_too_small', 'unprocessable', 'The converted amount rounds to zero', [
      { field: 'amount', code: 'amount_too_small', message: 'Converted amount rounds to zero' },
    ]);
  }
  return {
    journalId: input.journalId,
    type: input.type ?? 'fx_transfer',
    postings: [
      { accountId: input.from.accountId, amount: -a.amount, currency: a.currency },
      { accountId: input.fxFrom.accountId, amount: a.amount, currency: a.currency },
      { accountId: input.fxTo.accountId, amount: -b.amount, currency: b.currency },
      { accountId: input.to.accountId, amount: b.amount, currency: b.currency },
    ],
    reference: input.reference,
    description: input.description,
    metadata: {
      ...(input.metadata ?? {}),
      fx: {
        rate: input.rate,
        rateSource: input.rateSource,
        rateAt: input.rateAt,
        from: { amount: formatAmount(a.amount, a.currency), currency: a.currency },
        to: { amount: formatAmount(b.amount, b.currency), currency: b.currency },
        rounding: 'down',
      },
    },
  };
}
