/**
 * cdk-nag v3 acknowledgements. v3 drops NagSuppressions for CDK's own Validations.of().acknowledge();
 * each finding is acknowledged by its exact id (e.g. `AwsSolutions-IAM5[Resource::*]`), always with a reason.
 */

import type { CfnElement } from 'aws-cdk-lib';
import { Names, Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  if (reason.trim().length < 20) throw new Error(`acknowledge(${id}): give a specific reason`);
  Validations.of(scope).acknowledge({ id, reason });
}

/**
 * The token cdk-nag prints for a resource's ARN in IAM5 finding ids: `<LogicalId.Arn>` where `from` (the
 * construct holding the policy) is in the resource's stack, `<referenceto<uniqueId>Arn>` (the nested-stack
 * parameter CDK creates) where it is in another.
 */
export function nagArnRef(resource: IConstruct, from: IConstruct = resource): string {
  const cfn = (resource.node.defaultChild ?? resource) as CfnElement;
  const stack = Stack.of(resource);
  if (Stack.of(from) !== stack) return `<referenceto${Names.nodeUniqueId(cfn.node)}Arn>`;
  return `<${stack.resolve(stack.getLogicalId(cfn))}.Arn>`;
}
