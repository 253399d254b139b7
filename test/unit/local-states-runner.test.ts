import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { StateMachineSpec } from '#functions/manifest.ts';
import { LocalStepFunctions } from '#local/aws/states.ts';

const spec: StateMachineSpec = {
  name: 'case-review',
  context: 'kyc',
  definition: 'test/fixtures/asl/review.asl.json',
  tasks: { PrepareFn: 'prepare', NotifyFn: 'notify', CompensateFn: 'compensate' },
};

class TransientError extends Error {
  override name = 'TransientError';
}

// biome-ignore lint/suspicious/noExplicitAny: task payloads are untyped JSON
type Payload = any;
type Call = { fn: string; event: Payload };

function setup(behaviour: Partial<Record<string, (event: Payload, n: number) => unknown>> = {}, dataDir?: string) {
  const calls: Call[] = [];
  const sfn = new LocalStepFunctions({
    stateMachines: [spec],
    timeScale: 0.001,
    ...(dataDir ? { dataDir } : {}),
    log: () => undefined,
    invoke: async (fn, event) => {
      calls.push({ fn, event });
      const n = calls.filter((c) => c.fn === fn).length;
      const f = behaviour[fn];
      return f ? f(event, n) : {};
    },
  });
  return { sfn, calls, arn: sfn.arns()['case-review']! };
}

async function until<T>(f: () => T | undefined, ms = 2000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const started: LocalStepFunctions[] = [];
afterEach(() => {
  for (const s of started.splice(0)) s.stop();
});

describe('LocalStepFunctions', () => {
  it('exposes ARNs and env var names', () => {
    const { sfn, arn } = setup();
    expect(arn).toBe('arn:aws:states:us-east-1:000000000000:stateMachine:case-review');
    expect(sfn.envVars()).toEqual({ STATE_MACHINE_ARN_CASE_REVIEW: arn });
  });

  it('Task -> Choice -> Pass without review', async () => {
    const { sfn, arn, calls } = setup({ prepare: () => ({ manual: false }) });
    const { executionArn, startDate } = (await sfn.handle('StartExecution', {
      stateMachineArn: arn,
      name: 'auto-1',
      input: JSON.stringify({ caseId: 'c1' }),
    })) as { executionArn: string; startDate: number };
    expect(executionArn).toBe('arn:aws:states:us-east-1:000000000000:execution:case-review:auto-1');
    expect(startDate).toBeLessThan(Date.now() / 1000 + 1);
    const done = await sfn.waitFor(executionArn);
    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output!)).toEqual({ caseId: 'c1', prepared: { manual: false }, outcome: 'approved' });
    expect(calls.map((c) => c.fn)).toEqual(['prepare']);
  });

  it('waitForTaskToken pauses until SendTaskSuccess, whose output is the task result', async () => {
    const { sfn, arn, calls } = setup({ prepare: () => ({ manual: true }) });
    const { executionArn } = (await sfn.handle('StartExecution', { stateMachineArn: arn, input: '{"caseId":"c2"}' })) as {
      executionArn: string;
    };
    const notify = await until(() => calls.find((c) => c.fn === 'notify'));
    expect(notify.event.caseId).toBe('c2');
    expect(notify.event.execution).toBe(executionArn);
    expect(sfn.pendingTasks(executionArn)).toEqual([{ token: notify.event.taskToken, executionArn, state: 'AwaitDecision' }]);

    await new Promise((r) => setTimeout(r, 30));
    expect(((await sfn.handle('DescribeExecution', { executionArn })) as { status: string }).status).toBe('RUNNING');

    await sfn.handle('SendTaskHeartbeat', { taskToken: notify.event.taskToken });
    await sfn.handle('SendTaskSuccess', { taskToken: notify.event.taskToken, output: '{"approved":true}' });
    const done = await sfn.waitFor(executionArn);
    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output!).decision).toEqual({ approved: true });
    await expect(sfn.handle('SendTaskSuccess', { taskToken: notify.event.taskToken, output: '{}' })).rejects.toMatchObject({
      type: 'TaskDoesNotExist',
    });
  });

  it('SendTaskFailure goes to Catch, which compensates', async () => {
    const { sfn, arn, calls } = setup({ prepare: () => ({ manual: true }), compensate: () => ({ released: true }) });
    const { executionArn } = (await sfn.handle('StartExecution', { stateMachineArn: arn, input: '{"caseId":"c3"}' })) as {
      executionArn: string;
    };
    const notify = await until(() => calls.find((c) => c.fn === 'notify'));
    await sfn.handle('SendTaskFailure', { taskToken: notify.event.taskToken, error: 'Rejected', cause: 'documents unreadable' });
    const done = await sfn.waitFor(executionArn);
    expect(done).toMatchObject({ status: 'FAILED', error: 'ReviewRejected', cause: 'rejected by reviewer' });
    const compensate = calls.find((c) => c.fn === 'compensate')!;
    expect(compensate.event.error).toEqual({ Error: 'Rejected', Cause: 'documents unreadable' });
  });

  it('retries a transient task error, then succeeds', async () => {
    const { sfn, arn, calls } = setup({
      prepare: (_e, n) => {
        if (n < 3) throw new TransientError('platform busy');
        return { manual: false };
      },
    });
    const { executionArn } = (await sfn.handle('StartExecution', { stateMachineArn: arn, input: '{}' })) as {
      executionArn: string;
    };
    const done = await sfn.waitFor(executionArn);
    expect(done.status).toBe('SUCCEEDED');
    expect(calls.filter((c) => c.fn === 'prepare')).toHaveLength(3);
  });

  it('fails with the handler error when retries are exhausted', async () => {
    const { sfn, arn } = setup({
      prepare: () => {
        throw new TransientError('still busy');
      },
    });
    const { executionArn } = (await sfn.handle('StartExecution', { stateMachineArn: arn, input: '{}' })) as {
      executionArn: string;
    };
    const done = await sfn.waitFor(executionArn);
    expect(done.status).toBe('FAILED');
    expect(done.error).toBe('TransientError');
    expect(JSON.parse(done.cause!)).toEqual({ errorType: 'TransientError', errorMessage: 'still busy' });
  });

  it('StartExecution is idempotent by name and input; lists and stops executions', async () => {
    const { sfn, arn } = setup({ prepare: () => ({ manual: true }) });
    const a = (await sfn.handle('StartExecution', { stateMachineArn: arn, name: 'n1', input: '{}' })) as { executionArn: string };
    const b = (await sfn.handle('StartExecution', { stateMachineArn: arn, name: 'n1', input: '{}' })) as { executionArn: string };
    expect(b.executionArn).toBe(a.executionArn);
    await expect(sfn.handle('StartExecution', { stateMachineArn: arn, name: 'n1', input: '{"x":1}' })).rejects.toMatchObject({
      type: 'ExecutionAlreadyExists',
    });
    const list = (await sfn.handle('ListExecutions', { stateMachineArn: arn, statusFilter: 'RUNNING' })) as {
      executions: { name: string }[];
    };
    expect(list.executions.map((e) => e.name)).toEqual(['n1']);
    await sfn.handle('StopExecution', { executionArn: a.executionArn, error: 'Cancelled', cause: 'test' });
    expect(await sfn.waitFor(a.executionArn)).toMatchObject({ status: 'ABORTED', error: 'Cancelled' });
    expect(sfn.pendingTasks(a.executionArn)).toEqual([]);
    await expect(sfn.handle('DescribeExecution', { executionArn: `${a.executionArn}x` })).rejects.toMatchObject({
      type: 'ExecutionDoesNotExist',
    });
  });

  it('after a restart, a RUNNING execution stays RUNNING and resume() runs it again from its start', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sfn-'));
    try {
      const first = setup({ prepare: (e) => ({ manual: e.manual }) }, dir);
      started.push(first.sfn);
      const auto = (await first.sfn.handle('StartExecution', {
        stateMachineArn: first.arn,
        input: '{"manual":false}',
      })) as { executionArn: string };
      await first.sfn.waitFor(auto.executionArn);
      const manual = (await first.sfn.handle('StartExecution', {
        stateMachineArn: first.arn,
        name: 'case-c9',
        input: '{"manual":true,"caseId":"c9"}',
      })) as { executionArn: string };
      const oldToken = (await until(() => first.calls.find((c) => c.fn === 'notify'))).event.taskToken;

      // No stop(): the process was killed. The execution is RUNNING in the file, not yet running here.
      const second = setup({ prepare: (e) => ({ manual: e.manual }) }, dir);
      started.push(second.sfn);
      expect(((await second.sfn.handle('DescribeExecution', auto)) as { status: string }).status).toBe('SUCCEEDED');
      expect(await second.sfn.handle('DescribeExecution', manual)).toMatchObject({ status: 'RUNNING' });
      expect(second.calls).toEqual([]);
      expect(second.sfn.resume()).toEqual([manual.executionArn]);
      expect(second.sfn.resume()).toEqual([]);

      // From the start, same ARN and input: Prepare again, then a new task token (the old one is gone).
      const notify = await until(() => second.calls.find((c) => c.fn === 'notify'));
      expect(second.calls.map((c) => c.fn)).toEqual(['prepare', 'notify']);
      expect(notify.event).toMatchObject({ caseId: 'c9', execution: manual.executionArn });
      expect(notify.event.taskToken).not.toBe(oldToken);
      await expect(second.sfn.handle('SendTaskSuccess', { taskToken: oldToken, output: '{}' })).rejects.toMatchObject({
        type: 'TaskDoesNotExist',
      });
      // A graceful stop() keeps it RUNNING too: a third process resumes it again.
      second.sfn.stop();
      const third = setup({ prepare: (e) => ({ manual: e.manual }) }, dir);
      started.push(third.sfn);
      expect(await third.sfn.handle('DescribeExecution', manual)).toMatchObject({ status: 'RUNNING' });
      expect(third.sfn.resume()).toEqual([manual.executionArn]);
      const again = await until(() => third.calls.find((c) => c.fn === 'notify'));
      await third.sfn.handle('SendTaskSuccess', { taskToken: again.event.taskToken, output: '{"approved":true}' });
      const done = await third.sfn.waitFor(manual.executionArn);
      expect(done).toMatchObject({ status: 'SUCCEEDED', name: 'case-c9' });
      expect(JSON.parse(done.output!)).toMatchObject({ caseId: 'c9', decision: { approved: true }, outcome: 'approved' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
