/**
 * `npm start`: the whole product on this machine. DynamoDB Local (data under .local/, kept across
 * restarts; `npm start -- --fresh` wipes it), the local AWS emulator, the API on :3000, queues,
 * the event bus and its schedules, state machines, and a seeded demo tenant.
 * Ctrl-C (SIGINT) or SIGTERM stops everything, the Java process included, at any time: during start-up
 * too (the process exits and its exit handler kills Java; the next start resumes the workflows and
 * finishes the seed), so no orphan DynamoDB Local keeps the port.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { type Runtime, startRuntime } from '#local/runtime.ts';
import { DEMO_PASSWORD, DEMO_USERS } from '#local/seed.ts';

const { values } = parseArgs({
  options: {
    fresh: { type: 'boolean', default: false },
    tenant: { type: 'string', default: process.env.TENANT ?? 'demo' },
    port: { type: 'string', default: process.env.PORT ?? '3000' },
    'no-schedules': { type: 'boolean', default: false },
    quiet: { type: 'boolean', default: false },
  },
});

const root = path.resolve(import.meta.dirname, '..');
const dataDir = path.join(root, '.local', values.tenant);
if (values.fresh) {
  rmSync(dataDir, { recursive: true, force: true });
  console.log(`[local] --fresh: removed ${path.relative(root, dataDir)}`);
}

let runtime: Runtime | undefined;
let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  if (!runtime) {
    // Still starting: nothing to stop gracefully. Exiting runs the exit handlers, which kill DynamoDB Local.
    console.log(`\n[local] ${signal} during start-up: exiting (the next start finishes what this one began)`);
    process.exit(1);
  }
  console.log(`\n[local] ${signal}: stopping...`);
  const force = setTimeout(() => {
    console.error('[local] shutdown took too long; exiting');
    process.exit(1);
  }, 15_000);
  force.unref();
  try {
    await runtime.stop();
    console.log('[local] stopped cleanly');
    process.exit(0);
  } catch (err) {
    console.error('[local] error while stopping', err);
    process.exit(1);
  }
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));

const t0 = Date.now();
runtime = await startRuntime({
  tenant: values.tenant,
  dataDir,
  apiPort: Number(values.port),
  awsPort: Number(process.env.LOCAL_AWS_PORT ?? 4567),
  dynamoPort: Number(process.env.DYNAMODB_PORT ?? 8000),
  mt5Port: Number(process.env.MT5_SIMULATOR_PORT ?? 0),
  schedules: !values['no-schedules'],
  seed: true,
  logRequests: !values.quiet,
});

const pad = (s: string, n: number) => s.padEnd(n);
console.log(`
  ${runtime.brand} back office is running locally (tenant "${runtime.tenant}", ready in ${Date.now() - t0} ms)

  API            ${runtime.apiUrl}
  Health         ${runtime.apiUrl}/health   (readiness: ${runtime.apiUrl}/health?ready, 503 until start-up is done)
  OpenAPI        ${runtime.apiUrl}/openapi.json
  Local AWS      ${runtime.awsUrl}   (Cognito, S3, SQS, EventBridge, Step Functions)
  DynamoDB Local ${runtime.dynamoEndpoint}   table ${runtime.tableName}
  MT5 simulator  ${runtime.mt5.url}   (MT5 Manager Web API; terminal API under /terminal/; no route uses it yet)
  Data           ${path.relative(root, dataDir)}/   (npm start -- --fresh wipes it)

  Demo users (local only), password ${DEMO_PASSWORD}
${DEMO_USERS.map((u) => `    ${pad(u.email, 22)} ${u.roles.join(', ')}`).join('\n')}

  Sign in:  curl -s ${runtime.apiUrl}/v1/sessions -H 'content-type: application/json' \\
              -d '{"email":"client@demo.test","password":"${DEMO_PASSWORD}"}'
  Ctrl-C stops everything.
`);
