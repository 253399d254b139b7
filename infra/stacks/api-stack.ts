/**
 * The HTTP edge, as a nested stack of the tenant: the REST API built from one OpenAPI document
 * (infra/constructs/api-spec.ts), its stage (access logs, execution logs without payloads, X-Ray,
 * throttling from the tenant file), one invoke permission per integrated function, the WAF web ACL and the
 * API's 5XX alarm. The functions themselves live in their contexts' stacks; only their ARNs come in.
 *
 * WAF: a per-IP rate rule, the AWS common and known-bad-inputs rule sets. PSP webhooks
 * (`/v1/webhooks/psp/...`) are signed and verified before anything is parsed, arrive from a handful of
 * provider addresses with bodies that often pass 8 KB and sometimes without a User-Agent; so the common rule
 * set and the per-IP rule leave that path alone, and a separate, higher per-IP rate rule covers it.
 *
 * In the LocalStack build (free edition: no WAF, no Cognito authorizer) a Lambda TOKEN authorizer verifying
 * the same JWTs replaces the Cognito one, and there is no web ACL.
 */
import { Duration, NestedStack, type NestedStackProps, Stack } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  ApiDefinition,
  EndpointType,
  LogGroupLogDestination,
  MethodLoggingLevel,
  RestApiMode,
  SpecRestApi,
} from 'aws-cdk-lib/aws-apigateway';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { CfnWebACL, CfnWebACLAssociation } from 'aws-cdk-lib/aws-wafv2';
import type { Construct } from 'constructs';
import type { TenantConfig } from '#domain/tenant/config.ts';
import type { FunctionSpec, RouteSpec } from '#functions/manifest.ts';
import { buildApiSpec, type SpecAuthorizer } from '../constructs/api-spec.ts';
import { alarm } from '../constructs/monitoring.ts';
import { removalPolicy } from '../constructs/removal.ts';
import { acknowledge } from '../nag.ts';

export const STAGE_NAME = 'prod';
export const RATE_LIMIT_RULE = 'rate-limit-per-ip';
export const WEBHOOK_RATE_LIMIT_RULE = 'rate-limit-webhooks-per-ip';
/** Path prefixes (with and without the stage, as WAF sees them behind a custom domain or not) of the PSP webhooks. */
export const WEBHOOK_PATH_PREFIXES = [`/${STAGE_NAME}/v1/webhooks/psp/`, '/v1/webhooks/psp/'];
export const API_NAME = (tenant: string) => `backoffice-${tenant}`;

export interface ApiStackProps extends NestedStackProps {
  tenantConfig: TenantConfig;
  routes: readonly { fn: FunctionSpec; route: RouteSpec }[];
  fn: (name: string) => IFunction;
  userPoolArns: string[];
  logsKey: IKey;
  corsOrigins: string[];
  alarmTopic: ITopic;
  /** LocalStack: the Lambda TOKEN authorizer instead of Cognito's, and no WAF. */
  localstackAuthorizer?: IFunction;
}

export class ApiStack extends NestedStack {
  readonly api: SpecRestApi;
  readonly webAcl?: CfnWebACL;

  constructor(scope: Construct, id: string, props: ApiStackProps) {
    super(scope, id, { description: `${API_NAME(props.tenantConfig.tenant)}: REST API, stage and WAF`, ...props });
    const cfg = props.tenantConfig;
    const stack = Stack.of(this);

    const accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: RetentionDays.ONE_YEAR,
      encryptionKey: props.logsKey,
      removalPolicy: removalPolicy(cfg),
    });

    const authorizer: SpecAuthorizer = props.localstackAuthorizer
      ? { kind: 'token', functionArn: props.localstackAuthorizer.functionArn, ttlSeconds: 300 }
      : { kind: 'cognito', userPoolArns: props.userPoolArns, ttlSeconds: 300 };
    const spec = buildApiSpec({
      title: API_NAME(cfg.tenant),
      description: `${cfg.brand.name} back office API`,
      routes: props.routes.map(({ fn, route }) => ({ route, functionArn: props.fn(fn.name).functionArn })),
      authorizer,
      corsOrigins: props.corsOrigins,
      region: stack.region,
      partition: stack.partition,
    });

    this.api = new SpecRestApi(this, 'RestApi', {
      restApiName: API_NAME(cfg.tenant),
      description: `${cfg.brand.name} back office API`,
      apiDefinition: ApiDefinition.fromInline(spec),
      mode: RestApiMode.OVERWRITE,
      endpointTypes: [EndpointType.REGIONAL],
      // The account-wide API Gateway logging role belongs to the account stack (infra/stacks/account-stack.ts),
      // not to a tenant: two tenants in one account would otherwise overwrite each other's.
      cloudWatchRole: false,
      deployOptions: {
        stageName: STAGE_NAME,
        accessLogDestination: new LogGroupLogDestination(accessLogs),
        accessLogFormat: AccessLogFormat.jsonWithStandardFields({
          caller: true,
          httpMethod: true,
          ip: true,
          protocol: true,
          requestTime: true,
          resourcePath: true,
          responseLength: true,
          status: true,
          user: true,
        }),
        loggingLevel: MethodLoggingLevel.INFO,
        // Request/response bodies carry PII: never in execution logs.
        dataTraceEnabled: false,
        metricsEnabled: true,
        tracingEnabled: true,
        throttlingRateLimit: cfg.api.throttleRps,
        throttlingBurstLimit: cfg.api.throttleBurst,
      },
    });
    // A changed document must reach the stage: a new deployment whenever the document changes.
    this.api.latestDeployment?.addToLogicalId({ spec });

    // One invoke permission per function (scoped to this API), in this stack.
    const integrated = new Map<string, IFunction>();
    for (const { fn } of props.routes) integrated.set(fn.name, props.fn(fn.name));
    if (props.localstackAuthorizer) integrated.set('jwt-authorizer', props.localstackAuthorizer);
    for (const [name, fn] of integrated) {
      fn.addPermission(`Invoke-${name}`, {
        principal: new ServicePrincipal('apigateway.amazonaws.com'),
        sourceArn: this.api.arnForExecuteApi('*', '/*', '*'),
        scope: this,
      });
    }

    acknowledge(
      this.api,
      'AwsSolutions-APIG2',
      'Request validation is declared in the OpenAPI document (x-amazon-apigateway-request-validators: path parameters); bodies are validated by each handler against its zod schema, which answers with field-level problem+json.',
    );
    if (props.localstackAuthorizer) {
      acknowledge(
        this.api.deploymentStage,
        'AwsSolutions-APIG3',
        'LocalStack build only: the free edition has no WAFv2; the AWS build associates the web ACL.',
      );
    } else {
      this.webAcl = this.addWaf(cfg);
    }
    // cdk-nag cannot see authorizers declared inside an OpenAPI body; every non-public operation carries
    // the Cognito authorizer (test/infra/api.test.ts checks the document route by route).
    acknowledge(
      this.api,
      'AwsSolutions-APIG4',
      'Authorization is declared per operation in the OpenAPI document: every non-public route uses the Cognito user-pool authorizer; public routes (health, registration, sign-in, signed PSP webhooks) and CORS preflights have none by design.',
    );
    acknowledge(
      this.api,
      'AwsSolutions-COG4',
      'The Cognito user-pool authorizer is declared in the OpenAPI document (x-amazon-apigateway-authorizer), which cdk-nag does not read.',
    );

    alarm(
      this,
      'Api-5XX',
      this.api.metricServerError({ period: Duration.minutes(5), statistic: 'Sum' }),
      'API 5XX responses',
      props.alarmTopic,
    );
  }

  private addWaf(cfg: TenantConfig): CfnWebACL {
    const metric = (name: string) => ({ cloudWatchMetricsEnabled: true, sampledRequestsEnabled: true, metricName: name });
    const webhookPath = {
      orStatement: {
        statements: WEBHOOK_PATH_PREFIXES.map((prefix) => ({
          byteMatchStatement: {
            fieldToMatch: { uriPath: {} },
            positionalConstraint: 'STARTS_WITH',
            searchString: prefix,
            textTransformations: [{ priority: 0, type: 'NONE' }],
          },
        })),
      },
    };
    const notWebhookPath = { notStatement: { statement: webhookPath } };
    const webAcl = new CfnWebACL(this, 'WebAcl', {
      name: `backoffice-${cfg.tenant}-api`,
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: metric(`backoffice-${cfg.tenant}-api`),
      rules: [
        {
          name: RATE_LIMIT_RULE,
          priority: 0,
          action: { block: {} },
          statement: {
            rateBasedStatement: {
              limit: cfg.api.rateLimitPer5Min,
              aggregateKeyType: 'IP',
              evaluationWindowSec: 300,
              scopeDownStatement: notWebhookPath,
            },
          },
          visibilityConfig: metric(RATE_LIMIT_RULE),
        },
        {
          // Providers deliver from a few addresses: their own, higher per-IP budget.
          name: WEBHOOK_RATE_LIMIT_RULE,
          priority: 1,
          action: { block: {} },
          statement: {
            rateBasedStatement: {
              limit: cfg.api.webhookRateLimitPer5Min,
              aggregateKeyType: 'IP',
              evaluationWindowSec: 300,
              scopeDownStatement: webhookPath,
            },
          },
          visibilityConfig: metric(WEBHOOK_RATE_LIMIT_RULE),
        },
        {
          name: 'aws-common-rule-set',
          priority: 2,
          overrideAction: { none: {} },
          statement: {
            managedRuleGroupStatement: {
              vendorName: 'AWS',
              name: 'AWSManagedRulesCommonRuleSet',
              scopeDownStatement: notWebhookPath,
            },
          },
          visibilityConfig: metric('aws-common-rule-set'),
        },
        {
          name: 'aws-known-bad-inputs',
          priority: 3,
          overrideAction: { none: {} },
          statement: { managedRuleGroupStatement: { vendorName: 'AWS', name: 'AWSManagedRulesKnownBadInputsRuleSet' } },
          visibilityConfig: metric('aws-known-bad-inputs'),
        },
      ],
    });
    const association = new CfnWebACLAssociation(this, 'WebAclAssociation', {
      resourceArn: this.api.deploymentStage.stageArn,
      webAclArn: webAcl.attrArn,
    });
    association.node.addDependency(this.api.deploymentStage);
    return webAcl;
  }
}
