/**
 * What the watchdogs (kyc-watchdog, withdrawal-watchdog) ask Step Functions: an execution's status by
 * name, a start under a given name, and the name of the n-th restart.
 */
import { DescribeExecutionCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { sfn } from '#shared/clients.ts';

/** Execution statuses that need nothing from a watchdog. */
export const LIVE_EXECUTION = new Set(['RUNNING', 'PENDING_REDRIVE']);

/** The name of a restart's execution. */
export const restartExecutionName = (id: string, attempt: number) => `${id}-r${attempt}`;

/** arn:...:stateMachine:<machine> -> arn:...:execution:<machine>:<name> */
export function executionArn(stateMachineArn: string, name: string): string {
  if (!stateMachineArn.includes(':stateMachine:')) throw new Error(`not a state machine ARN: ${stateMachineArn}`);
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}

/** The execution's status (and error name), or 'MISSING' when it was never started. */
export async function describeExecution(
  stateMachineArn: string,
  name: string,
): Promise<{ status: string; error?: string | undefined }> {
  try {
    const res = await sfn().send(new DescribeExecutionCommand({ executionArn: executionArn(stateMachineArn, name) }));
    return { status: res.status ?? 'UNKNOWN', error: res.error };
  } catch (err) {
    if ((err as Error)?.name === 'ExecutionDoesNotExist') return { status: 'MISSING' };
    throw err;
  }
}

/** StartExecution under `name`; true when this call started it, false when it already existed. */
export async function startNamedExecution(stateMachineArn: string, name: string, input: unknown): Promise<boolean> {
  try {
    await sfn().send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }));
    return true;
  } catch (err) {
    if ((err as Error)?.name === 'ExecutionAlreadyExists') return false;
    throw err;
  }
}
