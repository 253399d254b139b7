/**
 * Closing a compliance case (POST /v1/admin/compliance/cases/{caseId}/close) against DynamoDB Local:
 * 'cleared' lifts the withdrawal freeze the chargeback set, in the same commit as the closed case and both
 * audit entries; 'restricted' keeps it; with two open chargeback cases the first close keeps the freeze and
 * the last lifts it; a second close (sequential or concurrent) is 409 and changes nothing; bad input is 400
 * and changes nothing; only compliance may close.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { applyChargebackEvent } from '#app/payments/apply-chargeback-event.ts';
import { houseAccount } from '#store/ledger/accounts.ts';
import { chargebackIdFor, getChargeback } from '#store/payments/chargebacks.ts';
import { getPaymentState } from '#store/payments/client-state.ts';
import { useHandlerEnv } from '../support/api-env.ts';
import { auditTrail } from '../support/audit.ts';
import { apiEvent, bodyOf, claimsFor, lambdaContext } from '../support/events.ts';
import { completedDeposit, paymentClient, uid, webhookCtx } from './payments-fixtures.ts';

type Handler = (
  e: ReturnType<typeof apiEvent>,
  c: ReturnType<typeof lambdaContext>,
) => Promise<{ statusCode: number; body: string }>;
let admin: Handler;
const officer = `compliance-${uid()}`;
const compliance = claimsFor(officer, ['compliance']);

const call = (input: Parameters<typeof apiEvent>[0]) => admin(apiEvent(input), lambdaContext());
const close = (caseId: string, body: unknown, claims = compliance) =>
  call({
    method: 'POST',
    resource: '/v1/admin/compliance/cases/{caseId}/close',
    pathParameters: { caseId },
    claims,
    body,
  });
const detail = async (caseId: string) =>
  bodyOf<Record<string, unknown>>(
    await call({
      method: 'GET',
      resource: '/v1/admin/compliance/cases/{caseId}',
      pathParameters: { caseId },
      claims: compliance,
    }),
  );

/** A client with a completed deposit charged back: returns the client and the case the chargeback opened. */
async function chargedBack(c?: Awaited<ReturnType<typeof paymentClient>>) {
  const client = c ?? (await paymentClient());
  const d = await completedDeposit(client, '40.00', '0.00');
  const ctx = webhookCtx({
    type: 'chargeback.opened',
    providerRef: d.providerRef!,
    amount: '40.00',
    dispute: { id: `dp_${uid()}`, reasonCode: '10.4' },
  });
  await applyChargebackEvent(ctx);
  const cb = await getChargeback(chargebackIdFor('sandbox', ctx.event.dispute!.id));
  return { client, caseId: cb!.caseId };
}

beforeAll(async () => {
  await useHandlerEnv('compliance-cases');
  admin = (await import('#functions/api/payments-admin.ts')).handler as Handler;
  for (const kind of ['psp_clearing', 'chargeback_receivable', 'fee_income', 'house_adjustments'] as const) {
    await houseAccount(kind, 'EUR');
  }
});

describe('closing a chargeback case', () => {
  it("'cleared' closes the case and lifts the freeze in one commit, with both audit entries", async () => {
    const { client, caseId } = await chargedBack();
    expect((await getPaymentState(client.clientId)).withdrawalsFrozen).toMatchObject({ caseId });

    const res = await close(caseId, { resolution: 'cleared', note: '  Provider confirmed the dispute was filed in error.  ' });
    expect(res.statusCode, res.body).toBe(200);
    expect(bodyOf(res)).toMatchObject({
      caseId,
      status: 'closed',
      resolution: 'cleared',
      note: 'Provider confirmed the dispute was filed in error.',
      closedBy: officer,
      freeze: { lifted: true },
    });
    expect((await getPaymentState(client.clientId)).withdrawalsFrozen).toBeUndefined();
    expect(await detail(caseId)).toMatchObject({ status: 'closed', resolution: 'cleared', closedBy: officer });
    const closedList = bodyOf<{ items: { caseId: string }[] }>(
      await call({ method: 'GET', resource: '/v1/admin/compliance/cases', claims: compliance, query: { status: 'closed' } }),
    );
    expect(closedList.items.map((i) => i.caseId)).toContain(caseId);

    const caseAudit = await auditTrail('compliance-case', caseId);
    expect(caseAudit.map((a) => a.action)).toEqual(['compliance.case.opened', 'compliance.case.closed']);
    expect(caseAudit[1]).toMatchObject({ actor: { id: officer }, reason: 'cleared', evidence: { freeze: 'lifted' } });
    const stateAudit = await auditTrail('payment-state', client.clientId);
    expect(stateAudit.map((a) => a.action)).toEqual(['payment.withdrawals.frozen', 'payment.withdrawals.unfrozen']);
    expect(stateAudit[1]!.at).toBe(caseAudit[1]!.at);
  });

  it("'restricted' closes the case and keeps the freeze", async () => {
    const { client, caseId } = await chargedBack();
    const res = await close(caseId, { resolution: 'restricted', note: 'Third dispute this quarter; account stays restricted.' });
    expect(bodyOf(res)).toMatchObject({ status: 'closed', freeze: { lifted: false, keptBecause: 'resolution' } });
    expect((await getPaymentState(client.clientId)).withdrawalsFrozen).toMatchObject({ caseId });
    expect((await auditTrail('payment-state', client.clientId)).map((a) => a.action)).toEqual(['payment.withdrawals.frozen']);
  });

  it('two open chargeback cases: closing one keeps the freeze, closing the last lifts it', async () => {
    const first = await chargedBack();
    const second = await chargedBack(first.client);
    expect((await getPaymentState(first.client.clientId)).withdrawalsFrozen).toMatchObject({ caseId: second.caseId });

    const a = await close(second.caseId, { resolution: 'cleared', note: 'Resolved with the issuer.' });
    expect(bodyOf(a)).toMatchObject({ freeze: { lifted: false, keptBecause: 'other_open_case' } });
    expect((await getPaymentState(first.client.clientId)).withdrawalsFrozen).toBeDefined();

    const b = await close(first.caseId, { resolution: 'recovered', note: 'Client repaid the shortfall by wire.' });
    expect(bodyOf(b)).toMatchObject({ freeze: { lifted: true } });
    expect((await getPaymentState(first.client.clientId)).withdrawalsFrozen).toBeUndefined();
  });

  it('a second close is 409 case_already_closed, sequential or concurrent, and changes nothing', async () => {
    const { caseId } = await chargedBack();
    const results = await Promise.all(
      [1, 2, 3].map((n) => close(caseId, { resolution: 'cleared', note: `Officer attempt ${n}` })),
    );
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 409, 409]);
    for (const r of results.filter((x) => x.statusCode === 409)) expect(bodyOf(r).code).toBe('case_already_closed');
    const again = await close(caseId, { resolution: 'restricted', note: 'Changed my mind' });
    expect([again.statusCode, bodyOf(again).code]).toEqual([409, 'case_already_closed']);
    expect((await auditTrail('compliance-case', caseId)).map((a) => a.action)).toEqual([
      'compliance.case.opened',
      'compliance.case.closed',
    ]);
  });

  it('bad input is 400 with its code and the case stays open; an unknown case is 404', async () => {
    const { client, caseId } = await chargedBack();
    const unknown = await close(caseId, { resolution: 'forgiven', note: 'x' });
    expect([unknown.statusCode, bodyOf(unknown).code]).toEqual([400, 'unknown_resolution']);
    for (const note of [undefined, '', '   ']) {
      const r = await close(caseId, { resolution: 'cleared', ...(note === undefined ? {} : { note }) });
      expect([r.statusCode, bodyOf(r).code]).toEqual([400, 'note_required']);
    }
    const extra = await close(caseId, { resolution: 'cleared', note: 'ok', liftFreeze: true });
    expect([extra.statusCode, bodyOf(extra).code]).toEqual([400, 'validation_failed']);
    const missing = await close('case_nope', { resolution: 'cleared', note: 'ok' });
    expect([missing.statusCode, bodyOf(missing).code]).toEqual([404, 'case_not_found']);
    expect(await detail(caseId)).toMatchObject({ status: 'open' });
    expect((await getPaymentState(client.clientId)).withdrawalsFrozen).toMatchObject({ caseId });
  });

  it('only compliance closes: finance, admin and the client get 403 and nothing changes', async () => {
    const { client, caseId } = await chargedBack();
    for (const claims of [
      claimsFor(`fin-${uid()}`, ['finance']),
      claimsFor(`adm-${uid()}`, ['admin']),
      claimsFor(client.clientId, ['client']),
    ]) {
      const r = await close(caseId, { resolution: 'cleared', note: 'Not mine to close' }, claims);
      expect([r.statusCode, bodyOf(r).code]).toEqual([403, 'forbidden_role']);
    }
    expect(await detail(caseId)).toMatchObject({ status: 'open' });
  });
});
