/**
 * A client's wallets: GET /v1/wallets, GET /v1/wallets/{walletId}/transactions and
 * GET /v1/wallets/{walletId}/statement?month=YYYY-MM.
 *
 * Invariants:
 * - a client has one wallet per currency the tenant enables, created on first read (audited,
 *   idempotent: wallet ids are deterministic), listed with zero balances included
 * - money is JSON `{ amount: "123.45", currency: "USD" }`: a decimal string in major units with exactly
 *   the currency's exponent of decimals (README "Money")
 * - a client reaches only its own wallets: another client's wallet id, an unknown id or a house
 *   account id is the same 404 wallet_not_found (another client's is also recorded as a cross_client_probe
 *   security event); finance, compliance and admins may read any wallet
 * - each route calls one use case (functions/app/ledger: list-wallets, list-wallet-transactions,
 *   get-wallet-statement) and presents its result here
 * - transactions are the wallet's postings newest first, each with its running balance, status
 *   'posted', a description in the caller's locale and, on FX entries, the applied rate
 * - the statement covers one UTC calendar month [start, end): the opening balance is the balance as of
 *   just before the month, the closing balance as of its last millisecond, the rows oldest first;
 *   it is served as text/csv (attachment)
 */
import * as z from 'zod';
import { getWalletStatement, type WalletStatement } from '#app/ledger/get-wallet-statement.ts';
import { listWalletTransactions } from '#app/ledger/list-wallet-transactions.ts';
import { listWallets, type WalletSummary } from '#app/ledger/list-wallets.ts';
import { WalletId } from '#app/ledger/schemas.ts';
import { type LedgerEntry, WALLET_STAFF_ROLES } from '#app/ledger/shared.ts';
import { describeEntry, rateText } from '#domain/ledger/descriptions.ts';
import { buildStatementCsv, statementFileName, statementLabels } from '#domain/ledger/statement.ts';
import { formatAmount, formatMoney } from '#domain/money/index.ts';
import type { Role } from '#functions/manifest.ts';
import { defineRoute, httpHandler } from '#middleware/http.ts';
import { cursorParam, limitParam } from './shared/pages.ts';

const READERS: readonly Role[] = ['client', ...WALLET_STAFF_ROLES];

export const WalletParams = z.strictObject({ walletId: WalletId });

const isoInstant = z.iso.datetime({ offset: true }).max(40);

export const TransactionsQuery = z
  .strictObject({
    from: isoInstant.optional(),
    to: isoInstant.optional(),
    cursor: cursorParam.optional(),
    limit: limitParam(100, 50),
  })
  .refine((q) => !q.from || !q.to || Date.parse(q.from) <= Date.parse(q.to), {
    message: 'from must not be after to',
    path: ['from'],
    params: { code: 'invalid_range' },
  });

export const StatementQuery = z.strictObject({
  month: z
    .string()
    .regex(/^\d{4}-(0[1-9]|1[0-2])$/)
    .meta({ description: 'Calendar month (UTC), YYYY-MM', example: '2025-03' }),
});

const MoneyOut = z.object({ amount: z.string(), currency: z.string() });

const WalletView = z.object({
  walletId: z.string(),
  currency: z.string(),
  balance: MoneyOut,
  available: MoneyOut,
  held: MoneyOut,
  frozen: z.boolean(),
});

const FxView = z.object({
  rate: z.string().meta({ description: 'Units of `to` per one unit of `from`, as applied (markup included)' }),
  from: z.string(),
  to: z.string(),
  text: z.string().meta({ example: '1 USD = 0.9194 EUR' }),
  source: z.string().optional(),
  rateAt: z.string().optional(),
});

const TransactionView = z.object({
  entryId: z.string(),
  journalId: z.string(),
  type: z.string(),
  amount: MoneyOut.meta({ description: 'Signed: negative for money out of the wallet' }),
  balance: MoneyOut.meta({ description: 'Running balance after this entry' }),
  status: z.literal('posted'),
  reference: z.string().optional(),
  description: z.string(),
  fx: FxView.optional(),
  postedAt: z.string(),
});

interface FxMeta {
  rate?: unknown;
  rateSource?: unknown;
  rateAt?: unknown;
  from?: { currency?: unknown };
  to?: { currency?: unknown };
}

/** The FX facts of a posting (from its journal's metadata), when it is an FX entry. */
export function fxOf(
  p: Pick<LedgerEntry, 'metadata'>,
): { rate: string; from: string; to: string; source?: string; rateAt?: string } | undefined {
  const fx = p.metadata.fx as FxMeta | undefined;
  if (!fx || typeof fx.rate !== 'string' || typeof fx.from?.currency !== 'string' || typeof fx.to?.currency !== 'string') {
    return undefined;
  }
  return {
    rate: fx.rate,
    from: fx.from.currency,
    to: fx.to.currency,
    ...(typeof fx.rateSource === 'string' ? { source: fx.rateSource } : {}),
    ...(typeof fx.rateAt === 'string' ? { rateAt: fx.rateAt } : {}),
  };
}

/** The other side's currency of a transfer, from the journal metadata (set by post-transfer). */
const counterCurrencyOf = (p: LedgerEntry): string | undefined => {
  const c = p.metadata.counterCurrency;
  return typeof c === 'string' ? c : undefined;
};

export function describePosting(p: LedgerEntry, locale: string): string {
  const fx = fxOf(p);
  return describeEntry(
    {
      journalType: p.type,
      direction: p.amount >= 0n ? 'credit' : 'debit',
      currency: p.currency,
      counterCurrency: fx ? (p.amount >= 0n ? fx.from : fx.to) : counterCurrencyOf(p),
      fx,
    },
    locale,
  );
}

export function transactionView(p: LedgerEntry, locale: string) {
  const fx = fxOf(p);
  return {
    entryId: `${p.journalId}:${p.accountId}`,
    journalId: p.journalId,
    type: p.type,
    amount: { amount: formatAmount(p.amount, p.currency), currency: p.currency },
    balance: { amount: formatAmount(p.balanceAfter, p.currency), currency: p.currency },
    status: 'posted' as const,
    ...(p.reference ? { reference: p.reference } : {}),
    description: describePosting(p, locale),
    ...(fx ? { fx: { ...fx, text: rateText(fx, locale) } } : {}),
    postedAt: p.postedAt,
  };
}

export const walletView = (w: WalletSummary) => ({
  walletId: w.walletId,
  currency: w.currency,
  balance: formatMoney({ amount: w.balance.ledger, currency: w.currency }),
  available: formatMoney({ amount: w.balance.available, currency: w.currency }),
  held: formatMoney({ amount: w.balance.held, currency: w.currency }),
  frozen: w.frozen,
});

/** The statement as CSV: opening balance, entries oldest first, closing balance (domain/ledger/statement.ts). */
export function statementCsv(s: WalletStatement, locale: string): string {
  const rows = s.entries.map((p) => ({
    postedAt: p.postedAt,
    journalId: p.journalId,
    type: p.type,
    description: describePosting(p, locale),
    reference: p.reference,
    amount: formatAmount(p.amount, p.currency),
    balance: formatAmount(p.balanceAfter, p.currency),
    fxRate: fxOf(p)?.rate,
  }));
  return buildStatementCsv({
    walletId: s.wallet.accountId,
    currency: s.wallet.currency,
    month: s.month,
    periodStart: s.periodStart,
    periodEnd: s.periodEnd,
    opening: formatAmount(s.opening, s.wallet.currency),
    closing: formatAmount(s.closing, s.wallet.currency),
    rows,
    labels: statementLabels(locale),
  });
}

export const routes = [
  defineRoute({
    method: 'GET',
    path: '/v1/wallets',
    operationId: 'listWallets',
    summary: "The caller's wallets (one per enabled currency) with balance, available and held",
    tags: ['wallets'],
    auth: ['client'],
    responses: { 200: { description: 'Wallets', schema: z.object({ items: z.array(WalletView) }) } },
    handler: async ({ caller, correlationId, locale }) => {
      const wallets = await listWallets({}, caller!, { requestId: correlationId, locale });
      return { status: 200, body: { items: wallets.map(walletView) } };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/wallets/{walletId}/transactions',
    operationId: 'listWalletTransactions',
    summary: "A wallet's entries, newest first, with running balance and a localised description",
    tags: ['wallets'],
    auth: READERS,
    params: WalletParams,
    query: TransactionsQuery,
    responses: {
      200: {
        description: 'A page of entries',
        schema: z.object({ items: z.array(TransactionView), nextCursor: z.string().optional(), hasMore: z.boolean() }),
      },
      404: { description: 'wallet_not_found' },
    },
    handler: async ({ caller, params, query, locale, correlationId }) => {
      const page = await listWalletTransactions(
        {
          walletId: params.walletId,
          ...(query.from ? { from: new Date(query.from) } : {}),
          ...(query.to ? { to: new Date(query.to) } : {}),
          cursor: query.cursor,
          limit: query.limit,
        },
        caller!,
        { requestId: correlationId, locale },
      );
      return { status: 200, body: { ...page, items: page.items.map((p) => transactionView(p, locale)) } };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/wallets/{walletId}/statement',
    operationId: 'getWalletStatement',
    summary: 'A monthly statement as CSV (opening balance, entries oldest first, closing balance)',
    tags: ['wallets'],
    auth: READERS,
    params: WalletParams,
    query: StatementQuery,
    responses: { 200: { description: 'text/csv attachment' }, 404: { description: 'wallet_not_found' } },
    handler: async ({ caller, params, query, locale, correlationId }) => {
      const statement = await getWalletStatement({ walletId: params.walletId, month: query.month }, caller!, {
        requestId: correlationId,
        locale,
      });
      return {
        status: 200,
        body: statementCsv(statement, locale),
        headers: {
          'content-type': 'text/csv; charset=utf-8',
          'content-disposition': `attachment; filename="${statementFileName(statement.wallet.accountId, query.month)}"`,
        },
      };
    },
  }),
];

export const handler = httpHandler(...routes);
