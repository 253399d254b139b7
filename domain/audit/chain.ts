/**
 * The audit hash chain: pure rules, no I/O. The hash function is passed in (the store uses SHA-256
 * from node:crypto), so this module stays free of platform imports.
 *
 * Invariants:
 * - canonical JSON is deterministic: object keys are sorted (by UTF-16 code unit), `undefined`
 *   properties are omitted, bigint is written as a decimal string, and the same value always gives
 *   the same text regardless of key insertion order
 * - only the record's content is hashed (seq, at, tenant, actor, action, entity, clientId, before,
 *   after, reason, evidence, requestId); storage attributes (keys, hash, prevHash) are not
 * - chain rule: hash_n = H(hash_{n-1} + canonical(record_n)), with hash_0 = GENESIS_HASH
 * - a chain is valid only if its seqs run 1, 2, 3, ... without gaps, every prevHash equals the
 *   previous item's hash, every hash recomputes, and (when a head is given) the head names the
 *   last seq and hash, so a truncated tail is detected too
 * - verifyChain reports the FIRST broken seq; every single mutation of a record's content, its
 *   hash, its prevHash or its seq is reported at or before the mutated seq
 */

/** Hex-encoded digest of a UTF-8 string, e.g. SHA-256. */
export type HashFn = (input: string) => string;

export const GENESIS_HASH = '0'.repeat(64);

export interface AuditActor {
  id: string;
  role: string;
}

export interface AuditEntityRef {
  type: string;
  id: string;
}

/** The hashed content of one audit entry. */
export interface AuditRecord {
  seq: number;
  at: string;
  tenant: string;
  actor: AuditActor;
  action: string;
  entity: AuditEntityRef;
  clientId?: string | undefined;
  before: unknown;
  after: unknown;
  reason?: string | undefined;
  evidence?: unknown;
  requestId: string;
}

export interface ChainedRecord extends AuditRecord {
  hash: string;
  prevHash: string;
}

export interface ChainHead {
  seq: number;
  hash: string;
}

export type ChainBreakReason = 'seq_gap' | 'prev_hash_mismatch' | 'hash_mismatch' | 'head_mismatch';

export interface ChainBreak {
  /** The first seq at which the chain no longer verifies. */
  seq: number;
  reason: ChainBreakReason;
}

/** Deterministic JSON: sorted keys, bigint as string, undefined omitted (as JSON.stringify does). */
export function canonicalJson(value: unknown): string {
  const out = write(value);
  return out === undefined ? 'null' : out;
}

function write(value: unknown): string | undefined {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return JSON.stringify(value.toString());
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }
  const obj = value as { toJSON?: () => unknown };
  if (typeof obj.toJSON === 'function') return write(obj.toJSON());
  if (Array.isArray(value)) return `[${value.map((v) => write(v) ?? 'null').join(',')}]`;
  if (value instanceof Set) return write([...value].sort());
  if (value instanceof Map) return write(Object.fromEntries(value));
  const entries: string[] = [];
  for (const key of Object.keys(value as object).sort()) {
    const v = write((value as Record<string, unknown>)[key]);
    if (v !== undefined) entries.push(`${JSON.stringify(key)}:${v}`);
  }
  return `{${entries.join(',')}}`;
}

/**
 * Normalises a value to what survives a JSON (and DynamoDB) round trip: bigint becomes a string,
 * undefined properties disappear. Store this, hash this, and re-reading gives the same canonical text.
 */
export function normalizeForAudit<T>(value: T): unknown {
  if (value === undefined) return null;
  return JSON.parse(canonicalJson(value));
}

/** The hashed part of a stored record (drops keys, hash, prevHash and anything else). */
export function hashedContent(r: AuditRecord): AuditRecord {
  return {
    seq: r.seq,
    at: r.at,
    tenant: r.tenant,
    actor: { id: r.actor.id, role: r.actor.role },
    action: r.action,
    entity: { type: r.entity.type, id: r.entity.id },
    clientId: r.clientId,
    before: r.before,
    after: r.after,
    reason: r.reason,
    evidence: r.evidence,
    requestId: r.requestId,
  };
}

/** hash_n = H(hash_{n-1} + canonical(record_n)) */
export function chainHash(prevHash: string, record: AuditRecord, hash: HashFn): string {
  return hash(prevHash + canonicalJson(hashedContent(record)));
}

/** Links a new record onto a chain whose head is `prev` (undefined for an empty chain). */
export function link(prev: ChainHead | undefined, record: Omit<AuditRecord, 'seq'>, hash: HashFn): ChainedRecord {
  const seq = (prev?.seq ?? 0) + 1;
  const prevHash = prev?.hash ?? GENESIS_HASH;
  const full = { ...record, seq } as AuditRecord;
  return { ...full, prevHash, hash: chainHash(prevHash, full, hash) };
}

export interface VerifyOptions {
  /** Where a partial (paged) verification resumes: the last verified seq and hash. */
  from?: ChainHead;
  /** The chain head item; when given, the last record must match it. */
  head?: ChainHead;
}

/** The first break in a chain (records in seq order), or null when the chain verifies. */
export function findChainBreak(records: readonly ChainedRecord[], hash: HashFn, opts: VerifyOptions = {}): ChainBreak | null {
  let expectedSeq = (opts.from?.seq ?? 0) + 1;
  let prevHash = opts.from?.hash ?? GENESIS_HASH;
  for (const r of records) {
    if (r.seq !== expectedSeq) return { seq: Math.min(expectedSeq, r.seq), reason: 'seq_gap' };
    if (r.prevHash !== prevHash) return { seq: r.seq, reason: 'prev_hash_mismatch' };
    if (chainHash(prevHash, r, hash) !== r.hash) return { seq: r.seq, reason: 'hash_mismatch' };
    prevHash = r.hash;
    expectedSeq += 1;
  }
  if (opts.head) {
    const lastSeq = expectedSeq - 1;
    if (opts.head.seq !== lastSeq || opts.head.hash !== prevHash) {
      return { seq: Math.min(lastSeq + 1, opts.head.seq), reason: 'head_mismatch' };
    }
  }
  return null;
}

/** The first broken seq, or null when every record verifies. */
export function verifyChain(records: readonly ChainedRecord[], hash: HashFn, opts: VerifyOptions = {}): number | null {
  return findChainBreak(records, hash, opts)?.seq ?? null;
}
