/**
 * Local/dev email adapter: "sending" writes the message as an item (type 'email') in the table,
 * together with its NOTIFIED marker in one transaction (functions/store/notifications.ts).
 *
 * Invariants:
 * - exactly one email item per dedupeId, however often send() is called
 */
import { ulid } from 'ulid';
import { recordEmailOnce } from '#store/notifications.ts';
import type { EmailMessage, EmailSender, SendResult } from './port.ts';

export function tableEmailSender(from: string): EmailSender {
  return {
    async send(m: EmailMessage, { dedupeId }): Promise<SendResult> {
      const messageId = ulid();
      const written = await recordEmailOnce({ ...m, messageId, from, provider: 'table', dedupeId });
      return written ? { status: 'sent', messageId } : { status: 'duplicate' };
    },
  };
}
