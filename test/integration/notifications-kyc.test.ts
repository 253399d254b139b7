/**
 * The notifications worker's KYC emails against DynamoDB Local (STAGE local: the table email adapter):
 * one email per event type in the client's locale (the tenant default when the profile's locale is not
 * supported), exactly one email per eventId however often it is delivered, the documents to upload
 * again from the reasons and the client's named files, no reason code (least of all a confidential
 * one) in any email, and a failed record for an unknown client or a detail missing a needed field.
 */
import { randomUUID } from 'node:crypto';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSRecord } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { setEmailSender } from '#adapters/email/index.ts';
import { CONFIDENTIAL_REVIEW_MESSAGE, REVIEW_REASONS } from '#domain/kyc/review-reasons.ts';
import type { DocumentCategory } from '#domain/kyc/submission.ts';
import { ddb } from '#shared/clients.ts';
import { commit } from '#store/audit.ts';
import { emailKeys } from '#store/keys.ts';
import { newKycDocument, putKycDocument } from '#store/kyc.ts';
import { useHandlerEnv } from '../support/api-env.ts';
import { seedClient } from '../support/clients.ts';
import { lambdaContext } from '../support/events.ts';

type Handler = typeof import('#functions/workers/notifications.ts')['handler'];
let handler: Handler;
let table: string;

beforeAll(async () => {
  table = await useHandlerEnv('notifications-kyc', { STAGE: 'local' });
  setEmailSender(undefined);
  ({ handler } = await import('#functions/workers/notifications.ts'));
});

const uid = () => randomUUID().slice(0, 8);
const actor = { id: 'system:test', role: 'system' };

async function client(locale: string, firstName = 'Nina') {
  const { clientId, profile } = await seedClient({
    firstName,
    lastName: 'Secretlastname',
    dateOfBirth: '1990-01-01',
    locale,
    emailVerified: undefined,
    personalDetails: undefined,
  });
  return { clientId, email: profile.email };
}

async function document(clientId: string, category: DocumentCategory) {
  const documentId = `doc-${uid()}`;
  const now = new Date().toISOString();
  const documentType = category === 'identity' ? 'passport' : category === 'selfie' ? 'selfie' : 'utility_bill';
  await commit({
    writes: [
      putKycDocument(
        newKycDocument(
          {
            documentId,
            clientId,
            category,
            documentType,
            contentType: 'image/jpeg',
            declaredSize: 1000,
            status: 'rejected',
            uploadedAt: now,
            size: 1000,
            uploadDeadline: now,
          },
          now,
        ),
      ),
    ],
    audit: {
      actor,
      action: 'test.seeded',
      entity: { type: 'client', id: clientId },
      clientId,
      before: null,
      after: null,
      requestId: 'r',
    },
  });
  return documentId;
}

let seq = 0;
const record = (type: string, detail: Record<string, unknown>): SQSRecord => {
  const id = `env-${++seq}-${uid()}`;
  return { messageId: id, body: JSON.stringify({ id, source: 'backoffice', 'detail-type': type, detail }) } as SQSRecord;
};
const deliver = (...records: SQSRecord[]) => handler({ Records: records }, lambdaContext('notifications'));

async function mails(to: string) {
  const res = await ddb().send(
    new QueryCommand({
      TableName: table,
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :p',
      ExpressionAttributeValues: { ':p': emailKeys.recipientPartition(to) },
    }),
  );
  return (res.Items ?? []) as {
    template: string;
    locale: string;
    subject: string;
    text: string;
    html: string;
    dedupeId: string;
  }[];
}

describe('notifications: KYC emails', () => {
  it('sends one email per KYC event type, in the client locale, with the brand and support address', async () => {
    const nina = await client('de');
    const sub = `sub-${uid()}`;
    const events = [
      record('kyc.approved', {
        clientId: nina.clientId,
        submissionId: sub,
        approvedAt: new Date().toISOString(),
        jurisdiction: 'EU',
        identityExpiresOn: '2031-05-01',
        eventId: `evt-${uid()}`,
      }),
      record('kyc.rejected', {
        clientId: nina.clientId,
        submissionId: sub,
        canResubmit: true,
        reasons: ['selfie_mismatch'],
        eventId: `evt-${uid()}`,
      }),
      record('kyc.rejected', {
        clientId: nina.clientId,
        submissionId: sub,
        canResubmit: false,
        reasons: ['sanctions_confirmed'],
        eventId: `evt-${uid()}`,
      }),
      record('kyc.documents_requested', {
        clientId: nina.clientId,
        submissionId: sub,
        reasons: ['document_unreadable'],
        documentIds: [],
        eventId: `evt-${uid()}`,
      }),
      record('kyc.document_expiring', {
        clientId: nina.clientId,
        identityExpiresOn: '2027-03-31',
        daysLeft: 30,
        eventId: `evt-${uid()}`,
      }),
      record('kyc.expired', { clientId: nina.clientId, identityExpiresOn: '2026-02-01', eventId: `evt-${uid()}` }),
    ];
    const res = await deliver(...events);
    expect(res.batchItemFailures).toEqual([]);
    const sent = await mails(nina.email);
    const bySubject = Object.fromEntries(sent.map((m) => [m.template, m]));
    expect(sent).toHaveLength(6);
    expect(sent.every((m) => m.locale === 'de')).toBe(true);
    expect(bySubject.kyc_approved!.subject).toBe('Ihr Demo Markets-Konto ist verifiziert');
    expect(bySubject.kyc_rejected_resubmit!.subject).toBe('Demo Markets: Bitte laden Sie neue Dokumente hoch');
    expect(bySubject.kyc_rejected_resubmit!.text).toContain(REVIEW_REASONS.selfie_mismatch.clientMessage.de);
    expect(bySubject.kyc_rejected_resubmit!.text).toContain('- Selfie');
    expect(bySubject.kyc_rejected_final!.subject).toBe('Ihr Antrag bei Demo Markets');
    expect(bySubject.kyc_rejected_final!.text).not.toContain(CONFIDENTIAL_REVIEW_MESSAGE.de);
    expect(bySubject.kyc_documents_requested!.subject).toBe('Demo Markets: Wir benötigen weitere Dokumente');
    expect(bySubject.kyc_document_expiring!.subject).toBe('Ihr Ausweisdokument läuft am 31. März 2027 ab');
    expect(bySubject.kyc_document_expiring!.text).toContain('(noch 30 Tage)');
    expect(bySubject.kyc_expired!.subject).toBe('Demo Markets: Ihre Verifizierung muss erneuert werden');
    for (const m of sent) {
      expect(m.text).toContain('Hallo Nina,');
      expect(m.text).toContain('support@demo.test');
      expect(m.html).toContain('<p>Hallo Nina,</p>');
      // no PII beyond the first name, no ids
      expect(`${m.subject}${m.text}${m.html}`).not.toMatch(/Secretlastname|1990-01-01|client-|sub-|sanctions/);
    }
  });

  it('sends exactly one email for a duplicated event (same eventId), in one batch or redelivered later', async () => {
    const anna = await client('es', 'Ana');
    const detail = { clientId: anna.clientId, identityExpiresOn: '2026-01-15', eventId: `evt-${uid()}` };
    const first = await deliver(record('kyc.expired', detail), record('kyc.expired', detail));
    // A concurrent twin either sees the marker ('duplicate') or loses the transaction and is retried.
    const retried = await deliver(
      ...first.batchItemFailures.map(() => record('kyc.expired', detail)),
      record('kyc.expired', detail),
    );
    expect(retried.batchItemFailures).toEqual([]);
    const sent = await mails(anna.email);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      template: 'kyc_expired',
      locale: 'es',
      dedupeId: detail.eventId,
      subject: 'Demo Markets: debe renovar su verificación',
    });
    expect(sent[0]!.text).toContain('Su documento de identidad caducó el 15 de enero de 2026');
  });

  it('documents requested: names the categories of the reasons and of the client own named files', async () => {
    const c = await client('en');
    const other = await client('en');
    const address = await document(c.clientId, 'proof_of_address');
    const selfie = await document(c.clientId, 'selfie');
    const foreign = await document(other.clientId, 'identity');
    const res = await deliver(
      record('kyc.documents_requested', {
        clientId: c.clientId,
        submissionId: `sub-${uid()}`,
        reasons: ['other', 'suspected_forgery', 'document_unreadable'],
        documentIds: [selfie, address, foreign, 'doc-missing'],
        eventId: `evt-${uid()}`,
      }),
    );
    expect(res.batchItemFailures).toEqual([]);
    const [m] = await mails(c.email);
    expect(m!.template).toBe('kyc_documents_requested');
    expect(m!.text).toContain('Documents to upload again:\n\n- Proof of address\n- Selfie');
    expect(m!.text).not.toContain('Identity document');
    expect(m!.text).toContain(REVIEW_REASONS.document_unreadable.clientMessage.en);
    expect(m!.text).toContain(REVIEW_REASONS.other.clientMessage.en);
    expect(m!.text).toContain(CONFIDENTIAL_REVIEW_MESSAGE.en);
    expect(`${m!.subject}${m!.text}${m!.html}`).not.toMatch(/suspected_forgery|forg|doc-/i);
  });

  it('a confidential reason code never reaches an email, whatever the event', async () => {
    const c = await client('en');
    const confidential = ['sanctions_confirmed', 'sanctions_hit', 'suspected_forgery', 'duplicate_account', 'duplicate_document'];
    const sub = `sub-${uid()}`;
    const res = await deliver(
      record('kyc.rejected', {
        clientId: c.clientId,
        submissionId: sub,
        canResubmit: true,
        reasons: confidential,
        eventId: `e-${uid()}`,
      }),
      record('kyc.rejected', {
        clientId: c.clientId,
        submissionId: sub,
        canResubmit: false,
        reasons: confidential,
        eventId: `e-${uid()}`,
      }),
      record('kyc.documents_requested', {
        clientId: c.clientId,
        submissionId: sub,
        reasons: [...confidential, 'sanctions_hit:hard:escalated', 'sanctions_possible_match:review'],
        documentIds: [],
        eventId: `e-${uid()}`,
      }),
    );
    expect(res.batchItemFailures).toEqual([]);
    const sent = await mails(c.email);
    expect(sent).toHaveLength(3);
    for (const m of sent) {
      const all = `${m.subject}\n${m.text}\n${m.html}`;
      for (const code of confidential) expect(all).not.toContain(code);
      expect(all).not.toMatch(/sanction|forg|duplicate|fraud|possible_match/i);
    }
  });

  it('falls back to the tenant default locale (en) when the client locale is not supported', async () => {
    const c = await client('fr-FR', 'Jean');
    await deliver(
      record('kyc.approved', {
        clientId: c.clientId,
        submissionId: `sub-${uid()}`,
        approvedAt: new Date().toISOString(),
        jurisdiction: 'EU',
        identityExpiresOn: null,
        eventId: `evt-${uid()}`,
      }),
    );
    const [m] = await mails(c.email);
    expect(m).toMatchObject({ template: 'kyc_approved', locale: 'en', subject: 'Your Demo Markets account is verified' });
    expect(m!.text).toContain('Hello Jean,');
    expect(m!.text).toContain('You can now fund your account.');
  });

  it('fails the record of an event for an unknown client, or whose detail lacks a needed field, and sends nothing', async () => {
    const c = await client('en');
    const unknown = record('kyc.approved', { clientId: 'client-nobody', submissionId: 's', eventId: `evt-${uid()}` });
    const noClient = record('kyc.expired', { identityExpiresOn: '2026-01-01', eventId: `evt-${uid()}` });
    const noFlag = record('kyc.rejected', { clientId: c.clientId, submissionId: 's', reasons: [], eventId: `evt-${uid()}` });
    const noDays = record('kyc.document_expiring', {
      clientId: c.clientId,
      identityExpiresOn: '2027-01-01',
      eventId: `e-${uid()}`,
    });
    const ok = record('kyc.expired', { clientId: c.clientId, identityExpiresOn: '2026-01-01', eventId: `evt-${uid()}` });
    const res = await deliver(unknown, noClient, noFlag, noDays, ok);
    expect(res.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(
      [unknown.messageId, noClient.messageId, noFlag.messageId, noDays.messageId].sort(),
    );
    const sent = await mails(c.email);
    expect(sent.map((m) => m.template)).toEqual(['kyc_expired']);
  });
});
