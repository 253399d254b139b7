/**
 * Wires the whole product for a laptop or a test run, from the same manifest CDK reads:
 * DynamoDB Local + the single table, the local AWS emulator (Cognito, S3, SQS, EventBridge with its
 * rules and schedules, Step Functions), the table stream feeding the outbox relay and audit archiver,
 * and the API gateway in front of the same handlers.
 *
 * Handlers see the same environment variables as in Lambda; AWS_ENDPOINT_URL points their SDK
 * clients at the emulator (docs/decisions/0001-local-aws-emulator.md).
 *
 * Invariants:
 * - every listener is on 127.0.0.1 only: DynamoDB Local (local/dynamodb.ts), the AWS emulator and the API
 *   gateway; nothing listens on another interface
 * - readiness (#shared/readiness.ts, GET /health?ready): not ready from the start until startRuntime has
 *   finished: executions interrupted by the last stop resumed (local/aws/states.ts resume()) and the demo seed
 *   done; not ready again once stop() begins
 * - a restart on the same data folder loses no workflow: Step Functions executions that were RUNNING when the
 *   last process stopped (gracefully or killed) run again from their start, under the same name
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TenantConfig } from '#domain/tenant/config.ts';
import { CLIENT_ROLES, queues, STAFF_ROLES, schedules } from '#functions/manifest.ts';
import { loadTenantConfig } from '#infra/tenant.ts';
import { LocalCognito } from '#local/aws/cognito.ts';
import { LocalEventBus } from '#local/aws/events.ts';
import { S3Store } from '#local/aws/s3.ts';
import { LocalScheduler } from '#local/aws/scheduler.ts';
import { type AwsEmulator, startAwsEmulator } from '#local/aws/server.ts';
import { LocalSqs } from '#local/aws/sqs.ts';
import { LocalStepFunctions } from '#local/aws/states.ts';
import { type StreamRelay, startStreamRelay } from '#local/aws/streams.ts';
import { type DynamoLocal, ensureTable, localClient, startDynamoLocal } from '#local/dynamodb.ts';
import { type Gateway, startGateway } from '#local/gateway.ts';
import { invoke } from '#local/lambda.ts';
import { startMt5Server } from '#local/platforms/mt5-server.ts';
import { seedDemo } from '#local/seed.ts';
import { toEnvSuffix } from '#shared/env.ts';
import { setReady } from '#shared/readiness.ts';
import { setTenantConfig } from '#shared/tenant.ts';

export interface RuntimeOptions {
  tenant?: string;
  /** Where data lives across restarts. Omitted: a temporary folder and an in-memory DynamoDB, removed on stop. */
  dataDir?: string;
  /** 0 picks a free port. */
  apiPort?: number;
  awsPort?: number;
  dynamoPort?: number;
  /** Use an already running DynamoDB Local instead of starting one. */
  dynamoEndpoint?: string;
  tableName?: string;
  /** Run cron schedules on timers (jobs can always be run on demand). */
  schedules?: boolean;
  seed?: boolean;
  logRequests?: boolean;
  /** Scales visibility timeouts and Wait states (tests use a small value). */
  timeScale?: number;
  /** The MT5 simulator's port (0, the default, picks a free one). */
  mt5Port?: number;
}

/** The manager login the local MT5 simulator accepts (its password: MT5_MANAGER_PASSWORD, random per start). */
export const MT5_MANAGER_LOGIN = 1000;

export interface Runtime {
  tenant: string;
  brand: string;
  config: TenantConfig;
  apiUrl: string;
  awsUrl: string;
  dynamoEndpoint: string;
  tableName: string;
  cognito: LocalCognito;
  s3: S3Store;
  sqs: LocalSqs;
  bus: LocalEventBus;
  states: LocalStepFunctions;
  scheduler: LocalScheduler;
  /** The local trading platform: the simulator behind MT5's Manager Web API and its terminal API (/terminal/). */
  mt5: { url: string };
  /** Waits until queues, the bus and the stream relay have nothing left in flight. */
  settle(): Promise<void>;
  stop(): Promise<void>;
}

const root = path.resolve(import.meta.dirname, '..');
/**
 * The two user pools (docs/decisions/0002-two-user-pools.md). MFA is TOTP as in AWS, with one local
 * choice: in AWS the staff pool REQUIRES MFA, but locally it is 'optional' by default so the seeded
 * demo staff sign in with a password only (a staff user who enrols TOTP is still asked for a code).
 * `LOCAL_STAFF_MFA=required` gives the AWS behaviour (MFA_SETUP at first sign-in, then
 * SOFTWARE_TOKEN_MFA); it is read when a sign-in happens, so a test may set it before starting the runtime.
 */
export const LOCAL_POOLS = {
  clients: {
    id: 'local_clients',
    clientId: 'local-clients-app',
    groups: [...CLIENT_ROLES] as string[],
    mfa: 'optional' as const,
  },
  staff: {
    id: 'local_staff',
    clientId: 'local-staff-app',
    groups: [...STAFF_ROLES],
    get mfa(): 'optional' | 'required' {
      return process.env.LOCAL_STAFF_MFA === 'required' ? 'required' : 'optional';
    },
  },
};

export async function startRuntime(opts: RuntimeOptions = {}): Promise<Runtime> {
  const tenant = opts.tenant ?? 'demo';
  const config = loadTenantConfig(tenant);
  const ephemeral = !opts.dataDir;
  const dataDir = opts.dataDir ?? (await mkdtemp(path.join(os.tmpdir(), `backoffice-${tenant}-`)));
  mkdirSync(dataDir, { recursive: true });
  const tableName = opts.tableName ?? `backoffice-${tenant}`;
  const stops: (() => Promise<void> | void)[] = [];
  const stop = async () => {
    setReady(false);
    for (const s of stops.reverse()) {
      try {
        await s();
      } catch (err) {
        console.error('[local] error while stopping', err);
      }
    }
    stops.length = 0;
  };

  setReady(false);
  try {
    // 1. DynamoDB Local and the table.
    let dynamo: DynamoLocal | undefined;
    let dynamoEndpoint = opts.dynamoEndpoint;
    if (!dynamoEndpoint) {
      dynamo = await startDynamoLocal({
        port: opts.dynamoPort ?? 0,
        ...(ephemeral ? {} : { dataDir: path.join(dataDir, 'dynamodb') }),
      });
      stops.push(() => dynamo?.stop());
      dynamoEndpoint = dynamo.endpoint;
    }
    const admin = localClient(dynamoEndpoint);
    await ensureTable(admin, tableName);
    admin.destroy();

    // 2. The environment every handler reads (the same names infra/ sets on each Lambda).
    const buckets = { documents: `${tenant}-documents`, audit: `${tenant}-audit`, settlements: `${tenant}-settlements` };
    Object.assign(process.env, {
      STAGE: 'local',
      // Documents are JSON in the sandbox format (README, test/fixtures/kyc): no Textract locally.
      KYC_ANALYZER: process.env.KYC_ANALYZER ?? 'sandbox',
      TENANT: tenant,
      TENANT_CONFIG: JSON.stringify(config),
      TABLE_NAME: tableName,
      EVENT_BUS_NAME: `backoffice-${tenant}`,
      DOCUMENTS_BUCKET: buckets.documents,
      AUDIT_BUCKET: buckets.audit,
      SETTLEMENTS_BUCKET: buckets.settlements,
      USER_POOL_ID: LOCAL_POOLS.clients.id,
      USER_POOL_CLIENT_ID: LOCAL_POOLS.clients.clientId,
      STAFF_USER_POOL_ID: LOCAL_POOLS.staff.id,
      STAFF_USER_POOL_CLIENT_ID: LOCAL_POOLS.staff.clientId,
      AWS_REGION: process.env.AWS_REGION ?? 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint,
      POWERTOOLS_SERVICE_NAME: `backoffice-${tenant}`,
      POWERTOOLS_METRICS_NAMESPACE: 'Backoffice',
      POWERTOOLS_TRACE_ENABLED: 'false',
      POWERTOOLS_METRICS_DISABLED: process.env.POWERTOOLS_METRICS_DISABLED ?? 'true',
      POWERTOOLS_DEV: process.env.POWERTOOLS_DEV ?? 'false',
      POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
    });
    delete process.env.AWS_PROFILE;
    // PSP webhook secrets (functions/adapters/psp/secrets.ts): one random secret per provider the tenant
    // uses, generated at each start unless the environment already holds one (tests pin their own).
    for (const provider of new Set(config.payments.methods.map((m) => m.provider))) {
      process.env[`PSP_WEBHOOK_SECRETS_${toEnvSuffix(provider)}`] ||= randomBytes(32).toString('hex');
    }
    setTenantConfig(config);

    // 2b. The trading platform: the simulator serving MT5's Manager Web API (ADR 0015), its state kept in the
    // data folder. The manager password is random per start unless the environment pins one.
    const mt5Manager = {
      login: MT5_MANAGER_LOGIN,
      password: process.env.MT5_MANAGER_PASSWORD || randomBytes(18).toString('base64url'),
    };
    const mt5 = await startMt5Server({
      port: opts.mt5Port ?? 0,
      manager: mt5Manager,
      stateFile: path.join(dataDir, 'mt5-simulator.json'),
      // quotes walk once a second for a person at `npm start`; tests and benches set the quotes they need
      tickMs: ephemeral ? 0 : 1000,
    });
    stops.push(() => mt5.stop());
    // LOCAL_MT5_URL (+ _MANAGER_LOGIN, _MANAGER_PASSWORD, _SERVER) points the back office at a real MT5 server
    // (a demo server, say) instead; the simulator still runs for its terminal API.
    const external = process.env.LOCAL_MT5_URL;
    Object.assign(process.env, {
      MT5_WEB_API_URL: external || mt5.url,
      MT5_MANAGER_LOGIN: external ? (process.env.LOCAL_MT5_MANAGER_LOGIN ?? '') : String(mt5Manager.login),
      MT5_MANAGER_PASSWORD: external ? (process.env.LOCAL_MT5_MANAGER_PASSWORD ?? '') : mt5Manager.password,
      MT5_SERVER: external ? (process.env.LOCAL_MT5_SERVER ?? 'mt5') : 'local-simulator',
      // Every function shares one adapter in this process, as if one container ran them all: several Web API
      // sessions let concurrent invocations (the copy executor's followers) go on side by side.
      MT5_SESSIONS: process.env.LOCAL_MT5_SESSIONS ?? '8',
    });

    // 3. The emulated AWS services, wired from the manifest.
    let awsUrl = '';
    const cognito = new LocalCognito({
      dataFile: path.join(dataDir, 'cognito.json'),
      issuerBaseUrl: () => awsUrl,
      pools: [LOCAL_POOLS.clients, LOCAL_POOLS.staff],
    });
    const s3 = new S3Store({ dir: path.join(dataDir, 's3'), buckets: Object.values(buckets) });
    const timeScale = opts.timeScale ?? 1;
    const sqs = new LocalSqs({ queues, consumer: invoke, timeScale });
    stops.push(() => sqs.stop());
    const bus = new LocalEventBus({ invoke, sqs });
    const scheduler = new LocalScheduler({
      schedules,
      invoke,
      bus,
      timers: opts.schedules ?? false,
      tenantTimezone: config.timezone,
    });
    stops.push(() => scheduler.stop());
    const states = new LocalStepFunctions({ invoke, sqs, bus, dataDir, timeScale, root });
    stops.push(() => states.stop());
    const emulator: AwsEmulator = await startAwsEmulator({ port: opts.awsPort ?? 0, services: [sqs, bus, states], s3, cognito });
    stops.push(() => emulator.close());
    awsUrl = emulator.url;
    process.env.AWS_ENDPOINT_URL = awsUrl;
    // Queue URLs on the emulator's own host: the SQS client sends to the QueueUrl's host (useQueueUrlAsEndpoint),
    // and the emulator finds the queue by the URL's last segment.
    for (const [name, url] of Object.entries(sqs.urls())) {
      process.env[`QUEUE_URL_${toEnvSuffix(name)}`] = url.replace(/^https?:\/\/[^/]+/, awsUrl);
    }
    Object.assign(process.env, states.envVars());

    // 4. The table stream: outbox relay and audit archiver.
    const relay: StreamRelay = await startStreamRelay({
      endpoint: dynamoEndpoint,
      tableName,
      invoke,
      startingPosition: 'TRIM_HORIZON',
      checkpointFile: path.join(dataDir, 'stream-checkpoints.json'),
    });
    stops.push(() => relay.stop());

    // 5. The API.
    const gateway: Gateway = await startGateway({
      port: opts.apiPort ?? 0,
      verify: (token) => cognito.verifyIdToken(token),
      invoke,
      ...(opts.logRequests ? { log: (line: string) => console.log(`[api] ${line}`) } : {}),
    });
    stops.push(() => gateway.close());
    // The sandbox PSP (functions/workers/psp-sandbox.ts) calls the API's own webhook route; handlers read
    // the variable at call time, so setting it once the gateway listens is early enough.
    process.env.PSP_WEBHOOK_URL_SANDBOX = `${gateway.url}/v1/webhooks/psp/sandbox`;

    if (ephemeral) stops.unshift(() => rm(dataDir, { recursive: true, force: true }));

    const runtime: Runtime = {
      tenant,
      brand: config.brand.name,
      config,
      apiUrl: gateway.url,
      awsUrl,
      dynamoEndpoint,
      tableName,
      cognito,
      s3,
      sqs,
      bus,
      states,
      scheduler,
      mt5: { url: mt5.url },
      async settle() {
        for (let i = 0; i < 3; i++) {
          await relay.drain();
          await bus.drain();
          await sqs.drain();
        }
      },
      stop,
    };
    // 6. Workflows the last stop interrupted run again (same names; every step is idempotent), then the seed.
    states.resume();
    if (opts.seed) await seedDemo(runtime);
    setReady(true);
    return runtime;
  } catch (err) {
    await stop();
    throw err;
  }
}
