/**
 * A client moves money between two of its own wallets (POST /v1/transfers).
 *
 * Invariants:
 * - both wallets belong to the caller; any other wallet id (another client's, unknown, a house
 *   account) is 404 wallet_not_found, indistinguishable from a missing one; no staff role reaches
 *   client money here (accessibleWallet without staff roles)
 * - the amount is in the source wallet's currency (422 currency_mismatch) and parsed by
 *   domain/money (invalid_amount 400; amount_too_precise, amount_not_positive, unknown_currency,
 *   currency_not_enabled 422); the same wallet twice is 422 same_wallet
 * - same currency: one 2-posting journal. Different currencies: one 4-posting FX journal through
 *   the FX position accounts at the tenant's configured rate with its markup (fxQuote), the rate,
 *   its source and time in the journal metadata (422 fx_rate_unavailable without a rate)
 * - exactly once: the journal's own transaction writes the ledger idempotency item (scope
 *   transfer:<sub>, the Idempotency-Key, a hash of the request), so a retry never posts twice and gets
 *   the original journal; another request with the same key is 422 idempotency_key_reused. Frozen
 *   wallets (422 account_frozen) and insufficient available funds (422 insufficient_funds) write nothing
 */
import type { CommandContext } from '#app/context.ts';
import { DomainError } from '#domain/errors.ts';
import type { Caller } from '#domain/identity/roles.ts';
import { fxTransferJournal, type PostedJournal, transferJournal } from '#domain/ledger/index.ts';
import { parseMoney } from '#domain/money/index.ts';
import { fxQuote } from '#domain/tenant/config.ts';
import { tenantConfig } from '#shared/tenant.ts';
import { actorFrom } from '#store/audit.ts';
import { accountFacts, houseAccount, houseAccountId } from '#store/ledger/accounts.ts';
import { newJournalId, postJournal } from '#store/ledger/journals.ts';
import type { MoneyInput } from './schemas.ts';
import { idempotencyKeyOf, ledgerScope, requestHash, walletAccess } from './shared.ts';

export interface TransferInput {
  fromWalletId: string;
  toWalletId: string;
  amount: MoneyInput;
  reference?: string | undefined;
}

export interface PostedTransfer {
  journal: PostedJournal;
  /** The caller's two wallets (the journal's other postings are house accounts). */
  walletIds: string[];
  /** true when the Idempotency-Key was seen before: the original journal, nothing posted now. */
  replayed: boolean;
}

export async function postTransfer(input: TransferInput, caller: Caller, ctx: CommandContext): Promise<PostedTransfer> {
  const key = idempotencyKeyOf(ctx);
  const cfg = tenantConfig();
  const amount = parseMoney(input.amount, cfg.currencies);
  if (input.fromWalletId === input.toWalletId) {
    throw new DomainError('same_wallet', 'unprocessable', 'The source and destination wallets are the same', [
      { field: 'toWalletId', code: 'same_wallet', message: 'Must differ from fromWalletId' },
    ]);
  }
  // The immutable facts (kind, owner, currency, shards; cached per container once read) of every account
  // the transfer may touch: both wallets and, for an FX transfer, the FX position accounts of the amount's
  // currency and of the currency the destination id names (a wallet id is wal_<client>_<currency>; a guess
  // only: what was read decides, and a wrong guess costs a second read). Flags (frozen) are not facts: the
  // journal reads them with the balances it posts against.
  const hinted = /_([A-Z0-9]{3,10})$/.exec(input.toWalletId)?.[1];
  const fxIds =
    hinted && hinted !== amount.currency
      ? [houseAccountId('fx_position', amount.currency), houseAccountId('fx_position', hinted)]
      : [];
  const read = await accountFacts([input.fromWalletId, input.toWalletId, ...fxIds]);
  const from = walletAccess(caller, read.get(input.fromWalletId));
  const to = walletAccess(caller, read.get(input.toWalletId));
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
      read.get(houseAccountId('fx_position', from.currency)) ?? houseAccount('fx_position', from.currency),
      read.get(houseAccountId('fx_position', to.currency)) ?? houseAccount('fx_position', to.currency),
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
  const { journal, replayed } = await postJournal({
    draft,
    idempotency: { scope: ledgerScope('transfer', caller.sub), key, requestHash: requestHash(input) },
    actor: actorFrom(caller, ['client']),
    requestId: ctx.requestId,
    clientId: caller.sub,
  });
  return { journal, walletIds: [from.accountId, to.accountId], replayed };
}
