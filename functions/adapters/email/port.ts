/**
 * The email port. Adapters: `table` (local and dev: the message becomes an item of type 'email'
 * in the table, where the local runtime and tests read it) and `ses` (Amazon SES v2).
 *
 * Invariants:
 * - `send` is idempotent per dedupeId: a second call with the same id sends nothing and reports 'duplicate'
 * - message bodies (which contain PII) are never logged
 */
export interface EmailMessage {
  to: string;
  subject: string;
  text: string;
  html?: string;
  /** Template name, e.g. 'welcome'; kept with the record for support and tests. */
  template: string;
  locale: string;
}

export interface SendResult {
  status: 'sent' | 'duplicate';
  messageId?: string;
}

export interface EmailSender {
  send(message: EmailMessage, opts: { dedupeId: string }): Promise<SendResult>;
}
