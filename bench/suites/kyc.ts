/**
 * KYC: N submissions (default 200, BENCH_KYC_SUBMISSIONS) started at once in the local runtime, through
 * the real route, outbox, event rule, kyc-review state machine, steps and sandbox analyzer. A bench
 * "compliance officer" decides each manual review as soon as it reaches the queue, through the admin
 * route. Reported: time to the last decision, p50/p99 per submission (submit -> final decision), the
 * share decided automatically, and the checks that none was lost (every submission final, every
 * execution SUCCEEDED) or decided twice (one decision audit item each). Baseline, same run: the same
 * ASL file in the same engine with tasks that return at once, so the ratio is the cost of our steps.
 *
 * Mix (by index): 70 % clean documents (auto-approve), 15 % expired passport (auto-reject),
 * 15 % blurry passport (confidence 0.4: manual review, approved by the bench reviewer).
 * Setup (profiles, uploads through presigned POST) is not timed.
 */
import { randomUUID } from 'node:crypto';
import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { stateMachines } from '#functions/manifest.ts';
import { LocalStepFunctions } from '#local/aws/states.ts';
import { invoke } from '#local/lambda.ts';
import { ddb, sfn } from '#shared/clients.ts';
import { env } from '#shared/env.ts';
import { systemActor } from '#store/audit.ts';
import { auditKeys } from '#store/keys.ts';
import { getKycSubmission } from '#store/kyc.ts';
import { FIXTURE_PERSON, seedClient } from '../../test/support/clients.ts';
import { apiEvent, claimsFor } from '../../test/support/events.ts';
import { percentile } from '../lib.ts';

type Kind = 'clean' | 'expired' | 'blurry';
const kindOf = (i: number): Kind => (i % 20 < 14 ? 'clean' : i % 20 < 17 ? 'expired' : 'blurry');
const FINAL = new Set(['approved', 'rejected', 'documents_requested']);
const isoDay = (d: Date) => d.toISOString().slice(0, 10);

// biome-ignore lint/suspicious/noExplicitAny: proxy results are parsed field by field
async function api(fn: string, input: Parameters<typeof apiEvent>[0]): Promise<{ status: number; body: any }> {
  const res = (await invoke(fn, apiEvent(input))) as { statusCode: number; body: string };
  return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : undefined };
}

function passport(i: number, kind: Kind, run: string) {
  return {
    documentType: 'passport',
    fields: {
      ...FIXTURE_PERSON,
      documentNumber: `C${run}${String(i).padStart(5, '0')}`.toUpperCase(),
      expiryDate: kind === 'expired' ? '2024-03-01' : '2032-05-20',
      issuingCountry: 'DEU',
    },
    confidence: kind === 'blurry' ? 0.4 : 0.97,
  };
}

const addressProof = () => ({
  documentType: 'proof_of_address',
  fields: {
    name: 'Anna Maria Eriksson',
    address: 'Hauptstraße 5, Berlin',
    postalCode: '10115',
    country: 'DE',
    issueDate: isoDay(new Date(Date.now() - 10 * 86_400_000)),
  },
  confidence: 0.95,
});

async function createClient(clientId: string) {
  await seedClient(
    {
      clientId,
      email: `${clientId}@bench.test`,
      onboarding: { stage: 'profile_completed', profileCompletedAt: new Date().toISOString() },
    },
    { actor: systemActor('bench'), requestId: 'bench' },
  );
}

/** Requests an upload and posts the JSON document through the presigned POST, as a browser would. */
async function upload(clientId: string, category: string, documentType: string, doc: object, side?: 'front') {
  const text = JSON.stringify(doc);
  const claims = claimsFor(clientId, ['client']);
  const r = await api('api-kyc', {
    method: 'POST',
    resource: '/v1/kyc/documents',
    claims,
    body: { category, documentType, ...(side ? { side } : {}), contentType: 'application/json', size: Buffer.byteLength(text) },
  });
  if (r.status !== 201) throw new Error(`upload request: ${r.status} ${JSON.stringify(r.body)}`);
  const form = new FormData();
  for (const [k, v] of Object.entries(r.body.upload.fields as Record<string, string>)) form.append(k, v);
  form.append('file', new Blob([text], { type: 'application/json' }));
  const res = await fetch(r.body.upload.url, { method: 'POST', body: form });
  if (res.status >= 300) throw new Error(`presigned POST: ${res.status} ${await res.text()}`);
  return r.body.documentId as string;
}

async function decisionsRecorded(submissionId: string): Promise<number> {
  const res = await ddb().send(
    new QueryCommand({
      TableName: env.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :seq)',
      ExpressionAttributeValues: { ':pk': auditKeys.partition('kyc-submission', submissionId), ':seq': auditKeys.seqPrefix },
    }),
  );
  return (res.Items ?? []).filter((i) => i.action === 'kyc.submission.decided').length;
}

/** The same ASL in the same engine, tasks answering at once: orchestration cost alone. */
async function engineBaseline(n: number): Promise<{ total: number; p50: number; p99: number }> {
  const spec = stateMachines.find((m) => m.name === 'kyc-review')!;
  const states = new LocalStepFunctions({
    stateMachines: [spec],
    log: () => undefined,
    invoke: async (fn) => (fn === 'kyc-assess' ? { outcome: 'approve' } : {}),
  });
  const arn = states.arns()['kyc-review']!;
  const t0 = performance.now();
  const times = await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const start = performance.now();
      const out = (await states.handle('StartExecution', {
        stateMachineArn: arn,
        name: `baseline-${i}`,
        input: JSON.stringify({ submissionId: `b${i}`, clientId: `c${i}`, units: ['identity', 'address'] }),
      })) as { executionArn: string };
      const rec = await states.waitFor(out.executionArn);
      if (rec.status !== 'SUCCEEDED') throw new Error(`baseline execution ${rec.status}`);
      return performance.now() - start;
    }),
  );
  const total = performance.now() - t0;
  states.stop();
  times.sort((a, b) => a - b);
  return { total, p50: percentile(times, 50), p99: percentile(times, 99) };
}

export async function kycSuite(opts: { submissions?: number } = {}) {
  const n = opts.submissions ?? Number(process.env.BENCH_KYC_SUBMISSIONS ?? 200);
  const run = randomUUID().replace(/-/g, '').slice(0, 6);
  const clients = Array.from({ length: n }, (_, i) => ({ i, clientId: `bench-kyc-${run}-${i}`, kind: kindOf(i) }));

  // Setup: profiles and uploads (not timed).
  const setupStart = performance.now();
  const docs = new Map<string, string[]>();
  for (let b = 0; b < clients.length; b += 25) {
    await Promise.all(
      clients.slice(b, b + 25).map(async (c) => {
        await createClient(c.clientId);
        const id = await upload(c.clientId, 'identity', 'passport', passport(c.i, c.kind, run), 'front');
        const poa = await upload(c.clientId, 'proof_of_address', 'utility_bill', addressProof());
        docs.set(c.clientId, [id, poa]);
      }),
    );
  }
  const setupSeconds = (performance.now() - setupStart) / 1000;

  // Timed: every submission at once.
  const submittedAt = new Map<string, number>();
  const decidedAt = new Map<string, number>();
  const t0 = performance.now();
  const submissions = await Promise.all(
    clients.map(async (c) => {
      const r = await api('api-kyc', {
        method: 'POST',
        resource: '/v1/kyc/submissions',
        claims: claimsFor(c.clientId, ['client']),
        body: { documentIds: docs.get(c.clientId) },
      });
      if (r.status !== 202) throw new Error(`submit: ${r.status} ${JSON.stringify(r.body)}`);
      submittedAt.set(r.body.submissionId, performance.now());
      return { ...c, submissionId: r.body.submissionId as string };
    }),
  );
  const submitSeconds = (performance.now() - t0) / 1000;

  // The bench reviewer approves whatever reaches the queue; the poller records final decisions.
  const reviewer = claimsFor(`bench-reviewer-${run}`, ['compliance']);
  const manual = new Set<string>();
  const deadline = Date.now() + Number(process.env.BENCH_KYC_TIMEOUT_MS ?? 600_000);
  while (decidedAt.size < submissions.length && Date.now() < deadline) {
    const queue = await api('api-kyc-admin', {
      method: 'GET',
      resource: '/v1/admin/kyc/reviews',
      claims: reviewer,
      query: { status: 'pending', limit: '100' },
    });
    const mine = (queue.body?.items ?? []).filter((r: { reviewId: string }) => submittedAt.has(r.reviewId));
    await Promise.all(
      mine.map(async (r: { reviewId: string }) => {
        manual.add(r.reviewId);
        await api('api-kyc-admin', {
          method: 'POST',
          resource: '/v1/admin/kyc/reviews/{reviewId}/decision',
          pathParameters: { reviewId: r.reviewId },
          claims: reviewer,
          body: { decision: 'approve', reasons: ['verified_manually'] },
        });
      }),
    );
    const open = submissions.filter((s) => !decidedAt.has(s.submissionId));
    await Promise.all(
      open.map(async (s) => {
        const item = await getKycSubmission(s.submissionId);
        if (item && FINAL.has(item.status)) decidedAt.set(s.submissionId, performance.now());
      }),
    );
    await new Promise((r) => setTimeout(r, 100));
  }
  const totalSeconds = (performance.now() - t0) / 1000;

  // Integrity: every submission final, its execution SUCCEEDED, exactly one decision audit item each.
  const arn = (await import('#shared/env.ts')).env.stateMachineArn('kyc-review');
  let lost = 0;
  let doubles = 0;
  let failedExecutions = 0;
  const outcomes: Record<string, number> = {};
  await new Promise((r) => setTimeout(r, 500));
  for (const s of submissions) {
    const item = await getKycSubmission(s.submissionId);
    if (!item || !FINAL.has(item.status)) lost++;
    else outcomes[item.status] = (outcomes[item.status] ?? 0) + 1;
    if ((await decisionsRecorded(s.submissionId)) > 1) doubles++;
    const exec = await sfn().send(
      new DescribeExecutionCommand({ executionArn: `${arn.replace(':stateMachine:', ':execution:')}:${s.submissionId}` }),
    );
    if (exec.status !== 'SUCCEEDED') failedExecutions++;
  }
  const latencies = submissions
    .filter((s) => decidedAt.has(s.submissionId))
    .map((s) => decidedAt.get(s.submissionId)! - submittedAt.get(s.submissionId)!)
    .sort((a, b) => a - b);
  const auto = submissions.length - manual.size;
  const baseline = await engineBaseline(n);

  console.log(`\n## kyc: ${n} submissions at once (setup ${setupSeconds.toFixed(1)} s, not timed)`);
  console.log(`submit calls returned in          ${submitSeconds.toFixed(2)} s`);
  console.log(`time to the last decision         ${totalSeconds.toFixed(2)} s`);
  console.log(
    `per submission (submit -> final)  p50 ${latencies.length ? (percentile(latencies, 50) / 1000).toFixed(2) : 'n/a'} s, p99 ${latencies.length ? (percentile(latencies, 99) / 1000).toFixed(2) : 'n/a'} s`,
  );
  console.log(
    `decided automatically             ${auto}/${submissions.length} (${((auto / submissions.length) * 100).toFixed(0)} %); manual ${manual.size}`,
  );
  console.log(`outcomes                          ${JSON.stringify(outcomes)}`);
  console.log(`lost (not final)                  ${lost}`);
  console.log(`decided twice                     ${doubles}`);
  console.log(`executions not SUCCEEDED          ${failedExecutions}`);
  console.log(
    `baseline: same ASL, instant tasks  all ${n} in ${(baseline.total / 1000).toFixed(2)} s, p50 ${(baseline.p50 / 1000).toFixed(3)} s, p99 ${(baseline.p99 / 1000).toFixed(3)} s` +
      ` -> ratio (ours / engine) p50 ${latencies.length ? (percentile(latencies, 50) / baseline.p50).toFixed(1) : 'n/a'}x`,
  );
  if (lost || doubles || failedExecutions) throw new Error('kyc bench: submissions lost, decided twice or executions failed');
}
