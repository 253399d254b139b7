/**
 * Restarting the local runtime (local/runtime.ts) on the same data folder, as `npm start` twice does (GitHub
 * issue 12): the workflows the stop interrupted are resumed. A withdrawal waiting for its review is approved after
 * the restart and paid out, and the seeded KYC review pending before the restart is decided and finished, with no
 * watchdog run (schedules off), under the executions' original names and without a restart counted.
 * One runtime at a time per file: the handlers' SDK clients keep the endpoints of the first runtime in a process,
 * so the second one reuses its ports.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '#local/dynamodb.ts';
import type { RuntimeOptions } from '#local/runtime.ts';
import { call, type Json, ownRuntimes, signIn } from './own-runtime.ts';

/** The run's DynamoDB Local (global setup); read before a runtime overwrites the variable. */
const SHARED_DYNAMO = process.env.AWS_ENDPOINT_URL_DYNAMODB!;

const runtimes = ownRuntimes();
const start = runtimes.start;
const folders: string[] = [];
afterEach(() => {
  for (const dir of folders.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not reached in ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('restarting the local runtime', () => {
  it('a restart on the same data folder resumes interrupted workflows: no watchdog needed', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'backoffice-restart-'));
    folders.push(dataDir);
    // The same ports and table after the restart, as npm start has (the handlers' SDK clients keep their endpoints).
    const opts: RuntimeOptions = {
      dynamoEndpoint: SHARED_DYNAMO,
      tableName: `restart-${Date.now().toString(36)}`,
      dataDir,
      apiPort: await freePort(),
      awsPort: await freePort(),
      seed: true,
    };
    const first = await start(opts);
    const base = `http://127.0.0.1:${opts.apiPort}`;
    const machine = (name: string) => first.states.arns()[name]!.replace(':stateMachine:', ':execution:');
    const { getWithdrawal } = await import('#store/payments/withdrawals.ts');
    const { getKycSubmission } = await import('#store/kyc.ts');

    // A withdrawal above the auto-approval limit: under review, its execution waiting in AwaitReview.
    const client = await signIn(base, 'client@demo.test');
    const wallets = await call(base, 'GET', '/v1/wallets', { token: client });
    const eur = wallets.body.items.find((w: Json) => w.currency === 'EUR');
    const created = await call(base, 'POST', '/v1/withdrawals', {
      token: client,
      body: {
        walletId: eur.walletId,
        methodId: 'sepa-wire',
        amount: { amount: '2100.00', currency: 'EUR' },
        destination: { account: 'DE89370400440532013000' },
      },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const withdrawalId: string = created.body.withdrawalId;
    const withdrawalRun = `${machine('withdrawal-approval')}:${withdrawalId}`;
    await until('the withdrawal waits for its review', async () => {
      await first.settle();
      const w = await getWithdrawal(withdrawalId, { consistent: true });
      const pending = first.states.pendingTasks(withdrawalRun)[0];
      return w?.status === 'under_review' && pending && w.reviewTaskToken === pending.token ? true : undefined;
    });

    // The seeded partner's blurry passport: a KYC review waiting for compliance.
    const kycRun = await until('the seeded KYC review waits for compliance', async () => {
      await first.settle();
      const pending = first.states.pendingTasks().find((t) => t.executionArn.startsWith(`${machine('kyc-review')}:`));
      if (!pending) return undefined;
      const s = await getKycSubmission(pending.executionArn.split(':').at(-1)!);
      return s?.taskToken === pending.token ? pending.executionArn : undefined;
    });
    const submissionId = kycRun.split(':').at(-1)!;

    await runtimes.stop(first);
    const second = await start(opts);

    // Decided after the restart: both workflows carry on at once (the watchdogs run every 10 minutes, not here).
    const finance = await signIn(base, 'finance@demo.test');
    const approve = await call(base, 'POST', `/v1/admin/withdrawals/${withdrawalId}/decision`, {
      token: finance,
      body: { decision: 'approve' },
    });
    expect(approve.status, JSON.stringify(approve.body)).toBe(200);
    const paid = await until(
      'the approved withdrawal is paid out',
      async () => {
        await second.settle();
        const w = await call(base, 'GET', `/v1/withdrawals/${withdrawalId}`, { token: client });
        return w.body.status === 'completed' ? w.body : undefined;
      },
      20_000,
    );
    expect(paid.timeline.map((t: Json) => t.status)).toEqual(['received', 'under_review', 'approved', 'processing', 'completed']);
    expect(await second.states.waitFor(withdrawalRun)).toMatchObject({ status: 'SUCCEEDED', name: withdrawalId });

    const compliance = await signIn(base, 'compliance@demo.test');
    const decided = await call(base, 'POST', `/v1/admin/kyc/reviews/${submissionId}/decision`, {
      token: compliance,
      body: { decision: 'request_documents', reasons: ['address_proof_too_old'] },
    });
    expect(decided.status, JSON.stringify(decided.body)).toBe(200);
    expect(await second.states.waitFor(kycRun)).toMatchObject({ status: 'SUCCEEDED', name: submissionId });
    expect(await getKycSubmission(submissionId)).toMatchObject({ status: 'documents_requested' });
    // Nothing was restarted under a new name, and the watchdogs' attempt counters are untouched.
    expect((await getWithdrawal(withdrawalId, { consistent: true }))?.execution).toBeUndefined();
    expect((await getKycSubmission(submissionId))?.executionAttempt).toBeUndefined();
  }, 120_000);
});
