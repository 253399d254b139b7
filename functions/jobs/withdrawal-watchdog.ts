/**
 * Withdrawal watchdog job: every 10 minutes (manifest schedule 'withdrawal-watchdog') and on demand
 * (POST /v1/admin/jobs/withdrawal-watchdog/runs). Makes sure every withdrawal that is not final has a live
 * withdrawal-approval execution, so no client's money stays held behind a workflow that died.
 *
 * Why: the start is at least once (outbox -> withdrawal-start), but if withdrawal-start fails on every
 * retry nothing starts the execution; and an execution that FAILED, TIMED_OUT or was ABORTED (a step
 * failing after its retries, e.g. finalize while DynamoDB throttled, or a StopExecution; a local runtime
 * restart no longer aborts: local/aws/states.ts resumes running executions) leaves the withdrawal
 * received / under_review / approved / processing with its amount held until the hold expires, weeks later.
 *
 * What it reads (never a scan), oldest first: gsi2 WITHDRAWALQ#<status> for received, under_review,
 * approved and processing, entries whose status is older than STALE_AFTER_MINUTES, at most
 * MAX_ITEMS_PER_STATUS per status and run (the next run continues). For each, on a consistent re-read
 * (a withdrawal that moved on meanwhile is skipped), DescribeExecution of its recorded execution name
 * (the withdrawal id; `<withdrawalId>-r<n>` after n restarts):
 * - RUNNING (or PENDING_REDRIVE): left alone (a review or a payout may rightly wait for days)
 * - ExecutionDoesNotExist: the start was lost; StartExecution under the recorded name with the input
 *   withdrawal-start builds (approvalExecutionInput): a late withdrawal-start cannot make a second one
 * - any other status: ONE version-conditioned commit records execution { name: <id>-r<n+1>, attempt }
 *   with the audit entry 'payment.withdrawal.restarted' (evidence: the previous execution, its status and
 *   error name), THEN StartExecution under the new name (a start lost after the commit is found by the
 *   next run as missing). Every step is idempotent: checks return the recorded outcome, open-review
 *   replaces a dead task token, the payout is idempotent by withdrawal id at the provider and answers
 *   at once when the outcome is recorded, finalize no-ops on a final withdrawal. A restarted review gets
 *   a fresh review timeout
 * - after MAX_RESTARTS restarts it is not restarted again: ONE commit sets stalledAt with the audit entry
 *   'payment.withdrawal.stalled'; the metric WithdrawalsStalled (which alarms) counts it, and later runs
 *   skip it. People take over from there (the hold is visible in the ledger and the withdrawal in the
 *   back-office queue)
 *
 * Invariants:
 * - never moves money itself: only the state machine's steps do
 * - a lost race (the version condition) skips the withdrawal: the next run looks again
 * - one failing withdrawal never stops the run: counted in `failed`, logged with ids and the error name,
 *   and the run throws after recording its result so the Errors alarm fires
 * - metrics per run: WithdrawalWatchdogScanned, WithdrawalsStarted, WithdrawalsRestarted, WithdrawalsStalled,
 *   WithdrawalWatchdogFailed (Count)
 */

import { isDomainError } from '#domain/errors.ts';
import type { WithdrawalStatus } from '#domain/payments/status.ts';
import { describeExecution, LIVE_EXECUTION, restartExecutionName, startNamedExecution } from '#functions/jobs/executions.ts';
import { type JobEvent, runCountingJob } from '#functions/jobs/runs.ts';
import { approvalExecutionInput, WITHDRAWAL_APPROVAL_MACHINE } from '#functions/steps/withdrawal-start.ts';
import { env } from '#shared/env.ts';
import { logger } from '#shared/powertools.ts';
import { tenantConfig } from '#shared/tenant.ts';
import { commit, systemActor } from '#store/audit.ts';
import { paymentKeys } from '#store/keys.ts';
import { queryPages } from '#store/pagination.ts';
import type { WithdrawalItem } from '#store/payments/types.ts';
import { getWithdrawal, replaceWithdrawal, withdrawalAudit } from '#store/payments/withdrawal-items.ts';

export const JOB = 'withdrawal-watchdog';
/** A withdrawal in the same status for longer than this without a live execution is repaired. */
export const STALE_AFTER_MINUTES = 15;
export const MAX_RESTARTS = 3;
export const MAX_ITEMS_PER_STATUS = 500;
/** The statuses an execution is responsible for moving on. */
export const WATCHED: readonly WithdrawalStatus[] = ['received', 'under_review', 'approved', 'processing'];
const CONCURRENCY = 5;
const ACTOR = systemActor(JOB);

export interface WithdrawalWatchdogResult {
  scanned: number;
  started: number;
  restarted: number;
  stalled: number;
  failed: number;
  truncated: boolean;
}

type Outcome = 'live' | 'started' | 'restarted' | 'stalled' | 'skipped';

interface Ctx {
  requestId: string;
  machineArn: string;
}

async function* staleWithdrawals(status: WithdrawalStatus, cutoff: string): AsyncGenerator<WithdrawalItem> {
  for await (const page of queryPages<WithdrawalItem>({
    IndexName: 'gsi2',
    KeyConditionExpression: 'gsi2pk = :pk AND gsi2sk < :cutoff',
    ExpressionAttributeValues: { ':pk': paymentKeys.withdrawalStatusPartition(status), ':cutoff': cutoff },
  })) {
    yield* page;
  }
}

const isConflict = (err: unknown) => isDomainError(err) && err.code === 'conflict';

async function record(w: WithdrawalItem, next: WithdrawalItem, action: string, evidence: unknown, ctx: Ctx): Promise<boolean> {
  const at = new Date().toISOString();
  try {
    await commit({
      writes: [replaceWithdrawal(w, next, at)],
      audit: withdrawalAudit(w, next, action, { actor: ACTOR, requestId: ctx.requestId, evidence }),
      now: () => new Date(at),
    });
    return true;
  } catch (err) {
    if (isConflict(err)) return false;
    throw err;
  }
}

async function repair(withdrawalId: string, ctx: Ctx): Promise<Outcome> {
  const w = await getWithdrawal(withdrawalId, { consistent: true });
  if (!w || !WATCHED.includes(w.status) || w.stalledAt) return 'skipped';
  const name = w.execution?.name ?? withdrawalId;
  const attempt = w.execution?.attempt ?? 0;
  const current = await describeExecution(ctx.machineArn, name);
  if (LIVE_EXECUTION.has(current.status)) return 'live';
  const input = approvalExecutionInput(w, tenantConfig().payments.withdrawals);
  if (current.status === 'MISSING') {
    return (await startNamedExecution(ctx.machineArn, name, input)) ? 'started' : 'live';
  }
  const previous = { execution: name, status: current.status, ...(current.error ? { error: current.error } : {}), attempt };
  if (attempt >= MAX_RESTARTS) {
    const stalled: WithdrawalItem = { ...w, stalledAt: new Date().toISOString() };
    return (await record(w, stalled, 'payment.withdrawal.stalled', previous, ctx)) ? 'stalled' : 'skipped';
  }
  const nextName = restartExecutionName(withdrawalId, attempt + 1);
  const next: WithdrawalItem = { ...w, execution: { name: nextName, attempt: attempt + 1 } };
  if (!(await record(w, next, 'payment.withdrawal.restarted', previous, ctx))) return 'skipped';
  await startNamedExecution(ctx.machineArn, nextName, input);
  return 'restarted';
}

export async function watch(requestId: string, now = new Date()): Promise<WithdrawalWatchdogResult> {
  const ctx: Ctx = { requestId, machineArn: env.stateMachineArn(WITHDRAWAL_APPROVAL_MACHINE) };
  const cutoff = new Date(now.getTime() - STALE_AFTER_MINUTES * 60_000).toISOString();
  const result: WithdrawalWatchdogResult = { scanned: 0, started: 0, restarted: 0, stalled: 0, failed: 0, truncated: false };
  for (const status of WATCHED) {
    const ids: string[] = [];
    for await (const w of staleWithdrawals(status, cutoff)) {
      if (ids.length >= MAX_ITEMS_PER_STATUS) {
        result.truncated = true;
        break;
      }
      if (!w.stalledAt) ids.push(w.withdrawalId);
    }
    result.scanned += ids.length;
    for (let i = 0; i < ids.length; i += CONCURRENCY) {
      await Promise.all(
        ids.slice(i, i + CONCURRENCY).map(async (id) => {
          try {
            const outcome = await repair(id, ctx);
            if (outcome === 'started' || outcome === 'restarted' || outcome === 'stalled') result[outcome] += 1;
          } catch (err) {
            result.failed += 1;
            logger.error('withdrawal-watchdog: could not repair a withdrawal', { withdrawalId: id, error: (err as Error)?.name });
          }
        }),
      );
    }
  }
  return result;
}

export const handler = (event: JobEvent = {}) =>
  runCountingJob(event, {
    job: JOB,
    run: (requestId) => watch(requestId),
    metrics: (r) => ({
      WithdrawalWatchdogScanned: r.scanned,
      WithdrawalsStarted: r.started,
      WithdrawalsRestarted: r.restarted,
      WithdrawalsStalled: r.stalled,
      WithdrawalWatchdogFailed: r.failed,
    }),
    logged: 'withdrawal watchdog run',
    warnWhen: (r) => r.started + r.restarted + r.stalled > 0,
    failedItems: 'withdrawals could not be repaired',
    failureLogged: 'withdrawal watchdog run failed',
  });
