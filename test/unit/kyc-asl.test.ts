/**
 * step-functions/kyc-review.asl.json: it parses, names only the manifest's task placeholders, reaches
 * every state, and runs each path on the local runner (aws-local-stepfunctions) with fake task functions:
 * automatic approval, automatic rejection, manual review resumed by SendTaskSuccess, a transient analysis
 * error and a Lambda timeout (Sandbox.Timedout, Lambda.Unknown) retried, and a permanent analysis failure
 * recorded (RecordAnalysisFailure) with the checks still run.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stateMachines } from '#functions/manifest.ts';
import { LocalStepFunctions } from '#local/aws/states.ts';

const root = path.resolve(import.meta.dirname, '../..');
const spec = stateMachines.find((m) => m.name === 'kyc-review')!;
const text = readFileSync(path.join(root, spec.definition), 'utf8');

// biome-ignore lint/suspicious/noExplicitAny: ASL and task payloads are untyped JSON
type Json = any;
type Call = { fn: string; event: Json };

function named(name: string, message = name): Error {
  const e = new Error(message);
  e.name = name;
  return e;
}

function setup(behaviour: Partial<Record<string, (event: Json, n: number) => unknown>> = {}) {
  const calls: Call[] = [];
  const sfn = new LocalStepFunctions({
    stateMachines: [spec],
    root,
    timeScale: 0.001,
    log: () => undefined,
    invoke: async (fn, event) => {
      calls.push({ fn, event });
      const n = calls.filter((c) => c.fn === fn).length;
      const f = behaviour[fn];
      return f ? f(event, n) : {};
    },
  });
  running.push(sfn);
  return { sfn, calls, arn: sfn.arns()['kyc-review']! };
}

const running: LocalStepFunctions[] = [];
afterEach(() => {
  for (const s of running.splice(0)) s.stop();
});

async function until<T>(f: () => T | undefined, ms = 3000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function start(sfn: LocalStepFunctions, arn: string, units = ['identity', 'address']) {
  const input = { submissionId: 'SUB1', clientId: 'client-1', units };
  const { executionArn } = (await sfn.handle('StartExecution', {
    stateMachineArn: arn,
    name: 'SUB1',
    input: JSON.stringify(input),
  })) as { executionArn: string };
  return executionArn;
}

const analyseOk = (e: Json) => ({ unit: e.unit, ok: true });

describe('kyc-review ASL: structure', () => {
  const asl = JSON.parse(text) as Json;

  it('uses only the placeholders the manifest maps to functions', () => {
    const placeholders = [...new Set([...text.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1]!))].sort();
    expect(placeholders).toEqual(Object.keys(spec.tasks).sort());
  });

  it('reaches every state, in the top level and in the Map processor', () => {
    const check = (states: Record<string, Json>, startAt: string) => {
      const seen = new Set<string>();
      const queue = [startAt];
      while (queue.length > 0) {
        const name = queue.shift()!;
        if (seen.has(name)) continue;
        seen.add(name);
        const s = states[name];
        expect(s, `state ${name} exists`).toBeDefined();
        const next = [
          s.Next,
          s.Default,
          ...(s.Choices ?? []).map((c: Json) => c.Next),
          ...(s.Catch ?? []).map((c: Json) => c.Next),
        ].filter(Boolean);
        queue.push(...next);
        const processor = s.ItemProcessor ?? s.Iterator;
        if (processor) check(processor.States, processor.StartAt);
      }
      expect([...seen].sort()).toEqual(Object.keys(states).sort());
    };
    check(asl.States, asl.StartAt);
  });

  it('retries Lambda service errors on every Lambda task', () => {
    const tasks: [string, Json][] = [];
    const walk = (states: Record<string, Json>) => {
      for (const [name, s] of Object.entries(states)) {
        if (s.Type === 'Task') tasks.push([name, s]);
        const processor = s.ItemProcessor ?? s.Iterator;
        if (processor) walk(processor.States);
      }
    };
    walk(asl.States);
    expect(tasks.map(([n]) => n).sort()).toEqual(['Analyse', 'Assess', 'AwaitReview', 'Finalize', 'RecordAnalysisFailure']);
    for (const [name, s] of tasks) {
      const errors = (s.Retry ?? []).flatMap((r: Json) => r.ErrorEquals);
      expect(errors, name).toEqual(
        expect.arrayContaining([
          'Lambda.ServiceException',
          'Lambda.AWSLambdaException',
          'Lambda.SdkClientException',
          'Lambda.TooManyRequestsException',
          // A function that ran out of time (Sandbox.Timedout) or died without a reported error (Lambda.Unknown).
          'Sandbox.Timedout',
          'Lambda.Unknown',
        ]),
      );
    }
    // The analysis (a Textract call per unit) also retries its own timeout and the adapter's transient error.
    const analyse = Object.fromEntries(tasks).Analyse;
    expect(analyse.Retry.flatMap((r: Json) => r.ErrorEquals)).toEqual(
      expect.arrayContaining(['KycAnalysisTransient', 'States.Timeout', 'Sandbox.Timedout', 'Lambda.Unknown']),
    );
  });
});

describe('kyc-review ASL: paths', () => {
  it('approves automatically: analyse every unit, assess, finalize', async () => {
    const { sfn, arn, calls } = setup({
      'kyc-analyze': analyseOk,
      'kyc-assess': () => ({ outcome: 'approve' }),
      'kyc-finalize': () => ({ status: 'approved' }),
    });
    const done = await sfn.waitFor(await start(sfn, arn));
    expect(done.status, done.cause).toBe('SUCCEEDED');
    const analysed = calls.filter((c) => c.fn === 'kyc-analyze').map((c) => c.event);
    expect(analysed).toEqual(
      expect.arrayContaining([
        { submissionId: 'SUB1', unit: 'identity' },
        { submissionId: 'SUB1', unit: 'address' },
      ]),
    );
    expect(analysed).toHaveLength(2);
    expect(calls.map((c) => c.fn).slice(2)).toEqual(['kyc-assess', 'kyc-finalize']);
    expect(calls.find((c) => c.fn === 'kyc-assess')!.event).toEqual({ submissionId: 'SUB1' });
    expect(calls.find((c) => c.fn === 'kyc-finalize')!.event).toEqual({ submissionId: 'SUB1' });
    const output = JSON.parse(done.output!);
    expect(output).toMatchObject({ submissionId: 'SUB1', assessment: { outcome: 'approve' }, final: { status: 'approved' } });
  });

  it('rejects automatically without opening a review', async () => {
    const { sfn, arn, calls } = setup({
      'kyc-analyze': analyseOk,
      'kyc-assess': () => ({ outcome: 'reject' }),
      'kyc-finalize': () => ({ status: 'rejected' }),
    });
    const done = await sfn.waitFor(await start(sfn, arn, ['identity']));
    expect(done.status).toBe('SUCCEEDED');
    expect(calls.map((c) => c.fn)).toEqual(['kyc-analyze', 'kyc-assess', 'kyc-finalize']);
    expect(JSON.parse(done.output!).final).toEqual({ status: 'rejected' });
  });

  it('waits for a manual review with a task token, then finalizes after SendTaskSuccess', async () => {
    const { sfn, arn, calls } = setup({
      'kyc-analyze': analyseOk,
      'kyc-assess': () => ({ outcome: 'manual_review', priority: 'high' }),
      'kyc-open-review': (e) => ({ submissionId: e.submissionId, status: 'in_review' }),
      'kyc-finalize': () => ({ status: 'approved' }),
    });
    const executionArn = await start(sfn, arn);
    const open = await until(() => calls.find((c) => c.fn === 'kyc-open-review'));
    expect(open.event).toEqual({ submissionId: 'SUB1', taskToken: expect.any(String) });
    expect(sfn.pendingTasks(executionArn)).toEqual([{ token: open.event.taskToken, executionArn, state: 'AwaitReview' }]);
    await new Promise((r) => setTimeout(r, 20));
    expect(calls.some((c) => c.fn === 'kyc-finalize')).toBe(false);

    await sfn.handle('SendTaskSuccess', { taskToken: open.event.taskToken, output: JSON.stringify({ decision: 'approve' }) });
    const done = await sfn.waitFor(executionArn);
    expect(done.status).toBe('SUCCEEDED');
    expect(calls.at(-1)!.fn).toBe('kyc-finalize');
    expect(JSON.parse(done.output!)).toMatchObject({ review: { decision: 'approve' }, final: { status: 'approved' } });
  });

  it('retries a transient analysis error, then carries on', async () => {
    const { sfn, arn, calls } = setup({
      'kyc-analyze': (e, n) => {
        if (n < 3) throw named('KycAnalysisTransient', 'throttled');
        return analyseOk(e);
      },
      'kyc-assess': () => ({ outcome: 'approve' }),
      'kyc-finalize': () => ({ status: 'approved' }),
    });
    const done = await sfn.waitFor(await start(sfn, arn, ['identity']));
    expect(done.status).toBe('SUCCEEDED');
    const analyses = calls.filter((c) => c.fn === 'kyc-analyze');
    expect(analyses).toHaveLength(3);
    expect(analyses.every((c) => c.event.failed === undefined)).toBe(true);
  });

  it.each(['Sandbox.Timedout', 'Lambda.Unknown'])('retries an analysis that failed with %s, then carries on', async (error) => {
    const { sfn, arn, calls } = setup({
      'kyc-analyze': (e, n) => {
        if (n < 2) throw named(error, 'Task timed out after 60.00 seconds');
        return analyseOk(e);
      },
      'kyc-assess': () => ({ outcome: 'approve' }),
      'kyc-finalize': () => ({ status: 'approved' }),
    });
    const done = await sfn.waitFor(await start(sfn, arn, ['identity']));
    expect(done.status, done.cause).toBe('SUCCEEDED');
    const analyses = calls.filter((c) => c.fn === 'kyc-analyze');
    expect(analyses).toHaveLength(2);
    expect(analyses.every((c) => c.event.failed === undefined)).toBe(true);
  });

  it('records a permanent analysis failure and still assesses', async () => {
    const { sfn, arn, calls } = setup({
      'kyc-analyze': (e) => {
        if (e.failed) return { unit: e.unit, ok: false };
        if (e.unit === 'identity') throw named('KycAnalysisFailed', 'bad_document');
        return analyseOk(e);
      },
      'kyc-assess': () => ({ outcome: 'manual_review', priority: 'normal' }),
      'kyc-open-review': () => ({}),
      'kyc-finalize': () => ({ status: 'approved' }),
    });
    const executionArn = await start(sfn, arn);
    const open = await until(() => calls.find((c) => c.fn === 'kyc-open-review'));
    const records = calls.filter((c) => c.fn === 'kyc-analyze' && c.event.failed);
    expect(records).toHaveLength(1);
    expect(records[0]!.event).toEqual({
      submissionId: 'SUB1',
      unit: 'identity',
      failed: {
        error: 'KycAnalysisFailed',
        cause: JSON.stringify({ errorType: 'KycAnalysisFailed', errorMessage: 'bad_document' }),
      },
    });
    // KycAnalysisFailed is not retried: one attempt for identity, one for address.
    expect(calls.filter((c) => c.fn === 'kyc-analyze' && !c.event.failed)).toHaveLength(2);
    expect(calls.filter((c) => c.fn === 'kyc-assess')).toHaveLength(1);
    await sfn.handle('SendTaskSuccess', { taskToken: open.event.taskToken, output: '{}' });
    expect((await sfn.waitFor(executionArn)).status).toBe('SUCCEEDED');
  });

  it('records the failure once transient retries are exhausted (1 attempt + 4 retries)', async () => {
    const { sfn, arn, calls } = setup({
      'kyc-analyze': (e) => {
        if (e.failed) return { unit: e.unit, ok: false };
        throw named('KycAnalysisTransient', 'throttled');
      },
      'kyc-assess': () => ({ outcome: 'manual_review' }),
      'kyc-open-review': () => ({}),
    });
    const executionArn = await start(sfn, arn, ['identity']);
    await until(() => calls.find((c) => c.fn === 'kyc-open-review'));
    expect(calls.filter((c) => c.fn === 'kyc-analyze' && !c.event.failed)).toHaveLength(5);
    expect(calls.filter((c) => c.fn === 'kyc-analyze' && c.event.failed).map((c) => c.event.failed.error)).toEqual([
      'KycAnalysisTransient',
    ]);
    await sfn.handle('StopExecution', { executionArn });
  });

  it('fails on an outcome it does not route', async () => {
    const { sfn, arn } = setup({ 'kyc-analyze': analyseOk, 'kyc-assess': () => ({ outcome: 'maybe' }) });
    const done = await sfn.waitFor(await start(sfn, arn, ['identity']));
    expect(done).toMatchObject({ status: 'FAILED', error: 'KycUnknownOutcome' });
  });
});
