/**
 * Starts one in-memory DynamoDB Local for the whole test run (integration and e2e projects use it)
 * and points the AWS SDK at it through the standard environment variables, which test workers inherit.
 */
import { startDynamoLocal } from '#local/dynamodb.ts';

export default async function setup() {
  if (process.env.AWS_ENDPOINT_URL_DYNAMODB) return; // already started by another project in this run
  const started = Date.now();
  const db = await startDynamoLocal();
  process.env.AWS_ENDPOINT_URL_DYNAMODB = db.endpoint;
  process.env.AWS_REGION ??= 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID ??= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
  process.env.TENANT ??= 'demo';
  console.log(`[test] DynamoDB Local on ${db.endpoint} (${Date.now() - started} ms)`);
  return async () => {
    await db.stop();
  };
}
