/**
 * Estimated completion of a KYC submission, shown to the client while it waits. Pure; the clock and
 * the queue statistics are passed in (the store computes them from the review queue).
 *
 * Definition (manual review):
 *   base      = median of `recentDurationsMinutes` (queued -> decided of recently decided reviews),
 *               or `defaultMinutes` (24 h) when fewer than 3 usable samples (finite, >= 0) exist
 *   perReview = 24 * 60 / max(decisionsLast24h, 1)       minutes one decision takes at the recent pace
 *   minutes   = ceil(base + queuePosition * perReview), capped at 14 days (20160 minutes)
 *   at        = now + minutes
 * where queuePosition is 0-based among the pending reviews older than this one (0 = next in line).
 * The median of an even number of samples is the mean of the two middle ones.
 *
 * Automatic processing (status 'processing'): a fixed 2 minutes.
 *
 * Invariants:
 * - minutes is a whole number >= 0 and <= MAX_ETA_MINUTES; `at` is `now` + minutes as an ISO instant
 * - non-decreasing in queuePosition (waiting behind more reviews never shortens the estimate) and
 *   non-increasing in decisionsLast24h
 * - basis says where the base came from: 'recent_reviews' (the median) or 'default'
 * - an invalid queuePosition (negative, fractional, not finite), decisionsLast24h or defaultMinutes
 *   (negative, not finite) is a programming error: RangeError; unusable samples are ignored
 */

export const MINUTES_PER_DAY = 24 * 60;
export const DEFAULT_REVIEW_ETA_MINUTES = MINUTES_PER_DAY;
export const MAX_ETA_MINUTES = 14 * MINUTES_PER_DAY;
export const PROCESSING_ETA_MINUTES = 2;
/** Fewer recent samples than this and the default is used instead of the median. */
export const MIN_ETA_SAMPLES = 3;

export type EtaBasis = 'recent_reviews' | 'default' | 'automatic_processing';

export interface Eta {
  minutes: number;
  /** ISO instant: now + minutes. */
  at: string;
  basis: EtaBasis;
}

export interface ReviewEtaInput {
  now: Date;
  /** 0-based position among the pending reviews older than this one. */
  queuePosition: number;
  /** queued -> decided durations of recently decided reviews, in minutes. */
  recentDurationsMinutes: readonly number[];
  /** Review decisions made in the last 24 hours (the recent pace). */
  decisionsLast24h: number;
  /** Base when there are too few samples; 24 h. */
  defaultMinutes?: number;
}

const addMinutes = (now: Date, minutes: number) => new Date(now.getTime() + minutes * 60_000).toISOString();

function median(sorted: readonly number[]): number {
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The estimated completion of a submission waiting in the manual review queue (see the module definition). */
export function estimateReviewEta(input: ReviewEtaInput): Eta & { basis: 'recent_reviews' | 'default' } {
  const { now, queuePosition, decisionsLast24h } = input;
  if (!Number.isSafeInteger(queuePosition) || queuePosition < 0) {
    throw new RangeError(`queuePosition must be a whole number >= 0, got ${queuePosition}`);
  }
  if (!Number.isFinite(decisionsLast24h) || decisionsLast24h < 0) {
    throw new RangeError(`decisionsLast24h must be a finite number >= 0, got ${decisionsLast24h}`);
  }
  const defaultMinutes = input.defaultMinutes ?? DEFAULT_REVIEW_ETA_MINUTES;
  if (!Number.isFinite(defaultMinutes) || defaultMinutes < 0) {
    throw new RangeError(`defaultMinutes must be a finite number >= 0, got ${defaultMinutes}`);
  }
  const samples = input.recentDurationsMinutes.filter((m) => Number.isFinite(m) && m >= 0).sort((a, b) => a - b);
  const fromSamples = samples.length >= MIN_ETA_SAMPLES;
  const base = fromSamples ? median(samples) : defaultMinutes;
  const pace = Math.max(decisionsLast24h, 1);
  // base + q * 1440 / pace, divided once so whole-number results stay exact before rounding up.
  const raw = Math.ceil((base * pace + queuePosition * MINUTES_PER_DAY) / pace);
  const minutes = Math.min(Math.max(raw, 0), MAX_ETA_MINUTES);
  return { minutes, at: addMinutes(now, minutes), basis: fromSamples ? 'recent_reviews' : 'default' };
}

/** The estimated completion of a submission in automatic processing: 2 minutes from now. */
export function estimateProcessingEta(now: Date): Eta {
  return { minutes: PROCESSING_ETA_MINUTES, at: addMinutes(now, PROCESSING_ETA_MINUTES), basis: 'automatic_processing' };
}
