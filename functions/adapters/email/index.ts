/**
 * The email sender for this runtime, created once per container: Amazon SES (v2) in AWS
 * (env.stage 'aws'), the table adapter locally (the local runtime and tests read the messages from
 * the table). The sender address is the tenant's brand.supportEmail in both; infra grants
 * ses:SendEmail on that address's domain identity only (manifest permission 'email:send').
 */
import { env } from '#shared/env.ts';
import { tenantConfig } from '#shared/tenant.ts';
import type { EmailSender } from './port.ts';
import { sesEmailSender, sesSendEmail } from './ses.ts';
import { tableEmailSender } from './table.ts';

let sender: EmailSender | undefined;

/** The adapter for a stage: 'aws' -> SES, 'local' -> table. */
export function senderFor(stage: 'local' | 'aws', from: string): EmailSender {
  return stage === 'aws' ? sesEmailSender({ from, sendEmail: sesSendEmail }) : tableEmailSender(from);
}

export function emailSender(): EmailSender {
  sender ??= senderFor(env.stage, tenantConfig().brand.supportEmail);
  return sender;
}

/** For tests. */
export function setEmailSender(s: EmailSender | undefined): void {
  sender = s;
}
