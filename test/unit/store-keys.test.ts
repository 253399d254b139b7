import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AUDIT_HEAD_SHARDS, auditKeys, clientKeys, padSeq, uniqueEmailKeys } from '#store/keys.ts';
import { decodeCursor, encodeCursor } from '#store/pagination.ts';

describe('keys are composed only in keys.ts', () => {
  it('seqs are zero-padded so lexical order is numeric order', () => {
    fc.assert(
      fc.property(fc.nat({ max: 1e11 }), fc.nat({ max: 1e11 }), (a, b) => {
        expect(Math.sign(padSeq(a).localeCompare(padSeq(b)))).toBe(Math.sign(a - b));
      }),
    );
  });
  it('emails are used in keys only in normalised form', () => {
    expect(uniqueEmailKeys.key(' Bob@Example.com ')).toEqual(uniqueEmailKeys.key('bob@example.com'));
  });
  it('audit items and head share the entity partition', () => {
    expect(auditKeys.item('client', 'c1', 7)).toEqual({ pk: 'AUDIT#client#c1', sk: 'SEQ#000000000007' });
    expect(auditKeys.head('client', 'c1')).toEqual({ pk: 'AUDIT#client#c1', sk: 'HEAD' });
    expect(clientKeys.key('c1')).toEqual({ pk: 'CLIENT#c1', sk: 'PROFILE' });
  });
  it('audit heads are spread over AUDIT_HEAD_SHARDS partitions, stably', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const a = auditKeys.headIndex('client', `c${i}`);
      expect(a).toEqual(auditKeys.headIndex('client', `c${i}`));
      seen.add(a.gsi2pk);
    }
    expect(seen.size).toBe(AUDIT_HEAD_SHARDS);
  });
});

describe('cursors are opaque and validated', () => {
  const key = { pk: 'STAFF#1', sk: 'PROFILE', gsi1pk: 'STAFF', gsi1sk: '2025#1' };
  it('round-trips for the partition it was made for', () => {
    expect(decodeCursor(encodeCursor(key), { index: 'gsi1', partition: 'STAFF' })).toEqual(key);
  });
  it.each([
    ['another partition', encodeCursor({ ...key, gsi1pk: 'CLIENTS' })],
    ['missing attributes', encodeCursor({ pk: 'STAFF#1', sk: 'PROFILE' })],
    ['extra attributes', encodeCursor({ ...key, x: 'y' })],
    ['non-string values', encodeCursor({ ...key, sk: 1 })],
    ['garbage', 'not-a-cursor'],
    ['an array', encodeCursor([1] as unknown as Record<string, unknown>)],
  ])('rejects %s with invalid_cursor', (_name, cursor) => {
    expect(() => decodeCursor(cursor, { index: 'gsi1', partition: 'STAFF' })).toThrowError(
      expect.objectContaining({ code: 'invalid_cursor' }),
    );
  });
});
