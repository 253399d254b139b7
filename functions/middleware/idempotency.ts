/**
 * Idempotent POSTs: Powertools idempotency (hashing, payload validation, in-progress locking, replay)
 * over a persistence layer of our own on the single table.
 *
 * Why a custom persistence layer: Powertools' DynamoDBPersistenceLayer, given `sortKeyAttr`, puts every
 * record under one static partition key (`idempotency#<function>`) - one hot partition for every POST of
 * a function - and its items lack the attributes every item on our table carries (type, tenant,
 * createdAt, updatedAt, version). `TableIdempotencyStore` extends Powertools' BasePersistenceLayer and
 * stores each record as its own item:
 *   pk = IDEMPOTENCY#<powertools key>   sk = IDEMPOTENCY   type = 'idempotency'
 *   expiresAt (epoch seconds, the table's TTL attribute), idemStatus, idemInProgressExpiresAt (epoch ms),
 *   idemPayloadHash, idemResponse ({ status, body, headers })
 * with the same conditional-write protocol as Powertools' own layer.
 *
 * Guarantees:
 * - the key is scoped to (caller sub or 'anonymous', 'METHOD /path-template', Idempotency-Key): two
 *   callers, or two routes, never share a record
 * - same key + same body (key order irrelevant) => the stored status/body/headers are returned with
 *   `idempotent-replayed: true`; the handler does not run again
 * - same key + different body, or the same key on another resource (path parameters, query) of the
 *   same route => 422 `idempotency_key_reused`
 * - same key while the first request still runs => 409 `idempotency_in_progress`
 * - only 2xx results are stored: a thrown error or a non-2xx result deletes the in-progress record, so
 *   the client can retry with the same key
 * - records expire after 24 hours (TTL)
 *
 * Money-moving commands must not rely on this alone: they additionally write their own idempotency-key
 * item (attribute_not_exists) inside the journal's TransactWriteItems, so a movement can never be
 * posted twice even if this record expired or was lost (docs/architecture.md, Money; ADR 0005).
 */

import type { JSONValue } from '@aws-lambda-powertools/commons/types';
import {
  IdempotencyAlreadyInProgressError,
  IdempotencyConfig,
  IdempotencyItemAlreadyExistsError,
  IdempotencyItemNotFoundError,
  IdempotencyValidationError,
  makeIdempotent,
} from '@aws-lambda-powertools/idempotency';
import { BasePersistenceLayer, IdempotencyRecord } from '@aws-lambda-powertools/idempotency/persistence';
import type { Context } from 'aws-lambda';
import { env } from '#shared/env.ts';
import {
  deleteIdempotencyRecord,
  getIdempotencyRecord,
  type IdempotencyStatus,
  putIdempotencyRecord,
  updateIdempotencyRecord,
} from '#store/idempotency-records.ts';
import type { HttpResult } from './http.ts';
import { EdgeError, toJsonSafe } from './problem.ts';

export const IDEMPOTENCY_HEADER = 'idempotency-key';
export const REPLAYED_HEADER = 'idempotent-replayed';
export const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;
const KEY_FORMAT = /^[A-Za-z0-9\-_:.]{8,255}$/;

export const isValidIdempotencyKey = (key: string): boolean => KEY_FORMAT.test(key);

const statusOf = (record: IdempotencyRecord) => record.getStatus() as IdempotencyStatus;

export class TableIdempotencyStore extends BasePersistenceLayer {
  constructor(
    private readonly tableName: string,
    private readonly tenant: string,
  ) {
    super();
  }

  protected override async _putRecord(record: IdempotencyRecord): Promise<void> {
    const created = await putIdempotencyRecord(
      this.tableName,
      {
        idempotencyKey: record.idempotencyKey,
        status: statusOf(record),
        expiresAt: record.expiryTimestamp,
        inProgressExpiresAt: record.inProgressExpiryTimestamp,
        payloadHash: record.payloadHash,
      },
      { tenant: this.tenant, nowMs: Date.now() },
    );
    // Powertools then reads the existing record (consistently) and validates the payload hash
    if (!created) throw new IdempotencyItemAlreadyExistsError(`idempotency record exists: ${record.idempotencyKey}`);
  }

  protected override async _getRecord(idempotencyKey: string): Promise<IdempotencyRecord> {
    const item = await getIdempotencyRecord(this.tableName, idempotencyKey);
    if (!item) throw new IdempotencyItemNotFoundError();
    return new IdempotencyRecord({
      idempotencyKey,
      status: item.idemStatus,
      expiryTimestamp: item.expiresAt,
      inProgressExpiryTimestamp: item.idemInProgressExpiresAt,
      responseData: item.idemResponse as JSONValue | undefined,
      payloadHash: item.idemPayloadHash,
    });
  }

  protected override async _updateRecord(record: IdempotencyRecord): Promise<void> {
    await updateIdempotencyRecord(this.tableName, record.idempotencyKey, {
      status: statusOf(record),
      expiresAt: record.expiryTimestamp,
      response: record.responseData,
      payloadHash: record.payloadHash,
    });
  }

  protected override async _deleteRecord(record: IdempotencyRecord): Promise<void> {
    await deleteIdempotencyRecord(this.tableName, record.idempotencyKey);
  }
}

/** What is hashed: the key part selects the record, the body part is validated on replay. */
interface IdempotentPayload {
  [key: string]: JSONValue;
  caller: string;
  route: string;
  key: string;
  /** What the key promises to repeat: the body AND the resource (path parameters, query). */
  request: { body: JSONValue; params: JSONValue; query: JSONValue };
}

/** A JSON-safe HttpResult, as stored. */
type StoredResult = { status: number; body?: JSONValue; headers?: Record<string, string> };

/** Thrown inside the idempotent function for non-2xx results so Powertools deletes the record. */
class NotStored extends Error {
  constructor(readonly result: HttpResult) {
    super('non-2xx result is not stored');
  }
}

export interface IdempotentRun {
  /** caller sub, or null on public routes */
  callerSub: string | null;
  /** 'POST /v1/...' (the path template) */
  route: string;
  key: string;
  /** the parsed JSON body as received (before zod transforms) */
  rawBody: unknown;
  /** path parameters and query string as received: reusing a key on another resource is a different request */
  pathParameters: Record<string, string | undefined> | null;
  query: Record<string, string | undefined> | null;
  context: Context;
  execute: () => Promise<HttpResult>;
}

/** Runs `execute` at most once per (caller, route, key); see the module guarantees. */
export async function runIdempotent(run: IdempotentRun): Promise<HttpResult> {
  const config = new IdempotencyConfig({
    eventKeyJmesPath: '[caller, route, key]',
    payloadValidationJmesPath: 'request',
    throwOnNoIdempotencyKey: true,
    hashFunction: 'sha256',
    expiresAfterSeconds: IDEMPOTENCY_TTL_SECONDS,
    responseHook: (response) => {
      const stored = response as StoredResult;
      return { ...stored, headers: { ...(stored.headers ?? {}), [REPLAYED_HEADER]: 'true' } };
    },
  });
  config.registerLambdaContext(run.context);
  const persistenceStore = new TableIdempotencyStore(env.tableName, env.tenant);
  const idempotent = makeIdempotent(
    async (_payload: IdempotentPayload): Promise<StoredResult> => {
      const result = await run.execute();
      if (result.status < 200 || result.status > 299) throw new NotStored(result);
      const stored: StoredResult = { status: result.status };
      if (result.body !== undefined) stored.body = toJsonSafe<JSONValue>(result.body);
      if (result.headers) stored.headers = result.headers;
      return stored;
    },
    { persistenceStore, config, keyPrefix: 'http' },
  );
  const payload: IdempotentPayload = {
    caller: run.callerSub ?? 'anonymous',
    route: run.route,
    key: run.key,
    request: {
      body: toJsonSafe<JSONValue>(run.rawBody) ?? null,
      params: toJsonSafe<JSONValue>(run.pathParameters ?? {}) ?? {},
      query: toJsonSafe<JSONValue>(run.query ?? {}) ?? {},
    },
  };
  try {
    return (await idempotent(payload)) as HttpResult;
  } catch (e) {
    if (e instanceof NotStored) return e.result;
    if (e instanceof IdempotencyValidationError) throw new EdgeError('idempotency_key_reused', 422);
    if (e instanceof IdempotencyAlreadyInProgressError) throw new EdgeError('idempotency_in_progress', 409);
    throw e;
  }
}
