/**
 * KYC journeys over HTTP against the whole local runtime: a client registers (resident in DE, the fixture
 * person), completes the profile and questionnaire, uploads sandbox documents (test/fixtures/kyc) through
 * the presigned POST to the local S3, submits, and the outbox event starts the kyc-review state machine
 * (analyse -> assess -> review -> finalize). Paths: automatic approval, automatic rejection (expired
 * passport), an analysis that keeps failing (throttled) going to manual review, and a compliance officer
 * requesting a new proof of address, after which the client resubmits and is approved with the history kept.
 */
import { describe, expect, it } from 'vitest';
import { useRuntime } from './harness.ts';
import { BILL, fixture, type Json, kycUntil, onboardedClient, PASSPORT, recentBill, submit, upload } from './journeys.ts';

const e2e = useRuntime();

const executionArn = (submissionId: string) =>
  `${e2e.rt.states.arns()['kyc-review']!.replace(':stateMachine:', ':execution:')}:${submissionId}`;

describe('KYC review journeys', () => {
  it('uploads, submits and is approved automatically', async () => {
    const token = await onboardedClient(e2e);
    const start = await e2e.call('GET', '/v1/kyc', { token });
    expect(start.body).toMatchObject({ status: 'not_started', next: { action: 'upload_documents' } });
    expect(start.body.missing.map((m: Json) => m.code)).toEqual(['identity_document_missing', 'proof_of_address_missing']);

    const passport = await upload(e2e, token, PASSPORT, fixture('passport-valid.json'));
    const bill = await upload(e2e, token, BILL, recentBill());
    const ready = await e2e.call('GET', '/v1/kyc', { token });
    expect(ready.body).toMatchObject({ status: 'documents_required', next: { action: 'submit_documents' }, missing: [] });

    const submissionId = await submit(e2e, token, [passport, bill]);
    const approved = await kycUntil(e2e, token, (b) => b.status !== 'in_review');
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
    const token = await onboardedClient(e2e);
    const passport = await upload(e2e, token, PASSPORT, fixture('passport-expired.json'));
    const bill = await upload(e2e, token, BILL, recentBill());
    const submissionId = await submit(e2e, token, [passport, bill]);
    const rejected = await kycUntil(e2e, token, (b) => b.status !== 'in_review', 45_000);
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
    const token = await onboardedClient(e2e);
    const passport = await upload(e2e, token, PASSPORT, { documentType: 'passport', simulate: 'throttle', confidence: 0.9 });
    const bill = await upload(e2e, token, BILL, recentBill());
    const submissionId = await submit(e2e, token, [passport, bill]);
    const waiting = await kycUntil(e2e, token, (b) => b.submission?.status === 'in_review');
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
    const token = await onboardedClient(e2e);
    const front = await upload(
      e2e,
      token,
      { category: 'identity', documentType: 'national_id', side: 'front' },
      fixture('id-card-front.json'),
    );
    const back = await upload(
      e2e,
      token,
      { category: 'identity', documentType: 'national_id', side: 'back' },
      fixture('id-card-back.json'),
    );
    const oldBill = await upload(e2e, token, BILL, fixture('proof-of-address-old.json'));
    const first = await submit(e2e, token, [back, oldBill, front]);
    await kycUntil(e2e, token, (b) => b.submission?.status === 'in_review');

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

    const requested = await kycUntil(e2e, token, (b) => b.status === 'action_required');
    expect(requested).toMatchObject({
      next: { action: 'upload_requested_documents', categories: ['proof_of_address'] },
      submission: { submissionId: first, status: 'documents_requested', reasons: [{ code: 'address_proof_too_old' }] },
    });
    const files = Object.fromEntries(requested.documents.map((d: Json) => [d.documentId, d.status]));
    expect(files).toMatchObject({ [front]: 'accepted', [back]: 'accepted', [oldBill]: 'rejected' });
    expect(requested.missing.map((m: Json) => m.code)).toEqual(['identity_document_missing', 'proof_of_address_missing']);

    // A new submission uses new files: the identity card again and a recent proof of address.
    const front2 = await upload(
      e2e,
      token,
      { category: 'identity', documentType: 'national_id', side: 'front' },
      fixture('id-card-front.json'),
    );
    const back2 = await upload(
      e2e,
      token,
      { category: 'identity', documentType: 'national_id', side: 'back' },
      fixture('id-card-back.json'),
    );
    const bill2 = await upload(e2e, token, BILL, recentBill());
    const second = await submit(e2e, token, [front2, back2, bill2]);
    const approved = await kycUntil(e2e, token, (b) => b.submission?.submissionId === second && b.status !== 'in_review');
    expect(approved).toMatchObject({
      status: 'approved',
      submission: { submissionId: second, status: 'approved' },
      history: [{ submissionId: first, status: 'documents_requested' }],
    });
    expect(approved.documents).toHaveLength(6);
  });

  it('the seeded demo client is verified through the real flow and, already funded, has nothing left to do', async () => {
    const token = await e2e.signIn('client@demo.test');
    const view = await kycUntil(e2e, token, (b) => b.status === 'approved');
    expect(view.next.action).toBe('none');
    expect(view.submission.status).toBe('approved');
  });
});
