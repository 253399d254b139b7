/** The first admin of a deployed tenant is created from the stack outputs `cdk deploy --outputs-file` wrote. */
import { describe, expect, it } from 'vitest';
import { environmentFromOutputs, OUTPUT_ENV } from '../../scripts/create-admin.ts';

const outputs = {
  'Backoffice-acme': Object.fromEntries(Object.keys(OUTPUT_ENV).map((o) => [o, `value-of-${o}`])),
  'Backoffice-account': {},
};

describe('create-admin: environment from the stack outputs', () => {
  it('maps every output the staff provisioning reads to its variable', () => {
    expect(environmentFromOutputs(outputs, 'acme')).toEqual({
      TENANT: 'acme',
      TABLE_NAME: 'value-of-TableName',
      EVENT_BUS_NAME: 'value-of-EventBusName',
      DOCUMENTS_BUCKET: 'value-of-DocumentsBucketName',
      AUDIT_BUCKET: 'value-of-AuditBucketName',
      USER_POOL_ID: 'value-of-UserPoolId',
      USER_POOL_CLIENT_ID: 'value-of-UserPoolClientId',
      STAFF_USER_POOL_ID: 'value-of-StaffUserPoolId',
      STAFF_USER_POOL_CLIENT_ID: 'value-of-StaffUserPoolClientId',
    });
  });

  it('names the stack when the file is for another tenant, and every missing output', () => {
    expect(() => environmentFromOutputs(outputs, 'demo')).toThrow(/no stack Backoffice-demo/);
    const partial = { 'Backoffice-acme': { TableName: 't' } };
    expect(() => environmentFromOutputs(partial, 'acme')).toThrow(/lack EventBusName, DocumentsBucketName, AuditBucketName/);
  });
});
