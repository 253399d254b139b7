/**
 * State machines from the manifest: the ASL file is deployed as written, inline in the template (so the
 * deploy rules can check every `${Placeholder}` resolves); each placeholder is substituted with the ARN of
 * the manifest function named in `tasks`. Standard type (long, human-in-the-loop flows), all events logged
 * without payloads, X-Ray on.
 *
 * Log groups carry the `/aws/vendedlogs/states/` prefix AWS recommends (it keeps the CloudWatch Logs
 * resource policy that log delivery writes from growing per log group), suffixed with the stack's id: the
 * name is new on every create, so a create that rolled back never leaves a name that the retry collides with.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Aws, Fn } from 'aws-cdk-lib';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { DefinitionBody, LogLevel, StateMachine, StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { TenantConfig } from '#domain/tenant/config.ts';
import type { StateMachineSpec } from '#functions/manifest.ts';
import { acknowledge, nagArnRef } from '../nag.ts';
import { REPO_ROOT } from './functions.ts';
import { removalPolicy } from './removal.ts';

/** The unique part of this stack's id (`arn:...:stack/<name>/<uuid>` -> `<uuid>`). */
const stackIdSuffix = () => Fn.select(2, Fn.split('/', Aws.STACK_ID));

export interface WorkflowsProps {
  tenantConfig: TenantConfig;
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
        logGroupName: Fn.join('', [
          `/aws/vendedlogs/states/backoffice-${props.tenantConfig.tenant}-${spec.name}-`,
          stackIdSuffix(),
        ]),
        retention: RetentionDays.SIX_MONTHS,
        encryptionKey: props.logsKey,
        removalPolicy: removalPolicy(props.tenantConfig),
      });
      const definitionSubstitutions: Record<string, string> = {};
      const tasks = Object.entries(spec.tasks).map(([placeholder, fnName]) => {
        const fn = props.fn(fnName);
        definitionSubstitutions[placeholder] = fn.functionArn;
        return fn;
      });
      const machine = new StateMachine(machineScope, 'StateMachine', {
        definitionBody: DefinitionBody.fromString(readFileSync(join(REPO_ROOT, spec.definition), 'utf8')),
        definitionSubstitutions,
        stateMachineType: StateMachineType.STANDARD,
        tracingEnabled: true,
        // Every state transition is logged, but not the payloads: they carry client PII (docs/architecture.md, Data).
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
