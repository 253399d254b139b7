/**
 * The email sender for this runtime, created once per container: Amazon SES (v2) when running in AWS
 * (env.stage 'aws') for a tenant whose email.transport is 'ses'; otherwise the table adapter, which
 * only writes each rendered message to the table (the mailbox the back office, the local runtime and
 * tests read): always locally, and in AWS for a tenant with transport 'table' (the demo: its
 * supportEmail is on a reserved domain SES can never verify). The sender address is the tenant's
 * brand.supportEmail in both; infra grants ses:SendEmail on that address's domain identity only
 * (manifest permission 'email:send').
 */
import type { EmailTransport } from '#domain/tenant/config.ts';
import { env } from '#shared/env.ts';
import { tenantConfig } from '#shared/tenant.ts';
import type { EmailSender } from './port.ts';
import { sesEmailSender, sesSendEmail } from './ses.ts';
import { tableEmailSender } from './table.ts';

let sender: EmailSender | undefined;

/** The adapter for a stage and the tenant's transport: SES only for 'aws' with 'ses', else the table. */
export function senderFor(stage: 'local' | 'aws', from: string, transport: EmailTransport = 'ses'): EmailSender {
  return stage === 'aws' && transport === 'ses' ? sesEmailSender({ from, sendEmail: sesSendEmail }) : tableEmailSender(from);
}

export function emailSender(): EmailSender {
  if (!sender) {
    const cfg = tenantConfig();
    sender = senderFor(env.stage, cfg.brand.supportEmail, cfg.email.transport);
  }
  return sender;
}

/** For tests. */
export function setEmailSender(s: EmailSender | undefined): void {
  sender = s;
}
