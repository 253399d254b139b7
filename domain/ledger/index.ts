/**
 * The ledger's pure rules (no I/O). See docs/decisions/0005-ledger-model.md.
 *
 * Invariants (each module lists its own):
 * - journals balance per currency and are applied all or nothing (journal.ts)
 * - noNegative accounts never reach available < 0 (journal.ts, holds.ts)
 * - holds move pending -> posted | voided | expired only (holds.ts)
 * - reconciliation compares balances with postings and holds (reconcile.ts)
 */
export * from './builders.ts';
export * from './holds.ts';
export * from './journal.ts';
export * from './model.ts';
export * from './reconcile.ts';
