/**
 * The entity model (docs/decisions/0013-entity-model.md): each stored item type is declared ONCE with
 * `defineEntity`: its type, the zod schema of its attributes, its key and its index attributes. Writes
 * are CommitWrites for commit() (functions/store/audit.ts), which stays the one way state changes are
 * written (the change, its audit item and its outbox events in one transaction); reads parse.
 *
 * Invariants:
 * - keys and index attributes (gsi1pk ... gsi3sk) are computed by the declaration from the item's own
 *   attributes on EVERY write this module builds (item, indexed, putNew, replace, patch): a write site
 *   never sets pk/sk/gsi* by hand, and a stale index value is never carried over from the item read
 * - a sparse index whose condition no longer holds is absent: `replace` writes the whole item (what is
 *   absent is gone), `patch` REMOVEs every attribute the item read had and the next one has not
 * - every item read is parsed: one that does not match the schema (or is of another type) throws
 *   StoredItemError naming the entity type and the bad attribute path, never a silent cast
 * - attributes the schema does not declare survive a read-modify-write (the stored schema is loose): a
 *   replace never drops what another module (or newer code) stored on the item
 * - the envelope (tenant, createdAt, updatedAt, version) is set here: version 1 on creation, + 1 and
 *   updatedAt = now on every replace / patch, conditioned on the version read
 * - nothing here sends a write: writes go through commit(); reads use the shared DocumentClient (Numbers
 *   as JS numbers: money in entity items is a decimal string, never a Number)
 */
import { BatchGetCommand, GetCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { DomainError } from '#domain/errors.ts';
import { ddb } from '#shared/clients.ts';
import { env } from '#shared/env.ts';
import { withRetry } from '#shared/retry.ts';
import type { CommitWrite } from './items.ts';
import { tableName } from './items.ts';
import type { Key } from './keys.ts';
import { type Page, type PageQuery, queryPage, queryPages } from './pagination.ts';
import { GSIS } from './table.ts';

/** Every index attribute of the table (functions/store/table.ts GSIS). */
export const INDEX_ATTRIBUTES = GSIS.flatMap((g) => [g.partitionKey, g.sortKey]);
export type IndexAttribute = (typeof GSIS)[number]['partitionKey' | 'sortKey'];
/** What an entity's `indexes` returns: the index attributes that apply to this item (absent = not indexed). */
export type IndexAttributes = Partial<Record<IndexAttribute, string>>;

/** The attributes every item carries besides its own (BaseItem, with its type narrowed). */
export interface Envelope<T extends string> {
  pk: string;
  sk: string;
  type: T;
  tenant: string;
  createdAt: string;
  updatedAt: string;
  version: number;
}

const STORAGE_ATTRIBUTES = new Set<string>(['pk', 'sk', ...INDEX_ATTRIBUTES]);

const envelopeShape = {
  pk: z.string().min(1),
  sk: z.string().min(1),
  tenant: z.string().min(1),
  createdAt: z.string().min(1),
  updatedAt: z.string().min(1),
  version: z.number().int().min(1),
};
const indexShape = Object.fromEntries(INDEX_ATTRIBUTES.map((a) => [a, z.string().min(1).optional()])) as Record<
  IndexAttribute,
  z.ZodOptional<z.ZodString>
>;

/** A stored item that does not match its entity's declaration: data corruption or a bug, never a caller's error (500). */
export class StoredItemError extends Error {
  readonly code = 'stored_item_invalid';
  constructor(
    readonly entityType: string,
    readonly key: Key | undefined,
    readonly issues: { path: string; message: string }[],
  ) {
    // The message names the entity and the attribute paths, not the key or any value (keys may hold PII).
    super(
      `stored ${entityType} item does not match its schema: ${issues.map((i) => `${i.path || '(item)'}: ${i.message}`).join('; ')}`,
    );
    this.name = 'StoredItemError';
  }
}

/**
 * Parses a raw item of a type that is not declared with defineEntity (items kept by ADD-updated counters without
 * the envelope: functions/store/payments/client-state.ts), throwing StoredItemError like an entity's read.
 */
export function parseStored<S extends z.ZodType>(entityType: string, schema: S, raw: unknown): z.output<S> {
  const res = schema.safeParse(raw);
  if (res.success) return res.data;
  throw new StoredItemError(
    entityType,
    keyOf(raw),
    res.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })),
  );
}

export interface EntityDef<T extends string, S extends z.ZodObject> {
  /** The item's `type` attribute (keys.ts names it). */
  type: T;
  /** The entity's own attributes, as stored (no pk/sk/type/envelope/index attributes: those are added here). */
  schema: S;
  /** The item's primary key, from its attributes. */
  key: (item: z.output<S>) => Key;
  /** The index attributes that apply to the item now (sparse indexes: return nothing when absent). */
  indexes?: (item: z.output<S> & Envelope<T>) => IndexAttributes;
  /** How a conflict names it ("The <what> was changed by another request"); default: the type. */
  what?: string;
}

/** The stored item of an entity: its attributes, the envelope and whichever index attributes apply. */
export type EntityItem<T extends string, S extends z.ZodObject> = z.output<S> & Envelope<T> & IndexAttributes;

export type ItemOf<E> = E extends Entity<infer T, infer S> ? EntityItem<T, S> : never;
export type FieldsOf<E> = E extends Entity<string, infer S> ? z.input<S> : never;

export interface ReplaceOptions {
  /** Thrown when the version condition fails; default: 409 conflict naming the entity. */
  onRace?: DomainError | undefined;
  /** Names the entity in the default conflict message. */
  what?: string | undefined;
}

export interface Entity<T extends string, S extends z.ZodObject> {
  readonly type: T;
  /** The whole stored item's schema (loose: undeclared attributes pass through). */
  readonly stored: z.ZodType<EntityItem<T, S>>;
  key(item: z.output<S>): Key;
  /** A new item (version 1, createdAt = updatedAt = now, this tenant) with its keys and indexes, parsed. */
  item(fields: z.input<S>, now: string): EntityItem<T, S>;
  /** `item` with its keys and index attributes recomputed from its attributes (stale ones dropped), parsed. */
  indexed(item: EntityItem<T, S>): EntityItem<T, S>;
  /** A raw item as this entity's item, or StoredItemError. */
  parse(raw: unknown): EntityItem<T, S>;
  /** Whether a raw item is of this entity's type (for mixed query results). */
  is(raw: unknown): boolean;
  /** Put-if-absent of a new item (from `item`), failing with `conflictError` when the key is taken. */
  putNew(item: EntityItem<T, S>, conflictError?: DomainError): CommitWrite;
  /** Replaces `read` with `next` (keys and indexes recomputed, version + 1, updatedAt = now), conditioned on the version read. */
  replace(read: EntityItem<T, S>, next: EntityItem<T, S>, now: string, opts?: ReplaceOptions): CommitWrite;
  /** The item `replace` writes (what to return or audit after the commit). */
  replaced(read: EntityItem<T, S>, next: EntityItem<T, S>, now: string): EntityItem<T, S>;
  /**
   * Like replace, as an Update of the attributes that differ: SET what changed, REMOVE what `next` lacks
   * (e.g. a sparse index that no longer applies), conditioned on the version read.
   */
  patch(read: EntityItem<T, S>, next: EntityItem<T, S>, now: string, opts?: ReplaceOptions): CommitWrite;
  /** The item under `key`, parsed (`table`: another table than the environment's, e.g. a store given its table). */
  get(key: Key, opts?: { consistent?: boolean; table?: string }): Promise<EntityItem<T, S> | undefined>;
  /** Up to any number of items by key (strongly consistent BatchGet, chunks of 100); missing keys are absent. */
  getMany(keys: readonly Key[]): Promise<EntityItem<T, S>[]>;
  /** One page of a single-partition query (functions/store/pagination.ts queryPage), parsed. */
  query(q: PageQuery): Promise<Page<EntityItem<T, S>>>;
  /** Every page of a query, parsed, in order. */
  queryPages(input: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>): AsyncGenerator<EntityItem<T, S>[]>;
}

const stripUndefined = <O extends object>(o: O): O =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as O;

const keyOf = (raw: unknown): Key | undefined => {
  const r = raw as { pk?: unknown; sk?: unknown } | null | undefined;
  return typeof r?.pk === 'string' && typeof r?.sk === 'string' ? { pk: r.pk, sk: r.sk } : undefined;
};

const sameValue = (a: unknown, b: unknown) =>
  JSON.stringify(a, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v)) ===
  JSON.stringify(b, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v));

class Unprocessed extends Error {}

export function defineEntity<const T extends string, S extends z.ZodObject>(def: EntityDef<T, S>): Entity<T, S> {
  type Item = EntityItem<T, S>;
  const stored = def.schema
    .extend({ ...envelopeShape, ...indexShape, type: z.literal(def.type) })
    .loose() as unknown as z.ZodType<Item>;
  const what = def.what ?? def.type;

  const parse = (raw: unknown): Item => {
    const res = stored.safeParse(raw);
    if (res.success) return res.data;
    throw new StoredItemError(
      def.type,
      keyOf(raw),
      res.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })),
    );
  };

  const indexed = (item: Item): Item => {
    const own = Object.fromEntries(Object.entries(item).filter(([k]) => !STORAGE_ATTRIBUTES.has(k))) as Item;
    return parse(stripUndefined({ ...own, ...def.key(own), ...(def.indexes?.(own) ?? {}) }));
  };

  const raceError = (opts?: ReplaceOptions) =>
    opts?.onRace ??
    new DomainError('conflict', 'conflict', `The ${opts?.what ?? what} was changed by another request; reload and retry`);

  const replaced = (read: Item, next: Item, now: string): Item =>
    indexed({ ...next, createdAt: read.createdAt, version: read.version + 1, updatedAt: now });

  const entity: Entity<T, S> = {
    type: def.type,
    stored,
    key: def.key,
    item(fields, now) {
      return indexed({
        ...(fields as object),
        type: def.type,
        tenant: env.tenant,
        createdAt: now,
        updatedAt: now,
        version: 1,
      } as unknown as Item);
    },
    indexed,
    parse,
    is: (raw) => (raw as { type?: unknown } | null)?.type === def.type,
    putNew(item, conflictError) {
      return {
        Put: { Item: indexed(item) as Record<string, unknown>, ConditionExpression: 'attribute_not_exists(pk)' },
        ...(conflictError ? { conditionFailedError: conflictError } : {}),
      };
    },
    replaced,
    replace(read, next, now, opts) {
      return {
        Put: {
          Item: replaced(read, next, now) as Record<string, unknown>,
          ConditionExpression: '#v = :v',
          ExpressionAttributeNames: { '#v': 'version' },
          ExpressionAttributeValues: { ':v': read.version },
        },
        conditionFailedError: raceError(opts),
      };
    },
    patch(read, next, now, opts) {
      const after = replaced(read, next, now) as Record<string, unknown>;
      const before = read as Record<string, unknown>;
      const names: Record<string, string> = { '#v': 'version' };
      const values: Record<string, unknown> = { ':v': read.version };
      const sets: string[] = [];
      const removes: string[] = [];
      let n = 0;
      for (const [attr, value] of Object.entries(after)) {
        if (attr === 'pk' || attr === 'sk' || attr === 'version') continue;
        if (attr in before && sameValue(before[attr], value)) continue;
        names[`#a${n}`] = attr;
        values[`:a${n}`] = value;
        sets.push(`#a${n} = :a${n}`);
        n++;
      }
      for (const attr of Object.keys(before)) {
        if (attr in after) continue;
        names[`#a${n}`] = attr;
        removes.push(`#a${n}`);
        n++;
      }
      values[':next'] = read.version + 1;
      sets.push('#v = :next');
      return {
        Update: {
          Key: def.key(read),
          UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
          ConditionExpression: '#v = :v',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        },
        conditionFailedError: raceError(opts),
      };
    },
    async get(key, opts = {}) {
      const res = await ddb().send(
        new GetCommand({
          TableName: opts.table ?? tableName(),
          Key: { pk: key.pk, sk: key.sk },
          ConsistentRead: opts.consistent ?? false,
        }),
      );
      return res.Item === undefined ? undefined : parse(res.Item);
    },
    async getMany(keys) {
      const out: Item[] = [];
      const table = tableName();
      for (let i = 0; i < keys.length; i += 100) {
        let pending: Record<string, unknown>[] | undefined = keys.slice(i, i + 100).map((k) => ({ pk: k.pk, sk: k.sk }));
        await withRetry(
          'batchUnprocessed',
          async () => {
            const res = await ddb().send(
              new BatchGetCommand({ RequestItems: { [table]: { Keys: pending, ConsistentRead: true } } }),
            );
            for (const raw of res.Responses?.[table] ?? []) out.push(parse(raw));
            pending = res.UnprocessedKeys?.[table]?.Keys as Record<string, unknown>[] | undefined;
            if (pending && pending.length > 0) throw new Unprocessed();
          },
          (err) => err instanceof Unprocessed,
        );
      }
      return out;
    },
    async query(q) {
      const page = await queryPage<unknown>(q);
      return { ...page, items: page.items.map(parse) };
    },
    async *queryPages(input) {
      for await (const page of queryPages<unknown>(input)) yield page.map(parse);
    },
  };
  return entity;
}
