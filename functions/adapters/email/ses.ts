/**
 * Amazon SES (v2 SendEmail) adapter behind the email port. The adapter takes a `sendEmail` function
 * with the SESv2 SendEmail input/output shape; `sesSendEmail` is the real one (one SESv2 client per
 * container), tests pass their own or mock the client.
 *
 * Invariants:
 * - idempotent per dedupeId: the NOTIFIED marker is claimed before SES is called, completed with the
 *   email record after, and released when SES fails (so a redelivery retries); a crash between
 *   the SES call and completion leaves a 'sending' claim that a redelivery may take over after
 *   CLAIM_STALE_SECONDS (at-least-once at that edge, never silently dropped)
 */
import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
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

let client: SESv2Client | undefined;

/** SESv2 SendEmail through the container's client (region and endpoint from the standard AWS variables). */
export async function sesSendEmail(input: SesSendEmailInput): Promise<{ MessageId?: string }> {
  client ??= new SESv2Client({});
  const res = await client.send(new SendEmailCommand(input));
  return res.MessageId === undefined ? {} : { MessageId: res.MessageId };
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
