/**
 * CDK entry point (cdk.json: `npx tsx infra/app.ts`).
 *   npx cdk synth -c tenant=demo
 *   npx cdk deploy -c tenant=<name>
 *   npm run deploy:localstack         (adds -c localstack=true)
 */
import { createApp } from './create-app.ts';

try {
  createApp().app.synth();
} catch (err) {
  // A bad tenant file or manifest is a user error: print the message, not a stack trace.
  console.error(`\n${(err as Error).message}\n`);
  process.exit(1);
}
