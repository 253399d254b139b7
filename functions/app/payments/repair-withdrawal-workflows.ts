/**
 * Use case: the withdrawal watchdog (the job functions/jobs/withdrawal-watchdog.ts, every 10 minutes and on
 * demand). Makes sure every withdrawal that is not final has a live withdrawal-approval execution, so no
 * client's money stays held behind a workflow that died.
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
 * (a withdrawal that moved on meanwhile is skipped), the workflow port's describe of its recorded execution
 * name (the withdrawal id; `<withdrawalId>-r<n>` after n restarts):
 * - RUNNING (or PENDING_REDRIVE): left alone (a review or a payout may rightly wait for days)
 * - no such execution: the start was lost; a start under the recorded name with the input
 *   withdrawal-start builds (approvalExecutionInput): a late withdrawal-start cannot make a second one
 * - any other status: ONE version-conditioned commit records execution { name: <id>-r<n+1>, attempt }
 *   with the audit entry 'payment.withdrawal.restarted' (evidence: the previous execution, its status and
 *   error name), THEN a start under the new name (a start lost after the commit is found by the
 *   next run as missing). Every step is idempotent: checks return the recorded outcome, open-review
 *   replaces a dead task token, the payout is idempotent by withdrawal id at the provider and answers
 *   at once when the outcome is recorded, finalize no-ops on a final withdrawal. A restarted review gets
 *   a fresh review timeout
 * - after MAX_RESTARTS restarts it is not restarted again: ONE commit sets stalledAt with the audit entry
 *   'payment.withdrawal.stalled'; the metric WithdrawalsStalled (which alarms) counts it, and later runs
 *   skip it. People take over from there (the hold is visible in the ledger and the withdrawal in the
 *   back-office queue)
 * - the job's metrics and alarms (WithdrawalsStalled...) are the job's, from this use case's counts
 *
 * Invariants:
 * - never moves money itself: only the state machine's steps do
 * - a lost race (the version condition) skips the withdrawal: the next run looks again
 * - one failing withdrawal never stops the run: counted in `failed`, logged with ids and the error name
 *   (the job then fails its run after recording it, so the Errors alarm fires)
 */
import { LIVE_EXECUTION, restartExecutionName, workflows } from '#app/ports/workflow.ts';
import { isDomainError } from '#domain/errors.ts';
import type { WithdrawalStatus } from '#domain/payments/status.ts';
import { logger } from '#shared/powertools.ts';
import { tenantConfig } from '#shared/tenant.ts';
import { commit, systemActor } from '#store/audit.ts';
import { getWithdrawal, replaceWithdrawal, withdrawalAudit, withdrawalsInStatusBefore } from '#store/payments/withdrawals.ts';
import type { CommandContext } from '../context.ts';
import type { Withdrawal } from './withdrawal-shared.ts';
import { approvalExecutionInput, WITHDRAWAL_APPROVAL_MACHINE } from './withdrawal-workflow.ts';

export const JOB = 'withdrawal-watchdog';
/** A withdrawal in the same status for longer than this without a live execution is repaired. */
export const STALE_AFTER_MINUTES = 15;
export const MAX_RESTARTS = 3;
export const MAX_ITEMS_PER_STATUS = 500;
/** The statuses an execution is responsible for moving on. */
export const WATCHED: readonly WithdrawalStatus[] = ['received', 'under_review', 'approved', 'processing'];
const CONCURRENCY = 5;
const ACTOR = systemActor(JOB);
const MACHINE = WITHDRAWAL_APPROVAL_MACHINE;

export interface WithdrawalWatchdogResult {
  scanned: number;
  started: number;
  restarted: number;
  stalled: number;
  failed: number;
  truncated: boolean;
}

type Outcome = 'live' | 'started' | 'restarted' | 'stalled' | 'skipped';

const isConflict = (err: unknown) => isDomainError(err) && err.code === 'conflict';

async function record(w: Withdrawal, next: Withdrawal, action: string, evidence: unknown, ctx: CommandContext): Promise<boolean> {
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

async function repair(withdrawalId: string, ctx: CommandContext): Promise<Outcome> {
  const w = await getWithdrawal(withdrawalId, { consistent: true });
  if (!w || !WATCHED.includes(w.status) || w.stalledAt) return 'skipped';
  const name = w.execution?.name ?? withdrawalId;
  const attempt = w.execution?.attempt ?? 0;
  const current = await workflows().describe(MACHINE, name);
  if (current && LIVE_EXECUTION.has(current.status)) return 'live';
  const input = approvalExecutionInput(w, tenantConfig().payments.withdrawals);
  if (!current) {
    return (await workflows().start(MACHINE, name, input)).started ? 'started' : 'live';
  }
  const previous = { execution: name, status: current.status, ...(current.error ? { error: current.error } : {}), attempt };
  if (attempt >= MAX_RESTARTS) {
    const stalled: Withdrawal = { ...w, stalledAt: new Date().toISOString() };
    return (await record(w, stalled, 'payment.withdrawal.stalled', previous, ctx)) ? 'stalled' : 'skipped';
  }
  const nextName = restartExecutionName(withdrawalId, attempt + 1);
  const next: Withdrawal = { ...w, execution: { name: nextName, attempt: attempt + 1 } };
  if (!(await record(w, next, 'payment.withdrawal.restarted', previous, ctx))) return 'skipped';
  await workflows().start(MACHINE, nextName, input);
  return 'restarted';
}

/** One watchdog run over every watched status (module doc); `ctx.now` is the time the staleness counts from. */
export async function repairWithdrawalWorkflows(ctx: CommandContext): Promise<WithdrawalWatchdogResult> {
  const now = ctx.now ?? new Date();
  const cutoff = new Date(now.getTime() - STALE_AFTER_MINUTES * 60_000).toISOString();
  const result: WithdrawalWatchdogResult = { scanned: 0, started: 0, restarted: 0, stalled: 0, failed: 0, truncated: false };
  for (const status of WATCHED) {
    const ids: string[] = [];
    for await (const w of withdrawalsInStatusBefore(status, cutoff)) {
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
