/**
 * The email sender for this runtime, created once per container. Until the SES client dependency
 * and an ses:SendEmail grant exist, every stage uses the table adapter (see ses.ts for the switch).
 */
import { tenantConfig } from '#shared/tenant.ts';
import type { EmailSender } from './port.ts';
import { tableEmailSender } from './table.ts';

let sender: EmailSender | undefined;

export function emailSender(): EmailSender {
  sender ??= tableEmailSender(tenantConfig().brand.supportEmail);
  return sender;
}

/** For tests. */
export function setEmailSender(s: EmailSender | undefined): void {
  sender = s;
}
