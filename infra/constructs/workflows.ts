/**
 * State machines from the manifest: the ASL file is deployed as written; each `${Placeholder}` in it
 * is substituted with the ARN of the manifest function named in `tasks`. Standard type (long,
 * human-in-the-loop flows), all events logged, X-Ray on.
 */
import { join } from 'node:path';
import { RemovalPolicy } from 'aws-cdk-lib';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { DefinitionBody, LogLevel, StateMachine, StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { StateMachineSpec } from '#functions/manifest.ts';
import { acknowledge, nagArnRef } from '../nag.ts';
import { REPO_ROOT } from './functions.ts';

export interface WorkflowsProps {
  tenant: string;
  specs: readonly StateMachineSpec[];
  logsKey: IKey;
  fn: (name: string) => IFunction;
}

export class Workflows extends Construct {
  readonly byName = new Map<string, StateMachine>();

  constructor(scope: Construct, id: string, props: WorkflowsProps) {
    super(scope, id);
    for (const spec of props.specs) {
      const machineScope = new Construct(this, spec.name);
      const logGroup = new LogGroup(machineScope, 'Logs', {
        logGroupName: `/aws/vendedlogs/states/backoffice-${props.tenant}-${spec.name}`,
        retention: RetentionDays.SIX_MONTHS,
        encryptionKey: props.logsKey,
        removalPolicy: RemovalPolicy.RETAIN,
      });
      const definitionSubstitutions: Record<string, string> = {};
      const tasks = Object.entries(spec.tasks).map(([placeholder, fnName]) => {
        const fn = props.fn(fnName);
        definitionSubstitutions[placeholder] = fn.functionArn;
        return fn;
      });
      const machine = new StateMachine(machineScope, 'StateMachine', {
        definitionBody: DefinitionBody.fromFile(join(REPO_ROOT, spec.definition)),
        definitionSubstitutions,
        stateMachineType: StateMachineType.STANDARD,
        tracingEnabled: true,
        // Every state transition is logged, but not the payloads: they carry client PII (DESIGN.md §4).
        logs: { destination: logGroup, level: LogLevel.ALL, includeExecutionData: false },
      });
      for (const fn of tasks) {
        fn.grantInvoke(machine);
        acknowledge(
          machine,
          `AwsSolutions-IAM5[Resource::${nagArnRef(fn)}:*]`,
          'Invoke on every version/alias of this task function, which CDK grants alongside the unqualified ARN.',
        );
      }
      acknowledge(
        machine,
        'AwsSolutions-IAM5[Resource::*]',
        '"*" only for CloudWatch Logs delivery (CreateLogDelivery etc.) and X-Ray, which have no resource-level permissions.',
      );
      this.byName.set(spec.name, machine);
    }
  }
}
