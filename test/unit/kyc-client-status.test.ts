import { describe, expect, it } from 'vitest';
import { type ClientKycInput, clientKycView, NEXT_ACTION_MESSAGES } from '#domain/kyc/client-status.ts';
import { ISSUE_CATALOGUE } from '#domain/kyc/decision.ts';
import { CONFIDENTIAL_REVIEW_MESSAGE, REVIEW_REASONS } from '#domain/kyc/review-reasons.ts';
import type { KycDocument, KycSubmission, SubmissionDecision } from '#domain/kyc/submission.ts';

const NOW = new Date('2025-06-10T12:00:00Z');

const doc = (id: string, over: Partial<KycDocument> = {}): KycDocument => ({
  documentId: id,
  clientId: 'c1',
  category: 'identity',
  documentType: 'national_id',
  side: 'front',
  contentType: 'image/jpeg',
  declaredSize: 1000,
  status: 'uploaded',
  uploadedAt: '2025-06-10T10:00:00Z',
  ...over,
});

const FILES = [
  doc('d1'),
  doc('d2', { side: 'back', uploadedAt: '2025-06-10T10:01:00Z' }),
  doc('d3', { category: 'proof_of_address', documentType: 'utility_bill', side: undefined, uploadedAt: '2025-06-10T10:02:00Z' }),
];

const decision = (over: Partial<SubmissionDecision>): SubmissionDecision => ({
  outcome: 'rejected',
  decidedBy: 'reviewer-sub-123',
  decidedAt: '2025-06-10T11:30:00Z',
  reasons: [],
  documentIds: [],
  canResubmit: true,
  ...over,
});

const submission = (over: Partial<KycSubmission> = {}): KycSubmission => ({
  submissionId: 'S2',
  clientId: 'c1',
  status: 'processing',
  identity: { documentType: 'national_id', documentIds: ['d1', 'd2'] },
  addressProof: { documentType: 'utility_bill', documentId: 'd3' },
  submittedAt: '2025-06-10T11:00:00Z',
  timeline: [{ step: 'submitted', at: '2025-06-10T11:00:00Z' }],
  ...over,
});

const inReview = (over: Partial<KycSubmission> = {}) =>
  submission({
    status: 'in_review',
    timeline: [
      { step: 'submitted', at: '2025-06-10T11:00:00Z' },
      { step: 'analysis_completed', at: '2025-06-10T11:00:40Z' },
      { step: 'checks_completed', at: '2025-06-10T11:01:00Z' },
      { step: 'review_opened', at: '2025-06-10T11:01:01Z' },
    ],
    review: { status: 'pending', queuedAt: '2025-06-10T11:01:01Z', priority: 'high' },
    checks: {
      outcome: 'manual_review',
      priority: 'high',
      issues: [
        {
          code: 'sanctions_hit',
          severity: 'hard',
          field: 'name',
          evidence: { list: 'EU-FSF', entry: 'Ivan PETROV', score: 0.97 },
          suggestedAction: 'compliance_escalation',
        },
      ],
    },
    ...over,
  });

const decided = (d: Partial<SubmissionDecision>, over: Partial<KycSubmission> = {}) => {
  const base = inReview();
  const outcome = d.outcome ?? 'rejected';
  return {
    ...base,
    status: outcome,
    timeline: [...base.timeline, { step: 'decided' as const, at: '2025-06-10T11:30:00Z', detail: { outcome } }],
    review: { ...base.review!, status: 'decided' as const, decidedAt: '2025-06-10T11:30:00Z' },
    decision: decision({ outcome, ...d }),
    ...over,
  } satisfies KycSubmission;
};

const input = (over: Partial<ClientKycInput> = {}): ClientKycInput => ({
  now: NOW,
  locale: 'en',
  profileComplete: true,
  documents: FILES,
  submissions: [],
  ...over,
});

describe('before any submission', () => {
  it('nothing uploaded: not_started; complete the profile first, then upload', () => {
    const v = clientKycView(input({ documents: [], profileComplete: false }));
    expect(v).toMatchObject({ status: 'not_started', next: { action: 'complete_profile' }, submission: null, timeline: [] });
    expect(clientKycView(input({ documents: [] })).next.action).toBe('upload_documents');
    expect(v.estimatedCompletion).toBeNull();
  });

  it('files uploaded but not submitted: documents_required, next submit_documents', () => {
    const v = clientKycView(input());
    expect(v.status).toBe('documents_required');
    expect(v.next).toEqual({ action: 'submit_documents', message: NEXT_ACTION_MESSAGES.submit_documents.en });
    expect(v.documents.map((d) => d.documentId)).toEqual(['d1', 'd2', 'd3']);
    expect(v.documents[2]).toEqual({
      documentId: 'd3',
      category: 'proof_of_address',
      documentType: 'utility_bill',
      side: null,
      status: 'uploaded',
      uploadedAt: '2025-06-10T10:02:00Z',
      reasons: [],
    });
  });

  it('upload slots created but no file uploaded yet: still upload_documents; awaiting files listed last', () => {
    const v = clientKycView(input({ documents: [doc('d9', { status: 'awaiting_upload', uploadedAt: undefined })] }));
    expect(v).toMatchObject({ status: 'documents_required', next: { action: 'upload_documents' } });
    const w = clientKycView(input({ documents: [doc('d9', { status: 'awaiting_upload', uploadedAt: undefined }), ...FILES] }));
    expect(w.documents.map((d) => d.documentId)).toEqual(['d1', 'd2', 'd3', 'd9']);
  });
});

describe('while checks run', () => {
  it('automatic processing: in_review, wait, 2 minute estimate, automatic checks current', () => {
    const v = clientKycView(input({ submissions: [submission()] }));
    expect(v.status).toBe('in_review');
    expect(v.next.action).toBe('wait');
    expect(v.estimatedCompletion).toEqual({ minutes: 2, at: '2025-06-10T12:02:00.000Z', basis: 'automatic_processing' });
    expect(v.timeline).toEqual([
      { step: 'submitted', state: 'done', at: '2025-06-10T11:00:00Z' },
      { step: 'automatic_checks', state: 'current', at: '2025-06-10T11:00:00Z' },
      { step: 'decision', state: 'pending', at: null },
    ]);
    expect(v.submission).toMatchObject({
      submissionId: 'S2',
      status: 'processing',
      decidedAt: null,
      canResubmit: null,
      reasons: [],
    });
  });

  it('manual review: the ETA given by eta.ts, timeline in order with manual review current', () => {
    const v = clientKycView(input({ submissions: [inReview()], eta: { minutes: 90, basis: 'recent_reviews' } }));
    expect(v.status).toBe('in_review');
    expect(v.estimatedCompletion).toEqual({ minutes: 90, at: '2025-06-10T13:30:00.000Z', basis: 'recent_reviews' });
    expect(v.timeline).toEqual([
      { step: 'submitted', state: 'done', at: '2025-06-10T11:00:00Z' },
      { step: 'automatic_checks', state: 'done', at: '2025-06-10T11:01:00Z' },
      { step: 'manual_review', state: 'current', at: '2025-06-10T11:01:01Z' },
      { step: 'decision', state: 'pending', at: null },
    ]);
    expect(clientKycView(input({ submissions: [inReview()] })).estimatedCompletion).toBeNull();
  });

  it('a sanctions hit under review leaks nothing: no code, list, entry or score anywhere in the view', () => {
    const json = JSON.stringify(clientKycView(input({ submissions: [inReview()] })));
    expect(json).not.toMatch(/sanction|EU-FSF|PETROV|0\.97|compliance_escalation|high/i);
  });
});

describe('approved', () => {
  const approved = decided({ outcome: 'approved', reasons: ['verified_manually'], canResubmit: true });

  it('approved: fund the account, then nothing', () => {
    const v = clientKycView(input({ submissions: [approved], identityExpiresOn: '2030-01-01' }));
    expect(v.status).toBe('approved');
    expect(v.next.action).toBe('fund_account');
    expect(v.submission?.reasons).toEqual([
      { code: 'verified_manually', message: REVIEW_REASONS.verified_manually.clientMessage.en },
    ]);
    expect(v.timeline.map((s) => [s.step, s.state])).toEqual([
      ['submitted', 'done'],
      ['automatic_checks', 'done'],
      ['manual_review', 'done'],
      ['decision', 'done'],
    ]);
    expect(v.timeline[3]!.at).toBe('2025-06-10T11:30:00Z');
    expect(v.estimatedCompletion).toBeNull();
    expect(clientKycView(input({ submissions: [approved], funded: true })).next.action).toBe('none');
  });

  it('action_required once the identity document has expired (the day after its expiry date)', () => {
    const onTheDay = clientKycView(input({ submissions: [approved], identityExpiresOn: '2025-06-10' }));
    expect(onTheDay.status).toBe('approved');
    const after = clientKycView(input({ submissions: [approved], identityExpiresOn: '2025-06-09' }));
    expect(after.status).toBe('action_required');
    expect(after.next).toEqual({
      action: 'upload_new_identity_document',
      message: NEXT_ACTION_MESSAGES.upload_new_identity_document.en,
      categories: ['identity'],
    });
  });

  it('action_required when the daily expiry job flagged the client', () => {
    const v = clientKycView(input({ submissions: [approved], expired: true, locale: 'de' }));
    expect(v.status).toBe('action_required');
    expect(v.next.message).toBe(
      'Ihr Ausweisdokument ist abgelaufen. Bitte laden Sie ein gültiges Ausweisdokument hoch, um Ihr Konto weiter zu nutzen.',
    );
  });

  it('an automatically approved submission has no manual review step', () => {
    const auto = submission({
      status: 'approved',
      timeline: [
        { step: 'submitted', at: '2025-06-10T11:00:00Z' },
        { step: 'checks_completed', at: '2025-06-10T11:01:00Z' },
        { step: 'decided', at: '2025-06-10T11:01:00Z' },
      ],
      decision: decision({ outcome: 'approved', decidedBy: 'system', decidedAt: '2025-06-10T11:01:00Z' }),
    });
    expect(clientKycView(input({ submissions: [auto] })).timeline.map((s) => s.step)).toEqual([
      'submitted',
      'automatic_checks',
      'decision',
    ]);
  });
});

describe('a renewal (sent while the approved document expires soon)', () => {
  const previous = {
    ...decided({ outcome: 'approved', canResubmit: true }),
    submissionId: 'S1',
    submittedAt: '2024-06-01T10:00:00Z',
  };
  const renewal = (over: Partial<KycSubmission> = {}) => submission({ submissionId: 'S3', renewal: true, ...over });

  it('in progress: still approved, next wait, with the renewal as the submission and its timeline and estimate', () => {
    const v = clientKycView(input({ submissions: [previous, renewal()], identityExpiresOn: '2025-06-25' }));
    expect(v).toMatchObject({
      status: 'approved',
      next: { action: 'wait' },
      submission: { submissionId: 'S3', status: 'processing', decidedAt: null },
      estimatedCompletion: { minutes: 2, basis: 'automatic_processing' },
      history: [{ submissionId: 'S1', status: 'approved' }],
    });
    expect(v.timeline.map((t) => [t.step, t.state])).toEqual([
      ['submitted', 'done'],
      ['automatic_checks', 'current'],
      ['decision', 'pending'],
    ]);
    const reviewing = clientKycView(
      input({ submissions: [previous, inReview({ submissionId: 'S3', renewal: true })], identityExpiresOn: '2025-06-25' }),
    );
    expect(reviewing).toMatchObject({ status: 'approved', next: { action: 'wait' }, submission: { status: 'in_review' } });
  });

  it('refused (may resubmit) or documents requested: still approved, with what to upload', () => {
    const refused = { ...decided({ reasons: ['document_unreadable'], documentIds: ['d1'] }), submissionId: 'S3', renewal: true };
    expect(clientKycView(input({ submissions: [previous, refused], identityExpiresOn: '2025-06-25' }))).toMatchObject({
      status: 'approved',
      next: { action: 'upload_new_documents', categories: ['identity'] },
      submission: { submissionId: 'S3', status: 'rejected' },
    });
    const requested = {
      ...decided({ outcome: 'documents_requested', reasons: ['address_proof_too_old'] }),
      submissionId: 'S3',
      renewal: true,
    };
    expect(clientKycView(input({ submissions: [previous, requested], identityExpiresOn: '2025-06-25' }))).toMatchObject({
      status: 'approved',
      next: { action: 'upload_requested_documents', categories: ['proof_of_address'] },
    });
    // A final rejection closes verification, renewal or not.
    const closed = { ...decided({ reasons: ['suspected_forgery'], canResubmit: false }), submissionId: 'S3', renewal: true };
    expect(clientKycView(input({ submissions: [previous, closed], identityExpiresOn: '2025-06-25' })).status).toBe('rejected');
  });

  it('once the approved document has expired, a renewal reads like any submission', () => {
    expect(clientKycView(input({ submissions: [previous, renewal()], identityExpiresOn: '2025-06-09' })).status).toBe(
      'in_review',
    );
    const refused = { ...decided({ reasons: ['document_unreadable'] }), submissionId: 'S3', renewal: true };
    expect(clientKycView(input({ submissions: [previous, refused], expired: true })).status).toBe('action_required');
  });
});

describe('rejected and requested documents', () => {
  it('a final rejection: rejected, contact support', () => {
    const v = clientKycView(input({ submissions: [decided({ reasons: ['underage'], canResubmit: false })] }));
    expect(v.status).toBe('rejected');
    expect(v.next.action).toBe('contact_support');
    expect(v.submission).toMatchObject({ canResubmit: false, reasons: [{ code: 'underage' }] });
  });

  it('a rejection without a recorded decision is treated as final', () => {
    const v = clientKycView(input({ submissions: [submission({ status: 'rejected' })] }));
    expect(v).toMatchObject({ status: 'rejected', next: { action: 'contact_support' } });
  });

  it('a rejection that may be fixed: action_required, upload new documents, with the categories to replace', () => {
    const s = decided({ reasons: ['document_expired', 'address_proof_too_old'], documentIds: ['d1', 'd2', 'd3'] });
    const v = clientKycView(input({ submissions: [s] }));
    expect(v.status).toBe('action_required');
    expect(v.next).toMatchObject({ action: 'upload_new_documents', categories: ['identity', 'proof_of_address'] });
  });

  it('an automatic rejection names the category from the issue codes', () => {
    const s = submission({
      status: 'rejected',
      checks: {
        outcome: 'reject',
        issues: [
          { code: 'document_expired', severity: 'hard', evidence: {}, suggestedAction: 'request_new_document' },
          { code: 'low_confidence', severity: 'review', field: 'issueDate', evidence: {}, suggestedAction: 'x' },
        ],
      },
      decision: decision({ decidedBy: 'system', reasons: ['document_expired:hard', 'low_confidence:review'], canResubmit: true }),
    });
    const v = clientKycView(input({ submissions: [s], locale: 'es' }));
    expect(v.next).toMatchObject({ action: 'upload_new_documents', categories: ['identity', 'proof_of_address'] });
    expect(v.submission!.reasons).toEqual([
      { code: 'document_expired', message: ISSUE_CATALOGUE.document_expired.clientMessage.es },
      { code: 'low_confidence', message: ISSUE_CATALOGUE.low_confidence.clientMessage.es },
    ]);
  });

  it('documents requested: action_required, upload the requested documents; rejected files show why, in German', () => {
    const files = [
      doc('d1', { status: 'rejected', submissionId: 'S2', rejectionReasons: ['document_incomplete'] }),
      ...FILES.slice(1),
    ];
    const s = decided({ outcome: 'documents_requested', reasons: ['document_incomplete'], documentIds: ['d1'] });
    const v = clientKycView(input({ submissions: [s], documents: files, locale: 'de' }));
    expect(v.status).toBe('action_required');
    expect(v.next).toEqual({
      action: 'upload_requested_documents',
      message: NEXT_ACTION_MESSAGES.upload_requested_documents.de,
      categories: ['identity'],
    });
    expect(v.documents[0]!.reasons).toEqual([
      { code: 'document_incomplete', message: REVIEW_REASONS.document_incomplete.clientMessage.de },
    ]);
    expect(v.documents[0]!.reasons[0]!.message).toMatch(/Ecken/);
  });

  it('confidential reasons never appear: sanctions, forgery and duplicates collapse into one contact_support entry', () => {
    const files = [
      doc('d1', {
        status: 'rejected',
        submissionId: 'S2',
        rejectionReasons: ['sanctions_confirmed', 'suspected_forgery', 'duplicate_account', 'sanctions_hit:hard:escalated'],
      }),
      ...FILES.slice(1),
    ];
    const s = decided(
      {
        reasons: ['sanctions_confirmed', 'duplicate_account', 'document_unreadable'],
        canResubmit: false,
        note: 'OFAC SDN 12345',
      },
      {},
    );
    const v = clientKycView(input({ submissions: [s], documents: files }));
    expect(v.status).toBe('rejected');
    expect(v.submission!.reasons).toEqual([
      { code: 'contact_support', message: CONFIDENTIAL_REVIEW_MESSAGE.en },
      { code: 'document_unreadable', message: REVIEW_REASONS.document_unreadable.clientMessage.en },
    ]);
    expect(v.documents[0]!.reasons).toEqual([{ code: 'contact_support', message: CONFIDENTIAL_REVIEW_MESSAGE.en }]);
    const json = JSON.stringify(v);
    expect(json).not.toMatch(/sanction|forgery|duplicate|OFAC|SDN|12345|EU-FSF|PETROV|reviewer-sub-123/i);
  });

  it('a confidential issue on a file still open reads under_review; unknown codes read contact_support', () => {
    const files = [doc('d1', { rejectionReasons: ['sanctions_possible_match', 'internal_flag_7'] })];
    const v = clientKycView(input({ documents: files }));
    expect(v.documents[0]!.reasons).toEqual([
      { code: 'under_review', message: ISSUE_CATALOGUE.sanctions_possible_match.clientMessage.en },
      { code: 'contact_support', message: expect.any(String) },
    ]);
    expect(JSON.stringify(v)).not.toMatch(/sanction|internal_flag/);
  });
});

describe('history and the latest submission', () => {
  it('the latest submission decides regardless of input order; earlier ones are history, newest first', () => {
    const s1 = { ...decided({ reasons: ['document_unreadable'] }), submissionId: 'S1', submittedAt: '2025-06-01T09:00:00Z' };
    const s0 = {
      ...decided({ outcome: 'documents_requested', reasons: ['document_incomplete'], decidedAt: '2025-05-21T00:00:00Z' }),
      submissionId: 'S0',
      submittedAt: '2025-05-20T09:00:00Z',
    };
    const v = clientKycView(input({ submissions: [s1, inReview(), s0] }));
    expect(v.status).toBe('in_review');
    expect(v.submission!.submissionId).toBe('S2');
    expect(v.history).toEqual([
      { submissionId: 'S1', status: 'rejected', submittedAt: '2025-06-01T09:00:00Z', decidedAt: '2025-06-10T11:30:00Z' },
      {
        submissionId: 'S0',
        status: 'documents_requested',
        submittedAt: '2025-05-20T09:00:00Z',
        decidedAt: '2025-05-21T00:00:00Z',
      },
    ]);
  });
});

describe('messages', () => {
  it('every next action has en, de and es messages, and the view uses the client locale', () => {
    for (const m of Object.values(NEXT_ACTION_MESSAGES)) {
      for (const l of ['en', 'de', 'es'] as const) expect(m[l].length).toBeGreaterThan(10);
      expect(new Set([m.en, m.de, m.es]).size).toBe(3);
    }
    expect(clientKycView(input({ submissions: [inReview()], locale: 'de' })).next.message).toBe(NEXT_ACTION_MESSAGES.wait.de);
    expect(clientKycView(input({ submissions: [inReview()], locale: 'es' })).next.message).toBe(NEXT_ACTION_MESSAGES.wait.es);
  });
});
