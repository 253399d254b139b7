import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clientMessages, decide, ISSUE_CATALOGUE } from '#domain/kyc/decision.ts';
import type { KycIssue, KycIssueCode } from '#domain/kyc/model.ts';

const CODES = Object.keys(ISSUE_CATALOGUE) as KycIssueCode[];
const issue = (code: KycIssueCode, severity: 'hard' | 'review'): KycIssue => ({
  code,
  severity,
  evidence: {},
  suggestedAction: ISSUE_CATALOGUE[code].suggestedAction,
});
const arbIssue = fc
  .record({ code: fc.constantFrom(...CODES), severity: fc.constantFrom('hard' as const, 'review' as const) })
  .map((r) => issue(r.code, r.severity));
const arbPolicy = fc.record({ escalate: fc.subarray(CODES) });

describe("no issues => 'approve', and 'approve' only when there are no issues", () => {
  it('property', () => {
    fc.assert(
      fc.property(fc.array(arbIssue, { maxLength: 8 }), arbPolicy, (issues, policy) => {
        expect(decide(issues, policy).outcome === 'approve').toBe(issues.length === 0);
      }),
    );
  });
});

describe("any hard issue not escalated by the tenant policy => 'reject'", () => {
  it('property', () => {
    fc.assert(
      fc.property(fc.array(arbIssue, { maxLength: 8 }), arbPolicy, (issues, policy) => {
        const d = decide(issues, policy);
        const blocking = issues.some((i) => i.severity === 'hard' && !policy.escalate.includes(i.code));
        expect(d.outcome === 'reject').toBe(blocking);
        if (issues.length > 0 && !blocking) expect(d.outcome).toBe('manual_review');
        expect(d.reasons).toHaveLength(issues.length);
      }),
    );
  });
});

describe("otherwise => 'manual_review', every issue named; escalated hard issues are high priority", () => {
  it('review issues only => normal priority, every issue named', () => {
    const d = decide([issue('name_mismatch', 'review'), issue('low_confidence', 'review')], { escalate: [] });
    expect(d).toMatchObject({
      outcome: 'manual_review',
      priority: 'normal',
      reasons: ['name_mismatch:review', 'low_confidence:review'],
    });
  });
  it('sanctions_hit escalated => manual review with high priority', () => {
    const d = decide([issue('sanctions_hit', 'hard'), issue('document_expiring_soon', 'review')], {
      escalate: ['sanctions_hit'],
    });
    expect(d).toMatchObject({
      outcome: 'manual_review',
      priority: 'high',
      reasons: ['sanctions_hit:hard:escalated', 'document_expiring_soon:review'],
    });
  });
  it('sanctions_hit not escalated => reject', () => {
    expect(decide([issue('sanctions_hit', 'hard')], { escalate: [] }).outcome).toBe('reject');
  });
  it('an escalated hard issue next to a non-escalated one still rejects', () => {
    expect(decide([issue('sanctions_hit', 'hard'), issue('underage', 'hard')], { escalate: ['sanctions_hit'] }).outcome).toBe(
      'reject',
    );
  });
  it('default policy escalates nothing', () => {
    expect(decide([]).outcome).toBe('approve');
    expect(decide([issue('document_expired', 'hard')]).outcome).toBe('reject');
  });
});

describe('client messages are client-safe; every code has en, de and es messages', () => {
  it('every code has three non-empty messages and a suggested action', () => {
    for (const code of CODES) {
      const e = ISSUE_CATALOGUE[code];
      expect(e.suggestedAction).toMatch(/^[a-z_]+$/);
      for (const l of ['en', 'de', 'es'] as const) expect(e.clientMessage[l].length).toBeGreaterThan(10);
    }
  });
  it('sanctions and fraud share one generic under-review message that reveals nothing', () => {
    const confidential: KycIssueCode[] = ['sanctions_hit', 'sanctions_possible_match', 'duplicate_document'];
    for (const l of ['en', 'de', 'es'] as const) {
      const msgs = new Set(confidential.map((c) => ISSUE_CATALOGUE[c].clientMessage[l]));
      expect(msgs.size).toBe(1);
      expect([...msgs][0]).not.toMatch(/sanction|fraud|duplicat|sanktion|fraude|list/i);
    }
    expect(clientMessages([issue('sanctions_hit', 'hard'), issue('duplicate_document', 'review')], 'de')).toEqual([
      ISSUE_CATALOGUE.sanctions_hit.clientMessage.de,
    ]);
  });
});
