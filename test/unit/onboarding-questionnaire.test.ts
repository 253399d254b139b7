/** The MiFID II appropriateness test: data, scoring bands at their exact thresholds, and answer validation. */
import { describe, expect, it } from 'vitest';
import { DomainError } from '#domain/errors.ts';
import {
  appropriatenessResult,
  MIFID2_APPROPRIATENESS,
  maxScore,
  scoreAppropriateness,
  TEXT_LOCALES,
} from '#domain/onboarding/questionnaire.ts';

const q = MIFID2_APPROPRIATENESS;

function thrown(fn: () => unknown): DomainError {
  try {
    fn();
  } catch (err) {
    if (err instanceof DomainError) return err;
    throw err;
  }
  throw new Error('expected a DomainError');
}

// 4 knowledge questions right (12) + 1 + 1 from experience = 14, the 'appropriate' threshold.
const AT_APPROPRIATE = {
  cfd_knowledge: 'contract_on_price',
  leverage_effect: 'loss_30_percent',
  margin_call: 'positions_closed',
  loss_risk: 'can_lose_all',
  trading_frequency: 'up_to_10',
  trading_volume: 'under_10k',
  education: 'none',
  profession: 'no',
};

// 3 + 3 + 0 + 0 + 2 = 8, the 'warn' threshold.
const AT_WARN = {
  cfd_knowledge: 'contract_on_price',
  leverage_effect: 'loss_30_percent',
  margin_call: 'dont_know',
  loss_risk: 'losses_limited',
  trading_frequency: 'up_to_40',
  trading_volume: 'none',
  education: 'none',
  profession: 'no',
};

describe('the questionnaire as data', () => {
  it('has ~8 questions with unique ids, unique option ids and labels in en/de/es', () => {
    expect(q.questions.length).toBe(8);
    expect(new Set(q.questions.map((x) => x.id)).size).toBe(q.questions.length);
    for (const question of q.questions) {
      expect(new Set(question.options.map((o) => o.id)).size).toBe(question.options.length);
      for (const locale of TEXT_LOCALES) {
        expect(question.label[locale].length).toBeGreaterThan(0);
        for (const o of question.options) expect(o.label[locale].length).toBeGreaterThan(0);
      }
    }
    expect(new Set(q.questions.map((x) => x.topic))).toEqual(new Set(['knowledge', 'experience', 'education']));
  });
  it('maxScore is the sum of the best options (24) and the thresholds fit inside it', () => {
    expect(maxScore(q)).toBe(24);
    expect(q.thresholds.warn).toBeLessThan(q.thresholds.appropriate);
    expect(q.thresholds.appropriate).toBeLessThanOrEqual(maxScore(q));
  });
});

describe('scoring bands at the exact thresholds', () => {
  it('all best answers: appropriate with full score', () => {
    const best = Object.fromEntries(q.questions.map((x) => [x.id, [...x.options].sort((a, b) => b.score - a.score)[0]?.id]));
    expect(scoreAppropriateness(best)).toEqual({
      questionnaire: 'mifid2-appropriateness',
      score: 24,
      maxScore: 24,
      result: 'appropriate',
      blockedProducts: [],
      warnings: [],
    });
  });
  it(`score ${q.thresholds.appropriate} (the threshold) is appropriate`, () => {
    const r = scoreAppropriateness(AT_APPROPRIATE);
    expect(r.score).toBe(14);
    expect(r.result).toBe('appropriate');
    expect(r.blockedProducts).toEqual([]);
  });
  it('one point below is warn', () => {
    const r = scoreAppropriateness({ ...AT_APPROPRIATE, trading_volume: 'none' });
    expect(r.score).toBe(13);
    expect(r.result).toBe('warn');
    expect(r.warnings).toEqual(['limited_knowledge_experience']);
    expect(r.blockedProducts).toEqual([]);
  });
  it(`score ${q.thresholds.warn} (the warn threshold) is warn, with per-answer warnings`, () => {
    const r = scoreAppropriateness(AT_WARN);
    expect(r.score).toBe(8);
    expect(r.result).toBe('warn');
    expect(r.warnings).toEqual(['limited_knowledge_experience', 'does_not_understand_margin_calls', 'underestimates_loss_risk']);
  });
  it('one point below warn is not appropriate and blocks the riskiest classes', () => {
    const r = scoreAppropriateness({ ...AT_WARN, trading_frequency: 'up_to_10' });
    expect(r.score).toBe(7);
    expect(r.result).toBe('not_appropriate');
    expect(r.blockedProducts).toEqual(['index_minor', 'commodity', 'equity', 'crypto']);
    expect(r.warnings[0]).toBe('not_appropriate');
  });
  it('appropriatenessResult bands every score 0..max', () => {
    for (let s = 0; s <= maxScore(q); s++) {
      const expected = s >= 14 ? 'appropriate' : s >= 8 ? 'warn' : 'not_appropriate';
      expect(appropriatenessResult(s)).toBe(expected);
    }
  });
});

describe('answer validation', () => {
  it('a missing answer: questionnaire_incomplete naming the question', () => {
    const { profession: _, ...rest } = AT_APPROPRIATE;
    const err = thrown(() => scoreAppropriateness(rest));
    expect(err.code).toBe('questionnaire_incomplete');
    expect(err.kind).toBe('validation');
    expect(err.errors).toEqual([{ field: 'answers.profession', code: 'required', message: 'must be answered' }]);
  });
  it('every missing answer is named', () => {
    const err = thrown(() => scoreAppropriateness({}));
    expect(err.code).toBe('questionnaire_incomplete');
    expect(err.errors.map((e) => e.field)).toEqual(q.questions.map((x) => `answers.${x.id}`));
  });
  it('an unknown option: unknown_answer naming the question and the valid options', () => {
    const err = thrown(() => scoreAppropriateness({ ...AT_APPROPRIATE, education: 'phd_in_astrology' }));
    expect(err.code).toBe('unknown_answer');
    expect(err.errors).toEqual([
      {
        field: 'answers.education',
        code: 'unknown_option',
        message: 'must be one of none, course, degree, professional_certification',
      },
    ]);
  });
  it('an unknown question: unknown_answer', () => {
    const err = thrown(() => scoreAppropriateness({ ...AT_APPROPRIATE, favourite_colour: 'blue' }));
    expect(err.code).toBe('unknown_answer');
    expect(err.errors[0]).toMatchObject({ field: 'answers.favourite_colour', code: 'unknown_question' });
  });
  it('unknown and missing together: unknown_answer listing both', () => {
    const { profession: _, ...rest } = AT_APPROPRIATE;
    const err = thrown(() => scoreAppropriateness({ ...rest, education: 42 }));
    expect(err.code).toBe('unknown_answer');
    expect(err.errors.map((e) => [e.field, e.code])).toEqual([
      ['answers.education', 'unknown_option'],
      ['answers.profession', 'required'],
    ]);
  });
  it('answers that are not an object', () => {
    expect(thrown(() => scoreAppropriateness(null)).code).toBe('questionnaire_incomplete');
    expect(thrown(() => scoreAppropriateness(['a'])).code).toBe('questionnaire_incomplete');
  });
});
