/**
 * Use case (one pass of the kyc-watchdog job, functions/jobs/kyc-watchdog.ts): makes sure every undecided
 * KYC submission has a live kyc-review execution, and that the execution waiting on a decided review is
 * resumed. Every Step Functions call goes through the workflow port (functions/app/ports/workflow.ts).
 *
 * Why: the outbox makes the 'kyc.submission.created' event at-least-once, but once it is published the
 * start is kyc-start's alone; if kyc-start fails on every Lambda retry, nothing starts the execution. And
 * an execution that FAILED, TIMED_OUT or was ABORTED (a Lambda error after the state's retries, or a
 * StopExecution; a local runtime restart no longer aborts: local/aws/states.ts resumes running executions)
 * leaves its submission 'processing', or 'in_review' with a task token nobody waits on.
 *
 * And a decided review whose callback was lost (the decision route crashed after its commit, or
 * SendTaskSuccess failed on every attempt) leaves its execution waiting in AwaitReview forever.
 *
 * What it reads (named store queries, store/kyc.ts; never a scan), oldest first, at most MAX_ITEMS_PER_LIST
 * per list and run:
 * - gsi2 KYCPROCESSING (status 'processing' without a review) submitted more than STALE_AFTER_MINUTES ago
 * - gsi2 KYCREVIEWS#pending (open manual reviews) queued more than STALE_AFTER_MINUTES ago
 * - gsi2 KYCREVIEWS#decided (decided reviews, by decidedAt) decided between CALLBACK_LOOKBACK_DAYS and
 *   CALLBACK_GRACE_MINUTES ago, filtered to callbackPending. Each is re-read consistently and, when the
 *   callback is still pending, gets the callback the route would have sent (callbacks.ts: same
 *   token, same output { submissionId, decision }); once sent (or the token is gone) the token and the flag
 *   are cleared. kyc-finalize is idempotent, so a callback sent twice decides nothing twice
 * For each, on a consistent re-read (a submission decided meanwhile is skipped), DescribeExecution of the
 * submission's recorded `executionName` (the submissionId; `<submissionId>-r<n>` after n restarts):
 * - RUNNING (or PENDING_REDRIVE): left alone
 * - ExecutionDoesNotExist: the start was lost; StartExecution under the recorded name with the input
 *   kyc-start builds (shared.ts reviewExecutionInput). Same name and input, so a late kyc-start or a concurrent run
 *   cannot make a second execution (ExecutionAlreadyExists, or the idempotent same-input answer)
 * - any other status (FAILED, TIMED_OUT, ABORTED; SUCCEEDED cannot leave a submission undecided, and is
 *   treated the same): ONE version-conditioned commit records executionName `<submissionId>-r<n+1>` and
 *   executionAttempt n+1 with the audit item 'kyc.review.restarted' (evidence: the previous execution,
 *   its status and error name, the attempt), THEN StartExecution under the new name. A start lost after
 *   the commit is found by the next run as ExecutionDoesNotExist and started then. The steps are
 *   idempotent (analysis is not redone once assessed, assess returns its stored checks, open-review
 *   replaces the dead token of a pending review, finalize no-ops on a final submission)
 * - after MAX_RESTARTS restarts, a terminal execution is not restarted again: ONE commit sets
 *   executionStalledAt and hands the submission to a human - status 'in_review', a pending review with
 *   priority 'high' (an open review keeps its queuedAt), the issue 'verification_stalled' (evidence: reason
 *   'execution_stalled', attempts, the last execution and its status) added to its checks, no task token
 *   (nothing waits on it: the decision route sends no callback) - with the audit item 'kyc.review.stalled';
 *   the metric KycReviewsStalled (which alarms) counts it. It is then in the compliance queue like any
 *   review; later runs skip it without a call
 *
 * Invariants:
 * - a lost race (the commit's version condition) skips the submission: the next run looks again
 * - one failing submission never stops the run: it is counted in `failed` and logged with ids and the
 *   error name only (no PII); a callback that fails again counts as failed. The job throws after recording
 *   the result, so the Errors alarm fires
 * - writes nothing but the restarts, stalls and cleared callbacks
 */

import type { CommandContext } from '#app/context.ts';
import { LIVE_EXECUTION, restartExecutionName, workflows } from '#app/ports/workflow.ts';
import { isDomainError } from '#domain/errors.ts';
import type { KycIssue } from '#domain/kyc/model.ts';
import { isFinalSubmissionStatus } from '#domain/kyc/submission.ts';
import { logger } from '#shared/powertools.ts';
import { commit, systemActor } from '#store/audit.ts';
import {
  decidedWithPendingCallback,
  getKycSubmission,
  type KycSubmissionItem,
  replaceKycSubmission,
  staleSubmissions,
} from '#store/kyc.ts';
import { resumeDecidedReview } from './callbacks.ts';
import { isConflict } from './decisions.ts';
import { KYC_REVIEW_MACHINE, reviewExecutionInput } from './shared.ts';

export const JOB = 'kyc-watchdog';
/** A submission (or open review) older than this without a live execution is repaired. */
export const STALE_AFTER_MINUTES = 10;
/** Restarts per submission before the watchdog gives up (KycReviewsStalled). */
export const MAX_RESTARTS = 3;
/** Submissions read per list (processing, pending reviews, pending callbacks) and run; the next run continues. */
export const MAX_ITEMS_PER_LIST = 500;
/** A decided review's callback still pending after this long was lost (the route sends it within seconds). */
export const CALLBACK_GRACE_MINUTES = 5;
/**
 * How far back decided reviews are searched for a pending callback. Bounds what each run reads (the decided
 * list only grows); a callback still failing after this long has kept the run failing, and alarming, all along.
 */
export const CALLBACK_LOOKBACK_DAYS = 7;
/** Submissions checked at once (DescribeExecution calls in flight). */
const CONCURRENCY = 5;

const ACTOR = systemActor(JOB);

export interface KycWatchdogResult {
  /** Submissions read from the lists (older than the window). */
  scanned: number;
  /** Executions that did not exist (lost start), started under their recorded name. */
  started: number;
  /** Executions that had ended without a decision, restarted under a new name. */
  restarted: number;
  /** Newly given up on after MAX_RESTARTS (alarmed). */
  stalled: number;
  /** Decided reviews whose lost callback (SendTaskSuccess) was sent again, or found not owed any more. */
  resumed: number;
  failed: number;
  /** True when MAX_ITEMS_PER_LIST stopped a list before it was exhausted. */
  truncated: boolean;
}

type Outcome = 'live' | 'started' | 'restarted' | 'stalled' | 'resumed' | 'skipped';

export interface RepairOptions {
  /** How old a submission (or open review) must be to be looked at; STALE_AFTER_MINUTES by default. */
  olderThanMinutes?: number | undefined;
  /** Submissions read per list and run; MAX_ITEMS_PER_LIST by default. */
  maxItemsPerList?: number | undefined;
}

interface Ctx {
  now: Date;
  requestId: string;
}

/** An execution as the watchdog sees it: its status, or 'MISSING' when it was never started. */
type ExecutionState = { status: string; error?: string | undefined };

async function describe(name: string): Promise<ExecutionState> {
  const execution = await workflows().describe(KYC_REVIEW_MACHINE, name);
  return execution ? { status: execution.status, error: execution.error } : { status: 'MISSING' };
}

/** Starts the execution under `name` with the input kyc-start builds; true when this call started it. */
async function start(name: string, s: KycSubmissionItem): Promise<boolean> {
  return (await workflows().start(KYC_REVIEW_MACHINE, name, reviewExecutionInput(s))).started;
}

async function restart(ctx: Ctx, s: KycSubmissionItem, previous: ExecutionState) {
  const at = ctx.now.toISOString();
  const attempt = (s.executionAttempt ?? 0) + 1;
  const name = restartExecutionName(s.submissionId, attempt);
  const next: KycSubmissionItem = { ...s, executionName: name, executionAttempt: attempt };
  await commit({
    writes: [replaceKycSubmission(s, next, at)],
    audit: {
      actor: ACTOR,
      action: 'kyc.review.restarted',
      entity: { type: 'kyc-submission', id: s.submissionId },
      clientId: s.clientId,
      before: { executionName: s.executionName, executionAttempt: s.executionAttempt ?? 0 },
      after: { executionName: name, executionAttempt: attempt },
      evidence: {
        status: s.status,
        previousExecution: s.executionName,
        previousStatus: previous.status,
        previousError: previous.error ?? null,
        attempt,
        maxRestarts: MAX_RESTARTS,
      },
      reason: 'the review execution ended without a decision',
      requestId: ctx.requestId,
    },
    now: () => ctx.now,
  });
  await start(name, s);
  logger.warn('kyc-watchdog: review execution restarted', {
    submissionId: s.submissionId,
    previousStatus: previous.status,
    attempt,
  });
}

/** The issue a stalled submission is queued with: why a human must decide it. */
export function stalledIssue(s: KycSubmissionItem, execution: ExecutionState): KycIssue {
  const restarts = s.executionAttempt ?? 0;
  return {
    code: 'verification_stalled',
    severity: 'review',
    evidence: {
      reason: 'execution_stalled',
      // Executions run: the first one and every restart.
      attempts: restarts + 1,
      restarts,
      stage: s.status,
      execution: s.executionName,
      executionStatus: execution.status,
      executionError: execution.error ?? null,
    },
    suggestedAction: 'manual_decision',
  };
}

/**
 * Gives up on the execution and hands the submission to a human, in ONE commit: executionStalledAt, status
 * 'in_review', a pending review (priority 'high'; an already pending review keeps its queuedAt), the
 * 'verification_stalled' issue, the timeline entry 'review_opened' (unless a review was already open), no
 * task token (no execution waits: the decision route finds none and sends no callback), and the audit item.
 */
async function markStalled(ctx: Ctx, s: KycSubmissionItem, previous: ExecutionState) {
  const at = ctx.now.toISOString();
  const issue = stalledIssue(s, previous);
  const wasPending = s.review?.status === 'pending';
  const review = wasPending
    ? { ...s.review!, priority: 'high' as const }
    : { status: 'pending' as const, queuedAt: at, priority: 'high' as const };
  const checks: NonNullable<KycSubmissionItem['checks']> = s.checks
    ? { ...s.checks, issues: [...s.checks.issues, issue] }
    : { issues: [issue], outcome: 'manual_review', priority: 'high' };
  const { taskToken: _dead, ...rest } = s;
  const next: KycSubmissionItem = {
    ...rest,
    status: 'in_review',
    executionStalledAt: at,
    checks,
    review,
    timeline: wasPending
      ? s.timeline
      : [...s.timeline, { step: 'review_opened', at, detail: { priority: 'high', reason: 'execution_stalled' } }],
  };
  await commit({
    writes: [replaceKycSubmission(s, next, at)],
    audit: {
      actor: ACTOR,
      action: 'kyc.review.stalled',
      entity: { type: 'kyc-submission', id: s.submissionId },
      clientId: s.clientId,
      before: { status: s.status, review: s.review ?? null, executionStalledAt: null },
      after: { status: next.status, review, executionStalledAt: at },
      evidence: {
        status: s.status,
        execution: s.executionName,
        executionStatus: previous.status,
        executionError: previous.error ?? null,
        restarts: s.executionAttempt ?? 0,
        maxRestarts: MAX_RESTARTS,
        issue,
      },
      reason: 'the review execution kept ending without a decision; a human must decide',
      requestId: ctx.requestId,
    },
    now: () => ctx.now,
  });
  logger.error('kyc-watchdog: review stalled, restarts exhausted; queued for a manual decision', {
    submissionId: s.submissionId,
    executionStatus: previous.status,
    restarts: s.executionAttempt ?? 0,
  });
}

/** One submission: a consistent re-read, DescribeExecution, then at most one commit and one start. */
async function check(ctx: Ctx, indexed: KycSubmissionItem): Promise<Outcome> {
  if (indexed.executionStalledAt) return 'skipped';
  const s = await getKycSubmission(indexed.submissionId);
  if (!s || isFinalSubmissionStatus(s.status) || s.executionStalledAt) return 'skipped';
  const name = s.executionName ?? s.submissionId;
  const execution = await describe(name);
  if ((LIVE_EXECUTION as ReadonlySet<string>).has(execution.status)) return 'live';
  try {
    if (execution.status === 'MISSING') {
      if (!(await start(name, s))) return 'live';
      logger.warn('kyc-watchdog: lost review start recovered', {
        submissionId: s.submissionId,
        attempt: s.executionAttempt ?? 0,
      });
      return 'started';
    }
    if ((s.executionAttempt ?? 0) >= MAX_RESTARTS) {
      await markStalled(ctx, s, execution);
      return 'stalled';
    }
    await restart(ctx, s, execution);
    return 'restarted';
  } catch (err) {
    if (isConflict(err)) return 'skipped';
    throw err;
  }
}

/** One decided review with a pending callback: a consistent re-read, then the same callback the route sends. */
async function resume(indexed: KycSubmissionItem): Promise<Outcome> {
  const s = await getKycSubmission(indexed.submissionId);
  if (!s?.callbackPending || !s.taskToken || !isFinalSubmissionStatus(s.status)) return 'skipped';
  const outcome = await resumeDecidedReview(s);
  if (outcome === 'failed') throw new Error('kyc-watchdog: the review callback failed again');
  logger.warn('kyc-watchdog: lost review callback recovered', { submissionId: s.submissionId, outcome: outcome ?? 'none' });
  return 'resumed';
}

/** One pass over the lists (see the module doc). */
export async function repairReviewExecutions(opts: RepairOptions, context: CommandContext): Promise<KycWatchdogResult> {
  const now = context.now ?? new Date();
  const ctx: Ctx = { now, requestId: context.requestId };
  const before = new Date(now.getTime() - (opts.olderThanMinutes ?? STALE_AFTER_MINUTES) * 60_000).toISOString();
  const maxItems = opts.maxItemsPerList ?? MAX_ITEMS_PER_LIST;
  const result: KycWatchdogResult = {
    scanned: 0,
    started: 0,
    restarted: 0,
    stalled: 0,
    resumed: 0,
    failed: 0,
    truncated: false,
  };
  const callbacksBefore = new Date(now.getTime() - CALLBACK_GRACE_MINUTES * 60_000).toISOString();
  const callbacksFrom = new Date(now.getTime() - CALLBACK_LOOKBACK_DAYS * 86_400_000).toISOString();
  const lists: [AsyncGenerator<KycSubmissionItem[]>, (item: KycSubmissionItem) => Promise<Outcome>][] = [
    [staleSubmissions('processing', before), (item) => check(ctx, item)],
    [staleSubmissions('pending', before), (item) => check(ctx, item)],
    [decidedWithPendingCallback(callbacksFrom, callbacksBefore), resume],
  ];

  for (const [pages, handle] of lists) {
    let read = 0;
    for await (const page of pages) {
      if (read >= maxItems) {
        result.truncated = true;
        break;
      }
      const items = page.slice(0, maxItems - read);
      read += items.length;
      result.scanned += items.length;
      for (let i = 0; i < items.length; i += CONCURRENCY) {
        const outcomes = await Promise.allSettled(items.slice(i, i + CONCURRENCY).map(handle));
        outcomes.forEach((o, j) => {
          if (o.status === 'fulfilled') {
            if (o.value === 'started') result.started++;
            else if (o.value === 'restarted') result.restarted++;
            else if (o.value === 'stalled') result.stalled++;
            else if (o.value === 'resumed') result.resumed++;
            return;
          }
          result.failed++;
          logger.error('kyc-watchdog: submission check failed', {
            submissionId: items[i + j]!.submissionId,
            error: isDomainError(o.reason) ? o.reason.code : ((o.reason as Error)?.name ?? 'Error'),
          });
        });
      }
    }
  }
  return result;
}
