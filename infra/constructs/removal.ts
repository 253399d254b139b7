/**
 * What happens to a stateful resource when its stack is deleted or the create that made it rolls back.
 *
 * - production tenants: `RETAIN_ON_UPDATE_OR_DELETE` (CloudFormation `RetainExceptOnCreate`): kept when the
 *   stack is deleted or the resource replaced, but deleted when the create that made it fails and rolls back,
 *   so a failed first deploy leaves nothing behind and can simply be retried.
 * - other tenants: `DESTROY`: `cdk destroy` removes their data with the stack (buckets must be emptied first).
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import type { TenantConfig } from '#domain/tenant/config.ts';

export function removalPolicy(cfg: Pick<TenantConfig, 'production'>): RemovalPolicy {
  return cfg.production ? RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE : RemovalPolicy.DESTROY;
}
