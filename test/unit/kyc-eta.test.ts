import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { estimateProcessingEta, estimateReviewEta, MAX_ETA_MINUTES, type ReviewEtaInput } from '#domain/kyc/eta.ts';

const NOW = new Date('2025-06-10T12:00:00Z');
const eta = (over: Partial<ReviewEtaInput> = {}) =>
  estimateReviewEta({ now: NOW, queuePosition: 0, recentDurationsMinutes: [], decisionsLast24h: 0, ...over });

describe('estimateReviewEta: median recent duration + queue position x time per decision', () => {
  it('next in line with recent reviews: the median duration', () => {
    expect(eta({ recentDurationsMinutes: [30, 600, 45], decisionsLast24h: 10 })).toEqual({
      minutes: 45,
      at: '2025-06-10T12:45:00.000Z',
      basis: 'recent_reviews',
    });
  });

  it('an even number of samples: the mean of the two middle ones, rounded up', () => {
    expect(eta({ recentDurationsMinutes: [10, 20, 31, 1000] }).minutes).toBe(26);
  });

  it('fewer than 3 samples: the 24 h default (or the one given)', () => {
    expect(eta({ recentDurationsMinutes: [5, 5] })).toMatchObject({ minutes: 1440, basis: 'default' });
    expect(eta({ recentDurationsMinutes: [5, 5], defaultMinutes: 240 })).toMatchObject({ minutes: 240, basis: 'default' });
    expect(eta({ recentDurationsMinutes: [5, Number.NaN, -3, 5] })).toMatchObject({ basis: 'default' });
  });

  it('each review ahead adds one day divided by the recent decisions per day', () => {
    // 48 decisions a day = 30 minutes each; 3 ahead = 90 minutes on top of the 60-minute median.
    expect(eta({ queuePosition: 3, recentDurationsMinutes: [60, 60, 60], decisionsLast24h: 48 })).toMatchObject({ minutes: 150 });
    // 7 decisions a day: 1440/7 = 205.71... per review ahead, rounded up once.
    expect(eta({ queuePosition: 7, recentDurationsMinutes: [0, 0, 0], decisionsLast24h: 7 }).minutes).toBe(1440);
    expect(eta({ queuePosition: 1, recentDurationsMinutes: [0, 0, 0], decisionsLast24h: 7 }).minutes).toBe(206);
  });

  it('no decisions in the last day counts as one: a day per review ahead', () => {
    expect(eta({ queuePosition: 2, recentDurationsMinutes: [10, 10, 10], decisionsLast24h: 0 }).minutes).toBe(10 + 2 * 1440);
  });

  it('is capped at 14 days', () => {
    expect(MAX_ETA_MINUTES).toBe(20160);
    const e = eta({ queuePosition: 500, decisionsLast24h: 1 });
    expect(e.minutes).toBe(20160);
    expect(e.at).toBe('2025-06-24T12:00:00.000Z');
  });

  it('rejects an impossible queue position', () => {
    for (const q of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => eta({ queuePosition: q })).toThrow(RangeError);
    expect(() => eta({ decisionsLast24h: -1 })).toThrow(RangeError);
  });

  const arbInput = fc.record({
    recentDurationsMinutes: fc.array(fc.integer({ min: 0, max: 10_000 }), { maxLength: 20 }),
    decisionsLast24h: fc.integer({ min: 0, max: 500 }),
  });

  it('property: waiting behind more reviews never shortens the estimate', () => {
    fc.assert(
      fc.property(arbInput, fc.nat({ max: 2000 }), fc.nat({ max: 2000 }), (base, a, b) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        expect(eta({ ...base, queuePosition: lo }).minutes).toBeLessThanOrEqual(eta({ ...base, queuePosition: hi }).minutes);
      }),
    );
  });

  it('property: a faster recent pace never lengthens the estimate; minutes are whole, bounded, and at = now + minutes', () => {
    fc.assert(
      fc.property(arbInput, fc.nat({ max: 2000 }), fc.nat({ max: 500 }), (base, q, more) => {
        const slow = eta({ ...base, queuePosition: q });
        const fast = eta({ ...base, queuePosition: q, decisionsLast24h: base.decisionsLast24h + more });
        expect(fast.minutes).toBeLessThanOrEqual(slow.minutes);
        expect(Number.isInteger(slow.minutes)).toBe(true);
        expect(slow.minutes).toBeGreaterThanOrEqual(0);
        expect(slow.minutes).toBeLessThanOrEqual(MAX_ETA_MINUTES);
        expect(Date.parse(slow.at) - NOW.getTime()).toBe(slow.minutes * 60_000);
      }),
    );
  });
});

describe('automatic processing', () => {
  it('takes 2 minutes', () => {
    expect(estimateProcessingEta(NOW)).toEqual({ minutes: 2, at: '2025-06-10T12:02:00.000Z', basis: 'automatic_processing' });
  });
});
