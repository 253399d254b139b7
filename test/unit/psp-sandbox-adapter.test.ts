/**
 * The sandbox PSP adapter: each call enqueues one request (SQS mocked with aws-sdk-client-mock) in the
 * shape the worker reads, provider refs are deterministic per idempotency key, the next action fits the
 * method kind, and verifyWebhook accepts the sandbox's own signature and refuses anything else.
 */

import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { isValidIBAN } from 'ibantools';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sandboxPsp } from '#adapters/psp/sandbox.ts';
import { sandboxRequestSchema, settlementCsv } from '#adapters/psp/sandbox-protocol.ts';
import { signWebhook } from '#adapters/psp/webhook-signature.ts';
import { DomainError } from '#domain/errors.ts';
import type { DepositIntentRequest, WebhookInput } from '#domain/payments/ports.ts';
import { useDemoTenant } from '../support/tenant.ts';

useDemoTenant();
const sqs = mockClient(SQSClient);
const s3 = mockClient(S3Client);
const QUEUE_URL = 'http://localhost/queue/psp-sandbox';
const SECRET = 'whsec_sandbox_test_secret';

beforeAll(() => {
  process.env.QUEUE_URL_PSP_SANDBOX = QUEUE_URL;
  process.env.SETTLEMENTS_BUCKET = 'settlements';
});
beforeEach(() => {
  sqs.reset();
  s3.reset();
  sqs.on(SendMessageCommand).resolves({ MessageId: 'm1' });
});
afterAll(() => {
  sqs.restore();
  s3.restore();
});

const psp = sandboxPsp();
const usd = (amount: bigint) => ({ amount, currency: 'USD' });
const deposit = (over: Partial<DepositIntentRequest> = {}): DepositIntentRequest => ({
  depositId: 'dep_abc123',
  clientId: 'cl_1',
  methodId: 'card',
  amount: usd(10_000n),
  idempotencyKey: 'dep_abc123',
  ...over,
});
const sent = () => sqs.commandCalls(SendMessageCommand).map((c) => c.args[0].input);
const lastMessage = () => sandboxRequestSchema.parse(JSON.parse(sent().at(-1)!.MessageBody!));

function refusal(f: () => unknown): DomainError {
  try {
    f();
  } catch (e) {
    if (e instanceof DomainError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('requests', () => {
  it('a deposit intent enqueues one delayed request the worker can read, with the card source', async () => {
    const intent = await psp.createDepositIntent(deposit());
    expect(intent).toEqual({
      providerRef: 'sbx_dep_dep_abc123',
      status: 'pending',
      nextAction: { type: 'redirect', url: 'https://sandbox-psp.invalid/pay/sbx_dep_dep_abc123' },
    });
    expect(sent()).toHaveLength(1);
    expect(sent()[0]).toMatchObject({ QueueUrl: QUEUE_URL, DelaySeconds: 1 });
    expect(lastMessage()).toMatchObject({
      kind: 'deposit',
      providerRef: 'sbx_dep_dep_abc123',
      merchantRef: 'dep_abc123',
      amount: { amount: '100.00', currency: 'USD' },
      methodKind: 'card',
      source: { fingerprint: expect.stringMatching(/^card_[0-9a-f]{24}$/), display: 'Visa •4242' },
    });
  });

  it('the same idempotency key gives the same ref and the same request; another key another ref', async () => {
    const a = await psp.createDepositIntent(deposit());
    const first = lastMessage();
    const b = await psp.createDepositIntent(deposit());
    const second = lastMessage();
    expect(b.providerRef).toBe(a.providerRef);
    expect({ ...second, requestedAt: '' }).toEqual({ ...first, requestedAt: '' });
    const c = await psp.createDepositIntent(deposit({ depositId: 'dep_other', idempotencyKey: 'dep_other' }));
    expect(c.providerRef).toBe('sbx_dep_dep_other');
  });

  it("a client's card fingerprint is the same on every deposit and differs between clients", async () => {
    await psp.createDepositIntent(deposit({ depositId: 'd1', idempotencyKey: 'd1' }));
    const one = lastMessage().source;
    await psp.createDepositIntent(deposit({ depositId: 'd2', idempotencyKey: 'd2' }));
    expect(lastMessage().source).toEqual(one);
    await psp.createDepositIntent(deposit({ depositId: 'd3', idempotencyKey: 'd3', clientId: 'cl_2' }));
    expect(lastMessage().source?.fingerprint).not.toBe(one?.fingerprint);
  });

  it('a key that is not URL-safe is hashed into the ref, deterministically', async () => {
    const a = await psp.createDepositIntent(deposit({ idempotencyKey: 'weird key/with spaces' }));
    const b = await psp.createDepositIntent(deposit({ idempotencyKey: 'weird key/with spaces' }));
    expect(a.providerRef).toMatch(/^sbx_dep_h[0-9a-f]{32}$/);
    expect(b.providerRef).toBe(a.providerRef);
  });

  it('bank wire: the demo account with a reference from the deposit id; the source is a valid IBAN', async () => {
    const intent = await psp.createDepositIntent(
      deposit({
        methodId: 'sepa-wire',
        amount: { amount: 50_000n, currency: 'EUR' },
        depositId: 'dep_w1',
        idempotencyKey: 'dep_w1',
      }),
    );
    expect(intent.nextAction).toEqual({
      type: 'bank_transfer',
      reference: expect.stringMatching(/^SBX-[0-9A-F]{12}$/),
      beneficiary: expect.any(String),
      iban: 'DE89370400440532013000',
      bic: 'COBADEFFXXX',
    });
    const again = await psp.createDepositIntent(
      deposit({
        methodId: 'sepa-wire',
        amount: { amount: 50_000n, currency: 'EUR' },
        depositId: 'dep_w1',
        idempotencyKey: 'dep_w1',
      }),
    );
    expect(again.nextAction).toEqual(intent.nextAction);
    const source = lastMessage().source!;
    expect(isValidIBAN(source.fingerprint)).toBe(true);
    expect(source.display).toBe(`${source.fingerprint.slice(0, 4)} •••• ${source.fingerprint.slice(-4)}`);
  });

  it('crypto: a TRON address on the method network, deterministic per deposit', async () => {
    const req = deposit({ methodId: 'usdt-trc20', amount: { amount: 25_000_000n, currency: 'USDT' } });
    const a = await psp.createDepositIntent(req);
    expect(a.nextAction).toEqual({
      type: 'crypto_address',
      network: 'TRC20',
      address: expect.stringMatching(/^T[1-9A-HJ-NP-Za-km-z]{33}$/),
    });
    expect((await psp.createDepositIntent(req)).nextAction).toEqual(a.nextAction);
    const b = await psp.createDepositIntent({ ...req, depositId: 'dep_zz', idempotencyKey: 'dep_zz' });
    expect(b.nextAction).not.toEqual(a.nextAction);
    expect(lastMessage().methodKind).toBe('crypto');
  });

  it('e-wallet: a redirect (with the return URL) and the wallet as the source', async () => {
    const intent = await psp.createDepositIntent(deposit({ methodId: 'skrill', returnUrl: 'https://app.example.com/done?x=1' }));
    expect(intent.nextAction).toEqual({
      type: 'redirect',
      url: `https://sandbox-psp.invalid/pay/sbx_dep_dep_abc123?return_url=${encodeURIComponent('https://app.example.com/done?x=1')}`,
    });
    expect(lastMessage().source).toEqual({
      fingerprint: expect.stringMatching(/^ew_[0-9a-f]{24}$/),
      display: expect.stringMatching(/^Skrill •\d{4}$/),
    });
  });

  it('a payout is processing and a refund pending, each enqueued with our id as the merchant ref', async () => {
    const payout = await psp.createPayout({
      withdrawalId: 'wd_1',
      clientId: 'cl_1',
      methodId: 'card',
      amount: usd(5_000n),
      destination: { account: 'card_x' },
      idempotencyKey: 'wd_1',
    });
    expect(payout).toEqual({ providerRef: 'sbx_po_wd_1', status: 'processing' });
    expect(lastMessage()).toMatchObject({
      kind: 'payout',
      providerRef: 'sbx_po_wd_1',
      merchantRef: 'wd_1',
      amount: { amount: '50.00', currency: 'USD' },
    });

    const refund = await psp.refund({
      depositProviderRef: 'sbx_dep_d1',
      amount: usd(1_000n),
      idempotencyKey: 'rf_1',
      reason: 'client_request',
    });
    expect(refund).toEqual({ providerRef: 'sbx_rf_rf_1', status: 'pending' });
    expect(lastMessage()).toMatchObject({
      kind: 'refund',
      providerRef: 'sbx_rf_rf_1',
      merchantRef: 'rf_1',
      amount: { amount: '10.00', currency: 'USD' },
    });
    expect(sent().every((m) => m.DelaySeconds === 1)).toBe(true);
  });

  it('a queue failure is thrown, not reported as accepted', async () => {
    sqs.on(SendMessageCommand).rejects(new Error('queue down'));
    await expect(psp.createDepositIntent(deposit())).rejects.toThrow('queue down');
  });

  it('an unknown method is a configuration error and sends nothing', async () => {
    await expect(psp.createDepositIntent(deposit({ methodId: 'nope' }))).rejects.toThrow(/unknown payment method/);
    expect(sent()).toHaveLength(0);
  });
});

describe('verifyWebhook', () => {
  const NOW = new Date('2026-03-01T10:00:00Z');
  const body = {
    id: 'sbx_evt_1',
    type: 'deposit.succeeded',
    providerRef: 'sbx_dep_dep_abc123',
    merchantRef: 'dep_abc123',
    amount: { amount: '100.00', currency: 'USD' },
    occurredAt: NOW.toISOString(),
    source: { fingerprint: 'card_1', display: 'Visa •4242' },
  };
  const input = (raw: string, header?: string): WebhookInput => ({
    headers: header === undefined ? {} : { 'x-psp-signature': header },
    rawBody: raw,
    now: NOW,
    secrets: [SECRET],
  });

  it('accepts its own signature and maps the body to a PspEvent in minor units', () => {
    const raw = JSON.stringify(body);
    expect(psp.verifyWebhook(input(raw, signWebhook(SECRET, raw, NOW)))).toEqual({
      eventId: 'sbx_evt_1',
      type: 'deposit.succeeded',
      providerRef: 'sbx_dep_dep_abc123',
      merchantRef: 'dep_abc123',
      amount: { amount: 10_000n, currency: 'USD' },
      occurredAt: NOW.toISOString(),
      source: { fingerprint: 'card_1', display: 'Visa •4242' },
    });
  });

  it('carries the dispute of a chargeback', () => {
    const raw = JSON.stringify({
      ...body,
      type: 'chargeback.opened',
      source: undefined,
      dispute: { id: 'dp_1', reasonCode: '10.4' },
    });
    expect(psp.verifyWebhook(input(raw, signWebhook(SECRET, raw, NOW))).dispute).toEqual({ id: 'dp_1', reasonCode: '10.4' });
  });

  it('refuses unsigned, tampered, wrongly keyed and stale deliveries with 401 codes', () => {
    const raw = JSON.stringify(body);
    expect(refusal(() => psp.verifyWebhook(input(raw))).code).toBe('signature_missing');
    const tampered = raw.replace('100.00', '900.00');
    expect(refusal(() => psp.verifyWebhook(input(tampered, signWebhook(SECRET, raw, NOW)))).code).toBe('signature_invalid');
    expect(refusal(() => psp.verifyWebhook(input(raw, signWebhook('other', raw, NOW)))).code).toBe('signature_invalid');
    const old = new Date(NOW.getTime() - 6 * 60_000);
    const e = refusal(() => psp.verifyWebhook(input(raw, signWebhook(SECRET, raw, old))));
    expect([e.code, e.kind]).toEqual(['signature_expired', 'unauthorized']);
  });

  it('a signed body it cannot read is 400 webhook_malformed', () => {
    for (const raw of [
      'not json',
      JSON.stringify({ ...body, type: 'deposit.exploded' }),
      JSON.stringify({ ...body, amount: { amount: '1.234', currency: 'USD' } }),
      JSON.stringify({ ...body, amount: { amount: '0.00', currency: 'USD' } }),
      JSON.stringify({ ...body, amount: { amount: '1.00', currency: 'XXX' } }),
      JSON.stringify({ ...body, id: undefined }),
    ]) {
      const e = refusal(() => psp.verifyWebhook(input(raw, signWebhook(SECRET, raw, NOW))));
      expect([e.code, e.kind], raw).toEqual(['webhook_malformed', 'validation']);
    }
  });

  it('checks the signature before reading the body: an unsigned malformed body is 401, not 400', () => {
    expect(refusal(() => psp.verifyWebhook(input('not json'))).code).toBe('signature_missing');
  });
});

describe('settlementReport', () => {
  // The part of the SDK's stream body the adapter uses.
  const stream = (text: string) => ({ transformToString: async () => text });

  it("reads the worker's CSV files for the period's dates and keeps lines inside [from, to)", async () => {
    const files: Record<string, string> = {
      'psp/sandbox/2026-03-01/e1.csv': settlementCsv({
        providerRef: 'sbx_dep_a',
        kind: 'deposit',
        amount: usd(10_050n),
        settledAt: new Date('2026-03-01T09:00:00Z'),
      }),
      'psp/sandbox/2026-03-02/e2.csv': settlementCsv({
        providerRef: 'sbx_po_b',
        kind: 'payout',
        amount: { amount: 100n, currency: 'JPY' },
        settledAt: new Date('2026-03-02T23:59:59Z'),
      }),
      'psp/sandbox/2026-03-02/e3.csv': settlementCsv({
        providerRef: 'sbx_rf_c',
        kind: 'refund',
        amount: usd(1n),
        settledAt: new Date('2026-03-03T00:00:00Z'),
      }),
    };
    s3.on(ListObjectsV2Command).callsFake((input: { Prefix: string }) => ({
      Contents: Object.keys(files)
        .filter((k) => k.startsWith(input.Prefix))
        .map((Key) => ({ Key })),
    }));
    s3.on(GetObjectCommand).callsFake((input: { Key: string }) => ({ Body: stream(files[input.Key]!) }));

    const lines = await psp.settlementReport({ from: new Date('2026-03-01T00:00:00Z'), to: new Date('2026-03-03T00:00:00Z') });
    expect(
      s3
        .commandCalls(ListObjectsV2Command)
        .map((c) => c.args[0].input.Prefix)
        .sort(),
    ).toEqual(['psp/sandbox/2026-03-01/', 'psp/sandbox/2026-03-02/']);
    expect(lines).toEqual([
      {
        providerRef: 'sbx_dep_a',
        kind: 'deposit',
        amount: usd(10_050n),
        providerFee: usd(0n),
        settledAt: '2026-03-01T09:00:00.000Z',
      },
      {
        providerRef: 'sbx_po_b',
        kind: 'payout',
        amount: { amount: 100n, currency: 'JPY' },
        providerFee: { amount: 0n, currency: 'JPY' },
        settledAt: '2026-03-02T23:59:59.000Z',
      },
    ]);
  });

  it('an unreadable file fails the report, naming the file, the line and the column', async () => {
    const key = 'psp/sandbox/2026-03-01/bad.csv';
    s3.on(ListObjectsV2Command).resolves({ Contents: [{ Key: key }] });
    s3.on(GetObjectCommand).resolves({
      Body: stream(
        'provider_ref,kind,amount,currency,provider_fee,settled_at\nsbx_dep_a,deposit,10.5.0,USD,0,2026-03-01T09:00:00Z\n',
      ),
    } as never);
    await expect(
      psp.settlementReport({ from: new Date('2026-03-01T00:00:00Z'), to: new Date('2026-03-02T00:00:00Z') }),
    ).rejects.toMatchObject({ message: expect.stringContaining(key) });
  });
});
