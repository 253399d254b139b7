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
 * - transactions are the wallet's postings newest first, each with its running balance, status
 *   'posted', a description in the caller's locale and, on FX entries, the applied rate
 * - the statement covers one UTC calendar month [start, end): the opening balance is the balance as of
 *   just before the month, the closing balance as of its last millisecond, the rows oldest first;
 *   it is served as text/csv (attachment)
 */
import * as z from 'zod';
import { DomainError } from '#domain/errors.ts';
import { describeEntry, rateText } from '#domain/ledger/descriptions.ts';
import { type Account, ID_PATTERN, ZERO_BALANCE } from '#domain/ledger/index.ts';
import { buildStatementCsv, monthBounds, statementFileName, statementLabels } from '#domain/ledger/statement.ts';
import { formatAmount, formatMoney } from '#domain/money/index.ts';
import type { Role } from '#functions/manifest.ts';
import { type Caller, crossClientProbe, defineRoute, httpHandler } from '#middleware/http.ts';
import { tenantConfig } from '#shared/tenant.ts';
import { actorFrom } from '#store/audit.ts';
import { ensureWallet, getAccount, listWallets } from '#store/ledger/accounts.ts';
import { allPostings, balanceAsOf, listPostings, type PostingView } from '#store/ledger/postings.ts';
import { cursorParam, limitParam } from '#store/pagination.ts';

/** Staff roles that may read any client's wallet. */
export const WALLET_STAFF_ROLES: readonly Role[] = ['finance', 'compliance', 'admin'];
const READERS: readonly Role[] = ['client', ...WALLET_STAFF_ROLES];

/** Money as JSON. The format is checked by parseMoney (domain/money) so each fault gets its own code. */
export const MoneyJson = z
  .strictObject({
    amount: z.string().max(48).meta({ description: 'Decimal string in major units, e.g. "123.45"', example: '123.45' }),
    currency: z.string().max(12).meta({ description: 'Currency code, e.g. USD', example: 'USD' }),
  })
  .meta({ id: 'Money', description: 'An amount in major units as a decimal string, and its currency' });

export const WalletId = z.string().min(1).max(128).regex(ID_PATTERN);
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

export const walletNotFound = () => new DomainError('wallet_not_found', 'not_found', 'No wallet with this id');

/**
 * The wallet `walletId` if `caller` may use it: its owner always; staff with one of `staffRoles`
 * (none for money-moving commands). Anything else is 404 wallet_not_found, exactly like an unknown id.
 */
export async function accessibleWallet(caller: Caller, walletId: string, staffRoles: readonly Role[] = []): Promise<Account> {
  const account = await getAccount(walletId);
  if (account?.kind !== 'client_wallet') throw walletNotFound();
  if (account.ownerId === caller.sub) return account;
  if (caller.roles.some((r) => staffRoles.includes(r))) return account;
  throw crossClientProbe(walletNotFound(), caller, account.ownerId);
}

interface FxMeta {
  rate?: unknown;
  rateSource?: unknown;
  rateAt?: unknown;
  from?: { currency?: unknown };
  to?: { currency?: unknown };
}

/** The FX facts of a posting (from its journal's metadata), when it is an FX entry. */
export function fxOf(
  p: Pick<PostingView, 'metadata'>,
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

/** The other side's currency of a transfer, from the journal metadata (set by the transfers API). */
const counterCurrencyOf = (p: PostingView): string | undefined => {
  const c = p.metadata.counterCurrency;
  return typeof c === 'string' ? c : undefined;
};

export function describePosting(p: PostingView, locale: string): string {
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

export function transactionView(p: PostingView, locale: string) {
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

/** Every enabled currency's wallet for the caller, created on demand, with balances. */
export async function walletsOf(caller: Caller, requestId: string) {
  const cfg = tenantConfig();
  const existing = await listWallets(caller.sub);
  const byCurrency = new Map(existing.map((w) => [w.currency, w]));
  const out = [];
  for (const currency of cfg.currencies) {
    let w = byCurrency.get(currency);
    if (!w) {
      const account = await ensureWallet(caller.sub, currency, { actor: actorFrom(caller, ['client']), requestId });
      w = { ...account, balance: ZERO_BALANCE };
    }
    const b = w.balance;
    out.push({
      walletId: w.accountId,
      currency,
      balance: formatMoney({ amount: b.ledger, currency }),
      available: formatMoney({ amount: b.available, currency }),
      held: formatMoney({ amount: b.held, currency }),
      frozen: w.flags.frozen,
    });
  }
  return out;
}

const MS = 1;

export async function statementCsv(account: Account, month: string, locale: string): Promise<string> {
  const { start, end } = monthBounds(month);
  const startAt = new Date(start);
  const lastMs = new Date(Date.parse(end) - MS);
  const [opening, closing] = await Promise.all([
    balanceAsOf(account.accountId, new Date(startAt.getTime() - MS)),
    balanceAsOf(account.accountId, lastMs),
  ]);
  const rows = [];
  for await (const p of allPostings(account.accountId, startAt, lastMs)) {
    const fx = fxOf(p);
    rows.push({
      postedAt: p.postedAt,
      journalId: p.journalId,
      type: p.type,
      description: describePosting(p, locale),
      reference: p.reference,
      amount: formatAmount(p.amount, p.currency),
      balance: formatAmount(p.balanceAfter, p.currency),
      fxRate: fx?.rate,
    });
  }
  return buildStatementCsv({
    walletId: account.accountId,
    currency: account.currency,
    month,
    periodStart: start,
    periodEnd: end,
    opening: formatAmount(opening, account.currency),
    closing: formatAmount(closing, account.currency),
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
    handler: async ({ caller, correlationId }) => ({ status: 200, body: { items: await walletsOf(caller!, correlationId) } }),
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
    handler: async ({ caller, params, query, locale }) => {
      const wallet = await accessibleWallet(caller!, params.walletId, WALLET_STAFF_ROLES);
      const page = await listPostings(wallet.accountId, {
        ...(query.from ? { from: new Date(query.from) } : {}),
        ...(query.to ? { to: new Date(query.to) } : {}),
        cursor: query.cursor,
        limit: query.limit,
      });
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
    handler: async ({ caller, params, query, locale }) => {
      const wallet = await accessibleWallet(caller!, params.walletId, WALLET_STAFF_ROLES);
      const csv = await statementCsv(wallet, query.month, locale);
      return {
        status: 200,
        body: csv,
        headers: {
          'content-type': 'text/csv; charset=utf-8',
          'content-disposition': `attachment; filename="${statementFileName(wallet.accountId, query.month)}"`,
        },
      };
    },
  }),
];

export const handler = httpHandler(...routes);
