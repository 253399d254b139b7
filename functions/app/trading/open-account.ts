/**
 * Open a trading account (POST /v1/trading-accounts; clients): a live or demo account of an offered type, in one
 * of its currencies, at a leverage within the client's cap, created on the type's platform. ADR 0016.
 *
 * Invariants:
 * - everything is checked before anything is written: the type (404 account_type_not_found when unknown or not
 *   offered to the client's jurisdiction and client type), the currency (422 currency_not_offered), the leverage
 *   (422 leverage_not_offered / leverage_above_cap naming the cap), KYC for live accounts (403 kyc_required),
 *   the per-client limit (422 account_limit_reached)
 * - exactly once per Idempotency-Key: the account id is derived from (client, key); the account is put
 *   'opening' (put-if-absent) before the platform is asked, and a retry of the same request finds it: an active
 *   or failed account is answered as it is (without passwords), an opening one resumes. Another request under the
 *   same key is 422 idempotency_key_reused
 * - one request at a time asks the platform to create an account: the request that put it 'opening' holds a lease
 *   (OPENING_LEASE_MS); a twin or a retry while it holds it is 409 account_opening_in_progress, and after it
 *   expired a retry claims it and asks the platform again
 * - the platform's answer is recorded in ONE transaction: the account 'active' with its login, the login item
 *   (put-if-absent: one login, one account), the audit entry and trading.account.opened; a refusal marks the
 *   account 'failed' with the platform's code, audited, and answers that code
 * - a live account gets its ledger account (kind trading_account, `tacc_<id>`) before it is activated; a demo
 *   account gets the type's starting balance on the platform, once (external id demo_<id>), and no ledger account
 * - the passwords are generated here, sent to the platform and returned ONCE, in the answer of the request that
 *   created the account; they are never stored or logged
 *
 * Known limit (ADR 0016): when the platform times out on create, the account stays 'opening' and the client's
 * retry asks the platform again; if the first request had in fact been applied, the platform has an extra,
 * empty account carrying our account id as its client reference.
 */

import { DomainError, isDomainError } from '#domain/errors.ts';
import type { Caller, Role } from '#domain/identity/roles.ts';
import { requirementsFor } from '#domain/onboarding/requirements.ts';
import { type AccountKind, accountTypeFor, checkLeverage, groupFor, typeAmount } from '#domain/trading/account-types.ts';
import { demoFundingIdOf, ledgerAccountIdOf, tradingAccountIdFor } from '#domain/trading/accounts.ts';
import { isTradingError, TradingError } from '#domain/trading/errors.ts';
import { logger } from '#shared/powertools.ts';
import { tenantConfig } from '#shared/tenant.ts';
import { actorFrom, commit } from '#store/audit.ts';
import { getClientProfile } from '#store/clients.ts';
import { openAccount } from '#store/ledger/index.ts';
import {
  accountSnapshot,
  allClientTradingAccounts,
  claimOpening,
  getTradingAccount,
  loginEntity,
  loginTaken,
  TRADING_ACCOUNT_ENTITY,
  type TradingAccountItem,
  tradingAccountEntity,
} from '#store/trading.ts';
import type { CommandContext } from '../context.ts';
import { idempotencyKeyReused, newPlatformPassword, platformOf, requestHashOf, requireKey } from './shared.ts';

const OPENERS: readonly Role[] = ['client'];
/** How long the request that put an account 'opening' may talk to the platform before a retry may resume it. */
export const OPENING_LEASE_MS = 60_000;

export interface OpenAccountInput {
  typeId: string;
  kind: AccountKind;
  currency: string;
  leverage: number;
}

export interface OpenedAccount {
  account: TradingAccountItem;
  /** Only in the answer of the request that created the account. */
  passwords?: { main: string; investor: string };
  replayed: boolean;
}

export async function openTradingAccount(input: OpenAccountInput, caller: Caller, ctx: CommandContext): Promise<OpenedAccount> {
  const key = requireKey(ctx.idempotencyKey, 'Opening an account');
  const cfg = tenantConfig();
  const actor = actorFrom(caller, OPENERS);
  const profile = await getClientProfile(caller.sub);
  if (!profile) throw new DomainError('profile_not_found', 'not_found', 'No profile exists for this user');
  const accountId = tradingAccountIdFor(caller.sub, key);
  const requestHash = requestHashOf(input);

  const prior = await getTradingAccount(accountId, { consistent: true });
  if (prior) {
    if (prior.requestHash !== requestHash) throw idempotencyKeyReused();
    if (prior.status !== 'opening') return { account: prior, replayed: true };
    // resume an opening the earlier request left (it timed out or died), unless that request is still at it
    const now = new Date();
    if (!(await claimOpening(accountId, now, new Date(now.getTime() + OPENING_LEASE_MS)))) {
      throw new DomainError(
        'account_opening_in_progress',
        'conflict',
        'This account is being opened by an earlier request; retry in a minute with the same Idempotency-Key',
      );
    }
    return createOnPlatform((await getTradingAccount(accountId, { consistent: true })) ?? prior, profile, {
      actor,
      requestId: ctx.requestId,
    });
  }

  const req = requirementsFor(cfg, { country: profile.countryOfResidence, clientType: profile.clientType });
  const type = accountTypeFor(
    cfg.trading,
    { jurisdiction: req.jurisdiction, clientType: profile.clientType },
    input.typeId,
    input.kind,
  );
  if (!type.currencies.includes(input.currency)) {
    throw new DomainError(
      'currency_not_offered',
      'unprocessable',
      `This account type is offered in ${type.currencies.join(', ')}`,
      [{ field: 'currency', code: 'currency_not_offered', message: 'Not a currency of this account type' }],
      { currencies: type.currencies },
    );
  }
  const leverage = checkLeverage(type, input.leverage, req.leverageCaps);
  if (input.kind === 'live' && profile.kycStatus !== 'approved') {
    throw new DomainError('kyc_required', 'forbidden', 'Your identity must be verified before you can open a live account', [], {
      kycStatus: profile.kycStatus,
    });
  }
  const mine = await allClientTradingAccounts(caller.sub);
  const open = mine.filter((a) => a.kind === input.kind && a.status !== 'failed').length;
  const limit = cfg.trading.maxAccountsPerClient[input.kind];
  if (open >= limit) {
    throw new DomainError('account_limit_reached', 'unprocessable', `At most ${limit} ${input.kind} accounts per client`, [], {
      limit,
    });
  }
  const platform = await platformOf(type);

  const at = (ctx.now ?? new Date()).toISOString();
  const account = tradingAccountEntity.item(
    {
      accountId,
      clientId: caller.sub,
      kind: input.kind,
      platform: type.platform,
      server: platform.server,
      typeId: type.id,
      group: groupFor(type, input.kind, input.currency),
      currency: input.currency,
      leverage,
      status: 'opening',
      access: 'full',
      leaseUntil: new Date(Date.now() + OPENING_LEASE_MS).toISOString(),
      ...(input.kind === 'live' ? { ledgerAccountId: ledgerAccountIdOf(accountId) } : {}),
      idempotencyKey: key,
      requestHash,
    },
    at,
  );
  try {
    await commit({
      writes: [tradingAccountEntity.putNew(account, new DomainError('trading_account_exists', 'conflict', 'Exists'))],
      audit: {
        actor,
        action: 'trading.account.requested',
        entity: { type: TRADING_ACCOUNT_ENTITY, id: accountId },
        newEntity: true,
        clientId: caller.sub,
        before: null,
        after: accountSnapshot(account),
        requestId: ctx.requestId,
      },
    });
  } catch (err) {
    // a twin of this request won the put: answer as its retry would
    if (!(isDomainError(err) && err.code === 'trading_account_exists')) throw err;
    return openTradingAccount(input, caller, ctx);
  }
  return createOnPlatform(account, profile, { actor, requestId: ctx.requestId });
}

type Profile = NonNullable<Awaited<ReturnType<typeof getClientProfile>>>;

async function createOnPlatform(
  account: TradingAccountItem,
  profile: Profile,
  ctx: { actor: ReturnType<typeof actorFrom>; requestId: string },
): Promise<OpenedAccount> {
  const platform = await platformOf(account);
  const passwords = { main: newPlatformPassword(), investor: newPlatformPassword() };
  let login: number;
  try {
    ({ login } = await platform.createAccount({
      group: account.group,
      currency: account.currency,
      leverage: account.leverage,
      name: `${profile.firstName} ${profile.lastName}`.trim() || account.clientId,
      email: profile.email,
      country: profile.countryOfResidence,
      clientRef: account.accountId,
      passwords,
    }));
  } catch (err) {
    if (isTradingError(err) && !err.retryable) {
      await markFailed(account, err.code, ctx);
      throw err;
    }
    throw err;
  }
  if (account.ledgerAccountId) {
    await openAccount(
      {
        accountId: account.ledgerAccountId,
        kind: 'trading_account',
        currency: account.currency,
        ownerId: account.clientId,
        noNegative: false,
      },
      ctx,
    );
  }
  const at = new Date().toISOString();
  const { leaseUntil: _done, ...opened } = account;
  const active = { ...opened, status: 'active' as const, login } as TradingAccountItem;
  const next = tradingAccountEntity.replaced(account, active, at);
  await commit({
    writes: [
      tradingAccountEntity.replace(account, active, at),
      loginEntity.putNew(
        loginEntity.item(
          {
            platform: account.platform,
            server: account.server,
            login,
            accountId: account.accountId,
            clientId: account.clientId,
            currency: account.currency,
          },
          at,
        ),
        loginTaken(),
      ),
    ],
    audit: {
      actor: ctx.actor,
      action: 'trading.account.opened',
      entity: { type: TRADING_ACCOUNT_ENTITY, id: account.accountId },
      clientId: account.clientId,
      before: accountSnapshot(account),
      after: accountSnapshot(next),
      requestId: ctx.requestId,
    },
    outbox: [
      {
        detailType: 'trading.account.opened',
        detail: {
          accountId: account.accountId,
          clientId: account.clientId,
          kind: account.kind,
          platform: account.platform,
          server: account.server,
          typeId: account.typeId,
          group: account.group,
          currency: account.currency,
          leverage: account.leverage,
          login,
        },
      },
    ],
  });
  if (account.kind === 'demo') await fundDemo(next, platform);
  return { account: next, passwords, replayed: false };
}

/** The demo starting balance, once (a failure is logged: a demo balance is not money, and a retry applies it once). */
async function fundDemo(account: TradingAccountItem, platform: Awaited<ReturnType<typeof platformOf>>): Promise<void> {
  const type = tenantConfig().trading.accountTypes.find((t) => t.id === account.typeId);
  const amount = type ? typeAmount(type, 'demoStartingBalance', account.currency) : undefined;
  if (!amount || !account.login) return;
  try {
    await platform.changeBalance({
      login: account.login,
      amount,
      type: 'balance',
      comment: 'Demo funds',
      externalId: demoFundingIdOf(account.accountId),
    });
  } catch (err) {
    logger.warn('demo account: starting balance not applied', {
      accountId: account.accountId,
      error: err instanceof TradingError ? err.code : (err as Error).name,
    });
  }
}

async function markFailed(
  account: TradingAccountItem,
  reason: string,
  ctx: { actor: ReturnType<typeof actorFrom>; requestId: string },
): Promise<void> {
  const at = new Date().toISOString();
  const { leaseUntil: _done, ...rest } = account;
  const failed = { ...rest, status: 'failed' as const, failureReason: reason } as TradingAccountItem;
  await commit({
    writes: [tradingAccountEntity.replace(account, failed, at)],
    audit: {
      actor: ctx.actor,
      action: 'trading.account.failed',
      entity: { type: TRADING_ACCOUNT_ENTITY, id: account.accountId },
      clientId: account.clientId,
      before: accountSnapshot(account),
      after: accountSnapshot(tradingAccountEntity.replaced(account, failed, at)),
      requestId: ctx.requestId,
    },
  });
}
