/**
 * Amazon SES (v2 SendEmail) adapter behind the email port.
 *
 * The SES SDK client is not a dependency yet, so the adapter takes a `sendEmail` function with the
 * exact SESv2 SendEmail input/output shape; wiring it is one line once @aws-sdk/client-sesv2 is
 * added: `sendEmail: (input) => new SESv2Client({}).send(new SendEmailCommand(input))`.
 *
 * Invariants:
 * - idempotent per dedupeId: the NOTIFIED marker is claimed before SES is called, completed with the
 *   email record after, and released when SES fails (so a redelivery retries); a crash between
 *   the SES call and completion leaves a 'sending' claim that a redelivery may take over after
 *   CLAIM_STALE_SECONDS (at-least-once at that edge, never silently dropped)
 */
import { ulid } from 'ulid';
import { claimNotification, completeNotification, releaseNotification } from '#store/notifications.ts';
import type { EmailMessage, EmailSender, SendResult } from './port.ts';

/** The subset of SESv2 SendEmailCommandInput this adapter uses. */
export interface SesSendEmailInput {
  FromEmailAddress: string;
  Destination: { ToAddresses: string[] };
  Content: {
    Simple: {
      Subject: { Data: string; Charset: 'UTF-8' };
      Body: { Text: { Data: string; Charset: 'UTF-8' }; Html?: { Data: string; Charset: 'UTF-8' } };
    };
  };
  ConfigurationSetName?: string;
  EmailTags?: { Name: string; Value: string }[];
}

export interface SesDeps {
  from: string;
  configurationSet?: string;
  sendEmail: (input: SesSendEmailInput) => Promise<{ MessageId?: string }>;
}

export function sesEmailSender(deps: SesDeps): EmailSender {
  return {
    async send(m: EmailMessage, { dedupeId }): Promise<SendResult> {
      if (!(await claimNotification(dedupeId))) return { status: 'duplicate' };
      let providerMessageId: string | undefined;
      try {
        const res = await deps.sendEmail({
          FromEmailAddress: deps.from,
          Destination: { ToAddresses: [m.to] },
          Content: {
            Simple: {
              Subject: { Data: m.subject, Charset: 'UTF-8' },
              Body: {
                Text: { Data: m.text, Charset: 'UTF-8' },
                ...(m.html ? { Html: { Data: m.html, Charset: 'UTF-8' } } : {}),
              },
            },
          },
          ...(deps.configurationSet ? { ConfigurationSetName: deps.configurationSet } : {}),
          EmailTags: [{ Name: 'template', Value: m.template }],
        });
        providerMessageId = res.MessageId;
      } catch (err) {
        await releaseNotification(dedupeId);
        throw err;
      }
      const messageId = ulid();
      await completeNotification({ ...m, messageId, from: deps.from, provider: 'ses', providerMessageId, dedupeId });
      return { status: 'sent', messageId };
    },
  };
}
