/**
 * Builds the CDK app for one tenant: reads `tenant` (default demo) and `localstack` from context,
 * loads and validates infra/tenants/<tenant>.json, creates the account stack (Backoffice-account, shared by
 * every tenant of an account and region) and the Backoffice-<tenant> stack that depends on it, and registers
 * cdk-nag's AwsSolutions pack as a policy-validation plugin (synth fails on any unacknowledged error).
 *
 * Offline and env-agnostic by default: no lookups. Pin account/region with `-c account=... -c region=...`
 * (or CDK_DEPLOY_ACCOUNT / CDK_DEPLOY_REGION) when a deployment needs it.
 */
import { App, type AppProps, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { TenantConfig } from '#domain/tenant/config.ts';
import { BackofficeStack, stackName } from './stack.ts';
import { ACCOUNT_STACK_NAME, AccountStack } from './stacks/account-stack.ts';
import { loadTenantConfig, TENANTS_DIR } from './tenant.ts';

export interface CreateAppOptions extends AppProps {
  /** Directory holding <tenant>.json files (tests point this at fixtures). */
  tenantsDir?: string;
  /** Register cdk-nag (default true). */
  nag?: boolean;
}

export interface BackofficeApp {
  app: App;
  stack: BackofficeStack;
  accountStack: AccountStack;
  tenantConfig: TenantConfig;
  nag?: AwsSolutionsChecks;
}

const flag = (v: unknown) => v === true || v === 'true';

export function createApp(options: CreateAppOptions = {}): BackofficeApp {
  const { tenantsDir = TENANTS_DIR, nag = true, ...appProps } = options;
  const app = new App(appProps);
  const tenant = String(app.node.tryGetContext('tenant') ?? 'demo');
  const tenantConfig = loadTenantConfig(tenant, tenantsDir);
  const account = app.node.tryGetContext('account') ?? process.env.CDK_DEPLOY_ACCOUNT;
  const region = app.node.tryGetContext('region') ?? process.env.CDK_DEPLOY_REGION;

  const env = account || region ? { account, region } : undefined;
  const accountStack = new AccountStack(app, ACCOUNT_STACK_NAME, { env });
  const stack = new BackofficeStack(app, stackName(tenant), {
    tenantConfig,
    localstack: flag(app.node.tryGetContext('localstack')),
    env,
  });
  stack.addDependency(accountStack, 'API stages log to CloudWatch through the account-wide API Gateway role');

  let checks: AwsSolutionsChecks | undefined;
  if (nag) {
    checks = new AwsSolutionsChecks(app, { verbose: true });
    Validations.of(app).addPlugins(checks);
  }
  return { app, stack, accountStack, tenantConfig, nag: checks };
}
