/**
 * The compliance review queue against DynamoDB Local (functions/api/kyc-admin.ts), with Step Functions
 * mocked: the queue lists pending reviews oldest first with their SLA; reading a review shows flags,
 * extracted-vs-registered data and short-lived document links, and is itself audited; a decision is
 * checked completely before anything is written, is applied once (two concurrent decisions: one wins,
 * the other gets 409 review_already_decided), and only then resumes the waiting execution with the
 * task token of the version it committed over - whose failure never undoes the decision (the callback
 * stays pending for the kyc-watchdog job). Roles: compliance decides; admin reads
 * only; clients and other staff are refused.
 */
import { randomUUID } from 'node:crypto';
import { SendTaskSuccessCommand, SFNClient, TaskTimedOut } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { KycIssue } from '#domain/kyc/model.ts';
import type { KycSubmission } from '#domain/kyc/submission.ts';
import { ddb } from '#shared/clients.ts';
import { auditItems, commit } from '#store/audit.ts';
import { getClientProfile, putClientProfile } from '#store/clients.ts';
import {
  getKycDocument,
  getKycExpiry,
  getKycSubmission,
  kycExtractionItem,
  newKycDocument,
  newKycSubmission,
  putKycDocument,
  putKycExtraction,
  putKycSubmission,
  replaceKycSubmission,
} from '#store/kyc.ts';
import { reviewQueueStats } from '#store/kyc-reviews.ts';
import { useHandlerEnv } from '../support/api-env.ts';
import { clientProfile, PERSONAL_DETAILS } from '../support/clients.ts';
import { apiEvent, bodyOf, claimsFor, lambdaContext } from '../support/events.ts';

type Handler = (
  e: ReturnType<typeof apiEvent>,
  c: ReturnType<typeof lambdaContext>,
) => Promise<{ statusCode: number; body: string; headers?: Record<string, unknown> }>;
let admin: Handler;

const sfnMock = mockClient(SFNClient);
const uid = () => randomUUID().slice(0, 8);
const HOUR = 3_600_000;
const compliance = claimsFor(`compliance-${uid()}`, ['compliance']);
const adminUser = claimsFor(`admin-${uid()}`, ['admin']);
const finance = claimsFor(`finance-${uid()}`, ['finance']);

const call = (input: Parameters<typeof apiEvent>[0]) => admin(apiEvent(input), lambdaContext());
const list = (claims: Record<string, string>, query?: Record<string, string>) =>
  call({ method: 'GET', resource: '/v1/admin/kyc/reviews', claims, ...(query ? { query } : {}) });
const detail = (claims: Record<string, string>, reviewId: string) =>
  call({ method: 'GET', resource: '/v1/admin/kyc/reviews/{reviewId}', pathParameters: { reviewId }, claims });
const decide = (claims: Record<string, string>, reviewId: string, body: Record<string, unknown>) =>
  call({
    method: 'POST',
    resource: '/v1/admin/kyc/reviews/{reviewId}/decision',
    pathParameters: { reviewId },
    claims,
    body,
  });

const trail = async (submissionId: string) => {
  const out = [];
  for await (const page of auditItems({ type: 'kyc-submission', id: submissionId })) out.push(...page);
  return out;
};
const actions = async (submissionId: string) => (await trail(submissionId)).map((a) => a.action);

const nameIssue: KycIssue = {
  code: 'name_mismatch',
  severity: 'review',
  field: 'name',
  evidence: { document: 'anna mueller', registered: 'anna schmidt', similarity: 0.5 },
  suggestedAction: 'verify_name_or_request_name_change_proof',
};
const sanctionsIssue: KycIssue = {
  code: 'sanctions_possible_match',
  severity: 'review',
  evidence: { list: 'test', score: 0.9 },
  suggestedAction: 'compliance_review',
};

interface Seeded {
  submissionId: string;
  clientId: string;
  taskToken: string;
  identityFront: string;
  identityBack: string;
  address: string;
}

/**
 * A client with profile and personal details, two identity sides and a proof of address, their
 * extractions, and a submission in review (pending review with a task token) - or still processing.
 */
async function seedReview(
  opts: {
    queuedAt?: Date;
    priority?: 'high' | 'normal';
    issues?: KycIssue[];
    processing?: boolean;
    lastName?: string;
    /** The identity extraction's expiry date; null = none was read. */
    identityExpiry?: string | null;
  } = {},
): Promise<Seeded> {
  const clientId = `client-${uid()}`;
  const submissionId = `sub_${uid()}${uid()}`;
  const taskToken = `token-${uid()}-${uid()}`;
  const queuedAt = (opts.queuedAt ?? new Date()).toISOString();
  const submittedAt = new Date(Date.parse(queuedAt) - 60_000).toISOString();
  const now = new Date().toISOString();
  const [identityFront, identityBack, address] = [`doc_${uid()}`, `doc_${uid()}`, `doc_${uid()}`];
  const profile = clientProfile(
    {
      clientId,
      firstName: 'Anna',
      lastName: opts.lastName ?? 'Schmidt',
      dateOfBirth: '1990-04-01',
      onboarding: { stage: 'kyc_submitted' },
      kycStatus: 'in_review',
      kyc: { currentSubmissionId: submissionId },
      personalDetails: { ...PERSONAL_DETAILS, address: { ...PERSONAL_DETAILS.address, line1: 'Hauptstraße 1' } },
    },
    now,
  );
  const doc = (
    documentId: string,
    fields: { category: 'identity' | 'proof_of_address'; documentType: string; side?: 'front' | 'back' },
  ) =>
    newKycDocument(
      {
        documentId,
        clientId,
        ...fields,
        contentType: 'image/jpeg',
        declaredSize: 1000,
        status: 'submitted',
        uploadedAt: submittedAt,
        size: 1000,
        submissionId,
        uploadDeadline: submittedAt,
      },
      now,
    );
  const fields: KycSubmission = {
    submissionId,
    clientId,
    status: opts.processing ? 'processing' : 'in_review',
    identity: { documentType: 'national_id', documentIds: [identityFront, identityBack] },
    addressProof: { documentType: 'utility_bill', documentId: address },
    submittedAt,
    timeline: opts.processing
      ? [{ step: 'submitted', at: submittedAt }]
      : [
          { step: 'submitted', at: submittedAt },
          { step: 'checks_completed', at: queuedAt, detail: { outcome: 'manual_review' } },
          { step: 'review_opened', at: queuedAt },
        ],
    ...(opts.processing
      ? {}
      : {
          checks: { issues: opts.issues ?? [nameIssue], outcome: 'manual_review' as const, priority: opts.priority ?? 'normal' },
          review: { status: 'pending' as const, queuedAt, priority: opts.priority ?? 'normal' },
        }),
  };
  const submission = { ...newKycSubmission(fields, now), ...(opts.processing ? {} : { taskToken }) };
  await commit({
    writes: [
      putClientProfile(profile),
      putKycDocument({
        ...doc(identityFront, { category: 'identity', documentType: 'national_id', side: 'front' }),
        versionId: 'v-front-1',
      }),
      putKycDocument(doc(identityBack, { category: 'identity', documentType: 'national_id', side: 'back' })),
      putKycDocument(doc(address, { category: 'proof_of_address', documentType: 'utility_bill' })),
      putKycSubmission(submission),
      putKycExtraction(
        kycExtractionItem(
          {
            submissionId,
            unit: 'identity',
            documentIds: [identityFront, identityBack],
            identity: {
              documentType: 'national_id',
              documentNumber: 'L01X00T47',
              givenNames: 'Anna',
              surname: 'Mueller',
              dateOfBirth: '1990-04-01',
              ...(opts.identityExpiry === null ? {} : { expiryDate: opts.identityExpiry ?? '2031-01-01' }),
              issuingCountry: 'D',
              nationality: 'DEU',
              fieldConfidence: { givenNames: 99, surname: 97, dateOfBirth: 98, documentNumber: 95 },
            },
            analysedAt: queuedAt,
          },
          now,
        ),
      ),
      putKycExtraction(
        kycExtractionItem(
          {
            submissionId,
            unit: 'address',
            documentIds: [address],
            addressProof: {
              issueDate: new Date().toISOString().slice(0, 10),
              addressLines: ['Hauptstr. 1', 'Berlin'],
              postalCode: '10115',
              country: 'DE',
              fieldConfidence: { postalCode: 99 },
            },
            analysedAt: queuedAt,
          },
          now,
        ),
      ),
    ],
    audit: {
      actor: { id: 'system:test', role: 'system' },
      action: 'test.seeded',
      entity: { type: 'kyc-submission', id: submissionId },
      clientId,
      before: null,
      after: null,
      requestId: 'seed',
    },
  });
  return { submissionId, clientId, taskToken, identityFront, identityBack, address };
}

let oldest: Seeded;
let middle: Seeded;
let newest: Seeded;

beforeAll(async () => {
  await useHandlerEnv('kyc-admin', { DOCUMENTS_BUCKET: 'documents-test' });
  admin = (await import('#functions/api/kyc-admin.ts')).handler as Handler;
  const now = Date.now();
  // Seeded out of order: the queue sorts by queuedAt.
  middle = await seedReview({ queuedAt: new Date(now - 5 * HOUR), priority: 'high', issues: [sanctionsIssue] });
  oldest = await seedReview({ queuedAt: new Date(now - 30 * HOUR) });
  newest = await seedReview({ queuedAt: new Date(now - 1 * HOUR) });
});
afterAll(() => sfnMock.restore());
beforeEach(() => {
  sfnMock.reset();
  sfnMock.on(SendTaskSuccessCommand).resolves({});
});

type QueueItem = {
  reviewId: string;
  clientName: string | null;
  country: string | null;
  priority: string;
  status: string;
  ageMinutes: number;
  slaHours: number;
  slaBreached: boolean;
  flags: string[];
  decidedAt?: string;
  decision?: { outcome: string };
};
type QueuePage = { items: QueueItem[]; hasMore: boolean; nextCursor?: string };

describe('the queue', () => {
  it('lists pending reviews oldest first, with client, priority, flags and the SLA (not re-sorted by priority)', async () => {
    const r = await list(compliance);
    expect(r.statusCode, r.body).toBe(200);
    const page = bodyOf<QueuePage>(r);
    const ours = page.items.filter((i) => [oldest, middle, newest].some((s) => s.submissionId === i.reviewId));
    expect(ours.map((i) => i.reviewId)).toEqual([oldest.submissionId, middle.submissionId, newest.submissionId]);
    const [o, m, n] = ours as [QueueItem, QueueItem, QueueItem];
    expect(o).toMatchObject({ clientName: 'Anna Schmidt', country: 'DE', priority: 'normal', status: 'pending' });
    expect(o.flags).toEqual(['name_mismatch']);
    expect(m).toMatchObject({ priority: 'high', flags: ['sanctions_possible_match'] });
    expect(o.slaHours).toBe(24);
    expect(o.slaBreached).toBe(true);
    expect(o.ageMinutes).toBeGreaterThanOrEqual(30 * 60 - 1);
    expect(m.slaBreached).toBe(false);
    expect(n.slaBreached).toBe(false);
    expect(n.ageMinutes).toBeGreaterThanOrEqual(59);
  });

  it('pages with an opaque cursor', async () => {
    const first = bodyOf<QueuePage>(await list(compliance, { limit: '2' }));
    expect(first.items).toHaveLength(2);
    expect(first.hasMore).toBe(true);
    const second = bodyOf<QueuePage>(await list(compliance, { limit: '2', cursor: first.nextCursor! }));
    const ids = [...first.items, ...second.items].map((i) => i.reviewId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.slice(0, 3)).toEqual([oldest.submissionId, middle.submissionId, newest.submissionId]);
    // a cursor of the pending list is not valid for the decided list
    const bad = await list(compliance, { status: 'decided', cursor: first.nextCursor! });
    expect(bad.statusCode).toBe(400);
    expect(bodyOf(bad).code).toBe('invalid_cursor');
  });

  it('400 invalid_status for an unknown status', async () => {
    const r = await list(compliance, { status: 'open' });
    expect(r.statusCode).toBe(400);
    expect(bodyOf(r).code).toBe('invalid_status');
  });

  it('queue statistics: pending count, position and recent decisions', async () => {
    const now = new Date();
    const stats = await reviewQueueStats(now, new Date(now.getTime() - 4 * HOUR).toISOString());
    expect(stats.pendingCount).toBeGreaterThanOrEqual(3);
    // queued strictly before 4 h ago: the 30 h and 5 h old reviews seeded above (others are newer)
    expect(stats.queuePosition).toBe(2);
    expect((await reviewQueueStats(now)).queuePosition).toBe(0);
  });
});

describe('reading a review', () => {
  it('shows flags with client messages, extracted vs registered data and 300 s document links, and audits the read', async () => {
    const before = await getKycSubmission(oldest.submissionId);
    const r = await detail(compliance, oldest.submissionId);
    expect(r.statusCode, r.body).toBe(200);
    const body = bodyOf<{
      reviewId: string;
      review: { status: string; slaBreached: boolean; priority: string };
      flags: {
        code: string;
        severity: string;
        evidence: Record<string, unknown>;
        suggestedAction: string;
        clientMessage: string;
      }[];
      comparison: { source: string; field: string; extracted: string | null; registered: string | null; match?: boolean }[];
      documents: { documentId: string; category: string; side?: string; url: string; contentType: string; size: number }[];
      timeline: { step: string }[];
      reasonCatalogue: Record<string, { code: string }[]>;
      decision?: unknown;
    }>(r);
    expect(body.reviewId).toBe(oldest.submissionId);
    expect(body.review).toMatchObject({ status: 'pending', slaBreached: true, priority: 'normal' });
    expect(body.flags).toEqual([
      expect.objectContaining({
        code: 'name_mismatch',
        severity: 'review',
        field: 'name',
        evidence: nameIssue.evidence,
        suggestedAction: 'verify_name_or_request_name_change_proof',
        clientMessage: expect.stringContaining('does not match your registration'),
      }),
    ]);
    const row = (source: string, field: string) => body.comparison.find((c) => c.source === source && c.field === field);
    expect(row('identity', 'name')).toMatchObject({ extracted: 'Anna Mueller', registered: 'Anna Schmidt', match: false });
    expect(row('identity', 'dateOfBirth')).toMatchObject({ extracted: '1990-04-01', registered: '1990-04-01', match: true });
    expect(row('identity', 'nationality')).toMatchObject({ extracted: 'DEU', registered: 'DE', match: true });
    expect(row('identity', 'documentNumber')?.match).toBeUndefined();
    expect(row('address_proof', 'postalCode')).toMatchObject({ extracted: '10115', registered: '10115', match: true });
    expect(row('address_proof', 'addressLines')?.match).toBe(true);
    expect(row('address_proof', 'country')).toMatchObject({ match: true });

    expect(body.documents.map((d) => d.documentId)).toEqual([oldest.identityFront, oldest.identityBack, oldest.address]);
    for (const d of body.documents) {
      const url = new URL(d.url);
      expect(url.searchParams.get('X-Amz-Expires')).toBe('300');
      expect(url.searchParams.get('response-content-disposition')).toBe('inline');
      expect(url.pathname).toContain(`kyc/${oldest.clientId}/${d.documentId}`);
    }
    expect(body.documents[0]).toMatchObject({ category: 'identity', side: 'front', contentType: 'image/jpeg', size: 1000 });
    // The link shows the object version checked at upload (when the bucket recorded one), not a later upload.
    expect(new URL(body.documents[0]!.url).searchParams.get('versionId')).toBe('v-front-1');
    expect(new URL(body.documents[1]!.url).searchParams.has('versionId')).toBe(false);
    expect(body.timeline.map((t) => t.step)).toEqual(['submitted', 'checks_completed', 'review_opened']);
    expect(body.decision).toBeUndefined();
    expect(body.reasonCatalogue.approve!.map((x) => x.code)).toContain('verified_manually');
    expect(body.reasonCatalogue.reject!.map((x) => x.code)).toContain('sanctions_confirmed');
    expect(body.reasonCatalogue.request_documents!.map((x) => x.code)).not.toContain('sanctions_confirmed');
    expect(r.body).not.toContain(oldest.taskToken);

    // the read is audited, and nothing else changed
    const items = await trail(oldest.submissionId);
    const viewed = items.filter((a) => a.action === 'kyc.review.viewed');
    expect(viewed).toHaveLength(1);
    expect(viewed[0]!.actor).toEqual({ id: compliance.sub, role: 'compliance' });
    expect(viewed[0]!.clientId).toBe(oldest.clientId);
    expect(viewed[0]!.evidence).toMatchObject({ documentIds: [oldest.identityFront, oldest.identityBack, oldest.address] });
    const after = await getKycSubmission(oldest.submissionId);
    expect(after!.version).toBe(before!.version);
    expect(JSON.stringify(viewed[0])).not.toContain(oldest.taskToken);
  });

  it('hides confidential client messages behind the generic one', async () => {
    const body = bodyOf<{ flags: { code: string; clientMessage: string; confidential: boolean }[] }>(
      await detail(compliance, middle.submissionId),
    );
    expect(body.flags[0]).toMatchObject({ code: 'sanctions_possible_match', confidential: true });
    expect(body.flags[0]!.clientMessage).toContain('under review');
  });

  it('404 review_not_found for an unknown id and for a submission without a review (no audit)', async () => {
    const processing = await seedReview({ processing: true });
    for (const id of ['sub_unknown', processing.submissionId]) {
      const r = await detail(compliance, id);
      expect(r.statusCode).toBe(404);
      expect(bodyOf(r).code).toBe('review_not_found');
    }
    expect(await actions(processing.submissionId)).toEqual(['test.seeded']);
  });
});

describe('roles', () => {
  it('clients and finance are refused everywhere; admin reads but cannot decide', async () => {
    const s = await seedReview();
    const client = claimsFor(s.clientId, ['client']);
    for (const who of [client, finance]) {
      expect((await list(who)).statusCode).toBe(403);
      expect((await detail(who, s.submissionId)).statusCode).toBe(403);
      const d = await decide(who, s.submissionId, { decision: 'approve', reasons: [] });
      expect(d.statusCode).toBe(403);
      expect(bodyOf(d).code).toBe('forbidden_role');
    }
    expect((await list(adminUser)).statusCode).toBe(200);
    expect((await detail(adminUser, s.submissionId)).statusCode).toBe(200);
    expect((await decide(adminUser, s.submissionId, { decision: 'approve', reasons: [] })).statusCode).toBe(403);
    expect((await getKycSubmission(s.submissionId))!.status).toBe('in_review');
    expect(sfnMock.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
    // the admin's read is audited with the admin role
    const viewed = (await trail(s.submissionId)).filter((a) => a.action === 'kyc.review.viewed');
    expect(viewed.map((a) => a.actor)).toEqual([{ id: adminUser.sub, role: 'admin' }]);
  });
});

describe('bad decisions change nothing', () => {
  let s: Seeded;
  beforeAll(async () => {
    s = await seedReview();
  });

  const cases: [string, () => Record<string, unknown>, number, string][] = [
    ['reasons_required', () => ({ decision: 'reject', reasons: [] }), 400, 'reasons_required'],
    ['unknown_reason', () => ({ decision: 'reject', reasons: ['bad_vibes'] }), 400, 'unknown_reason'],
    ['reason_not_allowed', () => ({ decision: 'approve', reasons: ['sanctions_confirmed'] }), 400, 'reason_not_allowed'],
    ['note_required', () => ({ decision: 'request_documents', reasons: ['other'] }), 400, 'note_required'],
    [
      'document_not_in_submission',
      () => ({ decision: 'request_documents', reasons: ['document_unreadable'], documentIds: [s.identityFront, 'doc_other'] }),
      400,
      'document_not_in_submission',
    ],
    [
      'document_ids_not_allowed',
      () => ({ decision: 'approve', reasons: ['verified_manually'], documentIds: [s.identityFront] }),
      400,
      'document_ids_not_allowed',
    ],
    [
      'too many reasons',
      () => ({ decision: 'reject', reasons: Array.from({ length: 11 }, () => 'name_mismatch') }),
      400,
      'validation_failed',
    ],
    ['unknown field', () => ({ decision: 'approve', reasons: [], comment: 'x' }), 400, 'validation_failed'],
    ['note too long', () => ({ decision: 'approve', reasons: [], note: 'x'.repeat(2001) }), 400, 'validation_failed'],
  ];
  for (const [name, body, status, code] of cases) {
    it(name, async () => {
      const before = await getKycSubmission(s.submissionId);
      const profileBefore = await getClientProfile(s.clientId);
      const r = await decide(compliance, s.submissionId, body());
      expect(r.statusCode, r.body).toBe(status);
      expect(bodyOf(r).code).toBe(code);
      const after = await getKycSubmission(s.submissionId);
      expect(after).toEqual(before);
      expect((await getClientProfile(s.clientId))!.version).toBe(profileBefore!.version);
      expect((await getKycDocument(s.identityFront))!.status).toBe('submitted');
      expect(await actions(s.submissionId)).toEqual(['test.seeded']);
      expect(sfnMock.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
    });
  }

  it('404 review_not_found for an unknown review', async () => {
    const r = await decide(compliance, 'sub_missing', { decision: 'approve', reasons: [] });
    expect(r.statusCode).toBe(404);
    expect(bodyOf(r).code).toBe('review_not_found');
  });

  it('409 review_not_pending while the submission is still processing', async () => {
    const p = await seedReview({ processing: true });
    const r = await decide(compliance, p.submissionId, { decision: 'approve', reasons: [] });
    expect(r.statusCode).toBe(409);
    expect(bodyOf(r).code).toBe('review_not_pending');
    expect((await getKycSubmission(p.submissionId))!.status).toBe('processing');
    expect(await actions(p.submissionId)).toEqual(['test.seeded']);
  });
});

describe('deciding', () => {
  it('applies the decision, then resumes the execution with the stored token; decided reviews move to the decided list', async () => {
    const r = await decide(compliance, newest.submissionId, {
      decision: 'approve',
      reasons: ['verified_manually'],
      note: 'Marriage certificate seen',
    });
    expect(r.statusCode, r.body).toBe(200);
    const body = bodyOf<{ reviewId: string; status: string; decision: Record<string, unknown> }>(r);
    expect(body).toMatchObject({
      reviewId: newest.submissionId,
      status: 'approved',
      decision: {
        outcome: 'approved',
        decidedBy: compliance.sub,
        reasons: ['verified_manually'],
        note: 'Marriage certificate seen',
        documentIds: [],
        canResubmit: true,
      },
    });
    const calls = sfnMock.commandCalls(SendTaskSuccessCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input.taskToken).toBe(newest.taskToken);
    expect(JSON.parse(calls[0]!.args[0].input.output!)).toEqual({ submissionId: newest.submissionId, decision: 'approved' });

    const stored = await getKycSubmission(newest.submissionId);
    expect(stored).toMatchObject({ status: 'approved', review: { status: 'decided' } });
    // The callback went through: the token and the pending flag are cleared.
    expect(stored!.taskToken).toBeUndefined();
    expect(stored!.callbackPending).toBeUndefined();
    expect((await getClientProfile(newest.clientId))!.kycStatus).toBe('approved');
    const decided = (await trail(newest.submissionId)).filter((a) => a.action === 'kyc.submission.decided');
    expect(decided).toHaveLength(1);
    expect(decided[0]!.actor).toEqual({ id: compliance.sub, role: 'compliance' });

    const pending = bodyOf<QueuePage>(await list(compliance, { limit: '100' }));
    expect(pending.items.map((i) => i.reviewId)).not.toContain(newest.submissionId);
    const done = bodyOf<QueuePage>(await list(compliance, { status: 'decided' }));
    expect(done.items[0]).toMatchObject({ reviewId: newest.submissionId, status: 'decided', decision: { outcome: 'approved' } });
    expect(done.items[0]!.decidedAt).toBe(stored!.review!.decidedAt);

    // the detail of a decided review carries the decision
    const d = bodyOf<{ decision?: { outcome: string } }>(await detail(compliance, newest.submissionId));
    expect(d.decision?.outcome).toBe('approved');

    // and it cannot be decided again
    const again = await decide(compliance, newest.submissionId, { decision: 'reject', reasons: ['name_mismatch'] });
    expect(again.statusCode).toBe(409);
    expect(bodyOf(again).code).toBe('review_already_decided');
    expect(sfnMock.commandCalls(SendTaskSuccessCommand)).toHaveLength(1);

    const stats = await reviewQueueStats(new Date());
    expect(stats.decisionsLast24h).toBeGreaterThanOrEqual(1);
    expect(stats.recentDurationsMinutes[0]).toBeGreaterThanOrEqual(59);
  });

  it('request_documents names the files to upload again', async () => {
    const s = await seedReview();
    const r = await decide(compliance, s.submissionId, {
      decision: 'request_documents',
      reasons: ['address_proof_too_old'],
      documentIds: [s.address],
    });
    expect(r.statusCode, r.body).toBe(200);
    expect(bodyOf<{ status: string; decision: { documentIds: string[] } }>(r)).toMatchObject({
      status: 'documents_requested',
      decision: { documentIds: [s.address] },
    });
    expect((await getKycDocument(s.address))!.status).toBe('rejected');
    expect((await getKycDocument(s.identityFront))!.status).toBe('accepted');
    expect((await getClientProfile(s.clientId))!.kycStatus).toBe('action_required');
  });

  it('a submission cannot be decided twice: two concurrent decisions - one 200, one 409 review_already_decided', async () => {
    const s = await seedReview();
    const results = await Promise.all([
      decide(compliance, s.submissionId, { decision: 'approve', reasons: [] }),
      decide(claimsFor(`compliance-${uid()}`, ['compliance']), s.submissionId, {
        decision: 'reject',
        reasons: ['name_mismatch'],
      }),
    ]);
    const codes = results.map((r) => r.statusCode).sort();
    expect(codes, results.map((r) => r.body).join('\n')).toEqual([200, 409]);
    const loser = results.find((r) => r.statusCode === 409)!;
    expect(bodyOf(loser).code).toBe('review_already_decided');
    const decided = (await trail(s.submissionId)).filter((a) => a.action === 'kyc.submission.decided');
    expect(decided).toHaveLength(1);
    const calls = sfnMock.commandCalls(SendTaskSuccessCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input.taskToken).toBe(s.taskToken);
    const winner = bodyOf<{ status: string }>(results.find((r) => r.statusCode === 200)!);
    expect((await getKycSubmission(s.submissionId))!.status).toBe(winner.status);
  });

  it('an approval without an extracted expiry date needs the officer to give it (400 expiry_date_required), then watches it', async () => {
    const s = await seedReview({ identityExpiry: null });
    const before = await getKycSubmission(s.submissionId);
    for (const [body, status, code] of [
      [{ decision: 'approve', reasons: ['verified_manually'] }, 400, 'expiry_date_required'],
      [{ decision: 'approve', reasons: [], identityExpiresOn: '31.05.2032' }, 400, 'validation_failed'],
      [{ decision: 'approve', reasons: [], identityExpiresOn: '2032-02-30' }, 400, 'validation_failed'],
      [{ decision: 'approve', reasons: [], identityExpiresOn: '2020-01-01' }, 400, 'identity_document_expired'],
      [{ decision: 'reject', reasons: ['name_mismatch'], identityExpiresOn: '2032-05-31' }, 400, 'expiry_date_not_allowed'],
    ] as const) {
      const r = await decide(compliance, s.submissionId, body);
      expect(r.statusCode, r.body).toBe(status);
      expect(bodyOf(r).code, JSON.stringify(body)).toBe(code);
    }
    expect(await getKycSubmission(s.submissionId)).toEqual(before);
    expect(await actions(s.submissionId)).toEqual(['test.seeded']);

    const r = await decide(compliance, s.submissionId, {
      decision: 'approve',
      reasons: ['verified_manually'],
      identityExpiresOn: '2032-05-31',
    });
    expect(r.statusCode, r.body).toBe(200);
    expect((await getClientProfile(s.clientId))!.kyc).toMatchObject({
      approvedSubmissionId: s.submissionId,
      identityExpiresOn: '2032-05-31',
    });
    expect(await getKycExpiry(s.clientId)).toMatchObject({ submissionId: s.submissionId, identityExpiresOn: '2032-05-31' });
    const decided = (await trail(s.submissionId)).find((a) => a.action === 'kyc.submission.decided')!;
    expect(decided.evidence).toMatchObject({ identityExpiresOn: { value: '2032-05-31', source: 'reviewer' } });
  });

  it('an extracted expiry date needs nothing more; an officer may correct it', async () => {
    const s = await seedReview();
    expect((await decide(compliance, s.submissionId, { decision: 'approve', reasons: [] })).statusCode).toBe(200);
    expect((await getClientProfile(s.clientId))!.kyc?.identityExpiresOn).toBe('2031-01-01');
    const t = await seedReview();
    const r = await decide(compliance, t.submissionId, { decision: 'approve', reasons: [], identityExpiresOn: '2031-02-01' });
    expect(r.statusCode, r.body).toBe(200);
    expect((await getClientProfile(t.clientId))!.kyc?.identityExpiresOn).toBe('2031-02-01');
  });

  it('a timed-out task token leaves the decision stored and still answers 200 (no retry)', async () => {
    sfnMock.on(SendTaskSuccessCommand).rejects(new TaskTimedOut({ message: 'Task Timed Out', $metadata: {} }));
    const s = await seedReview();
    const r = await decide(compliance, s.submissionId, { decision: 'reject', reasons: ['suspected_forgery'] });
    expect(r.statusCode, r.body).toBe(200);
    expect(bodyOf<{ status: string; decision: { canResubmit: boolean } }>(r)).toMatchObject({
      status: 'rejected',
      decision: { canResubmit: false },
    });
    expect(sfnMock.commandCalls(SendTaskSuccessCommand)).toHaveLength(1);
    // Nothing waits on the token any more: nothing is owed, the token is cleared.
    expect(await getKycSubmission(s.submissionId)).toMatchObject({ status: 'rejected' });
    expect((await getKycSubmission(s.submissionId))!.callbackPending).toBeUndefined();
    expect((await getKycSubmission(s.submissionId))!.taskToken).toBeUndefined();
    expect((await getClientProfile(s.clientId))!.kycStatus).toBe('rejected');
  });

  it('resumes with the token of the version the decision committed over, even when it was swapped after the route read it', async () => {
    const s = await seedReview();
    // AwaitReview was retried (kyc-open-review swaps in a new token) just as the officer decides: the
    // route has read the submission with the old token, and its first commit attempt loses the race.
    let armed = true;
    const name = `swap-token-${uid()}`;
    ddb().middlewareStack.add(
      (next, context) => async (args) => {
        if (armed && String(context.commandName).startsWith('TransactWrite')) {
          armed = false;
          const read = (await getKycSubmission(s.submissionId))!;
          await commit({
            writes: [replaceKycSubmission(read, { ...read, taskToken: 'token-new' }, new Date().toISOString())],
            audit: {
              actor: { id: 'system:kyc-open-review', role: 'system' },
              action: 'kyc.review.token_replaced',
              entity: { type: 'kyc-submission', id: s.submissionId },
              clientId: s.clientId,
              before: null,
              after: null,
              requestId: s.submissionId,
            },
          });
        }
        return next(args);
      },
      { step: 'initialize', name },
    );
    try {
      const r = await decide(compliance, s.submissionId, { decision: 'approve', reasons: [] });
      expect(r.statusCode, r.body).toBe(200);
    } finally {
      ddb().middlewareStack.remove(name);
    }
    expect(armed).toBe(false);
    const calls = sfnMock.commandCalls(SendTaskSuccessCommand);
    expect(calls.map((c) => c.args[0].input.taskToken)).toEqual(['token-new']);
    const stored = (await getKycSubmission(s.submissionId))!;
    expect(stored.status).toBe('approved');
    expect(stored.taskToken).toBeUndefined();
  });

  it('a transient callback failure is retried', async () => {
    const throttled = Object.assign(new Error('slow down'), { name: 'ThrottlingException' });
    sfnMock.on(SendTaskSuccessCommand).rejectsOnce(throttled).resolves({});
    const s = await seedReview();
    const r = await decide(compliance, s.submissionId, { decision: 'approve', reasons: [] });
    expect(r.statusCode, r.body).toBe(200);
    const calls = sfnMock.commandCalls(SendTaskSuccessCommand);
    expect(calls).toHaveLength(2);
    expect(calls.every((c) => c.args[0].input.taskToken === s.taskToken)).toBe(true);
  });
});
