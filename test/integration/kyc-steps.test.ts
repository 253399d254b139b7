/**
 * The kyc-review steps (functions/steps/kyc-*.ts) and applyKycDecision (functions/app/kyc/decisions.ts)
 * against a real table on DynamoDB Local, with the sandbox analyzer reading the fixture documents
 * (test/fixtures/kyc) from the local S3 store; Step Functions calls are mocked (aws-sdk-client-mock).
 * - analyse + assess on the fixtures: automatic approval, rejection of an expired passport, manual review
 *   for low confidence, duplicate document numbers across two clients, a recorded analysis failure
 * - assess and finalize are idempotent (twice -> one decision, one event); a final submission cannot be
 *   decided again (review_already_decided), also under a race
 * - open-review queues with the task token, replaces a retried token, answers at once when decided
 * - kyc-start starts one execution per submission
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SendTaskSuccessCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { ulid } from 'ulid';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type S3Ref, setDocumentAnalyzer } from '#adapters/kyc/index.ts';
import { toAnalysisError } from '#adapters/kyc/textract.ts';
import { applyKycDecision } from '#app/kyc/decisions.ts';
import { S3Store } from '#local/aws/s3.ts';
import { type AwsEmulator, startAwsEmulator } from '#local/aws/server.ts';
import { ddb } from '#shared/clients.ts';
import { commit } from '#store/audit.ts';
import { getClientProfile } from '#store/clients.ts';
import { kycKeys } from '#store/keys.ts';
import {
  clearReviewCallback,
  getKycDocument,
  getKycExpiry,
  getKycExtractions,
  getKycSubmission,
  newKycDocument,
  newKycSubmission,
  putKycDocument,
  putKycSubmission,
  replaceKycDocument,
} from '#store/kyc.ts';
import { useHandlerEnv } from '../support/api-env.ts';
import { auditTrail } from '../support/audit.ts';
import { FIXTURE_PERSON, seedClient } from '../support/clients.ts';
import { useTestTable } from '../support/dynamodb.ts';

// biome-ignore lint/suspicious/noExplicitAny: stored items and events are asserted field by field
type Json = any;

const BUCKET = 'kyc-steps-docs';
const MACHINE_ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:kyc-review';
const sfnMock = mockClient(SFNClient);
let table: string;
let store: S3Store;
let emulator: AwsEmulator;
let dir: string;

type Step<I, O> = (input: I) => Promise<O>;
let analyze: Step<Json, { unit: string; ok: boolean }>;
let assess: Step<Json, { outcome: string; priority?: string }>;
let openReview: Step<Json, { review: string; status: string }>;
let finalize: Step<Json, { status: string }>;
let start: Step<Json, { started: boolean; reason?: string }>;

const fixture = (name: string): Json =>
  JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../fixtures/kyc', name), 'utf8'));
const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);
/** proof-of-address-valid.json issued a few days ago, whatever today's date (the fixture's date is static). */
const recentBill = () => {
  const f = fixture('proof-of-address-valid.json');
  return { ...f, fields: { ...f.fields, issueDate: daysAgo(5) } };
};

interface Person {
  firstName: string;
  lastName: string;
  dateOfBirth: string;
}

/** A client whose submission is in review (the fixture person unless `person` says otherwise). */
async function client(person: Person = FIXTURE_PERSON) {
  const { clientId } = await seedClient({ ...person, onboarding: { stage: 'kyc_submitted' }, kycStatus: 'in_review' });
  return clientId;
}

/** A submitted passport (+ proof of address) whose files hold the given sandbox documents. */
async function submission(opts: { clientId?: string; passport: Json; bill?: Json | null; person?: Person }) {
  const clientId = opts.clientId ?? (await client(opts.person));
  const submissionId = ulid();
  const now = new Date().toISOString();
  const file = async (category: 'identity' | 'proof_of_address', documentType: string, doc: Json, side?: 'front') => {
    const body = Buffer.from(JSON.stringify(doc));
    const item = newKycDocument(
      {
        documentId: ulid(),
        clientId,
        category,
        documentType,
        ...(side ? { side } : {}),
        contentType: 'application/json',
        declaredSize: body.length,
        size: body.length,
        status: 'submitted',
        uploadedAt: now,
        submissionId,
        uploadDeadline: now,
      },
      now,
    );
    await store.putObject(BUCKET, item.s3Key, body, 'application/json');
    return item;
  };
  const passport = await file('identity', 'passport', opts.passport, 'front');
  const bill = opts.bill === null ? undefined : await file('proof_of_address', 'utility_bill', opts.bill ?? recentBill());
  const item = newKycSubmission(
    {
      submissionId,
      clientId,
      status: 'processing',
      identity: { documentType: 'passport', documentIds: [passport.documentId] },
      ...(bill ? { addressProof: { documentType: 'utility_bill', documentId: bill.documentId } } : {}),
      submittedAt: now,
      timeline: [{ step: 'submitted', at: now }],
    },
    now,
  );
  await commit({
    writes: [putKycSubmission(item), putKycDocument(passport), ...(bill ? [putKycDocument(bill)] : [])],
    audit: {
      actor: { id: clientId, role: 'client' },
      action: 'kyc.submission.created',
      entity: { type: 'kyc-submission', id: submissionId },
      clientId,
      before: null,
      after: { submissionId },
      requestId: 'test',
      newEntity: true,
    },
  });
  return { clientId, submissionId, passportId: passport.documentId, billId: bill?.documentId };
}

/** Analyse every unit, then assess: what the state machine does before its Choice. */
async function analyseAndAssess(s: { submissionId: string; billId?: string | undefined }) {
  expect(await analyze({ submissionId: s.submissionId, unit: 'identity' })).toEqual({ unit: 'identity', ok: true });
  if (s.billId) expect(await analyze({ submissionId: s.submissionId, unit: 'address' })).toEqual({ unit: 'address', ok: true });
  return assess({ submissionId: s.submissionId });
}

const trail = (submissionId: string) => auditTrail<Json>('kyc-submission', submissionId);

const events = async (submissionId: string) =>
  (((await ddb().send(new ScanCommand({ TableName: table, ConsistentRead: true }))).Items ?? []) as Json[]).filter(
    (i) => i.type === 'outbox' && i.detail?.submissionId === submissionId,
  );

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'kyc-steps-s3-'));
  store = new S3Store({ dir, buckets: [BUCKET] });
  await store.createBucket(BUCKET);
  emulator = await startAwsEmulator({ port: 0, services: [], s3: store });
  process.env.AWS_ENDPOINT_URL_S3 = emulator.url;
  table = await useHandlerEnv('kyc-steps', {
    DOCUMENTS_BUCKET: BUCKET,
    KYC_ANALYZER: 'sandbox',
    STATE_MACHINE_ARN_KYC_REVIEW: MACHINE_ARN,
  });
  analyze = (await import('#functions/steps/kyc-analyze.ts')).handler;
  assess = (await import('#functions/steps/kyc-assess.ts')).handler as typeof assess;
  openReview = (await import('#functions/steps/kyc-open-review.ts')).handler;
  finalize = (await import('#functions/steps/kyc-finalize.ts')).handler;
  start = (await import('#functions/steps/kyc-start.ts')).handler as typeof start;
});

beforeEach(async () => {
  sfnMock.reset();
  // A fresh table per test: document-number claims of one test must not make another's a duplicate.
  table = await useTestTable('kyc-steps');
});

afterAll(async () => {
  sfnMock.restore();
  await emulator?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('analyse and assess', () => {
  it('approves a valid passport and proof of address; finalize decides once and watches the expiry', async () => {
    const s = await submission({ passport: fixture('passport-valid.json') });
    expect(await analyseAndAssess(s)).toEqual({ outcome: 'approve' });
    const extractions = await getKycExtractions(s.submissionId);
    expect(extractions.map((e) => e.unit).sort()).toEqual(['address', 'identity']);
    expect(extractions.find((e) => e.unit === 'identity')!.identity).toMatchObject({
      documentNumber: 'C4F7KL9M2',
      surname: 'ERIKSSON',
      expiryDate: '2031-03-14',
    });

    expect(await finalize({ submissionId: s.submissionId })).toEqual({ status: 'approved' });
    expect(await finalize({ submissionId: s.submissionId })).toEqual({ status: 'approved' });

    const sub = (await getKycSubmission(s.submissionId))!;
    expect(sub.status).toBe('approved');
    expect(sub.decision).toMatchObject({ outcome: 'approved', decidedBy: 'system', reasons: [], canResubmit: true });
    expect(sub.timeline.map((t) => t.step)).toEqual(['submitted', 'analysis_completed', 'checks_completed', 'decided']);
    expect((await getKycDocument(s.passportId))!.status).toBe('accepted');
    expect((await getKycDocument(s.billId!))!.status).toBe('accepted');
    const profile = (await getClientProfile(s.clientId))!;
    expect(profile).toMatchObject({
      kycStatus: 'approved',
      onboarding: { stage: 'approved' },
      kyc: { approvedSubmissionId: s.submissionId, identityExpiresOn: '2031-03-14', approvedAt: sub.decision!.decidedAt },
    });
    expect(await getKycExpiry(s.clientId)).toMatchObject({ submissionId: s.submissionId, identityExpiresOn: '2031-03-14' });

    const actions = (await trail(s.submissionId)).map((a) => a.action);
    expect(actions.filter((a) => a === 'kyc.document.analysed')).toHaveLength(2);
    expect(actions.slice(-2)).toEqual(['kyc.checks.completed', 'kyc.submission.decided']);
    const checks = (await trail(s.submissionId)).find((a) => a.action === 'kyc.checks.completed');
    expect(checks.evidence).toMatchObject({
      outcome: 'approve',
      issues: [],
      checksRun: expect.arrayContaining(['mrz', 'sanctions', 'address']),
    });
    const out = await events(s.submissionId);
    expect(out.map((e) => e.detailType)).toEqual(['kyc.approved']);
    expect(out[0].detail).toMatchObject({
      clientId: s.clientId,
      submissionId: s.submissionId,
      jurisdiction: 'EU',
      identityExpiresOn: '2031-03-14',
    });
  });

  it('rejects an expired passport: identity file rejected, client asked for new documents', async () => {
    const s = await submission({ passport: fixture('passport-expired.json') });
    expect(await analyseAndAssess(s)).toEqual({ outcome: 'reject' });
    expect(await finalize({ submissionId: s.submissionId })).toEqual({ status: 'rejected' });
    const sub = (await getKycSubmission(s.submissionId))!;
    expect(sub.decision).toMatchObject({
      outcome: 'rejected',
      decidedBy: 'system',
      reasons: ['document_expired'],
      documentIds: [s.passportId],
      canResubmit: true,
    });
    expect(await getKycDocument(s.passportId)).toMatchObject({ status: 'rejected', rejectionReasons: ['document_expired'] });
    expect((await getKycDocument(s.billId!))!.status).toBe('accepted');
    expect(await getClientProfile(s.clientId)).toMatchObject({
      kycStatus: 'action_required',
      onboarding: { stage: 'profile_completed' },
    });
    expect(await getKycExpiry(s.clientId)).toBeUndefined();
    const out = await events(s.submissionId);
    expect(out.map((e) => [e.detailType, e.detail.canResubmit, e.detail.reasons])).toEqual([
      ['kyc.rejected', true, ['document_expired']],
    ]);
  });

  it('rejects an under-age applicant for good (canResubmit false, profile rejected)', async () => {
    const s = await submission({
      passport: fixture('passport-underage.json'),
      bill: null,
      person: { firstName: 'Lena', lastName: 'Eriksson', dateOfBirth: '2012-03-04' },
    });
    expect(await analyseAndAssess(s)).toEqual({ outcome: 'reject' });
    await finalize({ submissionId: s.submissionId });
    expect((await getKycSubmission(s.submissionId))!.decision).toMatchObject({ reasons: ['underage'], canResubmit: false });
    expect(await getClientProfile(s.clientId)).toMatchObject({ kycStatus: 'rejected', onboarding: { stage: 'rejected' } });
  });

  it('sends a low-confidence read to manual review', async () => {
    const s = await submission({ passport: fixture('passport-low-confidence.json') });
    expect(await analyseAndAssess(s)).toEqual({ outcome: 'manual_review', priority: 'normal' });
    const sub = (await getKycSubmission(s.submissionId))!;
    expect(sub.checks!.issues.map((i) => i.code)).toEqual(['low_confidence']);
    await expect(finalize({ submissionId: s.submissionId })).rejects.toMatchObject({ name: 'KycReviewNotDecided' });
  });

  it('flags a document number another client already presented (duplicate_document, manual review)', async () => {
    const first = await submission({ passport: fixture('passport-valid.json') });
    expect(await analyseAndAssess(first)).toEqual({ outcome: 'approve' });
    const second = await submission({ passport: fixture('passport-valid.json') });
    expect(await analyseAndAssess(second)).toEqual({ outcome: 'manual_review', priority: 'normal' });
    const issue = (await getKycSubmission(second.submissionId))!.checks!.issues.find((i) => i.code === 'duplicate_document');
    expect(issue?.evidence).toMatchObject({ otherClientIds: [first.clientId] });
    // The same client submitting its own document again is not a duplicate.
    const again = await submission({ clientId: first.clientId, passport: fixture('passport-valid.json') });
    expect(await analyseAndAssess(again)).toEqual({ outcome: 'manual_review', priority: 'normal' });
    const codes = (await getKycSubmission(again.submissionId))!.checks!.issues.map((i) => i.code);
    expect(codes).toEqual(['duplicate_document']);
    expect((await getKycSubmission(again.submissionId))!.checks!.issues[0]!.evidence).toMatchObject({
      otherClientIds: [second.clientId],
    });
  });

  it('assesses once: a second call returns the stored outcome and writes nothing', async () => {
    const s = await submission({ passport: fixture('passport-expired.json') });
    expect(await analyseAndAssess(s)).toEqual({ outcome: 'reject' });
    const before = (await trail(s.submissionId)).length;
    const version = (await getKycSubmission(s.submissionId))!.version;
    expect(await assess({ submissionId: s.submissionId })).toEqual({ outcome: 'reject' });
    expect((await trail(s.submissionId)).length).toBe(before);
    expect((await getKycSubmission(s.submissionId))!.version).toBe(version);
  });

  it('records a permanent analysis failure; assess adds analysis_failed and still screens the registered name', async () => {
    const s = await submission({
      passport: fixture('passport-sanctioned.json'),
      bill: null,
      person: { firstName: 'Björn', lastName: 'Åkesson Lindqvist', dateOfBirth: '1988-08-08' },
    });
    // The Cause as Lambda reports the adapter's error (the reason starts the message).
    const thrown = toAnalysisError(
      Object.assign(new Error('x'), { name: 'BadDocumentException', $metadata: { httpStatusCode: 400 } }),
    );
    const cause = JSON.stringify({ errorType: (thrown as Error).name, errorMessage: (thrown as Error).message });
    expect(
      await analyze({ submissionId: s.submissionId, unit: 'identity', failed: { error: 'KycAnalysisFailed', cause } }),
    ).toEqual({
      unit: 'identity',
      ok: false,
    });
    const [x] = await getKycExtractions(s.submissionId);
    expect(x).toMatchObject({ unit: 'identity', failure: { error: 'KycAnalysisFailed', reason: 'bad_document' } });
    expect(x!.identity).toBeUndefined();
    expect(await assess({ submissionId: s.submissionId })).toEqual({ outcome: 'manual_review', priority: 'high' });
    const sub = (await getKycSubmission(s.submissionId))!;
    expect(sub.checks!.issues.map((i) => i.code).sort()).toEqual(['analysis_failed', 'sanctions_hit']);
    expect(sub.timeline.map((t) => t.step)).toEqual(['submitted', 'analysis_failed', 'checks_completed']);
    expect((await trail(s.submissionId)).map((a) => a.action)).toContain('kyc.document.analysis_failed');
  });

  it('analyses the object version checked at upload when one was recorded', async () => {
    const s = await submission({ passport: fixture('passport-valid.json') });
    const doc = (await getKycDocument(s.passportId))!;
    await commit({
      writes: [replaceKycDocument(doc, { ...doc, versionId: 'v-checked' }, new Date().toISOString())],
      audit: {
        actor: { id: 'system:test', role: 'system' },
        action: 'test.versioned',
        entity: { type: 'kyc-document', id: s.passportId },
        clientId: s.clientId,
        before: null,
        after: null,
        requestId: 'test',
      },
    });
    const seen: S3Ref[] = [];
    setDocumentAnalyzer({
      analyzeIdentity: async ({ pages }) => {
        seen.push(...pages);
        return { documentType: 'passport', fieldConfidence: {} };
      },
      analyzeAddressProof: async ({ page }) => {
        seen.push(page);
        return { fieldConfidence: {} };
      },
    });
    try {
      await analyze({ submissionId: s.submissionId, unit: 'identity' });
      await analyze({ submissionId: s.submissionId, unit: 'address' });
    } finally {
      setDocumentAnalyzer(undefined);
    }
    expect(seen).toEqual([
      { bucket: BUCKET, key: doc.s3Key, contentType: 'application/json', version: 'v-checked' },
      // No version recorded (an unversioned bucket, e.g. the local S3): none is asked for.
      { bucket: BUCKET, key: (await getKycDocument(s.billId!))!.s3Key, contentType: 'application/json' },
    ]);
  });

  it('lets a throttled analysis fail with the transient error (the state machine retries it)', async () => {
    const s = await submission({ passport: { simulate: 'throttle', documentType: 'passport', confidence: 0.9 }, bill: null });
    await expect(analyze({ submissionId: s.submissionId, unit: 'identity' })).rejects.toMatchObject({
      name: 'KycAnalysisTransient',
    });
    expect(await getKycExtractions(s.submissionId)).toEqual([]);
  });
});

describe('manual review and decisions', () => {
  it('opens a review with the task token; a retried state replaces the token; the decision keeps it until resumed', async () => {
    const s = await submission({ passport: fixture('passport-low-confidence.json') });
    await analyseAndAssess(s);
    expect(await openReview({ submissionId: s.submissionId, taskToken: 'token-1' })).toMatchObject({
      review: 'opened',
      status: 'in_review',
    });
    let sub = (await getKycSubmission(s.submissionId))!;
    expect(sub).toMatchObject({ status: 'in_review', taskToken: 'token-1', review: { status: 'pending', priority: 'normal' } });
    expect(sub.gsi2pk).toBe(kycKeys.reviewQueuePartition('pending'));
    const queuedAt = sub.review!.queuedAt;

    expect((await openReview({ submissionId: s.submissionId, taskToken: 'token-1' })).review).toBe('already_open');
    expect((await openReview({ submissionId: s.submissionId, taskToken: 'token-2' })).review).toBe('token_replaced');
    sub = (await getKycSubmission(s.submissionId))!;
    expect(sub).toMatchObject({ taskToken: 'token-2', review: { queuedAt } });
    const audit = await trail(s.submissionId);
    expect(audit.map((a) => a.action)).toEqual(expect.arrayContaining(['kyc.review.opened', 'kyc.review.token_replaced']));
    expect(JSON.stringify(audit)).not.toContain('token-');

    const decided = await applyKycDecision({
      submissionId: s.submissionId,
      decision: {
        outcome: 'documents_requested',
        decidedBy: 'officer-7',
        reasons: ['document_unreadable'],
        note: 'blurred photo',
        documentIds: [s.passportId],
        canResubmit: true,
      },
      actor: { id: 'officer-7', role: 'compliance' },
      requestId: 'req-1',
    });
    // The decision keeps the token it committed over until the execution is resumed (callbackPending).
    expect(decided).toMatchObject({ taskToken: 'token-2', callbackPending: true });
    sub = (await getKycSubmission(s.submissionId))!;
    expect(sub).toMatchObject({ taskToken: 'token-2', callbackPending: true });
    expect(sub).toMatchObject({ status: 'documents_requested', review: { status: 'decided' } });
    // Once resumed, the bookkeeping is cleared (only for the token it was resumed with).
    expect(await clearReviewCallback(s.submissionId, 'token-1')).toBe(false);
    expect(await clearReviewCallback(s.submissionId, 'token-2')).toBe(true);
    const cleared = (await getKycSubmission(s.submissionId))!;
    expect(cleared.taskToken).toBeUndefined();
    expect(cleared.callbackPending).toBeUndefined();
    expect(cleared.version).toBe(sub.version + 1);
    expect(await clearReviewCallback(s.submissionId, 'token-2')).toBe(false);
    expect(sub.gsi2pk).toBe(kycKeys.reviewQueuePartition('decided'));
    expect(await getKycDocument(s.passportId)).toMatchObject({ status: 'rejected', rejectionReasons: ['document_unreadable'] });
    expect(await getClientProfile(s.clientId)).toMatchObject({
      kycStatus: 'action_required',
      onboarding: { stage: 'profile_completed' },
    });
    const last = (await trail(s.submissionId)).at(-1);
    expect(last).toMatchObject({
      action: 'kyc.submission.decided',
      actor: { id: 'officer-7', role: 'compliance' },
      evidence: { reasons: ['document_unreadable'], note: 'blurred photo' },
      requestId: 'req-1',
    });
    expect((await events(s.submissionId)).map((e) => [e.detailType, e.detail.documentIds])).toEqual([
      ['kyc.documents_requested', [s.passportId]],
    ]);

    // Finalize after the reviewer: nothing more is decided.
    expect(await finalize({ submissionId: s.submissionId })).toEqual({ status: 'documents_requested' });
    expect(await events(s.submissionId)).toHaveLength(1);
  });

  it('answers the task token at once when the submission is already decided', async () => {
    const s = await submission({ passport: fixture('passport-expired.json') });
    await analyseAndAssess(s);
    await finalize({ submissionId: s.submissionId });
    sfnMock.on(SendTaskSuccessCommand).resolves({});
    expect((await openReview({ submissionId: s.submissionId, taskToken: 'late-token' })).review).toBe('already_decided');
    const calls = sfnMock.commandCalls(SendTaskSuccessCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input).toEqual({ taskToken: 'late-token', output: JSON.stringify({ status: 'rejected' }) });
  });

  it('a final submission is never decided again (review_already_decided), also when two decide at once', async () => {
    const s = await submission({ passport: fixture('passport-low-confidence.json') });
    await analyseAndAssess(s);
    await openReview({ submissionId: s.submissionId, taskToken: 't' });
    const decide = (outcome: 'approved' | 'rejected', by: string) =>
      applyKycDecision({
        submissionId: s.submissionId,
        decision: {
          outcome,
          decidedBy: by,
          reasons: outcome === 'approved' ? [] : ['document_unreadable'],
          documentIds: [],
          canResubmit: true,
        },
        actor: { id: by, role: 'compliance' },
        requestId: `req-${by}`,
      });
    const results = await Promise.allSettled([decide('approved', 'officer-a'), decide('rejected', 'officer-b')]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(lost.reason).toMatchObject({ code: 'review_already_decided', kind: 'conflict' });
    await expect(decide('approved', 'officer-c')).rejects.toMatchObject({ code: 'review_already_decided' });
    expect((await trail(s.submissionId)).filter((a) => a.action === 'kyc.submission.decided')).toHaveLength(1);
    expect(await events(s.submissionId)).toHaveLength(1);
  });

  it('404 submission_not_found for an unknown submission', async () => {
    await expect(
      applyKycDecision({
        submissionId: ulid(),
        decision: { outcome: 'approved', decidedBy: 'x', reasons: [], documentIds: [], canResubmit: true },
        actor: { id: 'x', role: 'compliance' },
        requestId: 'r',
      }),
    ).rejects.toMatchObject({ code: 'submission_not_found' });
  });
});

describe('kyc-start', () => {
  const envelope = (submissionId: string, clientId: string) => ({
    id: randomUUID(),
    'detail-type': 'kyc.submission.created',
    source: 'backoffice',
    detail: { submissionId, clientId, eventId: ulid() },
  });

  it('starts one execution named after the submission, with its units', async () => {
    const s = await submission({ passport: fixture('passport-valid.json') });
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'arn', startDate: new Date() });
    expect(await start(envelope(s.submissionId, s.clientId))).toEqual({ started: true });
    const calls = sfnMock.commandCalls(StartExecutionCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input).toEqual({
      stateMachineArn: MACHINE_ARN,
      name: s.submissionId,
      input: JSON.stringify({ submissionId: s.submissionId, clientId: s.clientId, units: ['identity', 'address'] }),
    });
  });

  it('treats ExecutionAlreadyExists as done, and ignores a submission past processing', async () => {
    const s = await submission({ passport: fixture('passport-expired.json'), bill: null });
    const exists = new Error('exists');
    exists.name = 'ExecutionAlreadyExists';
    sfnMock.on(StartExecutionCommand).rejects(exists);
    expect(await start(envelope(s.submissionId, s.clientId))).toEqual({ started: false, reason: 'already_started' });
    expect(JSON.parse(sfnMock.commandCalls(StartExecutionCommand)[0]!.args[0].input.input!).units).toEqual(['identity']);

    sfnMock.reset();
    await analyseAndAssess(s);
    await finalize({ submissionId: s.submissionId });
    expect(await start(envelope(s.submissionId, s.clientId))).toEqual({ started: false, reason: 'not_processing' });
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });
});
