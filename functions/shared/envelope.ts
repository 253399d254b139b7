/**
 * The EventBridge envelope a queue consumer receives in each SQS record's body (a bus rule targeting a queue).
 *
 * Invariants: a body that is not an envelope (no id, detail-type or detail object) throws, so the record is retried
 * and ends in the queue's DLQ rather than being dropped; `dedupeIdOf` is the outbox's eventId when present (stable
 * across the outbox's republication), else EventBridge's id.
 */
export interface EventEnvelope {
  id: string;
  source: string;
  'detail-type': string;
  /** When the bus received it (ISO, seconds precision). */
  time?: string;
  detail: Record<string, unknown>;
}

export function parseEnvelope(body: string, consumer = 'consumer'): EventEnvelope {
  const e = JSON.parse(body) as Partial<EventEnvelope>;
  if (!e || typeof e.id !== 'string' || typeof e['detail-type'] !== 'string' || !e.detail || typeof e.detail !== 'object') {
    throw new Error(`${consumer}: record body is not an EventBridge envelope`);
  }
  return e as EventEnvelope;
}

export const dedupeIdOf = (e: EventEnvelope) => (typeof e.detail.eventId === 'string' ? e.detail.eventId : e.id);
