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
 * - exactly once: the edge's idempotency record replays a retried request; independently, the
 *   journal's own transaction writes the ledger idempotency item (scope transfer:<sub>, the
 *   Idempotency-Key, a hash of the request), so a retry can never post twice even if the edge
 *   record is gone: it gets the original journal (same journalId). Another body with the same key
 *   is 422 idempotency_key_reused. Frozen wallets (422 account_frozen) and insufficient available
 *   funds (422 insufficient_funds) write nothing
 */
import { createHash } from 'node:crypto';
import * as z from 'zod';
import { canonicalJson } from '#domain/audit/chain.ts';
import { DomainError } from '#domain/errors.ts';
import { rateText } from '#domain/ledger/descriptions.ts';
import { fxTransferJournal, type PostedJournal, transferJournal } from '#domain/ledger/index.ts';
import { formatAmount, parseMoney } from '#domain/money/index.ts';
import { fxQuote } from '#domain/tenant/config.ts';
import type { Role } from '#functions/manifest.ts';
import { type Caller, defineRoute, httpHandler } from '#middleware/http.ts';
import { tenantConfig } from '#shared/tenant.ts';
import { actorFrom } from '#store/audit.ts';
import { houseAccount } from '#store/ledger/accounts.ts';
import { newJournalId, postJournal } from '#store/ledger/journals.ts';
import { accessibleWallet, MoneyJson, WalletId } from './wallets.ts';

const ALLOWED: readonly Role[] = ['client'];

export const TransferBody = z.strictObject({
  fromWalletId: WalletId,
  toWalletId: WalletId,
  amount: MoneyJson,
  reference: z.string().trim().min(1).max(128).optional(),
});
export type TransferInput = z.infer<typeof TransferBody>;

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

/** sha256 of the request's canonical JSON: what the ledger's idempotency item remembers. */
export const requestHash = (body: unknown): string => createHash('sha256').update(canonicalJson(body), 'utf8').digest('hex');

/**
 * The ledger idempotency scope for a caller's command: `transfer:<sub>` while that fits the store's
 * 64-character scope, else the command and a hash of the sub (never a truncation: two callers must
 * never share a scope and replay each other's journals).
 */
export const ledgerScope = (command: string, sub: string) => {
  const plain = `${command}:${sub}`;
  return plain.length <= 64
    ? plain
    : `${command}:${createHash('sha256')
        .update(sub, 'utf8')
        .digest('hex')
        .slice(0, 63 - command.length)}`;
};

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

export async function transfer(input: TransferInput, caller: Caller, ctx: { key: string; requestId: string; locale: string }) {
  const cfg = tenantConfig();
  const amount = parseMoney(input.amount, cfg.currencies);
  if (input.fromWalletId === input.toWalletId) {
    throw new DomainError('same_wallet', 'unprocessable', 'The source and destination wallets are the same', [
      { field: 'toWalletId', code: 'same_wallet', message: 'Must differ from fromWalletId' },
    ]);
  }
  const [from, to] = await Promise.all([
    accessibleWallet(caller, input.fromWalletId),
    accessibleWallet(caller, input.toWalletId),
  ]);
  if (amount.currency !== from.currency) {
    throw new DomainError(
      'currency_mismatch',
      'unprocessable',
      `The amount must be in the source wallet's currency (${from.currency})`,
      [{ field: 'amount.currency', code: 'currency_mismatch', message: `Expected ${from.currency}` }],
    );
  }
  const journalId = newJournalId();
  const reference = input.reference;
  const metadata = { kind: 'client_transfer', counterCurrency: to.currency, requestedBy: caller.sub } as Record<string, unknown>;
  let draft: ReturnType<typeof transferJournal>;
  if (from.currency === to.currency) {
    draft = transferJournal({
      journalId,
      from,
      to,
      amount,
      ...(reference ? { reference } : {}),
      metadata: { ...metadata, counterCurrency: from.currency },
    });
  } else {
    const quote = fxQuote(cfg, from.currency, to.currency, { markup: true });
    if (!quote) {
      throw new DomainError('fx_rate_unavailable', 'unprocessable', `No ${from.currency}/${to.currency} rate is configured`);
    }
    const [fxFrom, fxTo] = await Promise.all([
      houseAccount('fx_position', from.currency),
      houseAccount('fx_position', to.currency),
    ]);
    draft = fxTransferJournal({
      journalId,
      from,
      to,
      fxFrom,
      fxTo,
      amount,
      rate: quote.rate,
      rateSource: `tenant:${quote.source}`,
      rateAt: new Date().toISOString(),
      ...(reference ? { reference } : {}),
      metadata,
    });
    const fx = draft.metadata.fx as Record<string, unknown>;
    draft.metadata.fx = { ...fx, midRate: quote.midRate, markupBps: quote.markupBps, via: quote.via };
  }
  const { journal } = await postJournal({
    draft,
    idempotency: { scope: ledgerScope('transfer', caller.sub), key: ctx.key, requestHash: requestHash(input) },
    actor: actorFrom(caller, ALLOWED),
    requestId: ctx.requestId,
    clientId: caller.sub,
  });
  return transferView(journal, new Set([from.accountId, to.accountId]), ctx.locale);
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
    idempotency: 'required',
    responses: {
      201: { description: 'Posted', schema: TransferResult },
      404: { description: 'wallet_not_found' },
      422: {
        description:
          'same_wallet, currency_mismatch, account_frozen, insufficient_funds, amount_too_precise, amount_not_positive, unknown_currency, currency_not_enabled, idempotency_key_reused',
      },
    },
    handler: async ({ body, caller, idempotencyKey, correlationId, locale }) => ({
      status: 201,
      body: await transfer(body, caller!, { key: idempotencyKey!, requestId: correlationId, locale }),
    }),
  }),
];

export const handler = httpHandler(...routes);
