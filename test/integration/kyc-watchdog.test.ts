/**
 * The KYC watchdog job (functions/jobs/kyc-watchdog.ts) against DynamoDB Local, with Step Functions
 * faked in memory through aws-sdk-client-mock (executions by ARN; StartExecution of an existing name
 * fails with ExecutionAlreadyExists, DescribeExecution of an unknown one with ExecutionDoesNotExist).
 * - a 'processing' submission older than 10 minutes without an execution is started under its name with
 *   kyc-start's input; a fresh one is not even described
 * - FAILED -> restarted as <id>-r1 (name + attempt recorded with a 'kyc.review.restarted' audit item);
 *   a second run finds -r1 RUNNING and starts nothing
 * - RUNNING -> untouched; 3 restarts used up -> 'kyc.review.stalled' once, no start, and a high-priority
 *   review (issue verification_stalled, no token) that an officer decides through the queue
 * - a decided review whose callback was lost (crash after the commit, or every SendTaskSuccess failed) gets
 *   the same callback again once it is older than the grace period; the token is then cleared
 * - an open review whose execution was ABORTED is restarted and kyc-open-review replaces its dead token
 * - gsi2 follows the status: KYCPROCESSING while processing, the review queue once reviewed, nothing once
 *   decided automatically (so a decided submission is never looked at)
 * - an on-demand run records its job-run item
 */
import { randomUUID } from 'node:crypto';
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandInput,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  type StartExecutionCommandInput,
} from '@aws-sdk/client-sfn';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { ulid } from 'ulid';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { applyKycDecision } from '#app/kyc/decisions.ts';
import { JOB_DETAIL_TYPE } from '#functions/manifest.ts';
import { ddb } from '#shared/clients.ts';
import { commit } from '#store/audit.ts';
import { getClientProfile } from '#store/clients.ts';
import { kycKeys } from '#store/keys.ts';
import {
  getKycSubmission,
  type KycSubmissionItem,
  newKycSubmission,
  putKycSubmission,
  replaceKycSubmission,
} from '#store/kyc.ts';
import { useHandlerEnv } from '../support/api-env.ts';
import { auditTrail } from '../support/audit.ts';
import { seedClient } from '../support/clients.ts';
import { useTestTable } from '../support/dynamodb.ts';
import { apiEvent, bodyOf, claimsFor, lambdaContext } from '../support/events.ts';

// biome-ignore lint/suspicious/noExplicitAny: stored items are asserted field by field
type Json = any;

const MACHINE_ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:kyc-review';
const execArn = (name: string) => `arn:aws:states:us-east-1:000000000000:execution:kyc-review:${name}`;
const MINUTE = 60_000;
const minutesAgo = (n: number) => new Date(Date.now() - n * MINUTE).toISOString();

const sfnMock = mockClient(SFNClient);
/** The fake's executions: ARN -> status and input. */
let executions: Map<string, { status: string; input: string }>;

let table: string;
type RunResult = {
  scanned: number;
  started: number;
  restarted: number;
  stalled: number;
  resumed: number;
  failed: number;
  runId?: string;
};
let job: (event?: unknown) => Promise<RunResult>;
let openReview: (input: { submissionId: string; taskToken: string }) => Promise<{ review: string }>;
let runWatchdog: (opts?: { now?: Date }) => Promise<RunResult>;
type ApiHandler = (
  e: ReturnType<typeof apiEvent>,
  c: ReturnType<typeof lambdaContext>,
) => Promise<{ statusCode: number; body: string }>;
let admin: ApiHandler;

const awsError = (name: string) => Object.assign(new Error(name), { name });

function fakeStepFunctions() {
  executions = new Map();
  sfnMock.reset();
  sfnMock.on(DescribeExecutionCommand).callsFake((input: DescribeExecutionCommandInput) => {
    const e = executions.get(input.executionArn!);
    if (!e) throw awsError('ExecutionDoesNotExist');
    return {
      executionArn: input.executionArn,
      status: e.status,
      ...(e.status === 'FAILED' ? { error: 'States.TaskFailed' } : {}),
    };
  });
  sfnMock.on(StartExecutionCommand).callsFake((input: StartExecutionCommandInput) => {
    expect(input.stateMachineArn).toBe(MACHINE_ARN);
    const arn = execArn(input.name!);
    if (executions.has(arn)) throw awsError('ExecutionAlreadyExists');
    executions.set(arn, { status: 'RUNNING', input: input.input! });
    return { executionArn: arn, startDate: new Date() };
  });
  sfnMock.on(SendTaskSuccessCommand).resolves({});
}

/** A submission as the API commits it ('processing', with a proof of address unless `bill` is false). */
async function seed(opts: { submittedMinutesAgo: number; bill?: boolean }) {
  const submissionId = ulid();
  const clientId = `client-${randomUUID().slice(0, 8)}`;
  const submittedAt = minutesAgo(opts.submittedMinutesAgo);
  const item = newKycSubmission(
    {
      submissionId,
      clientId,
      status: 'processing',
      identity: { documentType: 'passport', documentIds: [ulid()] },
      ...(opts.bill === false ? {} : { addressProof: { documentType: 'utility_bill', documentId: ulid() } }),
      submittedAt,
      timeline: [{ step: 'submitted', at: submittedAt }],
    },
    submittedAt,
  );
  await commit({
    writes: [putKycSubmission(item)],
    audit: {
      actor: { id: clientId, role: 'client' },
      action: 'kyc.submission.created',
      entity: { type: 'kyc-submission', id: submissionId },
      clientId,
      before: null,
      after: { submissionId },
      requestId: 'seed',
      newEntity: true,
    },
  });
  return { submissionId, clientId };
}

/** Changes a stored submission through the store (so its indexes are derived as in production). */
async function patch(submissionId: string, fields: Partial<KycSubmissionItem>) {
  const read = (await getKycSubmission(submissionId))!;
  await commit({
    writes: [replaceKycSubmission(read, { ...read, ...fields } as KycSubmissionItem, new Date().toISOString())],
    audit: {
      actor: { id: 'system:test', role: 'system' },
      action: 'test.patched',
      entity: { type: 'kyc-submission', id: submissionId },
      clientId: read.clientId,
      before: null,
      after: null,
      requestId: 'seed',
    },
  });
}

const trail = (submissionId: string) => auditTrail<Json>('kyc-submission', submissionId);

const starts = () => sfnMock.commandCalls(StartExecutionCommand).map((c) => c.args[0].input);
const described = () => sfnMock.commandCalls(DescribeExecutionCommand).map((c) => c.args[0].input.executionArn);
const inputOf = (submissionId: string, clientId: string, units = ['identity', 'address']) =>
  JSON.stringify({ submissionId, clientId, units });
const scheduled = () => ({ 'detail-type': 'Scheduled Event', source: 'aws.events', id: `evt-${randomUUID()}` });

beforeAll(async () => {
  table = await useHandlerEnv('kyc-watchdog', { STATE_MACHINE_ARN_KYC_REVIEW: MACHINE_ARN });
  job = (await import('#functions/jobs/kyc-watchdog.ts')).handler as typeof job;
  openReview = (await import('#functions/steps/kyc-open-review.ts')).handler;
  const { repairReviewExecutions } = await import('#app/kyc/repair-review-executions.ts');
  runWatchdog = (opts = {}) => {
    const now = opts.now ?? new Date();
    return repairReviewExecutions({}, { requestId: `kyc-watchdog:${now.toISOString()}`, locale: 'en', now });
  };
  admin = (await import('#functions/api/kyc-admin.ts')).handler as ApiHandler;
});

beforeEach(async () => {
  fakeStepFunctions();
  table = await useTestTable('kyc-watchdog');
});

afterAll(() => sfnMock.restore());

describe('lost starts', () => {
  it('starts a processing submission older than 10 minutes under its own name with kyc-start input; a fresh one is untouched', async () => {
    const stale = await seed({ submittedMinutesAgo: 12 });
    const fresh = await seed({ submittedMinutesAgo: 2, bill: false });

    expect(await job(scheduled())).toMatchObject({ scanned: 1, started: 1, restarted: 0, stalled: 0, failed: 0 });
    expect(described()).toEqual([execArn(stale.submissionId)]);
    expect(starts()).toEqual([
      { stateMachineArn: MACHINE_ARN, name: stale.submissionId, input: inputOf(stale.submissionId, stale.clientId) },
    ]);
    // A lost start needs no new name: the submission is not rewritten.
    const sub = (await getKycSubmission(stale.submissionId))!;
    expect(sub).toMatchObject({ version: 1, executionName: stale.submissionId });
    expect(sub.executionAttempt).toBeUndefined();
    expect((await getKycSubmission(fresh.submissionId))!.version).toBe(1);

    // Next run: the execution is RUNNING, nothing is started again.
    expect(await job(scheduled())).toMatchObject({ scanned: 1, started: 0, restarted: 0 });
    expect(starts()).toHaveLength(1);
  });

  it('a start that races a late kyc-start (ExecutionAlreadyExists) counts as live, not started', async () => {
    const s = await seed({ submittedMinutesAgo: 30, bill: false });
    sfnMock.on(DescribeExecutionCommand).rejects(awsError('ExecutionDoesNotExist'));
    sfnMock.on(StartExecutionCommand).rejects(awsError('ExecutionAlreadyExists'));
    expect(await job(scheduled())).toMatchObject({ scanned: 1, started: 0, failed: 0 });
    expect(starts()).toEqual([
      { stateMachineArn: MACHINE_ARN, name: s.submissionId, input: inputOf(s.submissionId, s.clientId, ['identity']) },
    ]);
  });
});

describe('ended executions', () => {
  it('restarts a FAILED execution as <id>-r1 with an audit item; a second run finds it RUNNING and starts nothing', async () => {
    const s = await seed({ submittedMinutesAgo: 20 });
    executions.set(execArn(s.submissionId), { status: 'FAILED', input: inputOf(s.submissionId, s.clientId) });

    expect(await job(scheduled())).toMatchObject({ scanned: 1, started: 0, restarted: 1, stalled: 0, failed: 0 });
    const name = `${s.submissionId}-r1`;
    expect(starts()).toEqual([{ stateMachineArn: MACHINE_ARN, name, input: inputOf(s.submissionId, s.clientId) }]);
    const sub = (await getKycSubmission(s.submissionId))!;
    expect(sub).toMatchObject({ status: 'processing', executionName: name, executionAttempt: 1, version: 2 });
    expect(sub.gsi2pk).toBe(kycKeys.processingPartition);

    const audit = (await trail(s.submissionId)).at(-1);
    expect(audit).toMatchObject({
      action: 'kyc.review.restarted',
      actor: { id: 'system:kyc-watchdog', role: 'system' },
      clientId: s.clientId,
      before: { executionName: s.submissionId, executionAttempt: 0 },
      after: { executionName: name, executionAttempt: 1 },
      evidence: { previousExecution: s.submissionId, previousStatus: 'FAILED', previousError: 'States.TaskFailed', attempt: 1 },
    });

    expect(await job(scheduled())).toMatchObject({ scanned: 1, started: 0, restarted: 0, stalled: 0 });
    expect(described().at(-1)).toBe(execArn(name));
    expect(starts()).toHaveLength(1);
    expect((await getKycSubmission(s.submissionId))!.version).toBe(2);
    expect((await trail(s.submissionId)).filter((a) => a.action === 'kyc.review.restarted')).toHaveLength(1);
  });

  it.each(['TIMED_OUT', 'ABORTED'])('restarts a %s execution the same way', async (status) => {
    const s = await seed({ submittedMinutesAgo: 20 });
    await patch(s.submissionId, { executionName: `${s.submissionId}-r1`, executionAttempt: 1 });
    executions.set(execArn(`${s.submissionId}-r1`), { status, input: inputOf(s.submissionId, s.clientId) });
    expect(await job(scheduled())).toMatchObject({ restarted: 1 });
    expect(starts().map((i) => i.name)).toEqual([`${s.submissionId}-r2`]);
    expect(await getKycSubmission(s.submissionId)).toMatchObject({ executionName: `${s.submissionId}-r2`, executionAttempt: 2 });
    expect((await trail(s.submissionId)).at(-1)).toMatchObject({
      action: 'kyc.review.restarted',
      evidence: { previousStatus: status, attempt: 2 },
    });
  });

  it('leaves a RUNNING execution alone', async () => {
    const s = await seed({ submittedMinutesAgo: 45 });
    executions.set(execArn(s.submissionId), { status: 'RUNNING', input: inputOf(s.submissionId, s.clientId) });
    expect(await job(scheduled())).toMatchObject({ scanned: 1, started: 0, restarted: 0, stalled: 0 });
    expect(starts()).toEqual([]);
    expect((await getKycSubmission(s.submissionId))!.version).toBe(1);
  });

  it('gives up after 3 restarts: kyc.review.stalled once, no start, and later runs skip it without a call', async () => {
    const s = await seed({ submittedMinutesAgo: 90 });
    const last = `${s.submissionId}-r3`;
    await patch(s.submissionId, { executionName: last, executionAttempt: 3 });
    executions.set(execArn(last), { status: 'FAILED', input: inputOf(s.submissionId, s.clientId) });

    expect(await job(scheduled())).toMatchObject({ scanned: 1, started: 0, restarted: 0, stalled: 1, failed: 0 });
    expect(starts()).toEqual([]);
    const sub = (await getKycSubmission(s.submissionId))!;
    // Given up on: in the same commit, a high-priority manual review is opened (no task token: nothing waits).
    expect(sub).toMatchObject({
      status: 'in_review',
      executionName: last,
      executionAttempt: 3,
      review: { status: 'pending', queuedAt: sub.executionStalledAt, priority: 'high' },
      checks: {
        outcome: 'manual_review',
        issues: [
          {
            code: 'verification_stalled',
            severity: 'review',
            evidence: { reason: 'execution_stalled', attempts: 4 },
          },
        ],
      },
    });
    expect(sub.executionStalledAt).toBeDefined();
    expect(sub.taskToken).toBeUndefined();
    expect(sub.gsi2pk).toBe(kycKeys.reviewQueuePartition('pending'));
    expect(sub.timeline.at(-1)).toMatchObject({ step: 'review_opened', at: sub.executionStalledAt });
    expect((await trail(s.submissionId)).at(-1)).toMatchObject({
      action: 'kyc.review.stalled',
      before: { status: 'processing', review: null },
      after: { status: 'in_review', review: { status: 'pending', priority: 'high' } },
      evidence: { execution: last, executionStatus: 'FAILED', restarts: 3, maxRestarts: 3 },
    });

    // Later runs (once the review is older than the window) skip it without a call.
    const calls = described().length;
    expect(await runWatchdog({ now: new Date(Date.now() + 30 * MINUTE) })).toMatchObject({
      scanned: 1,
      stalled: 0,
      restarted: 0,
    });
    expect(described()).toHaveLength(calls);
    expect((await trail(s.submissionId)).filter((a) => a.action === 'kyc.review.stalled')).toHaveLength(1);
  });

  it('a stalled submission can be decided: it is in the review queue, the decision needs no token, the client is approved', async () => {
    const s = await seed({ submittedMinutesAgo: 90 });
    await seedClient({ clientId: s.clientId, kycStatus: 'in_review', onboarding: { stage: 'kyc_submitted' } });
    const last = `${s.submissionId}-r3`;
    await patch(s.submissionId, { executionName: last, executionAttempt: 3 });
    executions.set(execArn(last), { status: 'FAILED', input: inputOf(s.submissionId, s.clientId) });
    expect(await job(scheduled())).toMatchObject({ stalled: 1 });

    const officer = claimsFor(`compliance-${randomUUID().slice(0, 8)}`, ['compliance']);
    const queue = await admin(apiEvent({ method: 'GET', resource: '/v1/admin/kyc/reviews', claims: officer }), lambdaContext());
    expect(queue.statusCode, queue.body).toBe(200);
    expect(bodyOf<Json>(queue).items).toEqual([
      expect.objectContaining({
        reviewId: s.submissionId,
        status: 'pending',
        priority: 'high',
        flags: ['verification_stalled'],
      }),
    ]);

    const decided = await admin(
      apiEvent({
        method: 'POST',
        resource: '/v1/admin/kyc/reviews/{reviewId}/decision',
        pathParameters: { reviewId: s.submissionId },
        claims: officer,
        // Nothing was analysed before it stalled: the officer gives the expiry date read off the document.
        body: { decision: 'approve', reasons: ['verified_manually'], identityExpiresOn: '2033-04-30' },
      }),
      lambdaContext(),
    );
    expect(decided.statusCode, decided.body).toBe(200);
    expect(bodyOf<Json>(decided)).toMatchObject({ status: 'approved' });
    // No execution waits on a stalled submission: no callback.
    expect(sfnMock.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
    expect(await getKycSubmission(s.submissionId)).toMatchObject({ status: 'approved', review: { status: 'decided' } });
    expect(await getClientProfile(s.clientId)).toMatchObject({
      kycStatus: 'approved',
      onboarding: { stage: 'approved' },
      kyc: { approvedSubmissionId: s.submissionId, identityExpiresOn: '2033-04-30' },
    });
  });

  it('a lost restart start (recorded -r1 never started) is started under the recorded name', async () => {
    const s = await seed({ submittedMinutesAgo: 20, bill: false });
    await patch(s.submissionId, { executionName: `${s.submissionId}-r1`, executionAttempt: 1 });
    expect(await job(scheduled())).toMatchObject({ started: 1, restarted: 0 });
    expect(starts()).toEqual([
      { stateMachineArn: MACHINE_ARN, name: `${s.submissionId}-r1`, input: inputOf(s.submissionId, s.clientId, ['identity']) },
    ]);
  });
});

describe('open reviews', () => {
  it('restarts a pending review whose execution was ABORTED; the new execution replaces the dead token', async () => {
    const s = await seed({ submittedMinutesAgo: 60 });
    const queuedAt = minutesAgo(40);
    await patch(s.submissionId, {
      status: 'in_review',
      review: { status: 'pending', queuedAt, priority: 'normal' },
      taskToken: 'dead-token',
    });
    expect((await getKycSubmission(s.submissionId))!.gsi2pk).toBe(kycKeys.reviewQueuePartition('pending'));
    executions.set(execArn(s.submissionId), { status: 'ABORTED', input: inputOf(s.submissionId, s.clientId) });

    expect(await job(scheduled())).toMatchObject({ scanned: 1, restarted: 1 });
    expect(starts().map((i) => i.name)).toEqual([`${s.submissionId}-r1`]);
    const sub = (await getKycSubmission(s.submissionId))!;
    expect(sub).toMatchObject({ status: 'in_review', review: { status: 'pending', queuedAt }, executionAttempt: 1 });
    expect(sub.gsi2pk).toBe(kycKeys.reviewQueuePartition('pending'));

    // The restarted execution reaches AwaitReview: open-review swaps in the live token.
    expect((await openReview({ submissionId: s.submissionId, taskToken: 'live-token' })).review).toBe('token_replaced');
    expect((await getKycSubmission(s.submissionId))!.taskToken).toBe('live-token');
    expect(JSON.stringify(await trail(s.submissionId))).not.toContain('-token');
  });

  it('leaves a waiting review (RUNNING) and a recently queued one alone', async () => {
    const waiting = await seed({ submittedMinutesAgo: 60 });
    await patch(waiting.submissionId, {
      status: 'in_review',
      review: { status: 'pending', queuedAt: minutesAgo(50), priority: 'high' },
    });
    executions.set(execArn(waiting.submissionId), { status: 'RUNNING', input: '{}' });
    const recent = await seed({ submittedMinutesAgo: 30 });
    await patch(recent.submissionId, {
      status: 'in_review',
      review: { status: 'pending', queuedAt: minutesAgo(3), priority: 'normal' },
    });
    expect(await job(scheduled())).toMatchObject({ scanned: 1, started: 0, restarted: 0 });
    expect(described()).toEqual([execArn(waiting.submissionId)]);
    expect(starts()).toEqual([]);
  });
});

describe('lost review callbacks', () => {
  /** A pending review waiting on `token`, with the client's profile (so it can be decided). */
  async function waitingReview(token: string) {
    const s = await seed({ submittedMinutesAgo: 60 });
    await seedClient({ clientId: s.clientId, kycStatus: 'in_review', onboarding: { stage: 'kyc_submitted' } });
    await patch(s.submissionId, {
      status: 'in_review',
      review: { status: 'pending', queuedAt: minutesAgo(40), priority: 'normal' },
      taskToken: token,
    });
    executions.set(execArn(s.submissionId), { status: 'RUNNING', input: inputOf(s.submissionId, s.clientId) });
    return s;
  }
  const officer = { id: 'officer-1', role: 'compliance' as const };
  const callbacks = () => sfnMock.commandCalls(SendTaskSuccessCommand).map((c) => c.args[0].input);

  it('a decision whose callback was lost (crash after the commit) is resumed by the watchdog with the same output', async () => {
    const s = await waitingReview('token-lost');
    // What the decision route commits before it crashes (the callback is never sent).
    await applyKycDecision({
      submissionId: s.submissionId,
      decision: {
        outcome: 'approved',
        decidedBy: officer.id,
        reasons: ['verified_manually'],
        documentIds: [],
        canResubmit: true,
      },
      actor: officer,
      requestId: 'crashed-request',
    });
    const decided = (await getKycSubmission(s.submissionId))!;
    expect(decided).toMatchObject({ status: 'approved', taskToken: 'token-lost', callbackPending: true });
    expect(JSON.stringify(await trail(s.submissionId))).not.toContain('token-lost');

    // Within the grace period the route may still be sending it: left alone.
    expect(await runWatchdog({ now: new Date(Date.now() + MINUTE) })).toMatchObject({ resumed: 0 });
    expect(callbacks()).toEqual([]);

    expect(await runWatchdog({ now: new Date(Date.now() + 10 * MINUTE) })).toMatchObject({ resumed: 1, failed: 0 });
    expect(callbacks()).toEqual([
      { taskToken: 'token-lost', output: JSON.stringify({ submissionId: s.submissionId, decision: 'approved' }) },
    ]);
    const after = (await getKycSubmission(s.submissionId))!;
    expect(after.taskToken).toBeUndefined();
    expect(after.callbackPending).toBeUndefined();
    expect(after).toMatchObject({ status: 'approved', version: decided.version + 1 });

    // Done once: the next run sends nothing.
    expect(await runWatchdog({ now: new Date(Date.now() + 20 * MINUTE) })).toMatchObject({ resumed: 0 });
    expect(callbacks()).toHaveLength(1);
  });

  it('a callback that failed on every attempt in the route is re-sent; a token that is gone is cleared without retrying', async () => {
    const s = await waitingReview('token-throttled');
    const throttled = awsError('ThrottlingException');
    sfnMock.on(SendTaskSuccessCommand).rejects(throttled);
    const r = await admin(
      apiEvent({
        method: 'POST',
        resource: '/v1/admin/kyc/reviews/{reviewId}/decision',
        pathParameters: { reviewId: s.submissionId },
        claims: claimsFor('officer-2', ['compliance']),
        body: { decision: 'request_documents', reasons: ['document_unreadable'] },
      }),
      lambdaContext(),
    );
    expect(r.statusCode, r.body).toBe(200);
    expect(callbacks()).toHaveLength(3);
    expect(await getKycSubmission(s.submissionId)).toMatchObject({ taskToken: 'token-throttled', callbackPending: true });

    sfnMock.on(SendTaskSuccessCommand).resolves({});
    expect(await runWatchdog({ now: new Date(Date.now() + 10 * MINUTE) })).toMatchObject({ resumed: 1 });
    expect(callbacks().at(-1)).toEqual({
      taskToken: 'token-throttled',
      output: JSON.stringify({ submissionId: s.submissionId, decision: 'documents_requested' }),
    });
    expect((await getKycSubmission(s.submissionId))!.callbackPending).toBeUndefined();

    // The execution is gone (TaskTimedOut): nothing waits, the bookkeeping is cleared all the same.
    const gone = await waitingReview('token-gone');
    sfnMock.on(SendTaskSuccessCommand).rejects(awsError('ThrottlingException'));
    await applyKycDecision({
      submissionId: gone.submissionId,
      decision: { outcome: 'rejected', decidedBy: officer.id, reasons: ['name_mismatch'], documentIds: [], canResubmit: true },
      actor: officer,
      requestId: 'crashed-request',
    });
    sfnMock.on(SendTaskSuccessCommand).rejects(awsError('TaskTimedOut'));
    expect(await runWatchdog({ now: new Date(Date.now() + 10 * MINUTE) })).toMatchObject({ resumed: 1, failed: 0 });
    const cleared = (await getKycSubmission(gone.submissionId))!;
    expect(cleared.taskToken).toBeUndefined();
    expect(cleared.callbackPending).toBeUndefined();
  });
});

describe('the processing index (gsi2 KYCPROCESSING)', () => {
  it('holds a submission while processing and drops it once decided automatically, so it is never looked at', async () => {
    const s = await seed({ submittedMinutesAgo: 30 });
    let sub = (await getKycSubmission(s.submissionId))!;
    expect(sub).toMatchObject({ gsi2pk: kycKeys.processingPartition, gsi2sk: `${sub.submittedAt}#${s.submissionId}` });

    const decidedAt = new Date().toISOString();
    await patch(s.submissionId, {
      status: 'approved',
      decision: { outcome: 'approved', decidedBy: 'system', decidedAt, reasons: [], documentIds: [], canResubmit: true },
    });
    sub = (await getKycSubmission(s.submissionId))!;
    expect(sub.gsi2pk).toBeUndefined();
    expect(sub.gsi2sk).toBeUndefined();
    const onIndex = await ddb().send(
      new QueryCommand({
        TableName: table,
        IndexName: 'gsi2',
        KeyConditionExpression: 'gsi2pk = :pk',
        ExpressionAttributeValues: { ':pk': kycKeys.processingPartition },
      }),
    );
    expect(onIndex.Items).toEqual([]);

    expect(await job(scheduled())).toMatchObject({ scanned: 0, started: 0 });
    expect(described()).toEqual([]);
  });

  it('a decided review leaves the pending queue and is never looked at', async () => {
    const s = await seed({ submittedMinutesAgo: 30 });
    await patch(s.submissionId, {
      status: 'in_review',
      review: { status: 'pending', queuedAt: minutesAgo(20), priority: 'normal' },
    });
    await patch(s.submissionId, {
      status: 'rejected',
      review: { status: 'decided', queuedAt: minutesAgo(20), priority: 'normal', decidedAt: minutesAgo(1) },
    });
    expect((await getKycSubmission(s.submissionId))!.gsi2pk).toBe(kycKeys.reviewQueuePartition('decided'));
    expect(await job(scheduled())).toMatchObject({ scanned: 0 });
    expect(described()).toEqual([]);
  });
});

describe('runs', () => {
  it('counts a failing submission, keeps going, and throws after the run so the Errors alarm fires', async () => {
    const bad = await seed({ submittedMinutesAgo: 25 });
    const good = await seed({ submittedMinutesAgo: 24 });
    sfnMock.on(DescribeExecutionCommand, { executionArn: execArn(bad.submissionId) }).rejects(awsError('ThrottlingException'));
    await expect(job(scheduled())).rejects.toThrow('kyc-watchdog: 1 submissions failed');
    expect(starts().map((i) => i.name)).toEqual([good.submissionId]);
  });

  it('an on-demand run records its job-run item', async () => {
    const s = await seed({ submittedMinutesAgo: 15 });
    const runId = ulid();
    const out = await job({
      'detail-type': JOB_DETAIL_TYPE,
      id: `evt-${randomUUID()}`,
      detail: { job: 'kyc-watchdog', runId, requestedBy: 'admin-1' },
    });
    expect(out).toMatchObject({ runId, scanned: 1, started: 1 });
    expect(starts().map((i) => i.name)).toEqual([s.submissionId]);
    const run = await ddb().send(
      new GetCommand({ TableName: table, Key: { pk: 'JOB#kyc-watchdog', sk: `RUN#${runId}` }, ConsistentRead: true }),
    );
    expect(run.Item).toMatchObject({ status: 'succeeded', summary: { scanned: 1, started: 1, restarted: 0, stalled: 0 } });
  });
});
