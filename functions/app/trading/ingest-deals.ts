/**
 * The deal stream: closed deals and balance operations read from a platform server and written once each, with
 * their events (trading.position.opened / trading.deal.closed / trading.balance.changed) and the owner's trading
 * turnover. Run by the trading-deal-ingest job on a schedule and on demand (POST /v1/admin/jobs/.../runs). ADR 0016.
 *
 * Invariants:
 * - one cursor per (platform, server), opaque to us (the adapter's); a run reads pages after it until the
 *   platform has nothing new or `maxDeals` were read
 * - exactly once per (platform, server, deal): each deal item is put-if-absent in the SAME transaction as its
 *   outbox event, its turnover and an audit entry of the batch; deals already stored (a crashed run's, a
 *   concurrent run's) are filtered out before writing, and a batch that loses a race to another run is re-filtered
 *   and written again. A page's batches commit up to CONCURRENT_BATCHES at a time, each with its own audit entity
 *   (`trading-deal-batch`, first-last deal id). The cursor moves past a page only after every deal of it is stored, conditioned on the
 *   version read, so a crash mid-page re-reads the page and writes only what is missing
 * - a deal's account and client come from the login item (functions/store/trading.ts); a login that is not ours
 *   is stored and published without them (it may be an account opened outside the back office)
 * - a run that reached the end of what the platform has records its start time on the cursor (`checkedAt`):
 *   reconciliation compares only transfers completed before it
 * - turnover: the deal's notional (platform-reported) is added to its client's hour bucket in the account currency
 */

import { tradingPlatform } from '#adapters/platforms/index.ts';
import { DomainError, isDomainError } from '#domain/errors.ts';
import type { EventDetail } from '#domain/events/index.ts';
import { formatAmount } from '#domain/money/index.ts';
import { type DealKind, dealKind, turnoverHour } from '#domain/trading/accounts.ts';
import { type Deal, formatPoints } from '#domain/trading/model.ts';
import type { Platform, TradingPlatform } from '#domain/trading/port.ts';
import { type AuditInput, commit, MAX_TRANSACTION_ITEMS, systemActor } from '#store/audit.ts';
import type { CommitWrite } from '#store/items.ts';
import { type Key, tradingKeys } from '#store/keys.ts';
import { keyId } from '#store/ledger/codec.ts';
import type { OutboxEvent } from '#store/outbox.ts';
import {
  type CursorItem,
  cursorEntity,
  dealEntity,
  type LoginItem,
  loginEntity,
  markCursorChecked,
  storedDeals,
  turnoverAdd,
} from '#store/trading.ts';
import type { CommandContext } from '../context.ts';

export const DEAL_INGEST_JOB = 'trading-deal-ingest';
/** Deals asked of the platform per page. */
export const DEAL_PAGE = 1000;
/** Transactions of one page in flight at once. */
export const CONCURRENT_BATCHES = 4;
const ACTOR = systemActor(DEAL_INGEST_JOB);

export interface IngestResult {
  platform: Platform;
  server: string;
  read: number;
  written: number;
  pages: number;
  cursor: string;
}

type DealDetail = EventDetail<'trading.deal.closed'>;

/** The event of a deal, by what it is (literal detail-types: the catalogue test reads them). */
function dealEvent(kind: DealKind, detail: DealDetail): OutboxEvent {
  switch (kind) {
    case 'position_opened':
      return { detailType: 'trading.position.opened', detail };
    case 'deal_closed':
      return { detailType: 'trading.deal.closed', detail };
    case 'balance_changed':
      return { detailType: 'trading.balance.changed', detail };
  }
}

/** Ingests what the platform has after the stored cursor (module invariants). */
export async function ingestDeals(
  input: { platform: Platform; maxDeals?: number; adapter?: TradingPlatform },
  ctx: CommandContext,
): Promise<IngestResult> {
  const adapter = input.adapter ?? (await tradingPlatform(input.platform));
  const server = adapter.server;
  const max = input.maxDeals ?? 50_000;
  const logins = new Map<number, LoginItem | null>();
  const result: IngestResult = { platform: input.platform, server, read: 0, written: 0, pages: 0, cursor: '' };
  const startedAt = new Date().toISOString();
  let complete = false;
  for (;;) {
    const stored = await cursorEntity.get(tradingKeys.cursor(input.platform, server), { consistent: true });
    const from = stored?.cursor ?? '';
    const page = await adapter.dealsSince(from, DEAL_PAGE);
    result.cursor = from;
    if (page.deals.length === 0) {
      complete = true;
      break;
    }
    result.pages += 1;
    result.read += page.deals.length;
    await resolveLogins(input.platform, server, page.deals, logins);
    result.written += await writePage(input.platform, server, page.deals, logins, ctx);
    try {
      await moveCursor(input.platform, server, stored, page.cursor, page.deals.length);
    } catch (err) {
      // another run moved the cursor first (past this page or further): this page's deals are stored; read on
      // from wherever it is now
      if (!(isDomainError(err) && err.code === 'concurrent_modification')) throw err;
      continue;
    }
    result.cursor = page.cursor;
    if (page.cursor === from) {
      complete = true;
      break;
    }
    if (result.read >= max) break;
  }
  // the platform had nothing after the cursor: every deal made before this run started is stored
  if (complete) await markCursorChecked(input.platform, server, startedAt);
  return result;
}

async function resolveLogins(platform: Platform, server: string, deals: Deal[], known: Map<number, LoginItem | null>) {
  const missing = [...new Set(deals.map((d) => d.login))].filter((l) => !known.has(l));
  if (missing.length === 0) return;
  const found = await loginEntity.getMany(missing.map((l) => tradingKeys.login(platform, server, l)));
  for (const l of missing) known.set(l, found.find((f) => f.login === l) ?? null);
}

interface Staged {
  key: Key;
  deal: Deal;
  owner: LoginItem | null;
}

/** Writes the page's deals not stored yet, in transactions of at most 100 items; returns how many it wrote. */
async function writePage(
  platform: Platform,
  server: string,
  deals: Deal[],
  logins: Map<number, LoginItem | null>,
  ctx: CommandContext,
): Promise<number> {
  let written = 0;
  let todo: Staged[] = deals.map((deal) => ({
    key: tradingKeys.deal(platform, server, deal.deal),
    deal,
    owner: logins.get(deal.login) ?? null,
  }));
  for (let round = 0; todo.length > 0; round++) {
    const have = await storedDeals(todo.map((t) => t.key));
    todo = todo.filter((t) => !have.has(keyId(t.key)));
    const lost: Staged[] = [];
    const queue = [...batches(todo)];
    // a page's batches are independent transactions (each its own audit entity): a few at a time
    const worker = async () => {
      for (let batch = queue.shift(); batch; batch = queue.shift()) {
        try {
          await commitBatch(platform, server, batch, ctx);
          written += batch.length;
        } catch (err) {
          if (!(isDomainError(err) && err.code === 'deal_exists')) throw err;
          lost.push(...batch); // another run wrote one of them: re-filter and write the rest
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENT_BATCHES }, worker));
    todo = lost;
    if (round > 5 && todo.length > 0)
      throw new DomainError('concurrent_modification', 'conflict', 'Deal ingestion kept racing; retry');
  }
  return written;
}

/** Per transaction: 2 items per deal (deal, outbox), one per turnover bucket, 2 for the audit entry and its head. */
function* batches(todo: Staged[]): Generator<Staged[]> {
  let batch: Staged[] = [];
  let buckets = new Set<string>();
  for (const t of todo) {
    const bucket = turnoverBucket(t);
    const extra = bucket && !buckets.has(bucket) ? 1 : 0;
    if (batch.length > 0 && 2 * (batch.length + 1) + buckets.size + extra + 2 > MAX_TRANSACTION_ITEMS) {
      yield batch;
      batch = [];
      buckets = new Set();
    }
    batch.push(t);
    if (bucket) buckets.add(bucket);
  }
  if (batch.length > 0) yield batch;
}

const turnoverBucket = (t: Staged) =>
  t.owner && t.deal.notional && t.deal.notional > 0n
    ? `${t.owner.clientId}\u0000${t.owner.currency}\u0000${turnoverHour(t.deal.timeMsc)}`
    : undefined;

/** A deal's stored item and its event (what one ingested deal writes, besides its owner's turnover). */
export function dealRecord(platform: Platform, server: string, d: Deal, owner: LoginItem | null, at: string) {
  const digits = digitsOf(d);
  const item = dealEntity.item(
    {
      platform,
      server,
      deal: d.deal,
      login: d.login,
      ...(owner ? { accountId: owner.accountId, clientId: owner.clientId } : {}),
      currency: currencyOf(d, owner),
      order: d.order,
      action: d.action,
      entry: d.entry,
      reason: d.reason,
      timeMsc: d.timeMsc,
      symbol: d.symbol,
      price: d.price.toString(),
      volume: d.volume.toString(),
      profit: d.profit.toString(),
      commission: d.commission.toString(),
      storage: d.storage.toString(),
      ...(d.notional !== undefined ? { notional: d.notional.toString() } : {}),
      positionId: d.positionId,
      comment: d.comment,
      ...(d.externalId ? { externalId: d.externalId } : {}),
      digits,
    },
    at,
  );
  const currency = item.currency;
  const event = dealEvent(dealKind(d), {
    dealKey: `${platform}#${server}#${d.deal}`,
    platform,
    server,
    deal: d.deal,
    login: d.login,
    ...(owner ? { accountId: owner.accountId, clientId: owner.clientId } : {}),
    currency,
    action: d.action,
    entry: d.entry,
    reason: d.reason,
    symbol: d.symbol,
    volume: d.volume.toString(),
    price: formatPoints(d.price, digits),
    profit: formatAmount(d.profit, currency),
    commission: formatAmount(d.commission, currency),
    swap: formatAmount(d.storage, currency),
    positionId: d.positionId,
    timeMsc: d.timeMsc,
    ...(d.notional !== undefined ? { notional: formatAmount(d.notional, currency) } : {}),
    ...(d.externalId ? { externalId: d.externalId } : {}),
  });
  return { item, event };
}

async function commitBatch(platform: Platform, server: string, batch: Staged[], ctx: CommandContext): Promise<void> {
  const at = new Date().toISOString();
  const exists = new DomainError('deal_exists', 'conflict', 'A deal of this batch is stored already');
  const writes: CommitWrite[] = [];
  const outbox: OutboxEvent[] = [];
  const turnover = new Map<string, { clientId: string; currency: string; hour: string; amount: bigint }>();
  for (const { deal: d, owner } of batch) {
    const { item, event } = dealRecord(platform, server, d, owner, at);
    writes.push(dealEntity.putNew(item, exists));
    outbox.push(event);
    const bucket = turnoverBucket({ key: item, deal: d, owner });
    if (bucket && owner) {
      const t = turnover.get(bucket) ?? {
        clientId: owner.clientId,
        currency: owner.currency,
        hour: turnoverHour(d.timeMsc),
        amount: 0n,
      };
      t.amount += d.notional!;
      turnover.set(bucket, t);
    }
  }
  for (const t of turnover.values()) writes.push(turnoverAdd(t.clientId, t.currency, t.hour, t.amount, at));
  const first = batch[0]!.deal.deal;
  const last = batch.at(-1)!.deal.deal;
  const audit: AuditInput = {
    actor: ACTOR,
    action: 'trading.deals.ingested',
    // one audit entity per batch (a new chain): batches of a page commit in parallel without a shared head
    entity: { type: 'trading-deal-batch', id: `${platform}#${server}#${first}-${last}` },
    newEntity: true,
    before: null,
    after: { deals: batch.length, first, last },
    requestId: ctx.requestId,
  };
  await commit({ writes, audit, outbox });
}

/** The symbol's digits as the adapter reported them (0 for balance operations, and when it did not). */
const digitsOf = (d: Deal): number => (d.symbol ? (d.digits ?? 0) : 0);

/** The deal's currency: the account's when the login is ours, else what the adapter reported. */
function currencyOf(d: Deal, owner: LoginItem | null): string {
  const c = owner?.currency ?? d.currency;
  if (!c) throw new Error(`deal ${d.deal} of login ${d.login}: the adapter reported no currency`);
  return c;
}

async function moveCursor(platform: Platform, server: string, stored: CursorItem | undefined, cursor: string, count: number) {
  const at = new Date().toISOString();
  if (!stored) {
    const item = cursorEntity.item({ platform, server, cursor, ingested: count, lastRunAt: at }, at);
    await commit({
      writes: [cursorEntity.putNew(item, new DomainError('concurrent_modification', 'conflict', 'The deal cursor moved'))],
      audit: cursorAudit(platform, server, '', cursor),
    });
    return;
  }
  await commit({
    writes: [
      cursorEntity.replace(stored, { ...stored, cursor, ingested: stored.ingested + count, lastRunAt: at }, at, {
        onRace: new DomainError('concurrent_modification', 'conflict', 'The deal cursor moved'),
      }),
    ],
    audit: cursorAudit(platform, server, stored.cursor, cursor),
  });
}

const cursorAudit = (platform: Platform, server: string, before: string, after: string): AuditInput => ({
  actor: ACTOR,
  action: 'trading.deal_cursor.moved',
  entity: { type: tradingKeys.cursorType, id: `${platform}#${server}` },
  before: { cursor: before },
  after: { cursor: after },
  requestId: `${DEAL_INGEST_JOB}:${platform}:${server}`,
});
