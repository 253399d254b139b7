/**
 * POST /v1/webhooks/psp/{provider} against a real table on DynamoDB Local, with deposits created
 * through POST /v1/deposits and a fake PSP that verifies signatures exactly as webhook-signature.ts
 * does: unsigned / tampered / 6-minute-old requests are 401 and write nothing; a valid deposit.succeeded
 * posts ONE journal with the exact balances (wallet +net, fee income +fee, clearing -gross); the same
 * event twice (in sequence and concurrently) is applied once; a late deposit.failed is ignored and
 * recorded; deposit.failed releases the pre-verification reservation; exactly one first deposit.
 */
import { randomUUID } from 'node:crypto';
import { GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flushSecurityEvents } from '#app/platform/record-security-event.ts';
import { hourBucket } from '#domain/security/events.ts';
import { usePspForTests } from '#functions/adapters/psp/index.ts';
import { ddb } from '#shared/clients.ts';
import { securityEventKeys } from '#store/keys.ts';
import { ensureWallet, getBalance, houseAccountId } from '#store/ledger/accounts.ts';
import { getJournal } from '#store/ledger/journals.ts';
import { getPaymentState, listFundingSources } from '#store/payments/client-state.ts';
import { getDeposit } from '#store/payments/deposits.ts';
import { eventIdOf } from '#store/security-events.ts';
import { useHandlerEnv } from '../support/api-env.ts';
import { auditTrail } from '../support/audit.ts';
import { seedClient } from '../support/clients.ts';
import { apiEvent, bodyOf, lambdaContext } from '../support/events.ts';
import { type FakePsp, fakePsp, providerRefOf, signedHeaders, TEST_WEBHOOK_SECRET, webhookBody } from '../support/psp.ts';

type Handler = (
  e: ReturnType<typeof apiEvent>,
  c: ReturnType<typeof lambdaContext>,
) => Promise<{ statusCode: number; body: string; headers?: Record<string, unknown> }>;
let deposits: Handler;
let webhooks: Handler;
let table: string;
let psp: FakePsp;
let restore: () => void;

interface Answer {
  status: string;
  eventId: string;
  code?: string;
}

const uid = () => randomUUID().slice(0, 8);

/** Items other than security events (a refused signature writes nothing else). */
const countItems = async () => {
  const res = await ddb().send(
    new ScanCommand({
      TableName: table,
      Select: 'COUNT',
      ConsistentRead: true,
      FilterExpression: '#t <> :event',
      ExpressionAttributeNames: { '#t': 'type' },
      ExpressionAttributeValues: { ':event': 'security-event' },
    }),
  );
  return res.Count ?? 0;
};

async function client(approved = true) {
  const { clientId, claims } = await seedClient({ clientId: `client-${uid()}`, ...(approved ? { kycStatus: 'approved' } : {}) });
  await ensureWallet(clientId, 'EUR', { actor: { id: clientId, role: 'client' }, requestId: 'test' });
  return { clientId, claims, eur: `wal_${clientId}_EUR` };
}

async function deposit(c: { claims: Record<string, string>; eur: string }, amount: string): Promise<string> {
  const res = await deposits(
    apiEvent({
      method: 'POST',
      resource: '/v1/deposits',
      claims: c.claims,
      body: { walletId: c.eur, methodId: 'card', amount: { amount, currency: 'EUR' } },
      headers: { 'Idempotency-Key': `dep-${uid()}` },
    }),
    lambdaContext(),
  );
  expect(res.statusCode, res.body).toBe(201);
  return bodyOf<{ depositId: string }>(res).depositId;
}

const send = (rawBody: string, headers: Record<string, string>, provider = 'sandbox', base64 = false) => {
  const event = apiEvent({
    method: 'POST',
    resource: '/v1/webhooks/psp/{provider}',
    pathParameters: { provider },
    body: base64 ? Buffer.from(rawBody, 'utf8').toString('base64') : rawBody,
    headers,
  });
  if (base64) event.isBase64Encoded = true;
  return webhooks(event, lambdaContext());
};

const succeeded = (depositId: string, amount: string, extra: Record<string, unknown> = {}) =>
  webhookBody({
    id: `evt_${uid()}${uid()}`,
    type: 'deposit.succeeded',
    providerRef: providerRefOf(depositId),
    merchantRef: depositId,
    amount: { amount, currency: 'EUR' },
    ...extra,
  });

const deliver = async (rawBody: string) => {
  const res = await send(rawBody, signedHeaders(rawBody));
  expect(res.statusCode, res.body).toBe(200);
  return bodyOf<Answer>(res);
};

const clearing = () => getBalance(houseAccountId('psp_clearing', 'EUR'));
const feeIncome = () => getBalance(houseAccountId('fee_income', 'EUR'));

beforeAll(async () => {
  table = await useHandlerEnv('pspwebhooks', { PSP_WEBHOOK_SECRETS_SANDBOX: `${TEST_WEBHOOK_SECRET},whsec_old` });
  psp = fakePsp();
  restore = usePspForTests('sandbox', psp);
  ({ handler: deposits } = (await import('#functions/api/deposits.ts')) as unknown as { handler: Handler });
  ({ handler: webhooks } = (await import('#functions/api/psp-webhooks.ts')) as unknown as { handler: Handler });
});
afterAll(() => restore());

describe('webhook authentication', () => {
  it('refuses unsigned, tampered and stale requests with 401 and writes nothing but one counted security event', async () => {
    const c = await client();
    const id = await deposit(c, '100.00');
    const body = succeeded(id, '100.00');
    const before = await countItems();
    const cases: [string, Record<string, string>, string][] = [
      [body, { 'Content-Type': 'application/json' }, 'signature_missing'],
      [body.replace('100.00', '1000.00'), signedHeaders(body), 'signature_invalid'],
      [body, signedHeaders(body, new Date(Date.now() - 6 * 60_000)), 'signature_expired'],
      [body, signedHeaders(body, new Date(), 'whsec_wrong'), 'signature_invalid'],
      [body, { 'X-PSP-Signature': 'garbage' }, 'signature_malformed'],
    ];
    for (const [raw, headers, code] of cases) {
      const res = await send(raw, headers);
      expect(res.statusCode, `${code}: ${res.body}`).toBe(401);
      expect(bodyOf<Answer>(res).code).toBe(code);
    }
    const unknown = await send(body, signedHeaders(body), 'acme-pay');
    expect(unknown.statusCode).toBe(404);
    expect(bodyOf<Answer>(unknown).code).toBe('unknown_provider');
    expect(await countItems()).toBe(before);
    expect((await getDeposit(id, { consistent: true }))?.status).toBe('pending');

    // The five refusals came from one source to one provider within the hour: one event, counted five times.
    await flushSecurityEvents();
    const { Item: event } = await ddb().send(
      new GetCommand({
        TableName: table,
        Key: securityEventKeys.key(
          eventIdOf('webhook_signature_rejected', 'ip:127.0.0.1', 'psp:sandbox', hourBucket(new Date())),
        ),
        ConsistentRead: true,
      }),
    );
    expect(event).toMatchObject({
      type: 'security-event',
      kind: 'webhook_signature_rejected',
      count: 5,
      lastSource: 'ip:127.0.0.1',
    });
    expect(event?.detail).toEqual({ code: 'signature_missing' });
    expect(event?.clientId).toBeUndefined();
  });

  it("a provider name that is not one of this tenant's is 404 unknown_provider, never 5xx (inherited names included)", async () => {
    const body = succeeded('dep_none', '1.00');
    const before = await countItems();
    // __proto__ and constructor once matched the provider table's inherited properties (500); stripe is a
    // registered adapter that no payment method of the demo tenant uses (no secrets: 500).
    for (const provider of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'stripe', 'acme-pay']) {
      const res = await send(body, signedHeaders(body), provider);
      expect(res.statusCode, `${provider}: ${res.body}`).toBe(404);
      expect(bodyOf<Answer>(res).code).toBe('unknown_provider');
    }
    expect(await countItems()).toBe(before);
  });

  it('accepts a base64-encoded body and a rotated (older) secret', async () => {
    const c = await client();
    const id = await deposit(c, '30.00');
    const body = succeeded(id, '30.00');
    const res = await send(body, signedHeaders(body, new Date(), 'whsec_old'), 'sandbox', true);
    expect(res.statusCode, res.body).toBe(200);
    expect(bodyOf<Answer>(res).status).toBe('applied');
  });
});

describe('deposit.succeeded', () => {
  it('completes the deposit with one journal and the exact balances; the same event again is a duplicate', async () => {
    const c = await client();
    const id = await deposit(c, '100.00');
    const [clear0, fee0] = [await clearing(), await feeIncome()];
    const body = succeeded(id, '100.00', { source: { fingerprint: 'card_fp_4242', display: 'Visa •4242' } });
    const first = await deliver(body);
    expect(first.status).toBe('applied');

    expect((await getBalance(c.eur)).ledger).toBe(9_750n);
    expect((await feeIncome()).ledger - fee0.ledger).toBe(250n);
    expect((await clearing()).ledger - clear0.ledger).toBe(-10_000n);
    const journal = await getJournal(`dep_${id}`);
    expect(journal?.type).toBe('deposit');
    expect(journal?.metadata).toMatchObject({ depositId: id, methodId: 'card', psp: { provider: 'sandbox', kind: 'deposit' } });

    const d = await getDeposit(id, { consistent: true });
    expect(d).toMatchObject({ status: 'completed', journalId: `dep_${id}`, firstDeposit: true, sourceDisplay: 'Visa •4242' });
    expect(d?.timeline.map((e) => e.status)).toEqual(['created', 'pending', 'completed']);
    expect(d?.gsi2pk).toBeUndefined();
    const sources = await listFundingSources(c.clientId);
    expect(sources).toHaveLength(1);
    expect(sources[0]).toMatchObject({ account: 'card_fp_4242', deposited: { EUR: 9_750n } });
    expect((await getPaymentState(c.clientId)).firstDepositId).toBe(id);

    const items = await countItems();
    const again = await deliver(body);
    expect(again).toMatchObject({ status: 'duplicate', eventId: first.eventId });
    expect(await countItems()).toBe(items);
    expect((await getBalance(c.eur)).ledger).toBe(9_750n);
  });

  it('applies the same event delivered concurrently exactly once', async () => {
    const c = await client();
    const id = await deposit(c, '200.00');
    const body = succeeded(id, '200.00');
    const answers = await Promise.all(Array.from({ length: 5 }, () => deliver(body)));
    expect(answers.filter((a) => a.status === 'applied')).toHaveLength(1);
    expect(answers.filter((a) => a.status === 'duplicate')).toHaveLength(4);
    expect((await getBalance(c.eur)).ledger).toBe(19_500n);
    const trail = await auditTrail('deposit', id);
    expect(trail.filter((a) => a.action === 'payment.deposit.completed')).toHaveLength(1);
  });

  it('ignores a late deposit.failed after completion, records it, and never moves the deposit back', async () => {
    const c = await client();
    const id = await deposit(c, '50.00');
    expect((await deliver(succeeded(id, '50.00'))).status).toBe('applied');
    const late = webhookBody({
      id: `evt_late_${uid()}`,
      type: 'deposit.failed',
      providerRef: providerRefOf(id),
      amount: { amount: '50.00', currency: 'EUR' },
      failureCode: 'card_declined',
    });
    const res = await deliver(late);
    expect(res.status).toBe('ignored');
    expect((await getDeposit(id, { consistent: true }))?.status).toBe('completed');
    const [entry] = await auditTrail('psp-event', `sandbox:${res.eventId}`);
    expect(entry).toMatchObject({ action: 'psp.webhook.ignored', reason: 'invalid_transition' });
    expect((await deliver(late)).status).toBe('duplicate');
  });

  it('settles a deposit whose webhook beats the intent answer (still created): created, pending, completed', async () => {
    const c = await client();
    let answer: Answer | undefined;
    psp.onIntent = async (req) => {
      answer = await deliver(succeeded(req.depositId, '80.00'));
    };
    let id: string;
    try {
      id = await deposit(c, '80.00');
    } finally {
      psp.onIntent = undefined;
    }
    expect(answer?.status).toBe('applied');
    const d = await getDeposit(id, { consistent: true });
    expect(d?.status).toBe('completed');
    expect(d?.providerRef).toBe(providerRefOf(id));
    expect(d?.timeline.map((e) => e.status)).toEqual(['created', 'pending', 'completed']);
    expect((await getBalance(c.eur)).ledger).toBe(7_800n);
    // the provider reference item was written with the completion: a later event by reference finds it
    const late = webhookBody({
      id: `evt_${uid()}`,
      type: 'deposit.expired',
      providerRef: providerRefOf(id),
      amount: { amount: '80.00', currency: 'EUR' },
    });
    const res = await deliver(late);
    expect(res.status).toBe('ignored');
    const [entry] = await auditTrail('psp-event', `sandbox:${res.eventId}`);
    expect(entry.reason).toBe('invalid_transition');
  });

  it('ignores an amount that is not the gross', async () => {
    const c = await client();
    const id = await deposit(c, '60.00');
    const res = await deliver(succeeded(id, '61.00'));
    expect(res.status).toBe('ignored');
    const [entry] = await auditTrail('psp-event', `sandbox:${res.eventId}`);
    expect(entry.reason).toBe('amount_mismatch');
    expect((await getDeposit(id, { consistent: true }))?.status).toBe('pending');
    expect((await getBalance(c.eur)).ledger).toBe(0n);
  });

  it('marks exactly one first deposit when two settle at once', async () => {
    const c = await client();
    const a = await deposit(c, '20.00');
    const b = await deposit(c, '30.00');
    const answers = await Promise.all([deliver(succeeded(a, '20.00')), deliver(succeeded(b, '30.00'))]);
    expect(answers.map((x) => x.status)).toEqual(['applied', 'applied']);
    const [da, db] = await Promise.all([getDeposit(a, { consistent: true }), getDeposit(b, { consistent: true })]);
    expect([da?.firstDeposit, db?.firstDeposit].filter(Boolean)).toHaveLength(1);
    const firstId = da?.firstDeposit ? a : b;
    expect((await getPaymentState(c.clientId)).firstDepositId).toBe(firstId);
    const events = await ddb().send(
      new ScanCommand({
        TableName: table,
        ConsistentRead: true,
        FilterExpression: 'detailType = :t AND detail.clientId = :c',
        ExpressionAttributeValues: { ':t': 'payment.deposit.completed', ':c': c.clientId },
      }),
    );
    const firsts = (events.Items ?? []).map((e) => e.detail as { first: boolean; depositId: string });
    expect(firsts).toHaveLength(2);
    expect(firsts.filter((e) => e.first).map((e) => e.depositId)).toEqual([firstId]);
    expect((await getBalance(c.eur)).ledger).toBe(1_950n + 2_925n);
  });
});

describe('deposit.failed and deposit.expired', () => {
  it('fails a pending deposit with the reason and releases its pre-verification reservation', async () => {
    const c = await client(false);
    const id = await deposit(c, '400.00');
    expect((await getPaymentState(c.clientId)).preVerification.EUR).toBe(40_000n);
    const res = await deliver(
      webhookBody({
        id: `evt_fail_${uid()}`,
        type: 'deposit.failed',
        providerRef: providerRefOf(id),
        amount: { amount: '400.00', currency: 'EUR' },
        failureCode: 'card_declined',
      }),
    );
    expect(res.status).toBe('applied');
    const d = await getDeposit(id, { consistent: true });
    expect(d?.status).toBe('failed');
    expect(d?.timeline.at(-1)).toMatchObject({ status: 'failed', reason: 'payment_declined' });
    expect((await getPaymentState(c.clientId)).preVerification.EUR).toBe(0n);
    expect((await deliver(succeeded(id, '400.00'))).status).toBe('ignored');
    expect((await getBalance(c.eur)).ledger).toBe(0n);
  });

  it('expires a pending deposit on deposit.expired', async () => {
    const c = await client();
    const id = await deposit(c, '70.00');
    const res = await deliver(
      webhookBody({
        id: `evt_exp_${uid()}`,
        type: 'deposit.expired',
        providerRef: providerRefOf(id),
        amount: { amount: '70.00', currency: 'EUR' },
      }),
    );
    expect(res.status).toBe('applied');
    const d = await getDeposit(id, { consistent: true });
    expect(d?.timeline.at(-1)).toMatchObject({ status: 'expired', reason: 'intent_expired' });
  });

  it('records an event for an unknown payment as ignored', async () => {
    const res = await deliver(succeeded(`dep_${'0'.repeat(32)}`, '10.00'));
    expect(res.status).toBe('ignored');
    const [entry] = await auditTrail('psp-event', `sandbox:${res.eventId}`);
    expect(entry.reason).toBe('unknown_payment');
  });
});
