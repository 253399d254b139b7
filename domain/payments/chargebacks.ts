/**
 * Chargebacks: a card holder disputes a deposit and the provider takes the amount back from us.
 * Pure: the split between the client's wallet and the chargeback receivable, the postings of the
 * opening and of the reversal when the dispute is won, and the chargeback lifecycle.
 *
 * Invariants:
 * - the opening journal is psp_clearing +A, wallet -w, chargeback_receivable -(A - w) with
 *   w = min(max(available, 0), A): the wallet pays what it has available and never goes negative;
 *   the shortfall A - w is never silent, it is the receivable posting (and the compliance case's evidence)
 * - zero postings are left out (a wallet with nothing available has no posting; a wallet that covers
 *   everything leaves no receivable); the postings always sum to zero
 * - a won dispute posts the exact negation of the opening: psp_clearing -A, wallet +w, receivable +(A - w)
 * - a chargeback moves open -> won | lost, once; lost moves no money (the opening stands)
 */
import { DomainError } from '../errors.ts';

export const CHARGEBACK_STATUSES = ['open', 'won', 'lost'] as const;
export type ChargebackStatus = (typeof CHARGEBACK_STATUSES)[number];

export const CHARGEBACK_TRANSITIONS: Readonly<Record<ChargebackStatus, readonly ChargebackStatus[]>> = {
  open: ['won', 'lost'],
  won: [],
  lost: [],
};

export interface ChargebackSplit {
  /** The disputed amount A. */
  amount: bigint;
  /** Taken from the wallet: min(available, A), never below zero. */
  fromWallet: bigint;
  /** The shortfall booked to chargeback_receivable: A - fromWallet. */
  receivable: bigint;
}

/** How a chargeback of `amount` (> 0) is covered given the wallet's available balance. */
export function chargebackSplit(amount: bigint, walletAvailable: bigint): ChargebackSplit {
  if (amount <= 0n) throw new DomainError('amount_not_positive', 'unprocessable', 'A chargeback amount must be positive');
  const available = walletAvailable > 0n ? walletAvailable : 0n;
  const fromWallet = available < amount ? available : amount;
  return { amount, fromWallet, receivable: amount - fromWallet };
}

export interface ChargebackAccounts {
  clearing: string;
  wallet: string;
  receivable: string;
}

export interface ChargebackPosting {
  accountId: string;
  amount: bigint;
  currency: string;
}

/** The opening journal's postings (zero ones left out). */
export function chargebackPostings(accounts: ChargebackAccounts, split: ChargebackSplit, currency: string): ChargebackPosting[] {
  return [
    { accountId: accounts.clearing, amount: split.amount, currency },
    { accountId: accounts.wallet, amount: -split.fromWallet, currency },
    { accountId: accounts.receivable, amount: -split.receivable, currency },
  ].filter((p) => p.amount !== 0n);
}

/** A won dispute: the exact negation of the opening postings. */
export function chargebackReversalPostings(
  accounts: ChargebackAccounts,
  split: ChargebackSplit,
  currency: string,
): ChargebackPosting[] {
  return chargebackPostings(accounts, split, currency).map((p) => ({ ...p, amount: -p.amount }));
}

export const canMoveChargeback = (from: ChargebackStatus, to: ChargebackStatus) => CHARGEBACK_TRANSITIONS[from].includes(to);
