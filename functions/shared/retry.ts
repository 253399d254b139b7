/**
 * One retry helper with named policies, for every backoff loop in the functions (issue 13, item 4).
 *
 * A policy says how many attempts an operation gets and how long to wait between them; the caller says
 * which errors are worth another attempt. Waits are full-jitter exponential backoff: after the failed
 * attempt n (1-based) the wait is uniform in [0, min(capMs, baseMs * 2^(n-1))), so baseMs is the largest
 * first wait and capMs the largest wait of all. A policy with baseMs 0 retries at once (a re-read and
 * re-decide whose conflict means the state moved, not that a hot item is contended).
 *
 * Invariants:
 * - `run` is called at most `attempts` times, with the 1-based attempt number
 * - the last error is rethrown unchanged when attempts are exhausted or `retryable` says no; callers that
 *   turn exhaustion into a typed error (commit(): concurrent_modification) do so around withRetry
 * - no wait after the last attempt; sleeping goes through one replaceable function (setRetrySleep) so
 *   tests can make it instant or observe it
 */

export interface RetryPolicy {
  /** Total attempts, the first included (at least 1). */
  attempts: number;
  /** The largest wait after the first failed attempt, in ms (doubles after each further failure). */
  baseMs: number;
  /** The largest wait of all, in ms. */
  capMs: number;
}

export const RETRY_POLICIES = {
  /**
   * commit() (functions/store/audit.ts): a TransactWriteItems cancelled by a transaction conflict, a
   * throttled partition or a lost race on an audit chain head. Re-reads the heads and re-links, so each
   * attempt is cheap; 10 short attempts (waits up to 250 ms) ride out a burst on one entity, then
   * concurrent_modification.
   */
  auditHead: { attempts: 10, baseMs: 10, capMs: 250 },
  /**
   * Ledger balance version races (functions/store/ledger/: accounts, journals, holds): a journal or hold
   * whose balance item moved under it re-reads and re-posts. Hot wallets take many concurrent commands,
   * so many attempts with tiny first waits (4 ms) capped at 200 ms.
   */
  ledgerVersion: { attempts: 40, baseMs: 4, capMs: 200 },
  /**
   * BatchGetItem returning UnprocessedKeys (throttling, so AWS's advice is exponential backoff): the
   * ledger's batchGet (functions/store/ledger/codec.ts), getKycDocuments (functions/store/kyc.ts), the
   * outbox sweeper's stillPending (functions/store/outbox.ts). They had 9, 9 and 5 attempts from 40, 20
   * and 50 ms; one policy now: 9 attempts from 20 ms, the last wait up to ~2.5 s.
   */
  batchUnprocessed: { attempts: 9, baseMs: 20, capMs: 2560 },
  /**
   * A single decision or flag on a versioned item that lost a version race (functions/app/kyc/: decisions,
   * open-review, assess-submission, flag-expiring-documents; functions/app/payments/decide-withdrawal.ts):
   * re-read, re-check it is still to be decided, retry.
   * Races are rare (two officers, or an officer and a job), so 5 attempts from 40 ms.
   */
  decisionConflict: { attempts: 5, baseMs: 40, capMs: 320 },
  /**
   * A payment step that lost a version race with another step, webhook or job on the same payment
   * (retryOnRace in functions/store/payments/withdrawal-items.ts, functions/app/payments/finalize-withdrawal.ts):
   * must not fail a workflow execution over a race, so 8 attempts from 20 ms.
   */
  paymentRace: { attempts: 8, baseMs: 20, capMs: 1280 },
  /**
   * A PSP webhook effect whose deposit or payment state changed under it (functions/app/payments/
   * apply-deposit-event.ts): re-resolves the deposit and re-applies; 6 attempts from 20 ms, then the webhook
   * answers an error and the PSP redelivers.
   */
  webhookEffect: { attempts: 6, baseMs: 20, capMs: 320 },
  /**
   * Re-reading and re-deciding after the state moved (no contention to back off from, so no wait):
   * closing a compliance case whose freeze changed (functions/app/payments/close-case.ts, 5 attempts
   * before), expiring a deposit that changed (functions/app/payments/expire-deposits.ts, 4 before), a
   * sign-in failure counter reset racing another failure (functions/store/sign-in-throttle.ts, 3).
   */
  stateReread: { attempts: 5, baseMs: 0, capMs: 0 },
  /**
   * Opening a chargeback whose wallet/reserve split changed under it because the wallet's balance moved
   * (functions/app/payments/open-chargeback.ts): recomputes the split at once; a busy wallet may move
   * several times, so 10 attempts.
   */
  chargebackSplit: { attempts: 10, baseMs: 0, capMs: 0 },
  /**
   * SendTaskSuccess / SendTaskFailure to a waiting execution (the workflow adapter's answer()): a failure
   * is a Step Functions hiccup; 3 attempts from 100 ms, then the caller leaves the callback pending for
   * its watchdog job to send again.
   */
  workflowCallback: { attempts: 3, baseMs: 100, capMs: 200 },
  /**
   * The ledger reconciliation confirming a held mismatch (functions/app/ledger/reconcile-ledger.ts): re-reads
   * a balance shard around its holds (an eventually consistent index) until two equal versions agree; 5
   * reads, waits uniform in [0, 400) ms (200 ms on average: the index catching up, not contention).
   */
  heldConfirm: { attempts: 5, baseMs: 400, capMs: 400 },
} as const satisfies Record<string, RetryPolicy>;

export type RetryPolicyName = keyof typeof RETRY_POLICIES;

/** The wait after the failed attempt `attempt` (1-based) of `policy`, in ms (random: full jitter). */
export function backoffMs(policy: RetryPolicyName, attempt: number): number {
  const p: RetryPolicy = RETRY_POLICIES[policy];
  const ceiling = Math.min(p.capMs, p.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.random() * ceiling;
}

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
let sleep: (ms: number) => Promise<void> = realSleep;

/** Tests: replace how withRetry waits (e.g. instantly, or recording the waits); undefined restores it. */
export function setRetrySleep(fn: ((ms: number) => Promise<void>) | undefined): void {
  sleep = fn ?? realSleep;
}

/**
 * Runs `run` until it resolves, `retryable` refuses its error, or the policy's attempts are used up;
 * the last error is rethrown as is.
 */
export async function withRetry<T>(
  policy: RetryPolicyName,
  run: (attempt: number) => Promise<T>,
  retryable: (err: unknown) => boolean,
): Promise<T> {
  const { attempts } = RETRY_POLICIES[policy];
  for (let attempt = 1; ; attempt++) {
    try {
      return await run(attempt);
    } catch (err) {
      if (attempt >= attempts || !retryable(err)) throw err;
      const ms = backoffMs(policy, attempt);
      if (ms > 0) await sleep(ms);
    }
  }
}
