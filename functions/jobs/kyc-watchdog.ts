/**
 * KYC watchdog job: every 10 minutes (manifest schedule 'kyc-watchdog') and on demand
 * (POST /v1/admin/jobs/kyc-watchdog/runs -> JOB_DETAIL_TYPE event with { job, runId, requestedBy }).
 * Makes sure every undecided KYC submission has a live kyc-review execution.
 *
 * Why: the outbox makes the 'kyc.submission.created' event at-least-once, but once it is published the
 * start is kyc-start's alone; if kyc-start fails on every Lambda retry, nothing starts the execution. And
 * an execution that FAILED, TIMED_OUT or was ABORTED (a Lambda error after the state's retries, or the
 * local runtime restarted mid-execution) leaves its submission 'processing', or 'in_review' with a task
 * token nobody waits on.
 *
 * What it reads (never a scan), oldest first, at most MAX_ITEMS_PER_LIST per list and run:
 * - gsi2 KYCPROCESSING (status 'processing' without a review) submitted more than STALE_AFTER_MINUTES ago
 * - gsi2 KYCREVIEWS#pending (open manual reviews) queued more than STALE_AFTER_MINUTES ago
 * For each, on a consistent re-read (a submission decided meanwhile is skipped), DescribeExecution of the
 * submission's recorded `executionName` (the submissionId; `<submissionId>-r<n>` after n restarts):
 * - RUNNING (or PENDING_REDRIVE): left alone
 * - ExecutionDoesNotExist: the start was lost; StartExecution under the recorded name with the input
 *   kyc-start builds (reviewExecutionInput). Same name and input, so a late kyc-start or a concurrent run
 *   cannot make a second execution (ExecutionAlreadyExists, or the idempotent same-input answer)
 * - any other status (FAILED, TIMED_OUT, ABORTED; SUCCEEDED cannot leave a submission undecided, and is
 *   treated the same): ONE version-conditioned commit records executionName `<submissionId>-r<n+1>` and
 *   executionAttempt n+1 with the audit item 'kyc.review.restarted' (evidence: the previous execution,
 *   its status and error name, the attempt), THEN StartExecution under the new name. A start lost after
 *   the commit is found by the next run as ExecutionDoesNotExist and started then. The steps are
 *   idempotent (analysis is not redone once assessed, assess returns its stored checks, open-review
 *   replaces the dead token of a pending review, finalize no-ops on a final submission)
 * - after MAX_RESTARTS restarts, a terminal execution is not restarted again: ONE commit sets
 *   executionStalledAt with the audit item 'kyc.review.stalled', and the metric KycReviewsStalled (which
 *   alarms) counts it. The submission stays as it is for a human; later runs skip it without a call
 *
 * Invariants:
 * - a lost race (the commit's version condition) skips the submission: the next run looks again
 * - one failing submission never stops the run: it is counted in `failed`, logged with ids and the error
 *   name only (no PII), and the run throws after recording its result so the Errors alarm fires
 * - metrics per run: KycWatchdogScanned, KycReviewsStarted, KycReviewsRestarted, KycReviewsStalled,
 *   KycWatchdogFailed (Count)
 * - scheduled runs write nothing but the restarts and stalls; an on-demand run (detail.runId) gets its
 *   job-run item finished ('succeeded' | 'failed') with a 'job.run.completed' audit item
 */

import { DescribeExecutionCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { isDomainError } from '#domain/errors.ts';
import { isFinalSubmissionStatus } from '#domain/kyc/submission.ts';
import { type JobEvent, runCountingJob } from '#functions/jobs/runs.ts';
import { KYC_REVIEW_MACHINE, reviewExecutionInput } from '#functions/steps/kyc-start.ts';
import { sfn } from '#shared/clients.ts';
import { env } from '#shared/env.ts';
import { logger } from '#shared/powertools.ts';
import { commit, systemActor } from '#store/audit.ts';
import { kycKeys } from '#store/keys.ts';
import { getKycSubmission, type KycSubmissionItem, replaceKycSubmission } from '#store/kyc.ts';
import { queryPages } from '#store/pagination.ts';

export const JOB = 'kyc-watchdog';
/** A submission (or open review) older than this without a live execution is repaired. */
export const STALE_AFTER_MINUTES = 10;
/** Restarts per submission before the watchdog gives up (KycReviewsStalled). */
export const MAX_RESTARTS = 3;
/** Submissions read per list (processing, pending reviews) and run; the next run continues. */
export const MAX_ITEMS_PER_LIST = 500;
/** Submissions checked at once (DescribeExecution calls in flight). */
const CONCURRENCY = 5;

const ACTOR = systemActor(JOB);
/** Execution statuses that need nothing from the watchdog. */
const LIVE = new Set(['RUNNING', 'PENDING_REDRIVE']);

export interface KycWatchdogResult {
  /** Submissions read from the two lists (older than the window). */
  scanned: number;
  /** Executions that did not exist (lost start), started under their recorded name. */
  started: number;
  /** Executions that had ended without a decision, restarted under a new name. */
  restarted: number;
  /** Newly given up on after MAX_RESTARTS (alarmed). */
  stalled: number;
  failed: number;
  /** True when MAX_ITEMS_PER_LIST stopped a list before it was exhausted. */
  truncated: boolean;
}

type Outcome = 'live' | 'started' | 'restarted' | 'stalled' | 'skipped';

/** The name of a restart's execution. */
export const restartExecutionName = (submissionId: string, attempt: number) => `${submissionId}-r${attempt}`;

/** arn:...:stateMachine:<machine> -> arn:...:execution:<machine>:<name> */
export function executionArn(stateMachineArn: string, name: string): string {
  if (!stateMachineArn.includes(':stateMachine:')) throw new Error(`kyc-watchdog: not a state machine ARN: ${stateMachineArn}`);
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}

interface Ctx {
  now: Date;
  requestId: string;
  machineArn: string;
}

/** The execution's status, or 'MISSING' when it was never started. */
async function describe(ctx: Ctx, name: string): Promise<{ status: string; error?: string | undefined }> {
  try {
    const res = await sfn().send(new DescribeExecutionCommand({ executionArn: executionArn(ctx.machineArn, name) }));
    return { status: res.status ?? 'UNKNOWN', error: res.error };
  } catch (err) {
    if ((err as Error)?.name === 'ExecutionDoesNotExist') return { status: 'MISSING' };
    throw err;
  }
}

/** StartExecution; true when this call started it, false when it already existed. */
async function start(ctx: Ctx, name: string, s: KycSubmissionItem): Promise<boolean> {
  try {
    await sfn().send(
      new StartExecutionCommand({ stateMachineArn: ctx.machineArn, name, input: JSON.stringify(reviewExecutionInput(s)) }),
    );
    return true;
  } catch (err) {
    if ((err as Error)?.name === 'ExecutionAlreadyExists') return false;
    throw err;
  }
}

const isConflict = (err: unknown) => isDomainError(err) && err.code === 'conflict';

async function restart(ctx: Ctx, s: KycSubmissionItem, previous: { status: string; error?: string | undefined }) {
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
  await start(ctx, name, s);
  logger.warn('kyc-watchdog: review execution restarted', {
    submissionId: s.submissionId,
    previousStatus: previous.status,
    attempt,
  });
}

async function markStalled(ctx: Ctx, s: KycSubmissionItem, previous: { status: string; error?: string | undefined }) {
  const at = ctx.now.toISOString();
  await commit({
    writes: [replaceKycSubmission(s, { ...s, executionStalledAt: at }, at)],
    audit: {
      actor: ACTOR,
      action: 'kyc.review.stalled',
      entity: { type: 'kyc-submission', id: s.submissionId },
      clientId: s.clientId,
      before: { executionStalledAt: null },
      after: { executionStalledAt: at },
      evidence: {
        status: s.status,
        execution: s.executionName,
        executionStatus: previous.status,
        executionError: previous.error ?? null,
        restarts: s.executionAttempt ?? 0,
        maxRestarts: MAX_RESTARTS,
      },
      reason: 'the review execution kept ending without a decision; a human must look',
      requestId: ctx.requestId,
    },
    now: () => ctx.now,
  });
  logger.error('kyc-watchdog: review stalled, restarts exhausted', {
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
  const execution = await describe(ctx, name);
  if (LIVE.has(execution.status)) return 'live';
  try {
    if (execution.status === 'MISSING') {
      if (!(await start(ctx, name, s))) return 'live';
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

/** One list's stale submissions, page by page (gsi2sk is `<at>#<submissionId>`: every earlier `at` sorts first). */
function staleOn(partition: string, before: string): AsyncGenerator<KycSubmissionItem[]> {
  return queryPages<KycSubmissionItem>({
    IndexName: 'gsi2',
    KeyConditionExpression: 'gsi2pk = :pk AND gsi2sk < :before',
    ExpressionAttributeValues: { ':pk': partition, ':before': before },
  });
}

/** One pass over both lists (see the module doc). */
export async function runKycWatchdog(
  opts: { now?: Date; requestId?: string; olderThanMinutes?: number; maxItemsPerList?: number } = {},
): Promise<KycWatchdogResult> {
  const now = opts.now ?? new Date();
  const ctx: Ctx = {
    now,
    requestId: opts.requestId ?? `${JOB}:${now.toISOString()}`,
    machineArn: env.stateMachineArn(KYC_REVIEW_MACHINE),
  };
  const before = new Date(now.getTime() - (opts.olderThanMinutes ?? STALE_AFTER_MINUTES) * 60_000).toISOString();
  const maxItems = opts.maxItemsPerList ?? MAX_ITEMS_PER_LIST;
  const result: KycWatchdogResult = { scanned: 0, started: 0, restarted: 0, stalled: 0, failed: 0, truncated: false };

  for (const partition of [kycKeys.processingPartition, kycKeys.reviewQueuePartition('pending')]) {
    let read = 0;
    for await (const page of staleOn(partition, before)) {
      if (read >= maxItems) {
        result.truncated = true;
        break;
      }
      const items = page.slice(0, maxItems - read);
      read += items.length;
      result.scanned += items.length;
      for (let i = 0; i < items.length; i += CONCURRENCY) {
        const outcomes = await Promise.allSettled(items.slice(i, i + CONCURRENCY).map((item) => check(ctx, item)));
        outcomes.forEach((o, j) => {
          if (o.status === 'fulfilled') {
            if (o.value === 'started') result.started++;
            else if (o.value === 'restarted') result.restarted++;
            else if (o.value === 'stalled') result.stalled++;
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

export async function handler(event: JobEvent = {}): Promise<KycWatchdogResult & { runId?: string }> {
  return runCountingJob(event, {
    job: JOB,
    run: (requestId) => runKycWatchdog({ requestId }),
    metrics: (r) => ({
      KycWatchdogScanned: r.scanned,
      KycReviewsStarted: r.started,
      KycReviewsRestarted: r.restarted,
      KycReviewsStalled: r.stalled,
      KycWatchdogFailed: r.failed,
    }),
    logged: 'kyc watchdog checked',
    warnWhen: (r) => r.started + r.restarted + r.stalled > 0,
    failedItems: 'submissions failed',
    failureLogged: 'kyc watchdog run failed',
  });
}
