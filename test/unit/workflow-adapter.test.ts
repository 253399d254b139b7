/**
 * The Step Functions adapter behind the WorkflowPort (functions/adapters/workflow/step-functions.ts),
 * against a mocked SFN client: start by name (an existing execution is started: false), answer (a gone
 * token is 'gone' at once, transient errors are retried, then thrown), describe (a missing execution is
 * undefined). And the port's replaceable singleton.
 */
import {
  DescribeExecutionCommand,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { executionArn, StepFunctionsWorkflow } from '#adapters/workflow/step-functions.ts';
import { type StateMachineName, setWorkflows, type WorkflowPort, workflows } from '#app/ports/workflow.ts';
import { stateMachines } from '#functions/manifest.ts';
import { RETRY_POLICIES, setRetrySleep } from '#shared/retry.ts';

const sfnMock = mockClient(SFNClient);
const MACHINE = 'arn:aws:states:us-east-1:000000000000:stateMachine:withdrawal-approval';
process.env.STATE_MACHINE_ARN_WITHDRAWAL_APPROVAL = MACHINE;
process.env.AWS_REGION ??= 'us-east-1';
setRetrySleep(async () => {});
afterAll(() => {
  sfnMock.restore();
  setRetrySleep(undefined);
});
beforeEach(() => sfnMock.reset());

const awsError = (name: string) => Object.assign(new Error(name), { name, $metadata: {} });
const adapter = new StepFunctionsWorkflow();

describe('start', () => {
  it('starts the manifest machine by name with the JSON input', async () => {
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'arn:x', startDate: new Date() });
    await expect(adapter.start('withdrawal-approval', 'wd_1', { withdrawalId: 'wd_1' })).resolves.toEqual({ started: true });
    expect(sfnMock.commandCalls(StartExecutionCommand)[0]!.args[0].input).toEqual({
      stateMachineArn: MACHINE,
      name: 'wd_1',
      input: '{"withdrawalId":"wd_1"}',
    });
  });

  it('an execution of that name already existing is started: false', async () => {
    sfnMock.on(StartExecutionCommand).rejects(awsError('ExecutionAlreadyExists'));
    await expect(adapter.start('withdrawal-approval', 'wd_1', {})).resolves.toEqual({ started: false });
  });

  it('other errors throw', async () => {
    sfnMock.on(StartExecutionCommand).rejects(awsError('StateMachineDoesNotExist'));
    await expect(adapter.start('withdrawal-approval', 'wd_1', {})).rejects.toMatchObject({ name: 'StateMachineDoesNotExist' });
  });
});

describe('answer', () => {
  it('an output is SendTaskSuccess with the JSON output', async () => {
    sfnMock.on(SendTaskSuccessCommand).resolves({});
    await expect(adapter.answer('tok', { output: { decision: 'approve' } })).resolves.toBe('answered');
    expect(sfnMock.commandCalls(SendTaskSuccessCommand)[0]!.args[0].input).toEqual({
      taskToken: 'tok',
      output: '{"decision":"approve"}',
    });
  });

  it('an error is SendTaskFailure with its error and cause', async () => {
    sfnMock.on(SendTaskFailureCommand).resolves({});
    await expect(adapter.answer('tok', { error: 'Rejected', cause: 'by review' })).resolves.toBe('answered');
    expect(sfnMock.commandCalls(SendTaskFailureCommand)[0]!.args[0].input).toEqual({
      taskToken: 'tok',
      error: 'Rejected',
      cause: 'by review',
    });
  });

  for (const gone of ['TaskTimedOut', 'InvalidToken', 'TaskDoesNotExist']) {
    it(`${gone} is 'gone' at once, not retried`, async () => {
      sfnMock.on(SendTaskSuccessCommand).rejects(awsError(gone));
      await expect(adapter.answer('tok', { output: {} })).resolves.toBe('gone');
      expect(sfnMock.commandCalls(SendTaskSuccessCommand)).toHaveLength(1);
    });
  }

  it('a transient error is retried and the answer then goes through', async () => {
    sfnMock.on(SendTaskSuccessCommand).rejectsOnce(awsError('ThrottlingException')).resolves({});
    await expect(adapter.answer('tok', { output: {} })).resolves.toBe('answered');
    expect(sfnMock.commandCalls(SendTaskSuccessCommand)).toHaveLength(2);
  });

  it('a persistent error throws after the workflowCallback attempts', async () => {
    sfnMock.on(SendTaskSuccessCommand).rejects(awsError('ServiceUnavailable'));
    await expect(adapter.answer('tok', { output: {} })).rejects.toMatchObject({ name: 'ServiceUnavailable' });
    expect(sfnMock.commandCalls(SendTaskSuccessCommand)).toHaveLength(RETRY_POLICIES.workflowCallback.attempts);
  });
});

describe('describe', () => {
  it('the named execution of the manifest machine, with its status, dates and error', async () => {
    const startDate = new Date('2025-01-01T00:00:00Z');
    const stopDate = new Date('2025-01-01T00:01:00Z');
    sfnMock.on(DescribeExecutionCommand).resolves({ status: 'FAILED', startDate, stopDate, error: 'States.TaskFailed' });
    await expect(adapter.describe('withdrawal-approval', 'wd_1-r1')).resolves.toEqual({
      status: 'FAILED',
      startDate,
      stopDate,
      error: 'States.TaskFailed',
    });
    expect(sfnMock.commandCalls(DescribeExecutionCommand)[0]!.args[0].input).toEqual({
      executionArn: 'arn:aws:states:us-east-1:000000000000:execution:withdrawal-approval:wd_1-r1',
    });
  });

  it('a running execution has no stop date or error', async () => {
    sfnMock.on(DescribeExecutionCommand).resolves({ status: 'RUNNING', startDate: new Date(0) });
    await expect(adapter.describe('withdrawal-approval', 'wd_1')).resolves.toEqual({ status: 'RUNNING', startDate: new Date(0) });
  });

  it('an execution never started is undefined', async () => {
    sfnMock.on(DescribeExecutionCommand).rejects(awsError('ExecutionDoesNotExist'));
    await expect(adapter.describe('withdrawal-approval', 'wd_2')).resolves.toBeUndefined();
  });

  it('other errors throw', async () => {
    sfnMock.on(DescribeExecutionCommand).rejects(awsError('ThrottlingException'));
    await expect(adapter.describe('withdrawal-approval', 'wd_2')).rejects.toMatchObject({ name: 'ThrottlingException' });
  });

  it('executionArn refuses what is not a state machine ARN', () => {
    expect(() => executionArn('arn:aws:lambda:x', 'n')).toThrow(/not a state machine ARN/);
  });
});

describe('the port', () => {
  it('StateMachineName names exactly the manifest state machines', () => {
    const names: Record<StateMachineName, true> = { 'withdrawal-approval': true, 'kyc-review': true };
    expect(stateMachines.map((m) => m.name).sort()).toEqual(Object.keys(names).sort());
  });

  it('workflows() is the Step Functions adapter until a test replaces it', async () => {
    expect(workflows()).toBeInstanceOf(StepFunctionsWorkflow);
    const fake: WorkflowPort = {
      start: async () => ({ started: true }),
      answer: async () => 'gone',
      describe: async () => undefined,
    };
    setWorkflows(fake);
    expect(workflows()).toBe(fake);
    setWorkflows(undefined);
    expect(workflows()).toBeInstanceOf(StepFunctionsWorkflow);
  });
});
