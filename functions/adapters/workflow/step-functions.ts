/**
 * The Step Functions adapter of the WorkflowPort (functions/app/ports/workflow.ts): the one module that
 * starts, answers and describes executions. The state machine ARN comes from the environment by manifest
 * name (env.stateMachineArn: STATE_MACHINE_ARN_<NAME>), which infra sets on every function with a
 * states:start:<machine> permission and the local runtime sets in-process (the same calls then reach the
 * local emulator through AWS_ENDPOINT_URL).
 *
 * Invariants:
 * - start: executions are named by the caller (a withdrawal id, a submission id, a restart's name), so a
 *   redelivered start is ExecutionAlreadyExists, answered { started: false }, never an error
 * - answer: SendTaskSuccess / SendTaskFailure, retried under the workflowCallback policy; TaskTimedOut,
 *   InvalidToken and TaskDoesNotExist mean nothing waits on the token any more (resumed already, timed
 *   out, execution gone): 'gone' at once, since retrying cannot help. Any other error is thrown after the
 *   last attempt
 * - describe: ExecutionDoesNotExist is undefined (never started), other errors throw
 * - the task token is never logged (it is a bearer credential for the execution); this module logs nothing
 *
 * This file is not typed against the port's interface (adapters never import functions/app/, the
 * dependency rule adapters-below-use-cases); the port's `workflows()` assigns it to WorkflowPort, which
 * checks it structurally.
 */
import {
  DescribeExecutionCommand,
  type ExecutionStatus,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { StateMachineName } from '#functions/manifest.ts';
import { sfn } from '#shared/clients.ts';
import { env } from '#shared/env.ts';
import { withRetry } from '#shared/retry.ts';

/** Error names meaning no execution waits on the token any more. */
export const TASK_GONE: ReadonlySet<string> = new Set(['TaskTimedOut', 'InvalidToken', 'TaskDoesNotExist']);

const errorName = (err: unknown) => (err as { name?: string } | undefined)?.name ?? 'Error';

/** arn:...:stateMachine:<machine> -> arn:...:execution:<machine>:<name> */
export function executionArn(stateMachineArn: string, name: string): string {
  if (!stateMachineArn.includes(':stateMachine:')) throw new Error(`not a state machine ARN: ${stateMachineArn}`);
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}

/** Thrown inside an answer attempt for a gone token, so withRetry stops at once. */
class TaskGone extends Error {}

export class StepFunctionsWorkflow {
  async start(workflow: StateMachineName, name: string, input: unknown): Promise<{ started: boolean }> {
    try {
      await sfn().send(
        new StartExecutionCommand({ stateMachineArn: env.stateMachineArn(workflow), name, input: JSON.stringify(input) }),
      );
      return { started: true };
    } catch (err) {
      if (errorName(err) === 'ExecutionAlreadyExists') return { started: false };
      throw err;
    }
  }

  async answer(taskToken: string, result: { output: unknown } | { error: string; cause?: string }): Promise<'answered' | 'gone'> {
    const send = async () => {
      if ('output' in result) {
        await sfn().send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(result.output) }));
      } else {
        const cause = result.cause !== undefined ? { cause: result.cause } : {};
        await sfn().send(new SendTaskFailureCommand({ taskToken, error: result.error, ...cause }));
      }
    };
    try {
      return await withRetry(
        'workflowCallback',
        async () => {
          try {
            await send();
            return 'answered' as const;
          } catch (err) {
            if (TASK_GONE.has(errorName(err))) throw new TaskGone(errorName(err));
            throw err;
          }
        },
        (err) => !(err instanceof TaskGone),
      );
    } catch (err) {
      if (err instanceof TaskGone) return 'gone';
      throw err;
    }
  }

  async describe(
    workflow: StateMachineName,
    name: string,
  ): Promise<{ status: ExecutionStatus; startDate?: Date; stopDate?: Date; error?: string } | undefined> {
    try {
      const res = await sfn().send(
        new DescribeExecutionCommand({ executionArn: executionArn(env.stateMachineArn(workflow), name) }),
      );
      if (!res.status) throw new Error(`DescribeExecution returned no status for ${workflow}/${name}`);
      return {
        status: res.status,
        ...(res.startDate ? { startDate: res.startDate } : {}),
        ...(res.stopDate ? { stopDate: res.stopDate } : {}),
        ...(res.error ? { error: res.error } : {}),
      };
    } catch (err) {
      if (errorName(err) === 'ExecutionDoesNotExist') return undefined;
      throw err;
    }
  }
}
