/**
 * Reconciliation rules (pure): what the scheduled job checks. A finding is a bug to alarm on, never
 * something to repair automatically: journals commit atomically, so crashes leave nothing partial.
 *
 * Invariants checked:
 * - ledger = sum of the account's postings; held = sum of its open holds; available = ledger - held
 * - every journal balances per currency
 * - per currency, the ledgers of all accounts and the amounts of all postings each sum to zero
 *   (double entry across the whole ledger; catches a consistent rewrite of one side)
 * - no hold is still pending after its expiresAt (the expiry sweep is late or failing)
 */

import type { Hold } from './holds.ts';
import { journalBalanced } from './journal.ts';
import type { Balance } from './model.ts';

export { journalBalanced };

export type FindingCode =
  | 'ledger_mismatch'
  | 'held_mismatch'
  | 'available_mismatch'
  | 'journal_unbalanced'
  | 'hold_overdue'
  | 'currency_unbalanced';

export interface Finding {
  code: FindingCode;
  expected: string;
  actual: string;
  detail?: Record<string, string>;
}

/** Findings for one account: [] when its balance agrees with its postings and open holds. */
export function reconcileBalance(balance: Balance, postingsSum: bigint, heldSum: bigint): Finding[] {
  const out: Finding[] = [];
  if (balance.ledger !== postingsSum)
    out.push({ code: 'ledger_mismatch', expected: String(postingsSum), actual: String(balance.ledger) });
  if (balance.held !== heldSum) out.push({ code: 'held_mismatch', expected: String(heldSum), actual: String(balance.held) });
  if (balance.available !== balance.ledger - balance.held) {
    out.push({ code: 'available_mismatch', expected: String(balance.ledger - balance.held), actual: String(balance.available) });
  }
  return out;
}

/** A finding when a hold is still pending at or after its expiry. */
export function holdFinding(hold: Hold, now: Date): Finding | undefined {
  if (hold.status === 'pending' && now.getTime() >= Date.parse(hold.expiresAt)) {
    return {
      code: 'hold_overdue',
      expected: 'expired',
      actual: 'pending',
      detail: { holdId: hold.holdId, expiresAt: hold.expiresAt },
    };
  }
  return undefined;
}

/**
 * Per currency, the sum of all balance ledgers and the sum of all posting amounts, each plus
 * `inFlight` (the not-yet-counted postings of journals only partly inside the read cut), must be 0.
 * One finding per currency where either is not.
 */
export function currencyFindings(
  ledgerSums: ReadonlyMap<string, bigint>,
  postingSums: ReadonlyMap<string, bigint>,
  inFlight: ReadonlyMap<string, bigint> = new Map(),
): Finding[] {
  const currencies = [...new Set([...ledgerSums.keys(), ...postingSums.keys(), ...inFlight.keys()])].sort();
  const out: Finding[] = [];
  for (const currency of currencies) {
    const f = inFlight.get(currency) ?? 0n;
    const ledgerSum = (ledgerSums.get(currency) ?? 0n) + f;
    const postingSum = (postingSums.get(currency) ?? 0n) + f;
    if (ledgerSum !== 0n || postingSum !== 0n) {
      out.push({
        code: 'currency_unbalanced',
        expected: '0',
        actual: String(postingSum !== 0n ? postingSum : ledgerSum),
        detail: { currency, ledgerSum: String(ledgerSum), postingSum: String(postingSum) },
      });
    }
  }
  return out;
}
