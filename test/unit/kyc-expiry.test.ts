import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkExpiry } from '#domain/kyc/checks.ts';
import { classifyExpiry, daysUntil } from '#domain/kyc/expiry.ts';

const NOW = new Date('2025-06-10T23:59:59Z');

describe('classifyExpiry', () => {
  it('a document is valid through its expiry date inclusive', () => {
    expect(classifyExpiry('2025-06-10', NOW)).toBe('expiring_soon');
    expect(classifyExpiry('2025-06-09', NOW)).toBe('expired');
    expect(classifyExpiry('2025-06-10', new Date('2025-06-10T00:00:00Z'))).toBe('expiring_soon');
    expect(classifyExpiry('2025-06-10', new Date('2025-06-11T00:00:00Z'))).toBe('expired');
  });

  it('expiring_soon up to and including windowDays ahead (default 30)', () => {
    expect(classifyExpiry('2025-07-10', NOW)).toBe('expiring_soon');
    expect(classifyExpiry('2025-07-11', NOW)).toBe('valid');
    expect(classifyExpiry('2025-06-17', NOW, 7)).toBe('expiring_soon');
    expect(classifyExpiry('2025-06-18', NOW, 7)).toBe('valid');
    expect(classifyExpiry('2025-06-10', NOW, 0)).toBe('expiring_soon');
    expect(classifyExpiry('2025-06-11', NOW, 0)).toBe('valid');
  });

  it('refuses a date that does not exist instead of guessing', () => {
    for (const d of ['2025-02-29', '2025-13-01', '10/06/2025', '']) expect(() => classifyExpiry(d, NOW)).toThrow(RangeError);
  });

  it('property: agrees with the checks that approved the document', () => {
    const day = 86_400_000;
    fc.assert(
      fc.property(
        fc.integer({ min: -400, max: 400 }),
        fc.integer({ min: 0, max: day - 1 }),
        fc.nat({ max: 90 }),
        (offset, ms, w) => {
          const now = new Date(Date.UTC(2025, 5, 10) + ms);
          const expiryDate = new Date(Date.UTC(2025, 5, 10) + offset * day).toISOString().slice(0, 10);
          const issues = checkExpiry({ documentType: 'passport', expiryDate, fieldConfidence: {} }, now, w);
          const expected = issues[0]?.code === 'document_expired' ? 'expired' : issues[0] ? 'expiring_soon' : 'valid';
          expect(classifyExpiry(expiryDate, now, w)).toBe(expected);
          expect(daysUntil(expiryDate, now)).toBe(offset);
        },
      ),
    );
  });
});

describe('daysUntil', () => {
  it('counts calendar days in UTC, whatever the time of day', () => {
    expect(daysUntil('2025-06-10', NOW)).toBe(0);
    expect(daysUntil('2025-06-11', NOW)).toBe(1);
    expect(daysUntil('2025-06-01', NOW)).toBe(-9);
    expect(daysUntil('2026-06-10', NOW)).toBe(365);
    expect(daysUntil('2024-02-29', new Date('2024-02-28T23:00:00Z'))).toBe(1);
  });
});
