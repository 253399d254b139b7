/**
 * THE message catalogue: every localized text the product shows a person (HTTP problem details, payment
 * reasons and hints, e-mails, KYC issues, review reasons and next steps, copy-trading disclosures), in en, de and es, looked up by one
 * key and one locale rule. An area's messages live in their own file (http.ts, payments.ts, email.ts, kyc.ts:
 * `defineMessages({...})`) and are
 * registered here under the area's name, so a key reads `<area>.<message>` ('http.malformed_json',
 * 'payments.reason.payout_failed', 'email.welcome.subject').
 *
 * Invariants:
 * - every message has a text in every locale of MESSAGE_LOCALES, and a message with parameters reads
 *   the same parameters in every locale (test/unit/messages-catalogue.test.ts)
 * - one locale rule for every text (resolveMessageLocale): the locale, its primary language, the
 *   fallback locale (and its language), then en
 * - `text` is typed by key: a message with parameters must be given them, a plain one takes none
 * - pure data and pure functions: no I/O, nothing logged
 *
 * The KYC codes keep their confidentiality rules in domain/kyc (which code shows the shared confidential
 * sentence); only their texts are here (`textsOf('kyc.review.<code>')`).
 */

import { COPY_MESSAGES } from './copy.ts';
import {
  DEFAULT_MESSAGE_LOCALE,
  type MessageEntry,
  type MessageLocale,
  type Messages,
  type ParamsOf,
  resolveMessageLocale,
} from './define.ts';
import { EMAIL_MESSAGES } from './email.ts';
import { HTTP_MESSAGES } from './http.ts';
import { KYC_MESSAGES } from './kyc.ts';
import { PAYMENT_MESSAGES } from './payments.ts';

export {
  DEFAULT_MESSAGE_LOCALE,
  defineMessages,
  isMessageLocale,
  MESSAGE_LOCALES,
  type MessageEntry,
  type MessageLocale,
  type ParamTexts,
  resolveMessageLocale,
  type Texts,
  withParams,
} from './define.ts';

/** The registered areas: area name -> its messages. */
export const MESSAGE_AREAS = {
  http: HTTP_MESSAGES,
  payments: PAYMENT_MESSAGES,
  email: EMAIL_MESSAGES,
  kyc: KYC_MESSAGES,
  copy: COPY_MESSAGES,
} as const;

type Areas = typeof MESSAGE_AREAS;
type Flatten<A extends Record<string, Messages>> = {
  [Area in keyof A & string]: { [K in keyof A[Area] & string as `${Area}.${K}`]: A[Area][K] };
}[keyof A & string];
type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;

/** Every message by its full key. */
export type Catalogue = UnionToIntersection<Flatten<Areas>>;
export type MessageKey = keyof Catalogue & string;

/** The catalogue flattened: '<area>.<message>' -> the message. */
export const CATALOGUE: Readonly<Record<string, MessageEntry>> = Object.freeze(
  Object.fromEntries(
    Object.entries(MESSAGE_AREAS).flatMap(([area, messages]) =>
      Object.entries(messages as Messages).map(([k, m]) => [`${area}.${k}`, m] as const),
    ),
  ),
);

export const isMessageKey = (key: string): key is MessageKey => Object.hasOwn(CATALOGUE, key);

/** The arguments after the locale: the parameters (required when the message has any), then the fallback locale. */
export type TextArgs<K extends MessageKey> =
  ParamsOf<Catalogue[K]> extends undefined
    ? [params?: undefined, fallbackLocale?: string]
    : [params: ParamsOf<Catalogue[K]>, fallbackLocale?: string];

/**
 * The text of message `key` for `locale` (resolved by resolveMessageLocale, with `fallbackLocale` as
 * the tenant's default), filled with `params` when the message takes any.
 */
export function text<K extends MessageKey>(key: K, locale: string | undefined, ...args: TextArgs<K>): string {
  const [params, fallbackLocale] = args;
  return render(CATALOGUE[key]!, resolveMessageLocale(locale, fallbackLocale), params);
}

/** The texts of a plain message in every catalogue locale (for modules that export per-locale records). */
export function textsOf(key: { [K in MessageKey]: ParamsOf<Catalogue[K]> extends undefined ? K : never }[MessageKey]) {
  const entry = CATALOGUE[key]!;
  return Object.freeze(
    Object.fromEntries(Object.keys(entry).map((l) => [l, render(entry, l as MessageLocale, undefined)])),
  ) as Readonly<Record<MessageLocale, string>>;
}

function render(entry: MessageEntry, locale: MessageLocale, params: unknown): string {
  const t = entry[locale] ?? entry[DEFAULT_MESSAGE_LOCALE];
  return typeof t === 'function' ? (t as (p: unknown) => string)(params) : t;
}
