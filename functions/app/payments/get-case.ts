/**
 * Use case: one compliance case with what it is about (GET /v1/admin/compliance/cases/{caseId}).
 *
 * Invariants:
 * - reads only, for compliance and admins (the edge's role check); 404 case_not_found
 * - the case as stored, with its subject when it is a chargeback or a withdrawal (absent when the subject
 *   is of another kind or no longer found); the edge presents them (never a withdrawal's task tokens)
 */
import type { Caller } from '#domain/identity/roles.ts';
import { type CaseItem, caseNotFound, getCase as readCase } from '#store/payments/cases.ts';
import { type ChargebackItem, getChargeback } from '#store/payments/chargebacks.ts';
import { getWithdrawal, WITHDRAWAL_ENTITY } from '#store/payments/withdrawal-items.ts';
import type { CommandContext } from '../context.ts';
import type { Withdrawal } from './withdrawal-shared.ts';

export interface GetCaseInput {
  caseId: string;
}

export interface CaseWithSubject {
  case: CaseItem;
  chargeback?: ChargebackItem | undefined;
  withdrawal?: Withdrawal | undefined;
}

export async function getCase(input: GetCaseInput, _caller: Caller, _ctx?: CommandContext): Promise<CaseWithSubject> {
  const c = await readCase(input.caseId);
  if (!c) throw caseNotFound();
  const [chargeback, withdrawal] = await Promise.all([
    c.subject.type === 'chargeback' ? getChargeback(c.subject.id) : undefined,
    c.subject.type === WITHDRAWAL_ENTITY ? getWithdrawal(c.subject.id) : undefined,
  ]);
  return { case: c, ...(chargeback ? { chargeback } : {}), ...(withdrawal ? { withdrawal } : {}) };
}
