import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { DATA_CAPTURE_PREFIX } from '../segment-kinds';
import type { InferenceApiConfig } from '../config/schema';
import { acknowledge } from '../gate/acknowledge';
import { alertAlarm, type AlertAlarmProps } from '../constructs/alert-alarm';
import { ModelEndpoint } from '../constructs/model-endpoint';
import { InferenceWebAcl } from '../constructs/inference-web-acl';
import { API_RESOURCE, PrivateInferenceApi } from '../constructs/private-inference-api';
import { RetainedLogGroup } from '../constructs/retained-log-group';
import { SegmentFunction } from '../constructs/segment-function';
import { INFERENCE_CALLER_ROLE } from '../contract/tags';
import { BlueprintRole } from '../identity/blueprint-role';
import { roleName } from '../names';
import type { DataZone } from '../constructs/data-zone';
import type { NetworkStack } from './network-stack';

export interface InferenceApiStackProps extends StackProps {
  readonly namePrefix: string;
  /** The API's name; its log groups are named after it. */
  readonly apiName: string;
  readonly api: InferenceApiConfig;
  /** The inference segment's network: its VPC and its execute-api endpoint. */
  readonly network: Pick<NetworkStack, 'segmentVpc' | 'endpoints'>;
  /** Where the endpoint captures requests and responses (under data-capture/), with its key. */
  readonly models: DataZone;
  /** The inference segment's key: the endpoint's volumes. */
  readonly segmentKey: kms.IKey;
  /** The backend's role (identity stack). */
  readonly backendRole: iam.IRole;
  readonly logs: {
    readonly access: logs.ILogGroup;
    readonly waf: logs.ILogGroup;
    readonly backend: logs.ILogGroup;
  };
  readonly alertTopic: sns.ITopic;
  /** Encrypts the execution log group (the audit key, which admits CloudWatch Logs). */
  readonly auditKey: kms.IKey;
  readonly logRetentionYears: number;
}

/**
 * The inference segment's one API: API Gateway REST, private (reachable only through the
 * segment's execute-api interface endpoint), IAM authorization on every method, the request body
 * validated against a JSON schema, stage throttling and a usage plan, JSON access logs, tracing,
 * AWS WAF in front (rate limit, AWS managed common and known-bad-inputs rules, body size), a
 * backend function in the segment's workload subnets that invokes the one configured SageMaker
 * endpoint, a caller role per consuming application, alarms to the alert topic. With a model
 * configured, also the endpoint configuration (capturing requests and responses to the models
 * zone) and the endpoint.
 */
export class InferenceApiStack extends Stack {
  readonly api: PrivateInferenceApi;
  readonly restApi: apigateway.RestApi;
  readonly backend: lambda.Function;
  readonly webAcl: InferenceWebAcl;
  readonly callerRoles = new Map<string, BlueprintRole>();
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: InferenceApiStackProps) {
    super(scope, id, props);
    const { api, network } = props;
    const { segmentVpc } = network;
    const endpointName = api.endpointName!;
    const executeApi = network.endpoints.interfaces.get('execute-api');
    if (!executeApi) throw new Error(`segment ${api.segment} has no execute-api interface endpoint`);

    // ---- the backend ----
    this.backend = new SegmentFunction(this, 'Backend', {
      source: 'inference-api',
      segment: { name: api.segment!, vpc: segmentVpc },
      role: props.backendRole,
      logGroup: props.logs.backend,
      functionName: roleName(props.namePrefix, 'inference-api', api.segment),
      description: `Invokes SageMaker endpoint ${endpointName} for the inference API`,
      memorySize: 512,
      timeout: Duration.seconds(api.backendTimeoutSeconds + 1),
      reservedConcurrentExecutions: Math.min(1000, Math.max(1, api.throttle.burstLimit)),
      tracing: lambda.Tracing.ACTIVE,
      environment: { ENDPOINT_NAME: endpointName, TIMEOUT_MS: String(api.backendTimeoutSeconds * 1000) },
    }).function;
    acknowledge(
      this.backend,
      ...(['HIPAA.Security', 'NIST.800.53.R5'] as const).map((pack) => ({
        pack,
        rule: 'LambdaDLQ',
        reason:
          'API Gateway invokes the backend synchronously: a failure returns to the caller at once (and is in the access log and the 5XX alarm); there is no event to keep aside.',
      })),
    );

    // ---- the API ----
    this.api = new PrivateInferenceApi(this, 'Api', {
      apiName: props.apiName,
      segment: api.segment!,
      endpoint: executeApi,
      backend: this.backend,
      backendTimeout: Duration.seconds(api.backendTimeoutSeconds + 2),
      throttle: api.throttle,
      quota: { limit: api.quota.limit, period: apigateway.Period[api.quota.period] },
      accessLogs: props.logs.access,
      callers: api.callers.map((c) => c.name),
    });
    this.restApi = this.api.restApi;
    const stage = this.restApi.deploymentStage;
    // API Gateway writes its execution (error) logs here; made beforehand, so that it is encrypted,
    // kept for the audit period and retained, rather than created on first use with neither.
    const executionLogs = new RetainedLogGroup(this, 'ExecutionLogs', {
      logGroupName: this.api.executionLogGroupName,
      encryptionKey: props.auditKey,
      retentionYears: props.logRetentionYears,
      classification: 'proprietary',
    });
    // The stage exists only after its log group does: API Gateway would otherwise create the group
    // on its first write, and the group's own create would then fail with "already exists".
    stage.node.addDependency(executionLogs);
    acknowledge(executionLogs, {
      pack: 'cdk-validator-cfnguard',
      rule: 'cloudwatch_log_group_encrypted_check',
      reason:
        "The group is encrypted with the audit stack's key, imported from that stack (its name holds this API's id, so it cannot live there); " +
        'the rule reads only literal or same-template key ARNs, and the Control Tower hook, which sees the resolved ARN at deploy time, passes.',
    });

    // ---- AWS WAF ----
    this.webAcl = new InferenceWebAcl(this, 'WebAcl', {
      name: `${props.apiName}-acl`,
      description:
        'Rate limit, AWS managed common and known-bad-inputs rules, body size, for the inference API',
      rateLimit: api.wafRateLimit,
      maxBodyBytes: api.maxBodyBytes,
      protects: stage.stageArn,
      logGroup: props.logs.waf,
    });

    // ---- callers: one role per application, allowed this method only ----
    for (const caller of api.callers) {
      const role = new BlueprintRole(this, `Caller-${caller.name}`, {
        namePrefix: props.namePrefix,
        role: `caller-${caller.name}`,
        purpose: INFERENCE_CALLER_ROLE,
        description: `Calls the inference API for application ${caller.name}`,
        trust: {
          kind: 'machines',
          principals: caller.principals,
          field: `inferenceApi.callers[${api.callers.indexOf(caller)}].principals`,
        },
        statements: [
          new iam.PolicyStatement({
            sid: 'InvokeTheInferenceMethod',
            actions: ['execute-api:Invoke'],
            resources: [this.api.invokeArn('POST', API_RESOURCE)],
          }),
        ],
      });
      // Its own API key only, which it sends as x-api-key beside its signature.
      const key = this.api.apiKeys.get(caller.name);
      if (key) {
        role.addToPrincipalPolicy(
          new iam.PolicyStatement({
            sid: 'ReadItsOwnApiKey',
            actions: ['apigateway:GET'],
            resources: [key.keyArn],
          }),
        );
      }
      this.callerRoles.set(caller.name, role);
    }

    // ---- the model's endpoint, when a model is configured ----
    if (api.model) {
      new ModelEndpoint(this, 'Endpoint', {
        endpointName,
        model: api.model,
        volumeKey: props.segmentKey,
        capture: { bucket: props.models.bucket, prefix: DATA_CAPTURE_PREFIX, key: props.models.key.key },
      });
    }

    // ---- alarms ----
    const alarm = (
      id: string,
      description: string,
      settings: Omit<AlertAlarmProps, 'description' | 'topic'>,
    ) => this.alarms.push(alertAlarm(this, id, { ...settings, description, topic: props.alertTopic }));
    const period = Duration.minutes(5);
    alarm(
      'ClientErrorsAlarm',
      'More than 5% of inference API requests failed with 4XX (refused, invalid or throttled)',
      {
        metric: this.restApi.metricClientError({ period, statistic: 'Average' }),
        threshold: 0.05,
      },
    );
    alarm('ServerErrorsAlarm', 'More than 1% of inference API requests failed with 5XX', {
      metric: this.restApi.metricServerError({ period, statistic: 'Average' }),
      threshold: 0.01,
    });
    alarm(
      'BackendThrottledAlarm',
      'The inference backend was throttled (its concurrency limit was reached)',
      {
        metric: this.backend.metricThrottles({ period, statistic: 'Sum' }),
      },
    );
    const wafMetric = (rule: string) => this.webAcl.metricBlocked(rule, period);
    alarm(
      'WafRateLimitedAlarm',
      'AWS WAF throttled a source that exceeded the rate limit (an extraction-style burst?)',
      {
        metric: wafMetric('RateLimitPerSource'),
      },
    );
    alarm('WafBlockedAlarm', 'AWS WAF blocked requests to the inference API', {
      metric: wafMetric('ALL'),
    });
    // Model behaviour: invocation volume and latency outside the band learnt from their history.
    const sagemakerMetric = (metricName: string, statistic: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/SageMaker',
        metricName,
        dimensionsMap: { EndpointName: endpointName, VariantName: 'AllTraffic' },
        statistic,
        period,
      });
    this.anomalyAlarm(
      'InvocationsAnomalyAlarm',
      `Invocations of ${endpointName} above their usual band: a burst such as model extraction`,
      sagemakerMetric('Invocations', 'Sum'),
      cloudwatch.ComparisonOperator.GREATER_THAN_UPPER_THRESHOLD,
      props.alertTopic,
    );
    this.anomalyAlarm(
      'LatencyAnomalyAlarm',
      `Model latency of ${endpointName} outside its usual band: a change in the model's behaviour or inputs`,
      sagemakerMetric('ModelLatency', 'Average'),
      cloudwatch.ComparisonOperator.LESS_THAN_LOWER_OR_GREATER_THAN_UPPER_THRESHOLD,
      props.alertTopic,
    );
  }

  /** An alarm on a metric leaving the band CloudWatch anomaly detection learns for it (two standard deviations). */
  private anomalyAlarm(
    id: string,
    description: string,
    metric: cloudwatch.Metric,
    comparison: cloudwatch.ComparisonOperator,
    topic: sns.ITopic,
  ): void {
    const alarm = new cloudwatch.AnomalyDetectionAlarm(this, id, {
      alarmDescription: description,
      metric,
      stdDevs: 2,
      comparisonOperator: comparison,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new actions.SnsAction(topic));
    this.alarms.push(alarm);
  }
}
