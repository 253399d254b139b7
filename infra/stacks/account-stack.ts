/**
 * What belongs to an AWS account and region rather than to a tenant: API Gateway's CloudWatch Logs role
 * (`AWS::ApiGateway::Account` is one setting per account and region; a stage with execution logging cannot
 * be created until it is set). Every tenant's app includes this same stack, `Backoffice-account`, and its
 * tenant stack depends on it; deploying it again from another tenant's app changes nothing.
 */
import { Stack, type StackProps } from 'aws-cdk-lib';
import { CfnAccount } from 'aws-cdk-lib/aws-apigateway';
import { ManagedPolicy, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { acknowledge } from '../nag.ts';

export const ACCOUNT_STACK_NAME = 'Backoffice-account';

export class AccountStack extends Stack {
  readonly apiGatewayLogsRole: Role;

  constructor(scope: Construct, id: string, props: StackProps = {}) {
    super(scope, id, {
      description: 'Back office: account-wide settings shared by every tenant of this account and region',
      ...props,
    });
    this.apiGatewayLogsRole = new Role(this, 'ApiGatewayLogsRole', {
      assumedBy: new ServicePrincipal('apigateway.amazonaws.com'),
      description: 'API Gateway pushes execution and access logs to CloudWatch Logs (account-wide setting)',
      managedPolicies: [ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonAPIGatewayPushToCloudWatchLogs')],
    });
    acknowledge(
      this.apiGatewayLogsRole,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      'Account-level API Gateway logging role; the AWS managed policy is the documented minimum for log delivery.',
    );
    new CfnAccount(this, 'ApiGatewayAccount', { cloudWatchRoleArn: this.apiGatewayLogsRole.roleArn });
  }
}
