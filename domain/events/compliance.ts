/**
 * Compliance cases (opened by chargebacks, late or returned payouts and security-event thresholds; closed by
 * compliance). The case model lives in the payments context today (functions/store/payments/cases.ts).
 *
 * Invariants:
 * - every definition follows domain/events/define.ts (versioning, money as strings, tolerant parsing)
 * - `kind` is a case kind as recorded (chargeback, late_payout, payout_returned, and the security rules' kinds of
 *   domain/security/events.ts): an open vocabulary, consumers tolerate kinds they do not know
 */
import * as z from 'zod';
import { CASE_RESOLUTIONS } from '../payments/cases.ts';
import { defineEvent, id } from './define.ts';

export const COMPLIANCE_EVENTS = [
  defineEvent({
    detailType: 'compliance.case.opened',
    version: 1,
    context: 'payments',
    external: true,
    description: 'A compliance case was opened about a subject (a chargeback, a payout, a window of security events).',
    schema: z.object({
      caseId: id,
      clientId: id,
      kind: z.string().min(1),
      subject: z.object({ type: z.string().min(1), id }),
    }),
    example: {
      caseId: 'case_01J8Z3',
      clientId: 'client-01J8Z3',
      kind: 'chargeback',
      subject: { type: 'chargeback', id: 'cb_01J8Z3' },
    },
  }),
  defineEvent({
    detailType: 'compliance.case.closed',
    version: 1,
    context: 'payments',
    external: true,
    description: "Compliance closed a case with a resolution; freezeLifted: the client's withdrawals are no longer frozen by it.",
    schema: z.object({
      caseId: id,
      clientId: id,
      kind: z.string().min(1),
      resolution: z.enum(CASE_RESOLUTIONS),
      freezeLifted: z.boolean(),
    }),
    example: { caseId: 'case_01J8Z3', clientId: 'client-01J8Z3', kind: 'chargeback', resolution: 'cleared', freezeLifted: true },
  }),
] as const;
