/**
 * One bounded context of a tenant, as a nested stack: its functions (HTTP handlers, workflow steps, workers
 * and jobs), its state machines, its queue and stream consumers, the rules and schedules that target it,
 * and the alarms on all of these. Everything stateful it uses (table, buckets, keys, pools, bus, queues,
 * secrets, the alarm topic) belongs to the root stack and comes in as parameters: a context stack can be
 * replaced or redeployed without touching data, and it never exports anything.
 */
import { Duration, NestedStack, type NestedStackProps } from 'aws-cdk-lib';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import type * as manifest from '#functions/manifest.ts';
import { Functions, type GrantableResources } from '../constructs/functions.ts';
import { importQueue, type Messaging, wireContext } from '../constructs/messaging.ts';
import { alarm, JOB_METRIC_ALARMS, jobMetric, STREAM_ITERATOR_AGE_ALARM_MS } from '../constructs/monitoring.ts';
import { Workflows } from '../constructs/workflows.ts';

/** What every context stack gets from the root. */
export interface SharedResources extends GrantableResources {
  localstack: boolean;
  messaging: Messaging;
  alarmTopic: ITopic;
}

export interface ContextStackProps extends NestedStackProps {
  context: manifest.Context;
  shared: SharedResources;
  manifest: Pick<typeof manifest, 'functions' | 'stateMachines' | 'queues' | 'rules' | 'schedules'>;
}

export class ContextStack extends NestedStack {
  readonly context: manifest.Context;
  readonly functions: Functions;
  readonly workflows: Workflows;
  private readonly props: ContextStackProps;

  constructor(scope: Construct, id: string, props: ContextStackProps) {
    const cfg = props.shared.tenantConfig;
    super(scope, id, { description: `backoffice-${cfg.tenant}: the ${props.context} context`, ...props });
    this.context = props.context;
    this.props = props;
    const s = props.shared;
    const specs = props.manifest.functions.filter((f) => f.context === props.context);

    // Queues a function sends to: imported, so the grant lands on the function's role, not the root queue.
    const queues = new Map([...s.messaging.queues].map(([name, q]) => [name, importQueue(this, `Send-${name}`, q)]));
    const { messaging, alarmTopic: _topic, ...grantable } = s;
    this.functions = new Functions(this, 'Functions', {
      ...grantable,
      specs,
      bus: messaging.bus,
      queues,
      asyncFailureQueue: importQueue(this, 'AsyncFailures', messaging.asyncFailureDlq),
    });
    const fn = (name: string) => this.functions.get(name);

    this.workflows = new Workflows(this, 'Workflows', {
      tenantConfig: cfg,
      specs: props.manifest.stateMachines.filter((m) => m.context === props.context),
      logsKey: s.logsKey,
      fn,
    });

    wireContext(this, {
      context: props.context,
      tenantConfig: cfg,
      messaging: s.messaging,
      table: s.table,
      fn,
      queues: props.manifest.queues,
      rules: props.manifest.rules,
      schedules: props.manifest.schedules,
      functions: props.manifest.functions,
    });

    this.addAlarms(specs, s.alarmTopic);
  }

  /** `states:start:<machine>` grants, once every context's machines exist (a starter may be in another context). */
  grantStateMachines(machines: ReadonlyMap<string, IStateMachine>): void {
    this.functions.grantStateMachines(machines);
  }

  has(name: string): boolean {
    return this.functions.byName.has(name);
  }

  get(name: string): NodejsFunction {
    return this.functions.get(name);
  }

  private addAlarms(specs: readonly manifest.FunctionSpec[], topic: ITopic): void {
    const tenant = this.props.shared.tenantConfig.tenant;
    const period = Duration.minutes(5);
    for (const spec of specs) {
      const f = this.functions.get(spec.name);
      alarm(this, `Fn-${spec.name}-Errors`, f.metricErrors({ period, statistic: 'Sum' }), `${spec.name}: errors`, topic);
      alarm(this, `Fn-${spec.name}-Throttles`, f.metricThrottles({ period, statistic: 'Sum' }), `${spec.name}: throttled`, topic);
      if (spec.stream) {
        alarm(
          this,
          `Fn-${spec.name}-IteratorAge`,
          f.metric('IteratorAge', { period, statistic: 'Maximum' }),
          `${spec.name}: more than ${STREAM_ITERATOR_AGE_ALARM_MS / 60_000} minutes behind the table stream`,
          topic,
          STREAM_ITERATOR_AGE_ALARM_MS,
        );
      }
    }
    for (const a of JOB_METRIC_ALARMS) {
      if (!specs.some((s) => s.name === a.fn)) continue;
      alarm(this, `Metric-${a.id}`, jobMetric(tenant, a.fn, a.metricName), `${a.fn}: ${a.description}`, topic);
    }
    for (const [name, machine] of this.workflows.byName) {
      alarm(
        this,
        `States-${name}-Failed`,
        machine.metricFailed({ period, statistic: 'Sum' }),
        `${name}: executions failed`,
        topic,
      );
      alarm(
        this,
        `States-${name}-TimedOut`,
        machine.metricTimedOut({ period, statistic: 'Sum' }),
        `${name}: executions timed out`,
        topic,
      );
    }
  }
}
