/**
 * Changing a trading account: the client's leverage (POST /v1/trading-accounts/{id}/leverage), new passwords
 * (POST .../password-resets), and staff restricting or disabling it (POST /v1/admin/trading-accounts/{id}/access).
 * ADR 0016.
 *
 * Invariants:
 * - leverage: one of the type's options within the client's cap now (its jurisdiction and client type as they
 *   are today: a client re-categorised as retail cannot keep 1:500); 422 leverage_not_offered / leverage_above_cap
 *   naming the cap. The platform is changed first, then the account, its audit entry and trading.account.changed
 *   in one transaction; a platform refusal changes nothing of ours
 * - passwords: new ones generated here, set on the platform and returned once; nothing is stored but an audit
 *   entry saying which passwords were reset (never their value)
 * - access: 'full', 'read_only' or 'disabled' with a reason (required), by compliance or admin only; applied on
 *   the platform, then recorded with its audit entry (actor, reason, before and after) and the event
 * - an account that is not active is 409 trading_account_not_active; another client's is 404
 */
import { DomainError } from '#domain/errors.ts';
import type { Caller, Role } from '#domain/identity/roles.ts';
import { requirementsFor } from '#domain/onboarding/requirements.ts';
import { checkLeverage } from '#domain/trading/account-types.ts';
import { type AccountAccess, accessSwitches } from '#domain/trading/accounts.ts';
import { tenantConfig } from '#shared/tenant.ts';
import { actorFrom, commit } from '#store/audit.ts';
import { getClientProfile } from '#store/clients.ts';
import { accountSnapshot, TRADING_ACCOUNT_ENTITY, type TradingAccountItem, tradingAccountEntity } from '#store/trading.ts';
import type { CommandContext } from '../context.ts';
import {
  activeLogin,
  forgetState,
  newPlatformPassword,
  ownAccount,
  platformOf,
  readableAccount,
  TRADING_STAFF_WRITERS,
  typeOf,
} from './shared.ts';

const CLIENT: readonly Role[] = ['client'];

async function record(
  before: TradingAccountItem,
  patch: Partial<TradingAccountItem>,
  action: string,
  actor: ReturnType<typeof actorFrom>,
  requestId: string,
  reason?: string,
): Promise<TradingAccountItem> {
  const at = new Date().toISOString();
  const next = { ...before, ...patch };
  const after = tradingAccountEntity.replaced(before, next, at);
  await commit({
    writes: [tradingAccountEntity.replace(before, next, at)],
    audit: {
      actor,
      action,
      entity: { type: TRADING_ACCOUNT_ENTITY, id: before.accountId },
      clientId: before.clientId,
      before: accountSnapshot(before),
      after: { ...accountSnapshot(after), ...(reason ? { reason } : {}) },
      requestId,
    },
    outbox: [
      {
        detailType: 'trading.account.changed',
        detail: {
          accountId: after.accountId,
          clientId: after.clientId,
          kind: after.kind,
          platform: after.platform,
          server: after.server,
          typeId: after.typeId,
          group: after.group,
          currency: after.currency,
          leverage: after.leverage,
          login: after.login!,
          access: after.access,
          ...(reason ? { reason } : {}),
        },
      },
    ],
  });
  forgetState(after);
  return after;
}

export async function changeLeverage(
  input: { accountId: string; leverage: number },
  caller: Caller,
  ctx: CommandContext,
): Promise<TradingAccountItem> {
  const actor = actorFrom(caller, CLIENT);
  const account = await ownAccount(input.accountId, caller);
  const login = activeLogin(account);
  const profile = await getClientProfile(caller.sub);
  if (!profile) throw new DomainError('profile_not_found', 'not_found', 'No profile exists for this user');
  const type = typeOf(account);
  if (!type)
    throw new DomainError('account_type_withdrawn', 'conflict', 'This account type is no longer offered; contact support');
  const req = requirementsFor(tenantConfig(), { country: profile.countryOfResidence, clientType: profile.clientType });
  const leverage = checkLeverage(type, input.leverage, req.leverageCaps);
  if (leverage === account.leverage) return account;
  await (await platformOf(account)).setLeverage(login, leverage);
  return record(account, { leverage }, 'trading.account.leverage_changed', actor, ctx.requestId);
}

export async function resetPasswords(
  input: { accountId: string; which: 'main' | 'investor' | 'both' },
  caller: Caller,
  ctx: CommandContext,
): Promise<{ main?: string; investor?: string }> {
  const actor = actorFrom(caller, CLIENT);
  const account = await ownAccount(input.accountId, caller);
  const login = activeLogin(account);
  const passwords = {
    ...(input.which !== 'investor' ? { main: newPlatformPassword() } : {}),
    ...(input.which !== 'main' ? { investor: newPlatformPassword() } : {}),
  };
  await (await platformOf(account)).resetPasswords(login, passwords);
  await commit({
    writes: [],
    audit: {
      actor,
      action: 'trading.account.passwords_reset',
      entity: { type: TRADING_ACCOUNT_ENTITY, id: account.accountId },
      clientId: account.clientId,
      before: null,
      after: { reset: input.which },
      requestId: ctx.requestId,
    },
  });
  return passwords;
}

export async function setAccess(
  input: { accountId: string; access: AccountAccess; reason: string },
  caller: Caller,
  ctx: CommandContext,
): Promise<TradingAccountItem> {
  const actor = actorFrom(caller, TRADING_STAFF_WRITERS);
  const { account } = await readableAccount(input.accountId, caller);
  const login = activeLogin(account);
  if (account.access === input.access && account.accessReason === input.reason) return account;
  await (await platformOf(account)).setAccess(login, accessSwitches(input.access));
  return record(
    account,
    { access: input.access, accessReason: input.reason },
    'trading.account.access_changed',
    actor,
    ctx.requestId,
    input.reason,
  );
}
