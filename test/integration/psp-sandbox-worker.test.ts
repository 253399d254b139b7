/**
 * The sandbox PSP worker end to end against a local HTTP server standing in for the webhook route
 * (S3 mocked with aws-sdk-client-mock): the amount decides succeeded / failed / pending, the webhook
 * verifies with the shared secret through the adapter's own verifyWebhook, a non-2xx answer fails
 * only that record, and settled items leave the settlement CSV the reconciliation job reads.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { verifySandboxWebhook } from '#adapters/psp/sandbox.ts';
import { type SandboxRequest, SETTLEMENT_HEADER, sandboxEventId } from '#adapters/psp/sandbox-protocol.ts';
import { sandboxChargeback } from '#app/payments/sandbox-provider.ts';
import type { PspEvent } from '#domain/payments/ports.ts';
import { handler } from '#functions/workers/psp-sandbox.ts';
import { logger } from '#shared/powertools.ts';
import { lambdaContext } from '../support/events.ts';
import { useDemoTenant } from '../support/tenant.ts';

const SECRET = 'whsec_worker_test_secret_0123456789';
const s3 = mockClient(S3Client);

interface Delivery {
  headers: IncomingHttpHeaders;
  raw: string;
  at: Date;
}
let deliveries: Delivery[] = [];
/** What the stand-in route answers next (status per event type; default 200 applied). */
let answer: (raw: string) => number = () => 200;
let server: Server;

beforeAll(async () => {
  useDemoTenant();
  logger.setLogLevel('SILENT');
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      deliveries.push({ headers: req.headers, raw, at: new Date() });
      const status = answer(raw);
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(status === 200 ? { status: 'applied' } : { code: 'boom' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  Object.assign(process.env, {
    PSP_WEBHOOK_SECRETS_SANDBOX: `${SECRET},whsec_older_one`,
    PSP_WEBHOOK_URL_SANDBOX: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/webhooks/psp/sandbox`,
    SETTLEMENTS_BUCKET: 'demo-settlements',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  });
});
afterAll(async () => {
  s3.restore();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  deliveries = [];
  answer = () => 200;
  s3.reset();
  s3.on(PutObjectCommand).resolves({});
});

let seq = 0;
const request = (over: Partial<SandboxRequest> & { amount: SandboxRequest['amount'] }): SandboxRequest => {
  const n = ++seq;
  return {
    kind: 'deposit',
    providerRef: `sbx_dep_dep_${n}`,
    merchantRef: `dep_${n}`,
    methodKind: 'card',
    source: { fingerprint: 'card_0123', display: 'Visa •4242' },
    requestedAt: new Date().toISOString(),
    ...over,
  };
};
const record = (body: unknown, id = `msg-${++seq}`) =>
  ({ messageId: id, body: typeof body === 'string' ? body : JSON.stringify(body) }) as SQSRecord;
const run = (...records: SQSRecord[]) => handler({ Records: records }, lambdaContext('psp-sandbox'));

/** Verifies a received delivery exactly as the webhook route does (secret from the environment, header, raw body). */
const verified = (d: Delivery): PspEvent =>
  verifySandboxWebhook({
    headers: { 'x-psp-signature': String(d.headers['x-psp-signature']) },
    rawBody: d.raw,
    now: new Date(),
    secrets: [SECRET],
  });
const puts = () => s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);

describe('deposits by amount', () => {
  it('100.00 succeeds: a signed deposit.succeeded with the source, then the settlement CSV', async () => {
    const req = request({ amount: { amount: '100.00', currency: 'USD' } });
    expect(await run(record(req))).toEqual({ batchItemFailures: [] });

    expect(deliveries).toHaveLength(1);
    const d = deliveries[0]!;
    expect(d.headers['content-type']).toBe('application/json');
    const event = verified(d);
    expect(event).toEqual({
      eventId: sandboxEventId(req.providerRef, 'deposit.succeeded'),
      type: 'deposit.succeeded',
      providerRef: req.providerRef,
      merchantRef: req.merchantRef,
      amount: { amount: 10_000n, currency: 'USD' },
      occurredAt: expect.any(String),
      source: { fingerprint: 'card_0123', display: 'Visa •4242' },
    });

    expect(puts()).toHaveLength(1);
    const put = puts()[0]!;
    const day = event.occurredAt.slice(0, 10);
    expect(put).toMatchObject({
      Bucket: 'demo-settlements',
      Key: `psp/sandbox/${day}/${event.eventId}.csv`,
      ContentType: 'text/csv',
    });
    expect(String(put.Body).trim().split('\n')).toEqual([
      SETTLEMENT_HEADER,
      `${req.providerRef},deposit,100.00,USD,0.00,${event.occurredAt}`,
    ]);
  });

  it('100.13 fails: deposit.failed with a failure code, and nothing settles', async () => {
    const req = request({ amount: { amount: '100.13', currency: 'USD' } });
    expect(await run(record(req))).toEqual({ batchItemFailures: [] });
    const event = verified(deliveries[0]!);
    expect(event).toMatchObject({ type: 'deposit.failed', failureCode: 'payment_declined', providerRef: req.providerRef });
    expect(event.source).toBeUndefined();
    expect(puts()).toHaveLength(0);
  });

  it('100.42 stays pending: no webhook and no settlement line', async () => {
    expect(await run(record(request({ amount: { amount: '100.42', currency: 'USD' } })))).toEqual({ batchItemFailures: [] });
    expect(deliveries).toHaveLength(0);
    expect(puts()).toHaveLength(0);
  });

  it('the rule reads minor units: 1013 JPY fails, 42.00 USD (4200) succeeds', async () => {
    await run(record(request({ amount: { amount: '1013', currency: 'JPY' } })));
    await run(record(request({ amount: { amount: '42.00', currency: 'USD' } })));
    expect(deliveries.map((d) => verified(d).type)).toEqual(['deposit.failed', 'deposit.succeeded']);
  });

  it('a redelivered request sends the same event id (the route de-duplicates it)', async () => {
    const req = request({ amount: { amount: '20.00', currency: 'EUR' } });
    await run(record(req));
    await run(record(req));
    const [a, b] = deliveries.map(verified);
    expect(a!.eventId).toBe(b!.eventId);
    expect(puts().map((p) => p.Key)).toEqual([puts()[0]!.Key, puts()[0]!.Key]);
  });
});

describe('payouts and refunds', () => {
  it('a payout is paid (settlement kind payout) or fails; a refund succeeds (kind refund)', async () => {
    const paid = request({
      kind: 'payout',
      providerRef: 'sbx_po_wd_1',
      merchantRef: 'wd_1',
      amount: { amount: '50.00', currency: 'EUR' },
    });
    const failed = request({
      kind: 'payout',
      providerRef: 'sbx_po_wd_2',
      merchantRef: 'wd_2',
      amount: { amount: '50.13', currency: 'EUR' },
    });
    const refund = request({
      kind: 'refund',
      providerRef: 'sbx_rf_rf_1',
      merchantRef: 'rf_1',
      amount: { amount: '5.00', currency: 'EUR' },
    });
    expect(await run(record(paid), record(failed), record(refund))).toEqual({ batchItemFailures: [] });

    const events = new Map(deliveries.map(verified).map((e) => [e.providerRef, e]));
    expect(events.get('sbx_po_wd_1')).toMatchObject({
      type: 'payout.paid',
      merchantRef: 'wd_1',
      amount: { amount: 5000n, currency: 'EUR' },
    });
    expect(events.get('sbx_po_wd_1')!.source).toBeUndefined();
    expect(events.get('sbx_po_wd_2')).toMatchObject({ type: 'payout.failed', failureCode: 'payout_failed' });
    expect(events.get('sbx_rf_rf_1')).toMatchObject({ type: 'refund.succeeded', merchantRef: 'rf_1' });

    const lines = puts().map((p) => String(p.Body).split('\n')[1]!.split(',').slice(0, 5).join(','));
    expect(lines.sort()).toEqual(['sbx_po_wd_1,payout,50.00,EUR,0.00', 'sbx_rf_rf_1,refund,5.00,EUR,0.00']);
  });
});

describe('failures', () => {
  /** A request that needs no webhook (stays pending): it succeeds, so a batch is never all-failed. */
  const pending = () => record(request({ amount: { amount: '1.42', currency: 'USD' } }));

  it('when every record of a batch fails, the invocation fails (Lambda retries the whole batch)', async () => {
    answer = () => 503;
    await expect(run(record(request({ amount: { amount: '10.00', currency: 'USD' } })))).rejects.toThrow(/All records failed/);
  });

  it('a 500 from the webhook fails only that record, and it leaves no settlement line', async () => {
    const bad = request({ amount: { amount: '77.00', currency: 'USD' } });
    const good = request({ amount: { amount: '78.00', currency: 'USD' } });
    answer = (raw) => (raw.includes(bad.providerRef) ? 500 : 200);
    const res = await run(record(bad, 'm-bad'), record(good, 'm-good'));
    expect(res).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-bad' }] });
    expect(puts().map((p) => String(p.Body))).toEqual([expect.stringContaining(good.providerRef)]);
  });

  it('a 4xx refusal (e.g. signature) is a failure too: the message is retried, then dead-lettered', async () => {
    answer = () => 401;
    expect(await run(record(request({ amount: { amount: '10.00', currency: 'USD' } }), 'm-401'), pending())).toEqual({
      batchItemFailures: [{ itemIdentifier: 'm-401' }],
    });
  });

  it('an unreachable webhook fails the record', async () => {
    const url = process.env.PSP_WEBHOOK_URL_SANDBOX;
    process.env.PSP_WEBHOOK_URL_SANDBOX = 'http://127.0.0.1:1/v1/webhooks/psp/sandbox';
    try {
      expect(await run(record(request({ amount: { amount: '10.00', currency: 'USD' } }), 'm-down'), pending())).toEqual({
        batchItemFailures: [{ itemIdentifier: 'm-down' }],
      });
    } finally {
      process.env.PSP_WEBHOOK_URL_SANDBOX = url;
    }
  });

  it('a message that is not a sandbox request fails without calling anyone', async () => {
    const res = await run(record('not json', 'm-junk'), record({ kind: 'deposit' }, 'm-partial'), pending());
    expect(res.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(['m-junk', 'm-partial']);
    expect(deliveries).toHaveLength(0);
  });
});

describe('sandboxChargeback', () => {
  it('sends a signed chargeback.opened with the dispute and writes the chargeback settlement line', async () => {
    const res = await sandboxChargeback({
      providerRef: 'sbx_dep_dep_cb',
      merchantRef: 'dep_cb',
      amount: { amount: 2500n, currency: 'USD' },
      disputeId: 'dp_1',
      reasonCode: '10.4',
    });
    expect(res).toMatchObject({ status: 200, answer: { status: 'applied' } });
    const event = verified(deliveries[0]!);
    expect(event).toMatchObject({
      eventId: res.eventId,
      type: 'chargeback.opened',
      providerRef: 'sbx_dep_dep_cb',
      merchantRef: 'dep_cb',
      amount: { amount: 2500n, currency: 'USD' },
      dispute: { id: 'dp_1', reasonCode: '10.4' },
    });
    expect(String(puts()[0]!.Body)).toContain('sbx_dep_dep_cb,chargeback,25.00,USD,0.00,');

    const again = await sandboxChargeback({
      providerRef: 'sbx_dep_dep_cb',
      merchantRef: 'dep_cb',
      amount: { amount: '25.00', currency: 'USD' },
      disputeId: 'dp_1',
      reasonCode: '10.4',
    });
    expect(again.eventId).toBe(res.eventId);
  });

  it('a refused chargeback webhook throws', async () => {
    answer = () => 401;
    await expect(
      sandboxChargeback({
        providerRef: 'p',
        merchantRef: 'm',
        amount: { amount: '1.00', currency: 'USD' },
        disputeId: 'd',
        reasonCode: 'r',
      }),
    ).rejects.toThrow(/answered 401/);
    expect(puts()).toHaveLength(0);
  });
});
