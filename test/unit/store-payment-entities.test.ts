/**
 * The payment entities (functions/store/payments/*, docs/decisions/0013-entity-model.md), table-driven: each
 * declaration computes its keys and index attributes from the item's attributes, sparse indexes are present
 * exactly while they apply, and a malformed stored item is rejected with a StoredItemError naming the entity
 * and the attribute.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { StoredItemError } from '#store/entity.ts';
import { idempotencyRecordEntity } from '#store/idempotency-records.ts';
import { paymentKeys } from '#store/keys.ts';
import { caseEntity, closedCase } from '#store/payments/cases.ts';
import { chargebackEntity } from '#store/payments/chargebacks.ts';
import { depositTransition, newDeposit } from '#store/payments/deposits.ts';
import { reconLineEntity } from '#store/payments/psp-reconciliation.ts';
import { refundEntity } from '#store/payments/refunds.ts';
import { depositEntity, withdrawalEntity } from '#store/payments/types.ts';
import { providerRefEntity, webhookEventEntity } from '#store/payments/webhook-events.ts';

beforeAll(() => {
  process.env.TENANT ??= 'demo';
});

const T0 = '2025-03-01T10:00:00.000Z';
const T1 = '2025-03-01T11:00:00.000Z';
const eur = (amount: string) => ({ amount, currency: 'EUR' });

const deposit = () =>
  newDeposit(
    {
      depositId: 'dep_1',
      clientId: 'c1',
      walletId: 'wal_c1_EUR',
      methodId: 'card',
      methodKind: 'card',
      provider: 'sandbox',
      gross: eur('100.00'),
      fee: eur('3.00'),
      net: eur('97.00'),
      idempotencyKey: 'k-00000001',
      requestHash: 'h',
      intentExpiresAt: '2025-03-01T10:30:00.000Z',
    },
    T0,
  );

const withdrawal = () =>
  withdrawalEntity.item(
    {
      withdrawalId: 'wd_1',
      clientId: 'c1',
      walletId: 'wal_c1_EUR',
      methodId: 'sepa-wire',
      methodKind: 'bank_wire',
      provider: 'sandbox',
      gross: eur('50.00'),
      fee: eur('1.00'),
      net: eur('49.00'),
      destination: { account: 'DE89370400440532013000', display: 'DE89 •••• 3000' },
      holdId: 'wd_1',
      status: 'received',
      timeline: [{ status: 'received', at: T0 }],
      idempotencyKey: 'k-00000002',
      requestHash: 'h',
    },
    T0,
  );

const refund = () =>
  refundEntity.item(
    {
      refundId: 'rf_1',
      depositId: 'dep_1',
      clientId: 'c1',
      walletId: 'wal_c1_EUR',
      provider: 'sandbox',
      depositProviderRef: 'psp_1',
      amount: eur('10.00'),
      reason: 'client_request',
      status: 'pending',
      timeline: [{ status: 'pending', at: T0 }],
      requestedBy: 'staff-1',
      holdId: 'rf_1',
      idempotencyKey: 'k-00000003',
      requestHash: 'h',
    },
    T0,
  );

const chargeback = () =>
  chargebackEntity.item(
    {
      chargebackId: 'chb_1',
      provider: 'sandbox',
      disputeId: 'dp_1',
      reasonCode: 'fraud',
      depositId: 'dep_1',
      depositProviderRef: 'psp_1',
      clientId: 'c1',
      walletId: 'wal_c1_EUR',
      amount: eur('97.00'),
      fromWallet: eur('97.00'),
      receivable: eur('0.00'),
      status: 'open',
      timeline: [{ status: 'open', at: T0, reason: 'fraud' }],
      journalId: 'cb_chb_1',
      caseId: 'case_1',
      openedAt: T0,
    },
    T0,
  );

const openCase = () =>
  caseEntity.item(
    {
      caseId: 'case_1',
      clientId: 'c1',
      kind: 'chargeback',
      status: 'open',
      subject: { type: 'chargeback', id: 'chb_1' },
      openedAt: T0,
      evidence: { amount: '97.00' },
      effects: ['withdrawals_frozen'],
    },
    T0,
  );

const KEYS = ['pk', 'sk', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk', 'gsi3pk', 'gsi3sk'] as const;
const keysOf = (item: object) =>
  Object.fromEntries(KEYS.filter((k) => k in item).map((k) => [k, (item as Record<string, unknown>)[k]]));

describe('payment entities: keys and indexes come from the attributes', () => {
  it.each([
    [
      'deposit (created: in the open index)',
      deposit,
      {
        ...paymentKeys.deposit('dep_1'),
        ...paymentKeys.clientDepositsIndex('c1', T0, 'dep_1'),
        ...paymentKeys.openDepositIndex('dep_1', '2025-03-01T10:30:00.000Z'),
        ...paymentKeys.depositStatusIndex('created', T0, 'dep_1'),
      },
    ],
    [
      'withdrawal',
      withdrawal,
      {
        ...paymentKeys.withdrawal('wd_1'),
        ...paymentKeys.clientWithdrawalsIndex('c1', T0, 'wd_1'),
        ...paymentKeys.withdrawalStatusIndex('received', T0, 'wd_1'),
      },
    ],
    ['refund', refund, { ...paymentKeys.refund('rf_1'), ...paymentKeys.depositRefundsIndex('dep_1', T0, 'rf_1') }],
    ['chargeback', chargeback, { ...paymentKeys.chargeback('chb_1'), ...paymentKeys.clientChargebacksIndex('c1', T0, 'chb_1') }],
    [
      'compliance case (open)',
      openCase,
      {
        ...paymentKeys.case('case_1'),
        ...paymentKeys.clientCasesIndex('c1', T0, 'case_1'),
        ...paymentKeys.caseStatusIndex('open', T0, 'case_1'),
      },
    ],
    [
      'webhook event marker',
      () =>
        webhookEventEntity.item({ provider: 'sandbox', eventId: 'ev_1', eventType: 'x', providerRef: 'p', receivedAt: T0 }, T0),
      paymentKeys.webhookEvent('sandbox', 'ev_1'),
    ],
    [
      'provider reference',
      () => providerRefEntity.item({ provider: 'sandbox', providerRef: 'p', paymentKind: 'deposit', paymentId: 'dep_1' }, T0),
      paymentKeys.providerRef('sandbox', 'p'),
    ],
    [
      'PSP reconciliation line',
      () => reconLineEntity.item({ runId: 'run_1', n: 3, bucket: 'missing_at_provider', provider: 'sandbox' }, T0),
      paymentKeys.reconLine('run_1', 3),
    ],
    [
      'idempotency record',
      () => idempotencyRecordEntity.item({ idemKey: 'http#abc', idemStatus: 'INPROGRESS', expiresAt: 1 }, T0),
      { pk: 'IDEMPOTENCY#http#abc', sk: 'IDEMPOTENCY' },
    ],
  ])('%s', (_name, make, expected) => {
    const item = make();
    expect(keysOf(item)).toEqual(expected);
    expect(item).toMatchObject({ createdAt: T0, updatedAt: T0, version: 1 });
  });
});

describe('sparse and moving indexes', () => {
  it('a deposit leaves the open index when it leaves created / pending, and its status index follows', () => {
    const d = deposit();
    const pending = depositTransition(d, 'pending', { at: T1, patch: { providerRef: 'psp_1' } }).next;
    expect(pending).toMatchObject({ gsi2pk: d.gsi2pk, ...paymentKeys.depositStatusIndex('pending', T1, 'dep_1'), version: 2 });
    const failed = depositTransition(pending, 'failed', { at: T1, reason: 'declined' }).next;
    expect(failed).not.toHaveProperty('gsi2pk');
    expect(failed).not.toHaveProperty('gsi2sk');
    expect(failed).toMatchObject({ ...paymentKeys.depositStatusIndex('failed', T1, 'dep_1'), failureReason: 'declined' });
    const { write } = depositTransition(pending, 'completed', { at: T1 });
    if (!('Put' in write)) throw new Error('expected a Put');
    expect(write.Put.Item).not.toHaveProperty('gsi2pk');
  });

  it('a withdrawal’s status queue follows its status and the time it entered it', () => {
    const w = withdrawal();
    const next = withdrawalEntity.replaced(
      w,
      { ...w, status: 'approved', timeline: [...w.timeline, { status: 'approved', at: T1 }] },
      T1,
    );
    expect(keysOf(next)).toMatchObject(paymentKeys.withdrawalStatusIndex('approved', T1, 'wd_1'));
  });

  it('a closed case moves to the closed queue, by its closing time', () => {
    const closed = closedCase(openCase(), { resolution: 'cleared', note: 'ok', closedBy: 'staff-1' }, T1);
    expect(keysOf(closed)).toMatchObject(paymentKeys.caseStatusIndex('closed', T1, 'case_1'));
  });
});

describe('reads reject malformed items, naming the entity and the attribute', () => {
  it.each([
    ['deposit', () => depositEntity.parse({ ...deposit(), status: 'paid' }), 'deposit', 'status'],
    ['deposit', () => depositEntity.parse({ ...deposit(), gross: 100 }), 'deposit', 'gross'],
    ['withdrawal', () => withdrawalEntity.parse({ ...withdrawal(), timeline: [] }), 'withdrawal', 'timeline'],
    ['refund', () => refundEntity.parse({ ...refund(), reason: 'because' }), 'refund', 'reason'],
    ['chargeback', () => chargebackEntity.parse({ ...chargeback(), amount: { amount: '1' } }), 'chargeback', 'amount.currency'],
    ['case', () => caseEntity.parse({ ...openCase(), kind: 'fraud' }), 'compliance-case', 'kind'],
    ['case read as a deposit', () => depositEntity.parse(openCase()), 'deposit', 'type'],
  ])('%s', (_name, read, entityType, path) => {
    let err: unknown;
    try {
      read();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StoredItemError);
    expect((err as StoredItemError).entityType).toBe(entityType);
    expect((err as StoredItemError).issues.map((i) => i.path)).toContain(path);
  });

  it('items written before an attribute existed still parse (optional fields, defaults)', () => {
    const { effects: _e, ...oldCase } = openCase();
    expect(caseEntity.parse(oldCase).effects).toEqual([]);
    const { gsi3pk: _p, gsi3sk: _s, ...oldDeposit } = deposit();
    expect(depositEntity.parse(oldDeposit).depositId).toBe('dep_1');
  });
});
