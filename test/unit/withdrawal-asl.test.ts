/**
 * step-functions/withdrawal-approval.asl.json: it parses, names only the manifest's task placeholders,
 * reaches every state, ends every path in Finalize or Done, and runs each path on the local runner
 * (aws-local-stepfunctions) with fake task functions: auto-approval to completion, review approved,
 * review rejected, review timed out, a payout retried then confirmed, a payout failing after its retries
 * (hold voided by Finalize 'fail'), a payout.failed webhook, a payout confirmation that never comes
 * (Finalize 'check'), a lost review callback resumed by the expiry, and a cancel during review.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stateMachines } from '#functions/manifest.ts';
import { LocalStepFunctions } from '#local/aws/states.ts';

const root = path.resolve(import.meta.dirname, '../..');
const spec = stateMachines.find((m) => m.name === 'withdrawal-approval')!;
const text = readFileSync(path.join(root, spec.definition), 'utf8');

// biome-ignore lint/suspicious/noExplicitAny: ASL and task payloads are untyped JSON
type Json = any;
type Call = { fn: string; event: Json };

function named(name: string, message = name): Error {
  const e = new Error(message);
  e.name = name;
  return e;
}

const running: LocalStepFunctions[] = [];
afterEach(() => {
  for (const s of running.splice(0)) s.stop();
});

function setup(behaviour: Partial<Record<string, (event: Json, n: number, sfn: LocalStepFunctions) => unknown>> = {}) {
  const calls: Call[] = [];
  const sfn: LocalStepFunctions = new LocalStepFunctions({
    stateMachines: [spec],
    root,
    timeScale: 0.001,
    log: () => undefined,
    invoke: async (fn, event) => {
      calls.push({ fn, event });
      const n = calls.filter((c) => c.fn === fn).length;
      const f = behaviour[fn];
      return f ? f(event, n, sfn) : {};
    },
  });
  running.push(sfn);
  return { sfn, calls, arn: sfn.arns()['withdrawal-approval']! };
}

async function until<T>(f: () => T | undefined, ms = 3000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function start(sfn: LocalStepFunctions, arn: string, timeouts: { review?: number; payout?: number } = {}) {
  const input = {
    withdrawalId: 'wd_1',
    clientId: 'client-1',
    Payload: { reviewTimeoutSeconds: timeouts.review ?? 3600, payoutTimeoutSeconds: timeouts.payout ?? 3600 },
  };
  const { executionArn } = (await sfn.handle('StartExecution', {
    stateMachineArn: arn,
    name: 'wd_1',
    input: JSON.stringify(input),
  })) as { executionArn: string };
  return executionArn;
}

const answer = (sfn: LocalStepFunctions, token: string, output: unknown) =>
  sfn.handle('SendTaskSuccess', { taskToken: token, output: JSON.stringify(output) });

/** A payout step that answers its own token at once (the provider answered synchronously / the webhook came). */
const payoutAnswers = (outcome: 'paid' | 'failed') => (e: Json, _n: number, sfn: LocalStepFunctions) => {
  setTimeout(() => void answer(sfn, e.taskToken, { outcome }), 1);
  return { payout: 'sent' };
};

const finalizeCalls = (calls: Call[]) => calls.filter((c) => c.fn === 'withdrawal-finalize').map((c) => c.event);

describe('withdrawal-approval ASL: structure', () => {
  const asl = JSON.parse(text) as Json;

  it('uses only the placeholders the manifest maps to functions', () => {
    const placeholders = [...new Set([...text.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1]!))].sort();
    expect(placeholders).toEqual(Object.keys(spec.tasks).sort());
  });

  it('reaches every state, and every path ends in Done (or the unknown-outcome failure)', () => {
    const seen = new Set<string>();
    const queue = [asl.StartAt as string];
    while (queue.length > 0) {
      const name = queue.shift()!;
      if (seen.has(name)) continue;
      seen.add(name);
      const s = asl.States[name];
      expect(s, `state ${name} exists`).toBeDefined();
      const next = [
        s.Next,
        s.Default,
        ...(s.Choices ?? []).map((c: Json) => c.Next),
        ...(s.Catch ?? []).map((c: Json) => c.Next),
      ];
      queue.push(...next.filter(Boolean));
      if (s.Type !== 'Succeed' && s.Type !== 'Fail' && s.Type !== 'Choice') expect(s.Next, name).toBeDefined();
    }
    expect([...seen].sort()).toEqual(Object.keys(asl.States).sort());
  });

  it('waits for the review and the payout with the tenant timeouts from the input, and retries the payout with backoff', () => {
    expect(asl.States.AwaitReview.TimeoutSecondsPath).toBe('$.Payload.reviewTimeoutSeconds');
    expect(asl.States.Payout.TimeoutSecondsPath).toBe('$.Payload.payoutTimeoutSeconds');
    // The same path reads the task parameters (the local runner) and the state input (AWS).
    expect(asl.States.AwaitReview.Parameters.Payload['reviewTimeoutSeconds.$']).toBe('$.Payload.reviewTimeoutSeconds');
    expect(asl.States.Payout.Parameters.Payload['payoutTimeoutSeconds.$']).toBe('$.Payload.payoutTimeoutSeconds');
    const retry = asl.States.Payout.Retry[0];
    expect(retry.ErrorEquals).toEqual(expect.arrayContaining(['PspUnavailable', 'Lambda.ServiceException', 'Sandbox.Timedout']));
    expect(retry.ErrorEquals).not.toContain('States.Timeout');
    expect(retry).toMatchObject({ MaxAttempts: 4, BackoffRate: 2, JitterStrategy: 'FULL' });
    // A timeout reads the recorded outcome; any other failure after the retries fails the withdrawal.
    expect(asl.States.Payout.Catch.map((c: Json) => [c.ErrorEquals[0], c.Next])).toEqual([
      ['States.Timeout', 'PayoutCheck'],
      ['States.ALL', 'PayoutFailed'],
    ]);
  });
});

describe('withdrawal-approval ASL: paths', () => {
  it('auto-approves: checks, payout confirmed, finalize complete', async () => {
    const { sfn, arn, calls } = setup({
      'withdrawal-checks': () => ({ outcome: 'approve', reasons: [] }),
      'withdrawal-payout': payoutAnswers('paid'),
      'withdrawal-finalize': (e) => ({ status: 'completed', outcome: 'completed', action: e.action }),
    });
    const done = await sfn.waitFor(await start(sfn, arn));
    expect(done.status, done.cause).toBe('SUCCEEDED');
    expect(calls.map((c) => c.fn)).toEqual(['withdrawal-checks', 'withdrawal-payout', 'withdrawal-finalize']);
    expect(calls[0]!.event).toEqual({ withdrawalId: 'wd_1' });
    expect(calls[1]!.event).toEqual({ withdrawalId: 'wd_1', taskToken: expect.any(String), payoutTimeoutSeconds: 3600 });
    expect(finalizeCalls(calls)).toEqual([{ withdrawalId: 'wd_1', action: 'complete' }]);
  });

  it('review approved: waits with a token, then pays out and completes', async () => {
    const { sfn, arn, calls } = setup({
      'withdrawal-checks': () => ({ outcome: 'review', reasons: ['aml_large_amount'] }),
      'withdrawal-payout': payoutAnswers('paid'),
      'withdrawal-finalize': () => ({ status: 'completed', outcome: 'completed' }),
    });
    const executionArn = await start(sfn, arn);
    const open = await until(() => calls.find((c) => c.fn === 'withdrawal-open-review'));
    expect(open.event).toEqual({ withdrawalId: 'wd_1', taskToken: expect.any(String), reviewTimeoutSeconds: 3600 });
    expect(sfn.pendingTasks(executionArn)).toEqual([{ token: open.event.taskToken, executionArn, state: 'AwaitReview' }]);
    await new Promise((r) => setTimeout(r, 20));
    expect(calls.some((c) => c.fn === 'withdrawal-payout')).toBe(false);

    await answer(sfn, open.event.taskToken, { decision: 'approve' });
    const done = await sfn.waitFor(executionArn);
    expect(done.status, done.cause).toBe('SUCCEEDED');
    expect(calls.map((c) => c.fn)).toEqual([
      'withdrawal-checks',
      'withdrawal-open-review',
      'withdrawal-payout',
      'withdrawal-finalize',
    ]);
    expect(finalizeCalls(calls)).toEqual([{ withdrawalId: 'wd_1', action: 'complete' }]);
  });

  it('review rejected: finalize reject, no payout', async () => {
    const { sfn, arn, calls } = setup({
      'withdrawal-checks': () => ({ outcome: 'review', reasons: ['closed_loop'] }),
      'withdrawal-finalize': () => ({ status: 'rejected', outcome: 'rejected' }),
    });
    const executionArn = await start(sfn, arn);
    const open = await until(() => calls.find((c) => c.fn === 'withdrawal-open-review'));
    await answer(sfn, open.event.taskToken, { decision: 'reject', reason: 'closed_loop_violation' });
    expect((await sfn.waitFor(executionArn)).status).toBe('SUCCEEDED');
    expect(calls.some((c) => c.fn === 'withdrawal-payout')).toBe(false);
    expect(finalizeCalls(calls)).toEqual([{ withdrawalId: 'wd_1', action: 'reject' }]);
  });

  it('review timed out: finalize expire (review_expired), no payout', async () => {
    const { sfn, arn, calls } = setup({
      'withdrawal-checks': () => ({ outcome: 'review', reasons: ['manual_review'] }),
      'withdrawal-finalize': () => ({ status: 'failed', outcome: 'failed' }),
    });
    const done = await sfn.waitFor(await start(sfn, arn, { review: 1 }));
    expect(done.status, done.cause).toBe('SUCCEEDED');
    expect(finalizeCalls(calls)).toEqual([{ withdrawalId: 'wd_1', action: 'expire', reason: 'review_expired' }]);
    expect(calls.some((c) => c.fn === 'withdrawal-payout')).toBe(false);
  });

  it('a decision whose callback was lost: the review expiry finds it approved and carries on to the payout', async () => {
    const { sfn, arn, calls } = setup({
      'withdrawal-checks': () => ({ outcome: 'review', reasons: ['manual_review'] }),
      'withdrawal-payout': payoutAnswers('paid'),
      'withdrawal-finalize': (e) =>
        e.action === 'expire' ? { status: 'approved', outcome: 'approve' } : { status: 'completed', outcome: 'completed' },
    });
    const done = await sfn.waitFor(await start(sfn, arn, { review: 1 }));
    expect(done.status, done.cause).toBe('SUCCEEDED');
    expect(finalizeCalls(calls).map((e) => e.action)).toEqual(['expire', 'complete']);
    expect(calls.filter((c) => c.fn === 'withdrawal-payout')).toHaveLength(1);
  });

  it('retries a payout the provider could not take (PspUnavailable), then completes', async () => {
    const { sfn, arn, calls } = setup({
      'withdrawal-checks': () => ({ outcome: 'approve', reasons: [] }),
      'withdrawal-payout': (e, n, s) => {
        if (n < 3) throw named('PspUnavailable', 'sandbox: 503');
        return payoutAnswers('paid')(e, n, s);
      },
      'withdrawal-finalize': () => ({ status: 'completed', outcome: 'completed' }),
    });
    const done = await sfn.waitFor(await start(sfn, arn));
    expect(done.status, done.cause).toBe('SUCCEEDED');
    const payouts = calls.filter((c) => c.fn === 'withdrawal-payout');
    expect(payouts).toHaveLength(3);
    // Every attempt gets a fresh token (the step stores the latest).
    expect(new Set(payouts.map((p) => p.event.taskToken)).size).toBe(3);
    expect(finalizeCalls(calls)).toEqual([{ withdrawalId: 'wd_1', action: 'complete' }]);
  });

  it('fails the withdrawal (hold voided by finalize fail) when the payout keeps failing: 1 attempt + 4 retries', async () => {
    const { sfn, arn, calls } = setup({
      'withdrawal-checks': () => ({ outcome: 'approve', reasons: [] }),
      'withdrawal-payout': () => {
        throw named('PspUnavailable', 'sandbox: timeout');
      },
      'withdrawal-finalize': () => ({ status: 'failed', outcome: 'failed' }),
    });
    const done = await sfn.waitFor(await start(sfn, arn));
    expect(done.status, done.cause).toBe('SUCCEEDED');
    expect(calls.filter((c) => c.fn === 'withdrawal-payout')).toHaveLength(5);
    expect(finalizeCalls(calls)).toEqual([{ withdrawalId: 'wd_1', action: 'fail', reason: 'payout_failed' }]);
  });

  it('a refused payout (PspRejected) is not retried and fails the withdrawal', async () => {
    const { sfn, arn, calls } = setup({
      'withdrawal-checks': () => ({ outcome: 'approve', reasons: [] }),
      'withdrawal-payout': () => {
        throw named('PspRejected', 'invalid destination');
      },
      'withdrawal-finalize': () => ({ status: 'failed', outcome: 'failed' }),
    });
    expect((await sfn.waitFor(await start(sfn, arn))).status).toBe('SUCCEEDED');
    expect(calls.filter((c) => c.fn === 'withdrawal-payout')).toHaveLength(1);
    expect(finalizeCalls(calls)).toEqual([{ withdrawalId: 'wd_1', action: 'fail', reason: 'payout_failed' }]);
  });

  it('a payout.failed webhook: finalize fail payout_failed', async () => {
    const { sfn, arn, calls } = setup({
      'withdrawal-checks': () => ({ outcome: 'approve', reasons: [] }),
      'withdrawal-payout': () => ({ payout: 'sent' }),
      'withdrawal-finalize': () => ({ status: 'failed', outcome: 'failed' }),
    });
    const executionArn = await start(sfn, arn);
    const payout = await until(() => calls.find((c) => c.fn === 'withdrawal-payout'));
    await new Promise((r) => setTimeout(r, 10));
    expect(sfn.pendingTasks(executionArn).map((t) => t.state)).toEqual(['Payout']);
    // What apply-payout-event (functions/app/payments) does for payout.failed: the token stored by the step is answered.
    await answer(sfn, payout.event.taskToken, { outcome: 'failed', failureCode: 'account_closed' });
    expect((await sfn.waitFor(executionArn)).status).toBe('SUCCEEDED');
    expect(finalizeCalls(calls)).toEqual([{ withdrawalId: 'wd_1', action: 'fail', reason: 'payout_failed' }]);
  });

  it('no payout confirmation in time: finalize check (reads the recorded outcome)', async () => {
    const { sfn, arn, calls } = setup({
      'withdrawal-checks': () => ({ outcome: 'approve', reasons: [] }),
      'withdrawal-payout': () => ({ payout: 'sent' }),
      'withdrawal-finalize': () => ({ status: 'completed', outcome: 'completed' }),
    });
    const done = await sfn.waitFor(await start(sfn, arn, { payout: 1 }));
    expect(done.status, done.cause).toBe('SUCCEEDED');
    expect(calls.filter((c) => c.fn === 'withdrawal-payout')).toHaveLength(1);
    expect(finalizeCalls(calls)).toEqual([{ withdrawalId: 'wd_1', action: 'check' }]);
  });

  it('cancelled during review: the execution ends without finalize (the cancel voided the hold)', async () => {
    const { sfn, arn, calls } = setup({
      'withdrawal-checks': () => ({ outcome: 'review', reasons: ['manual_review'] }),
    });
    const executionArn = await start(sfn, arn);
    const open = await until(() => calls.find((c) => c.fn === 'withdrawal-open-review'));
    await answer(sfn, open.event.taskToken, { decision: 'cancelled' });
    expect((await sfn.waitFor(executionArn)).status).toBe('SUCCEEDED');
    expect(calls.map((c) => c.fn)).toEqual(['withdrawal-checks', 'withdrawal-open-review']);
  });

  it('a withdrawal cancelled before its checks ends at once', async () => {
    const { sfn, arn, calls } = setup({ 'withdrawal-checks': () => ({ outcome: 'cancelled', reasons: [] }) });
    expect((await sfn.waitFor(await start(sfn, arn))).status).toBe('SUCCEEDED');
    expect(calls.map((c) => c.fn)).toEqual(['withdrawal-checks']);
  });

  it('fails on a checks outcome it does not route', async () => {
    const { sfn, arn } = setup({ 'withdrawal-checks': () => ({ outcome: 'maybe' }) });
    const done = await sfn.waitFor(await start(sfn, arn));
    expect(done).toMatchObject({ status: 'FAILED', error: 'WithdrawalUnknownOutcome' });
  });
});
