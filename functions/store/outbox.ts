/**
 * Outbox items: a domain event written in the same transaction as the state change it announces.
 * The outbox relay (functions/workers/outbox-relay.ts) publishes INSERTed outbox items from the
 * table stream to EventBridge; nothing is published for a write that did not commit.
 *
 * Invariants:
 * - every event gets a fresh ULID eventId, kept in the published detail (detail.eventId) so that
 *   consumers can de-duplicate redeliveries
 * - outbox items expire by TTL (OUTBOX_TTL_DAYS) after the stream (24 h retention) has delivered them
 * - the default source is EVENT_SOURCE ('backoffice')
 */
import { ulid } from 'ulid';
import { EVENT_SOURCE } from '#functions/manifest.ts';
import { epochSeconds, newItem } from './items.ts';
import { outboxKeys } from './keys.ts';

export const OUTBOX_TTL_DAYS = 7;

export interface OutboxEvent {
  detailType: string;
  detail: Record<string, unknown>;
  /** Defaults to EVENT_SOURCE. */
  source?: string;
}

export interface OutboxItem {
  pk: string;
  sk: string;
  type: 'outbox';
  eventId: string;
  source: string;
  detailType: string;
  detail: Record<string, unknown>;
  occurredAt: string;
  expiresAt: number;
}

export function outboxItem(e: OutboxEvent, now: Date, eventId: string = ulid(now.getTime())) {
  const at = now.toISOString();
  return newItem(
    {
      ...outboxKeys.key(eventId),
      type: outboxKeys.type,
      eventId,
      source: e.source ?? EVENT_SOURCE,
      detailType: e.detailType,
      detail: e.detail,
      occurredAt: at,
      expiresAt: epochSeconds(now) + OUTBOX_TTL_DAYS * 86_400,
    },
    at,
  );
}
