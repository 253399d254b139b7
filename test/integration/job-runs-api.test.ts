/**
 * GET /v1/admin/jobs/{job}/runs[/{runId}] (GitHub issue 12, finding 3): the runs POST .../runs starts, as the
 * jobs record them (functions/jobs/runs.ts, store/job-runs.ts), against a real table on DynamoDB Local with
 * EventBridge mocked.
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { completeJobRun } from '#app/platform/complete-job-run.ts';
import { commit, systemActor } from '#store/audit.ts';
import { finishJobRun, getJobRun } from '#store/job-runs.ts';
import { useHandlerEnv } from '../support/api-env.ts';
import { apiEvent, bodyOf, claimsFor, lambdaContext } from '../support/events.ts';

type Result = { statusCode: number; body: string };
type Handler = (e: ReturnType<typeof apiEvent>, c: ReturnType<typeof lambdaContext>) => Promise<Result>;

const bus = mockClient(EventBridgeClient);
let jobs: Handler;

beforeAll(async () => {
  await useHandlerEnv('jobruns');
  jobs = (await import('#functions/api/jobs.ts')).handler as unknown as Handler;
});
beforeEach(() => {
  bus.reset();
  bus.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] });
});
afterAll(() => bus.restore());

const admin = claimsFor('admin-1', ['admin']);
const compliance = claimsFor('compliance-1', ['compliance']);

const start = async (job: string) =>
  bodyOf<{ runId: string }>(
    await jobs(
      apiEvent({ method: 'POST', resource: '/v1/admin/jobs/{job}/runs', pathParameters: { job }, claims: admin }),
      lambdaContext(),
    ),
  ).runId;
const list = (job: string, claims: Record<string, string>, query: Record<string, string> = {}) =>
  jobs(
    apiEvent({ method: 'GET', resource: '/v1/admin/jobs/{job}/runs', pathParameters: { job }, claims, query }),
    lambdaContext(),
  );
const read = (job: string, runId: string, claims: Record<string, string>) =>
  jobs(
    apiEvent({ method: 'GET', resource: '/v1/admin/jobs/{job}/runs/{runId}', pathParameters: { job, runId }, claims }),
    lambdaContext(),
  );

/** Finishes an audit-verify run as the job does: counts in the summary, findings beside them. */
async function finishAuditVerify(runId: string, findings: unknown[]) {
  const existing = await getJobRun('audit-verify', runId);
  const at = new Date().toISOString();
  await commit({
    writes: [
      finishJobRun(
        existing,
        {
          job: 'audit-verify',
          runId,
          status: 'succeeded',
          startedAt: at,
          finishedAt: at,
          summary: {
            chainsVerified: 12,
            chainsBroken: findings.length,
            itemsVerified: 40,
            archivesChecked: 12,
            archivesMissing: 0,
          },
          findings,
        },
        at,
      ),
    ],
    audit: {
      actor: systemActor('audit-verify'),
      action: 'job.run.completed',
      entity: { type: 'job', id: 'audit-verify' },
      before: null,
      after: { runId },
      requestId: 'test',
    },
  });
}

describe('GET /v1/admin/jobs/{job}/runs/{runId}', () => {
  it('shows a requested run, then its result: status, times, summary and findings', async () => {
    const runId = await start('audit-verify');
    const requested = await read('audit-verify', runId, admin);
    expect(requested.statusCode).toBe(200);
    expect(bodyOf(requested)).toMatchObject({
      runId,
      job: 'audit-verify',
      status: 'requested',
      trigger: 'on_demand',
      requestedBy: 'admin-1',
    });
    expect(bodyOf(requested).finishedAt).toBeUndefined();

    const finding = { code: 'hash_mismatch', entityType: 'client', entityId: 'c-1', seq: 3 };
    await finishAuditVerify(runId, [finding]);
    const done = bodyOf<Record<string, unknown>>(await read('audit-verify', runId, admin));
    expect(done).toMatchObject({
      runId,
      status: 'succeeded',
      summary: { chainsVerified: 12, chainsBroken: 1, archivesMissing: 0 },
      findings: [finding],
      findingsCount: 1,
    });
    expect(typeof done.startedAt).toBe('string');
    expect(typeof done.finishedAt).toBe('string');
    expect(typeof done.requestedAt).toBe('string');
  });

  it('shows reconciliation counts and a failed run with its error', async () => {
    const ok = await start('outbox-sweeper');
    await completeJobRun(
      {
        job: 'outbox-sweeper',
        runId: ok,
        startedAt: new Date().toISOString(),
        summary: { scanned: 4, republished: 1, failed: 0 },
      },
      { requestId: 'r', locale: 'en' },
    );
    expect(bodyOf(await read('outbox-sweeper', ok, admin))).toMatchObject({
      status: 'succeeded',
      summary: { scanned: 4, republished: 1, failed: 0 },
    });
    const bad = await start('ledger-reconciliation');
    await completeJobRun(
      { job: 'ledger-reconciliation', runId: bad, startedAt: new Date().toISOString(), failure: new Error('table unavailable') },
      { requestId: 'r', locale: 'en' },
    );
    expect(bodyOf(await read('ledger-reconciliation', bad, admin))).toMatchObject({
      status: 'failed',
      summary: { error: 'table unavailable' },
    });
  });

  it("unknown job 404 job_not_found; unknown run, or another job's run, 404 job_run_not_found", async () => {
    const runId = await start('kyc-expiry');
    const noJob = await read('no-such-job', runId, admin);
    expect([noJob.statusCode, bodyOf(noJob).code]).toEqual([404, 'job_not_found']);
    const noRun = await read('kyc-expiry', '01J0000000000000000000000Z', admin);
    expect([noRun.statusCode, bodyOf(noRun).code]).toEqual([404, 'job_run_not_found']);
    const otherJob = await read('audit-verify', runId, admin);
    expect([otherJob.statusCode, bodyOf(otherJob).code]).toEqual([404, 'job_run_not_found']);
    const listNoJob = await list('no-such-job', admin);
    expect([listNoJob.statusCode, bodyOf(listNoJob).code]).toEqual([404, 'job_not_found']);
  });
});

describe('GET /v1/admin/jobs/{job}/runs', () => {
  it('lists runs newest first, without findings, a page at a time', async () => {
    const first = await start('deposit-expiry');
    const second = await start('deposit-expiry');
    const page1 = bodyOf<{ items: { runId: string; findings?: unknown }[]; nextCursor?: string; hasMore: boolean }>(
      await list('deposit-expiry', admin, { limit: '1' }),
    );
    expect(page1.items.map((r) => r.runId)).toEqual([second]);
    expect(page1.hasMore).toBe(true);
    const page2 = bodyOf<typeof page1>(await list('deposit-expiry', admin, { limit: '1', cursor: page1.nextCursor! }));
    expect(page2.items.map((r) => r.runId)).toEqual([first]);
    expect(page2.hasMore).toBe(false);

    const av = await start('audit-verify');
    await finishAuditVerify(av, [{ code: 'archive_missing', entityType: 'client', entityId: 'c-2', seq: 1 }]);
    const listed = bodyOf<typeof page1>(await list('audit-verify', admin)).items.find((r) => r.runId === av);
    expect(listed).toMatchObject({ runId: av, status: 'succeeded', findingsCount: 1 });
    expect(listed?.findings).toBeUndefined();
  });
});

describe('who reads runs', () => {
  it('compliance reads audit-verify runs only; finance, sales and clients nothing', async () => {
    const av = await start('audit-verify');
    const other = await start('ledger-reconciliation');
    expect((await read('audit-verify', av, compliance)).statusCode).toBe(200);
    expect((await list('audit-verify', compliance)).statusCode).toBe(200);
    for (const r of [await read('ledger-reconciliation', other, compliance), await list('ledger-reconciliation', compliance)]) {
      expect([r.statusCode, bodyOf(r).code]).toEqual([403, 'forbidden_role']);
    }
    for (const claims of [claimsFor('f-1', ['finance']), claimsFor('s-1', ['sales']), claimsFor('c-1', ['client'])]) {
      const r = await read('audit-verify', av, claims);
      expect([r.statusCode, bodyOf(r).code]).toEqual([403, 'forbidden_role']);
    }
    const starts = await jobs(
      apiEvent({
        method: 'POST',
        resource: '/v1/admin/jobs/{job}/runs',
        pathParameters: { job: 'audit-verify' },
        claims: compliance,
      }),
      lambdaContext(),
    );
    expect(starts.statusCode).toBe(403);
  });
});
