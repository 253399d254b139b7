/**
 * KYC journeys over HTTP against the whole local runtime: a client registers (resident in DE, the fixture
 * person), completes the profile and questionnaire, uploads sandbox documents (test/fixtures/kyc) through
 * the presigned POST to the local S3, submits, and the outbox event starts the kyc-review state machine
 * (analyse -> assess -> review -> finalize). Paths: automatic approval, automatic rejection (expired
 * passport), an analysis that keeps failing (throttled) going to manual review, and a compliance officer
 * requesting a new proof of address, after which the client resubmits and is approved with the history kept.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MIFID2_APPROPRIATENESS } from '#domain/onboarding/index.ts';
import { FIXTURE_PERSON, PERSONAL_DETAILS } from '../support/clients.ts';
import { useRuntime } from './harness.ts';

const e2e = useRuntime();
const PASSWORD = 'Str0ng-Passw0rd!';

// biome-ignore lint/suspicious/noExplicitAny: fixture documents and response bodies are untyped JSON
type Json = any;

const fixture = (name: string): Json =>
  JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../fixtures/kyc', name), 'utf8'));

/** proof-of-address-valid.json, re-dated to a few days ago when its static issue date has grown too old for today. */
function recentBill(): Json {
  const f = fixture('proof-of-address-valid.json');
  const ageDays = (Date.now() - Date.parse(f.fields.issueDate)) / 86_400_000;
  if (ageDays >= 0 && ageDays < 80) return f;
  return { ...f, fields: { ...f.fields, issueDate: new Date(Date.now() - 3 * 86_400_000).toISOString().slice(0, 10) } };
}

const best = Object.fromEntries(
  MIFID2_APPROPRIATENESS.questions.map((q) => [q.id, [...q.options].sort((a, b) => b.score - a.score)[0]!.id]),
);

/** Registers the fixture person (resident in DE), signs in, and completes the profile and the questionnaire. */
async function onboardedClient(): Promise<string> {
  const email = `kyc-${randomUUID().slice(0, 8)}@example.test`;
  const reg = await e2e.call('POST', '/v1/registrations', {
    body: {
      email,
      password: PASSWORD,
      ...FIXTURE_PERSON,
      countryOfResidence: 'DE',
      clientType: 'retail',
    },
  });
  expect(reg.status, JSON.stringify(reg.body)).toBe(201);
  const token = await e2e.signIn(email, PASSWORD);
  const profile = await e2e.call('POST', '/v1/onboarding/profile', {
    token,
    body: PERSONAL_DETAILS,
  });
  expect(profile.status, JSON.stringify(profile.body)).toBe(200);
  const q = await e2e.call('POST', '/v1/onboarding/questionnaire', {
    token,
    body: { questionnaireId: 'mifid2-appropriateness', answers: best },
  });
  expect(q.status, JSON.stringify(q.body)).toBe(201);
  return token;
}

type FileSpec = { category: 'identity' | 'proof_of_address'; documentType: string; side?: 'front' | 'back' };

/** Asks for an upload, posts the document to the presigned POST (fields first, file last) and returns the id. */
async function upload(token: string, spec: FileSpec, doc: Json): Promise<string> {
  const data = Buffer.from(JSON.stringify(doc));
  const res = await e2e.call('POST', '/v1/kyc/documents', {
    token,
    body: { ...spec, contentType: 'application/json', size: data.length },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const form = new FormData();
  for (const [k, v] of Object.entries(res.body.upload.fields as Record<string, string>)) form.append(k, v);
  form.append('file', new Blob([new Uint8Array(data)], { type: 'application/json' }), 'document.json');
  const up = await fetch(res.body.upload.url, { method: 'POST', body: form });
  expect(up.status, await up.text()).toBeLessThan(300);
  return res.body.documentId;
}

const PASSPORT: FileSpec = { category: 'identity', documentType: 'passport', side: 'front' };
const BILL: FileSpec = { category: 'proof_of_address', documentType: 'utility_bill' };

async function submit(token: string, documentIds: string[]): Promise<string> {
  const res = await e2e.call('POST', '/v1/kyc/submissions', { token, body: { documentIds } });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return res.body.submissionId;
}

/** Polls GET /v1/kyc (letting the stream, bus and queues settle in between) until `done` holds. */
async function kycUntil(token: string, done: (body: Json) => boolean, ms = 45_000): Promise<Json> {
  const deadline = Date.now() + ms;
  let last: Json;
  for (;;) {
    await e2e.rt.settle();
    const res = await e2e.call('GET', '/v1/kyc', { token });
    expect(res.status).toBe(200);
    last = res.body;
    if (done(last)) return last;
    if (Date.now() > deadline) throw new Error(`KYC status not reached; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const executionArn = (submissionId: string) =>
  `${e2e.rt.states.arns()['kyc-review']!.replace(':stateMachine:', ':execution:')}:${submissionId}`;

describe('KYC review journeys', () => {
  it('uploads, submits and is approved automatically', async () => {
    const token = await onboardedClient();
    const start = await e2e.call('GET', '/v1/kyc', { token });
    expect(start.body).toMatchObject({ status: 'not_started', next: { action: 'upload_documents' } });
    expect(start.body.missing.map((m: Json) => m.code)).toEqual(['identity_document_missing', 'proof_of_address_missing']);

    const passport = await upload(token, PASSPORT, fixture('passport-valid.json'));
    const bill = await upload(token, BILL, recentBill());
    const ready = await e2e.call('GET', '/v1/kyc', { token });
    expect(ready.body).toMatchObject({ status: 'documents_required', next: { action: 'submit_documents' }, missing: [] });

    const submissionId = await submit(token, [passport, bill]);
    const approved = await kycUntil(token, (b) => b.status !== 'in_review');
    expect(approved).toMatchObject({
      status: 'approved',
      next: { action: 'fund_account' },
      submission: { submissionId, status: 'approved', canResubmit: true, reasons: [] },
      history: [],
      preVerificationDeposit: null,
    });
    expect(approved.timeline.map((t: Json) => [t.step, t.state])).toEqual([
      ['submitted', 'done'],
      ['automatic_checks', 'done'],
      ['decision', 'done'],
    ]);
    expect(approved.documents.map((d: Json) => d.status)).toEqual(['accepted', 'accepted']);
    const me = await e2e.call('GET', '/v1/me', { token });
    expect(me.body.onboarding).toMatchObject({ stage: 'approved', kycStatus: 'approved' });
    expect(await e2e.rt.states.waitFor(executionArn(submissionId))).toMatchObject({ status: 'SUCCEEDED' });

    const again = await e2e.call('POST', '/v1/kyc/submissions', { token, body: { documentIds: [passport, bill] } });
    expect([again.status, again.body.code]).toEqual([409, 'already_verified']);
  });

  it('rejects an expired passport and tells the client to upload a new one', async () => {
    const token = await onboardedClient();
    const passport = await upload(token, PASSPORT, fixture('passport-expired.json'));
    const bill = await upload(token, BILL, recentBill());
    const submissionId = await submit(token, [passport, bill]);
    const rejected = await kycUntil(token, (b) => b.status !== 'in_review', 45_000);
    expect(rejected).toMatchObject({
      status: 'action_required',
      next: { action: 'upload_new_documents', categories: ['identity'] },
      submission: { submissionId, status: 'rejected', canResubmit: true, reasons: [{ code: 'document_expired' }] },
    });
    const files = Object.fromEntries(rejected.documents.map((d: Json) => [d.documentId, d]));
    expect(files[passport]).toMatchObject({ status: 'rejected', reasons: [{ code: 'document_expired' }] });
    expect(files[bill]).toMatchObject({ status: 'accepted' });
    expect(await e2e.rt.states.waitFor(executionArn(submissionId))).toMatchObject({ status: 'SUCCEEDED' });
  });

  it('an analysis that keeps failing (throttled) goes to manual review instead of failing the review', async () => {
    const token = await onboardedClient();
    const passport = await upload(token, PASSPORT, { documentType: 'passport', simulate: 'throttle', confidence: 0.9 });
    const bill = await upload(token, BILL, recentBill());
    const submissionId = await submit(token, [passport, bill]);
    const waiting = await kycUntil(token, (b) => b.submission?.status === 'in_review');
    expect(waiting).toMatchObject({ status: 'in_review', next: { action: 'wait' }, submission: { status: 'in_review' } });
    expect(waiting.timeline.map((t: Json) => [t.step, t.state])).toEqual([
      ['submitted', 'done'],
      ['automatic_checks', 'done'],
      ['manual_review', 'current'],
      ['decision', 'pending'],
    ]);
    expect(waiting.estimatedCompletion).toMatchObject({ minutes: expect.any(Number) });
    expect(e2e.rt.states.pendingTasks(executionArn(submissionId))).toEqual([expect.objectContaining({ state: 'AwaitReview' })]);

    const officer = await e2e.signIn('compliance@demo.test');
    const review = await e2e.call('GET', `/v1/admin/kyc/reviews/${submissionId}`, { token: officer });
    expect(review.status, JSON.stringify(review.body)).toBe(200);
    expect(JSON.stringify(review.body)).toContain('analysis_failed');
  });

  it('compliance requests a new proof of address; the client resubmits and is approved, keeping the history', async () => {
    const token = await onboardedClient();
    const front = await upload(
      token,
      { category: 'identity', documentType: 'national_id', side: 'front' },
      fixture('id-card-front.json'),
    );
    const back = await upload(
      token,
      { category: 'identity', documentType: 'national_id', side: 'back' },
      fixture('id-card-back.json'),
    );
    const oldBill = await upload(token, BILL, fixture('proof-of-address-old.json'));
    const first = await submit(token, [back, oldBill, front]);
    await kycUntil(token, (b) => b.submission?.status === 'in_review');

    const officer = await e2e.signIn('compliance@demo.test');
    const queue = await e2e.call('GET', '/v1/admin/kyc/reviews', { token: officer });
    expect(queue.status, JSON.stringify(queue.body)).toBe(200);
    expect(JSON.stringify(queue.body)).toContain(first);
    const decision = await e2e.call('POST', `/v1/admin/kyc/reviews/${first}/decision`, {
      token: officer,
      body: { decision: 'request_documents', reasons: ['address_proof_too_old'], documentIds: [oldBill] },
    });
    expect(decision.status, JSON.stringify(decision.body)).toBe(200);
    expect(await e2e.rt.states.waitFor(executionArn(first))).toMatchObject({ status: 'SUCCEEDED' });

    const requested = await kycUntil(token, (b) => b.status === 'action_required');
    expect(requested).toMatchObject({
      next: { action: 'upload_requested_documents', categories: ['proof_of_address'] },
      submission: { submissionId: first, status: 'documents_requested', reasons: [{ code: 'address_proof_too_old' }] },
    });
    const files = Object.fromEntries(requested.documents.map((d: Json) => [d.documentId, d.status]));
    expect(files).toMatchObject({ [front]: 'accepted', [back]: 'accepted', [oldBill]: 'rejected' });
    expect(requested.missing.map((m: Json) => m.code)).toEqual(['identity_document_missing', 'proof_of_address_missing']);

    // A new submission uses new files: the identity card again and a recent proof of address.
    const front2 = await upload(
      token,
      { category: 'identity', documentType: 'national_id', side: 'front' },
      fixture('id-card-front.json'),
    );
    const back2 = await upload(
      token,
      { category: 'identity', documentType: 'national_id', side: 'back' },
      fixture('id-card-back.json'),
    );
    const bill2 = await upload(token, BILL, recentBill());
    const second = await submit(token, [front2, back2, bill2]);
    const approved = await kycUntil(token, (b) => b.submission?.submissionId === second && b.status !== 'in_review');
    expect(approved).toMatchObject({
      status: 'approved',
      submission: { submissionId: second, status: 'approved' },
      history: [{ submissionId: first, status: 'documents_requested' }],
    });
    expect(approved.documents).toHaveLength(6);
  });

  it('the seeded demo client is verified through the real flow and, already funded, has nothing left to do', async () => {
    const token = await e2e.signIn('client@demo.test');
    const view = await kycUntil(token, (b) => b.status === 'approved');
    expect(view.next.action).toBe('none');
    expect(view.submission.status).toBe('approved');
  });
});
