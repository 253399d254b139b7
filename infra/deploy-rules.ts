/**
 * Deploy-time rules for synthesized CloudFormation templates: limits that CloudFormation and the AWS services
 * enforce only when a stack is created or updated (and cdk-nag does not check), found here before a deploy fails
 * or, worse, succeeds with a broken resource. Pure: the input is plain template JSON (a root stack plus its nested
 * stacks, linked by `parent` / `parentResource`); nothing is read or called.
 *
 * Rules and the AWS limit or behaviour each one stands for:
 * - resources-per-stack: CloudFormation: a template declares at most 500 resources (hard limit); the project also
 *   keeps headroom below it (default 80%: 400 resources) so a feature does not hit the wall mid-deploy.
 * - template-size: CloudFormation: a template body uploaded to S3 is at most 1,048,576 bytes (1 MB).
 * - parameters-and-outputs: CloudFormation: a template declares at most 200 parameters and at most 200 outputs.
 * - no-exports: CloudFormation: an export cannot be changed or deleted while any stack imports it, so an
 *   Export / Fn::ImportValue pair blocks the later deploy that stops using it.
 * - sqs-policy-limits: SQS: a queue policy holds at most 20 statements and 8,192 bytes.
 * - object-lock-retention: S3: an Object Lock default retention has Mode GOVERNANCE or COMPLIANCE and exactly one of
 *   Days or Years (a positive integer); Object Lock needs bucket versioning enabled and cannot be configured on a
 *   bucket created without Object Lock.
 * - iam-policy-size: IAM: a role's inline policies total at most 10,240 characters, a managed policy document is at
 *   most 6,144 characters and a role trust policy at most 2,048 characters (default quota); whitespace not counted.
 * - lambda-environment-size: Lambda: a function's environment variables total at most 4 KB (4,096 bytes), keys and
 *   values together.
 * - state-machine-definition-size: Step Functions: a state machine definition is at most 1,048,576 characters.
 * - sqs-visibility-timeout: Lambda: an SQS queue a function consumes needs a visibility timeout of at least six times
 *   the function timeout (AWS's documented recommendation), or messages reappear while still being processed.
 * - async-on-failure-destination: Lambda: an asynchronous invocation that still fails after its retries (two by
 *   default, for up to 6 hours) is discarded unless an on-failure destination is configured.
 * - no-retained-physical-names: CloudFormation: a resource with DeletionPolicy Retain survives the rollback of the
 *   create that made it, and the retried create then fails because a resource with the same explicit name already
 *   exists (RetainExceptOnCreate does not have this problem: CloudFormation deletes it on a create rollback).
 * - cognito-write-attributes: Cognito: an app client with no (or an empty) WriteAttributes lets users write every
 *   standard attribute with their access token, and Cognito refuses to create a client that cannot write an
 *   attribute the user pool marks as required.
 * - asl-substitutions-resolve: Step Functions / CloudFormation: a `${Name}` placeholder with no DefinitionSubstitutions
 *   key is left in the definition as literal text (an invalid definition or a bogus resource ARN at run time).
 * - event-rules-per-bus: EventBridge: at most 300 rules per event bus (default quota), with the same headroom policy.
 *
 * Size rules measure the worst case of each value (see worstCase): CloudFormation tokens are rendered as the longest
 * string they can become at deploy time, not as the short `{"Ref": ...}` text in the template.
 */

export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
  DependsOn?: unknown;
  Condition?: string;
  Metadata?: unknown;
}

export interface CfnTemplate {
  Resources?: Record<string, CfnResource>;
  Parameters?: Record<string, unknown>;
  Outputs?: Record<string, { Value: unknown; Export?: unknown }>;
  [k: string]: unknown;
}

/**
 * One template of an assembly. `parent` links a nested stack's template to the template holding its
 * AWS::CloudFormation::Stack resource (`parentResource` = that resource's logical id).
 */
export interface TemplateDoc {
  name: string;
  template: CfnTemplate;
  bytes: number;
  parent?: string;
  parentResource?: string;
}

export interface DeployFinding {
  rule: string;
  template: string;
  resource?: string;
  message: string;
}

export interface DeployRuleOptions {
  /** fraction of the 500-resource limit allowed, default 0.8 */
  headroom?: number;
  /** Cognito attributes an app client may write, default ['locale'] */
  writableAttributes?: string[];
}

export interface DeployRule {
  id: string;
  description: string;
  check(docs: TemplateDoc[], opts: Required<DeployRuleOptions>): DeployFinding[];
}

export interface ResolvedResource {
  doc: TemplateDoc;
  logicalId: string;
  attribute?: string;
}

// ---------------------------------------------------------------------------------------------------------------
// Template helpers

type Json = Record<string, unknown>;

const STACK_TYPE = 'AWS::CloudFormation::Stack';
const MAX_DEPTH = 64;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** [function name, argument] when the value is an intrinsic function ({ Ref }, { 'Fn::*' } or { Condition: name }). */
function intrinsic(value: unknown): [string, unknown] | undefined {
  if (!isObject(value)) return undefined;
  const keys = Object.keys(value);
  if (keys.length !== 1) return undefined;
  const key = keys[0]!;
  if (key === 'Ref' || key.startsWith('Fn::') || (key === 'Condition' && typeof value[key] === 'string')) {
    return [key, value[key]];
  }
  return undefined;
}

/** [logical id, attribute] of a Fn::GetAtt argument, in its list or 'Id.Attr' string form. */
function getAttArgs(arg: unknown): [string, string] | undefined {
  if (Array.isArray(arg) && typeof arg[0] === 'string' && typeof arg[1] === 'string') return [arg[0], arg[1]];
  if (typeof arg === 'string' && arg.includes('.')) {
    const dot = arg.indexOf('.');
    return [arg.slice(0, dot), arg.slice(dot + 1)];
  }
  return undefined;
}

function props(resource: CfnResource | undefined): Json {
  return resource?.Properties ?? {};
}

function resourceAt(ref: { doc: TemplateDoc; logicalId: string }): CfnResource | undefined {
  return ref.doc.template.Resources?.[ref.logicalId];
}

interface Located {
  doc: TemplateDoc;
  logicalId: string;
  resource: CfnResource;
}

function* resourcesOf(docs: TemplateDoc[], type: string): Generator<Located> {
  for (const doc of docs) {
    for (const [logicalId, resource] of Object.entries(doc.template.Resources ?? {})) {
      if (resource.Type === type) yield { doc, logicalId, resource };
    }
  }
}

function findNested(doc: TemplateDoc, stackLogicalId: string, docs: TemplateDoc[]): TemplateDoc | undefined {
  return docs.find((d) => d.parent === doc.name && d.parentResource === stackLogicalId);
}

/** The value the parent stack passes for a nested template's parameter, with the template it is evaluated in. */
function parentValue(doc: TemplateDoc, parameter: string, docs: TemplateDoc[]): { doc: TemplateDoc; value: unknown } | undefined {
  if (doc.parent === undefined || doc.parentResource === undefined) return undefined;
  const parent = docs.find((d) => d.name === doc.parent);
  const stack = parent?.template.Resources?.[doc.parentResource];
  const passed = props(stack)['Parameters'];
  if (!parent || !isObject(passed) || !(parameter in passed)) return undefined;
  return { doc: parent, value: passed[parameter] };
}

function asNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return undefined;
}

function label(ref: { doc: TemplateDoc; logicalId: string }): string {
  return `${ref.doc.name}/${ref.logicalId}`;
}

function key(ref: { doc: TemplateDoc; logicalId: string }): string {
  return `${ref.doc.name}\u0000${ref.logicalId}`;
}

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}

function bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

function headroomLimit(limit: number, opts: Required<DeployRuleOptions>): number {
  return Math.floor(limit * opts.headroom);
}

function percent(opts: Required<DeployRuleOptions>): string {
  return `${Math.round(opts.headroom * 100)}%`;
}

// ---------------------------------------------------------------------------------------------------------------
// Reference resolution

/**
 * Follows Ref / Fn::GetAtt through nested-stack parameters (Ref to a Parameter of a nested template -> the parent's
 * AWS::CloudFormation::Stack Properties.Parameters[name] -> resolved in the parent; Fn::GetAtt [NestedStack, 'Outputs.X']
 * -> that nested template's Outputs.X.Value resolved there). Returns the template and logical id of the resource a value
 * ultimately refers to, or undefined (pseudo parameters, literals, anything else).
 */
export function resolveResource(value: unknown, doc: TemplateDoc, docs: TemplateDoc[]): ResolvedResource | undefined {
  return resolveAt(value, doc, docs, 0);
}

function resolveAt(value: unknown, doc: TemplateDoc, docs: TemplateDoc[], depth: number): ResolvedResource | undefined {
  if (depth > MAX_DEPTH) return undefined;
  const fn = intrinsic(value);
  if (!fn) return undefined;
  const [name, arg] = fn;
  if (name === 'Ref') {
    if (typeof arg !== 'string' || arg.startsWith('AWS::')) return undefined;
    if (doc.template.Resources?.[arg]) return { doc, logicalId: arg };
    const passed = parentValue(doc, arg, docs);
    return passed ? resolveAt(passed.value, passed.doc, docs, depth + 1) : undefined;
  }
  if (name === 'Fn::GetAtt') {
    const args = getAttArgs(arg);
    if (!args) return undefined;
    const [logicalId, attribute] = args;
    const resource = doc.template.Resources?.[logicalId];
    if (!resource) return undefined;
    if (resource.Type === STACK_TYPE && attribute.startsWith('Outputs.')) {
      const nested = findNested(doc, logicalId, docs);
      const output = nested?.template.Outputs?.[attribute.slice('Outputs.'.length)];
      return nested && output ? resolveAt(output.Value, nested, docs, depth + 1) : undefined;
    }
    return { doc, logicalId, attribute };
  }
  return undefined;
}

/** The resource a reference resolves to, when it has the given type. */
function resolveTyped(value: unknown, doc: TemplateDoc, docs: TemplateDoc[], type: string): Located | undefined {
  const ref = resolveResource(value, doc, docs);
  const resource = ref && resourceAt(ref);
  return ref && resource?.Type === type ? { doc: ref.doc, logicalId: ref.logicalId, resource } : undefined;
}

/** The AWS::Lambda::Function a reference designates, following an AWS::Lambda::Alias or Version to its function. */
function resolveFunction(value: unknown, doc: TemplateDoc, docs: TemplateDoc[], depth = 0): Located | undefined {
  if (depth > MAX_DEPTH) return undefined;
  const ref = resolveResource(value, doc, docs);
  const resource = ref && resourceAt(ref);
  if (!ref || !resource) return undefined;
  if (resource.Type === 'AWS::Lambda::Function') return { doc: ref.doc, logicalId: ref.logicalId, resource };
  if (resource.Type === 'AWS::Lambda::Alias' || resource.Type === 'AWS::Lambda::Version') {
    return resolveFunction(props(resource)['FunctionName'], ref.doc, docs, depth + 1);
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Worst-case rendering
//
// Assumptions (each token is rendered as the longest string it can become at deploy time):
// - pseudo parameters: AWS::Region 'ap-southeast-2' (as long as any region name), AWS::AccountId 12 digits,
//   AWS::Partition 'aws-us-gov' (the longest partition), AWS::URLSuffix 'amazonaws.com.cn', AWS::StackName 128 chars
//   (the stack name limit), AWS::StackId the full stack ARN built from those (partition, region, account, a 128-char
//   name and a UUID: 227 chars), AWS::NoValue '' and AWS::NotificationARNs five 128-char ARNs;
// - Ref to a resource: 128 chars (a generated physical name) except where the type says better: a literal explicit
//   name when the Ref returns that name, an SQS queue URL (https://sqs.<region>.<suffix>/<account>/ + an 80-char name
//   or the explicit one), a nested stack's stack ARN;
// - Fn::GetAtt of an attribute ending in Arn: 'arn:aws-us-gov:service:ap-southeast-2:123456789012:' + 128 chars;
//   Fn::GetAtt [NestedStack, 'Outputs.X']: the nested template's output, rendered there; any other attribute 128
//   chars (QueueUrl as the queue URL above);
// - Ref to a template Parameter: what the parent stack passes for it, rendered in the parent; else the longest
//   AllowedValues entry; else 128 chars;
// - Fn::Join joins the rendered parts, Fn::Sub substitutes each ${X} by its variable or by the Ref / GetAtt
//   rendering, Fn::Select / Fn::If / Fn::FindInMap take the longest candidate, list functions (Fn::Split, Fn::GetAZs,
//   Fn::Cidr) render as a JSON list of their candidates, Fn::Base64 encodes the rendering, conditions render 'false',
//   Fn::ImportValue 128 chars;
// - literal strings as-is, numbers and booleans as JSON, arrays and plain objects as compact JSON of their rendered
//   children (strings quoted and escaped as JSON).

const REGION = 'ap-southeast-2';
const ACCOUNT = '123456789012';
const PARTITION = 'aws-us-gov';
const URL_SUFFIX = 'amazonaws.com.cn';
const NAME_LENGTH = 128;
const QUEUE_NAME_LENGTH = 80;
const STACK_NAME = 'S'.repeat(NAME_LENGTH);
const STACK_ID = `arn:${PARTITION}:cloudformation:${REGION}:${ACCOUNT}:stack/${STACK_NAME}/00000000-0000-0000-0000-000000000000`;
const ARN_PREFIX = `arn:${PARTITION}:service:${REGION}:${ACCOUNT}:`;
const QUEUE_URL_PREFIX = `https://sqs.${REGION}.${URL_SUFFIX}/${ACCOUNT}/`;

const PSEUDO: Record<string, string> = {
  'AWS::Region': REGION,
  'AWS::AccountId': ACCOUNT,
  'AWS::Partition': PARTITION,
  'AWS::URLSuffix': URL_SUFFIX,
  'AWS::StackName': STACK_NAME,
  'AWS::StackId': STACK_ID,
  'AWS::NoValue': '',
};

/** Explicit physical-name property of each type (no-retained-physical-names, and Ref rendering where Ref returns it). */
const NAME_PROPERTY: Record<string, string> = {
  'AWS::S3::Bucket': 'BucketName',
  'AWS::DynamoDB::Table': 'TableName',
  'AWS::Logs::LogGroup': 'LogGroupName',
  'AWS::SecretsManager::Secret': 'Name',
  'AWS::SQS::Queue': 'QueueName',
  'AWS::KMS::Alias': 'AliasName',
  'AWS::Events::EventBus': 'Name',
  'AWS::StepFunctions::StateMachine': 'StateMachineName',
  'AWS::Lambda::Function': 'FunctionName',
  'AWS::IAM::Role': 'RoleName',
  'AWS::SNS::Topic': 'TopicName',
  'AWS::SSM::Parameter': 'Name',
  'AWS::SES::EmailIdentity': 'EmailIdentity',
};

/** Types whose Ref returns the resource's name (so an explicit literal name is the exact Ref value). */
const REF_IS_NAME = new Set([
  'AWS::S3::Bucket',
  'AWS::DynamoDB::Table',
  'AWS::Logs::LogGroup',
  'AWS::KMS::Alias',
  'AWS::Events::EventBus',
  'AWS::Lambda::Function',
  'AWS::IAM::Role',
  'AWS::SSM::Parameter',
  'AWS::SES::EmailIdentity',
]);

interface Ctx {
  doc: TemplateDoc | undefined;
  docs: TemplateDoc[];
  depth: number;
}

/** A rendered value: `json` when text is JSON (object, array, number, boolean), else a plain string. */
interface Rendered {
  text: string;
  json: boolean;
}

const str = (text: string): Rendered => ({ text, json: false });
const filler = (length = NAME_LENGTH): Rendered => str('X'.repeat(length));

function asJson(r: Rendered): string {
  return r.json ? r.text : JSON.stringify(r.text);
}

function longest(candidates: Rendered[]): Rendered {
  let best: Rendered = str('');
  for (const c of candidates) if (asJson(c).length > asJson(best).length) best = c;
  return best;
}

/** Worst-case string rendering of a CloudFormation value (see the assumptions above), for size rules. */
export function worstCase(value: unknown, doc?: TemplateDoc, docs?: TemplateDoc[]): string {
  return render(value, { doc, docs: docs ?? (doc ? [doc] : []), depth: 0 }).text;
}

function render(value: unknown, ctx: Ctx): Rendered {
  if (value === null || value === undefined) return { text: 'null', json: true };
  if (typeof value === 'string') return str(value);
  if (typeof value === 'number' || typeof value === 'boolean') return { text: JSON.stringify(value), json: true };
  if (Array.isArray(value)) return { text: `[${value.map((v) => asJson(render(v, ctx))).join(',')}]`, json: true };
  if (!isObject(value)) return str(String(value));
  const fn = intrinsic(value);
  if (fn) return renderIntrinsic(fn[0], fn[1], ctx);
  const entries = Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}:${asJson(render(v, ctx))}`);
  return { text: `{${entries.join(',')}}`, json: true };
}

function renderIntrinsic(name: string, arg: unknown, ctx: Ctx): Rendered {
  if (ctx.depth > MAX_DEPTH) return filler();
  const args = Array.isArray(arg) ? arg : [];
  switch (name) {
    case 'Ref':
      return typeof arg === 'string' ? renderRef(arg, ctx) : filler();
    case 'Fn::GetAtt': {
      const ga = getAttArgs(arg);
      return ga ? renderGetAtt(ga[0], ga[1], ctx) : filler();
    }
    case 'Fn::Join':
      return str(
        listCandidates(args[1], ctx)
          .map((c) => c.text)
          .join(render(args[0], ctx).text),
      );
    case 'Fn::Sub':
      return renderSub(arg, ctx);
    case 'Fn::Select':
      return longest(listCandidates(args[1], ctx));
    case 'Fn::If':
      return longest([render(args[1], ctx), render(args[2], ctx)]);
    case 'Fn::Split':
    case 'Fn::GetAZs':
    case 'Fn::Cidr':
      return {
        text: `[${listCandidates({ [name]: arg }, ctx)
          .map(asJson)
          .join(',')}]`,
        json: true,
      };
    case 'Fn::Base64':
      return str(Buffer.from(render(arg, ctx).text, 'utf8').toString('base64'));
    case 'Fn::FindInMap':
      return renderFindInMap(args, ctx);
    case 'Fn::ToJsonString':
      return str(render(arg, ctx).text);
    case 'Fn::Length':
      return { text: String(listCandidates(arg, ctx).length), json: true };
    case 'Fn::Equals':
    case 'Fn::And':
    case 'Fn::Or':
    case 'Fn::Not':
    case 'Condition':
      return { text: 'false', json: true };
    default:
      return filler();
  }
}

function renderRef(name: string, ctx: Ctx): Rendered {
  const pseudo = PSEUDO[name];
  if (pseudo !== undefined) return str(pseudo);
  if (name === 'AWS::NotificationARNs') return listJson(listCandidates({ Ref: name }, ctx));
  const doc = ctx.doc;
  if (!doc) return filler();
  const resource = doc.template.Resources?.[name];
  if (resource) return renderResourceRef(resource, { ...ctx, depth: ctx.depth + 1 });
  const passed = parentValue(doc, name, ctx.docs);
  if (passed) return render(passed.value, { doc: passed.doc, docs: ctx.docs, depth: ctx.depth + 1 });
  const parameter = doc.template.Parameters?.[name];
  const allowed = isObject(parameter) && Array.isArray(parameter['AllowedValues']) ? parameter['AllowedValues'] : [];
  return allowed.length > 0 ? longest(allowed.map((v) => str(String(v)))) : filler();
}

function renderResourceRef(resource: CfnResource, ctx: Ctx): Rendered {
  if (resource.Type === STACK_TYPE) return str(STACK_ID);
  const nameProperty = NAME_PROPERTY[resource.Type];
  const explicit = nameProperty === undefined ? undefined : props(resource)[nameProperty];
  if (resource.Type === 'AWS::SQS::Queue') {
    return str(QUEUE_URL_PREFIX + (explicit === undefined ? filler(QUEUE_NAME_LENGTH) : render(explicit, ctx)).text);
  }
  if (explicit !== undefined && REF_IS_NAME.has(resource.Type)) return str(render(explicit, ctx).text);
  return filler();
}

function renderGetAtt(logicalId: string, attribute: string, ctx: Ctx): Rendered {
  const doc = ctx.doc;
  const resource = doc?.template.Resources?.[logicalId];
  if (doc && resource?.Type === STACK_TYPE && attribute.startsWith('Outputs.')) {
    const nested = findNested(doc, logicalId, ctx.docs);
    const output = nested?.template.Outputs?.[attribute.slice('Outputs.'.length)];
    if (nested && output) return render(output.Value, { doc: nested, docs: ctx.docs, depth: ctx.depth + 1 });
    return filler();
  }
  if (attribute.endsWith('Arn')) return str(ARN_PREFIX + filler().text);
  if (resource?.Type === 'AWS::SQS::Queue' && attribute === 'QueueUrl') {
    return renderResourceRef(resource, { ...ctx, depth: ctx.depth + 1 });
  }
  return filler();
}

function renderSub(arg: unknown, ctx: Ctx): Rendered {
  const [template, variables] = Array.isArray(arg) ? [arg[0], arg[1]] : [arg, undefined];
  if (typeof template !== 'string') return filler();
  const vars = isObject(variables) ? variables : {};
  return str(
    template.replace(/\$\{([^}]*)\}/g, (_match, inner: string) => {
      if (inner.startsWith('!')) return `\${${inner.slice(1)}}`;
      if (inner in vars) return render(vars[inner], ctx).text;
      const dot = inner.indexOf('.');
      if (dot > 0 && !inner.startsWith('AWS::')) return renderGetAtt(inner.slice(0, dot), inner.slice(dot + 1), ctx).text;
      return renderRef(inner, ctx).text;
    }),
  );
}

function renderFindInMap(args: unknown[], ctx: Ctx): Rendered {
  const mappings = ctx.doc?.template['Mappings'];
  const map = isObject(mappings) && typeof args[0] === 'string' ? mappings[args[0]] : undefined;
  if (!isObject(map)) return filler();
  const candidates: Rendered[] = [];
  for (const [top, level] of Object.entries(map)) {
    if ((typeof args[1] === 'string' && args[1] !== top) || !isObject(level)) continue;
    for (const [second, v] of Object.entries(level)) {
      if (typeof args[2] === 'string' && args[2] !== second) continue;
      candidates.push(render(v, ctx));
    }
  }
  return candidates.length > 0 ? longest(candidates) : filler();
}

function listJson(candidates: Rendered[]): Rendered {
  return { text: `[${candidates.map(asJson).join(',')}]`, json: true };
}

/** The rendered elements of a list-valued value (a literal list or a list function). */
function listCandidates(value: unknown, ctx: Ctx): Rendered[] {
  if (Array.isArray(value)) return value.map((v) => render(v, ctx));
  const fn = intrinsic(value);
  if (!fn) return [render(value, ctx)];
  const [name, arg] = fn;
  const args = Array.isArray(arg) ? arg : [];
  switch (name) {
    case 'Fn::Split': {
      const separator = render(args[0], ctx).text;
      const source = render(args[1], ctx).text;
      return (separator === '' ? [source] : source.split(separator)).map(str);
    }
    case 'Fn::GetAZs':
      return Array.from({ length: 6 }, () => str(`${REGION}a`));
    case 'Fn::Cidr': {
      const count = asNumber(args[1]) ?? 256;
      return Array.from({ length: count }, () => str('255.255.255.255/32'));
    }
    case 'Fn::If': {
      const a = listCandidates(args[1], ctx);
      const b = listCandidates(args[2], ctx);
      return listJson(a).text.length >= listJson(b).text.length ? a : b;
    }
    case 'Ref': {
      if (arg === 'AWS::NotificationARNs') return Array.from({ length: 5 }, () => str(ARN_PREFIX + filler().text));
      const passed = typeof arg === 'string' && ctx.doc ? parentValue(ctx.doc, arg, ctx.docs) : undefined;
      if (passed) return listCandidates(passed.value, { doc: passed.doc, docs: ctx.docs, depth: ctx.depth + 1 });
      return [render(value, ctx)];
    }
    default:
      return [render(value, ctx)];
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Rules

const CFN_RESOURCE_LIMIT = 500;
const CFN_TEMPLATE_BYTES = 1_048_576;
const CFN_PARAMETERS = 200;
const CFN_OUTPUTS = 200;
const SQS_POLICY_STATEMENTS = 20;
const SQS_POLICY_BYTES = 8_192;
const IAM_ROLE_INLINE_CHARS = 10_240;
const IAM_MANAGED_POLICY_CHARS = 6_144;
const IAM_TRUST_POLICY_CHARS = 2_048;
const LAMBDA_ENVIRONMENT_BYTES = 4_096;
const SFN_DEFINITION_CHARS = 1_048_576;
const SQS_VISIBILITY_FACTOR = 6;
const SQS_DEFAULT_VISIBILITY = 30;
const LAMBDA_DEFAULT_TIMEOUT = 3;
const EVENT_RULES_PER_BUS = 300;

function finding(rule: string, template: string, resource: string | undefined, message: string): DeployFinding {
  return resource === undefined ? { rule, template, message } : { rule, template, resource, message };
}

const resourcesPerStack: DeployRule = {
  id: 'resources-per-stack',
  description: 'at most 500 resources per template (CloudFormation), and at most the headroom share of it (project policy)',
  check(docs, opts) {
    const out: DeployFinding[] = [];
    const soft = headroomLimit(CFN_RESOURCE_LIMIT, opts);
    for (const doc of docs) {
      const count = Object.keys(doc.template.Resources ?? {}).length;
      if (count > CFN_RESOURCE_LIMIT) {
        out.push(
          finding(
            'resources-per-stack',
            doc.name,
            undefined,
            `${count} resources; CloudFormation allows at most ${CFN_RESOURCE_LIMIT} per stack`,
          ),
        );
      }
      if (count > soft) {
        out.push(
          finding(
            'resources-per-stack',
            doc.name,
            undefined,
            `${count} resources exceeds the project's ${percent(opts)} headroom policy (${soft} of CloudFormation's ` +
              `${CFN_RESOURCE_LIMIT}); move resources to a nested stack`,
          ),
        );
      }
    }
    return out;
  },
};

const templateSize: DeployRule = {
  id: 'template-size',
  description: 'template body at most 1,048,576 bytes (CloudFormation, template in S3)',
  check(docs) {
    return docs
      .filter((doc) => doc.bytes > CFN_TEMPLATE_BYTES)
      .map((doc) =>
        finding(
          'template-size',
          doc.name,
          undefined,
          `template is ${fmt(doc.bytes)} bytes; CloudFormation allows at most ${fmt(CFN_TEMPLATE_BYTES)} bytes`,
        ),
      );
  },
};

const parametersAndOutputs: DeployRule = {
  id: 'parameters-and-outputs',
  description: 'at most 200 Parameters and 200 Outputs per template (CloudFormation)',
  check(docs) {
    const out: DeployFinding[] = [];
    for (const doc of docs) {
      const parameters = Object.keys(doc.template.Parameters ?? {}).length;
      const outputs = Object.keys(doc.template.Outputs ?? {}).length;
      if (parameters > CFN_PARAMETERS) {
        out.push(
          finding(
            'parameters-and-outputs',
            doc.name,
            undefined,
            `${parameters} Parameters; CloudFormation allows at most ${CFN_PARAMETERS}`,
          ),
        );
      }
      if (outputs > CFN_OUTPUTS) {
        out.push(
          finding(
            'parameters-and-outputs',
            doc.name,
            undefined,
            `${outputs} Outputs; CloudFormation allows at most ${CFN_OUTPUTS}`,
          ),
        );
      }
    }
    return out;
  },
};

function containsIntrinsic(value: unknown, name: string): boolean {
  if (Array.isArray(value)) return value.some((v) => containsIntrinsic(v, name));
  if (!isObject(value)) return false;
  return Object.entries(value).some(([k, v]) => k === name || containsIntrinsic(v, name));
}

const noExports: DeployRule = {
  id: 'no-exports',
  description: 'no Output Export and no Fn::ImportValue (an import blocks later deploys that stop using the export)',
  check(docs) {
    const out: DeployFinding[] = [];
    for (const doc of docs) {
      for (const [name, output] of Object.entries(doc.template.Outputs ?? {})) {
        if (output.Export !== undefined) {
          out.push(
            finding(
              'no-exports',
              doc.name,
              name,
              `Output ${name} has an Export; an exported value cannot change or go away while another stack imports it`,
            ),
          );
        }
        if (containsIntrinsic(output, 'Fn::ImportValue')) {
          out.push(finding('no-exports', doc.name, name, `Output ${name} uses Fn::ImportValue; pass the value as a parameter`));
        }
      }
      for (const [logicalId, resource] of Object.entries(doc.template.Resources ?? {})) {
        if (containsIntrinsic(resource, 'Fn::ImportValue')) {
          out.push(
            finding(
              'no-exports',
              doc.name,
              logicalId,
              `${resource.Type} ${logicalId} uses Fn::ImportValue; pass the value as a parameter`,
            ),
          );
        }
      }
      for (const [section, body] of Object.entries(doc.template)) {
        if (section === 'Resources' || section === 'Outputs') continue;
        if (containsIntrinsic(body, 'Fn::ImportValue')) {
          out.push(finding('no-exports', doc.name, section, `section ${section} uses Fn::ImportValue`));
        }
      }
    }
    return out;
  },
};

function statementsOf(document: unknown): unknown[] {
  const statement = isObject(document) ? document['Statement'] : undefined;
  if (Array.isArray(statement)) return statement;
  return statement === undefined ? [] : [statement];
}

const sqsPolicyLimits: DeployRule = {
  id: 'sqs-policy-limits',
  description: 'per queue, all queue policy statements: at most 20 statements and 8,192 bytes (SQS)',
  check(docs) {
    interface Group {
      template: string;
      resource: string;
      display: string;
      policies: string[];
      statements: string[];
    }
    const groups = new Map<string, Group>();
    for (const { doc, logicalId, resource } of resourcesOf(docs, 'AWS::SQS::QueuePolicy')) {
      const p = props(resource);
      const queues = (Array.isArray(p['Queues']) ? p['Queues'] : [p['Queues']]).filter((q) => q !== undefined);
      const statements = statementsOf(p['PolicyDocument']).map((s) => asJson(render(s, { doc, docs, depth: 0 })));
      for (const queue of queues) {
        const ref = resolveResource(queue, doc, docs);
        const json = JSON.stringify(queue);
        const id = ref ? key(ref) : typeof queue === 'string' ? json : `${doc.name}\u0000${json}`;
        let group = groups.get(id);
        if (!group) {
          group = ref
            ? { template: ref.doc.name, resource: ref.logicalId, display: `queue ${label(ref)}`, policies: [], statements: [] }
            : { template: doc.name, resource: logicalId, display: `queue ${json}`, policies: [], statements: [] };
          groups.set(id, group);
        }
        group.policies.push(`${doc.name}/${logicalId}`);
        group.statements.push(...statements);
      }
    }
    const out: DeployFinding[] = [];
    for (const g of groups.values()) {
      const from = `(policies: ${g.policies.join(', ')})`;
      if (g.statements.length > SQS_POLICY_STATEMENTS) {
        out.push(
          finding(
            'sqs-policy-limits',
            g.template,
            g.resource,
            `${g.display} has ${g.statements.length} policy statements ${from}; SQS allows at most ${SQS_POLICY_STATEMENTS}`,
          ),
        );
      }
      const size = bytes(`{"Version":"2012-10-17","Statement":[${g.statements.join(',')}]}`);
      if (size > SQS_POLICY_BYTES) {
        out.push(
          finding(
            'sqs-policy-limits',
            g.template,
            g.resource,
            `${g.display} policy is ${fmt(size)} bytes worst case ${from}; SQS allows at most ${fmt(SQS_POLICY_BYTES)} bytes`,
          ),
        );
      }
    }
    return out;
  },
};

const objectLockRetention: DeployRule = {
  id: 'object-lock-retention',
  description: 'Object Lock default retention: Mode GOVERNANCE|COMPLIANCE and exactly one of Days/Years; versioning enabled (S3)',
  check(docs) {
    const out: DeployFinding[] = [];
    for (const { doc, logicalId, resource } of resourcesOf(docs, 'AWS::S3::Bucket')) {
      const p = props(resource);
      const report = (message: string) =>
        out.push(finding('object-lock-retention', doc.name, logicalId, `bucket ${logicalId}: ${message}`));
      const config = isObject(p['ObjectLockConfiguration']) ? p['ObjectLockConfiguration'] : undefined;
      const enabledFlag = p['ObjectLockEnabled'] === true || p['ObjectLockEnabled'] === 'true';
      const lockEnabled = enabledFlag || config?.['ObjectLockEnabled'] === 'Enabled';
      const rule = isObject(config?.['Rule']) ? config['Rule'] : undefined;
      const retention = isObject(rule?.['DefaultRetention']) ? rule['DefaultRetention'] : undefined;
      if (config && !enabledFlag) {
        report('ObjectLockConfiguration needs ObjectLockEnabled: true (S3 refuses it on a bucket created without Object Lock)');
      }
      if (retention) {
        const mode = retention['Mode'];
        if (mode !== 'GOVERNANCE' && mode !== 'COMPLIANCE') {
          report(`DefaultRetention Mode is ${JSON.stringify(mode)}; S3 requires GOVERNANCE or COMPLIANCE`);
        }
        const periods = (['Days', 'Years'] as const).filter((k) => retention[k] !== undefined);
        if (periods.length !== 1) {
          const found = periods.length === 0 ? 'neither' : `both (Days ${retention['Days']}, Years ${retention['Years']})`;
          report(`DefaultRetention must set exactly one of Days or Years, found ${found}`);
        } else {
          const period = periods[0]!;
          const n = asNumber(retention[period]);
          if (n === undefined || !Number.isInteger(n) || n <= 0) {
            report(`DefaultRetention ${period} is ${JSON.stringify(retention[period])}; S3 requires a positive integer`);
          }
        }
      }
      const versioning = isObject(p['VersioningConfiguration']) ? p['VersioningConfiguration']['Status'] : undefined;
      if (lockEnabled && versioning !== 'Enabled') {
        report(`Object Lock requires VersioningConfiguration.Status 'Enabled', found ${JSON.stringify(versioning ?? null)}`);
      }
    }
    return out;
  },
};

/** Policy size as IAM counts it: the worst-case rendering with all whitespace removed. */
function policyChars(document: unknown, doc: TemplateDoc, docs: TemplateDoc[]): number {
  return worstCase(document, doc, docs).replace(/\s+/g, '').length;
}

const iamPolicySize: DeployRule = {
  id: 'iam-policy-size',
  description: 'role inline policies at most 10,240 chars in total, managed policy 6,144, trust policy 2,048 (IAM)',
  check(docs) {
    const out: DeployFinding[] = [];
    const roles = new Map<string, { located: Located; chars: number; parts: string[] }>();
    const byName = new Map<string, string>();
    for (const located of resourcesOf(docs, 'AWS::IAM::Role')) {
      const { doc, logicalId, resource } = located;
      const p = props(resource);
      let chars = 0;
      const parts: string[] = [];
      for (const policy of Array.isArray(p['Policies']) ? p['Policies'] : []) {
        const n = policyChars(isObject(policy) ? policy['PolicyDocument'] : undefined, doc, docs);
        chars += n;
        parts.push(`${isObject(policy) && typeof policy['PolicyName'] === 'string' ? policy['PolicyName'] : 'inline'} ${n}`);
      }
      roles.set(key(located), { located, chars, parts });
      if (typeof p['RoleName'] === 'string') byName.set(p['RoleName'], key(located));
      const trust = policyChars(p['AssumeRolePolicyDocument'], doc, docs);
      if (trust > IAM_TRUST_POLICY_CHARS) {
        out.push(
          finding(
            'iam-policy-size',
            doc.name,
            logicalId,
            `role ${logicalId} AssumeRolePolicyDocument is ${fmt(trust)} characters worst case; IAM allows at most ` +
              `${fmt(IAM_TRUST_POLICY_CHARS)}`,
          ),
        );
      }
    }
    const attach = (roleRef: unknown, doc: TemplateDoc, policyId: string, chars: number) => {
      const ref = resolveResource(roleRef, doc, docs);
      const role = ref ? roles.get(key(ref)) : typeof roleRef === 'string' ? roles.get(byName.get(roleRef) ?? '') : undefined;
      if (!role) return;
      role.chars += chars;
      role.parts.push(`${doc.name}/${policyId} ${chars}`);
    };
    for (const { doc, logicalId, resource } of resourcesOf(docs, 'AWS::IAM::Policy')) {
      const p = props(resource);
      const chars = policyChars(p['PolicyDocument'], doc, docs);
      for (const roleRef of Array.isArray(p['Roles']) ? p['Roles'] : []) attach(roleRef, doc, logicalId, chars);
    }
    for (const { doc, logicalId, resource } of resourcesOf(docs, 'AWS::IAM::RolePolicy')) {
      const p = props(resource);
      attach(p['RoleName'], doc, logicalId, policyChars(p['PolicyDocument'], doc, docs));
    }
    for (const { located, chars, parts } of roles.values()) {
      if (chars > IAM_ROLE_INLINE_CHARS) {
        out.push(
          finding(
            'iam-policy-size',
            located.doc.name,
            located.logicalId,
            `role ${located.logicalId} inline policies total ${fmt(chars)} characters worst case (${parts.join(', ')}); ` +
              `IAM allows at most ${fmt(IAM_ROLE_INLINE_CHARS)} per role`,
          ),
        );
      }
    }
    for (const { doc, logicalId, resource } of resourcesOf(docs, 'AWS::IAM::ManagedPolicy')) {
      const chars = policyChars(props(resource)['PolicyDocument'], doc, docs);
      if (chars > IAM_MANAGED_POLICY_CHARS) {
        out.push(
          finding(
            'iam-policy-size',
            doc.name,
            logicalId,
            `managed policy ${logicalId} is ${fmt(chars)} characters worst case; IAM allows at most ` +
              fmt(IAM_MANAGED_POLICY_CHARS),
          ),
        );
      }
    }
    return out;
  },
};

const lambdaEnvironmentSize: DeployRule = {
  id: 'lambda-environment-size',
  description: 'function environment variables at most 4,096 bytes in total, keys and values (Lambda)',
  check(docs) {
    const out: DeployFinding[] = [];
    for (const { doc, logicalId, resource } of resourcesOf(docs, 'AWS::Lambda::Function')) {
      const environment = props(resource)['Environment'];
      const variables = isObject(environment) ? environment['Variables'] : undefined;
      if (variables === undefined) continue;
      let size = 0;
      if (isObject(variables) && !intrinsic(variables)) {
        for (const [name, value] of Object.entries(variables)) size += bytes(name) + bytes(worstCase(value, doc, docs));
      } else {
        size = bytes(worstCase(variables, doc, docs));
      }
      if (size > LAMBDA_ENVIRONMENT_BYTES) {
        out.push(
          finding(
            'lambda-environment-size',
            doc.name,
            logicalId,
            `function ${logicalId} environment variables are ${fmt(size)} bytes worst case; Lambda allows at most ` +
              `${fmt(LAMBDA_ENVIRONMENT_BYTES)}`,
          ),
        );
      }
    }
    return out;
  },
};

const PLACEHOLDER = /\$\{([^}]+)\}/g;

const stateMachineDefinitionSize: DeployRule = {
  id: 'state-machine-definition-size',
  description: 'state machine definition at most 1,048,576 characters after substitutions (Step Functions)',
  check(docs) {
    const out: DeployFinding[] = [];
    for (const { doc, logicalId, resource } of resourcesOf(docs, 'AWS::StepFunctions::StateMachine')) {
      const p = props(resource);
      // DefinitionS3Location: the definition is an asset outside the template, so it cannot be measured here.
      const definition = p['DefinitionString'] ?? p['Definition'];
      if (definition === undefined) continue;
      const substitutions = isObject(p['DefinitionSubstitutions']) ? p['DefinitionSubstitutions'] : {};
      const text = worstCase(definition, doc, docs).replace(PLACEHOLDER, (match, name: string) =>
        name in substitutions ? worstCase(substitutions[name], doc, docs) : match,
      );
      if (text.length > SFN_DEFINITION_CHARS) {
        out.push(
          finding(
            'state-machine-definition-size',
            doc.name,
            logicalId,
            `state machine ${logicalId} definition is ${fmt(text.length)} characters worst case; Step Functions allows at ` +
              `most ${fmt(SFN_DEFINITION_CHARS)}`,
          ),
        );
      }
    }
    return out;
  },
};

const sqsVisibilityTimeout: DeployRule = {
  id: 'sqs-visibility-timeout',
  description: "an SQS queue's VisibilityTimeout is at least 6 x its consumer function's Timeout (Lambda recommendation)",
  check(docs) {
    const out: DeployFinding[] = [];
    for (const { doc, logicalId, resource } of resourcesOf(docs, 'AWS::Lambda::EventSourceMapping')) {
      const p = props(resource);
      const report = (message: string) =>
        out.push(finding('sqs-visibility-timeout', doc.name, logicalId, `event source mapping ${logicalId}: ${message}`));
      const source = p['EventSourceArn'];
      if (source === undefined) continue; // self-managed Kafka / MQ sources have no EventSourceArn
      if (typeof source === 'string' && !source.includes(':sqs:')) continue;
      const ref = resolveResource(source, doc, docs);
      const target = ref && resourceAt(ref);
      if (!ref || !target) {
        report(
          `cannot resolve EventSourceArn ${JSON.stringify(source)} to a resource, so the queue visibility timeout is unchecked`,
        );
        continue;
      }
      if (target.Type !== 'AWS::SQS::Queue') continue;
      const fn = resolveFunction(p['FunctionName'], doc, docs);
      if (!fn) {
        report(`cannot resolve FunctionName ${JSON.stringify(p['FunctionName'])} to an AWS::Lambda::Function`);
        continue;
      }
      const visibilityValue = props(target)['VisibilityTimeout'];
      const timeoutValue = props(fn.resource)['Timeout'];
      const visibility = visibilityValue === undefined ? SQS_DEFAULT_VISIBILITY : asNumber(visibilityValue);
      const timeout = timeoutValue === undefined ? LAMBDA_DEFAULT_TIMEOUT : asNumber(timeoutValue);
      if (visibility === undefined || timeout === undefined) {
        report(
          `cannot read queue ${label(ref)} VisibilityTimeout ${JSON.stringify(visibilityValue)} or function ${label(fn)} ` +
            `Timeout ${JSON.stringify(timeoutValue)} as numbers`,
        );
        continue;
      }
      if (visibility < SQS_VISIBILITY_FACTOR * timeout) {
        report(
          `queue ${label(ref)} VisibilityTimeout ${visibility} s is below ${SQS_VISIBILITY_FACTOR} x function ${label(fn)} ` +
            `Timeout ${timeout} s = ${SQS_VISIBILITY_FACTOR * timeout} s (AWS recommends at least ${SQS_VISIBILITY_FACTOR}x)`,
        );
      }
    }
    return out;
  },
};

const ASYNC_PRINCIPALS = new Set(['events.amazonaws.com', 's3.amazonaws.com', 'sns.amazonaws.com', 'scheduler.amazonaws.com']);

const asyncOnFailureDestination: DeployRule = {
  id: 'async-on-failure-destination',
  description: 'every asynchronously invoked function has an EventInvokeConfig with an OnFailure destination (Lambda)',
  check(docs) {
    const invoked = new Map<string, { fn: Located; by: string[] }>();
    const note = (fn: Located | undefined, by: string) => {
      if (!fn) return;
      const entry = invoked.get(key(fn)) ?? { fn, by: [] };
      entry.by.push(by);
      invoked.set(key(fn), entry);
    };
    for (const { doc, logicalId, resource } of resourcesOf(docs, 'AWS::Events::Rule')) {
      const targets = props(resource)['Targets'];
      for (const target of Array.isArray(targets) ? targets : []) {
        if (isObject(target)) note(resolveFunction(target['Arn'], doc, docs), `rule ${doc.name}/${logicalId}`);
      }
    }
    for (const { doc, logicalId, resource } of resourcesOf(docs, 'AWS::Scheduler::Schedule')) {
      const target = props(resource)['Target'];
      if (isObject(target)) note(resolveFunction(target['Arn'], doc, docs), `schedule ${doc.name}/${logicalId}`);
    }
    for (const { doc, logicalId, resource } of resourcesOf(docs, 'AWS::Lambda::Permission')) {
      const p = props(resource);
      if (typeof p['Principal'] === 'string' && ASYNC_PRINCIPALS.has(p['Principal'])) {
        note(resolveFunction(p['FunctionName'], doc, docs), `permission ${doc.name}/${logicalId} (${p['Principal']})`);
      }
    }
    const configured = new Map<string, boolean>();
    for (const { doc, resource } of resourcesOf(docs, 'AWS::Lambda::EventInvokeConfig')) {
      const p = props(resource);
      const fn = resolveFunction(p['FunctionName'], doc, docs);
      if (!fn) continue;
      const destinations = isObject(p['DestinationConfig']) ? p['DestinationConfig'] : undefined;
      const onFailure = isObject(destinations?.['OnFailure']) ? destinations['OnFailure'] : undefined;
      const destination = onFailure?.['Destination'];
      const hasDestination = destination !== undefined && destination !== null && destination !== '';
      configured.set(key(fn), (configured.get(key(fn)) ?? false) || hasDestination);
    }
    const out: DeployFinding[] = [];
    for (const { fn, by } of invoked.values()) {
      const state = configured.get(key(fn));
      if (state) continue;
      const what =
        state === undefined
          ? 'has no AWS::Lambda::EventInvokeConfig'
          : 'has an AWS::Lambda::EventInvokeConfig without DestinationConfig.OnFailure.Destination';
      out.push(
        finding(
          'async-on-failure-destination',
          fn.doc.name,
          fn.logicalId,
          `function ${fn.logicalId} is invoked asynchronously (by ${[...new Set(by)].join(', ')}) but ${what}; ` +
            'events that fail all retries would be discarded',
        ),
      );
    }
    return out;
  },
};

/** True when the value contains a Ref to AWS::StackId (directly, in a Fn::Sub, or through a nested parameter). */
function containsStackId(value: unknown, doc: TemplateDoc, docs: TemplateDoc[], depth = 0): boolean {
  if (depth > MAX_DEPTH) return false;
  if (Array.isArray(value)) return value.some((v) => containsStackId(v, doc, docs, depth));
  if (!isObject(value)) return false;
  const fn = intrinsic(value);
  if (fn?.[0] === 'Ref') {
    if (fn[1] === 'AWS::StackId') return true;
    const passed = typeof fn[1] === 'string' ? parentValue(doc, fn[1], docs) : undefined;
    return passed ? containsStackId(passed.value, passed.doc, docs, depth + 1) : false;
  }
  if (fn?.[0] === 'Fn::Sub') {
    const template = Array.isArray(fn[1]) ? fn[1][0] : fn[1];
    if (typeof template === 'string' && /\$\{AWS::StackId\}/.test(template)) return true;
  }
  return Object.values(value).some((v) => containsStackId(v, doc, docs, depth));
}

const noRetainedPhysicalNames: DeployRule = {
  id: 'no-retained-physical-names',
  description: 'a DeletionPolicy Retain resource has no fixed explicit physical name (a retried create would collide)',
  check(docs) {
    const out: DeployFinding[] = [];
    for (const doc of docs) {
      for (const [logicalId, resource] of Object.entries(doc.template.Resources ?? {})) {
        if (resource.DeletionPolicy !== 'Retain') continue;
        const property = NAME_PROPERTY[resource.Type];
        const name = property === undefined ? undefined : props(resource)[property];
        if (name === undefined || name === null || containsStackId(name, doc, docs)) continue;
        const shown = typeof name === 'string' ? name : JSON.stringify(name);
        out.push(
          finding(
            'no-retained-physical-names',
            doc.name,
            logicalId,
            `${resource.Type} ${logicalId} has DeletionPolicy Retain and explicit ${property} ${JSON.stringify(shown)}: ` +
              'after a rolled-back create the retained resource makes the retried create fail ' +
              '(use RetainExceptOnCreate, or drop the name)',
          ),
        );
      }
    }
    return out;
  },
};

const STANDARD_ATTRIBUTES = new Set([
  'address',
  'birthdate',
  'email',
  'email_verified',
  'family_name',
  'gender',
  'given_name',
  'locale',
  'middle_name',
  'name',
  'nickname',
  'phone_number',
  'phone_number_verified',
  'picture',
  'preferred_username',
  'profile',
  'updated_at',
  'website',
  'zoneinfo',
]);

const cognitoWriteAttributes: DeployRule = {
  id: 'cognito-write-attributes',
  description: 'app client WriteAttributes is a non-empty allow-listed list that covers every required pool attribute (Cognito)',
  check(docs, opts) {
    const out: DeployFinding[] = [];
    const allowed = new Set(opts.writableAttributes);
    for (const { doc, logicalId, resource } of resourcesOf(docs, 'AWS::Cognito::UserPoolClient')) {
      const p = props(resource);
      const report = (message: string) =>
        out.push(finding('cognito-write-attributes', doc.name, logicalId, `user pool client ${logicalId}: ${message}`));
      const write = p['WriteAttributes'];
      if (!Array.isArray(write) || write.length === 0) {
        report(
          `WriteAttributes is ${write === undefined ? 'absent' : JSON.stringify(write)}; Cognito treats that as unset and lets ` +
            'users write every standard attribute with their access token ' +
            `(set it to e.g. ${JSON.stringify(opts.writableAttributes)})`,
        );
        continue;
      }
      const refused = write.filter((a) => typeof a !== 'string' || !allowed.has(a));
      if (refused.length > 0) {
        report(
          `WriteAttributes ${JSON.stringify(refused)} not in the writable attributes ` +
            `${JSON.stringify(opts.writableAttributes)} ` +
            '(users could change them with their access token)',
        );
      }
      const pool = resolveTyped(p['UserPoolId'], doc, docs, 'AWS::Cognito::UserPool');
      if (!pool) {
        report(
          `cannot resolve UserPoolId ${JSON.stringify(p['UserPoolId'])} to an AWS::Cognito::UserPool, ` +
            'so required attributes are unchecked',
        );
        continue;
      }
      const schema = props(pool.resource)['Schema'];
      const required = (Array.isArray(schema) ? schema : [])
        .filter(
          (a): a is Json => isObject(a) && (a['Required'] === true || a['Required'] === 'true') && typeof a['Name'] === 'string',
        )
        .map((a) => (STANDARD_ATTRIBUTES.has(a['Name'] as string) ? (a['Name'] as string) : `custom:${a['Name']}`));
      const missing = required.filter((a) => !write.includes(a));
      if (missing.length > 0) {
        report(
          `user pool ${label(pool)} requires ${JSON.stringify(missing)} but WriteAttributes ${JSON.stringify(write)} does not ` +
            'include them: Cognito refuses to create the client (make the attribute non-required if users must not write it)',
        );
      }
    }
    return out;
  },
};

/** Literal text of a definition: strings, Fn::Join parts and separators, Fn::Sub text (its ${!X} escapes as ${X}). */
function literalTexts(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(literalTexts);
  if (!isObject(value)) return [];
  const fn = intrinsic(value);
  if (!fn) return Object.values(value).flatMap(literalTexts);
  const [name, arg] = fn;
  if (name === 'Ref' || name === 'Fn::GetAtt' || name === 'Condition') return [];
  if (name === 'Fn::Sub') {
    const [template, variables] = Array.isArray(arg) ? [arg[0], arg[1]] : [arg, undefined];
    const text =
      typeof template === 'string'
        ? [template.replace(/\$\{([^}]*)\}/g, (_m, inner: string) => (inner.startsWith('!') ? `\${${inner.slice(1)}}` : ' '))]
        : [];
    return [...text, ...(isObject(variables) ? Object.values(variables).flatMap(literalTexts) : [])];
  }
  if (name === 'Fn::If') return Array.isArray(arg) ? arg.slice(1).flatMap(literalTexts) : [];
  return literalTexts(arg);
}

const aslSubstitutionsResolve: DeployRule = {
  id: 'asl-substitutions-resolve',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the ASL placeholder syntax, not a template literal
  description: 'every ${Name} in a state machine definition has a DefinitionSubstitutions key, and every key is used',
  check(docs) {
    const out: DeployFinding[] = [];
    for (const { doc, logicalId, resource } of resourcesOf(docs, 'AWS::StepFunctions::StateMachine')) {
      const p = props(resource);
      // DefinitionS3Location: the definition is an asset outside the template, so placeholders cannot be checked here.
      const definition = p['DefinitionString'] ?? p['Definition'];
      if (definition === undefined) continue;
      const substitutions = isObject(p['DefinitionSubstitutions']) ? p['DefinitionSubstitutions'] : {};
      const used = new Set<string>();
      for (const text of literalTexts(definition)) for (const m of text.matchAll(PLACEHOLDER)) used.add(m[1]!);
      for (const name of used) {
        if (!(name in substitutions)) {
          out.push(
            finding(
              'asl-substitutions-resolve',
              doc.name,
              logicalId,
              `state machine ${logicalId}: placeholder \${${name}} has no DefinitionSubstitutions key ` +
                '(it would stay literal text)',
            ),
          );
        }
      }
      for (const name of Object.keys(substitutions)) {
        if (!used.has(name)) {
          out.push(
            finding(
              'asl-substitutions-resolve',
              doc.name,
              logicalId,
              `state machine ${logicalId}: DefinitionSubstitutions key ${name} is used by no \${${name}} placeholder ` +
                '(stale substitution?)',
            ),
          );
        }
      }
    }
    return out;
  },
};

const eventRulesPerBus: DeployRule = {
  id: 'event-rules-per-bus',
  description: 'at most 300 rules per event bus (EventBridge default quota), and at most the headroom share of it',
  check(docs, opts) {
    const buses = new Map<string, { template: string; resource: string | undefined; display: string; rules: number }>();
    for (const { doc, resource } of resourcesOf(docs, 'AWS::Events::Rule')) {
      const value = props(resource)['EventBusName'];
      let id: string;
      let entry: { template: string; resource: string | undefined; display: string };
      const bus = value === undefined ? undefined : resolveTyped(value, doc, docs, 'AWS::Events::EventBus');
      const literal = typeof value === 'string' ? value.replace(/^arn:[^:]*:events:[^:]*:[^:]*:event-bus\//, '') : undefined;
      if (value === undefined || literal === 'default') {
        id = 'default';
        entry = { template: doc.name, resource: undefined, display: "event bus 'default'" };
      } else if (bus) {
        const name = props(bus.resource)['Name'];
        id = typeof name === 'string' ? name : key(bus);
        entry = { template: bus.doc.name, resource: bus.logicalId, display: `event bus ${label(bus)}` };
      } else if (literal !== undefined) {
        id = literal;
        entry = { template: doc.name, resource: undefined, display: `event bus '${literal}'` };
      } else {
        id = `${doc.name}\u0000${JSON.stringify(value)}`;
        entry = { template: doc.name, resource: undefined, display: `event bus ${JSON.stringify(value)} of ${doc.name}` };
      }
      const group = buses.get(id) ?? { ...entry, rules: 0 };
      group.rules += 1;
      buses.set(id, group);
    }
    const out: DeployFinding[] = [];
    const soft = headroomLimit(EVENT_RULES_PER_BUS, opts);
    for (const bus of buses.values()) {
      if (bus.rules > EVENT_RULES_PER_BUS) {
        out.push(
          finding(
            'event-rules-per-bus',
            bus.template,
            bus.resource,
            `${bus.display} has ${bus.rules} rules; EventBridge allows ${EVENT_RULES_PER_BUS} per bus`,
          ),
        );
      }
      if (bus.rules > soft) {
        out.push(
          finding(
            'event-rules-per-bus',
            bus.template,
            bus.resource,
            `${bus.display} has ${bus.rules} rules, above the project's ${percent(opts)} headroom policy (${soft} of ` +
              `EventBridge's ${EVENT_RULES_PER_BUS})`,
          ),
        );
      }
    }
    return out;
  },
};

export const DEPLOY_RULES: readonly DeployRule[] = [
  resourcesPerStack,
  templateSize,
  parametersAndOutputs,
  noExports,
  sqsPolicyLimits,
  objectLockRetention,
  iamPolicySize,
  lambdaEnvironmentSize,
  stateMachineDefinitionSize,
  sqsVisibilityTimeout,
  asyncOnFailureDestination,
  noRetainedPhysicalNames,
  cognitoWriteAttributes,
  aslSubstitutionsResolve,
  eventRulesPerBus,
];

export function checkDeployRules(docs: TemplateDoc[], opts: DeployRuleOptions = {}): DeployFinding[] {
  const headroom = opts.headroom ?? 0.8;
  if (!(headroom > 0 && headroom <= 1)) throw new RangeError(`headroom must be in (0, 1], got ${headroom}`);
  const full: Required<DeployRuleOptions> = { headroom, writableAttributes: opts.writableAttributes ?? ['locale'] };
  return DEPLOY_RULES.flatMap((rule) => rule.check(docs, full));
}
