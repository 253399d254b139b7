/**
 * The email port's adapter selection (SES in AWS for a tenant with email.transport 'ses'; the table
 * locally and for a 'table' tenant; From = brand.supportEmail) and the exact SESv2 SendEmail request,
 * with SES and DynamoDB mocked (aws-sdk-client-mock).
 */

import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { DeleteCommand, DynamoDBDocumentClient, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { emailSender, senderFor, setEmailSender } from '#adapters/email/index.ts';
import type { EmailMessage } from '#adapters/email/port.ts';
import { parseTenantConfig } from '#domain/tenant/config.ts';
import { setTenantConfig } from '#shared/tenant.ts';
import acme from '../../infra/tenants/acme.json' with { type: 'json' };
import { useDemoTenant } from '../support/tenant.ts';

useDemoTenant();
const ses = mockClient(SESv2Client);
const doc = mockClient(DynamoDBDocumentClient);
const stage = process.env.STAGE;

beforeEach(() => {
  ses.reset();
  doc.reset();
  doc.onAnyCommand().resolves({});
  setEmailSender(undefined);
});
afterEach(() => {
  if (stage === undefined) delete process.env.STAGE;
  else process.env.STAGE = stage;
  setEmailSender(undefined);
  useDemoTenant();
});
afterAll(() => {
  ses.restore();
  doc.restore();
});

const message: EmailMessage = {
  to: 'nina@example.com',
  subject: 'Willkommen bei Demo Markets',
  text: 'Hallo Nina,',
  html: '<p>Hallo Nina,</p>',
  template: 'welcome',
  locale: 'de',
};

describe('adapter selection', () => {
  it("in AWS (STAGE unset), a tenant with transport 'ses' sends through SES from brand.supportEmail", async () => {
    delete process.env.STAGE;
    setTenantConfig(parseTenantConfig(acme));
    ses.on(SendEmailCommand).resolves({ MessageId: 'ses-1' });
    const res = await emailSender().send(message, { dedupeId: 'evt-aws' });
    expect(res.status).toBe('sent');
    expect(ses.commandCalls(SendEmailCommand)).toHaveLength(1);
    expect(ses.commandCalls(SendEmailCommand)[0]!.args[0].input.FromEmailAddress).toBe('support@acme-trading.co.uk');
  });

  it("in AWS, a tenant with transport 'table' (the demo) writes the message to the table and never calls SES", async () => {
    delete process.env.STAGE;
    const res = await emailSender().send(message, { dedupeId: 'evt-aws-table' });
    expect(res.status).toBe('sent');
    expect(ses.commandCalls(SendEmailCommand)).toHaveLength(0);
    const puts = doc.commandCalls(TransactWriteCommand);
    expect(puts).toHaveLength(1);
    expect(JSON.stringify(puts[0]!.args[0].input)).toContain('"provider":"table"');
  });

  it("locally, a tenant with transport 'ses' still writes to the table", async () => {
    process.env.STAGE = 'local';
    setTenantConfig(parseTenantConfig(acme));
    await emailSender().send(message, { dedupeId: 'evt-local-ses' });
    expect(ses.commandCalls(SendEmailCommand)).toHaveLength(0);
    expect(JSON.stringify(doc.commandCalls(TransactWriteCommand)[0]!.args[0].input)).toContain('"provider":"table"');
  });

  it('senderFor: SES only for stage aws with transport ses (the default)', async () => {
    ses.on(SendEmailCommand).resolves({ MessageId: 'ses-2' });
    await senderFor('aws', 'support@demo.test', 'table').send(message, { dedupeId: 'evt-sf-1' });
    await senderFor('local', 'support@demo.test', 'ses').send(message, { dedupeId: 'evt-sf-2' });
    expect(ses.commandCalls(SendEmailCommand)).toHaveLength(0);
    await senderFor('aws', 'support@demo.test').send(message, { dedupeId: 'evt-sf-3' });
    expect(ses.commandCalls(SendEmailCommand)).toHaveLength(1);
  });

  it('locally (STAGE=local) writes the message to the table and never calls SES', async () => {
    process.env.STAGE = 'local';
    const res = await emailSender().send(message, { dedupeId: 'evt-local' });
    expect(res.status).toBe('sent');
    expect(ses.commandCalls(SendEmailCommand)).toHaveLength(0);
    const puts = doc.commandCalls(TransactWriteCommand);
    expect(puts).toHaveLength(1);
    expect(JSON.stringify(puts[0]!.args[0].input)).toContain('"provider":"table"');
  });

  it('is created once per container', () => {
    delete process.env.STAGE;
    expect(emailSender()).toBe(emailSender());
  });
});

describe('SES adapter', () => {
  it('sends one SESv2 SendEmail of this exact shape, then records the email (provider ses)', async () => {
    ses.on(SendEmailCommand).resolves({ MessageId: 'ses-42' });
    const res = await senderFor('aws', 'support@demo.test').send(message, { dedupeId: 'evt-1' });
    expect(res).toEqual({ status: 'sent', messageId: expect.any(String) });
    expect(ses.commandCalls(SendEmailCommand)[0]!.args[0].input).toEqual({
      FromEmailAddress: 'support@demo.test',
      Destination: { ToAddresses: ['nina@example.com'] },
      Content: {
        Simple: {
          Subject: { Data: 'Willkommen bei Demo Markets', Charset: 'UTF-8' },
          Body: {
            Text: { Data: 'Hallo Nina,', Charset: 'UTF-8' },
            Html: { Data: '<p>Hallo Nina,</p>', Charset: 'UTF-8' },
          },
        },
      },
      EmailTags: [{ Name: 'template', Value: 'welcome' }],
    });
    // Claimed before the send, completed after it with SES's message id.
    expect(doc.commandCalls(PutCommand)).toHaveLength(1);
    const completed = JSON.stringify(doc.commandCalls(TransactWriteCommand)[0]!.args[0].input);
    expect(completed).toContain('"provider":"ses"');
    expect(completed).toContain('"providerMessageId":"ses-42"');
  });

  it('omits the HTML part when the message has none', async () => {
    ses.on(SendEmailCommand).resolves({ MessageId: 'ses-43' });
    const { html: _html, ...textOnly } = message;
    await senderFor('aws', 'support@demo.test').send(textOnly, { dedupeId: 'evt-2' });
    const body = ses.commandCalls(SendEmailCommand)[0]!.args[0].input.Content!.Simple!.Body!;
    expect(body).toEqual({ Text: { Data: 'Hallo Nina,', Charset: 'UTF-8' } });
  });

  it('a failed SES call releases the claim (so a redelivery retries) and throws', async () => {
    ses.on(SendEmailCommand).rejects(new Error('Throttling'));
    await expect(senderFor('aws', 'support@demo.test').send(message, { dedupeId: 'evt-3' })).rejects.toThrow('Throttling');
    expect(doc.commandCalls(DeleteCommand)).toHaveLength(1);
    expect(doc.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });
});
