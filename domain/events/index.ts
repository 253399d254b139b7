/**
 * The event catalogue: every event the product publishes on the tenant bus, by detail-type, with the zod schema
 * of its `detail`, its version, the context that produces it and whether it is published for the broker's own
 * integrations (`external`). Producers build events with `event()` (or an `OutboxEvent` literal: both are typed
 * by the catalogue, so a typo'd detail-type or field does not compile); consumers read a detail with
 * `parseEvent()`; the rules of functions/manifest.ts name detail-types of this catalogue only.
 *
 * Adding an event: declare it in its context's module (`domain/events/<context>.ts`) with `defineEvent`, version 1,
 * the fields its producer writes, an example, and `external: true` unless a rule of ours consumes it and nothing
 * outside may rely on it. test/unit/event-catalogue.test.ts checks that it is produced somewhere and consumed
 * by a rule or external. The trading half adds its events here.
 *
 * Invariants:
 * - a detail-type is declared once; its version only grows by adding a NEW detail-type beside it (define.ts)
 * - the published detail is the producer's detail plus `eventId` (the outbox id: consumers de-duplicate by it)
 *   and `eventVersion` (the catalogue version when it was written); `parseEvent` accepts both and rejects a
 *   detail of another version of the same detail-type
 * - parsing tolerates unknown fields (a newer producer) and strips them; a missing or mistyped field is the
 *   EventContractError `malformed_event`
 */
import type * as z from 'zod';
import { COMPLIANCE_EVENTS } from './compliance.ts';
import { COPY_EVENTS } from './copy.ts';
import { EventContractError, fieldErrorsOf } from './define.ts';
import { IDENTITY_EVENTS } from './identity.ts';
import { KYC_EVENTS } from './kyc.ts';
import { LEDGER_EVENTS } from './ledger.ts';
import { PARTNER_EVENTS } from './partners.ts';
import { PAYMENT_EVENTS } from './payments.ts';
import { TRADING_EVENTS } from './trading.ts';

export {
  calendarDate,
  currencyCode,
  decimal,
  defineEvent,
  EVENT_CONTEXTS,
  type EventContext,
  EventContractError,
  type EventDefinition,
  id,
  instant,
  isEventContractError,
  minorUnits,
  signedDecimal,
} from './define.ts';

const DEFINITIONS = [
  ...IDENTITY_EVENTS,
  ...KYC_EVENTS,
  ...LEDGER_EVENTS,
  ...PAYMENT_EVENTS,
  ...TRADING_EVENTS,
  ...COPY_EVENTS,
  ...PARTNER_EVENTS,
  ...COMPLIANCE_EVENTS,
] as const;

type AnyDefinition = (typeof DEFINITIONS)[number];

/** Every detail-type of the catalogue. */
export type DetailType = AnyDefinition['detailType'];

/** The catalogue entry of one detail-type. */
export type EventDefinitionOf<T extends DetailType> = Extract<AnyDefinition, { detailType: T }>;

/** The detail a producer writes for `T` (the schema's input). */
export type EventDetail<T extends DetailType> = z.input<EventDefinitionOf<T>['schema']>;

/** The fields the outbox adds to every published detail. */
export interface PublicationFields {
  /** The outbox event id, stable across redeliveries: consumers de-duplicate by it. */
  eventId?: string | undefined;
  /** The catalogue version the detail was written under (absent on events written before versions were published). */
  eventVersion?: number | undefined;
}

/** The detail a consumer gets from `parseEvent` (the schema's output, plus the publication fields). */
export type ParsedDetail<T extends DetailType> = z.output<EventDefinitionOf<T>['schema']> & PublicationFields;

/** An event of the catalogue as a producer hands it to commit(): a union discriminated by detailType. */
export type DomainEvent<T extends DetailType = DetailType> = {
  [K in T]: { detailType: K; detail: EventDetail<K> };
}[T];

function catalogue(): { readonly [T in DetailType]: EventDefinitionOf<T> } {
  const byType: Record<string, AnyDefinition> = {};
  for (const d of DEFINITIONS) {
    if (Object.hasOwn(byType, d.detailType)) throw new Error(`event catalogue: ${d.detailType} is declared twice`);
    byType[d.detailType] = d;
  }
  return Object.freeze(byType) as { readonly [T in DetailType]: EventDefinitionOf<T> };
}

/** The catalogue, by detail-type: `EVENTS['ledger.journal.posted'].version`. */
export const EVENTS = catalogue();

/** Every detail-type, in declaration order (by context). */
export const DETAIL_TYPES: readonly DetailType[] = Object.freeze(DEFINITIONS.map((d) => d.detailType));

export const isDetailType = (s: unknown): s is DetailType => typeof s === 'string' && Object.hasOwn(EVENTS, s);

/** The catalogue entry of `detailType` (EventContractError unknown_event_type for anything else). */
export function eventDefinition<T extends DetailType>(detailType: T): EventDefinitionOf<T>;
export function eventDefinition(detailType: string): AnyDefinition;
export function eventDefinition(detailType: string): AnyDefinition {
  if (!isDetailType(detailType)) {
    throw new EventContractError('unknown_event_type', detailType, `'${detailType}' is not an event of the catalogue`);
  }
  return EVENTS[detailType];
}

/** A typed event for commit()'s outbox: `event('kyc.expired', { clientId, identityExpiresOn })`. */
export function event<T extends DetailType>(detailType: T, detail: EventDetail<T>): DomainEvent<T> {
  return { detailType, detail } as DomainEvent<T>;
}

/**
 * A consumer's view of a published detail: checked against the catalogue schema of `detailType` (unknown fields
 * stripped), with its eventId / eventVersion kept. Throws EventContractError: malformed_event (not an object, a
 * missing or mistyped field), event_version_mismatch (published under another version), unknown_event_type.
 */
export function parseEvent<T extends DetailType>(detailType: T, detail: unknown): ParsedDetail<T> {
  const def = eventDefinition(detailType);
  if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) {
    throw new EventContractError('malformed_event', detailType, `${detailType}: the detail is not an object`);
  }
  const { eventId, eventVersion } = detail as Record<string, unknown>;
  if (eventId !== undefined && (typeof eventId !== 'string' || eventId === '')) {
    throw new EventContractError('malformed_event', detailType, `${detailType}: eventId is not a non-empty string`, [
      { field: 'eventId', code: 'invalid_type', message: 'a non-empty string' },
    ]);
  }
  if (eventVersion !== undefined && eventVersion !== def.version) {
    throw new EventContractError(
      'event_version_mismatch',
      detailType,
      `${detailType}: detail of version ${String(eventVersion)}, the catalogue has version ${def.version}`,
      [{ field: 'eventVersion', code: 'event_version_mismatch', message: `expected ${def.version}` }],
    );
  }
  const res = def.schema.safeParse(detail);
  if (!res.success) {
    const errors = fieldErrorsOf(res.error);
    throw new EventContractError(
      'malformed_event',
      detailType,
      `${detailType}: malformed detail (${errors.map((e) => e.field).join(', ')})`,
      errors,
    );
  }
  return {
    ...res.data,
    ...(eventId !== undefined ? { eventId } : {}),
    ...(eventVersion !== undefined ? { eventVersion } : {}),
  } as ParsedDetail<T>;
}
