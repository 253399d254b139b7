/**
 * Every step, job and worker handler runs instrumented (functions/shared/handler.ts): the manifest's
 * non-HTTP functions all export a wrapped handler; a wrapped handler logs with the Lambda context,
 * resets appended keys per invocation, returns exactly its handler's result (partial batch failures,
 * task output), rethrows its errors unchanged, and flushes metrics only when it stored some.
 */
import type { SQSBatchResponse } from 'aws-lambda';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { functions } from '#functions/manifest.ts';
import { instrumented, isInstrumented } from '#shared/handler.ts';
import { logger, metrics } from '#shared/powertools.ts';
import { lambdaContext } from '../support/events.ts';
import { useDemoTenant } from '../support/tenant.ts';

// The unit project runs with POWERTOOLS_LOG_LEVEL=SILENT (vitest.config.ts); these tests read the log, so the
// logger is created at INFO (injectLambdaContext resets the level to the initial one on every invocation).
const quietLevel = vi.hoisted(() => {
  const level = process.env.POWERTOOLS_LOG_LEVEL;
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
  return level;
});
afterAll(() => {
  process.env.POWERTOOLS_LOG_LEVEL = quietLevel;
});

useDemoTenant();
afterEach(() => vi.restoreAllMocks());

const edges = functions.filter((f) => !f.entry.startsWith('functions/api/'));

describe('every step, job and worker handler is instrumented', () => {
  it('the manifest has them (steps, jobs and workers)', () => {
    for (const dir of ['functions/steps/', 'functions/jobs/', 'functions/workers/']) {
      expect(
        edges.some((f) => f.entry.startsWith(dir)),
        dir,
      ).toBe(true);
    }
  });

  it.each(edges.map((f) => [f.name, f.entry] as const))('%s (%s) exports a wrapped handler', async (_, entry) => {
    const mod = (await import(/* @vite-ignore */ `../../${entry}`)) as { handler?: unknown };
    expect(typeof mod.handler).toBe('function');
    expect(isInstrumented(mod.handler)).toBe(true);
  });
});

/** Captures the logger's JSON lines for the duration of `run`. */
async function logsOf(run: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
  const lines: string[] = [];
  const grab = (chunk: unknown) => {
    lines.push(String(chunk));
    return true;
  };
  vi.spyOn(process.stdout, 'write').mockImplementation(grab as typeof process.stdout.write);
  try {
    await run().catch(() => undefined);
  } finally {
    vi.mocked(process.stdout.write).mockRestore();
  }
  return lines
    .join('')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('instrumented()', () => {
  it('logs carry the Lambda context, and keys appended during one invocation do not reach the next', async () => {
    const handler = instrumented(async (event: { n: number }) => {
      logger.info('inside', { n: event.n });
      logger.appendKeys({ leaked: `from-${event.n}` });
      return event.n;
    });
    const logs = await logsOf(async () => {
      await handler({ n: 1 }, lambdaContext('kyc-analyze'));
      await handler({ n: 2 }, lambdaContext('kyc-analyze'));
    });
    const inside = logs.filter((l) => l.message === 'inside');
    expect(inside).toHaveLength(2);
    expect(inside[0]).toMatchObject({ function_name: 'kyc-analyze', cold_start: expect.any(Boolean), n: 1 });
    expect(inside[0]!.function_request_id).toEqual(expect.any(String));
    expect(inside[1]).toMatchObject({ function_name: 'kyc-analyze', n: 2 });
    expect(inside[1]).not.toHaveProperty('leaked');
  });

  it("returns the handler's result as is (an SQS batch handler's partial failures)", async () => {
    const failures: SQSBatchResponse = { batchItemFailures: [{ itemIdentifier: 'm2' }] };
    const handler = instrumented(async (_event: { Records: unknown[] }) => failures);
    await expect(handler({ Records: [] }, lambdaContext())).resolves.toBe(failures);
  });

  it("rethrows the handler's error unchanged (the ASL matches its name)", async () => {
    const err = Object.assign(new Error('provider down'), { name: 'PspUnavailable' });
    const handler = instrumented(async (_event: object) => {
      throw err;
    });
    await expect(handler({}, lambdaContext())).rejects.toBe(err);
  });

  it('works without a Lambda context (direct calls in tests and scripts); an absent event arrives as {}', async () => {
    const handler = instrumented(async (event: { n?: number } = {}) => (event.n ?? 7) * 2);
    await expect(handler({ n: 3 })).resolves.toBe(6);
    await expect(handler()).resolves.toBe(14);
  });

  it('flushes metrics only when the invocation stored some', async () => {
    // (publishing is replaced: the EMF line would go to stdout)
    const publish = vi.spyOn(metrics, 'publishStoredMetrics').mockImplementation(() => {
      metrics.clearMetrics();
      return metrics;
    });
    const quiet = instrumented(async (_event: object) => 'nothing measured');
    await quiet({}, lambdaContext());
    expect(publish).not.toHaveBeenCalled();
    const measured = instrumented(async (_event: object) => {
      metrics.addMetric('Things', 'Count', 1);
      return 'measured';
    });
    await measured({}, lambdaContext());
    expect(publish).toHaveBeenCalledTimes(1);
    expect(metrics.hasStoredMetrics()).toBe(false);
  });
});
