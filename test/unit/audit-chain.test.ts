import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AuditRecord,
  type ChainedRecord,
  canonicalJson,
  chainHash,
  findChainBreak,
  GENESIS_HASH,
  link,
  normalizeForAudit,
  verifyChain,
} from '#domain/audit/chain.ts';

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

const json: fc.Arbitrary<unknown> = fc.jsonValue().map((v) => normalizeForAudit(v));

const recordArb = fc.record({
  at: fc.date({ min: new Date('2020-01-01'), max: new Date('2030-01-01'), noInvalidDate: true }).map((d) => d.toISOString()),
  tenant: fc.constant('demo'),
  actor: fc.record({ id: fc.string({ minLength: 1, maxLength: 20 }), role: fc.constantFrom('client', 'admin', 'system') }),
  action: fc.constantFrom('client.registered', 'staff.created', 'kyc.approved'),
  entity: fc.record({ type: fc.constantFrom('client', 'staff'), id: fc.uuid() }),
  clientId: fc.option(fc.uuid(), { nil: undefined }),
  before: json,
  after: json,
  reason: fc.option(fc.string({ maxLength: 30 }), { nil: undefined }),
  evidence: fc.option(json, { nil: undefined }),
  requestId: fc.uuid(),
});

function build(records: Omit<AuditRecord, 'seq'>[]): ChainedRecord[] {
  const out: ChainedRecord[] = [];
  for (const r of records) out.push(link(out[out.length - 1], r, sha256));
  return out;
}

describe('canonical JSON', () => {
  it('is deterministic: key order does not matter', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (obj) => {
        const reversed = Object.fromEntries(Object.entries(obj).reverse());
        expect(canonicalJson(reversed)).toBe(canonicalJson(obj));
      }),
    );
  });

  it('sorts keys, writes bigint as a string and omits undefined properties', () => {
    expect(canonicalJson({ b: 1n, a: [undefined, 2], c: undefined, d: { z: null, y: 'x' } })).toBe(
      '{"a":[null,2],"b":"1","d":{"y":"x","z":null}}',
    );
  });

  it('round-trips: a normalised value re-canonicalises to the same text', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(canonicalJson(normalizeForAudit(v))).toBe(canonicalJson(v));
      }),
    );
  });
});

describe('chain rule: hash_n = H(hash_{n-1} + canonical(record_n))', () => {
  it('links the first record to GENESIS_HASH and each next one to the previous hash', () => {
    fc.assert(
      fc.property(fc.array(recordArb, { minLength: 1, maxLength: 8 }), (recs) => {
        const chain = build(recs);
        expect(chain[0]!.prevHash).toBe(GENESIS_HASH);
        chain.forEach((r, i) => {
          expect(r.seq).toBe(i + 1);
          expect(r.hash).toBe(
            sha256((i === 0 ? GENESIS_HASH : chain[i - 1]!.hash) + canonicalJson({ ...r, hash: undefined, prevHash: undefined })),
          );
          expect(r.hash).toBe(chainHash(r.prevHash, r, sha256));
        });
      }),
    );
  });
});

describe('verifyChain', () => {
  it('a chain built by the chain rule verifies, for any record sequence', () => {
    fc.assert(
      fc.property(fc.array(recordArb, { maxLength: 12 }), (recs) => {
        const chain = build(recs);
        const last = chain[chain.length - 1];
        expect(verifyChain(chain, sha256)).toBeNull();
        expect(verifyChain(chain, sha256, { head: { seq: last?.seq ?? 0, hash: last?.hash ?? GENESIS_HASH } })).toBeNull();
      }),
    );
  });

  it('any single mutation of content, hash, prevHash or seq is detected at or before the mutated seq', () => {
    const mutations = ['after', 'before', 'actor', 'action', 'at', 'reason', 'hash', 'prevHash', 'seq'] as const;
    fc.assert(
      fc.property(
        fc.array(recordArb, { minLength: 1, maxLength: 8 }),
        fc.nat(),
        fc.constantFrom(...mutations),
        fc.string({ minLength: 1, maxLength: 8 }),
        (recs, idx, field, noise) => {
          const chain = build(recs);
          const i = idx % chain.length;
          const r = chain[i]!;
          const m: ChainedRecord = { ...r };
          switch (field) {
            case 'after':
            case 'before':
              m[field] = { tampered: noise, was: r[field] ?? null };
              break;
            case 'actor':
              m.actor = { ...r.actor, id: r.actor.id + noise };
              break;
            case 'action':
            case 'at':
            case 'hash':
            case 'prevHash':
              m[field] = r[field] + noise;
              break;
            case 'reason':
              m.reason = (r.reason ?? '') + noise;
              break;
            case 'seq':
              m.seq = r.seq + 1 + noise.length;
              break;
          }
          const tampered = chain.map((x, j) => (j === i ? m : x));
          const broken = verifyChain(tampered, sha256);
          expect(broken).not.toBeNull();
          expect(broken!).toBeLessThanOrEqual(r.seq);
        },
      ),
    );
  });

  it('a deleted record is detected as a seq gap', () => {
    const chain = build(fc.sample(recordArb, 5));
    const withoutThird = chain.filter((r) => r.seq !== 3);
    expect(findChainBreak(withoutThird, sha256)).toEqual({ seq: 3, reason: 'seq_gap' });
  });

  it('a truncated tail is detected against the head', () => {
    const chain = build(fc.sample(recordArb, 4));
    const head = { seq: 4, hash: chain[3]!.hash };
    expect(findChainBreak(chain.slice(0, 3), sha256, { head })).toEqual({ seq: 4, reason: 'head_mismatch' });
  });

  it('verification resumes from a checkpoint (paged verification)', () => {
    const chain = build(fc.sample(recordArb, 6));
    expect(verifyChain(chain.slice(3), sha256, { from: { seq: 3, hash: chain[2]!.hash } })).toBeNull();
    expect(verifyChain(chain.slice(3), sha256, { from: { seq: 3, hash: GENESIS_HASH } })).toBe(4);
  });
});
