/**
 * Workers and the audit-verify job against DynamoDB Local, with EventBridge and S3 mocked.
 */

import { createHash } from 'node:crypto';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { HeadObjectCommand, NotFound, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { GetCommand, QueryCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { event } from '#domain/events/index.ts';
import { ddb } from '#shared/clients.ts';
import { commit } from '#store/audit.ts';
import { newClientProfile, putClientProfile } from '#store/clients.ts';
import { newJobRun, putJobRun } from '#store/job-runs.ts';
import { auditKeys, emailKeys } from '#store/keys.ts';
import { useHandlerEnv } from '../support/api-env.ts';
import { lambdaContext } from '../support/events.ts';

const bus = mockClient(EventBridgeClient);
const s3mock = mockClient(S3Client);
let table: string;

beforeAll(async () => {
  // STAGE local: the table email adapter (env.stage 'aws' would send through SES).
  table = await useHandlerEnv('workers', { AUDIT_BUCKET: 'audit-bucket', STAGE: 'local' });
});
afterAll(() => {
  bus.restore();
  s3mock.restore();
});
beforeEach(() => {
  bus.reset();
  s3mock.reset();
});

const get = async (key: { pk: string; sk: string }) =>
  (await ddb().send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }))).Item;
let seq = 0;
const streamRecord = (item: Record<string, unknown>, eventName: 'INSERT' | 'MODIFY' = 'INSERT'): DynamoDBRecord => ({
  eventName,
  dynamodb: {
    SequenceNumber: String(++seq).padStart(10, '0'),
    NewImage: marshall(item, { removeUndefinedValues: true }) as never,
  },
});
const actor = { id: 'system:test', role: 'system' };

async function scanType(type: string) {
  const res = await ddb().send(
    new ScanCommand({
      TableName: table,
      ConsistentRead: true,
      FilterExpression: '#t = :t',
      ExpressionAttributeNames: { '#t': 'type' },
      ExpressionAttributeValues: { ':t': type },
    }),
  );
  return res.Items ?? [];
}

describe('outbox relay', () => {
  it('publishes outbox INSERTs in chunks of 10 with detail.eventId; failed entries become batchItemFailures', async () => {
    const { handler } = await import('#functions/workers/outbox-relay.ts');
    const events = Array.from({ length: 12 }, (_, i) =>
      event('ledger.hold.expired', { holdId: `relay-${i}`, accountId: 'relay-test' }),
    );
    await commit({
      writes: [],
      audit: { actor, action: 'relay.test', entity: { type: 't', id: 'relay' }, before: null, after: null, requestId: 'r' },
      outbox: events,
    });
    const items = (await scanType('outbox')).filter((i) => i.detail?.accountId === 'relay-test');
    expect(items).toHaveLength(12);
    const records = [...items.map((i) => streamRecord(i)), streamRecord({ pk: 'X', sk: 'Y', type: 'client' })];
    bus.on(PutEventsCommand).callsFake(async (input: { Entries: unknown[] }) => ({
      FailedEntryCount: input.Entries.length === 10 ? 1 : 0,
      Entries: input.Entries.map((_, j) =>
        input.Entries.length === 10 && j === 3 ? { ErrorCode: 'InternalFailure' } : { EventId: `e${j}` },
      ),
    }));
    const res = await handler({ Records: records });
    const calls = bus.commandCalls(PutEventsCommand);
    expect(calls.map((c) => c.args[0].input.Entries!.length)).toEqual([10, 2]);
    const first = calls[0]!.args[0].input.Entries![0]!;
    expect(first).toMatchObject({ EventBusName: 'bus', Source: 'backoffice', DetailType: 'ledger.hold.expired' });
    expect(JSON.parse(first.Detail!)).toEqual({ ...items[0]!.detail, eventId: items[0]!.eventId, eventVersion: 1 });
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: records[3]!.dynamodb!.SequenceNumber }]);
  });
});

describe('outbox relay, malformed items', () => {
  it('skips an outbox image that does not parse (acknowledged, nothing published for it) and publishes the rest', async () => {
    const { handler } = await import('#functions/workers/outbox-relay.ts');
    bus.reset();
    bus.on(PutEventsCommand).callsFake(async (input: { Entries: unknown[] }) => ({
      FailedEntryCount: 0,
      Entries: input.Entries.map((_, j) => ({ EventId: `m${j}` })),
    }));
    await commit({
      writes: [],
      audit: { actor, action: 'relay.test', entity: { type: 't', id: 'relay-m' }, before: null, after: null, requestId: 'r' },
      outbox: [event('ledger.hold.expired', { holdId: 'relay-m', accountId: 'relay-malformed' })],
    });
    const good = (await scanType('outbox')).find((i) => i.detail?.accountId === 'relay-malformed')!;
    const { detailType: _dropped, ...broken } = good;
    const records = [streamRecord({ ...broken, eventId: 'broken-1', pk: 'OUTBOX#broken-1' }), streamRecord(good)];
    const res = await handler({ Records: records });
    expect(res.batchItemFailures).toEqual([]);
    const entries = bus.commandCalls(PutEventsCommand).flatMap((c) => c.args[0].input.Entries ?? []);
    expect(entries.map((e) => JSON.parse(e.Detail!).eventId)).toEqual([good.eventId]);
  });
});

describe('audit archiver', () => {
  it('writes one NDJSON object per audit item at a key derived from the item, with Content-MD5 and a checksum', async () => {
    const { handler } = await import('#functions/workers/audit-archiver.ts');
    const { archiveKey } = await import('#store/audit-archive.ts');
    await commit({
      writes: [],
      audit: {
        actor,
        action: 'archive.test',
        entity: { type: 'client', id: 'arch-1' },
        clientId: 'arch-1',
        before: null,
        after: { a: 1 },
        requestId: 'r',
      },
    });
    const item = await get(auditKeys.item('client', 'arch-1', 1));
    s3mock.on(PutObjectCommand).resolves({});
    const res = await handler({ Records: [streamRecord(item!), streamRecord(item!)] }, lambdaContext('audit-archiver'));
    expect(res.batchItemFailures).toEqual([]);
    const calls = s3mock.commandCalls(PutObjectCommand);
    expect(calls).toHaveLength(2);
    const input = calls[0]!.args[0].input;
    const d = new Date(item!.at as string);
    const ymd = `${d.getUTCFullYear()}/${String(d.getUTCMonth() + 1).padStart(2, '0')}/${String(d.getUTCDate()).padStart(2, '0')}`;
    expect(input.Key).toBe(`audit/${ymd}/client/arch-1/000000000001.json`);
    expect(calls[1]!.args[0].input.Key).toBe(input.Key);
    expect(archiveKey(item as never)).toBe(input.Key);
    expect(input).toMatchObject({ Bucket: 'audit-bucket', ChecksumAlgorithm: 'SHA256' });
    const body = input.Body as string;
    expect(body.endsWith('\n')).toBe(true);
    expect(JSON.parse(body)).toMatchObject({ seq: 1, hash: item!.hash, prevHash: item!.prevHash, action: 'archive.test' });
    expect(input.ContentMD5).toBe(createHash('md5').update(body).digest('base64'));
  });
});

describe('notifications', () => {
  it('sends the welcome email once per event id, however often it is delivered; unknown types are acknowledged', async () => {
    const { handler } = await import('#functions/workers/notifications.ts');
    const now = new Date().toISOString();
    const profile = newClientProfile(
      {
        clientId: 'n-1',
        email: 'Nina@Example.com'.toLowerCase(),
        firstName: 'Nina',
        lastName: 'N',
        dateOfBirth: '1990-01-01',
        countryOfResidence: 'DE',
        jurisdiction: 'EU',
        clientType: 'retail',
        locale: 'de',
        status: 'active',
        onboarding: { stage: 'registered' },
      },
      now,
    );
    await commit({
      writes: [putClientProfile(profile)],
      audit: {
        actor,
        action: 'client.registered',
        entity: { type: 'client', id: 'n-1' },
        clientId: 'n-1',
        before: null,
        after: null,
        requestId: 'r',
      },
    });
    const envelope = (id: string, type: string, detail: Record<string, unknown>) =>
      ({ messageId: id, body: JSON.stringify({ id, source: 'backoffice', 'detail-type': type, detail }) }) as SQSRecord;
    const registered = {
      clientId: 'n-1',
      country: 'DE',
      clientType: 'retail',
      referralCode: null,
      locale: 'en',
      eventId: 'evt-1',
    };
    const ev = envelope('env-1', 'client.registered', registered);
    const redelivered = envelope('env-2', 'client.registered', registered);
    const other = envelope('env-3', 'something.else', { eventId: 'evt-2' });
    const broken = { messageId: 'bad', body: 'not json' } as SQSRecord;
    const res = await handler({ Records: [ev, other, broken] }, lambdaContext('notifications'));
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'bad' }]);
    await handler({ Records: [redelivered] }, lambdaContext('notifications'));
    const mails = await ddb().send(
      new QueryCommand({
        TableName: table,
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :p',
        ExpressionAttributeValues: { ':p': emailKeys.recipientPartition('nina@example.com') },
      }),
    );
    expect(mails.Items).toHaveLength(1);
    expect(mails.Items![0]).toMatchObject({
      type: 'email',
      template: 'welcome',
      locale: 'de',
      to: 'nina@example.com',
      dedupeId: 'evt-1',
      subject: 'Willkommen bei Demo Markets',
    });
  });
});

describe('audit-verify job', () => {
  it('verifies every chain, records findings on the run and audits each broken chain', async () => {
    const { handler } = await import('#functions/jobs/audit-verify.ts');
    for (let i = 0; i < 3; i++) {
      await commit({
        writes: [],
        audit: {
          actor,
          action: 'edit',
          entity: { type: 'client', id: 'verify-bad' },
          clientId: 'verify-bad',
          before: null,
          after: { i },
          requestId: 'r',
        },
      });
      await commit({
        writes: [],
        audit: {
          actor,
          action: 'edit',
          entity: { type: 'client', id: 'verify-good' },
          before: null,
          after: { i },
          requestId: 'r',
        },
      });
    }
    await ddb().send(
      new UpdateCommand({
        TableName: table,
        Key: auditKeys.item('client', 'verify-bad', 2),
        UpdateExpression: 'SET #r = :r',
        ExpressionAttributeNames: { '#r': 'reason' },
        ExpressionAttributeValues: { ':r': 'edited' },
      }),
    );
    const summary = await handler({ 'detail-type': 'Scheduled Event', id: 'sched-1' });
    expect(summary.findings).toContainEqual({
      entityType: 'client',
      entityId: 'verify-bad',
      clientId: 'verify-bad',
      seq: 2,
      reason: 'hash_mismatch',
    });
    expect(summary.findings.some((f) => f.entityId === 'verify-good')).toBe(false);
    const run = await get({ pk: 'JOB#audit-verify', sk: `RUN#${summary.runId}` });
    expect(run).toMatchObject({ type: 'job-run', status: 'succeeded', summary: { chainsBroken: summary.chainsBroken } });
    const finding = await get(auditKeys.item('audit-chain', 'client:verify-bad', 1));
    expect(finding).toMatchObject({
      action: 'audit.chain.broken',
      clientId: 'verify-bad',
      after: { seq: 2, reason: 'hash_mismatch' },
    });
  });
});

describe('audit-verify job: the archive and failed runs', () => {
  const HOUR = 3_600_000;
  /** Commits `n` audit items for one entity, an hour ago (older than the archive grace period). */
  async function oldChain(id: string, n: number) {
    const at = new Date(Date.now() - HOUR);
    for (let i = 0; i < n; i++) {
      await commit({
        writes: [],
        audit: {
          actor,
          action: 'edit',
          entity: { type: 'client', id },
          clientId: id,
          before: null,
          after: { i },
          requestId: 'r',
        },
        now: () => at,
      });
    }
  }

  it('reports a chain tip missing from the archive as archive_missing and re-archives it as the archiver would', async () => {
    const { handler } = await import('#functions/jobs/audit-verify.ts');
    const { archiveKey, archiveLine } = await import('#store/audit-archive.ts');
    await oldChain('archive-ok', 2);
    await oldChain('archive-hole', 3);
    const tip = (await get(auditKeys.item('client', 'archive-hole', 3)))!;
    const holeKey = archiveKey(tip as never);
    s3mock.on(HeadObjectCommand).resolves({});
    s3mock.on(HeadObjectCommand, { Key: holeKey }).rejects(new NotFound({ message: 'Not Found', $metadata: {} }));
    s3mock.on(PutObjectCommand).resolves({});

    const summary = await handler({ 'detail-type': 'Scheduled Event', id: 'sched-archive' });
    expect(summary.findings).toContainEqual({
      entityType: 'client',
      entityId: 'archive-hole',
      clientId: 'archive-hole',
      seq: 3,
      reason: 'archive_missing',
      rearchived: true,
    });
    expect(summary.findings.some((f) => f.entityId === 'archive-ok')).toBe(false);
    expect(summary.archivesMissing).toBe(1);
    expect(summary.archivesChecked).toBeGreaterThanOrEqual(2);
    const heads = s3mock.commandCalls(HeadObjectCommand).map((c) => c.args[0].input);
    expect(heads).toContainEqual({ Bucket: 'audit-bucket', Key: holeKey });
    expect(heads.some((h) => h.Key!.includes('/archive-ok/000000000002.json'))).toBe(true);
    const puts = s3mock.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    expect(puts).toHaveLength(1);
    expect(puts[0]).toMatchObject({
      Bucket: 'audit-bucket',
      Key: holeKey,
      Body: archiveLine(tip as never),
      ChecksumAlgorithm: 'SHA256',
    });

    const run = await get({ pk: 'JOB#audit-verify', sk: `RUN#${summary.runId}` });
    expect(run).toMatchObject({ status: 'succeeded', summary: { archivesMissing: 1 } });
    const finding = await get(auditKeys.item('audit-chain', 'client:archive-hole', 1));
    expect(finding).toMatchObject({
      action: 'audit.archive.missing',
      clientId: 'archive-hole',
      after: { seq: 3, reason: 'archive_missing', rearchived: true },
    });
  });

  it('a run that throws is recorded as failed with the error, and the error is rethrown', async () => {
    const { handler } = await import('#functions/jobs/audit-verify.ts');
    await oldChain('archive-denied', 1);
    const runId = '01AUDITVERIFYFAILEDRUN0001';
    const now = new Date().toISOString();
    await commit({
      writes: [
        putJobRun(
          newJobRun({ job: 'audit-verify', runId, status: 'requested', requestedBy: 'admin-1', trigger: 'on_demand' }, now),
        ),
      ],
      audit: {
        actor,
        action: 'job.run.requested',
        entity: { type: 'job', id: 'audit-verify' },
        before: null,
        after: null,
        requestId: 'r',
      },
    });
    s3mock.on(HeadObjectCommand).rejects(
      new S3ServiceException({
        name: 'AccessDenied',
        $fault: 'client',
        message: 'Access Denied',
        $metadata: { httpStatusCode: 403 },
      }),
    );

    await expect(
      handler({
        'detail-type': 'job.run.requested',
        id: 'evt-fail',
        detail: { job: 'audit-verify', runId, requestedBy: 'admin-1' },
      }),
    ).rejects.toThrow('Access Denied');
    const run = await get({ pk: 'JOB#audit-verify', sk: `RUN#${runId}` });
    expect(run).toMatchObject({ status: 'failed', trigger: 'on_demand', finishedAt: expect.any(String) });
    expect(run!.summary.error).toContain('Access Denied');
    expect(s3mock.commandCalls(PutObjectCommand)).toHaveLength(0);
  });
});
