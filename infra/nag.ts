/**
 * cdk-nag v3 acknowledgements. v3 drops NagSuppressions for CDK's own Validations.of().acknowledge();
 * each finding is acknowledged by its exact id (e.g. `AwsSolutions-IAM5[Resource::*]`), always with a reason.
 */

import type { CfnElement } from 'aws-cdk-lib';
import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  if (reason.trim().length < 20) throw new Error(`acknowledge(${id}): give a specific reason`);
  Validations.of(scope).acknowledge({ id, reason });
}

/** The `<LogicalId.Arn>` token cdk-nag prints for a resource's ARN in IAM5 finding ids. */
export function nagArnRef(resource: IConstruct): string {
  const cfn = (resource.node.defaultChild ?? resource) as CfnElement;
  const stack = Stack.of(resource);
  return `<${stack.resolve(stack.getLogicalId(cfn))}.Arn>`;
}
