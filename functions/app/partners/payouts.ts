/**
 * Partner payouts (issue 16 part 4; ADR 0018): the daily run and the payment of one partner's window in one currency.
 * Rules: domain/partners/payouts.ts (window, outcome, ids) and domain/partners/accrual.ts payoutDue (schedule);
 * items: functions/store/partner-payouts.ts, functions/store/partners.ts (paidThrough), functions/store/partner-accruals.ts
 * (the lines: partnerLines, accrual order).
 *
 * A payout pays the partner's lines of one currency accrued in (from, periodEnd]: from = the partner's
 * paidThrough[currency] (the periodEnd of its last paid payout, else the epoch), periodEnd = the cutoff (the run
 * time less the tenant's payoutSafetySeconds). Its id is po_<partnerId>_<tenant-local run date>_<CUR>.
 *
 * Invariants:
 * - the amount is the exact bigint sum of the window's lines (clawback lines negative), nothing rounded
 * - 'paid': ONE journal (type commission): the house commission_expense account of the currency -amount, the
 *   partner's client wallet (created on first use) +amount, idempotent by payout id (ledger idempotency scope
 *   'partner-payout', key = payout id, journal id pj_<payoutId>); the payout item (status paid, amount, lines,
 *   journalId), the partner's paidThrough[currency] moved to periodEnd (conditioned on the partner's version and on
 *   the window start read), the audit entry and partner.payout.paid are the journal's transaction: all or nothing
 * - 'held' (a partner with a compliance hold) and 'below_minimum' (net not positive, or below the tenant's
 *   payoutMinimum of the currency): a payout item and its audit entry, no journal, paidThrough unmoved (carried
 *   forward); a later run of the same day may replace it; a 'paid' item never changes
 * - a window without lines writes nothing ('nothing')
 * - re-running is safe: a paid payout id answers the paid item (replayed); a journal found without its paid item (a
 *   crash between them, were they ever apart) is completed from the journal's own metadata, never posted twice;
 *   concurrent runs of one id post one journal (the idempotency item, the payout put-if-absent, the partner version)
 * - only approved partners are paid; the run takes those whose schedule is due on the tenant-local date
 *   (payoutDue); one partner that fails never stops the run
 */

import { DomainError, isDomainError } from '#domain/errors.ts';
import type { JournalDraft, PostedJournal } from '#domain/ledger/index.ts';
import { formatAmount, isCurrency } from '#domain/money/index.ts';
import { payoutDue } from '#domain/partners/accrual.ts';
import {
  minimumOf,
  PAYOUT_EPOCH,
  type PayoutStatus,
  payoutIdOf,
  payoutJournalId,
  payoutOutcome,
  payoutRequestHash,
  tenantLocalDate,
  windowEnd,
  windowStart,
} from '#domain/partners/payouts.ts';
import { logger } from '#shared/powertools.ts';
import { tenantConfig } from '#shared/tenant.ts';
import { type AuditInput, commit, systemActor } from '#store/audit.ts';
import { getClientProfile } from '#store/clients.ts';
import type { CommitWrite } from '#store/items.ts';
import { ensureWallet, getJournal, houseAccount } from '#store/ledger/index.ts';
import { executeJournal } from '#store/ledger/journals.ts';
import type { OutboxEvent } from '#store/outbox.ts';
import { type LineItem, partnerLines } from '#store/partner-accruals.ts';
import { getPayout, type PayoutItem, payoutEntity, payoutSnapshot } from '#store/partner-payouts.ts';
import { getPartner, listPartnersByStatus, type PartnerItem, partnerEntity, partnerNotFound } from '#store/partners.ts';
import type { CommandContext } from '../context.ts';

export type { PayoutItem } from '#store/partner-payouts.ts';

export const PAYOUT_JOB = 'partner-payouts';
/** The audit entity of a payout. */
export const PAYOUT_ENTITY = 'partner-payout';
const JOURNAL_SCOPE = 'partner-payout';
const ACTOR = systemActor('partner-payouts');
const MAX_ROUNDS = 6;

/** Test hooks (fault injection): a crash just after the journal's transaction committed. */
export const faults = { afterJournal: undefined as undefined | ((payoutId: string) => void) };

export type PayoutOutcome =
  /** The window was paid (replayed: by an earlier run of the same payout id). */
  | { outcome: 'paid'; payout: PayoutItem; replayed: boolean }
  /** Held or below the minimum: recorded, nothing moved, the window carried forward. */
  | { outcome: 'held' | 'below_minimum'; payout: PayoutItem }
  /** No line in the window: nothing written. */
  | { outcome: 'nothing'; from: string; periodEnd: string };

export interface PayPartnerInput {
  partnerId: string;
  currency: string;
  /** The window's inclusive end (ISO instant): the run time less the tenant's payoutSafetySeconds. */
  cutoff: string;
  /** The tenant-local run date the payout id names (yyyy-mm-dd). */
  localDate: string;
}

export const partnerNotApproved = () =>
  new DomainError('partner_not_approved', 'conflict', 'Only an approved partner is paid', [
    { field: 'partnerId', code: 'partner_not_approved', message: 'The partner is not approved' },
  ]);

const raced = () => new DomainError('concurrent_modification', 'conflict', 'The payout changed concurrently; retry');
const isRace = (err: unknown) => isDomainError(err) && (err.code === 'concurrent_modification' || err.code === 'conflict');

/** The prepare step found the payout paid (a twin, or a retry after the commit). */
class Settled extends Error {}
/** The prepare step found the window moved (the partner was paid through another id meanwhile, or held). */
class Moved extends Error {}

// ------------------------------------------------------------------------------------------------ the window

/** The partner's lines of `currency` accrued in (from, to], in accrual order. */
async function windowLines(partnerId: string, currency: string, from: string, to: string): Promise<LineItem[]> {
  if (to <= from) return [];
  const out: LineItem[] = [];
  for await (const page of partnerLines(partnerId, from, to)) {
    for (const l of page) if (l.currency === currency) out.push(l);
  }
  return out;
}

interface Window {
  partner: PartnerItem;
  currency: string;
  payoutId: string;
  localDate: string;
  from: string;
  periodEnd: string;
  net: bigint;
  lines: number;
  /** Why the payout is held: the partner's compliance hold, or KYC not approved. */
  holdReason?: string | undefined;
}

export const KYC_HOLD_REASON = 'kyc_required: the partner’s identity is not verified; payouts wait for KYC approval';

const payoutFields = (w: Window, status: PayoutStatus) => ({
  payoutId: w.payoutId,
  partnerId: w.partner.partnerId,
  clientId: w.partner.clientId,
  currency: w.currency,
  localDate: w.localDate,
  from: w.from,
  periodEnd: w.periodEnd,
  amount: w.net.toString(),
  lines: w.lines,
  status,
});

function audit(action: string, p: PayoutItem, before: PayoutItem | undefined, ctx: CommandContext): AuditInput {
  return {
    actor: ACTOR,
    action,
    entity: { type: PAYOUT_ENTITY, id: p.payoutId },
    clientId: p.clientId,
    before: before ? payoutSnapshot(before) : null,
    after: payoutSnapshot(p),
    requestId: ctx.requestId,
  };
}

function paidEvent(p: PayoutItem): OutboxEvent {
  return {
    detailType: 'partner.payout.paid',
    detail: {
      payoutId: p.payoutId,
      partnerId: p.partnerId,
      clientId: p.clientId,
      amount: formatAmount(BigInt(p.amount), p.currency),
      currency: p.currency,
      lines: p.lines,
      periodEnd: p.periodEnd,
      journalId: p.journalId ?? payoutJournalId(p.payoutId),
    },
  };
}

/** The payout item written over `current` (the day's held/below-minimum item) or new. */
function payoutWrite(current: PayoutItem | undefined, next: PayoutItem, at: string): { write: CommitWrite; after: PayoutItem } {
  if (!current) return { write: payoutEntity.putNew(next, raced()), after: next };
  return {
    write: payoutEntity.replace(current, next, at, { onRace: raced() }),
    after: payoutEntity.replaced(current, next, at),
  };
}

/** A new payout item, or the day's earlier one with the new fields (what `fields` lacks is dropped). */
function nextPayout(current: PayoutItem | undefined, fields: Parameters<typeof payoutEntity.item>[0], at: string): PayoutItem {
  const fresh = payoutEntity.item(fields, at);
  if (!current) return fresh;
  return { ...fresh, createdAt: current.createdAt, version: current.version };
}

// ------------------------------------------------------------------------------------------------ pay one window

/**
 * Pays (or holds, or carries forward) one partner's window in one currency (module comment). 404 partner_not_found,
 * 409 partner_not_approved, 422 unknown_currency.
 */
export async function payPartner(input: PayPartnerInput, ctx: CommandContext): Promise<PayoutOutcome> {
  if (!isCurrency(input.currency)) {
    throw new DomainError('unknown_currency', 'unprocessable', 'Unknown currency', [
      { field: 'currency', code: 'unknown_currency', message: 'Unknown currency' },
    ]);
  }
  const payoutId = payoutIdOf(input.partnerId, input.localDate, input.currency);
  const journalId = payoutJournalId(payoutId);
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const existing = await getPayout(payoutId, { consistent: true });
    if (existing?.status === 'paid') return { outcome: 'paid', payout: existing, replayed: true };
    const partner = await getPartner(input.partnerId, { consistent: true });
    if (!partner) throw partnerNotFound();
    const posted = await getJournal(journalId);
    if (posted) {
      await completeFromJournal(posted, partner, existing, ctx);
      continue;
    }
    if (partner.status !== 'approved') throw partnerNotApproved();
    const from = windowStart(partner.paidThrough, input.currency);
    const lines = await windowLines(partner.partnerId, input.currency, from, input.cutoff);
    if (lines.length === 0) return { outcome: 'nothing', from, periodEnd: input.cutoff };
    const w: Window = {
      partner,
      currency: input.currency,
      payoutId,
      localDate: input.localDate,
      from,
      periodEnd: input.cutoff,
      net: lines.reduce((s, l) => s + BigInt(l.amount), 0n),
      lines: lines.length,
    };
    const minimum = minimumOf(tenantConfig().partners.payoutMinimum, input.currency);
    // KYC is required for payouts (not for approval): an unverified partner's payouts are held like a review hold.
    const kycApproved = (await getClientProfile(partner.clientId))?.kycStatus === 'approved';
    w.holdReason = partner.hold?.reason ?? (kycApproved ? undefined : KYC_HOLD_REASON);
    const status = payoutOutcome({ net: w.net, minimum, held: w.holdReason !== undefined });
    try {
      if (status !== 'paid') return await recordUnpaid(w, status, minimum, existing, ctx);
      return await pay(w, ctx);
    } catch (err) {
      if (err instanceof Moved || isRace(err)) continue; // the window or the day's item moved: read again
      throw err;
    }
  }
  throw new DomainError('concurrent_modification', 'conflict', 'The payout kept changing concurrently; retry');
}

/** Held or below the minimum: the day's payout item (new, or replacing the day's earlier one), audited. */
async function recordUnpaid(
  w: Window,
  status: Exclude<PayoutStatus, 'paid'>,
  minimum: bigint,
  current: PayoutItem | undefined,
  ctx: CommandContext,
): Promise<PayoutOutcome> {
  const at = new Date().toISOString();
  const fields = {
    ...payoutFields(w, status),
    ...(status === 'below_minimum' ? { minimum: minimum.toString() } : {}),
    ...(status === 'held' && w.holdReason ? { holdReason: w.holdReason } : {}),
  };
  const next = nextPayout(current, fields, at);
  if (current && JSON.stringify(payoutSnapshot(current)) === JSON.stringify(payoutSnapshot(next))) {
    return { outcome: status, payout: current };
  }
  const { write, after } = payoutWrite(current, next, at);
  await commit({ writes: [write], audit: audit(`partner.payout.${status}`, after, current, ctx) });
  logger.info('partner payout not paid', { payoutId: w.payoutId, status, lines: w.lines });
  return { outcome: status, payout: after };
}

/** The journal with the payout item, paidThrough, the audit entry and the event in its transaction. */
async function pay(w: Window, ctx: CommandContext): Promise<PayoutOutcome> {
  const ledgerCtx = { actor: ACTOR, requestId: ctx.requestId };
  const [wallet, expense] = await Promise.all([
    ensureWallet(w.partner.clientId, w.currency, ledgerCtx),
    houseAccount('commission_expense', w.currency),
  ]);
  const journalId = payoutJournalId(w.payoutId);
  const draft: JournalDraft = {
    journalId,
    type: 'commission',
    postings: [
      { accountId: expense.accountId, amount: -w.net, currency: w.currency },
      { accountId: wallet.accountId, amount: w.net, currency: w.currency },
    ],
    reference: w.payoutId,
    description: 'Partner commission payout',
    metadata: {
      partnerPayout: {
        payoutId: w.payoutId,
        partnerId: w.partner.partnerId,
        localDate: w.localDate,
        from: w.from,
        periodEnd: w.periodEnd,
        amount: w.net.toString(),
        lines: w.lines,
      },
    },
  };
  try {
    await executeJournal(
      {
        draft,
        idempotency: { scope: JOURNAL_SCOPE, key: w.payoutId, requestHash: payoutRequestHash({ ...w, amount: w.net }) },
        actor: ACTOR,
        requestId: ctx.requestId,
        clientId: w.partner.clientId,
      },
      {
        prepare: async ({ at }) => {
          const [current, partner] = await Promise.all([
            getPayout(w.payoutId, { consistent: true }),
            getPartner(w.partner.partnerId, { consistent: true }),
          ]);
          if (current?.status === 'paid') throw new Settled();
          if (!partner) throw partnerNotFound();
          if (partner.status !== 'approved' || partner.hold || windowStart(partner.paidThrough, w.currency) !== w.from) {
            throw new Moved();
          }
          const next = nextPayout(current, { ...payoutFields(w, 'paid'), journalId, paidAt: at }, at);
          const { write, after } = payoutWrite(current, next, at);
          const paidThrough = { ...partner.paidThrough, [w.currency]: w.periodEnd };
          return {
            adjusted: new Set<string>(),
            writes: [write, partnerEntity.patch(partner, { ...partner, paidThrough }, at, { onRace: raced() })],
            audit: [audit('partner.payout.paid', after, current, ctx)],
            outbox: [paidEvent(after)],
          };
        },
      },
    );
  } catch (err) {
    if (err instanceof Moved) throw err;
    // a twin paid it (Settled, the idempotency item taken, a lost race): its item is the answer
    const paid = await getPayout(w.payoutId, { consistent: true });
    if (paid?.status === 'paid') return { outcome: 'paid', payout: paid, replayed: true };
    throw err;
  }
  faults.afterJournal?.(w.payoutId);
  const paid = await getPayout(w.payoutId, { consistent: true });
  if (paid?.status !== 'paid') throw new Error(`partner payouts: ${w.payoutId} was posted without its payout item`);
  logger.info('partner payout paid', { payoutId: w.payoutId, lines: w.lines, currency: w.currency });
  return { outcome: 'paid', payout: paid, replayed: false };
}

interface JournalPayout {
  payoutId: string;
  partnerId: string;
  localDate: string;
  from: string;
  periodEnd: string;
  amount: string;
  lines: number;
}

function journalPayoutOf(j: PostedJournal): JournalPayout {
  const m = j.metadata.partnerPayout as Partial<JournalPayout> | undefined;
  const ok =
    m &&
    typeof m.payoutId === 'string' &&
    typeof m.partnerId === 'string' &&
    typeof m.localDate === 'string' &&
    typeof m.from === 'string' &&
    typeof m.periodEnd === 'string' &&
    typeof m.amount === 'string' &&
    /^-?\d+$/.test(m.amount) &&
    typeof m.lines === 'number';
  if (!ok) throw new Error(`partner payouts: journal ${j.journalId} carries no payout metadata`);
  return m as JournalPayout;
}

/**
 * A payout's journal found without its paid item: the item, paidThrough, the audit entry and the event are written
 * from the journal's own metadata (the money moved once; this completes the rest, once).
 */
async function completeFromJournal(
  j: PostedJournal,
  partner: PartnerItem,
  current: PayoutItem | undefined,
  ctx: CommandContext,
): Promise<void> {
  const m = journalPayoutOf(j);
  const currency = j.postings[0]?.currency ?? '';
  const through = partner.paidThrough[currency];
  const writes: CommitWrite[] = [];
  const at = new Date().toISOString();
  if ((through ?? PAYOUT_EPOCH) === m.from) {
    const paidThrough = { ...partner.paidThrough, [currency]: m.periodEnd };
    writes.push(partnerEntity.patch(partner, { ...partner, paidThrough }, at, { onRace: raced() }));
  } else if (!through || through < m.periodEnd) {
    throw new Error(`partner payouts: ${m.payoutId}'s journal window does not follow the partner's paidThrough`);
  }
  const next = nextPayout(
    current,
    {
      payoutId: m.payoutId,
      partnerId: m.partnerId,
      clientId: partner.clientId,
      currency,
      localDate: m.localDate,
      from: m.from,
      periodEnd: m.periodEnd,
      amount: m.amount,
      lines: m.lines,
      status: 'paid',
      journalId: j.journalId,
      paidAt: j.postedAt,
      recovered: true,
    },
    at,
  );
  const { write, after } = payoutWrite(current, next, at);
  try {
    await commit({
      writes: [write, ...writes],
      audit: audit('partner.payout.paid', after, current, ctx),
      outbox: [paidEvent(after)],
    });
    logger.warn('partner payouts: completed a payout from its journal', { payoutId: m.payoutId });
  } catch (err) {
    if (!isRace(err)) throw err; // a twin completed it: the caller reads it again
  }
}

// ------------------------------------------------------------------------------------------------ the daily run

export interface PayoutRunSummary {
  /** Approved partners looked at. */
  partners: number;
  /** Of them, due on the date. */
  due: number;
  paid: number;
  held: number;
  belowMinimum: number;
  /** Payout ids already paid by an earlier run of the day. */
  replayed: number;
  failed: number;
}

/** The currencies a partner's payout run looks at: the tenant's, those of its minimums and those it was paid in. */
function currenciesOf(partner: PartnerItem): string[] {
  const cfg = tenantConfig();
  return [...new Set([...cfg.currencies, ...Object.keys(cfg.partners.payoutMinimum), ...Object.keys(partner.paidThrough)])]
    .filter(isCurrency)
    .sort();
}

/**
 * The currencies with at least one line in their window up to `cutoff`, read in one pass from the earliest window
 * start (the epoch for a currency never paid).
 */
async function currenciesWithLines(partner: PartnerItem, cutoff: string): Promise<string[]> {
  const starts = new Map(currenciesOf(partner).map((c) => [c, windowStart(partner.paidThrough, c)]));
  const earliest = [...starts.values()].reduce((a, b) => (a < b ? a : b), cutoff);
  const found = new Set<string>();
  if (earliest >= cutoff) return [];
  for await (const page of partnerLines(partner.partnerId, earliest, cutoff)) {
    for (const l of page) {
      const start = starts.get(l.currency) ?? PAYOUT_EPOCH;
      if (l.accruedAt > start) found.add(l.currency);
    }
  }
  return [...found].sort();
}

/**
 * The daily run (manifest schedule 'partner-payouts', 01:00 tenant time): every approved partner whose schedule is
 * due on `localDate` (default: the tenant-local date of `now`) is paid, per currency with lines, its window up to
 * `now` less the tenant's payoutSafetySeconds.
 */
export async function runPayouts(input: { now?: Date; localDate?: string }, ctx: CommandContext): Promise<PayoutRunSummary> {
  const cfg = tenantConfig();
  const now = input.now ?? ctx.now ?? new Date();
  const localDate = input.localDate ?? tenantLocalDate(now, cfg.timezone);
  const cutoff = windowEnd(now, cfg.partners.payoutSafetySeconds);
  const out: PayoutRunSummary = { partners: 0, due: 0, paid: 0, held: 0, belowMinimum: 0, replayed: 0, failed: 0 };
  let cursor: string | undefined;
  do {
    const page = await listPartnersByStatus('approved', { limit: 100, cursor });
    for (const partner of page.items) {
      out.partners += 1;
      if (!payoutDue(partner.payout.schedule, localDate)) continue;
      out.due += 1;
      try {
        for (const currency of await currenciesWithLines(partner, cutoff)) {
          const r = await payPartner({ partnerId: partner.partnerId, currency, cutoff, localDate }, ctx);
          if (r.outcome === 'paid') {
            if (r.replayed) out.replayed += 1;
            else out.paid += 1;
          } else if (r.outcome === 'held') out.held += 1;
          else if (r.outcome === 'below_minimum') out.belowMinimum += 1;
        }
      } catch (err) {
        out.failed += 1;
        logger.error('partner payouts: paying a partner failed', {
          partnerId: partner.partnerId,
          error: (err as Error).name,
          detail: (err as Error).message,
          code: isDomainError(err) ? err.code : undefined,
        });
      }
    }
    cursor = page.hasMore ? page.nextCursor : undefined;
  } while (cursor);
  return out;
}
