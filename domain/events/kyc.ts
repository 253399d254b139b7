/**
 * Events of the KYC context: a submission to review, its outcome, and the expiry of an approved identity
 * document.
 *
 * Invariants:
 * - every definition follows domain/events/define.ts (versioning, money as strings, tolerant parsing)
 * - reason codes are the review-reason or issue codes of domain/kyc as recorded (some are confidential: a
 *   consumer that shows them to a client goes through domain/kyc's client-safe messages)
 */
import * as z from 'zod';
import { calendarDate, defineEvent, id, instant } from './define.ts';

const reviewed = { clientId: id, submissionId: id };

export const KYC_EVENTS = [
  defineEvent({
    detailType: 'kyc.submission.created',
    version: 1,
    context: 'kyc',
    external: false,
    description: 'A client submitted documents for verification; starts the kyc-review workflow.',
    schema: z.object({ submissionId: id, clientId: id }),
    example: { submissionId: 'sub_01J8Z3', clientId: 'client-01J8Z3' },
  }),
  defineEvent({
    detailType: 'kyc.approved',
    version: 1,
    context: 'kyc',
    external: true,
    description: "A submission was approved: the client is verified (until the identity document's expiry).",
    schema: z.object({
      ...reviewed,
      approvedAt: instant,
      jurisdiction: z.string().min(1),
      /** The expiry date the approval watches (the officer's or the extraction's); null when none is known. */
      identityExpiresOn: calendarDate.nullable(),
    }),
    example: {
      clientId: 'client-01J8Z3',
      submissionId: 'sub_01J8Z3',
      approvedAt: '2025-03-01T10:00:00.000Z',
      jurisdiction: 'EU',
      identityExpiresOn: '2031-05-01',
    },
  }),
  defineEvent({
    detailType: 'kyc.rejected',
    version: 1,
    context: 'kyc',
    external: true,
    description: 'A submission was rejected; canResubmit says whether the client may try again.',
    schema: z.object({ ...reviewed, canResubmit: z.boolean(), reasons: z.array(z.string()) }),
    example: { clientId: 'client-01J8Z3', submissionId: 'sub_01J8Z3', canResubmit: true, reasons: ['selfie_mismatch'] },
  }),
  defineEvent({
    detailType: 'kyc.documents_requested',
    version: 1,
    context: 'kyc',
    external: true,
    description: 'A reviewer asked for documents again (the reasons, and the named files; empty = the whole submission).',
    schema: z.object({ ...reviewed, reasons: z.array(z.string()), documentIds: z.array(id) }),
    example: {
      clientId: 'client-01J8Z3',
      submissionId: 'sub_01J8Z3',
      reasons: ['document_unreadable'],
      documentIds: ['doc_01J8Z3'],
    },
  }),
  defineEvent({
    detailType: 'kyc.document_expiring',
    version: 1,
    context: 'kyc',
    external: true,
    description: "The approved identity document expires soon (the tenant's expiringSoonDays window).",
    schema: z.object({ clientId: id, identityExpiresOn: calendarDate, daysLeft: z.number().int() }),
    example: { clientId: 'client-01J8Z3', identityExpiresOn: '2027-03-31', daysLeft: 30 },
  }),
  defineEvent({
    detailType: 'kyc.expired',
    version: 1,
    context: 'kyc',
    external: true,
    description: 'The approved identity document expired: the client must renew the verification.',
    schema: z.object({ clientId: id, identityExpiresOn: calendarDate }),
    example: { clientId: 'client-01J8Z3', identityExpiresOn: '2026-02-01' },
  }),
] as const;
