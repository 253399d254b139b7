import { describe, expect, it } from 'vitest';
import sample from '#domain/kyc/data/sanctions-sample.json' with { type: 'json' };
import { SAMPLE_SANCTIONS_LIST } from '#domain/kyc/sample-list.ts';
import { screenSanctions } from '#domain/kyc/sanctions.ts';

describe('the shipped list is clearly marked sample data', () => {
  it('has ~15 entries, unique ids, and a sample notice', () => {
    expect(sample._notice).toMatch(/SAMPLE DATA ONLY/);
    expect(SAMPLE_SANCTIONS_LIST.source).toBe('sample');
    expect(SAMPLE_SANCTIONS_LIST.entries.length).toBeGreaterThanOrEqual(15);
    expect(new Set(SAMPLE_SANCTIONS_LIST.entries.map((e) => e.id)).size).toBe(SAMPLE_SANCTIONS_LIST.entries.length);
  });
});

describe('name >= 0.85 (aliases included) AND DOB agrees => hard sanctions_hit with entry id and score', () => {
  it('matches across diacritics and word order with the full DOB', () => {
    const issues = screenSanctions({ fullName: 'OZDEMIR ZULFIKAR', dateOfBirth: '1975-07-29' }, SAMPLE_SANCTIONS_LIST);
    expect(issues).toEqual([
      expect.objectContaining({
        code: 'sanctions_hit',
        severity: 'hard',
        evidence: expect.objectContaining({ entryId: 'SMPL-0004', score: 1, dobMatch: true }),
      }),
    ]);
  });
  it('matches an alias', () => {
    const issues = screenSanctions({ fullName: 'Anastasia Volkonskaia', dateOfBirth: '1983-01-09' }, SAMPLE_SANCTIONS_LIST);
    expect(issues[0]).toMatchObject({
      code: 'sanctions_hit',
      evidence: { entryId: 'SMPL-0005', matchedName: 'Anastasia Volkonskaia' },
    });
  });
  it('year-only list DOB matches on the year', () => {
    const issues = screenSanctions({ fullName: 'Oyvind Kjaergard', dateOfBirth: '1958-10-10' }, SAMPLE_SANCTIONS_LIST);
    expect(issues[0]).toMatchObject({ code: 'sanctions_hit', evidence: { entryId: 'SMPL-0003', dobPrecision: 'year' } });
    expect(issues[0]?.evidence['score']).toBeGreaterThanOrEqual(0.85);
    expect(issues[0]?.evidence['score']).toBeLessThan(1);
  });
});

describe('name >= 0.85 without DOB agreement => review sanctions_possible_match', () => {
  it('a different DOB', () => {
    const issues = screenSanctions({ fullName: 'Zülfikar Özdemir', dateOfBirth: '1990-01-01' }, SAMPLE_SANCTIONS_LIST);
    expect(issues).toEqual([
      expect.objectContaining({
        code: 'sanctions_possible_match',
        severity: 'review',
        evidence: expect.objectContaining({ entryId: 'SMPL-0004', dobMatch: false }),
      }),
    ]);
  });
  it('an entry with no DOB', () => {
    const issues = screenSanctions({ fullName: 'Siobhan Ni Dhomhnaill', dateOfBirth: '1980-01-01' }, SAMPLE_SANCTIONS_LIST);
    expect(issues[0]).toMatchObject({
      code: 'sanctions_possible_match',
      evidence: { entryId: 'SMPL-0015', dobPrecision: 'none' },
    });
  });
  it('an unknown client DOB', () => {
    expect(screenSanctions({ fullName: 'Kwame Mensah Boateng' }, SAMPLE_SANCTIONS_LIST)[0]?.code).toBe(
      'sanctions_possible_match',
    );
  });
});

describe('clean names give no issue', () => {
  it.each(['Anna Maria Eriksson', 'José María García-López', 'Sergio Restrepo Gómez', 'Li Na'])('%s', (fullName) => {
    expect(screenSanctions({ fullName, dateOfBirth: '1964-09-19' }, SAMPLE_SANCTIONS_LIST)).toEqual([]);
  });
  it('the threshold is an input', () => {
    expect(screenSanctions({ fullName: 'Oyvind Kjaergard', dateOfBirth: '1958-10-10' }, SAMPLE_SANCTIONS_LIST, 0.99)).toEqual([]);
  });
});
