/**
 * What the trading use cases share: who may read an account, how an account is loaded for its owner or for staff,
 * its platform adapter and its type, and the per-container cache of account states. ADR 0016.
 *
 * Invariants:
 * - a client reads and acts on its own accounts only: another client's account is 404 trading_account_not_found
 *   (a cross-client probe, recorded as a security event by the edge), never 403, so ids cannot be enumerated
 * - staff in TRADING_STAFF_READERS read every account; only the roles a use case names may change one
 * - an account that is not 'active' (opening, failed) has no platform state: acting on it is 409
 *   trading_account_not_active
 * - a platform state is cached for STATE_CACHE_MS per login in this container (the trader room polls it); any
 *   change this container makes to the account drops it
 */
import { createHash, randomInt } from 'node:crypto';
import { tradingPlatform } from '#adapters/platforms/index.ts';
import { canonicalJson } from '#domain/audit/chain.ts';
import { DomainError } from '#domain/errors.ts';
import type { Caller, Role } from '#domain/identity/roles.ts';
import { crossClientProbe } from '#domain/security/probes.ts';
import type { AccountType } from '#domain/trading/account-types.ts';
import type { AccountState } from '#domain/trading/model.ts';
import type { TradingPlatform } from '#domain/trading/port.ts';
import { tenantConfig } from '#shared/tenant.ts';
import { getTradingAccount, type TradingAccountItem, tradingAccountNotFound } from '#store/trading.ts';

export type { DealItem, TradingAccountItem, TransferItem } from '#store/trading.ts';

/** Staff who may read a client's trading accounts. */
export const TRADING_STAFF_READERS: readonly Role[] = ['sales', 'retention', 'compliance', 'finance', 'admin'];
/** Staff who may restrict or disable an account (audited, with a reason). */
export const TRADING_STAFF_WRITERS: readonly Role[] = ['compliance', 'admin'];

export const STATE_CACHE_MS = 3_000;

/** sha256 of a request (canonical JSON): what an idempotent command remembers to refuse a reused key. */
export const requestHashOf = (input: unknown) => createHash('sha256').update(canonicalJson(input), 'utf8').digest('hex');

export const idempotencyKeyReused = () =>
  new DomainError('idempotency_key_reused', 'unprocessable', 'This Idempotency-Key was used for another request');

export const requireKey = (key: string | undefined, what: string): string => {
  if (!key) throw new DomainError('idempotency_key_required', 'validation', `${what} needs an Idempotency-Key`);
  return key;
};

/** The account if the caller may read it: its owner, or staff who read accounts (module invariants). */
export async function readableAccount(
  accountId: string,
  caller: Caller,
): Promise<{ account: TradingAccountItem; staff: boolean }> {
  const account = await getTradingAccount(accountId, { consistent: true });
  if (!account) throw tradingAccountNotFound();
  if (account.clientId === caller.sub && caller.roles.includes('client')) return { account, staff: false };
  if (caller.isStaff && caller.roles.some((r) => TRADING_STAFF_READERS.includes(r))) return { account, staff: true };
  throw crossClientProbe(tradingAccountNotFound(), caller, account.clientId);
}

/** The caller's own account (clients acting on it). */
export async function ownAccount(accountId: string, caller: Caller): Promise<TradingAccountItem> {
  const account = await getTradingAccount(accountId, { consistent: true });
  if (!account || account.clientId !== caller.sub) {
    throw crossClientProbe(tradingAccountNotFound(), caller, account?.clientId ?? caller.sub);
  }
  return account;
}

/** The account's login, or 409 trading_account_not_active while it is opening or after it failed. */
export function activeLogin(account: TradingAccountItem): number {
  if (account.status !== 'active' || !account.login) {
    throw new DomainError('trading_account_not_active', 'conflict', `The trading account is ${account.status}, not active`);
  }
  return account.login;
}

export const platformOf = (account: Pick<TradingAccountItem, 'platform'>): Promise<TradingPlatform> =>
  tradingPlatform(account.platform);

/** The account's type as the tenant configures it now (undefined when the type was withdrawn since). */
export const typeOf = (account: Pick<TradingAccountItem, 'typeId'>): AccountType | undefined =>
  tenantConfig().trading.accountTypes.find((t) => t.id === account.typeId);

const states = new Map<string, { at: number; state: AccountState }>();
const stateKey = (a: Pick<TradingAccountItem, 'platform' | 'server' | 'login'>) => `${a.platform}#${a.server}#${a.login}`;

/** The platform's state of the account, at most STATE_CACHE_MS old (module invariants). */
export async function accountState(account: TradingAccountItem, opts: { fresh?: boolean } = {}): Promise<AccountState> {
  const login = activeLogin(account);
  const key = stateKey(account);
  const hit = states.get(key);
  if (!opts.fresh && hit && Date.now() - hit.at < STATE_CACHE_MS) return hit.state;
  const state = await (await platformOf(account)).accountState(login);
  states.set(key, { at: Date.now(), state });
  if (states.size > 10_000) states.delete(states.keys().next().value!);
  return state;
}

export const forgetState = (account: Pick<TradingAccountItem, 'platform' | 'server' | 'login'>) =>
  states.delete(stateKey(account));

const LOWER = 'abcdefghijkmnopqrstuvwxyz';
const UPPER = 'ABCDEFGHJKLMNPQRSTUVWXYZ';
const DIGITS = '23456789';
const SPECIAL = '#@!$%*-_';

/**
 * A platform password: 12 characters with a lower-case letter, an upper-case letter, a digit and a special
 * character (MT5's rule for strong passwords; cTrader and the others accept it), from the CSPRNG.
 */
export function newPlatformPassword(): string {
  const all = LOWER + UPPER + DIGITS + SPECIAL;
  const pick = (s: string) => s[randomInt(s.length)]!;
  const chars = [pick(LOWER), pick(UPPER), pick(DIGITS), pick(SPECIAL), ...Array.from({ length: 8 }, () => pick(all))];
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j]!, chars[i]!];
  }
  return chars.join('');
}
