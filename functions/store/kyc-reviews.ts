/**
 * The compliance review queue, read side: the gsi2 partitions KYCREVIEWS#pending (open manual reviews,
 * by queuedAt) and KYCREVIEWS#decided (decided reviews, by decidedAt) that functions/store/kyc.ts
 * derives from each submission's `review` block. A review's id is its submission's id.
 *
 * Invariants:
 * - read only: nothing here writes (the queue follows the submission, which kyc.ts writes)
 * - counts are COUNT queries on the index, followed page by page to the end (never a table scan, never a
 *   capped count), so pendingCount and decisionsLast24h are exact at the time of the read (the index is
 *   eventually consistent: a review queued or decided a moment ago may not be counted yet)
 * - queuePosition counts the pending reviews queued strictly before the given time (0 when none is given):
 *   a review is never ahead of itself, and two reviews queued at the same instant do not count each other
 * - recentDurationsMinutes are queued -> decided times of at most RECENT_DECIDED reviews, newest first
 * - listReviews pages one partition with queryPage (opaque, partition-bound cursors): pending oldest
 *   first (the order officers work in), decided newest first
 * - every item read is parsed by the submission's schema (kycSubmissionEntity in kyc.ts; the projected review
 *   block by its part of it), so a malformed item is a StoredItemError, never a silent cast
 * - nothing here logs: submissions name clients
 */
import { QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { ddb } from '#shared/clients.ts';
import { tableName } from './items.ts';
import { kycKeys } from './keys.ts';
import { type KycSubmissionItem, kycSubmissionEntity, submissionReviewSchema } from './kyc.ts';
import type { Page } from './pagination.ts';
import { parsePart } from './schemas.ts';

/** How many decided reviews the recent review times are taken from. */
export const RECENT_DECIDED = 50;
const DAY_MS = 24 * 60 * 60 * 1000;

export type ReviewStatus = 'pending' | 'decided';

export interface ReviewQueueStats {
  /** Pending reviews queued strictly before the given queuedAt (0 when none was given). */
  queuePosition: number;
  /** Open manual reviews. */
  pendingCount: number;
  /** Queued -> decided, in minutes, of the last RECENT_DECIDED decided reviews, newest first. */
  recentDurationsMinutes: number[];
  /** Reviews decided within the 24 hours before `now`. */
  decisionsLast24h: number;
}

/** Exact count of a gsi2 query, following every page. */
async function count(input: Omit<QueryCommandInput, 'TableName' | 'IndexName' | 'Select' | 'ExclusiveStartKey'>) {
  let total = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const res = await ddb().send(
      new QueryCommand({ ...input, TableName: tableName(), IndexName: 'gsi2', Select: 'COUNT', ExclusiveStartKey: start }),
    );
    total += res.Count ?? 0;
    start = res.LastEvaluatedKey;
  } while (start);
  return total;
}

const pendingPartition = kycKeys.reviewQueuePartition('pending');
const decidedPartition = kycKeys.reviewQueuePartition('decided');

/** Queue facts for the client's status view (GET /v1/kyc) and the ETA (domain/kyc/eta.ts). */
export async function reviewQueueStats(now: Date, queuedAt?: string): Promise<ReviewQueueStats> {
  const since = new Date(now.getTime() - DAY_MS).toISOString();
  const [pendingCount, queuePosition, recent, decisionsLast24h] = await Promise.all([
    count({ KeyConditionExpression: 'gsi2pk = :pk', ExpressionAttributeValues: { ':pk': pendingPartition } }),
    queuedAt === undefined
      ? Promise.resolve(0)
      : count({
          // gsi2sk is `${queuedAt}#${submissionId}`: every sk of a review queued at `queuedAt` or later is >= it.
          KeyConditionExpression: 'gsi2pk = :pk AND gsi2sk < :at',
          ExpressionAttributeValues: { ':pk': pendingPartition, ':at': queuedAt },
        }),
    ddb().send(
      new QueryCommand({
        TableName: tableName(),
        IndexName: 'gsi2',
        KeyConditionExpression: 'gsi2pk = :pk',
        ExpressionAttributeValues: { ':pk': decidedPartition },
        ProjectionExpression: '#r',
        ExpressionAttributeNames: { '#r': 'review' },
        ScanIndexForward: false,
        Limit: RECENT_DECIDED,
      }),
    ),
    count({
      KeyConditionExpression: 'gsi2pk = :pk AND gsi2sk >= :since',
      ExpressionAttributeValues: { ':pk': decidedPartition, ':since': since },
    }),
  ]);
  const recentDurationsMinutes: number[] = [];
  for (const item of recent.Items ?? []) {
    const r = parseProjectedReview(item);
    if (!r?.decidedAt) continue;
    const ms = Date.parse(r.decidedAt) - Date.parse(r.queuedAt);
    if (Number.isFinite(ms) && ms >= 0) recentDurationsMinutes.push(Math.round(ms / 60_000));
  }
  return { queuePosition, pendingCount, recentDurationsMinutes, decisionsLast24h };
}

/** The `review` block of a submission read with a projection, parsed by the submission's own review schema. */
const projectedReview = z.object({ review: submissionReviewSchema.optional() });
const parseProjectedReview = (raw: Record<string, unknown>) => parsePart(kycSubmissionEntity.type, projectedReview, raw).review;

/** One page of the review queue: pending oldest first, decided newest first. */
export function listReviews(q: {
  status: ReviewStatus;
  limit: number;
  cursor?: string | undefined;
}): Promise<Page<KycSubmissionItem>> {
  return kycSubmissionEntity.query({
    index: 'gsi2',
    partition: kycKeys.reviewQueuePartition(q.status),
    limit: q.limit,
    cursor: q.cursor,
    forward: q.status === 'pending',
  });
}
