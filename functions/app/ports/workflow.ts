/**
 * The workflow port: how use cases start, answer and look at long-running workflows (the manifest's state
 * machines). Use cases call `workflows()`; the Step Functions adapter
 * (functions/adapters/workflow/step-functions.ts) is the one implementation, and tests replace it with
 * `setWorkflows(fake)`.
 *
 * Invariants:
 * - every start is by execution name, so starting twice is not an error ({ started: false })
 * - answering a task nothing waits on any more is 'gone', not an error: the caller's decision stands
 *   and nothing is owed; transient failures are retried inside the adapter (RETRY_POLICIES.workflowCallback)
 *   and then thrown, so the caller can leave the callback pending for a watchdog
 * - task tokens are credentials for an execution: never logged, by the adapter or its callers
 */
import { StepFunctionsWorkflow } from '#adapters/workflow/step-functions.ts';
import type { StateMachineName } from '#functions/manifest.ts';

export type { StateMachineName };

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING_REDRIVE';

export interface WorkflowPort {
  /** Starts the named execution; an execution with that name already existing is not an error: started false. */
  start(workflow: StateMachineName, name: string, input: unknown): Promise<{ started: boolean }>;
  /** Resumes a task waiting on the token; 'gone' when nothing waits any more (TaskTimedOut, InvalidToken, TaskDoesNotExist). Other errors throw. */
  answer(taskToken: string, result: { output: unknown } | { error: string; cause?: string }): Promise<'answered' | 'gone'>;
  /**
   * The named execution's status, or undefined if it does not exist. `error` is the error name of a
   * FAILED / TIMED_OUT / ABORTED execution (the watchdogs record it with a restart).
   */
  describe(
    workflow: StateMachineName,
    name: string,
  ): Promise<{ status: ExecutionStatus; startDate?: Date; stopDate?: Date; error?: string } | undefined>;
}

/** Statuses of an execution that is still going (or can be redriven): nothing for a watchdog to do. */
export const LIVE_EXECUTION: ReadonlySet<ExecutionStatus> = new Set<ExecutionStatus>(['RUNNING', 'PENDING_REDRIVE']);

/** The name of a watchdog's n-th restart of the execution named `id`. */
export const restartExecutionName = (id: string, attempt: number) => `${id}-r${attempt}`;

let port: WorkflowPort | undefined;

/** The workflow port of this runtime: the Step Functions adapter, created on first use. */
export function workflows(): WorkflowPort {
  port ??= new StepFunctionsWorkflow();
  return port;
}

/** Tests: replace the port with a fake; undefined goes back to the Step Functions adapter. */
export function setWorkflows(next: WorkflowPort | undefined): void {
  port = next;
}
