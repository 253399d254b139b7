/**
 * The store's entities outside payments and the ledger (functions/store/*.ts, declared with defineEntity): for
 * each, the key and index attributes computed from the item's attributes, sparse indexes present and absent as
 * the item's state says (and gone after a replace), and a malformed stored item rejected with a StoredItemError
 * naming the entity and the attribute.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { KycSubmission } from '#domain/kyc/submission.ts';
import { adjustmentEntity, newAdjustment, updateAdjustment } from '#store/adjustments.ts';
import { auditHeadEntity, auditItemEntity, parseAuditItem } from '#store/audit-trail.ts';
import { clientEntity, newClientProfile } from '#store/clients.ts';
import { StoredItemError } from '#store/entity.ts';
import type { CommitWrite } from '#store/items.ts';
import { jobRunEntity, newJobRun } from '#store/job-runs.ts';
import { AUDIT_HEAD_SHARDS, auditKeys, OUTBOX_PENDING_SHARDS } from '#store/keys.ts';
import {
  claimDocumentNumber,
  kycDocumentEntity,
  kycDocumentNumberEntity,
  kycExpiryEntity,
  kycExpiryItem,
  kycExtractionEntity,
  kycExtractionItem,
  kycSubmissionEntity,
  newKycDocument,
  newKycSubmission,
  replaceKycSubmission,
} from '#store/kyc.ts';
import { emailEntity, notifiedEntity } from '#store/notifications.ts';
import { outboxEntity, outboxItem, PENDING_INDEX_ATTRIBUTES } from '#store/outbox.ts';
import { newQuestionnaireAttempt, questionnaireAttemptEntity } from '#store/questionnaires.ts';
import { reconciliationFindingEntity } from '#store/reconciliation-runs.ts';
import { securityEventEntity } from '#store/security-events.ts';
import { signInThrottleEntity } from '#store/sign-in-throttle.ts';
import { newStaff, staffEntity } from '#store/staff.ts';
import { uniqueEmailEntity } from '#store/unique-email.ts';

beforeAll(() => {
  process.env.TENANT ??= 'demo';
});

const T0 = '2025-03-01T10:00:00.000Z';
const T1 = '2025-03-02T11:00:00.000Z';
const INDEX_ATTRIBUTES = ['gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk', 'gsi3pk', 'gsi3sk'];

/** The key and index attributes an item carries (the rest is its own). */
const storage = (item: object) =>
  Object.fromEntries(Object.entries(item).filter(([k]) => k === 'pk' || k === 'sk' || INDEX_ATTRIBUTES.includes(k)));

const putItem = (w: CommitWrite): Record<string, unknown> => {
  if (!('Put' in w) || !w.Put.Item) throw new Error('expected a Put');
  return w.Put.Item;
};

const submissionFields = (over: Partial<KycSubmission> = {}): KycSubmission => ({
  submissionId: 'sub-1',
  clientId: 'c-1',
  status: 'processing',
  identity: { documentType: 'passport', documentIds: ['doc-1'] },
  submittedAt: T0,
  timeline: [{ step: 'submitted', at: T0 }],
  ...over,
});

const adjustmentFields = () =>
  ({
    adjustmentId: 'adj-1',
    walletId: 'wal-1',
    clientId: 'c-1',
    direction: 'credit',
    amount: { amount: '10.00', currency: 'EUR' },
    reason: 'goodwill',
    requestedBy: 'fin-1',
    requestedAt: T0,
    expiresAt: T1,
    status: 'pending_approval',
  }) as const;

/** One row per entity: an item built from its fields, and the keys and indexes it must carry. */
const cases: { name: string; item: () => object; storage: Record<string, string> }[] = [
  {
    name: 'client profile: gsi1 CLIENTS by creation time',
    item: () =>
      newClientProfile(
        {
          clientId: 'c-1',
          email: 'c1@example.test',
          firstName: 'A',
          lastName: 'B',
          dateOfBirth: '1990-01-01',
          countryOfResidence: 'DE',
          jurisdiction: 'EU',
          clientType: 'retail',
          locale: 'en',
          status: 'active',
          onboarding: { stage: 'registered' },
        },
        T0,
      ),
    storage: { pk: 'CLIENT#c-1', sk: 'PROFILE', gsi1pk: 'CLIENTS', gsi1sk: `${T0}#c-1` },
  },
  {
    name: 'staff user: gsi1 STAFF by creation time',
    item: () =>
      newStaff(
        { staffId: 's-1', email: 's@x.test', firstName: 'S', lastName: 'T', roles: ['admin'], status: 'active', createdBy: 'x' },
        T0,
      ),
    storage: { pk: 'STAFF#s-1', sk: 'PROFILE', gsi1pk: 'STAFF', gsi1sk: `${T0}#s-1` },
  },
  {
    name: 'questionnaire attempt: zero-padded attempt in the sort key, no index',
    item: () =>
      newQuestionnaireAttempt(
        {
          clientId: 'c-1',
          questionnaireId: 'q1',
          attempt: 2,
          answers: { a: 'x' },
          score: 1,
          maxScore: 2,
          result: 'appropriate',
          blockedProducts: [],
          warnings: [],
          submittedAt: T0,
        },
        T0,
      ),
    storage: { pk: 'QATTEMPTS#c-1', sk: 'ATTEMPT#q1#000000000002' },
  },
  {
    name: 'unique email: keyed by the normalised email',
    item: () => uniqueEmailEntity.item({ email: 'bob@example.com', kind: 'client', status: 'pending' }, T0),
    storage: { pk: 'UNIQUE#EMAIL#bob@example.com', sk: 'UNIQUE' },
  },
  {
    name: 'kyc document: gsi1 the client’s files by creation time',
    item: () =>
      newKycDocument(
        {
          documentId: 'doc-1',
          clientId: 'c-1',
          category: 'identity',
          documentType: 'passport',
          contentType: 'image/png',
          declaredSize: 10,
          status: 'awaiting_upload',
          uploadDeadline: T1,
        },
        T0,
      ),
    storage: { pk: 'KYCDOC#doc-1', sk: 'DOCUMENT', gsi1pk: 'KYCDOCS#c-1', gsi1sk: `${T0}#doc-1` },
  },
  {
    name: 'kyc submission, processing without a review: gsi1 the client’s list, gsi2 KYCPROCESSING',
    item: () => newKycSubmission(submissionFields(), T0),
    storage: {
      pk: 'KYCSUB#sub-1',
      sk: 'SUBMISSION',
      gsi1pk: 'KYCSUBS#c-1',
      gsi1sk: `${T0}#sub-1`,
      gsi2pk: 'KYCPROCESSING',
      gsi2sk: `${T0}#sub-1`,
    },
  },
  {
    name: 'kyc submission with a pending review: gsi2 the review queue by queuedAt',
    item: () =>
      newKycSubmission(
        submissionFields({ status: 'in_review', review: { status: 'pending', queuedAt: T1, priority: 'normal' } }),
        T0,
      ),
    storage: {
      pk: 'KYCSUB#sub-1',
      sk: 'SUBMISSION',
      gsi1pk: 'KYCSUBS#c-1',
      gsi1sk: `${T0}#sub-1`,
      gsi2pk: 'KYCREVIEWS#pending',
      gsi2sk: `${T1}#sub-1`,
    },
  },
  {
    name: 'kyc submission decided automatically: no gsi2 (sparse)',
    item: () => newKycSubmission(submissionFields({ status: 'approved' }), T0),
    storage: { pk: 'KYCSUB#sub-1', sk: 'SUBMISSION', gsi1pk: 'KYCSUBS#c-1', gsi1sk: `${T0}#sub-1` },
  },
  {
    name: 'kyc extraction: keyed by submission and unit',
    item: () =>
      kycExtractionItem(
        { submissionId: 'sub-1', unit: 'identity', documentIds: ['doc-1'], analysedAt: T0, failure: { error: 'x' } },
        T0,
      ),
    storage: { pk: 'KYCSUB#sub-1', sk: 'EXTRACTION#identity' },
  },
  {
    name: 'kyc document number claim: normalised number, one item per client',
    item: () => putItem(claimDocumentNumber('DE', 'l01-x00.t47', 'c-1', 'sub-1', T0)),
    storage: { pk: 'KYCDOCNUM#DE#L01X00T47', sk: 'CLIENT#c-1' },
  },
  {
    name: 'kyc expiry watch: gsi1 KYCEXPIRIES by expiry day',
    item: () => kycExpiryItem({ clientId: 'c-1', submissionId: 'sub-1', identityExpiresOn: '2030-01-01' }, T0),
    storage: { pk: 'KYCEXPIRY#c-1', sk: 'EXPIRY', gsi1pk: 'KYCEXPIRIES', gsi1sk: '2030-01-01#c-1' },
  },
  {
    name: 'adjustment: gsi1 by status, gsi2 every request, both by request time',
    item: () => newAdjustment(adjustmentFields(), T0),
    storage: {
      pk: 'ADJUSTMENT#adj-1',
      sk: 'ADJUSTMENT',
      gsi1pk: 'ADJUSTMENTS#pending_approval',
      gsi1sk: `${T0}#adj-1`,
      gsi2pk: 'ADJUSTMENTS',
      gsi2sk: `${T0}#adj-1`,
    },
  },
  {
    name: 'job run: one partition per job',
    item: () =>
      newJobRun({ job: 'ledger-reconciliation', runId: 'r1', status: 'requested', requestedBy: 'x', trigger: 'on_demand' }, T0),
    storage: { pk: 'JOB#ledger-reconciliation', sk: 'RUN#r1' },
  },
  {
    name: 'reconciliation finding: under its run, numbered',
    item: () =>
      reconciliationFindingEntity.item({ runId: 'r1', n: 3, code: 'seq_gap', subject: { type: 'ledger-account', id: 'a1' } }, T0),
    storage: { pk: 'RECON#r1', sk: 'FINDING#000000000003' },
  },
  {
    name: 'security event about a client: gsi1 the client’s trail, gsi2 by time, gsi3 by kind',
    item: () => securityEventEntity.item(securityEvent({ clientId: 'c-1' }), T0),
    storage: {
      pk: 'SECEVT#e1',
      sk: 'SECEVT',
      gsi1pk: 'CLIENTAUDIT#c-1',
      gsi1sk: `${T0}#security-event#e1`,
      gsi2pk: 'SECEVENTS',
      gsi2sk: '2025-03-01T10#sign_in_failed#e1',
      gsi3pk: 'SECEVENTS#sign_in_failed',
      gsi3sk: '2025-03-01T10#e1',
    },
  },
  {
    name: 'security event about no client: on no trail (no gsi1)',
    item: () => securityEventEntity.item(securityEvent(), T0),
    storage: {
      pk: 'SECEVT#e1',
      sk: 'SECEVT',
      gsi2pk: 'SECEVENTS',
      gsi2sk: '2025-03-01T10#sign_in_failed#e1',
      gsi3pk: 'SECEVENTS#sign_in_failed',
      gsi3sk: '2025-03-01T10#e1',
    },
  },
  {
    name: 'sent email: gsi1 the recipient’s messages (normalised address)',
    item: () =>
      emailEntity.item(
        {
          messageId: 'm1',
          to: 'Nina@Example.com',
          from: 'no-reply@x.test',
          subject: 's',
          text: 't',
          template: 'welcome',
          locale: 'en',
          provider: 'table',
          dedupeId: 'e1',
        },
        T0,
      ),
    storage: { pk: 'EMAIL#m1', sk: 'EMAIL', gsi1pk: 'EMAILTO#nina@example.com', gsi1sk: `${T0}#m1` },
  },
  {
    name: 'notification marker: keyed by the dedupe id',
    item: () => notifiedEntity.item({ dedupeId: 'e1', status: 'sending', claimedAt: 1, expiresAt: 2 }, T0),
    storage: { pk: 'NOTIFIED#e1', sk: 'NOTIFIED' },
  },
  {
    name: 'audit item about a client: gsi1 the client’s trail',
    item: () => auditItemEntity.item(auditRecord({ clientId: 'c-1' }), T0),
    storage: {
      pk: 'AUDIT#client#c-1',
      sk: 'SEQ#000000000001',
      gsi1pk: 'CLIENTAUDIT#c-1',
      gsi1sk: `${T0}#client#c-1#000000000001`,
    },
  },
  {
    name: 'audit item about no client: no gsi1',
    item: () => auditItemEntity.item(auditRecord(), T0),
    storage: { pk: 'AUDIT#client#c-1', sk: 'SEQ#000000000001' },
  },
  {
    name: 'audit chain head: gsi2 its shard',
    item: () => auditHeadEntity.item({ entityType: 'client', entityId: 'c-1', seq: 1, hash: 'h' }, T0),
    storage: { pk: 'AUDIT#client#c-1', sk: 'HEAD', ...auditKeys.headIndex('client', 'c-1') },
  },
];

function securityEvent(over: { clientId?: string } = {}) {
  return {
    eventId: 'e1',
    kind: 'sign_in_failed' as const,
    by: 'ip:203.0.113.7',
    target: 'account:x',
    bucket: '2025-03-01T10',
    count: 3,
    firstSeenAt: T0,
    lastSeenAt: T0,
    lastSource: 'ip:203.0.113.7',
    lastRequestId: 'r',
    expiresAt: 1,
    ...over,
  };
}

function auditRecord(over: { clientId?: string } = {}) {
  return {
    seq: 1,
    at: T0,
    actor: { id: 'u', role: 'client' },
    action: 'client.registered',
    entity: { type: 'client', id: 'c-1' },
    before: null,
    after: { a: 1 },
    requestId: 'r',
    hash: 'h1',
    prevHash: '0'.repeat(64),
    ...over,
  };
}

describe('store entities: keys and indexes computed from the attributes', () => {
  it.each(cases)('$name', ({ item, storage: expected }) => {
    const built = item();
    expect(storage(built)).toEqual(expected);
    expect(built).toMatchObject({ tenant: process.env.TENANT, createdAt: T0, updatedAt: T0, version: 1 });
  });
});

describe('store entities: sparse indexes follow the item’s state on every write', () => {
  it('a kyc submission leaves KYCPROCESSING for the review queue, then the decided list; an automatic decision leaves gsi2', () => {
    const read = newKycSubmission(submissionFields(), T0);
    const queued = putItem(
      replaceKycSubmission(
        read,
        { ...read, status: 'in_review', review: { status: 'pending', queuedAt: T1, priority: 'high' } },
        T1,
      ),
    );
    expect(storage(queued)).toMatchObject({ gsi2pk: 'KYCREVIEWS#pending', gsi2sk: `${T1}#sub-1` });
    const decided = kycSubmissionEntity.replaced(
      kycSubmissionEntity.parse(queued),
      {
        ...kycSubmissionEntity.parse(queued),
        status: 'approved',
        review: { status: 'decided', queuedAt: T1, priority: 'high', decidedAt: '2025-03-03T00:00:00.000Z' },
      },
      T1,
    );
    expect(storage(decided)).toMatchObject({ gsi2pk: 'KYCREVIEWS#decided', gsi2sk: '2025-03-03T00:00:00.000Z#sub-1' });
    const automatic = putItem(replaceKycSubmission(read, { ...read, status: 'approved' }, T1));
    expect(automatic).not.toHaveProperty('gsi2pk');
    expect(automatic).not.toHaveProperty('gsi2sk');
    expect(automatic).toMatchObject({ gsi1pk: 'KYCSUBS#c-1', version: 2 });
  });

  it('an adjustment moves to its new status partition; the version and status conditions hold', () => {
    const read = newAdjustment(adjustmentFields(), T0);
    const write = updateAdjustment(read, { status: 'posted', journalId: 'j1' }, T1);
    expect(storage(putItem(write))).toMatchObject({ gsi1pk: 'ADJUSTMENTS#posted', gsi2pk: 'ADJUSTMENTS' });
    expect(write).toMatchObject({
      Put: { ConditionExpression: '#v = :v AND #s = :s', ExpressionAttributeValues: { ':v': 1, ':s': 'pending_approval' } },
      conditionFailedError: { code: 'already_decided' },
    });
  });

  it('an outbox item is on the pending index until published; markPublished removes exactly those attributes', () => {
    const item = outboxItem(
      { detailType: 'kyc.expired', detail: { clientId: 'c-1', identityExpiresOn: '2025-01-01' } },
      new Date(T0),
      'ev1',
    );
    expect(item).toMatchObject({ pk: 'OUTBOX#ev1', sk: 'OUTBOX', type: 'outbox', eventVersion: 1, occurredAt: T0 });
    expect(item.gsi2pk).toMatch(/^OUTBOXPENDING#\d$/);
    expect(Number(item.gsi2pk!.split('#')[1])).toBeLessThan(OUTBOX_PENDING_SHARDS);
    expect(item.gsi2sk).toBe(`${T0}#ev1`);
    const published = outboxEntity.indexed({ ...item, publishedAt: T1, expiresAt: 99 });
    expect(published).not.toHaveProperty('gsi2pk');
    expect(published).not.toHaveProperty('gsi2sk');
    expect(PENDING_INDEX_ATTRIBUTES.sort()).toEqual(
      Object.keys(storage(item))
        .filter((k) => !Object.keys(storage(published)).includes(k))
        .sort(),
    );
  });

  it('the audit head shard is one of AUDIT_HEAD_SHARDS', () => {
    const head = auditHeadEntity.item({ entityType: 'client', entityId: 'c-1', seq: 1, hash: 'h' }, T0);
    expect(Number(head.gsi2pk!.split('#')[1])).toBeLessThan(AUDIT_HEAD_SHARDS);
  });
});

describe('store entities: a malformed stored item is a specific error', () => {
  const rejects: { name: string; entity: { type: string; parse(raw: unknown): unknown }; raw: () => object; path: string }[] = [
    {
      name: 'client profile with an unknown onboarding stage',
      entity: clientEntity,
      raw: () => ({ ...cases[0]!.item(), onboarding: { stage: 'somewhere' } }),
      path: 'onboarding.stage',
    },
    { name: 'staff user without roles', entity: staffEntity, raw: () => ({ ...cases[1]!.item(), roles: [] }), path: 'roles' },
    {
      name: 'questionnaire attempt with a numeric answer',
      entity: questionnaireAttemptEntity,
      raw: () => ({ ...cases[2]!.item(), answers: { a: 1 } }),
      path: 'answers.a',
    },
    {
      name: 'unique email of an unknown kind',
      entity: uniqueEmailEntity,
      raw: () => ({ ...cases[3]!.item(), kind: 'partner' }),
      path: 'kind',
    },
    {
      name: 'kyc document with a string size',
      entity: kycDocumentEntity,
      raw: () => ({ ...cases[4]!.item(), declaredSize: '10' }),
      path: 'declaredSize',
    },
    {
      name: 'kyc submission whose check names an unknown issue code',
      entity: kycSubmissionEntity,
      raw: () => ({
        ...cases[5]!.item(),
        checks: { outcome: 'reject', issues: [{ code: 'bogus', severity: 'hard', evidence: {}, suggestedAction: 'x' }] },
      }),
      path: 'checks.issues.0.code',
    },
    {
      name: 'kyc extraction of an unknown unit',
      entity: kycExtractionEntity,
      raw: () => ({ ...cases[8]!.item(), unit: 'selfie' }),
      path: 'unit',
    },
    {
      name: 'kyc document number claim without its client',
      entity: kycDocumentNumberEntity,
      raw: () => {
        const { clientId: _c, ...rest } = cases[9]!.item() as Record<string, unknown>;
        return rest;
      },
      path: 'clientId',
    },
    {
      name: 'kyc expiry watch without its expiry day',
      entity: kycExpiryEntity,
      raw: () => ({ ...cases[10]!.item(), identityExpiresOn: undefined }),
      path: 'identityExpiresOn',
    },
    {
      name: 'adjustment whose amount is a number',
      entity: adjustmentEntity,
      raw: () => ({ ...cases[11]!.item(), amount: { amount: 10, currency: 'EUR' } }),
      path: 'amount.amount',
    },
    {
      name: 'job run of an unknown status',
      entity: jobRunEntity,
      raw: () => ({ ...cases[12]!.item(), status: 'lost' }),
      path: 'status',
    },
    {
      name: 'reconciliation finding of an unknown code',
      entity: reconciliationFindingEntity,
      raw: () => ({ ...cases[13]!.item(), code: 'bogus' }),
      path: 'code',
    },
    {
      name: 'security event of an unknown kind',
      entity: securityEventEntity,
      raw: () => ({ ...cases[14]!.item(), kind: 'bogus' }),
      path: 'kind',
    },
    {
      name: 'sign-in throttle counter without failures',
      entity: signInThrottleEntity,
      raw: () => ({
        pk: 'SIGNINTHROTTLE#SOURCE#ip:1',
        sk: 'THROTTLE',
        type: 'sign-in-throttle',
        tenant: 'demo',
        createdAt: T0,
        updatedAt: T0,
        version: 1,
        subject: 'source',
        lastFailureAt: 1,
        expiresAt: 2,
      }),
      path: 'failures',
    },
    {
      name: 'sent email without a recipient',
      entity: emailEntity,
      raw: () => ({ ...cases[16]!.item(), to: undefined }),
      path: 'to',
    },
    {
      name: 'notification marker of an unknown status',
      entity: notifiedEntity,
      raw: () => ({ ...cases[17]!.item(), status: 'lost' }),
      path: 'status',
    },
    {
      name: 'outbox item whose detail is not an object',
      entity: outboxEntity,
      raw: () => ({
        ...outboxItem({ detailType: 'kyc.expired', detail: { clientId: 'c', identityExpiresOn: 'x' } }, new Date(T0)),
        detail: 'x',
      }),
      path: 'detail',
    },
    {
      name: 'audit item without its hash',
      entity: auditItemEntity,
      raw: () => ({ ...cases[18]!.item(), hash: undefined }),
      path: 'hash',
    },
    {
      name: 'audit head with a string seq',
      entity: auditHeadEntity,
      raw: () => ({ ...cases[20]!.item(), seq: '1' }),
      path: 'seq',
    },
  ];

  it.each(rejects)('$name', ({ entity, raw, path }) => {
    let err: unknown;
    try {
      entity.parse(raw());
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StoredItemError);
    const e = err as StoredItemError;
    expect(e.entityType).toBe(entity.type);
    expect(e.issues.map((i) => i.path)).toContain(path);
    expect(e.message).toContain(`stored ${entity.type} item`);
  });

  it('an audit item is validated and returned as read (same object: its archived line does not change)', () => {
    const raw = cases[18]!.item();
    expect(parseAuditItem(raw)).toBe(raw);
    expect(() => parseAuditItem({ ...raw, seq: 0 })).toThrow(StoredItemError);
  });

  it('older items parse: optional attributes they lack stay absent', () => {
    const { emailVerified: _e, kycStatus: _k, ...old } = cases[0]!.item() as Record<string, unknown>;
    expect(clientEntity.parse(old)).not.toHaveProperty('emailVerified');
    const {
      email: _m,
      status: _s,
      ...legacyClaim
    } = uniqueEmailEntity.item({ email: 'a@b.c', kind: 'client', ownerId: 'o' }, T0);
    expect(uniqueEmailEntity.parse(legacyClaim)).toMatchObject({ kind: 'client', ownerId: 'o' });
  });
});
