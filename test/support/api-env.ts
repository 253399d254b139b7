/**
 * The environment handler tests run in: a fresh table on the run's DynamoDB Local, the demo tenant,
 * a bus name, and quiet Powertools. Returns the table name.
 */
import { useTestTable } from './dynamodb.ts';
import { useDemoTenant } from './tenant.ts';

export async function useHandlerEnv(prefix: string): Promise<string> {
  const table = await useTestTable(prefix);
  Object.assign(process.env, {
    TENANT: 'demo',
    EVENT_BUS_NAME: 'bus',
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  });
  useDemoTenant();
  return table;
}
