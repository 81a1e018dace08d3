import { Stack, type Duration } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledge } from '../gate/acknowledge';

/** The API's one stage. */
export const API_STAGE = 'v1';
/** The API's one resource and method: POST /invocations. */
export const API_RESOURCE = 'invocations';

/** The JSON schema of an inference request: a batch of instances, bounded. */
export const INFERENCE_REQUEST_SCHEMA: apigateway.JsonSchema = {
  schema: apigateway.JsonSchemaVersion.DRAFT4,
  title: 'InferenceRequest',
  type: apigateway.JsonSchemaType.OBJECT,
  required: ['instances'],
  additionalProperties: false,
  properties: {
    instances: { type: apigateway.JsonSchemaType.ARRAY, minItems: 1, maxItems: 100 },
    parameters: { type: apigateway.JsonSchemaType.OBJECT },
  },
};

/** One line per request, JSON, without payloads. */
const ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  requestTime: '$context.requestTime',
  httpMethod: '$context.httpMethod',
  resourcePath: '$context.resourcePath',
  status: '$context.status',
  protocol: '$context.protocol',
  responseLength: '$context.responseLength',
  latencyMs: '$context.responseLatency',
  integrationLatencyMs: '$context.integrationLatency',
  sourceIp: '$context.identity.sourceIp',
  caller: '$context.identity.userArn',
  vpceId: '$context.identity.vpceId',
  wafStatus: '$context.waf.status',
  wafError: '$context.waf.error',
  errorMessage: '$context.error.message',
};

export interface PrivateInferenceApiProps {
  readonly apiName: string;
  /** The segment whose execute-api endpoint is the API's only way in. */
  readonly segment: string;
  readonly endpoint: ec2.IVpcEndpoint;
  /** The function behind POST /invocations. */
  readonly backend: lambda.IFunction;
  /** How long the integration waits for the backend. */
  readonly backendTimeout: Duration;
  /** Stage throttling, and the usage plan's. */
  readonly throttle: { readonly rateLimit: number; readonly burstLimit: number };
  readonly quota: { readonly limit: number; readonly period: apigateway.Period };
  /** Where the stage writes its JSON access log (one line per request, no payloads). */
  readonly accessLogs: logs.ILogGroup;
  /** The consuming applications: each gets an API key bound to the usage plan, so that the plan's quota counts per application. */
  readonly callers?: readonly string[];
}

/**
 * A private REST API with one method, POST /invocations: reachable only through the segment's
 * execute-api endpoint (the endpoint configuration and a resource policy that denies every other
 * path), IAM authorization, the body validated against a JSON schema, stage throttling and a
 * usage plan whose quota counts per caller (an API key each, required on top of IAM), tracing,
 * error-only execution logs without bodies, JSON access logs. The REST API is
 * the construct's default child, so that the logical ids are those the deployed stack has. API
 * Gateway names its execution log group after the API (`executionLogGroupName`): the stack makes
 * it beforehand, where its key is.
 */
export class PrivateInferenceApi extends Construct {
  readonly restApi: apigateway.RestApi;
  readonly method: apigateway.Method;
  /** Each caller's API key, by caller name. */
  readonly apiKeys = new Map<string, apigateway.IApiKey>();

  constructor(scope: Construct, id: string, props: PrivateInferenceApiProps) {
    super(scope, id);
    this.restApi = new apigateway.RestApi(this, 'Default', {
      restApiName: props.apiName,
      description: `Private inference API of segment ${props.segment}: POST /${API_RESOURCE}`,
      endpointConfiguration: { types: [apigateway.EndpointType.PRIVATE], vpcEndpoints: [props.endpoint] },
      policy: new iam.PolicyDocument({
        statements: [
          // Callers of this account, with IAM permission for the method (the caller roles).
          new iam.PolicyStatement({
            sid: 'ThisAccountsCallersWithPermission',
            principals: [new iam.AccountRootPrincipal()],
            actions: ['execute-api:Invoke'],
            resources: ['execute-api:/*'],
          }),
          new iam.PolicyStatement({
            sid: 'OnlyThroughTheSegmentsEndpoint',
            effect: iam.Effect.DENY,
            principals: [new iam.AnyPrincipal()],
            actions: ['execute-api:Invoke'],
            resources: ['execute-api:/*'],
            conditions: { StringNotEquals: { 'aws:SourceVpce': props.endpoint.vpcEndpointId } },
          }),
        ],
      }),
      cloudWatchRole: false,
      disableExecuteApiEndpoint: false,
      deployOptions: {
        stageName: API_STAGE,
        tracingEnabled: true,
        metricsEnabled: true,
        throttlingRateLimit: props.throttle.rateLimit,
        throttlingBurstLimit: props.throttle.burstLimit,
        // Errors only, and never request or response bodies (they may carry patient data).
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        accessLogDestination: new apigateway.LogGroupLogDestination(props.accessLogs),
        accessLogFormat: apigateway.AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
      },
    });
    const model = this.restApi.addModel('InferenceRequest', {
      contentType: 'application/json',
      modelName: 'InferenceRequest',
      schema: INFERENCE_REQUEST_SCHEMA,
    });
    const validator = this.restApi.addRequestValidator('ValidateBody', {
      requestValidatorName: 'body',
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    this.method = this.restApi.root.addResource(API_RESOURCE).addMethod(
      'POST',
      new apigateway.LambdaIntegration(props.backend, {
        timeout: props.backendTimeout,
        // No console test invocations: every call comes through the endpoint, signed.
        allowTestInvoke: false,
      }),
      {
        authorizationType: apigateway.AuthorizationType.IAM,
        // On top of IAM: the key names the application, so that the usage plan's quota is its own.
        apiKeyRequired: true,
        requestValidator: validator,
        requestModels: { 'application/json': model },
      },
    );
    const usagePlan = this.restApi.addUsagePlan('UsagePlan', {
      name: `${props.apiName}-plan`,
      description: 'Stage limits of the inference API',
      throttle: { rateLimit: props.throttle.rateLimit, burstLimit: props.throttle.burstLimit },
      quota: { limit: props.quota.limit, period: props.quota.period },
    });
    usagePlan.addApiStage({ stage: this.restApi.deploymentStage });
    for (const caller of props.callers ?? []) {
      // API Gateway makes the key's value: it is never in the template.
      const key = new apigateway.ApiKey(this, `Key-${caller}`, {
        apiKeyName: `${props.apiName}-${caller}`,
        description: `API key of application ${caller}: its quota of the inference API's usage plan`,
        enabled: true,
      });
      usagePlan.addApiKey(key);
      this.apiKeys.set(caller, key);
    }
    this.acknowledgeFindings();
  }

  /** The log group API Gateway writes the stage's execution logs to. */
  get executionLogGroupName(): string {
    return `API-Gateway-Execution-Logs_${this.restApi.restApiId}/${API_STAGE}`;
  }

  /** The ARN a caller's policy names to invoke `method` on `path` of the stage. */
  invokeArn(method: string, path: string): string {
    return Stack.of(this).formatArn({
      service: 'execute-api',
      resource: this.restApi.restApiId,
      resourceName: `${API_STAGE}/${method}/${path}`,
    });
  }

  private acknowledgeFindings(): void {
    const method = this.method;
    const stage = this.restApi.deploymentStage;
    acknowledge(
      stage,
      ...(['HIPAA.Security', 'NIST.800.53.R5'] as const).map((pack) => ({
        pack,
        rule: 'APIGWCacheEnabledAndEncrypted',
        reason:
          'Inference responses are not cached: each is computed for its request and may carry patient-derived results, which a cache would keep outside the audit trail.',
      })),
      ...(['HIPAA.Security', 'NIST.800.53.R5'] as const).map((pack) => ({
        pack,
        rule: 'APIGWSSLEnabled',
        reason:
          'The integration is a Lambda function invoked through the AWS API, not an HTTP backend: there is no backend connection for a client certificate to authenticate.',
      })),
    );
    acknowledge(method, {
      pack: 'AwsSolutions',
      rule: 'COG4',
      reason:
        'Callers are applications with AWS identities: every method uses IAM authorization (SigV4), limited to the caller roles by their policies and to the segment endpoint by the resource policy.',
    });
    for (const permission of method.node.findAll().filter((c) => c instanceof lambda.CfnPermission)) {
      acknowledge(permission, {
        pack: 'cdk-validator-cfnguard',
        rule: 'lambda_function_public_access_prohibited_check',
        reason:
          "The permission admits API Gateway only for this API's POST /invocations (SourceArn); the rule reads only literal or same-template ARNs, " +
          'and the Control Tower hook, which sees the resolved SourceArn at deploy time, passes.',
      });
    }
  }
}
