/**
 * POST /v1/transfers: moves money between two of the caller's own wallets (Idempotency-Key required).
 *
 * Invariants:
 * - both wallets belong to the caller; any other wallet id (another client's, unknown, a house
 *   account) is 404 wallet_not_found, indistinguishable from a missing one; staff cannot move client
 *   money through this route (client role only)
 * - the amount is in the source wallet's currency (422 currency_mismatch) and parsed by
 *   domain/money (invalid_amount 400; amount_too_precise, amount_not_positive, unknown_currency,
 *   currency_not_enabled 422); the same wallet twice is 422 same_wallet
 * - same currency: one 2-posting journal. Different currencies: one 4-posting FX journal through
 *   the FX position accounts at the tenant's configured rate with its markup (fxQuote), the rate,
 *   its source and time in the journal metadata, in the response and on both wallet entries
 * - the route calls the post-transfer use case (functions/app/ledger/post-transfer.ts) and presents its journal
 * - exactly once, with one idempotency record (route mode 'command', ADR 0014): the journal's own
 *   transaction writes the ledger idempotency item (scope transfer:<sub>, the Idempotency-Key, a
 *   hash of the request), so a retry, or a twin sent while the first is still running, never posts
 *   twice: it gets 201 with the original journal (same journalId) and `idempotent-replayed: true`.
 *   Another body with the same key is 422 idempotency_key_reused. Frozen wallets (422
 *   account_frozen) and insufficient available funds (422 insufficient_funds) write nothing
 */
import * as z from 'zod';
import { postTransfer } from '#app/ledger/post-transfer.ts';
import { MoneyJson, WalletId } from '#app/ledger/schemas.ts';
import { rateText } from '#domain/ledger/descriptions.ts';
import type { PostedJournal } from '#domain/ledger/index.ts';
import { formatAmount } from '#domain/money/index.ts';
import type { Role } from '#functions/manifest.ts';
import { defineRoute, httpHandler, REPLAYED_HEADER } from '#middleware/http.ts';

const ALLOWED: readonly Role[] = ['client'];

export const TransferBody = z.strictObject({
  fromWalletId: WalletId,
  toWalletId: WalletId,
  amount: MoneyJson,
  reference: z.string().trim().min(1).max(128).optional(),
});

const MoneyOut = z.object({ amount: z.string(), currency: z.string() });
export const TransferResult = z.object({
  journalId: z.string(),
  type: z.enum(['transfer', 'fx_transfer']),
  status: z.literal('posted'),
  postedAt: z.string(),
  reference: z.string().optional(),
  postings: z.array(z.object({ walletId: z.string(), amount: MoneyOut })),
  fx: z
    .object({
      rate: z.string(),
      midRate: z.string(),
      markupBps: z.number(),
      from: z.string(),
      to: z.string(),
      source: z.string(),
      rateAt: z.string(),
      text: z.string(),
    })
    .optional(),
});

export function transferView(journal: PostedJournal, walletIds: ReadonlySet<string>, locale: string) {
  const fx = journal.metadata.fx as
    | {
        rate: string;
        midRate?: string;
        markupBps?: number;
        rateSource: string;
        rateAt: string;
        from: { currency: string };
        to: { currency: string };
      }
    | undefined;
  return {
    journalId: journal.journalId,
    type: journal.type as 'transfer' | 'fx_transfer',
    status: 'posted' as const,
    postedAt: journal.postedAt,
    ...(journal.reference ? { reference: journal.reference } : {}),
    postings: journal.postings
      .filter((p) => walletIds.has(p.accountId))
      .map((p) => ({ walletId: p.accountId, amount: { amount: formatAmount(p.amount, p.currency), currency: p.currency } })),
    ...(fx
      ? {
          fx: {
            rate: fx.rate,
            midRate: fx.midRate ?? fx.rate,
            markupBps: fx.markupBps ?? 0,
            from: fx.from.currency,
            to: fx.to.currency,
            source: fx.rateSource,
            rateAt: fx.rateAt,
            text: rateText({ from: fx.from.currency, to: fx.to.currency, rate: fx.rate }, locale),
          },
        }
      : {}),
  };
}

export const routes = [
  defineRoute({
    method: 'POST',
    path: '/v1/transfers',
    operationId: 'createTransfer',
    summary: "Move money between two of the caller's wallets (FX at the tenant rate when currencies differ)",
    tags: ['wallets'],
    auth: ALLOWED,
    body: TransferBody,
    idempotency: 'command',
    responses: {
      201: { description: 'Posted', schema: TransferResult },
      404: { description: 'wallet_not_found' },
      409: {
        description:
          'account_busy: the wallet is processing too many transfers at once and this one was withdrawn unposted; retry with the same Idempotency-Key',
      },
      422: {
        description:
          'same_wallet, currency_mismatch, account_frozen, insufficient_funds, amount_too_precise, amount_not_positive, unknown_currency, currency_not_enabled, idempotency_key_reused',
      },
    },
    handler: async ({ body, caller, idempotencyKey, correlationId, locale }) => {
      const { journal, walletIds, replayed } = await postTransfer(body, caller!, {
        idempotencyKey,
        requestId: correlationId,
        locale,
      });
      return {
        status: 201,
        body: transferView(journal, new Set(walletIds), locale),
        ...(replayed ? { headers: { [REPLAYED_HEADER]: 'true' } } : {}),
      };
    },
  }),
];

export const handler = httpHandler(...routes);
