/**
 * The message catalogue (domain/messages/catalogue.ts): every message speaks every catalogue locale, a
 * message with parameters reads the same parameters in every locale, the one locale fallback rule, and
 * text() filling parameters.
 */
import { describe, expect, it } from 'vitest';
import {
  CATALOGUE,
  isMessageKey,
  MESSAGE_AREAS,
  MESSAGE_LOCALES,
  type MessageEntry,
  type MessageLocale,
  resolveMessageLocale,
  text,
  textsOf,
} from '#domain/messages/catalogue.ts';

const KEYS = Object.keys(CATALOGUE);

/** The parameter names a locale's text reads (a proxy records them), with what it renders. */
function paramsRead(entry: MessageEntry, locale: MessageLocale): { names: string[]; out: string } {
  const t = entry[locale];
  if (typeof t === 'string') return { names: [], out: t };
  const names = new Set<string>();
  const probe = new Proxy(
    {},
    {
      get: (_, name) => {
        if (typeof name === 'string') names.add(name);
        return `⟨${String(name)}⟩`;
      },
    },
  );
  const out = (t as (p: unknown) => string)(probe);
  return { names: [...names].sort(), out };
}

describe('the catalogue is complete', () => {
  it('registers every area under its name, and holds every message once', () => {
    expect(Object.keys(MESSAGE_AREAS).sort()).toEqual(['copy', 'email', 'http', 'kyc', 'payments']);
    const count = Object.values(MESSAGE_AREAS).reduce((n, m) => n + Object.keys(m).length, 0);
    expect(KEYS).toHaveLength(count);
    expect(KEYS.length).toBeGreaterThan(80);
  });

  it.each(KEYS)('%s has a non-empty text in every catalogue locale, and no other locale', (key) => {
    const entry = CATALOGUE[key]!;
    expect(Object.keys(entry).sort()).toEqual([...MESSAGE_LOCALES].sort());
    for (const locale of MESSAGE_LOCALES) {
      const { out } = paramsRead(entry, locale);
      expect(out.trim(), `${key} ${locale}`).not.toBe('');
      expect(out, `${key} ${locale}: a leftover placeholder`).not.toMatch(/\$\{|\{\w+\}|undefined|\[object /);
    }
  });

  it.each(KEYS)('%s reads the same parameters in every locale', (key) => {
    const entry = CATALOGUE[key]!;
    const en = paramsRead(entry, 'en').names;
    for (const locale of MESSAGE_LOCALES) expect(paramsRead(entry, locale).names, `${key} ${locale}`).toEqual(en);
  });

  it('a message is either plain in every locale or parametrised in every locale', () => {
    for (const key of KEYS) {
      const kinds = new Set(MESSAGE_LOCALES.map((l) => typeof CATALOGUE[key]![l]));
      expect(kinds.size, key).toBe(1);
    }
  });
});

describe('one locale rule', () => {
  it('the locale, its primary language, the fallback and its language, then en; case-insensitive', () => {
    expect(resolveMessageLocale('de')).toBe('de');
    expect(resolveMessageLocale('de-AT')).toBe('de');
    expect(resolveMessageLocale('ES')).toBe('es');
    expect(resolveMessageLocale('fr', 'es')).toBe('es');
    expect(resolveMessageLocale('fr-FR', 'es-MX')).toBe('es');
    expect(resolveMessageLocale('fr')).toBe('en');
    expect(resolveMessageLocale('fr', 'it')).toBe('en');
    expect(resolveMessageLocale('')).toBe('en');
    expect(resolveMessageLocale(undefined, 'de')).toBe('de');
  });
});

describe('text()', () => {
  it('a plain message, in the resolved locale', () => {
    expect(text('http.malformed_json', 'de-CH')).toBe('Der Anfragetext ist kein gültiges JSON.');
    expect(text('http.malformed_json', 'fr')).toBe('The request body is not valid JSON.');
    expect(text('http.malformed_json', 'fr', undefined, 'es')).toBe('El cuerpo de la solicitud no es JSON válido.');
  });

  it('a message with parameters fills them', () => {
    expect(text('payments.withdrawal_owed', 'en', { method: 'Visa •4242', amount: '100.00', currency: 'EUR' })).toBe(
      'Withdraw to your Visa •4242 first, up to 100.00 EUR',
    );
    expect(text('email.kyc_document_expiring.left', 'de', { days: 1 })).toBe('noch 1 Tag');
    expect(text('email.kyc_document_expiring.left', 'es', { days: 0 })).toBe('hoy');
  });

  it('is typed by key: parameters where the message has them, only known keys', () => {
    // @ts-expect-error a message with parameters needs them
    expect(() => text('payments.withdrawal_owed', 'en')).toThrow(TypeError);
    // @ts-expect-error an unknown key
    expect(() => text('http.nope', 'en')).toThrow(TypeError);
    // @ts-expect-error a plain message takes no parameters
    expect(text('http.not_found', 'en', { x: 1 })).toBe('The resource does not exist.');
  });

  it('textsOf gives a plain message in every locale; isMessageKey knows the keys', () => {
    expect(textsOf('http.not_found')).toEqual({
      en: 'The resource does not exist.',
      de: 'Die Ressource existiert nicht.',
      es: 'El recurso no existe.',
    });
    expect(isMessageKey('http.not_found')).toBe(true);
    expect(isMessageKey('http.nope')).toBe(false);
    expect(isMessageKey('toString')).toBe(false);
  });
});
