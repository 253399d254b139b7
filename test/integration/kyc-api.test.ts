/**
 * The client KYC API (functions/api/kyc.ts) against a real table on DynamoDB Local and the local S3 store
 * (local/aws/s3.ts behind the local AWS endpoint), so presigned POST uploads really happen and their
 * policy conditions are really enforced:
 * - every bad-input code, each with nothing written
 * - the presigned POST: declared content type and size enforced, the key never returned
 * - lazy upload confirmation (HeadObject): uploaded, or left awaiting with uploadProblem
 * - ownership: another client gets 404, compliance may read, finance is refused
 * - a submission writes submission + files + profile + audit + outbox in one commit; one at a time;
 *   idempotent retry; the planSubmission codes; already_verified and verification_closed; a renewal while
 *   the approved document expires soon (the client stays approved; approved / refused outcomes)
 * - GET /v1/kyc: status, requirements, missing pieces, the pre-verification deposit rule, localized
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyKycDecision } from '#app/kyc/decisions.ts';
import type { KycStatus, OnboardingStage } from '#domain/identity/onboarding.ts';
import { S3Store } from '#local/aws/s3.ts';
import { type AwsEmulator, startAwsEmulator } from '#local/aws/server.ts';
import { ddb, s3 } from '#shared/clients.ts';
import { commit } from '#store/audit.ts';
import { type ClientKyc, type ClientType, getClientProfile } from '#store/clients.ts';
import {
  getKycDocument,
  getKycExpiry,
  getKycSubmission,
  kycExtractionItem,
  listClientSubmissions,
  putKycExtraction,
} from '#store/kyc.ts';
import { useHandlerEnv } from '../support/api-env.ts';
import { auditTrail } from '../support/audit.ts';
import { PERSONAL_DETAILS, seedClient } from '../support/clients.ts';
import { apiEvent, bodyOf, claimsFor, lambdaContext } from '../support/events.ts';

type Handler = (
  e: ReturnType<typeof apiEvent>,
  c: ReturnType<typeof lambdaContext>,
) => Promise<{ statusCode: number; body: string; headers?: Record<string, unknown> }>;
// biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field
type Body = any;

const BUCKET = 'kyc-api-docs';
let kyc: Handler;
let table: string;
let store: S3Store;
let emulator: AwsEmulator;
let dir: string;

const uid = () => randomUUID().slice(0, 8);
const call = async (input: Parameters<typeof apiEvent>[0]) => {
  const res = await kyc(apiEvent(input), lambdaContext());
  return { status: res.statusCode, body: bodyOf<Body>(res), raw: res.body, headers: res.headers ?? {} };
};

interface ClientOpts {
  country?: string;
  clientType?: ClientType;
  stage?: OnboardingStage;
  kycStatus?: KycStatus;
  kyc?: ClientKyc;
}

/** A client as registration + the onboarding profile step leave it (the fixture person, resident in DE). */
async function client(opts: ClientOpts = {}) {
  const country = opts.country ?? 'DE';
  const stage = opts.stage ?? 'profile_completed';
  return seedClient({
    countryOfResidence: country,
    jurisdiction: country === 'AU' ? 'AU' : 'EU',
    clientType: opts.clientType ?? 'retail',
    onboarding: { stage },
    kycStatus: opts.kycStatus,
    kyc: opts.kyc,
    personalDetails:
      stage === 'registered'
        ? undefined
        : { ...PERSONAL_DETAILS, address: { ...PERSONAL_DETAILS.address, country }, taxResidence: country },
  });
}

type Claims = Record<string, string>;

const requestDocument = (claims: Claims, body: unknown, headers: Record<string, string> = {}) =>
  call({ method: 'POST', resource: '/v1/kyc/documents', claims, body, headers });
const getDocument = (claims: Claims, documentId: string, lang = 'en') =>
  call({
    method: 'GET',
    resource: '/v1/kyc/documents/{documentId}',
    pathParameters: { documentId },
    claims,
    headers: { 'Accept-Language': lang },
  });
const submit = (claims: Claims, documentIds: string[], headers: Record<string, string> = {}) =>
  call({ method: 'POST', resource: '/v1/kyc/submissions', claims, body: { documentIds }, headers });
const status = (claims: Claims, lang = 'en') =>
  call({ method: 'GET', resource: '/v1/kyc', claims, headers: { 'Accept-Language': lang } });

const json = (o: unknown) => Buffer.from(JSON.stringify(o));
const PASSPORT = json({ documentType: 'passport', mrz: ['P<D<<ERIKSSON<<ANNA<MARIA'], confidence: 0.9 });
const BILL = json({ documentType: 'proof_of_address', fields: { issueDate: '2026-11-01' }, confidence: 0.9 });

const passportBody = (over: Record<string, unknown> = {}) => ({
  category: 'identity',
  documentType: 'passport',
  side: 'front',
  contentType: 'application/json',
  size: 4096,
  ...over,
});
const billBody = (over: Record<string, unknown> = {}) => ({
  category: 'proof_of_address',
  documentType: 'utility_bill',
  contentType: 'application/json',
  size: 4096,
  ...over,
});

/** A browser upload: multipart form, the policy's fields first, the file last. */
async function postUpload(upload: { url: string; fields: Record<string, string> }, data: Buffer, contentType: string) {
  const form = new FormData();
  for (const [k, v] of Object.entries(upload.fields)) form.append(k, v);
  form.append('file', new Blob([new Uint8Array(data)], { type: contentType }), 'document');
  const res = await fetch(upload.url, { method: 'POST', body: form });
  return { status: res.status, text: await res.text() };
}

/** Requests a file, uploads it through its presigned POST, sees it confirmed (GET) and returns its id. */
async function uploaded(claims: Claims, body: Record<string, unknown>, data: Buffer) {
  const res = await requestDocument(claims, body);
  expect(res.status, res.raw).toBe(201);
  const up = await postUpload(res.body.upload, data, String(body.contentType));
  expect(up.status, up.text).toBeLessThan(300);
  const confirmed = await getDocument(claims, res.body.documentId);
  expect(confirmed.body.status).toBe('uploaded');
  return res.body.documentId as string;
}

const countItems = async () =>
  (await ddb().send(new ScanCommand({ TableName: table, Select: 'COUNT', ConsistentRead: true }))).Count ?? 0;

const trail = (type: string, id: string) =>
  auditTrail<{ action: string; at: string; actor: { id: string; role: string }; after: Body; clientId?: string }>(type, id);

const outboxFor = async (detailType: string) =>
  (
    ((await ddb().send(new ScanCommand({ TableName: table, ConsistentRead: true }))).Items ?? []) as {
      type: string;
      detailType: string;
      detail: Body;
      occurredAt: string;
    }[]
  ).filter((i) => i.type === 'outbox' && i.detailType === detailType);

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'kyc-api-s3-'));
  store = new S3Store({ dir, buckets: [BUCKET] });
  await store.createBucket(BUCKET);
  emulator = await startAwsEmulator({ port: 0, services: [], s3: store });
  process.env.AWS_ENDPOINT_URL_S3 = emulator.url;
  table = await useHandlerEnv('kyc-api', { DOCUMENTS_BUCKET: BUCKET, KYC_ANALYZER: 'sandbox' });
  kyc = (await import('#functions/api/kyc.ts')).handler as Handler;
});

afterAll(async () => {
  await emulator?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('POST /v1/kyc/documents', () => {
  it('registers the file (awaiting_upload, audited) and returns a presigned POST bound to its type and size', async () => {
    const { clientId, claims } = await client();
    const before = Date.now();
    const res = await requestDocument(claims, passportBody({ size: 2048 }));
    expect(res.status, res.raw).toBe(201);
    const { documentId, status: st, upload } = res.body;
    expect(documentId).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(st).toBe('awaiting_upload');
    expect(upload.url).toBe(`${emulator.url}/${BUCKET}`);
    expect(upload.fields['Content-Type']).toBe('application/json');
    expect(upload.fields.key).toBe(`kyc/${clientId}/${documentId}`);
    const policy = JSON.parse(Buffer.from(upload.fields.Policy, 'base64').toString('utf8'));
    expect(policy.conditions).toEqual(
      expect.arrayContaining([
        ['content-length-range', 1, 2048],
        ['eq', '$Content-Type', 'application/json'],
        { bucket: BUCKET },
        { key: `kyc/${clientId}/${documentId}` },
      ]),
    );
    const expires = Date.parse(upload.expiresAt);
    expect(expires - before).toBeGreaterThanOrEqual(899_000);
    expect(expires - before).toBeLessThanOrEqual(901_000 + (Date.now() - before));
    expect(Date.parse(policy.expiration)).toBeLessThanOrEqual(expires + 1000);

    const item = await getKycDocument(documentId);
    expect(item).toMatchObject({
      clientId,
      category: 'identity',
      documentType: 'passport',
      side: 'front',
      contentType: 'application/json',
      declaredSize: 2048,
      status: 'awaiting_upload',
      uploadDeadline: upload.expiresAt,
    });
    const audit = await trail('kyc-document', documentId);
    expect(audit.map((a) => a.action)).toEqual(['kyc.document.requested']);
    expect(audit[0]).toMatchObject({ clientId, actor: { id: clientId, role: 'client' } });
  });

  it('the presigned POST refuses another content type and a file larger than declared', async () => {
    const { claims } = await client();
    const res = await requestDocument(claims, passportBody({ size: 20 }));
    const wrongType = await postUpload(
      { ...res.body.upload, fields: { ...res.body.upload.fields, 'Content-Type': 'image/png' } },
      Buffer.from('x'),
      'image/png',
    );
    expect(wrongType.status).toBe(403);
    const tooBig = await postUpload(res.body.upload, Buffer.alloc(21, 1), 'application/json');
    expect(tooBig.status).toBe(400);
    expect(tooBig.text).toContain('EntityTooLarge');
    const ok = await postUpload(res.body.upload, Buffer.alloc(20, 1), 'application/json');
    expect(ok.status).toBeLessThan(300);
  });

  it.each([
    ['identity type that does not exist', passportBody({ documentType: 'library_card' }), 400, 'unknown_document_type'],
    ['identity type as proof of address', billBody({ documentType: 'passport' }), 400, 'unknown_document_type'],
    [
      'a selfie with another type',
      { category: 'selfie', documentType: 'photo', contentType: 'image/jpeg', size: 10 },
      400,
      'unknown_document_type',
    ],
    [
      'a selfie where none is required (EU)',
      { category: 'selfie', documentType: 'selfie', contentType: 'image/jpeg', size: 10 },
      400,
      'document_type_not_accepted',
    ],
    ['the back of a passport', passportBody({ side: 'back' }), 400, 'invalid_side'],
    ['an identity card without a side', passportBody({ documentType: 'national_id', side: undefined }), 400, 'invalid_side'],
    ['a side on a proof of address', billBody({ side: 'front' }), 400, 'invalid_side'],
    ['a GIF', passportBody({ contentType: 'image/gif' }), 400, 'unsupported_content_type'],
    ['more than 10 MB', passportBody({ size: 10 * 1024 * 1024 + 1 }), 400, 'file_too_large'],
    ['an empty file', passportBody({ size: 0 }), 400, 'invalid_size'],
    ['a negative size', passportBody({ size: -5 }), 400, 'invalid_size'],
    ['an unknown field', passportBody({ colour: 'blue' }), 400, 'validation_failed'],
    ['an unknown category', passportBody({ category: 'visa' }), 400, 'validation_failed'],
  ])('refuses %s (%s %s) and writes nothing', async (_what, body, code, problem) => {
    const { claims } = await client();
    const items = await countItems();
    const res = await requestDocument(claims, body);
    expect(res.status, res.raw).toBe(code);
    expect(res.body.code).toBe(problem);
    expect(await countItems()).toBe(items);
  });

  it('refuses a document type the jurisdiction does not accept (AU: no national id)', async () => {
    const { claims } = await client({ country: 'AU' });
    const items = await countItems();
    const res = await requestDocument(claims, passportBody({ documentType: 'national_id', side: 'front' }));
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('document_type_not_accepted');
    expect(await countItems()).toBe(items);
  });

  it('accepts application/json only with the sandbox analyzer', async () => {
    const { claims } = await client();
    process.env.KYC_ANALYZER = 'textract';
    try {
      const items = await countItems();
      const res = await requestDocument(claims, passportBody());
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('unsupported_content_type');
      expect(await countItems()).toBe(items);
      expect((await requestDocument(claims, passportBody({ contentType: 'image/jpeg' }))).status).toBe(201);
    } finally {
      process.env.KYC_ANALYZER = 'sandbox';
    }
  });

  it('409 profile_incomplete while the client is only registered; 404 without a profile', async () => {
    const { claims } = await client({ stage: 'registered' });
    const items = await countItems();
    const res = await requestDocument(claims, passportBody());
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('profile_incomplete');
    const none = await requestDocument(claimsFor(`ghost-${uid()}`, ['client']), passportBody());
    expect(none.status).toBe(404);
    expect(none.body.code).toBe('profile_not_found');
    expect(await countItems()).toBe(items);
  });
});

describe('GET /v1/kyc/documents/{documentId}', () => {
  it('confirms an upload lazily: uploaded with size and time, audited once; never the key or a URL', async () => {
    const { clientId, claims } = await client();
    const created = await requestDocument(claims, passportBody({ size: 4096 }));
    const id = created.body.documentId;
    const waiting = await getDocument(claims, id);
    expect(waiting.status).toBe(200);
    expect(waiting.body).toMatchObject({ status: 'awaiting_upload', size: null, uploadedAt: null });
    expect(waiting.body.uploadProblem).toBeUndefined();

    await postUpload(created.body.upload, PASSPORT, 'application/json');
    const done = await getDocument(claims, id);
    expect(done.body).toMatchObject({
      documentId: id,
      clientId,
      category: 'identity',
      documentType: 'passport',
      side: 'front',
      status: 'uploaded',
      size: PASSPORT.length,
      reasons: [],
    });
    expect(Date.parse(done.body.uploadedAt)).not.toBeNaN();
    expect(done.raw).not.toContain('kyc/');
    expect(done.raw).not.toMatch(/s3Key|url/i);
    await getDocument(claims, id);
    expect((await trail('kyc-document', id)).map((a) => a.action)).toEqual(['kyc.document.requested', 'kyc.document.uploaded']);
  });

  it('leaves a file awaiting upload when the stored object does not match what was declared', async () => {
    const { clientId, claims } = await client();
    const created = await requestDocument(claims, passportBody({ size: 10 }));
    const id = created.body.documentId;
    const key = `kyc/${clientId}/${id}`;
    await store.putObject(BUCKET, key, Buffer.from('0123456789'), 'image/png');
    const wrongType = await getDocument(claims, id);
    expect(wrongType.body).toMatchObject({ status: 'awaiting_upload', uploadProblem: 'content_type_mismatch' });
    await store.putObject(BUCKET, key, Buffer.alloc(11, 1), 'application/json');
    const tooBig = await getDocument(claims, id);
    expect(tooBig.body).toMatchObject({ status: 'awaiting_upload', uploadProblem: 'size_mismatch' });
    expect((await getKycDocument(id))!.status).toBe('awaiting_upload');
    expect((await trail('kyc-document', id)).map((a) => a.action)).toEqual(['kyc.document.requested']);
  });

  it('records the S3 version it checked (versioned bucket); without versioning (the local S3) none is stored', async () => {
    const { clientId, claims } = await client();
    // The local emulator does not version: nothing is recorded, and nothing needs it.
    const local = await uploaded(claims, passportBody(), PASSPORT);
    expect((await getKycDocument(local))!.versionId).toBeUndefined();

    const created = await requestDocument(claims, passportBody({ size: 4096 }));
    const id = created.body.documentId;
    const s3Mock = mockClient(s3());
    try {
      s3Mock.on(HeadObjectCommand).resolves({
        ContentType: 'application/json',
        ContentLength: 100,
        LastModified: new Date(),
        VersionId: 'v-checked-1',
      });
      const res = await getDocument(claims, id);
      expect(res.body).toMatchObject({ status: 'uploaded', size: 100 });
      expect(res.raw).not.toContain('v-checked-1');
      expect(await getKycDocument(id)).toMatchObject({ status: 'uploaded', versionId: 'v-checked-1' });
      const audit = await trail('kyc-document', id);
      expect(audit.at(-1)).toMatchObject({ action: 'kyc.document.uploaded', after: { versionId: 'v-checked-1' } });

      // Once confirmed (and once submitted), the object is never looked at again: a file replaced through
      // the still-valid presigned POST cannot change what was checked.
      s3Mock.on(HeadObjectCommand).resolves({ ContentType: 'application/json', ContentLength: 90, VersionId: 'v-replaced-2' });
      await getDocument(claims, id);
      const bill = await requestDocument(claims, billBody());
      s3Mock.on(HeadObjectCommand, { Key: `kyc/${clientId}/${bill.body.documentId}` }).resolves({
        ContentType: 'application/json',
        ContentLength: 50,
        VersionId: 'v-bill-1',
      });
      const sub = await submit(claims, [id, bill.body.documentId]);
      expect(sub.status, sub.raw).toBe(202);
      await getDocument(claims, id);
      const heads = s3Mock.commandCalls(HeadObjectCommand).map((c) => c.args[0].input.Key);
      expect(heads.filter((k) => k!.endsWith(id))).toHaveLength(1);
      expect(await getKycDocument(id)).toMatchObject({ status: 'submitted', versionId: 'v-checked-1', size: 100 });
      expect(await getKycDocument(bill.body.documentId)).toMatchObject({ status: 'submitted', versionId: 'v-bill-1' });
    } finally {
      s3Mock.restore();
    }
  });

  it('another client gets 404 (as for a missing document); compliance may read; finance may not', async () => {
    const a = await client();
    const b = await client();
    const id = (await requestDocument(a.claims, passportBody())).body.documentId;
    const other = await getDocument(b.claims, id);
    expect(other.status).toBe(404);
    expect(other.body.code).toBe('document_not_found');
    const missing = await getDocument(b.claims, '01JZZZZZZZZZZZZZZZZZZZZZZZ');
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('document_not_found');
    const officer = await getDocument(claimsFor(`officer-${uid()}`, ['compliance']), id);
    expect(officer.status).toBe(200);
    expect(officer.body).toMatchObject({ documentId: id, clientId: a.clientId });
    expect((await getDocument(claimsFor(`fin-${uid()}`, ['finance']), id)).status).toBe(403);
  });
});

describe('POST /v1/kyc/submissions', () => {
  it('submits: submission, files, profile, audit and outbox in one commit (202); the review is started by the event', async () => {
    const { clientId, claims } = await client();
    const passport = await uploaded(claims, passportBody(), PASSPORT);
    const bill = await uploaded(claims, billBody(), BILL);
    const res = await submit(claims, [bill, passport]);
    expect(res.status, res.raw).toBe(202);
    const { submissionId } = res.body;
    expect(res.body).toMatchObject({ status: 'processing', documentIds: [passport, bill], timeline: [{ step: 'submitted' }] });
    expect(res.raw).not.toMatch(/taskToken|checks/);

    const sub = (await getKycSubmission(submissionId))!;
    expect(sub).toMatchObject({
      clientId,
      status: 'processing',
      identity: { documentType: 'passport', documentIds: [passport] },
      addressProof: { documentType: 'utility_bill', documentId: bill },
      executionName: submissionId,
    });
    const at = sub.submittedAt;
    for (const id of [passport, bill]) {
      const d = (await getKycDocument(id))!;
      expect(d).toMatchObject({ status: 'submitted', submissionId, updatedAt: at });
    }
    const profile = (await getClientProfile(clientId))!;
    expect(profile).toMatchObject({
      kycStatus: 'in_review',
      onboarding: { stage: 'kyc_submitted' },
      kyc: { currentSubmissionId: submissionId },
      updatedAt: at,
    });
    const audit = await trail('kyc-submission', submissionId);
    expect(audit.map((a) => a.action)).toEqual(['kyc.submission.created']);
    expect(audit[0]).toMatchObject({ at, clientId, after: { kycStatus: 'in_review', stage: 'kyc_submitted' } });
    const events = (await outboxFor('kyc.submission.created')).filter((e) => e.detail.submissionId === submissionId);
    expect(events).toEqual([expect.objectContaining({ detail: { submissionId, clientId }, occurredAt: at })]);
  });

  it('confirms uploads that were never looked at before planning the submission', async () => {
    const { claims } = await client();
    const created = await requestDocument(claims, passportBody());
    await postUpload(created.body.upload, PASSPORT, 'application/json');
    const bill = await uploaded(claims, billBody(), BILL);
    const res = await submit(claims, [created.body.documentId, bill]);
    expect(res.status, res.raw).toBe(202);
    expect((await trail('kyc-document', created.body.documentId)).map((a) => a.action)).toEqual([
      'kyc.document.requested',
      'kyc.document.uploaded',
    ]);
  });

  it('409 submission_in_progress while a submission is processing or in review', async () => {
    const { claims, clientId } = await client();
    const first = await submit(claims, [
      await uploaded(claims, passportBody(), PASSPORT),
      await uploaded(claims, billBody(), BILL),
    ]);
    expect(first.status).toBe(202);
    const p2 = await uploaded(claims, passportBody(), PASSPORT);
    const b2 = await uploaded(claims, billBody(), BILL);
    const items = await countItems();
    const again = await submit(claims, [p2, b2]);
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('submission_in_progress');
    expect(await countItems()).toBe(items);
    expect(await listClientSubmissions(clientId)).toHaveLength(1);
  });

  it('an idempotent retry replays the first answer and creates nothing more', async () => {
    const { claims, clientId } = await client();
    const ids = [await uploaded(claims, passportBody(), PASSPORT), await uploaded(claims, billBody(), BILL)];
    const key = `kyc-submit-${uid()}`;
    const first = await submit(claims, ids, { 'Idempotency-Key': key });
    const second = await submit(claims, ids, { 'Idempotency-Key': key });
    expect(first.status).toBe(202);
    expect(second.status).toBe(202);
    expect(second.body).toEqual(first.body);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(await listClientSubmissions(clientId)).toHaveLength(1);
    expect((await outboxFor('kyc.submission.created')).filter((e) => e.detail.clientId === clientId)).toHaveLength(1);
  });

  it('refuses incomplete, unknown, foreign, unuploaded, repeated and duplicated files, writing nothing', async () => {
    const { claims } = await client();
    const other = await client();
    const passport = await uploaded(claims, passportBody(), PASSPORT);
    const passport2 = await uploaded(claims, passportBody(), PASSPORT);
    const waiting = (await requestDocument(claims, billBody())).body.documentId;
    const foreign = await uploaded(other.claims, billBody(), BILL);
    const items = await countItems();

    const missing = await submit(claims, [passport]);
    expect(missing.status).toBe(400);
    expect(missing.body.code).toBe('documents_missing');
    expect(missing.body.errors).toEqual([
      expect.objectContaining({ field: 'proof_of_address', code: 'proof_of_address_missing' }),
    ]);

    const unknown = await submit(claims, [passport, '01JZZZZZZZZZZZZZZZZZZZZZZZ']);
    expect([unknown.status, unknown.body.code]).toEqual([404, 'document_not_found']);
    const notMine = await submit(claims, [passport, foreign]);
    expect([notMine.status, notMine.body.code]).toEqual([404, 'document_not_found']);
    const notUploaded = await submit(claims, [passport, waiting]);
    expect([notUploaded.status, notUploaded.body.code]).toEqual([409, 'document_not_uploaded']);
    const twoPassports = await submit(claims, [passport, passport2]);
    expect([twoPassports.status, twoPassports.body.code]).toEqual([400, 'duplicate_document_in_set']);
    const sameTwice = await submit(claims, [passport, passport]);
    expect([sameTwice.status, sameTwice.body.code]).toEqual([400, 'duplicate_document_in_set']);
    const badId = await submit(claims, ['not-an-id']);
    expect([badId.status, badId.body.code]).toEqual([400, 'validation_failed']);
    const tooMany = await submit(
      claims,
      Array.from({ length: 7 }, () => passport),
    );
    expect([tooMany.status, tooMany.body.code]).toEqual([400, 'validation_failed']);
    const none = await submit(claims, []);
    expect([none.status, none.body.code]).toEqual([400, 'validation_failed']);
    expect(await countItems()).toBe(items);
  });

  it('409 document_already_submitted for a file of an earlier, decided submission', async () => {
    const { claims } = await client();
    const passport = await uploaded(claims, passportBody(), PASSPORT);
    const bill = await uploaded(claims, billBody(), BILL);
    const first = await submit(claims, [passport, bill]);
    await applyKycDecision({
      submissionId: first.body.submissionId,
      decision: {
        outcome: 'documents_requested',
        decidedBy: 'officer-1',
        reasons: ['address_proof_too_old'],
        documentIds: [bill],
        canResubmit: true,
      },
      actor: { id: 'officer-1', role: 'compliance' },
      requestId: 'test',
    });
    const newBill = await uploaded(claims, billBody(), BILL);
    const items = await countItems();
    const res = await submit(claims, [passport, newBill]);
    expect([res.status, res.body.code]).toEqual([409, 'document_already_submitted']);
    expect(await countItems()).toBe(items);
    const fresh = await uploaded(claims, passportBody(), PASSPORT);
    expect((await submit(claims, [fresh, newBill])).status).toBe(202);
  });

  it('409 already_verified for an approved client; a client whose document expired may verify again', async () => {
    const valid = await client({ kycStatus: 'approved', stage: 'approved', kyc: { identityExpiresOn: '2031-03-14' } });
    const ids = [await uploaded(valid.claims, passportBody(), PASSPORT), await uploaded(valid.claims, billBody(), BILL)];
    const res = await submit(valid.claims, ids);
    expect([res.status, res.body.code]).toEqual([409, 'already_verified']);
    const expired = await client({ kycStatus: 'approved', stage: 'approved', kyc: { identityExpiresOn: '2020-01-01' } });
    const ids2 = [await uploaded(expired.claims, passportBody(), PASSPORT), await uploaded(expired.claims, billBody(), BILL)];
    const again = await submit(expired.claims, ids2);
    expect(again.status).toBe(202);
    // No longer approved: an ordinary submission, not a renewal.
    expect(await getClientProfile(expired.clientId)).toMatchObject({
      kycStatus: 'in_review',
      onboarding: { stage: 'kyc_submitted' },
    });
    expect((await getKycSubmission(again.body.submissionId))!.renewal).toBeUndefined();
  });

  describe('renewal before the approved document expires', () => {
    const inDays = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString().slice(0, 10);
    const PREVIOUS = {
      approvedSubmissionId: 'sub-previous',
      approvedAt: '2024-05-01T10:00:00.000Z',
      identityExpiresOn: inDays(10),
    };

    /** An approved client whose document expires in 10 days, renewing it: the renewal's id. */
    async function renewing() {
      const c = await client({
        kycStatus: 'approved',
        stage: 'approved',
        kyc: { ...PREVIOUS, currentSubmissionId: 'sub-previous' },
      });
      const ids = [await uploaded(c.claims, passportBody(), PASSPORT), await uploaded(c.claims, billBody(), BILL)];
      const res = await submit(c.claims, ids);
      expect(res.status, res.raw).toBe(202);
      return { ...c, submissionId: res.body.submissionId as string };
    }

    /** The identity extraction the analysis step would store for the renewal (its new expiry date). */
    async function extracted(submissionId: string, clientId: string, expiryDate: string) {
      const item = kycExtractionItem(
        {
          submissionId,
          unit: 'identity',
          documentIds: [],
          identity: { documentType: 'passport', expiryDate, fieldConfidence: {} },
          analysedAt: new Date().toISOString(),
        },
        new Date().toISOString(),
      );
      await commit({
        writes: [putKycExtraction(item)],
        audit: {
          actor: { id: 'system:test', role: 'system' },
          action: 'test.extracted',
          entity: { type: 'kyc-submission', id: submissionId },
          clientId,
          before: null,
          after: null,
          requestId: 'test',
        },
      });
    }

    const decide = (submissionId: string, outcome: 'approved' | 'rejected' | 'documents_requested', canResubmit = true) =>
      applyKycDecision({
        submissionId,
        decision: {
          outcome,
          decidedBy: 'officer-1',
          reasons: outcome === 'approved' ? [] : ['document_unreadable'],
          documentIds: [],
          canResubmit,
        },
        actor: { id: 'officer-1', role: 'compliance' },
        requestId: 'test',
      });

    it('is accepted while the document expires soon; the client stays approved and GET /v1/kyc shows its progress', async () => {
      const c = await renewing();
      const profile = (await getClientProfile(c.clientId))!;
      expect(profile).toMatchObject({
        kycStatus: 'approved',
        onboarding: { stage: 'approved' },
        kyc: { ...PREVIOUS, currentSubmissionId: c.submissionId, renewalSubmissionId: c.submissionId },
      });
      expect(await getKycSubmission(c.submissionId)).toMatchObject({ status: 'processing', renewal: true });
      const audit = await trail('kyc-submission', c.submissionId);
      expect(audit[0]).toMatchObject({ after: { kycStatus: 'approved', stage: 'approved', renewalOf: 'sub-previous' } });

      const res = await status(c.claims);
      expect(res.body).toMatchObject({
        status: 'approved',
        next: { action: 'wait' },
        submission: { submissionId: c.submissionId, status: 'processing' },
        timeline: [
          { step: 'submitted', state: 'done' },
          { step: 'automatic_checks', state: 'current' },
          { step: 'decision', state: 'pending' },
        ],
        estimatedCompletion: { basis: 'automatic_processing' },
        preVerificationDeposit: null,
      });
      expect(res.body.history.map((h: Body) => h.submissionId)).toEqual([]);

      // One at a time, as for any submission.
      const again = await submit(c.claims, [
        await uploaded(c.claims, passportBody(), PASSPORT),
        await uploaded(c.claims, billBody(), BILL),
      ]);
      expect([again.status, again.body.code]).toEqual([409, 'submission_in_progress']);
    });

    it('approved: the new approval, expiry date and expiry watch replace the earlier ones', async () => {
      const c = await renewing();
      await extracted(c.submissionId, c.clientId, '2036-02-29');
      await decide(c.submissionId, 'approved');
      const profile = (await getClientProfile(c.clientId))!;
      expect(profile).toMatchObject({
        kycStatus: 'approved',
        onboarding: { stage: 'approved' },
        kyc: { approvedSubmissionId: c.submissionId, identityExpiresOn: '2036-02-29', currentSubmissionId: c.submissionId },
      });
      expect(profile.kyc!.approvedAt).not.toBe(PREVIOUS.approvedAt);
      expect(profile.kyc!.renewalSubmissionId).toBeUndefined();
      expect(await getKycExpiry(c.clientId)).toMatchObject({ submissionId: c.submissionId, identityExpiresOn: '2036-02-29' });
      const res = await status(c.claims);
      expect(res.body).toMatchObject({
        status: 'approved',
        next: { action: 'fund_account' },
        submission: { submissionId: c.submissionId, status: 'approved' },
      });
      // Verified again with a valid document: nothing to renew.
      const more = await submit(c.claims, [
        await uploaded(c.claims, passportBody(), PASSPORT),
        await uploaded(c.claims, billBody(), BILL),
      ]);
      expect([more.status, more.body.code]).toEqual([409, 'already_verified']);
    });

    it('rejected (may resubmit) or documents requested: the earlier approval stands and the client may renew again', async () => {
      for (const outcome of ['rejected', 'documents_requested'] as const) {
        const c = await renewing();
        await extracted(c.submissionId, c.clientId, '2036-02-29');
        await decide(c.submissionId, outcome);
        const profile = (await getClientProfile(c.clientId))!;
        expect(profile, outcome).toMatchObject({
          kycStatus: 'approved',
          onboarding: { stage: 'approved' },
          kyc: { ...PREVIOUS, currentSubmissionId: c.submissionId },
        });
        expect(profile.kyc!.renewalSubmissionId).toBeUndefined();
        expect(await getKycExpiry(c.clientId)).toBeUndefined();
        const res = await status(c.claims);
        expect(res.body, outcome).toMatchObject({
          status: 'approved',
          next: { action: outcome === 'rejected' ? 'upload_new_documents' : 'upload_requested_documents' },
          submission: { submissionId: c.submissionId, status: outcome },
        });
        const next = await submit(c.claims, [
          await uploaded(c.claims, passportBody(), PASSPORT),
          await uploaded(c.claims, billBody(), BILL),
        ]);
        expect(next.status, next.raw).toBe(202);
        expect((await getClientProfile(c.clientId))!).toMatchObject({
          kycStatus: 'approved',
          kyc: { renewalSubmissionId: next.body.submissionId },
        });
      }
    });

    it('a final rejection of a renewal closes verification like any other', async () => {
      const c = await renewing();
      await decide(c.submissionId, 'rejected', false);
      expect(await getClientProfile(c.clientId)).toMatchObject({ kycStatus: 'rejected', onboarding: { stage: 'rejected' } });
      expect((await status(c.claims)).body).toMatchObject({ status: 'rejected', next: { action: 'contact_support' } });
    });
  });

  it('409 verification_closed after a final rejection; 409 profile_incomplete before the profile', async () => {
    const closed = await client({ kycStatus: 'rejected', stage: 'rejected' });
    const res = await submit(closed.claims, ['01JZZZZZZZZZZZZZZZZZZZZZZZ']);
    expect([res.status, res.body.code]).toEqual([409, 'verification_closed']);
    expect((await requestDocument(closed.claims, passportBody())).body.code).toBe('verification_closed');
    const early = await client({ stage: 'registered' });
    const r2 = await submit(early.claims, ['01JZZZZZZZZZZZZZZZZZZZZZZZ']);
    expect([r2.status, r2.body.code]).toEqual([409, 'profile_incomplete']);
  });
});

describe('GET /v1/kyc', () => {
  it('not started: requirements for the jurisdiction, everything missing, the pre-verification deposit window', async () => {
    const { clientId, claims } = await client();
    const res = await status(claims);
    expect(res.status, res.raw).toBe(200);
    const profile = (await getClientProfile(clientId))!;
    expect(res.body).toMatchObject({
      status: 'not_started',
      next: { action: 'upload_documents' },
      submission: null,
      documents: [],
      requirements: {
        jurisdiction: 'EU',
        identity: { oneOf: expect.arrayContaining([{ documentType: 'passport', sides: ['front'] }]) },
        proofOfAddress: { required: true, maxAgeDays: 90 },
        selfie: { required: false },
      },
      missing: [
        { code: 'identity_document_missing', category: 'identity' },
        { code: 'proof_of_address_missing', category: 'proof_of_address' },
      ],
      preVerificationDeposit: {
        limit: { amount: '2000.00', currency: 'EUR' },
        maxDays: 15,
        until: new Date(Date.parse(profile.createdAt) + 15 * 86_400_000).toISOString(),
      },
    });
  });

  it('after an upload: documents_required with what is still missing, in the request locale', async () => {
    const { claims } = await client();
    await uploaded(claims, passportBody(), PASSPORT);
    const res = await status(claims, 'de');
    expect(res.body.status).toBe('documents_required');
    expect(res.body.next.action).toBe('submit_documents');
    expect(res.body.next.message).toMatch(/Dokumente/);
    expect(res.body.missing).toEqual([{ code: 'proof_of_address_missing', category: 'proof_of_address' }]);
    expect(res.body.documents).toEqual([expect.objectContaining({ documentType: 'passport', status: 'uploaded' })]);
  });

  it('after submitting: in review with an estimated completion and nothing missing', async () => {
    const { claims } = await client();
    const ids = [await uploaded(claims, passportBody(), PASSPORT), await uploaded(claims, billBody(), BILL)];
    const sub = await submit(claims, ids);
    const res = await status(claims);
    expect(res.body).toMatchObject({
      status: 'in_review',
      next: { action: 'wait' },
      submission: { submissionId: sub.body.submissionId, status: 'processing' },
      missing: [],
      estimatedCompletion: { basis: 'automatic_processing' },
    });
    expect(res.raw).not.toMatch(/taskToken|s3Key/);
  });

  it('only for clients', async () => {
    expect((await status(claimsFor(`officer-${uid()}`, ['compliance']))).status).toBe(403);
    expect((await status(claimsFor(`ghost-${uid()}`, ['client']))).body.code).toBe('profile_not_found');
  });
});
