/**
 * Exact reads for ledger items. The shared DocumentClient unmarshalls DynamoDB Numbers to JS
 * numbers; the ledger reads through its own DocumentClient with wrapNumbers: true and converts each
 * Number explicitly, so an amount never passes through a JS number.
 *
 * Invariants:
 * - amounts (bigint) are written as DynamoDB Numbers (lib-dynamodb marshalls bigint to N exactly)
 * - amounts are read back with BigInt(<the Number's decimal text>): exact for any 38-digit value
 * - counters (version, seq, shard) are read as JS numbers and must be safe integers
 * - the ledger's DocumentClient has its own DynamoDBClient, so the shared one keeps wrapNumbers: false
 * - metadata maps are unwrapped deeply: a Number becomes a JS number only when that is exact
 */

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { backoffMs, withRetry } from '#shared/retry.ts';
import { queryPages } from '#store/pagination.ts';
import { tableName } from '../items.ts';
import type { Key } from '../keys.ts';

let client: DynamoDBDocumentClient | undefined;

/**
 * DocumentClient for ledger reads: Numbers come back wrapped (NumberValue), never as floats.
 * It needs its OWN DynamoDBClient: DynamoDBDocumentClient.from(c, opts) stores opts on c.config,
 * which is shared, so wrapping the shared dynamo() would flip number handling for every reader.
 */
export const ledgerDdb = (): DynamoDBDocumentClient =>
  (client ??= DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
    unmarshallOptions: { wrapNumbers: true },
  }));

type Wrapped = { value: string };
const isWrapped = (v: unknown): v is Wrapped =>
  typeof v === 'object' && v !== null && typeof (v as Wrapped).value === 'string' && Object.keys(v).length === 1;

/** A stored Number as bigint, exactly. */
export function big(v: unknown): bigint {
  if (isWrapped(v) && /^-?\d+$/.test(v.value)) return BigInt(v.value);
  if (typeof v === 'bigint') return v;
  throw new Error(`ledger: expected an integer Number, got ${JSON.stringify(v)}`);
}

/** A stored counter as a JS number (safe integer). */
export function int(v: unknown): number {
  const n = isWrapped(v) ? Number(v.value) : typeof v === 'number' ? v : Number.NaN;
  if (!Number.isSafeInteger(n)) throw new Error(`ledger: expected a safe integer, got ${JSON.stringify(v)}`);
  return n;
}

/** Deep copy with wrapped Numbers turned into JS numbers (exact ones) or decimal strings. */
export function unwrap(v: unknown): unknown {
  if (isWrapped(v)) {
    const n = Number(v.value);
    return String(n) === v.value ? n : v.value;
  }
  if (Array.isArray(v)) return v.map(unwrap);
  if (v instanceof Set) return [...v].map(unwrap);
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrap(x)]));
  return v;
}

export const optStr = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class Unprocessed extends Error {
  constructor() {
    super('ledger: BatchGet kept returning unprocessed keys');
  }
}

/**
 * Strongly consistent BatchGet of up to any number of keys (chunks of 100, unprocessed keys retried under
 * the batchUnprocessed retry policy).
 */
export async function batchGet(keys: Key[]): Promise<Map<string, Record<string, unknown>>> {
  const out = new Map<string, Record<string, unknown>>();
  const table = tableName();
  for (let i = 0; i < keys.length; i += 100) {
    let pending: Record<string, unknown>[] | undefined = keys.slice(i, i + 100).map((k) => ({ pk: k.pk, sk: k.sk }));
    await withRetry(
      'batchUnprocessed',
      async () => {
        const res = await ledgerDdb().send(
          new BatchGetCommand({ RequestItems: { [table]: { Keys: pending, ConsistentRead: true } } }),
        );
        for (const item of res.Responses?.[table] ?? []) out.set(`${item.pk}\u0000${item.sk}`, item);
        pending = res.UnprocessedKeys?.[table]?.Keys as Record<string, unknown>[] | undefined;
        if (pending && pending.length > 0) throw new Unprocessed();
      },
      (err) => err instanceof Unprocessed,
    );
  }
  return out;
}

export const keyId = (k: Key) => `${k.pk}\u0000${k.sk}`;

/** All items of a query, page by page, read with full numeric precision. */
export const queryAll = (input: Omit<QueryCommandInput, 'TableName'>) => queryPages(input, ledgerDdb());

export const sleepMs = sleep;

/** Full-jitter exponential backoff for the ledger's optimistic re-read loops (0-based attempt): the ledgerVersion policy. */
export const jitter = (attempt: number) => backoffMs('ledgerVersion', attempt + 1);
