/**
 * The REST API: every route from the manifest (allRoutes()), a Lambda proxy integration per function,
 * and a Cognito authorizer over both user pools (ID tokens) on every non-public route. Role checks
 * (e.g. ['admin']) are done by the handlers' auth middleware from the token's cognito:groups claim,
 * because a Cognito authorizer can only check scopes of access tokens.
 *
 * Stage: access logs (JSON, KMS-encrypted log group), execution logging at INFO without payloads,
 * X-Ray, throttling from the tenant config, and a WAFv2 web ACL (rate limit + AWS common rules).
 * In LocalStack mode (free edition: no WAF, no Cognito authorizer) a Lambda TOKEN authorizer that
 * verifies the same JWTs replaces the Cognito authorizer and the web ACL is left out.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  AuthorizationType,
  CognitoUserPoolsAuthorizer,
  Cors,
  type IAuthorizer,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  RequestValidator,
  ResponseType,
  RestApi,
  TokenAuthorizer,
} from 'aws-cdk-lib/aws-apigateway';
import type { IUserPool } from 'aws-cdk-lib/aws-cognito';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { CfnWebACL, CfnWebACLAssociation } from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import type { TenantConfig } from '#domain/tenant/config.ts';
import type { FunctionSpec, RouteSpec } from '#functions/manifest.ts';
import { GATEWAY_PROBLEMS, gatewayProblemBody } from '#shared/gateway-problems.ts';
import { acknowledge } from '../nag.ts';

export const STAGE_NAME = 'prod';
export const RATE_LIMIT_RULE = 'rate-limit-per-ip';

export interface ApiProps {
  tenantConfig: TenantConfig;
  routes: readonly { fn: FunctionSpec; route: RouteSpec }[];
  fn: (name: string) => IFunction;
  pools: IUserPool[];
  logsKey: IKey;
  corsOrigins: string[];
  /** LocalStack: Lambda TOKEN authorizer instead of Cognito, no WAF. */
  localstack?: { authorizer: IFunction };
}

export class Api extends Construct {
  readonly api: RestApi;
  readonly webAcl?: CfnWebACL;

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);
    const cfg = props.tenantConfig;

    const accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: RetentionDays.ONE_YEAR,
      encryptionKey: props.logsKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.api = new RestApi(this, 'RestApi', {
      restApiName: `backoffice-${cfg.tenant}`,
      description: `${cfg.brand.name} back office API`,
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
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
      defaultCorsPreflightOptions: {
        allowOrigins: props.corsOrigins,
        allowMethods: Cors.ALL_METHODS,
        allowHeaders: [...Cors.DEFAULT_HEADERS, 'Idempotency-Key', 'X-Correlation-Id'],
        maxAge: Duration.hours(1),
      },
    });
    acknowledge(
      this.api,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      'Account-level API Gateway logging role; the AWS managed policy is the documented minimum for log delivery.',
    );

    addProblemGatewayResponses(this.api, props.corsOrigins);

    const authorizer: IAuthorizer = props.localstack
      ? new TokenAuthorizer(this, 'JwtAuthorizer', {
          handler: props.localstack.authorizer,
          identitySource: 'method.request.header.Authorization',
          resultsCacheTtl: Duration.minutes(5),
        })
      : new CognitoUserPoolsAuthorizer(this, 'CognitoAuthorizer', {
          cognitoUserPools: props.pools,
          identitySource: 'method.request.header.Authorization',
          resultsCacheTtl: Duration.minutes(5),
        });

    const validator = new RequestValidator(this, 'RequestValidator', {
      restApi: this.api,
      requestValidatorName: 'parameters-and-body',
      validateRequestParameters: true,
      validateRequestBody: true,
    });

    const integrations = new Map<string, LambdaIntegration>();
    for (const { fn, route } of props.routes) {
      let integration = integrations.get(fn.name);
      if (!integration) {
        // One invoke permission per function (scoped to this API's stage), not one per method: the tenant
        // stack stays under CloudFormation's 500-resource limit as routes grow.
        integration = new LambdaIntegration(props.fn(fn.name), {
          proxy: true,
          allowTestInvoke: false,
          scopePermissionToMethod: false,
        });
        integrations.set(fn.name, integration);
      }
      const pathParams = [...route.path.matchAll(/\{([^}+]+)\+?\}/g)].map((m) => m[1]!);
      const isPublic = route.auth === 'public';
      const method = this.api.root.resourceForPath(route.path).addMethod(route.method, integration, {
        authorizer: isPublic ? undefined : authorizer,
        authorizationType: isPublic ? AuthorizationType.NONE : authorizer.authorizationType,
        requestValidator: validator,
        requestParameters: Object.fromEntries(pathParams.map((p) => [`method.request.path.${p}`, true])),
      });
      if (isPublic) {
        const reason = `Public by design (manifest auth 'public'): ${route.method} ${route.path} is used before a user has a token; WAF rate limiting applies.`;
        acknowledge(method, 'AwsSolutions-APIG4', reason);
        acknowledge(method, 'AwsSolutions-COG4', reason);
      } else if (props.localstack) {
        acknowledge(
          method,
          'AwsSolutions-COG4',
          'LocalStack build only: the free edition has no Cognito authorizer, so a Lambda authorizer verifies the same Cognito JWTs.',
        );
      }
    }
    for (const method of this.api.methods) {
      if (method.httpMethod !== 'OPTIONS') continue;
      const reason =
        'CORS preflight (OPTIONS) must be unauthenticated by the CORS spec; it is a mock integration with no backend.';
      acknowledge(method, 'AwsSolutions-APIG4', reason);
      acknowledge(method, 'AwsSolutions-COG4', reason);
    }

    if (props.localstack) {
      acknowledge(
        this.api.deploymentStage,
        'AwsSolutions-APIG3',
        'LocalStack build only: the free edition has no WAFv2; the AWS build associates the web ACL.',
      );
    } else {
      this.webAcl = this.addWaf(cfg);
    }
  }

  private addWaf(cfg: TenantConfig): CfnWebACL {
    const metric = (name: string) => ({ cloudWatchMetricsEnabled: true, sampledRequestsEnabled: true, metricName: name });
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
            rateBasedStatement: { limit: cfg.api.rateLimitPer5Min, aggregateKeyType: 'IP', evaluationWindowSec: 300 },
          },
          visibilityConfig: metric(RATE_LIMIT_RULE),
        },
        {
          name: 'aws-common-rule-set',
          priority: 1,
          overrideAction: { none: {} },
          statement: { managedRuleGroupStatement: { vendorName: 'AWS', name: 'AWSManagedRulesCommonRuleSet' } },
          visibilityConfig: metric('aws-common-rule-set'),
        },
        {
          name: 'aws-known-bad-inputs',
          priority: 2,
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

  get url(): string {
    return this.api.url;
  }
}

/**
 * Responses API Gateway itself produces, from the shared list (functions/shared/gateway-problems.ts),
 * so a client has one error format to parse and the local gateway answers the same way.
 */
function addProblemGatewayResponses(api: RestApi, corsOrigins: string[]) {
  const origin = corsOrigins.length === 1 ? corsOrigins[0]! : '*';
  for (const p of GATEWAY_PROBLEMS) {
    // Without a fixed status (DEFAULT_4XX/5XX keep API Gateway's own), the body names no status.
    const { status: _unknown, ...withoutStatus } = gatewayProblemBody(p, 0, '$context.requestId');
    const body = p.status ? gatewayProblemBody(p, p.status, '$context.requestId') : withoutStatus;
    api.addGatewayResponse(`Problem${p.type}`, {
      type: ResponseType.of(p.type),
      ...(p.status ? { statusCode: String(p.status) } : {}),
      responseHeaders: {
        'Content-Type': "'application/problem+json'",
        'x-correlation-id': 'context.requestId',
        'Access-Control-Allow-Origin': `'${origin}'`,
      },
      templates: { 'application/json': JSON.stringify(body) },
    });
  }
}
