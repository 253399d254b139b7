/** The onboarding form: what a client must provide, labelled in the client's locale. */
import { describe, expect, it } from 'vitest';
import { DomainError } from '#domain/errors.ts';
import { onboardingForm, resolveLocale } from '#domain/onboarding/form.ts';
import { requirementsFor } from '#domain/onboarding/requirements.ts';
import { parseTenantConfig } from '#domain/tenant/config.ts';
import demo from '../../infra/tenants/demo.json' with { type: 'json' };

const cfg = parseTenantConfig(demo);

describe('onboardingForm', () => {
  it('in de has German labels for profile, documents and questionnaire', () => {
    const form = onboardingForm(cfg, { country: 'DE', clientType: 'retail', locale: 'de' });
    expect(form.locale).toBe('de');
    expect(form.profile.find((f) => f.name === 'dateOfBirth')?.label).toBe('Geburtsdatum');
    expect(form.profile.find((f) => f.name === 'employmentStatus')?.options?.[0]).toEqual({
      id: 'employed',
      label: 'Angestellt',
    });
    expect(form.documents.identity.label).toBe('Identitätsnachweis');
    expect(form.documents.identity.oneOf[1]).toEqual({
      type: 'national_id',
      label: 'Personalausweis',
      sides: [
        { side: 'front', label: 'Vorderseite' },
        { side: 'back', label: 'Rückseite' },
      ],
    });
    expect(form.documents.proofOfAddress?.hint).toBe(
      'Ausgestellt innerhalb der letzten 90 Tage, mit Ihrem Namen und Ihrer Adresse',
    );
    expect(form.questionnaire?.title).toBe('Angemessenheitsprüfung');
    expect(form.questionnaire?.questions[0]?.label).toBe('Was besitzen Sie, wenn Sie einen CFD handeln?');
  });

  it('in es has Spanish labels; an unsupported locale falls back to the tenant default (en)', () => {
    expect(onboardingForm(cfg, { country: 'ES', clientType: 'retail', locale: 'es' }).documents.identity.label).toBe(
      'Documento de identidad',
    );
    const fr = onboardingForm(cfg, { country: 'FR', clientType: 'retail', locale: 'fr' });
    expect(fr.locale).toBe('en');
    expect(fr.documents.identity.label).toBe('Proof of identity');
  });

  it('a regional locale uses its language', () => {
    expect(resolveLocale(cfg, 'de-AT')).toBe('de');
    expect(resolveLocale(cfg, undefined)).toBe('en');
  });

  it('never exposes option scores', () => {
    const form = onboardingForm(cfg, { country: 'DE', clientType: 'retail', locale: 'en' });
    expect(JSON.stringify(form.questionnaire)).not.toMatch(/score/);
  });

  it('matches the requirements: documents, questionnaire, caps, allowance', () => {
    for (const [country, clientType] of [
      ['DE', 'retail'],
      ['GB', 'retail'],
      ['AU', 'retail'],
      ['ZA', 'professional'],
    ] as const) {
      const req = requirementsFor(cfg, { country, clientType });
      const form = onboardingForm(cfg, { country, clientType, locale: 'en' });
      expect(form.jurisdiction).toBe(req.jurisdiction);
      expect(form.documents.identity.oneOf.map((d) => [d.type, d.sides.map((s) => s.side)])).toEqual(
        req.documents.identity.accepted.map((d) => [d.type, d.sides]),
      );
      expect(form.documents.proofOfAddress?.maxAgeDays).toBe(req.documents.proofOfAddress.maxAgeDays);
      expect(Boolean(form.documents.selfie)).toBe(req.documents.selfie.required);
      expect(form.questionnaire?.id).toBe(req.questionnaire);
      expect(form.leverageCaps).toEqual(req.leverageCaps);
      expect(form.preVerificationDeposit).toEqual(req.preVerificationDeposit);
    }
  });

  it('UK retail asks for a selfie; EU professional has no questionnaire', () => {
    expect(onboardingForm(cfg, { country: 'GB', clientType: 'retail', locale: 'en' }).documents.selfie?.label).toBe(
      'Selfie holding your ID document',
    );
    expect(onboardingForm(cfg, { country: 'DE', clientType: 'professional', locale: 'en' }).questionnaire).toBeUndefined();
  });

  it('a restricted country has no form', () => {
    expect(() => onboardingForm(cfg, { country: 'IR', clientType: 'retail', locale: 'de' })).toThrow(DomainError);
  });
});
