/**
 * Answering a withdrawal-approval task (a review decision, a payout result) through the WorkflowPort.
 *
 * Invariants:
 * - answering a task after a recorded change is best effort: the change stands whatever happens to the
 *   callback. A token nothing waits on any more counts as answered; a callback that still fails after the
 *   port's retries is logged (ids only, never the token) and left to the execution's own timeout, whose
 *   Finalize 'expire' / 'check' reads the recorded state
 */
import { workflows } from '#app/ports/workflow.ts';
import { logger } from '#shared/powertools.ts';

/**
 * Answers a waiting execution with `output`, best effort (see the module invariants). Returns whether it
 * went through (a task nothing waits on any more counts as answered). Never logs the token.
 */
export async function answerWithdrawalTask(
  taskToken: string,
  output: Record<string, unknown>,
  ids: { withdrawalId: string; what: string },
): Promise<boolean> {
  try {
    const answered = await workflows().answer(taskToken, { output });
    if (answered === 'gone') logger.info('withdrawal: no execution waits on the task any more', ids);
    return true;
  } catch (err) {
    logger.warn('withdrawal: task callback failed; the execution timeout resolves it', {
      ...ids,
      error: (err as Error)?.name ?? 'Error',
    });
    return false;
  }
}
