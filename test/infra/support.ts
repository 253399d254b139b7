/**
 * Synthesizes the real app (real esbuild bundling: the nag check must see the real functions) and shares
 * the result: the infra project runs its files in one module graph (vitest.config.ts `isolate: false`),
 * so each distinct context is synthesized once per run, and CDK's asset cache bundles each function once.
 * Tests treat a Synth as read-only. Context comes from cdk.json, exactly as `cdk synth` would see it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { REPO_ROOT } from '#infra/constructs/functions.ts';
import { type BackofficeApp, type CreateAppOptions, createApp } from '#infra/create-app.ts';

export const cdkJsonContext: Record<string, unknown> = JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8')).context;

export interface Synth extends BackofficeApp {
  template: Template;
  /** The nested monitoring stack's template (the alarms and their topic). */
  monitoringTemplate: Template;
  /**
   * The nested stack's alarms (logical id -> properties) with each reference to a parameter replaced by
   * what the parent passes in, so they compare with the parent template's logical ids.
   */
  alarms: Record<string, Record<string, unknown>>;
  /** cdk-nag AwsSolutions violations that were not acknowledged. */
  nagViolations: { ruleName: string; severity: string; paths: string[] }[];
}

const synthesized = new Map<string, Synth>();

export function synth(context: Record<string, unknown> = {}, options: CreateAppOptions = {}): Synth {
  const key = JSON.stringify([context, options]);
  let s = synthesized.get(key);
  if (!s) {
    s = synthesize(context, options);
    synthesized.set(key, s);
  }
  return s;
}

function synthesize(context: Record<string, unknown>, options: CreateAppOptions): Synth {
  const built = createApp({ ...options, nag: false, context: { ...cdkJsonContext, ...context } });
  const report = new AwsSolutionsChecks(built.app).validateScope(built.app);
  const template = Template.fromStack(built.stack);
  return {
    ...built,
    template,
    monitoringTemplate: Template.fromStack(built.stack.monitoringStack),
    alarms: resolvedAlarms(template, Template.fromStack(built.stack.monitoringStack)),
    nagViolations: report.violations.map((v) => ({
      ruleName: v.ruleName,
      severity: v.severity ?? 'error',
      paths: v.violatingResources.map((r) => r.constructPath ?? r.resourceLogicalId ?? '?'),
    })),
  };
}

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown>; [k: string]: unknown }>;

export function resources(template: Template, type: string): Resources {
  return template.findResources(type) as Resources;
}

/** Logical id of the Lambda function tagged with this manifest name. */
export function functionLogicalId(template: Template, name: string): string {
  const matches = Object.entries(resources(template, 'AWS::Lambda::Function')).filter(([, r]) =>
    ((r.Properties?.Tags as { Key: string; Value: string }[] | undefined) ?? []).some(
      (t) => t.Key === 'backoffice:function' && t.Value === name,
    ),
  );
  if (matches.length !== 1) throw new Error(`expected one function tagged ${name}, found ${matches.length}`);
  return matches[0]![0];
}

/** Every IAM action allowed to a function's execution role (inline policies attached to the role). */
export function roleActions(template: Template, fnLogicalId: string): string[] {
  const fn = resources(template, 'AWS::Lambda::Function')[fnLogicalId]!;
  const roleId = ((fn.Properties!.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'] ?? [])[0];
  const actions: string[] = [];
  for (const policy of Object.values(resources(template, 'AWS::IAM::Policy'))) {
    const roles = (policy.Properties!.Roles as { Ref: string }[]).map((r) => r.Ref);
    if (!roles.includes(roleId!)) continue;
    const doc = policy.Properties!.PolicyDocument as { Statement: { Action: string | string[] }[] };
    for (const st of doc.Statement) actions.push(...([] as string[]).concat(st.Action));
  }
  return actions;
}

/** "GET /v1/me" -> the AWS::ApiGateway::Method resource, by walking Resource parents. */
export function methodsByRoute(template: Template): Map<string, Record<string, unknown>> {
  const apiResources = resources(template, 'AWS::ApiGateway::Resource');
  const pathOf = (ref: unknown): string => {
    const id = (ref as { Ref?: string }).Ref;
    if (!id) return ''; // root: Fn::GetAtt RestApi.RootResourceId
    const r = apiResources[id]!;
    return `${pathOf(r.Properties!.ParentId)}/${r.Properties!.PathPart}`;
  };
  const out = new Map<string, Record<string, unknown>>();
  for (const m of Object.values(resources(template, 'AWS::ApiGateway::Method'))) {
    const path = pathOf(m.Properties!.ResourceId) || '/';
    out.set(`${m.Properties!.HttpMethod} ${path}`, m.Properties!);
  }
  return out;
}

/** The nested monitoring stack's alarms with its parameters resolved to the parent's values. */
function resolvedAlarms(parent: Template, nested: Template): Record<string, Record<string, unknown>> {
  const params: Record<string, unknown> = {};
  for (const st of Object.values(resources(parent, 'AWS::CloudFormation::Stack'))) {
    Object.assign(params, (st.Properties?.Parameters as Record<string, unknown> | undefined) ?? {});
  }
  const resolve = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(resolve);
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (typeof o.Ref === 'string' && Object.keys(o).length === 1 && o.Ref in params) return params[o.Ref];
      return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, resolve(x)]));
    }
    return v;
  };
  return Object.fromEntries(
    Object.entries(resources(nested, 'AWS::CloudWatch::Alarm')).map(([id, a]) => [
      id,
      resolve(a.Properties) as Record<string, unknown>,
    ]),
  );
}
