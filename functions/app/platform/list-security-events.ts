/**
 * Security events in a time window, with the window's summary: what compliance reads
 * (GET /v1/admin/security-events; the items: functions/store/security-events.ts, ADR 0010).
 *
 * Invariants:
 * - the window is [from, to] in whole UTC hours (events are counted per hour: an hour that overlaps the
 *   window is in it); default the last 24 hours before ctx.now; from after to is 400 invalid_time_window,
 *   more than MAX_WINDOW_DAYS 400 time_window_too_large
 * - `kind` narrows to one kind (its own index partition); without it every kind is listed
 * - the page is newest hour first; a cursor belongs to its kind filter (another filter is 400 invalid_cursor)
 * - the summary covers the whole window (not just the page), over at most 5,000 events (`truncated` says
 *   when there were more)
 * - read only: the caller (compliance, admin: the edge's role check) is not recorded
 */

import type { CommandContext } from '#app/context.ts';
import { DomainError } from '#domain/errors.ts';
import type { Caller } from '#domain/identity/roles.ts';
import { hourBucket, type SecurityEventKind } from '#domain/security/events.ts';
import type { Page } from '#store/pagination.ts';
import {
  type SecurityEventItem,
  type SecuritySummary,
  listSecurityEvents as securityEventsPage,
  summarizeSecurityEvents,
} from '#store/security-events.ts';

export type { SecurityEventItem, SecuritySummary };

export const MAX_WINDOW_DAYS = 31;
const DAY_MS = 86_400_000;

export interface ListSecurityEventsInput {
  kind?: SecurityEventKind | undefined;
  /** ISO date-times; default: the 24 hours before ctx.now. */
  from?: string | undefined;
  to?: string | undefined;
  limit: number;
  cursor?: string | undefined;
}

export interface SecurityEventsResult {
  window: { from: string; to: string };
  summary: SecuritySummary;
  page: Page<SecurityEventItem>;
}

/** The window as hour buckets (see the module invariants). */
export function windowOf(q: { from?: string | undefined; to?: string | undefined }, now: Date) {
  const to = q.to ? new Date(q.to) : now;
  const from = q.from ? new Date(q.from) : new Date(to.getTime() - DAY_MS);
  if (from.getTime() > to.getTime()) {
    throw new DomainError('invalid_time_window', 'validation', 'from must not be after to', [
      { field: 'from', code: 'invalid_time_window', message: 'after to' },
    ]);
  }
  if (to.getTime() - from.getTime() > MAX_WINDOW_DAYS * DAY_MS) {
    throw new DomainError('time_window_too_large', 'validation', `The window may span at most ${MAX_WINDOW_DAYS} days`, [
      { field: 'from', code: 'time_window_too_large', message: `at most ${MAX_WINDOW_DAYS} days before to` },
    ]);
  }
  return { from: from.toISOString(), to: to.toISOString(), fromBucket: hourBucket(from), toBucket: hourBucket(to) };
}

export async function listSecurityEvents(
  input: ListSecurityEventsInput,
  _caller: Caller,
  ctx: CommandContext,
): Promise<SecurityEventsResult> {
  const w = windowOf(input, ctx.now ?? new Date());
  const filter = { kind: input.kind, fromBucket: w.fromBucket, toBucket: w.toBucket };
  const [page, summary] = await Promise.all([
    securityEventsPage({ ...filter, limit: input.limit, cursor: input.cursor }),
    summarizeSecurityEvents(filter),
  ]);
  return { window: { from: w.from, to: w.to }, summary, page };
}
