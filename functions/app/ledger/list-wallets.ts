/**
 * The caller's wallets (GET /v1/wallets): one per currency the tenant enables, with balances.
 *
 * Invariants:
 * - a missing wallet is created on this read (audited, idempotent: wallet ids are deterministic), so
 *   every enabled currency is listed, zero balances included, in the tenant's currency order
 * - the caller is the owner: a client reads only its own wallets
 */
import type { CommandContext } from '#app/context.ts';
import type { Caller } from '#domain/identity/roles.ts';
import { type Balance, ZERO_BALANCE } from '#domain/ledger/index.ts';
import { tenantConfig } from '#shared/tenant.ts';
import { actorFrom } from '#store/audit.ts';
import { ensureWallet, listWallets as storedWallets } from '#store/ledger/accounts.ts';

export interface WalletSummary {
  walletId: string;
  currency: string;
  balance: Balance;
  frozen: boolean;
}

export async function listWallets(_input: Record<string, never>, caller: Caller, ctx: CommandContext): Promise<WalletSummary[]> {
  const cfg = tenantConfig();
  const existing = await storedWallets(caller.sub);
  const byCurrency = new Map(existing.map((w) => [w.currency, w]));
  const out: WalletSummary[] = [];
  for (const currency of cfg.currencies) {
    let w = byCurrency.get(currency);
    if (!w) {
      const account = await ensureWallet(caller.sub, currency, {
        actor: actorFrom(caller, ['client']),
        requestId: ctx.requestId,
      });
      w = { ...account, balance: ZERO_BALANCE };
    }
    out.push({ walletId: w.accountId, currency, balance: w.balance, frozen: w.flags.frozen });
  }
  return out;
}
