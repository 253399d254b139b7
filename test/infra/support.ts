/**
 * Synthesizes the real app (real esbuild bundling: the nag check must see the real functions) and shares
 * the result: the infra project runs its files in one module graph (vitest.config.ts `isolate: false`),
 * so each distinct context is synthesized once per run, and CDK's asset cache bundles each function once.
 * Tests treat a Synth as read-only. Context comes from cdk.json, exactly as `cdk synth` would see it.
 *
 * A tenant deploys as a root stack with nested stacks (one per context, and the API): the helpers here
 * look resources up across all of them, and follow references through nested-stack parameters with the
 * deploy rules' own resolver (infra/deploy-rules.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { assemblyTemplates } from '#infra/assembly.ts';
import { REPO_ROOT } from '#infra/constructs/functions.ts';
import { type BackofficeApp, type CreateAppOptions, createApp } from '#infra/create-app.ts';
import { type CfnResource, resolveResource, type TemplateDoc } from '#infra/deploy-rules.ts';

export const cdkJsonContext: Record<string, unknown> = JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8')).context;

export interface Found {
  doc: TemplateDoc;
  id: string;
  r: CfnResource;
}

export interface Synth extends BackofficeApp {
  /** Every template of the assembly: the account stack, the tenant's root stack and its nested stacks. */
  docs: TemplateDoc[];
  /** The tenant's root stack. */
  root: Template;
  rootDoc: TemplateDoc;
  /** The Api nested stack. */
  api: Template;
  apiDoc: TemplateDoc;
  /** The tenant's templates (root and nested), not the account stack's. */
  tenantDocs: TemplateDoc[];
  /** cdk-nag AwsSolutions violations that were not acknowledged. */
  nagViolations: { ruleName: string; severity: string; paths: string[] }[];
  synthSeconds: number;
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
  const started = performance.now();
  // Asset metadata (which file holds each nested template) is what the CDK CLI turns on for a synth.
  const built = createApp({
    ...options,
    nag: false,
    context: { ...cdkJsonContext, 'aws:cdk:enable-asset-metadata': true, ...context },
  });
  // Synthesize first: cross-stack references become nested-stack parameters then, as `cdk synth` shows them
  // to cdk-nag (its policy-validation plugin runs after synthesis).
  const assembly = built.app.synth();
  const report = new AwsSolutionsChecks(built.app).validateScope(built.app);
  const docs = assemblyTemplates(assembly.directory);
  const rootName = `${built.stack.artifactId}.template.json`;
  const rootDoc = docs.find((d) => d.name === rootName)!;
  const tenantDocs = docs.filter((d) => d === rootDoc || d.parent !== undefined);
  const apiDoc = docs.find((d) => d.parent === rootName && d.parentResource!.startsWith('ApiNestedStack'))!;
  return {
    ...built,
    docs,
    rootDoc,
    root: Template.fromJSON(rootDoc.template),
    apiDoc,
    api: Template.fromJSON(apiDoc.template),
    tenantDocs,
    nagViolations: report.violations.map((v) => ({
      ruleName: v.ruleName,
      severity: v.severity ?? 'error',
      paths: v.violatingResources.map((r) => r.constructPath ?? r.resourceLogicalId ?? '?'),
    })),
    synthSeconds: (performance.now() - started) / 1000,
  };
}

/** The nested template of one context (`Ctx-<context>`). */
export function contextDoc(s: Synth, context: string): TemplateDoc {
  const doc = s.tenantDocs.find((d) => d.parentResource?.startsWith(`Ctx${context}NestedStack`));
  if (!doc) throw new Error(`no nested stack for context ${context}`);
  return doc;
}

/** Every resource of a type across the tenant's templates. */
export function all(s: Synth, type: string): Found[] {
  return s.tenantDocs.flatMap((doc) =>
    Object.entries(doc.template.Resources ?? {})
      .filter(([, r]) => r.Type === type)
      .map(([id, r]) => ({ doc, id, r })),
  );
}

/** Resources of a type in one template (a Template's findResources, typed). */
export function resources(template: Template, type: string): Record<string, CfnResource> {
  return template.findResources(type) as Record<string, CfnResource>;
}

/** What a value (Ref / GetAtt, possibly through nested parameters) refers to: "<template>#<logicalId>". */
export function target(s: Synth, doc: TemplateDoc, value: unknown): string | undefined {
  const r = resolveResource(value, doc, s.docs);
  return r ? `${r.doc.name}#${r.logicalId}` : undefined;
}

export const at = (f: Found) => `${f.doc.name}#${f.id}`;

/** The Lambda function tagged with this manifest name. */
export function fnResource(s: Synth, name: string): Found {
  const matches = all(s, 'AWS::Lambda::Function').filter((f) =>
    ((f.r.Properties?.Tags as { Key: string; Value: string }[] | undefined) ?? []).some(
      (t) => t.Key === 'backoffice:function' && t.Value === name,
    ),
  );
  if (matches.length !== 1) throw new Error(`expected one function tagged ${name}, found ${matches.length}`);
  return matches[0]!;
}

export function envOf(s: Synth, name: string): Record<string, unknown> {
  return (fnResource(s, name).r.Properties!.Environment as { Variables: Record<string, unknown> }).Variables;
}

/** The statements of every IAM policy attached to a function's execution role. */
export function roleStatements(s: Synth, name: string): Record<string, unknown>[] {
  const fn = fnResource(s, name);
  const roleId = ((fn.r.Properties!.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'] ?? [])[0];
  return Object.values(fn.doc.template.Resources ?? {})
    .filter((r) => r.Type === 'AWS::IAM::Policy')
    .filter((p) => (p.Properties!.Roles as { Ref: string }[]).some((r) => r.Ref === roleId))
    .flatMap((p) => (p.Properties!.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement);
}

/** Every IAM action allowed to a function's execution role. */
export function roleActions(s: Synth, name: string): string[] {
  return roleStatements(s, name).flatMap((st) => ([] as string[]).concat(st.Action as string | string[]));
}

/** What each of a statement's resources refers to (resolved through nested parameters), or its JSON. */
export function statementTargets(s: Synth, name: string, st: Record<string, unknown>): string[] {
  const doc = fnResource(s, name).doc;
  return ([] as unknown[]).concat(st.Resource).map((res) => {
    const direct = target(s, doc, res);
    if (direct) return direct;
    // `<arn>/*` and the like: Fn::Join over a reference.
    const join = (res as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
    const inner = join?.[1].map((part) => target(s, doc, part)).find(Boolean);
    return inner ? `${inner}${JSON.stringify(join![1].filter((p) => typeof p === 'string'))}` : JSON.stringify(res);
  });
}
