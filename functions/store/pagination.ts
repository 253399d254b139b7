/**
 * Cursor pagination for list endpoints.
 *
 * Invariants:
 * - a cursor is opaque to callers: base64url of the JSON of a DynamoDB key (string values only)
 * - a cursor is validated before use: it must decode, hold exactly the key attributes of the
 *   queried table/index, and point into the partition being queried; anything else is
 *   DomainError 'invalid_cursor' (400), never a DynamoDB error or a read of another partition
 * - hasMore is exact: a page asks for limit + 1 items, so hasMore is true only when another item exists
 *   (or DynamoDB stopped early at its 1 MB page limit)
 * - nextCursor is present iff hasMore
 */
import { type DynamoDBDocumentClient, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { DomainError } from '#domain/errors.ts';
import { ddb } from '#shared/clients.ts';
import { tableName } from './items.ts';
import { GSIS, type GsiName, TABLE_KEYS } from './table.ts';

export const MAX_CURSOR_LENGTH = 2048;

export interface Page<T> {
  items: T[];
  nextCursor?: string;
  hasMore: boolean;
}

export function encodeCursor(key: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

const invalid = () => new DomainError('invalid_cursor', 'validation', 'The cursor is not valid for this list');

function keyAttributes(index?: GsiName): string[] {
  const base = [TABLE_KEYS.partitionKey, TABLE_KEYS.sortKey];
  if (!index) return base;
  const gsi = GSIS.find((g) => g.name === index)!;
  return [...base, gsi.partitionKey, gsi.sortKey];
}

/** Decodes and validates a cursor for a query on `partition` (of the table or of `index`). */
export function decodeCursor(cursor: string, expect: { index?: GsiName; partition: string }): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw invalid();
  const attrs = keyAttributes(expect.index);
  const obj = parsed as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.length !== attrs.length || !attrs.every((a) => typeof obj[a] === 'string' && (obj[a] as string).length <= 1024)) {
    throw invalid();
  }
  const pkAttr = expect.index ? GSIS.find((g) => g.name === expect.index)!.partitionKey : TABLE_KEYS.partitionKey;
  if (obj[pkAttr] !== expect.partition) throw invalid();
  return obj as Record<string, string>;
}

export interface PageQuery {
  index?: GsiName;
  /** Partition key value (of the table or the index). */
  partition: string;
  /** Optional sort-key prefix. */
  sortPrefix?: string;
  /** Optional inclusive sort-key range (not with sortPrefix). */
  sortBetween?: readonly [string, string];
  limit: number;
  cursor?: string | undefined;
  /** Newest first when false. */
  forward?: boolean;
}

/** One page of a single-partition query. */
export async function queryPage<T = Record<string, unknown>>(q: PageQuery): Promise<Page<T>> {
  const attrs = keyAttributes(q.index);
  const gsi = q.index ? GSIS.find((g) => g.name === q.index)! : undefined;
  const pkAttr = gsi ? gsi.partitionKey : TABLE_KEYS.partitionKey;
  const skAttr = gsi ? gsi.sortKey : TABLE_KEYS.sortKey;
  const sortCondition = q.sortPrefix
    ? { expr: ' AND begins_with(#sk, :prefix)', values: { ':prefix': q.sortPrefix } }
    : q.sortBetween
      ? { expr: ' AND #sk BETWEEN :lo AND :hi', values: { ':lo': q.sortBetween[0], ':hi': q.sortBetween[1] } }
      : undefined;
  const input: QueryCommandInput = {
    TableName: tableName(),
    IndexName: q.index,
    KeyConditionExpression: `#pk = :pk${sortCondition?.expr ?? ''}`,
    ExpressionAttributeNames: sortCondition ? { '#pk': pkAttr, '#sk': skAttr } : { '#pk': pkAttr },
    ExpressionAttributeValues: { ':pk': q.partition, ...sortCondition?.values },
    ScanIndexForward: q.forward ?? true,
    Limit: q.limit + 1,
    ExclusiveStartKey: q.cursor ? decodeCursor(q.cursor, { index: q.index, partition: q.partition }) : undefined,
  };
  const res = await ddb().send(new QueryCommand(input));
  const rows = (res.Items ?? []) as Record<string, unknown>[];
  if (rows.length > q.limit) {
    const items = rows.slice(0, q.limit);
    const last = items[items.length - 1]!;
    return { items: items as T[], hasMore: true, nextCursor: encodeCursor(Object.fromEntries(attrs.map((a) => [a, last[a]]))) };
  }
  if (res.LastEvaluatedKey && rows.length > 0) {
    const last = rows[rows.length - 1]!;
    return { items: rows as T[], hasMore: true, nextCursor: encodeCursor(Object.fromEntries(attrs.map((a) => [a, last[a]]))) };
  }
  return { items: rows as T[], hasMore: false };
}

/**
 * Every page of a query on the table, in order (one Query per page, following LastEvaluatedKey).
 * `client` lets the ledger read through its full-precision client.
 */
export async function* queryPages<T = Record<string, unknown>>(
  input: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>,
  client: DynamoDBDocumentClient = ddb(),
): AsyncGenerator<T[]> {
  let start: Record<string, unknown> | undefined;
  do {
    const res = await client.send(new QueryCommand({ ...input, TableName: tableName(), ExclusiveStartKey: start }));
    yield (res.Items ?? []) as T[];
    start = res.LastEvaluatedKey;
  } while (start);
}
