/**
 * Use case: the compliance review queue (GET /v1/admin/kyc/reviews): pending reviews oldest first (queuedAt),
 * or decided ones newest first (decidedAt), a page at a time (store/kyc-reviews.ts listReviews).
 *
 * Invariants:
 * - high-priority reviews are NOT moved to the front across pages (the index is ordered by time only):
 *   each item carries its priority so the UI can filter or highlight them
 * - a review older than the tenant's kyc.reviewSlaHours has breached its SLA (a decided one: decided after
 *   the SLA), see shared.ts reviewTiming
 * - each item names its client (name and country of residence, null when the profile is gone); the task
 *   token never leaves the server
 */
import type { CommandContext } from '#app/context.ts';
import type { KycSubmission } from '#domain/kyc/submission.ts';
import { getClientProfile } from '#store/clients.ts';
import { listReviews as listReviewPage, type ReviewStatus } from '#store/kyc-reviews.ts';
import { type ReviewTiming, reviewTiming, toKycSubmission } from './shared.ts';

export type { ReviewStatus };

export interface ReviewQueueQuery {
  status: ReviewStatus;
  limit: number;
  cursor?: string | undefined;
}

export interface ReviewQueueItem {
  submission: KycSubmission;
  timing: ReviewTiming;
  clientName: string | null;
  country: string | null;
}

export interface ReviewQueuePage {
  items: ReviewQueueItem[];
  hasMore: boolean;
  nextCursor?: string;
}

export async function listReviews(query: ReviewQueueQuery, ctx: CommandContext): Promise<ReviewQueuePage> {
  const now = ctx.now ?? new Date();
  const page = await listReviewPage({ status: query.status, limit: query.limit, cursor: query.cursor });
  const clientIds = [...new Set(page.items.map((s) => s.clientId))];
  const profiles = new Map(
    (await Promise.all(clientIds.map((id) => getClientProfile(id)))).flatMap((p) => (p ? [[p.clientId, p] as const] : [])),
  );
  const items = page.items
    .filter((s) => s.review)
    .map((s): ReviewQueueItem => {
      const p = profiles.get(s.clientId);
      return {
        submission: toKycSubmission(s),
        timing: reviewTiming(s, now),
        clientName: p ? `${p.firstName} ${p.lastName}` : null,
        country: p?.countryOfResidence ?? null,
      };
    });
  return { items, hasMore: page.hasMore, ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
}
