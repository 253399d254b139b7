/**
 * The environment handler tests run in: a fresh table on the run's DynamoDB Local, the demo tenant,
 * a bus name, quiet Powertools, and whatever `extra` a suite needs. Returns the table name.
 */
import { useTestTable } from './dynamodb.ts';
import { useDemoTenant } from './tenant.ts';

/** Cognito pool ids for suites that exercise the identity adapter against a mocked Cognito. */
export const TEST_POOL_ENV = {
  USER_POOL_ID: 'us-east-1_clients',
  USER_POOL_CLIENT_ID: 'client-app',
  STAFF_USER_POOL_ID: 'us-east-1_staff',
  STAFF_USER_POOL_CLIENT_ID: 'staff-app',
};

export async function useHandlerEnv(prefix: string, extra: Record<string, string> = {}): Promise<string> {
  const table = await useTestTable(prefix);
  Object.assign(process.env, {
    TENANT: 'demo',
    EVENT_BUS_NAME: 'bus',
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    ...extra,
  });
  useDemoTenant();
  return table;
}
