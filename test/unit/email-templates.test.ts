/**
 * Email templates (functions/adapters/email/templates.ts): every KYC email in en, de and es has its
 * subject and body pieces, the brand and the support address; reasons appear only as domain/kyc's
 * client-safe messages, so no reason code - least of all a confidential one - is ever in an email;
 * a final rejection names no reason; inputs are escaped in HTML; locales fall back as documented.
 */
import { describe, expect, it } from 'vitest';
import type { EmailMessage } from '#adapters/email/port.ts';
import {
  type EmailBaseInput,
  formatDay,
  kycApprovedEmail,
  kycDocumentExpiringEmail,
  kycDocumentsRequestedEmail,
  kycExpiredEmail,
  kycRejectedEmail,
  looksAutomatic,
  resolveLocale,
  welcomeEmail,
} from '#adapters/email/templates.ts';
import { clientReasons } from '#domain/kyc/client-status.ts';
import { ISSUE_CATALOGUE, type Locale } from '#domain/kyc/decision.ts';
import { CONFIDENTIAL_REVIEW_MESSAGE, REVIEW_REASON_CODES, REVIEW_REASONS } from '#domain/kyc/review-reasons.ts';

const LOCALES: Locale[] = ['en', 'de', 'es'];
const base = (locale: string): EmailBaseInput => ({
  to: 'nina@example.com',
  firstName: 'Nina',
  brandName: 'Demo Markets',
  supportEmail: 'support@demo.test',
  locale,
});
const all = (m: EmailMessage) => `${m.subject}\n${m.text}\n${m.html ?? ''}`;

const ISSUE_CODES = Object.keys(ISSUE_CATALOGUE);
const CONFIDENTIAL_CODES = [
  ...REVIEW_REASON_CODES.filter((c) => REVIEW_REASONS[c].confidential),
  ...ISSUE_CODES.filter((c) => ISSUE_CATALOGUE[c as keyof typeof ISSUE_CATALOGUE].confidential),
];
/** Every code with an underscore (the others - 'other', 'underage' - are ordinary words). */
const ALL_CODES = [...new Set([...REVIEW_REASON_CODES, ...ISSUE_CODES])].filter((c) => c.includes('_'));
/** Words that would hint at a confidential finding, in any of the three languages. */
const CONFIDENTIAL_WORDS = /sanction|sanktion|sanci[oó]n|forg|f[aä]lsch|falsif|duplica|fraud|betrug|fraude|watchlist|pep\b/i;

describe('locale resolution', () => {
  it('takes the locale, its language, the fallback, its language, then en', () => {
    expect(resolveLocale('de')).toBe('de');
    expect(resolveLocale('de-AT')).toBe('de');
    expect(resolveLocale('fr', 'es')).toBe('es');
    expect(resolveLocale('fr-FR', 'es-MX')).toBe('es');
    expect(resolveLocale('fr')).toBe('en');
    expect(resolveLocale('fr', 'it')).toBe('en');
  });

  it('formats a day in the long form of the locale, in UTC', () => {
    expect(formatDay('2027-03-31', 'en')).toBe('31 March 2027');
    expect(formatDay('2027-03-31', 'de')).toBe('31. März 2027');
    expect(formatDay('2027-03-31', 'es')).toBe('31 de marzo de 2027');
    expect(formatDay('not-a-date', 'en')).toBe('not-a-date');
  });

  it('every template falls back to the tenant default locale', () => {
    const m = kycApprovedEmail({ ...base('fr'), fallbackLocale: 'de' });
    expect(m.locale).toBe('de');
    expect(m.subject).toBe('Ihr Demo Markets-Konto ist verifiziert');
  });
});

describe('welcome', () => {
  it('is unchanged', () => {
    const m = welcomeEmail(base('de'));
    expect(m).toEqual({
      to: 'nina@example.com',
      subject: 'Willkommen bei Demo Markets',
      text: 'Hallo Nina,\n\nIhr Demo Markets-Konto wurde eröffnet. Als Nächstes vervollständigen Sie bitte Ihr Profil.\n\nFragen? Schreiben Sie an support@demo.test.',
      html: '<p>Hallo Nina,</p><p>Ihr Demo Markets-Konto wurde eröffnet. Als Nächstes vervollständigen Sie bitte Ihr Profil.</p><p>Fragen? Schreiben Sie an support@demo.test.</p>',
      template: 'welcome',
      locale: 'de',
    });
  });
});

describe('kyc.approved', () => {
  const expected: Record<Locale, { subject: string; pieces: string[] }> = {
    en: { subject: 'Your Demo Markets account is verified', pieces: ['Hello Nina,', 'You can now fund your account.'] },
    de: {
      subject: 'Ihr Demo Markets-Konto ist verifiziert',
      pieces: ['Hallo Nina,', 'Sie können jetzt Geld auf Ihr Konto einzahlen.'],
    },
    es: {
      subject: 'Su cuenta de Demo Markets está verificada',
      pieces: ['Hola Nina:', 'Ya puede depositar fondos en su cuenta.'],
    },
  };
  it.each(LOCALES)('%s: verified, fund it, support address', (locale) => {
    const m = kycApprovedEmail(base(locale));
    expect(m).toMatchObject({ to: 'nina@example.com', template: 'kyc_approved', locale, subject: expected[locale].subject });
    for (const p of [...expected[locale].pieces, 'support@demo.test']) {
      expect(m.text).toContain(p);
      expect(m.html).toContain(p);
    }
  });
});

describe('kyc.rejected', () => {
  const resubmit: Record<Locale, { subject: string; body: string; documents: string; identity: string }> = {
    en: {
      subject: 'Demo Markets: please upload new documents',
      body: 'Please upload new documents and submit them again.',
      documents: 'Documents to upload again:',
      identity: '- Identity document',
    },
    de: {
      subject: 'Demo Markets: Bitte laden Sie neue Dokumente hoch',
      body: 'Bitte laden Sie neue Dokumente hoch und reichen Sie sie erneut ein.',
      documents: 'Bitte laden Sie diese Dokumente erneut hoch:',
      identity: '- Ausweisdokument',
    },
    es: {
      subject: 'Demo Markets: suba documentos nuevos',
      body: 'Suba documentos nuevos y envíelos de nuevo.',
      documents: 'Documentos que debe volver a subir:',
      identity: '- Documento de identidad',
    },
  };

  it.each(LOCALES)('%s, canResubmit: upload new documents, with the client-safe reasons', (locale) => {
    const reasons = ['document_expired', 'mrz_invalid'];
    const m = kycRejectedEmail({ ...base(locale), canResubmit: true, reasons, categories: ['identity'] });
    const t = resubmit[locale];
    expect(m).toMatchObject({ template: 'kyc_rejected_resubmit', locale, subject: t.subject });
    expect(m.text).toContain(t.body);
    expect(m.text).toContain(t.documents);
    expect(m.text).toContain(t.identity);
    // the automatic checks' messages (mrz_invalid is an issue code no officer picks)
    for (const r of clientReasons(reasons, locale, { closed: true, automatic: true })) {
      expect(m.text).toContain(`- ${r.message}`);
      expect(m.html).toContain(`<li>${r.message}</li>`);
    }
    expect(m.text).toContain(ISSUE_CATALOGUE.mrz_invalid.clientMessage[locale]);
    expect(m.text).toContain('support@demo.test');
  });

  it("an officer's reasons read as the review reasons' messages", () => {
    const m = kycRejectedEmail({ ...base('en'), canResubmit: true, reasons: ['selfie_mismatch', 'document_expired'] });
    expect(m.text).toContain(REVIEW_REASONS.selfie_mismatch.clientMessage.en);
    expect(m.text).toContain(REVIEW_REASONS.document_expired.clientMessage.en);
    expect(m.text).not.toContain('Documents to upload again:');
  });

  const final: Record<Locale, { subject: string; body: string; contact: string }> = {
    en: {
      subject: 'Your Demo Markets application',
      body: 'we cannot open a Demo Markets account for you.',
      contact: 'please contact our support team at support@demo.test.',
    },
    de: {
      subject: 'Ihr Antrag bei Demo Markets',
      body: 'wir können kein Demo Markets-Konto für Sie eröffnen.',
      contact: 'wenden Sie sich bitte an unseren Kundenservice unter support@demo.test.',
    },
    es: {
      subject: 'Su solicitud en Demo Markets',
      body: 'no podemos abrir una cuenta de Demo Markets para usted.',
      contact: 'póngase en contacto con nuestro equipo de soporte en support@demo.test.',
    },
  };

  it.each(LOCALES)('%s, final: cannot open an account, contact support, and names no reason', (locale) => {
    const reasons = ['underage', 'country_restricted', 'sanctions_confirmed', 'suspected_forgery', 'sanctions_hit'];
    const m = kycRejectedEmail({ ...base(locale), canResubmit: false, reasons, categories: ['identity'] });
    const t = final[locale];
    expect(m).toMatchObject({ template: 'kyc_rejected_final', locale, subject: t.subject });
    expect(m.text).toContain(t.body);
    expect(m.text).toContain(t.contact);
    for (const r of reasons) {
      expect(all(m)).not.toContain(r);
      expect(all(m)).not.toContain(REVIEW_REASONS[r as 'underage']?.clientMessage[locale] ?? r);
    }
    expect(all(m)).not.toContain(CONFIDENTIAL_REVIEW_MESSAGE[locale]);
    expect(all(m)).not.toContain(ISSUE_CATALOGUE.underage.clientMessage[locale]);
    expect(m.text).not.toContain('- ');
    expect(m.html).not.toContain('<ul>');
  });
});

describe('kyc.documents_requested', () => {
  const expected: Record<Locale, { subject: string; body: string; documents: string; labels: string[]; upload: string }> = {
    en: {
      subject: 'Demo Markets: we need further documents',
      body: 'we need further documents from you.',
      documents: 'Documents to upload again:',
      labels: ['- Identity document', '- Proof of address', '- Selfie'],
      upload: 'Please upload the requested documents and submit them.',
    },
    de: {
      subject: 'Demo Markets: Wir benötigen weitere Dokumente',
      body: 'benötigen wir weitere Dokumente von Ihnen.',
      documents: 'Bitte laden Sie diese Dokumente erneut hoch:',
      labels: ['- Ausweisdokument', '- Adressnachweis', '- Selfie'],
      upload: 'Bitte laden Sie die angeforderten Dokumente hoch und reichen Sie sie ein.',
    },
    es: {
      subject: 'Demo Markets: necesitamos más documentos',
      body: 'necesitamos más documentos.',
      documents: 'Documentos que debe volver a subir:',
      labels: ['- Documento de identidad', '- Justificante de domicilio', '- Selfi'],
      upload: 'Suba los documentos solicitados y envíelos.',
    },
  };

  it.each(LOCALES)('%s: the documents to upload again (in order) and the client-safe reasons', (locale) => {
    const reasons = ['address_proof_too_old', 'selfie_mismatch', 'document_unreadable'];
    const m = kycDocumentsRequestedEmail({
      ...base(locale),
      reasons,
      categories: ['selfie', 'proof_of_address', 'identity'],
    });
    const t = expected[locale];
    expect(m).toMatchObject({ template: 'kyc_documents_requested', locale, subject: t.subject });
    expect(m.text).toContain(t.body);
    expect(m.text).toContain(`${t.documents}\n\n${t.labels.join('\n')}`);
    for (const code of reasons) expect(m.text).toContain(`- ${REVIEW_REASONS[code as 'selfie_mismatch'].clientMessage[locale]}`);
    expect(m.text).toContain('support@demo.test');
  });

  it.each(LOCALES)('%s: without categories it asks for the requested documents', (locale) => {
    const m = kycDocumentsRequestedEmail({ ...base(locale), reasons: ['document_unreadable'] });
    expect(m.text).toContain(expected[locale].upload);
    expect(m.text).not.toContain(expected[locale].documents);
  });

  it.each(LOCALES)('%s: confidential reasons collapse into the one generic message', (locale) => {
    const m = kycDocumentsRequestedEmail({ ...base(locale), reasons: ['suspected_forgery', 'document_unreadable'] });
    expect(m.text.split(CONFIDENTIAL_REVIEW_MESSAGE[locale])).toHaveLength(2);
    expect(m.text).toContain(REVIEW_REASONS.document_unreadable.clientMessage[locale]);
  });
});

describe('kyc.document_expiring', () => {
  const expected: Record<Locale, { subject: string; pieces: string[]; one: string; today: string }> = {
    en: {
      subject: 'Your identity document expires on 31 March 2027',
      pieces: ['expires on 31 March 2027 (21 days left)', 'Please upload your renewed identity document', 'Demo Markets'],
      one: '(1 day left)',
      today: '(today)',
    },
    de: {
      subject: 'Ihr Ausweisdokument läuft am 31. März 2027 ab',
      pieces: ['läuft am 31. März 2027 ab (noch 21 Tage)', 'Bitte laden Sie Ihr erneuertes Ausweisdokument', 'Demo Markets'],
      one: '(noch 1 Tag)',
      today: '(heute)',
    },
    es: {
      subject: 'Su documento de identidad caduca el 31 de marzo de 2027',
      pieces: ['caduca el 31 de marzo de 2027 (quedan 21 días)', 'Suba su documento de identidad renovado', 'Demo Markets'],
      one: '(queda 1 día)',
      today: '(hoy)',
    },
  };
  it.each(LOCALES)('%s: the date, the days left, upload the renewed document', (locale) => {
    const i = { ...base(locale), identityExpiresOn: '2027-03-31' };
    const m = kycDocumentExpiringEmail({ ...i, daysLeft: 21 });
    const t = expected[locale];
    expect(m).toMatchObject({ template: 'kyc_document_expiring', locale, subject: t.subject });
    for (const p of [...t.pieces, 'support@demo.test']) {
      expect(m.text).toContain(p);
      expect(m.html).toContain(p);
    }
    expect(kycDocumentExpiringEmail({ ...i, daysLeft: 1 }).text).toContain(t.one);
    expect(kycDocumentExpiringEmail({ ...i, daysLeft: 0 }).text).toContain(t.today);
  });
});

describe('kyc.expired', () => {
  const expected: Record<Locale, { subject: string; pieces: string[] }> = {
    en: {
      subject: 'Demo Markets: your verification needs to be renewed',
      pieces: [
        'Your identity document expired on 1 February 2026',
        'Please upload a valid identity document.',
        'trading and withdrawals on your account may be limited',
      ],
    },
    de: {
      subject: 'Demo Markets: Ihre Verifizierung muss erneuert werden',
      pieces: [
        'Ihr Ausweisdokument ist am 1. Februar 2026 abgelaufen',
        'Bitte laden Sie ein gültiges Ausweisdokument hoch.',
        'können Handel und Auszahlungen auf Ihrem Konto eingeschränkt sein',
      ],
    },
    es: {
      subject: 'Demo Markets: debe renovar su verificación',
      pieces: [
        'Su documento de identidad caducó el 1 de febrero de 2026',
        'Suba un documento de identidad válido.',
        'las operaciones y las retiradas de su cuenta pueden estar limitadas',
      ],
    },
  };
  it.each(LOCALES)('%s: renew the verification; trading and withdrawals may be limited', (locale) => {
    const m = kycExpiredEmail({ ...base(locale), identityExpiresOn: '2026-02-01' });
    expect(m).toMatchObject({ template: 'kyc_expired', locale, subject: expected[locale].subject });
    for (const p of [...expected[locale].pieces, 'support@demo.test']) {
      expect(m.text).toContain(p);
      expect(m.html).toContain(p);
    }
  });
});

describe('client-safe', () => {
  /** Every KYC email with the given reason codes, in every locale. */
  const emails = (reasons: string[]) =>
    LOCALES.flatMap((locale) => [
      kycApprovedEmail(base(locale)),
      kycRejectedEmail({ ...base(locale), canResubmit: true, reasons }),
      kycRejectedEmail({ ...base(locale), canResubmit: true, reasons, automatic: true }),
      kycRejectedEmail({ ...base(locale), canResubmit: false, reasons }),
      kycDocumentsRequestedEmail({ ...base(locale), reasons }),
      kycDocumentsRequestedEmail({ ...base(locale), reasons, automatic: true }),
      kycDocumentExpiringEmail({ ...base(locale), identityExpiresOn: '2027-01-01', daysLeft: 5 }),
      kycExpiredEmail({ ...base(locale), identityExpiresOn: '2026-01-01' }),
    ]);

  it('a confidential reason code (or a hint of it) never appears in any email, alone or with others', () => {
    const sets = [
      ...CONFIDENTIAL_CODES.map((c) => [c]),
      CONFIDENTIAL_CODES,
      ['sanctions_hit:hard:escalated', 'duplicate_document:review', 'sanctions_possible_match:review'],
      ['document_unreadable', ...CONFIDENTIAL_CODES, 'selfie_mismatch'],
    ];
    for (const reasons of sets) {
      for (const m of emails(reasons)) {
        const text = all(m);
        for (const code of CONFIDENTIAL_CODES) expect(text).not.toContain(code);
        expect(text).not.toMatch(CONFIDENTIAL_WORDS);
      }
    }
  });

  it('no reason code at all ever appears, and unknown codes say nothing about themselves', () => {
    for (const m of emails([...ALL_CODES, 'secret_internal_flag', 'other'])) {
      for (const code of [...ALL_CODES, 'secret_internal_flag']) expect(all(m)).not.toContain(code);
    }
  });

  it('infers automatic reasons from decide() lines and checks-only issue codes', () => {
    expect(looksAutomatic(['mrz_invalid'])).toBe(true);
    expect(looksAutomatic(['document_expired:hard'])).toBe(true);
    expect(looksAutomatic(['document_expired', 'selfie_mismatch'])).toBe(false);
  });
});

describe('HTML', () => {
  it('escapes every input and keeps the paragraphs of the text', () => {
    const m = kycDocumentsRequestedEmail({
      ...base('en'),
      firstName: '<script>"Nina" & Co</script>',
      brandName: 'A&B <Markets>',
      reasons: ['document_unreadable'],
      categories: ['identity'],
    });
    expect(m.html).toContain('<p>Hello &lt;script&gt;&quot;Nina&quot; &amp; Co&lt;/script&gt;,</p>');
    expect(m.html).not.toContain('<script>');
    expect(m.subject).toBe('A&B <Markets>: we need further documents');
    expect(m.html).toContain('<ul><li>Identity document</li></ul>');
    expect(m.text.split('\n\n')).toHaveLength(m.html!.split(/<p>|<ul>/).length - 1);
  });
});
