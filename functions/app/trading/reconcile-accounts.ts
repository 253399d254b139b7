/**
 * Trading reconciliation: each live account's balance operations on the platform against the ledger and our
 * transfers (the trading-reconciliation job, daily; the staff view of a client's accounts). ADR 0016.
 *
 * What is compared, per account (platform side: the deal stream's balance deals of the login, which are the
 * platform's own records written once; ledger side: the transfers and the `tacc_` ledger account):
 * - every completed transfer has exactly one platform balance operation with its id as external id and its
 *   signed amount (`transfer_missing_on_platform`, `amount_differs`)
 * - every platform 'balance' operation carries the id of one of our transfers (`unknown_platform_operation`: a
 *   dealer's manual deposit, say); a failed transfer has none (`failed_transfer_applied`)
 * - the ledger account's balance equals the net of the completed transfers (`ledger_differs`), and the sum of the
 *   platform's 'balance' operations equals it too (`platform_differs`)
 * - a copy account's fee charges (functions/app/copy/settle-fees.ts) count like withdrawals: each completed charge
 *   has one platform 'charge' operation with the charge id as external id and minus its total (the same codes, the
 *   charge id as subject), debits the ledger account by its total, and a failed one has none; a platform 'charge'
 *   operation without one of our charge ids is the platform's own (a dealer's fee) and is not compared
 * Pending transfers are skipped (the resolver settles them), and so, on the platform side, are transfers completed
 * after the deal stream's last complete read (not in the stream yet); a run ingests the deal stream first, so it
 * compares against what the platform has now.
 *
 * Invariants: read-only except for the run's own record (functions/jobs/trading-reconciliation.ts logs and counts
 * findings); amounts are exact (bigint minor units); a finding names the account, the transfer or deal and both
 * amounts.
 */
import { formatAmount, toMinor } from '#domain/money/index.ts';
import type { Platform } from '#domain/trading/port.ts';
import { PLATFORMS } from '#domain/trading/port.ts';
import { logger } from '#shared/powertools.ts';
import { tenantConfig } from '#shared/tenant.ts';
import { accountCharges } from '#store/copy-fees.ts';
import { getBalance } from '#store/ledger/index.ts';
import { accountDeals, accountTransfers, getCursor, liveAccounts, type TradingAccountItem } from '#store/trading.ts';
import type { CommandContext } from '../context.ts';
import { ingestDeals } from './ingest-deals.ts';

export const TRADING_RECONCILIATION_JOB = 'trading-reconciliation';

export const TRADING_FINDING_CODES = [
  'transfer_missing_on_platform',
  'amount_differs',
  'unknown_platform_operation',
  'failed_transfer_applied',
  'ledger_differs',
  'platform_differs',
] as const;
export type TradingFindingCode = (typeof TRADING_FINDING_CODES)[number];

export interface TradingFinding {
  code: TradingFindingCode;
  accountId: string;
  clientId: string;
  /** The transfer or the platform deal the finding is about. */
  subject?: string;
  expected?: string;
  actual?: string;
  currency: string;
}

/**
 * The findings of one account (module comment). The platform side is compared for transfers completed before the
 * deal stream's last complete read of the account's server (`checkedAt`); later ones are not in the stream yet.
 */
export async function reconcileAccount(account: TradingAccountItem): Promise<TradingFinding[]> {
  const asOf = (await getCursor(account.platform, account.server))?.checkedAt ?? '';
  const cur = account.currency;
  const fmt = (n: bigint) => formatAmount(n, cur);
  const findings: TradingFinding[] = [];
  const finding = (f: Omit<TradingFinding, 'accountId' | 'clientId' | 'currency'>) =>
    findings.push({ ...f, accountId: account.accountId, clientId: account.clientId, currency: cur });

  const ops = new Map<string, { deal: number; amount: bigint }[]>();
  let platformNet = 0n;
  for await (const page of accountDeals(account.accountId)) {
    for (const d of page) {
      const ourCharge = d.action === 'charge' && d.externalId?.startsWith('cf_') === true;
      if (d.action !== 'balance' && !ourCharge) continue;
      const amount = BigInt(d.profit);
      platformNet += amount;
      const key = d.externalId ?? `deal:${d.deal}`;
      ops.set(key, [...(ops.get(key) ?? []), { deal: d.deal, amount }]);
    }
  }
  let ledgerExpected = 0n;
  let platformExpected = 0n;
  const ours = new Set<string>();
  const compare = (id: string, status: string, signed: bigint, completedAt: string | undefined) => {
    ours.add(id);
    const applied = ops.get(id) ?? [];
    if (status === 'completed') {
      ledgerExpected += signed;
      if (!completedAt || completedAt >= asOf) {
        // not in the stream yet: its platform operation (if already ingested) is left out of the platform side
        platformNet -= applied.reduce((s, o) => s + o.amount, 0n);
        platformExpected -= signed;
        return;
      }
      if (applied.length === 0) finding({ code: 'transfer_missing_on_platform', subject: id, expected: fmt(signed) });
      else {
        const total = applied.reduce((s, o) => s + o.amount, 0n);
        if (applied.length > 1 || total !== signed)
          finding({ code: 'amount_differs', subject: id, expected: fmt(signed), actual: fmt(total) });
      }
    } else if (status === 'failed' && applied.length > 0) {
      finding({ code: 'failed_transfer_applied', subject: id, actual: fmt(applied.reduce((s, o) => s + o.amount, 0n)) });
    }
  };
  for await (const page of accountTransfers(account.accountId)) {
    for (const t of page) {
      compare(t.transferId, t.status, (t.direction === 'deposit' ? 1n : -1n) * toMinor(t.amount.amount, cur), t.completedAt);
    }
  }
  for await (const page of accountCharges(account.accountId)) {
    for (const c of page) compare(c.chargeId, c.status, -BigInt(c.fees.total), c.completedAt);
  }
  for (const [key, list] of ops) {
    if (ours.has(key)) continue;
    for (const o of list) finding({ code: 'unknown_platform_operation', subject: `deal:${o.deal}`, actual: fmt(o.amount) });
  }
  if (account.ledgerAccountId) {
    const ledger = (await getBalance(account.ledgerAccountId)).ledger;
    if (ledger !== ledgerExpected) finding({ code: 'ledger_differs', expected: fmt(ledgerExpected), actual: fmt(ledger) });
  }
  platformExpected += ledgerExpected;
  if (platformNet !== platformExpected)
    finding({ code: 'platform_differs', expected: fmt(platformExpected), actual: fmt(platformNet) });
  return findings;
}

export interface TradingReconciliationSummary {
  accountsChecked: number;
  findings: TradingFinding[];
  ingested: { platform: Platform; written: number }[];
}

/** Ingests every offered platform's deals, then reconciles every active live account. */
export async function reconcileTradingAccounts(
  _input: Record<string, never>,
  ctx: CommandContext,
): Promise<TradingReconciliationSummary> {
  const offered = tenantConfig().trading.platforms.filter((p) => PLATFORMS.includes(p));
  const ingested: TradingReconciliationSummary['ingested'] = [];
  for (const platform of offered) {
    try {
      const r = await ingestDeals({ platform }, ctx);
      ingested.push({ platform, written: r.written });
    } catch (err) {
      logger.error('trading reconciliation: deal ingestion failed; comparing against what is stored', {
        platform,
        error: (err as Error).name,
      });
    }
  }
  let accountsChecked = 0;
  const findings: TradingFinding[] = [];
  for await (const page of liveAccounts()) {
    for (const account of page) {
      accountsChecked += 1;
      findings.push(...(await reconcileAccount(account)));
    }
  }
  return { accountsChecked, findings, ingested };
}
