/**
 * `npm run create-admin -- --tenant <t> --outputs <cdk-outputs.json> --email <e> --first <n> --last <n>`:
 * the first back-office admin of a freshly deployed tenant, who then creates every other staff member
 * through `POST /v1/admin/staff`.
 *
 * Runs on the operator's machine with the operator's AWS credentials (AWS_PROFILE / AWS_REGION as usual)
 * and the stack outputs that `cdk deploy --outputs-file` wrote. It calls the same use case the API uses
 * (functions/app/identity/create-staff.ts: Cognito user in the staff pool with its groups, the staff item, the
 * unique-email claim and the `staff.created` audit item, actor `operator:<login>`), so the admin is
 * indistinguishable from one an admin created. Cognito e-mails a temporary password; the first sign-in
 * sets a new password and enrols TOTP (the staff pool requires MFA).
 */
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { stackName } from '#infra/stack.ts';
import { loadTenantConfig } from '#infra/tenant.ts';

/** Stack output -> the environment variable the functions read it from. */
export const OUTPUT_ENV: Record<string, string> = {
  TableName: 'TABLE_NAME',
  EventBusName: 'EVENT_BUS_NAME',
  DocumentsBucketName: 'DOCUMENTS_BUCKET',
  AuditBucketName: 'AUDIT_BUCKET',
  UserPoolId: 'USER_POOL_ID',
  UserPoolClientId: 'USER_POOL_CLIENT_ID',
  StaffUserPoolId: 'STAFF_USER_POOL_ID',
  StaffUserPoolClientId: 'STAFF_USER_POOL_CLIENT_ID',
};

/** The environment for a tenant from `cdk deploy --outputs-file` JSON; names every output that is missing. */
export function environmentFromOutputs(outputs: unknown, tenant: string): Record<string, string> {
  const stack = (outputs as Record<string, Record<string, string> | undefined>)?.[stackName(tenant)];
  if (!stack) throw new Error(`the outputs file has no stack ${stackName(tenant)} (deploy with --outputs-file)`);
  const missing = Object.keys(OUTPUT_ENV).filter((o) => !stack[o]);
  if (missing.length) throw new Error(`stack ${stackName(tenant)} outputs lack ${missing.join(', ')}`);
  return { TENANT: tenant, ...Object.fromEntries(Object.entries(OUTPUT_ENV).map(([o, v]) => [v, stack[o]!])) };
}

async function main() {
  const { values } = parseArgs({
    options: {
      tenant: { type: 'string' },
      outputs: { type: 'string', default: 'cdk-outputs.json' },
      email: { type: 'string' },
      first: { type: 'string' },
      last: { type: 'string' },
    },
  });
  const { tenant, outputs, email, first, last } = values;
  if (!tenant || !email || !first || !last) {
    throw new Error(
      'usage: npm run create-admin -- --tenant <t> [--outputs cdk-outputs.json] --email <e> --first <n> --last <n>',
    );
  }
  const cfg = loadTenantConfig(tenant);
  Object.assign(process.env, environmentFromOutputs(JSON.parse(readFileSync(outputs!, 'utf8')), tenant), {
    POWERTOOLS_SERVICE_NAME: 'create-admin',
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_TRACE_ENABLED: 'false',
  });
  // Imported after the environment is set: the handlers' modules read it when they load.
  const { setTenantConfig } = await import('#shared/tenant.ts');
  setTenantConfig(cfg);
  const { createStaff } = await import('#app/identity/create-staff.ts');
  const operator = `operator:${userInfo().username}`;
  const admin = await createStaff(
    { email, firstName: first, lastName: last, roles: ['admin'] },
    { sub: operator, email: `${userInfo().username}@operator`, roles: ['admin'], isStaff: true },
    { requestId: `create-admin-${Date.now()}`, locale: cfg.defaultLocale },
  );
  console.log(`created admin ${admin.email} (${admin.staffId}) for ${cfg.brand.name}; Cognito e-mails the temporary password`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err) => {
    console.error(`[create-admin] ${(err as Error).message}`);
    process.exit(1);
  });
}
