/**
 * Events of the ledger context: accounts, holds and journals (docs/decisions/0005-ledger-model.md).
 *
 * Invariants:
 * - every definition follows domain/events/define.ts (versioning, money as strings, tolerant parsing)
 * - amounts are decimal strings in the account's currency (a hold's amount is positive; a posting's is signed,
 *   positive = into the account), with the posting's minor units as an integer string beside them
 * - clientId is present when the account (or the journal) belongs to a client, absent for house movements
 */
import * as z from 'zod';
import { ACCOUNT_KINDS, JOURNAL_TYPES } from '../ledger/model.ts';
import { currencyCode, decimal, defineEvent, id, instant, minorUnits, signedDecimal } from './define.ts';

const flags = z.object({ noNegative: z.boolean(), frozen: z.boolean() });
const holdRef = { holdId: id, accountId: id, clientId: id.optional() };

export const LEDGER_EVENTS = [
  defineEvent({
    detailType: 'ledger.account.opened',
    version: 1,
    context: 'ledger',
    external: true,
    description: 'A ledger account was opened (a client wallet or a house account) with its balance shards.',
    schema: z.object({
      accountId: id,
      kind: z.enum(ACCOUNT_KINDS),
      currency: currencyCode,
      /** clientId, or 'house'. */
      ownerId: id,
      flags,
      shards: z.number().int().min(1),
      clientId: id.optional(),
    }),
    example: {
      accountId: 'wal_client-01J8Z3_EUR',
      kind: 'client_wallet',
      currency: 'EUR',
      ownerId: 'client-01J8Z3',
      flags: { noNegative: true, frozen: false },
      shards: 1,
      clientId: 'client-01J8Z3',
    },
  }),
  defineEvent({
    detailType: 'ledger.account.flags_changed',
    version: 1,
    context: 'ledger',
    external: true,
    description: "An account's flags changed (frozen, unfrozen, no-negative); `flags` is the new full set.",
    schema: z.object({ accountId: id, flags }),
    example: { accountId: 'wal_client-01J8Z3_EUR', flags: { noNegative: true, frozen: true } },
  }),
  defineEvent({
    detailType: 'ledger.hold.placed',
    version: 1,
    context: 'ledger',
    external: true,
    description: 'Funds were reserved on an account (a withdrawal, a refund) until the hold is posted, voided or expires.',
    schema: z.object({ ...holdRef, amount: decimal, currency: currencyCode, expiresAt: instant }),
    example: {
      holdId: 'wd_01J8Z3',
      accountId: 'wal_client-01J8Z3_EUR',
      amount: '250.00',
      currency: 'EUR',
      expiresAt: '2025-03-08T10:00:00.000Z',
      clientId: 'client-01J8Z3',
    },
  }),
  defineEvent({
    detailType: 'ledger.hold.posted',
    version: 1,
    context: 'ledger',
    external: true,
    description: 'A hold was posted: its journal moved the reserved funds.',
    schema: z.object({ ...holdRef, journalId: id }),
    example: { holdId: 'wd_01J8Z3', journalId: 'wd_01J8Z3', accountId: 'wal_client-01J8Z3_EUR', clientId: 'client-01J8Z3' },
  }),
  defineEvent({
    detailType: 'ledger.hold.voided',
    version: 1,
    context: 'ledger',
    external: true,
    description: 'A hold was voided: the reserved funds are available again.',
    schema: z.object(holdRef),
    example: { holdId: 'wd_01J8Z3', accountId: 'wal_client-01J8Z3_EUR', clientId: 'client-01J8Z3' },
  }),
  defineEvent({
    detailType: 'ledger.hold.expired',
    version: 1,
    context: 'ledger',
    external: true,
    description: 'A hold reached its expiry unposted (the reconciliation job): the reserved funds are available again.',
    schema: z.object(holdRef),
    example: { holdId: 'rf_01J8Z3', accountId: 'wal_client-01J8Z3_EUR' },
  }),
  defineEvent({
    detailType: 'ledger.journal.posted',
    version: 1,
    context: 'ledger',
    external: true,
    description: 'A journal was posted: its postings (summing to zero per currency) changed the balances.',
    schema: z.object({
      journalId: id,
      type: z.enum(JOURNAL_TYPES),
      postedAt: instant,
      clientId: id.optional(),
      reference: z.string().optional(),
      postings: z
        .array(z.object({ accountId: id, amount: signedDecimal, amountMinor: minorUnits, currency: currencyCode }))
        .min(2),
    }),
    example: {
      journalId: 'jrn_01J8Z3',
      type: 'transfer',
      postedAt: '2025-03-01T10:00:00.000Z',
      clientId: 'client-01J8Z3',
      reference: 'tr-42',
      postings: [
        { accountId: 'wal_client-01J8Z3_EUR', amount: '-10.00', amountMinor: '-1000', currency: 'EUR' },
        { accountId: 'tra_client-01J8Z3_EUR', amount: '10.00', amountMinor: '1000', currency: 'EUR' },
      ],
    },
  }),
] as const;
