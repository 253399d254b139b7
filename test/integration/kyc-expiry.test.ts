/**
 * The daily KYC expiry job against DynamoDB Local (functions/jobs/kyc-expiry.ts): a document expiring
 * within the window is flagged once (watch flag + audit + outbox event in one commit), an expired one
 * once (and the client moves to action_required), a valid one is not touched, a watch item of a
 * superseded approval is ignored, and a second run changes nothing. On-demand runs go through
 * POST /v1/admin/jobs/kyc-expiry/runs and record their job-run item.
 */
import { randomUUID } from 'node:crypto';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOB_DETAIL_TYPE } from '#functions/manifest.ts';
import { ddb } from '#shared/clients.ts';
import { auditItems, commit } from '#store/audit.ts';
import { type ClientProfileItem, getClientProfile, putClientProfile } from '#store/clients.ts';
import { getKycExpiry, kycExpiryItem, putKycExpiry } from '#store/kyc.ts';
import { useHandlerEnv } from '../support/api-env.ts';
import { clientProfile } from '../support/clients.ts';
import { apiEvent, bodyOf, claimsFor, lambdaContext } from '../support/events.ts';

const bus = mockClient(EventBridgeClient);
const uid = () => randomUUID().slice(0, 8);
const DAY = 86_400_000;
const isoDay = (offsetDays: number) => new Date(Date.now() + offsetDays * DAY).toISOString().slice(0, 10);

let table: string;
type JobHandler = (event?: unknown) => Promise<{ scanned: number; expiringSoon: number; expired: number; runId?: string }>;
let job: JobHandler;

/** An approved client whose watch item follows `watchedSubmission` (the approval is `approvedSubmission`). */
async function approvedClient(identityExpiresOn: string, opts: { superseded?: boolean } = {}) {
  const clientId = `client-${uid()}`;
  const approvedSubmission = `sub_${uid()}`;
  const watchedSubmission = opts.superseded ? `sub_old_${uid()}` : approvedSubmission;
  const now = new Date().toISOString();
  const profile = clientProfile(
    {
      clientId,
      firstName: 'Anna',
      lastName: 'Schmidt',
      dateOfBirth: '1990-04-01',
      onboarding: { stage: 'approved' },
      kycStatus: 'approved',
      kyc: {
        currentSubmissionId: approvedSubmission,
        approvedSubmissionId: approvedSubmission,
        approvedAt: now,
        identityExpiresOn: opts.superseded ? isoDay(900) : identityExpiresOn,
      },
      personalDetails: undefined,
    },
    now,
  );
  await commit({
    writes: [
      putClientProfile(profile),
      putKycExpiry(kycExpiryItem({ clientId, submissionId: watchedSubmission, identityExpiresOn }, now)),
    ],
    audit: {
      actor: { id: 'system:test', role: 'system' },
      action: 'test.seeded',
      entity: { type: 'client', id: clientId },
      clientId,
      before: null,
      after: null,
      requestId: 'seed',
    },
  });
  return { clientId, profile };
}

const clientActions = async (clientId: string) => {
  const out: string[] = [];
  for await (const page of auditItems({ type: 'client', id: clientId })) out.push(...page.map((a) => a.action));
  return out;
};

async function outboxFor(clientId: string) {
  const res = await ddb().send(
    new ScanCommand({
      TableName: table,
      FilterExpression: '#t = :t AND #d.clientId = :c',
      ExpressionAttributeNames: { '#t': 'type', '#d': 'detail' },
      ExpressionAttributeValues: { ':t': 'outbox', ':c': clientId },
      ConsistentRead: true,
    }),
  );
  return (res.Items ?? []) as { detailType: string; detail: Record<string, unknown> }[];
}

let soon: { clientId: string; profile: ClientProfileItem };
let expired: { clientId: string; profile: ClientProfileItem };
let valid: { clientId: string; profile: ClientProfileItem };
let superseded: { clientId: string; profile: ClientProfileItem };

beforeAll(async () => {
  table = await useHandlerEnv('kyc-expiry');
  job = (await import('#functions/jobs/kyc-expiry.ts')).handler as JobHandler;
  soon = await approvedClient(isoDay(10));
  expired = await approvedClient(isoDay(-1));
  valid = await approvedClient(isoDay(200));
  superseded = await approvedClient(isoDay(-1), { superseded: true });
});
afterAll(() => bus.restore());

describe('kyc-expiry job', () => {
  it('flags each due document once, moves the expired client to action_required, and a second run changes nothing', async () => {
    const scheduled = { 'detail-type': 'Scheduled Event', id: `evt-${uid()}`, source: 'aws.events' };
    const first = await job(scheduled);
    expect(first).toMatchObject({ scanned: 3, expiringSoon: 1, expired: 1 });
    const second = await job({ ...scheduled, id: `evt-${uid()}` });
    expect(second).toMatchObject({ scanned: 3, expiringSoon: 0, expired: 0 });

    // expiring in 10 days: flagged, audited and announced exactly once; the profile is untouched
    const soonWatch = await getKycExpiry(soon.clientId);
    expect(soonWatch!.expiringSoonFlaggedAt).toBeDefined();
    expect(soonWatch!.expiredFlaggedAt).toBeUndefined();
    expect(await clientActions(soon.clientId)).toEqual(['test.seeded', 'kyc.document.expiring_soon']);
    expect(await outboxFor(soon.clientId)).toEqual([
      expect.objectContaining({
        detailType: 'kyc.document_expiring',
        detail: { clientId: soon.clientId, identityExpiresOn: isoDay(10), daysLeft: 10 },
      }),
    ]);
    const soonProfile = await getClientProfile(soon.clientId);
    expect(soonProfile!.kycStatus).toBe('approved');
    expect(soonProfile!.version).toBe(soon.profile.version);

    // expired yesterday: flagged once, client moved to action_required with kyc.expiredAt
    const expiredWatch = await getKycExpiry(expired.clientId);
    expect(expiredWatch!.expiredFlaggedAt).toBeDefined();
    expect(await clientActions(expired.clientId)).toEqual(['test.seeded', 'kyc.document.expired']);
    expect(await outboxFor(expired.clientId)).toEqual([
      expect.objectContaining({
        detailType: 'kyc.expired',
        detail: { clientId: expired.clientId, identityExpiresOn: isoDay(-1) },
      }),
    ]);
    const expiredProfile = await getClientProfile(expired.clientId);
    expect(expiredProfile!.kycStatus).toBe('action_required');
    expect(expiredProfile!.kyc?.expiredAt).toBe(expiredWatch!.expiredFlaggedAt);
    expect(expiredProfile!.kyc?.approvedSubmissionId).toBe(expired.profile.kyc?.approvedSubmissionId);
    expect(expiredProfile!.version).toBe(expired.profile.version + 1);

    // valid for 200 days: not even read
    const validWatch = await getKycExpiry(valid.clientId);
    expect(validWatch!.expiringSoonFlaggedAt).toBeUndefined();
    expect(validWatch!.version).toBe(1);
    expect(await clientActions(valid.clientId)).toEqual(['test.seeded']);

    // a watch of a superseded approval is ignored
    const supWatch = await getKycExpiry(superseded.clientId);
    expect(supWatch!.expiredFlaggedAt).toBeUndefined();
    expect(supWatch!.version).toBe(1);
    expect(await clientActions(superseded.clientId)).toEqual(['test.seeded']);
    expect(await outboxFor(superseded.clientId)).toEqual([]);
    expect((await getClientProfile(superseded.clientId))!.kycStatus).toBe('approved');
  });

  it('the audit evidence carries the dates and days left', async () => {
    const trail = [];
    for await (const page of auditItems({ type: 'client', id: soon.clientId })) trail.push(...page);
    const flagged = trail.find((a) => a.action === 'kyc.document.expiring_soon')!;
    expect(flagged.actor).toEqual({ id: 'system:kyc-expiry', role: 'system' });
    expect(flagged.clientId).toBe(soon.clientId);
    expect(flagged.evidence).toMatchObject({ identityExpiresOn: isoDay(10), daysLeft: 10 });
  });

  it('two concurrent runs flag a newly due document once', async () => {
    const { flagExpiringDocuments } = await import('#app/kyc/flag-expiring-documents.ts');
    const late = await approvedClient(isoDay(-3));
    const run = () => flagExpiringDocuments({ requestId: `kyc-expiry:${new Date().toISOString()}`, locale: 'en' });
    const results = await Promise.all([run(), run()]);
    expect(results.reduce((n, r) => n + r.expired, 0)).toBe(1);
    expect(results.every((r) => r.failed === 0)).toBe(true);
    expect(await clientActions(late.clientId)).toEqual(['test.seeded', 'kyc.document.expired']);
    expect(await outboxFor(late.clientId)).toHaveLength(1);
    expect((await getClientProfile(late.clientId))!.kycStatus).toBe('action_required');
  });

  it('runs on demand: POST /v1/admin/jobs/kyc-expiry/runs, then the job records its run', async () => {
    bus.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e1' }] });
    const jobs = (await import('#functions/api/jobs.ts')).handler;
    const adminClaims = claimsFor(`admin-${uid()}`, ['admin']);
    const r = await jobs(
      apiEvent({
        method: 'POST',
        resource: '/v1/admin/jobs/{job}/runs',
        pathParameters: { job: 'kyc-expiry' },
        claims: adminClaims,
      }),
      lambdaContext(),
    );
    expect(r.statusCode, r.body).toBe(202);
    const { runId } = bodyOf<{ runId: string }>(r);
    const sent = bus.commandCalls(PutEventsCommand)[0]!.args[0].input.Entries![0]!;
    const detail = JSON.parse(sent.Detail!) as { job: string; runId: string; requestedBy: string };
    expect(detail).toMatchObject({ job: 'kyc-expiry', runId });

    const out = await job({ 'detail-type': JOB_DETAIL_TYPE, id: `evt-${uid()}`, detail });
    expect(out).toMatchObject({ runId, expiringSoon: 0, expired: 0 });
    const run = await ddb().send(
      new GetCommand({ TableName: table, Key: { pk: 'JOB#kyc-expiry', sk: `RUN#${runId}` }, ConsistentRead: true }),
    );
    expect(run.Item).toMatchObject({
      status: 'succeeded',
      trigger: 'on_demand',
      summary: { scanned: 4, expiringSoon: 0, expired: 0 },
    });
  });
});
