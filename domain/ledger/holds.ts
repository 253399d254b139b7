/**
 * Holds (two-phase movements): a hold reserves funds on one account; it is then posted (a journal
 * debits the account while the hold is released), voided, or expired. Never edited.
 *
 * Invariants:
 * - status moves only pending -> posted | voided | expired; any other transition is hold_not_pending
 * - placing a hold needs available >= amount (on every account kind) and moves held += amount,
 *   available -= amount; releasing (post, void, expire) moves held -= amount, available += amount
 * - posting = release then debit: ledger -= amount, held -= amount, available unchanged, so a
 *   posted hold can never fail for funds it had reserved
 * - a hold can be expired only at or after expiresAt; it cannot be posted at or after expiresAt
 * - all functions are pure
 */
import { DomainError } from '../errors.ts';
import type { Account, Balance } from './model.ts';

export type HoldStatus = 'pending' | 'posted' | 'voided' | 'expired';

export interface Hold {
  holdId: string;
  accountId: string;
  /** Positive minor units reserved. */
  amount: bigint;
  currency: string;
  status: HoldStatus;
  /** ISO-8601 instant. */
  expiresAt: string;
  reference?: string | undefined;
  createdAt: string;
  /** When it left pending. */
  closedAt?: string | undefined;
  /** The journal that posted it. */
  journalId?: string | undefined;
  /** Why it was voided. */
  reason?: string | undefined;
  clientId?: string | undefined;
  version: number;
}

const notPending = (hold: Hold) =>
  new DomainError('hold_not_pending', 'conflict', `The hold is ${hold.status}, not pending`, [], {
    holdId: hold.holdId,
    status: hold.status,
    ...(hold.journalId ? { journalId: hold.journalId } : {}),
  });

/** The balance after reserving `amount` (insufficient_funds when available < amount). */
export function reserve(balance: Balance, account: Account, amount: bigint): Balance {
  if (amount <= 0n) throw new DomainError('amount_not_positive', 'unprocessable', 'A hold amount must be positive');
  if (account.flags.frozen) {
    throw new DomainError('account_frozen', 'unprocessable', 'The account is frozen', [], { accountId: account.accountId });
  }
  if (balance.available < amount) {
    throw new DomainError('insufficient_funds', 'unprocessable', 'Insufficient available funds', [], {
      accountId: account.accountId,
      available: balance.available.toString(),
      required: amount.toString(),
    });
  }
  return { ...balance, held: balance.held + amount, available: balance.available - amount, version: balance.version + 1 };
}

/** The balance after releasing a hold of `amount`. */
export function release(balance: Balance, amount: bigint): Balance {
  return { ...balance, held: balance.held - amount, available: balance.available + amount, version: balance.version + 1 };
}

export function newHold(input: {
  holdId: string;
  accountId: string;
  amount: bigint;
  currency: string;
  expiresAt: string;
  reference?: string | undefined;
  clientId?: string | undefined;
  at: string;
}): Hold {
  if (input.amount <= 0n) throw new DomainError('amount_not_positive', 'unprocessable', 'A hold amount must be positive');
  if (!(Date.parse(input.expiresAt) > Date.parse(input.at))) {
    throw new DomainError('invalid_expiry', 'unprocessable', 'A hold must expire in the future', [
      { field: 'expiresAt', code: 'invalid_expiry', message: 'Must be in the future' },
    ]);
  }
  return {
    holdId: input.holdId,
    accountId: input.accountId,
    amount: input.amount,
    currency: input.currency,
    status: 'pending',
    expiresAt: input.expiresAt,
    reference: input.reference,
    clientId: input.clientId,
    createdAt: input.at,
    version: 1,
  };
}

export function postHoldTransition(hold: Hold, journalId: string, at: string): Hold {
  if (hold.status !== 'pending') throw notPending(hold);
  if (Date.parse(at) >= Date.parse(hold.expiresAt)) {
    throw new DomainError('hold_expired', 'unprocessable', 'The hold has expired', [], { holdId: hold.holdId });
  }
  return { ...hold, status: 'posted', journalId, closedAt: at, version: hold.version + 1 };
}

export function voidHoldTransition(hold: Hold, reason: string, at: string): Hold {
  if (hold.status !== 'pending') throw notPending(hold);
  return { ...hold, status: 'voided', reason, closedAt: at, version: hold.version + 1 };
}

export function expireHoldTransition(hold: Hold, now: string): Hold {
  if (hold.status !== 'pending') throw notPending(hold);
  if (Date.parse(now) < Date.parse(hold.expiresAt)) {
    throw new DomainError('hold_not_expired', 'conflict', 'The hold has not expired yet', [], { holdId: hold.holdId });
  }
  return { ...hold, status: 'expired', closedAt: now, version: hold.version + 1 };
}
