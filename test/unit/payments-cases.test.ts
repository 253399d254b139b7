import { describe, expect, it } from 'vitest';
import { isDomainError } from '#domain/errors.ts';
import { CASE_RESOLUTIONS, freezeOnClose, validateCaseClosure } from '#domain/payments/cases.ts';

const codeOf = (fn: () => unknown) => {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return isDomainError(e) ? e.code : String(e);
  }
};

describe('validateCaseClosure', () => {
  it('accepts each catalogue resolution with a trimmed note', () => {
    for (const r of CASE_RESOLUTIONS) expect(validateCaseClosure(r, '  why \n')).toEqual({ resolution: r, note: 'why' });
  });
  it('names an unknown resolution and a missing, blank or over-long note', () => {
    expect(codeOf(() => validateCaseClosure('forgiven', 'x'))).toBe('unknown_resolution');
    expect(codeOf(() => validateCaseClosure('cleared', undefined))).toBe('note_required');
    expect(codeOf(() => validateCaseClosure('cleared', ' \t '))).toBe('note_required');
    expect(codeOf(() => validateCaseClosure('cleared', 'x'.repeat(2001)))).toBe('note_required');
  });
});

describe('freezeOnClose', () => {
  const base = { caseId: 'case_a', otherOpenFreezingCases: [] as string[] };
  it('lifts a freeze this case set when the resolution clears the client', () => {
    for (const resolution of ['cleared', 'recovered'] as const) {
      expect(freezeOnClose({ ...base, resolution, freeze: { caseId: 'case_a' } })).toEqual({
        lift: true,
        freezerCaseId: 'case_a',
      });
    }
  });
  it('lifts a freeze set last by a case that is closed now (no open case left behind it)', () => {
    expect(freezeOnClose({ ...base, resolution: 'cleared', freeze: { caseId: 'case_b' } })).toEqual({
      lift: true,
      freezerCaseId: 'case_b',
    });
  });
  it('keeps it for restricted and reported, for another open case, without a freeze, or when no case set it', () => {
    for (const resolution of ['restricted', 'reported'] as const) {
      expect(freezeOnClose({ ...base, resolution, freeze: { caseId: 'case_a' } })).toEqual({
        lift: false,
        keptBecause: 'resolution',
      });
    }
    expect(
      freezeOnClose({ ...base, resolution: 'cleared', freeze: { caseId: 'case_a' }, otherOpenFreezingCases: ['case_b'] }),
    ).toEqual({ lift: false, keptBecause: 'other_open_case' });
    expect(freezeOnClose({ ...base, resolution: 'cleared', freeze: undefined })).toEqual({
      lift: false,
      keptBecause: 'not_frozen',
    });
    expect(freezeOnClose({ ...base, resolution: 'cleared', freeze: {} })).toEqual({
      lift: false,
      keptBecause: 'not_set_by_a_case',
    });
  });
  it('does not count the case being closed among the other open cases', () => {
    expect(
      freezeOnClose({ ...base, resolution: 'cleared', freeze: { caseId: 'case_a' }, otherOpenFreezingCases: ['case_a'] }),
    ).toEqual({ lift: true, freezerCaseId: 'case_a' });
  });
});
