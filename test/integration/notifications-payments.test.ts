/**
 * The notifications worker's payment emails against DynamoDB Local (STAGE local: the table email
 * adapter): one email per payment outcome routed by 'payment-outcomes-to-notifications', in the
 * client's locale with the locale's decimal separator, reasons only as client text (a confidential AML
 * or fraud code never shows, nor its rule), one email per eventId however often delivered, and a failed
 * record for a detail without a valid amount or an unknown client.
 */
import { randomUUID } from 'node:crypto';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSRecord } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { setEmailSender } from '#adapters/email/index.ts';
import { NEUTRAL_NOT_COMPLETED, paymentReasonText } from '#domain/payments/reasons.ts';
import { ddb } from '#shared/clients.ts';
import { emailKeys } from '#store/keys.ts';
import { useHandlerEnv } from '../support/api-env.ts';
import { seedClient } from '../support/clients.ts';
import { lambdaContext } from '../support/events.ts';

type Handler = typeof import('#functions/workers/notifications.ts')['handler'];
let handler: Handler;
let table: string;

beforeAll(async () => {
  table = await useHandlerEnv('notifications-payments', { STAGE: 'local' });
  setEmailSender(undefined);
  ({ handler } = await import('#functions/workers/notifications.ts'));
});

const uid = () => randomUUID().slice(0, 8);

async function client(locale: string) {
  const { clientId, profile } = await seedClient({
    firstName: 'Nina',
    locale,
    emailVerified: undefined,
    personalDetails: undefined,
  });
  return { clientId, email: profile.email };
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
  return (res.Items ?? []) as { template: string; locale: string; subject: string; text: string; html: string }[];
}

// Complete details as producers write them (domain/events/payments.ts); each test overrides what it checks.
const deposit = (clientId: string, extra: Record<string, unknown> = {}) => ({
  depositId: `dep_${uid()}`,
  clientId,
  walletId: `wal_${clientId}_EUR`,
  methodId: 'card',
  currency: 'EUR',
  first: false,
  journalId: `dep_${uid()}`,
  eventId: `evt-${uid()}`,
  ...extra,
});
const withdrawal = (clientId: string, extra: Record<string, unknown> = {}) => ({
  withdrawalId: `wd_${uid()}`,
  clientId,
  walletId: `wal_${clientId}_EUR`,
  methodId: 'card',
  amount: '250.00',
  net: '245.00',
  fee: '5.00',
  currency: 'EUR',
  status: 'completed',
  journalId: `wd_${uid()}`,
  eventId: `evt-${uid()}`,
  ...extra,
});

describe('notifications: payment emails', () => {
  it('sends one email per payment outcome in the client locale, amounts with the locale separator', async () => {
    const nina = await client('de');
    const res = await deliver(
      record('payment.deposit.completed', deposit(nina.clientId, { amount: '97.50', gross: '100.00', fee: '2.50', first: true })),
      record('payment.deposit.failed', deposit(nina.clientId, { gross: '100.00', reason: 'payment_declined' })),
      record('payment.withdrawal.completed', withdrawal(nina.clientId, { status: 'completed' })),
      record('payment.withdrawal.rejected', withdrawal(nina.clientId, { status: 'rejected', reason: 'closed_loop_violation' })),
      record('payment.withdrawal.failed', withdrawal(nina.clientId, { status: 'failed', reason: 'payout_failed' })),
    );
    expect(res.batchItemFailures).toEqual([]);
    const sent = Object.fromEntries((await mails(nina.email)).map((m) => [m.template, m]));
    expect(Object.keys(sent).sort()).toEqual([
      'deposit_completed',
      'deposit_failed',
      'withdrawal_completed',
      'withdrawal_failed',
      'withdrawal_rejected',
    ]);
    expect(Object.values(sent).every((m) => m.locale === 'de')).toBe(true);
    expect(sent.deposit_completed!.subject).toBe('Demo Markets: Ihre Einzahlung ist eingegangen');
    expect(sent.deposit_completed!.text).toContain('97,50 EUR');
    expect(sent.deposit_failed!.text).toContain('100,00 EUR');
    expect(sent.deposit_failed!.text).toContain(paymentReasonText('payment_declined', 'de'));
    expect(sent.withdrawal_completed!.text).toContain('250,00 EUR');
    expect(sent.withdrawal_completed!.text).toContain('245,00 EUR');
    expect(sent.withdrawal_completed!.text).toContain('Gebühr: 5,00 EUR');
    expect(sent.withdrawal_failed!.text).toContain(paymentReasonText('payout_failed', 'de'));
    for (const m of Object.values(sent)) {
      expect(m.text).not.toMatch(/payment_declined|payout_failed|closed_loop_violation/);
      expect(m.text).toContain('Hallo Nina');
    }
  });

  it('a completed refund and a chargeback: the amounts, what is still owed, withdrawals paused; no scheme code', async () => {
    const nina = await client('en');
    const common = { clientId: nina.clientId, walletId: `wal_${nina.clientId}_EUR`, currency: 'EUR' };
    const res = await deliver(
      record('payment.refund.completed', {
        ...common,
        refundId: 'rf_1',
        depositId: 'dep_1',
        amount: '40.00',
        reason: 'client_request',
        full: false,
        journalId: 'rf_1',
      }),
      record('payment.chargeback.received', {
        ...common,
        chargebackId: 'cb_1',
        depositId: 'dep_2',
        amount: '100.00',
        fromWallet: '60.00',
        receivable: '40.00',
        reasonCode: '10.4',
        caseId: 'case_1',
      }),
    );
    expect(res.batchItemFailures).toEqual([]);
    const sent = Object.fromEntries((await mails(nina.email)).map((m) => [m.template, m]));
    expect(Object.keys(sent).sort()).toEqual(['chargeback_received', 'refund_completed']);
    expect(sent.refund_completed!.text).toContain('We have refunded 40.00 EUR');
    const cb = sent.chargeback_received!.text;
    expect(cb).toContain('a deposit of 100.00 EUR');
    expect(cb).toContain('We have debited 60.00 EUR');
    expect(cb).toContain('40.00 EUR remains outstanding');
    expect(cb).toContain('Withdrawals are paused');
    expect(cb).not.toContain('10.4');

    // A wallet that covered it all: no outstanding sentence.
    const covered = await client('de');
    await deliver(
      record('payment.chargeback.received', {
        clientId: covered.clientId,
        walletId: 'w',
        currency: 'EUR',
        chargebackId: 'cb_2',
        depositId: 'dep_3',
        amount: '25.00',
        fromWallet: '25.00',
        receivable: '0.00',
        reasonCode: '13.1',
        caseId: 'case_2',
      }),
    );
    const [de] = await mails(covered.email);
    expect(de!.text).toContain('Wir haben Ihrem Konto 25,00 EUR belastet.');
    expect(de!.text).not.toContain('offen');
  });

  it('English and Spanish; a confidential reason reads as the neutral sentence and is never named', async () => {
    const ann = await client('en-GB');
    const ana = await client('es');
    await deliver(
      record('payment.withdrawal.rejected', withdrawal(ann.clientId, { reason: 'suspected_fraud' })),
      record('payment.withdrawal.failed', withdrawal(ana.clientId, { reason: 'aml_large_amount' })),
      record('payment.deposit.failed', deposit(ana.clientId, { gross: '10.00', reason: 'some_unknown_code' })),
    );
    const [en] = await mails(ann.email);
    expect(en).toMatchObject({
      template: 'withdrawal_rejected',
      locale: 'en',
      subject: 'Demo Markets: your withdrawal was not approved',
    });
    expect(en!.text).toContain('250.00 EUR');
    expect(en!.text).toContain(NEUTRAL_NOT_COMPLETED.en);
    expect(en!.text).not.toMatch(/fraud|suspect/i);
    const es = Object.fromEntries((await mails(ana.email)).map((m) => [m.template, m]));
    expect(es.withdrawal_failed!.text).toContain(NEUTRAL_NOT_COMPLETED.es);
    expect(es.withdrawal_failed!.text).not.toMatch(/aml|blanqueo|umbral/i);
    expect(es.deposit_failed!.text).toContain(paymentReasonText('some_unknown_code', 'es'));
    expect(es.deposit_failed!.text).not.toContain('some_unknown_code');
  });

  it('sends one email per eventId however often it is delivered', async () => {
    const bob = await client('en');
    const detail = deposit(bob.clientId, { amount: '50.00', gross: '50.00', fee: '0.00' });
    await deliver(record('payment.deposit.completed', detail), record('payment.deposit.completed', detail));
    await deliver(record('payment.deposit.completed', detail));
    expect(await mails(bob.email)).toHaveLength(1);
  });

  it('fails the record for an amount that is not a decimal string, or an unknown client', async () => {
    const eve = await client('en');
    const bad = record('payment.deposit.completed', deposit(eve.clientId, { amount: 97.5 }));
    const unknown = record('payment.withdrawal.completed', withdrawal(`nobody-${uid()}`));
    const good = record('payment.withdrawal.completed', withdrawal(eve.clientId));
    const res = await deliver(bad, unknown, good);
    expect(res.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual([bad.messageId, unknown.messageId].sort());
    expect((await mails(eve.email)).map((m) => m.template)).toEqual(['withdrawal_completed']);
  });
});
