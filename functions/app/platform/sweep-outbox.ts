/**
 * Republishes outbox items that are still unpublished SWEEP_AFTER_MINUTES after they occurred (the
 * outbox-sweeper job): the relay's stream batch was lost (retries exhausted, record older than the stream's
 * 24 h retention), PutEvents rejected the entry, or marking failed.
 *
 * Delivery contract: AT LEAST ONCE. An item the relay is still retrying, or one the relay published but
 * could not mark, is published again here; consumers de-duplicate by detail.eventId (the outbox eventId).
 * What this guarantees is that no committed event is lost for good: an unpublished outbox item never
 * expires (its TTL is set only when it is marked published) and stays on the sparse pending index
 * (gsi2 OUTBOXPENDING#<0..7>) until then.
 *
 * Invariants:
 * - reads only the pending index (never scans the table), then re-reads the candidates with a consistent
 *   BatchGet, so an item already marked published is not resent because of index lag
 * - within one run, each pending item is published at most once (published items leave the index)
 * - items are published in chunks of 10 and each accepted item is marked published right after
 *   (publish-outbox-events.ts, as the relay does); rejected items stay pending for the next run
 * - at most MAX_ITEMS_PER_RUN items per run (the next run continues)
 * - writes nothing to the table but the marks
 */
import type { CommandContext } from '#app/context.ts';
import { env } from '#shared/env.ts';
import { pendingOutboxItems, stillPending } from '#store/outbox.ts';
import { publishAndMark } from './publish-outbox-events.ts';

/** An item unpublished for longer than this is republished (the relay normally marks within seconds). */
export const SWEEP_AFTER_MINUTES = 5;
export const MAX_ITEMS_PER_RUN = 5_000;

export interface SweepOutboxInput {
  olderThanMinutes?: number | undefined;
  maxItems?: number | undefined;
  busName?: string | undefined;
}

export interface SweepResult {
  /** Pending items older than the window, as found on the index (before the consistent re-read). */
  candidates: number;
  republished: number;
  failed: number;
  unmarked: number;
  /** True when MAX_ITEMS_PER_RUN stopped the run before the index was exhausted. */
  truncated: boolean;
}

export async function sweepOutbox(input: SweepOutboxInput, ctx: CommandContext): Promise<SweepResult> {
  const now = ctx.now ?? new Date();
  const before = new Date(now.getTime() - (input.olderThanMinutes ?? SWEEP_AFTER_MINUTES) * 60_000);
  const maxItems = input.maxItems ?? MAX_ITEMS_PER_RUN;
  const busName = input.busName ?? env.eventBusName;
  const result: SweepResult = { candidates: 0, republished: 0, failed: 0, unmarked: 0, truncated: false };
  for await (const page of pendingOutboxItems(before)) {
    if (result.candidates >= maxItems) {
      result.truncated = true;
      break;
    }
    const ids = page.slice(0, maxItems - result.candidates).map((i) => i.eventId);
    result.candidates += ids.length;
    const items = await stillPending(ids);
    const res = await publishAndMark(
      items.map((item) => ({ item })),
      busName,
    );
    result.republished += res.published.length;
    result.failed += res.failed.length;
    result.unmarked += res.unmarked.length;
  }
  return result;
}
