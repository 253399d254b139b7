/**
 * The building blocks of the message catalogue (domain/messages/catalogue.ts): the catalogue locales,
 * the shape of a message, defineMessages for an area's messages, and the one locale fallback rule.
 * Area files (http.ts, payments.ts, email.ts) import this module; catalogue.ts registers them.
 *
 * Invariants:
 * - a message is either a plain text per locale or, when it takes parameters, a function of one named
 *   parameter object per locale (the same parameter type in every locale: `withParams<P>()`)
 * - resolveMessageLocale is the only fallback rule: the locale itself, its primary language
 *   ('de-AT' -> de), then the fallback locale (and its primary language), then en; case-insensitive,
 *   never throws (an empty or malformed locale is en)
 */

export const MESSAGE_LOCALES = ['en', 'de', 'es'] as const;
export type MessageLocale = (typeof MESSAGE_LOCALES)[number];
export const DEFAULT_MESSAGE_LOCALE: MessageLocale = 'en';

/** A plain message: one text per catalogue locale. */
export type Texts = Readonly<Record<MessageLocale, string>>;
/** A message with named parameters: one function of the same parameters per catalogue locale. */
export type ParamTexts<P> = Readonly<Record<MessageLocale, (params: P) => string>>;
/** Any message (a function of `never` accepts every parameter type). */
export type MessageEntry = Texts | ParamTexts<never>;
export type Messages = Readonly<Record<string, MessageEntry>>;

/** An area's messages, checked to be complete (every locale) and kept with their literal keys. */
export function defineMessages<const M extends Messages>(messages: M): M {
  return messages;
}

/** A message with parameters of type P, so each locale's function is typed the same. */
export function withParams<P>(texts: ParamTexts<P>): ParamTexts<P> {
  return texts;
}

/** The parameters a message takes (undefined for a plain one). */
export type ParamsOf<E> = E extends ParamTexts<infer P> ? P : undefined;

export const isMessageLocale = (l: string): l is MessageLocale => (MESSAGE_LOCALES as readonly string[]).includes(l);

/** The catalogue locale for a client locale: itself, its language, the fallback, its language, then en. */
export function resolveMessageLocale(locale: string | undefined, fallbackLocale?: string): MessageLocale {
  for (const l of [locale, fallbackLocale]) {
    if (typeof l !== 'string' || !l) continue;
    const exact = l.toLowerCase();
    if (isMessageLocale(exact)) return exact;
    const primary = exact.split('-')[0] ?? '';
    if (isMessageLocale(primary)) return primary;
  }
  return DEFAULT_MESSAGE_LOCALE;
}
