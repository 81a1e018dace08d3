import { Template } from 'aws-cdk-lib/assertions';
import { BOUNDARY_ACTIONS } from '../../lib/identity/boundary';
import { resourceOf, target } from '../support/cross-stack';
import { defaultStackIds, defaultTemplate, exampleAppDir, readTemplateJson } from '../support/default-app';
import { actionsOf, policyOfRole, resourcesOf as statementResources, type Statement } from '../support/iam';
import { synthBlueprint } from '../support/synth';
import { only, resourcesOf, statements } from '../support/template';

const api = defaultTemplate('InferenceApi');
const ofType = (t: Template, type: string) =>
  Object.entries(resourcesOf(t)).filter(([, r]) => r.Type === type);

test('the blueprint exposes exactly one API, in its own stack', () => {
  const apis = defaultStackIds().flatMap((stack) =>
    Object.values(readTemplateJson(stack).Resources as Record<string, { Type: string }>)
      .filter(
        (r) => r.Type.startsWith('AWS::ApiGateway::RestApi') || r.Type.startsWith('AWS::ApiGatewayV2::Api'),
      )
      .map(() => stack),
  );
  expect(apis).toEqual(['InferenceApi']);
});

describe('the API is private, reachable only through the segment endpoint', () => {
  const [, restApi] = only(api, 'AWS::ApiGateway::RestApi');
  const endpointConfig = restApi.Properties?.EndpointConfiguration as {
    Types: string[];
    VpcEndpointIds: unknown[];
  };
  const policy = statements(restApi.Properties?.Policy) as unknown as Statement[];

  test('a private endpoint type, bound to the inference segment execute-api interface endpoint', () => {
    expect(endpointConfig.Types).toEqual(['PRIVATE']);
    expect(endpointConfig.VpcEndpointIds).toHaveLength(1);
    const endpoint = target(endpointConfig.VpcEndpointIds[0]);
    expect(endpoint.stack).toBe('Network-inference');
    expect(JSON.stringify(resourceOf(endpoint).Properties?.ServiceName)).toContain('.execute-api');
  });

  test('the resource policy refuses every request that does not come through that endpoint', () => {
    const deny = policy.find((s) => s.Effect === 'Deny')!;
    expect(deny.Principal).toEqual({ AWS: '*' });
    expect(actionsOf(deny)).toEqual(['execute-api:Invoke']);
    const source = deny.Condition?.StringNotEquals?.['aws:SourceVpce'];
    expect(target(source)).toEqual(target(endpointConfig.VpcEndpointIds[0]));
    // The allow admits this account's principals only, and only with IAM permission of their own.
    const allows = policy.filter((s) => s.Effect === 'Allow');
    expect(allows).toHaveLength(1);
    expect(JSON.stringify(allows[0].Principal)).toMatch(/:root"/);
  });

  test('IAM authorization, a request validator and the JSON schema on every method', () => {
    const methods = ofType(api, 'AWS::ApiGateway::Method');
    expect(methods.length).toBeGreaterThan(0);
    for (const [, m] of methods) {
      expect(m.Properties).toMatchObject({
        AuthorizationType: 'AWS_IAM',
        RequestValidatorId: expect.anything(),
        RequestModels: { 'application/json': expect.anything() },
      });
    }
    const [, validator] = only(api, 'AWS::ApiGateway::RequestValidator');
    expect(validator.Properties).toMatchObject({ ValidateRequestBody: true });
    const [, model] = only(api, 'AWS::ApiGateway::Model');
    expect(model.Properties?.Schema).toMatchObject({
      type: 'object',
      required: ['instances'],
      additionalProperties: false,
      properties: { instances: { type: 'array', minItems: 1, maxItems: 100 } },
    });
  });
});

describe('the stage', () => {
  const [, stage] = only(api, 'AWS::ApiGateway::Stage');

  test('throttled, traced, logging errors without bodies, access logs as JSON to the encrypted audit group', () => {
    expect(stage.Properties).toMatchObject({
      StageName: 'v1',
      TracingEnabled: true,
      MethodSettings: [
        {
          HttpMethod: '*',
          ResourcePath: '/*',
          ThrottlingRateLimit: 20,
          ThrottlingBurstLimit: 40,
          LoggingLevel: 'ERROR',
          DataTraceEnabled: false,
          MetricsEnabled: true,
        },
      ],
    });
    const access = stage.Properties?.AccessLogSetting as { DestinationArn: unknown; Format: string };
    const fields = JSON.parse(access.Format) as Record<string, string>;
    expect(fields).toMatchObject({ requestId: '$context.requestId', caller: '$context.identity.userArn' });
    expect(JSON.stringify(fields)).not.toMatch(/body/i);
    const group = resourceOf(
      target((access.DestinationArn as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1].at(-1)),
    );
    expect(group.Properties).not.toHaveProperty('LogGroupName');
    expect(group).toMatchObject({
      Type: 'AWS::Logs::LogGroup',
      DeletionPolicy: 'Retain',
      Properties: { KmsKeyId: expect.anything() },
    });
  });

  test('a usage plan with the same throttling and a daily quota, on the stage', () => {
    const [, plan] = only(api, 'AWS::ApiGateway::UsagePlan');
    expect(plan.Properties).toMatchObject({
      Throttle: { RateLimit: 20, BurstLimit: 40 },
      Quota: { Limit: 100000, Period: 'DAY' },
      ApiStages: [expect.objectContaining({ Stage: { Ref: expect.stringMatching(/^ApiDeploymentStage/) } })],
    });
  });
});

describe('AWS WAF', () => {
  const [aclId, acl] = only(api, 'AWS::WAFv2::WebACL');
  const rules = acl.Properties?.Rules as Record<string, unknown>[];

  test('a regional web ACL: rate limit from config, body size, AWS common and known-bad-inputs rules', () => {
    expect(acl.Properties).toMatchObject({ Scope: 'REGIONAL', DefaultAction: { Allow: {} } });
    expect(rules.find((r) => r.Name === 'RateLimitPerSource')).toMatchObject({
      Action: { Block: {} },
      Statement: { RateBasedStatement: { Limit: 1000, AggregateKeyType: 'IP' } },
    });
    expect(rules.find((r) => r.Name === 'BodySize')).toMatchObject({
      Action: { Block: {} },
      Statement: {
        SizeConstraintStatement: {
          ComparisonOperator: 'GT',
          Size: 8192,
          FieldToMatch: { Body: { OversizeHandling: 'MATCH' } },
        },
      },
    });
    const managed = rules
      .map(
        (r) =>
          (r.Statement as { ManagedRuleGroupStatement?: { Name: string; VendorName: string } })
            .ManagedRuleGroupStatement,
      )
      .filter((m) => m !== undefined);
    expect(managed.map((m) => `${m.VendorName}/${m.Name}`).sort()).toEqual([
      'AWS/AWSManagedRulesCommonRuleSet',
      'AWS/AWSManagedRulesKnownBadInputsRuleSet',
    ]);
  });

  test('associated with the stage, logging to the audit stack, credentials redacted', () => {
    const [, association] = only(api, 'AWS::WAFv2::WebACLAssociation');
    expect(association.Properties?.WebACLArn).toEqual({ 'Fn::GetAtt': [aclId, 'Arn'] });
    expect(JSON.stringify(association.Properties?.ResourceArn)).toMatch(/\/stages\/.*ApiDeploymentStage/);
    const [, logging] = only(api, 'AWS::WAFv2::LoggingConfiguration');
    const group = target((logging.Properties?.LogDestinationConfigs as unknown[])[0]);
    expect(group.stack).toBe('Audit');
    expect(resourceOf(group).Properties?.LogGroupName).toMatch(/^aws-waf-logs-/);
    expect(resourceOf(group).Properties?.KmsKeyId).toBeDefined();
    expect(JSON.stringify(logging.Properties?.RedactedFields)).toContain('authorization');
  });
});

describe('the backend', () => {
  const [fnId, fn] = only(api, 'AWS::Lambda::Function');

  test('in the inference segment workload subnets, as the backend role, with the endpoint and a time limit', () => {
    const vpc = fn.Properties?.VpcConfig as { SubnetIds: unknown[] };
    for (const subnet of vpc.SubnetIds) expect(target(subnet).stack).toBe('Network-inference');
    expect(resourceOf(target(fn.Properties?.Role)).Properties?.RoleName).toBe(
      'aiseg-inference-inference-api',
    );
    expect(fn.Properties).toMatchObject({
      Runtime: 'nodejs24.x',
      Timeout: 11,
      TracingConfig: { Mode: 'Active' },
      Environment: { Variables: { ENDPOINT_NAME: 'aiseg-inference-endpoint', TIMEOUT_MS: '10000' } },
    });
  });

  test('only API Gateway, for POST /invocations of this API, may invoke it (no test-invoke permission)', () => {
    const permissions = ofType(api, 'AWS::Lambda::Permission');
    expect(permissions).toHaveLength(1);
    const [, permission] = permissions[0];
    expect(permission.Properties).toMatchObject({
      Principal: 'apigateway.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [fnId, 'Arn'] },
    });
    const arn = JSON.stringify(permission.Properties?.SourceArn);
    expect(arn).toMatch(/\{"Ref":"ApiDeploymentStagev1[0-9A-F]+"\},"\/POST\/invocations"/);
    expect(arn).not.toContain('test-invoke-stage');
  });

  test('its role may invoke the configured endpoint and no other SageMaker resource', () => {
    const granted = policyOfRole(defaultTemplate('Identity'), 'aiseg-inference-inference-api');
    const sagemaker = granted.filter((s) => actionsOf(s).some((a) => a.startsWith('sagemaker:')));
    expect(sagemaker).toHaveLength(1);
    expect(actionsOf(sagemaker[0])).toEqual(['sagemaker:InvokeEndpoint']);
    expect(statementResources(sagemaker[0]).map((r) => JSON.stringify(r))).toEqual([
      expect.stringMatching(/:endpoint\/aiseg-inference-endpoint"/),
    ]);
  });
});

describe("what the backend's own configuration needs from its role", () => {
  test('active tracing: X-Ray segments and telemetry, in the role and within the boundary', () => {
    const granted = policyOfRole(defaultTemplate('Identity'), 'aiseg-inference-inference-api');
    const tracing = granted.find((s) => actionsOf(s).some((a) => a.startsWith('xray:')));
    expect(tracing).toMatchObject({
      Sid: 'UnscopedActiveTracing',
      Action: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'],
      Resource: '*',
    });
    const [, boundary] = only(defaultTemplate('Audit'), 'AWS::IAM::ManagedPolicy', {
      ManagedPolicyName: 'aiseg-permission-boundary',
    });
    const ceiling = actionsOf(statements(boundary.Properties?.PolicyDocument)[0] as unknown as Statement);
    expect(ceiling).toEqual(expect.arrayContaining(['xray:PutTelemetryRecords', 'xray:PutTraceSegments']));
  });
});

describe('alarms', () => {
  const alarms = ofType(api, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties!);

  test('4XX and 5XX rates, throttling, WAF blocks and rate limiting, to the alert topic', () => {
    const metrics = alarms.map((a) => `${String(a.Namespace)}/${String(a.MetricName)}`);
    expect(metrics).toEqual(
      expect.arrayContaining([
        'AWS/ApiGateway/4XXError',
        'AWS/ApiGateway/5XXError',
        'AWS/Lambda/Throttles',
        'AWS/WAFV2/BlockedRequests',
      ]),
    );
    const waf = alarms.filter((a) => a.MetricName === 'BlockedRequests');
    expect(
      waf
        .map((a) => (a.Dimensions as { Name: string; Value: string }[]).find((d) => d.Name === 'Rule')?.Value)
        .sort(),
    ).toEqual(['ALL', 'RateLimitPerSource']);
    for (const alarm of alarms)
      expect(resourceOf(target((alarm.AlarmActions as unknown[])[0])).Type).toBe('AWS::SNS::Topic');
  });

  test('anomaly detection on the endpoint invocation volume and latency', () => {
    const anomaly = alarms.filter((a) => a.ThresholdMetricId !== undefined);
    const watched = anomaly.map((a) => {
      const metrics = a.Metrics as {
        Id: string;
        Expression?: string;
        MetricStat?: { Metric: { MetricName: string; Dimensions: { Name: string; Value: string }[] } };
      }[];
      // The threshold is the band, two standard deviations wide, of the one metric the alarm watches.
      const band = metrics.find((m) => m.Id === a.ThresholdMetricId)?.Expression;
      const [watchedMetric, ...others] = metrics.filter((m) => m.MetricStat);
      expect(others).toEqual([]);
      expect(band).toBe(`ANOMALY_DETECTION_BAND(${watchedMetric.Id}, 2)`);
      expect(a.EvaluationPeriods).toBe(3);
      expect(a.DatapointsToAlarm).toBe(2);
      const metric = watchedMetric.MetricStat!.Metric;
      expect(metric.Dimensions).toContainEqual({ Name: 'EndpointName', Value: 'aiseg-inference-endpoint' });
      return `${metric.MetricName} ${String(a.ComparisonOperator)}`;
    });
    expect(watched.sort()).toEqual([
      'Invocations GreaterThanUpperThreshold',
      'ModelLatency LessThanLowerOrGreaterThanUpperThreshold',
    ]);
  });
});

describe('with callers and a model (the example configuration)', () => {
  const [t, data, identity] = ['InferenceApi', 'Data', 'Identity'].map((id) =>
    Template.fromJSON(readTemplateJson(id, exampleAppDir())),
  );

  test('one caller role per application, trusted by its principals, allowed the one method (and reading its API key) and nothing else', () => {
    const roles = ofType(t, 'AWS::IAM::Role');
    expect(roles.map(([, r]) => r.Properties?.RoleName).sort()).toEqual([
      'acme-ai-caller-clinical-dashboard',
      'acme-ai-caller-trial-matching',
    ]);
    const [, dashboard] = roles.find(
      ([, r]) => r.Properties?.RoleName === 'acme-ai-caller-clinical-dashboard',
    )!;
    expect(JSON.stringify(dashboard.Properties?.AssumeRolePolicyDocument)).toContain(
      'role/ClinicalDashboard',
    );
    for (const [, policy] of ofType(t, 'AWS::IAM::ManagedPolicy')) {
      const [statement, ...rest] = statements(policy.Properties?.PolicyDocument) as unknown as Statement[];
      // Besides the method, only its own API key (tested below).
      expect(rest.map((r) => r.Sid)).toEqual(['ReadItsOwnApiKey']);
      expect(actionsOf(statement)).toEqual(['execute-api:Invoke']);
      // The permission boundary lets the action through (it would cut it silently otherwise).
      expect(BOUNDARY_ACTIONS).toContain('execute-api:Invoke');
      const [arn] = statementResources(statement);
      expect(JSON.stringify(arn)).toMatch(/\/v1\/POST\/invocations"\]\]\}$/);
    }
  });

  test('the endpoint configuration captures requests and responses to the models zone, with its key', () => {
    const [, config] = only(t, 'AWS::SageMaker::EndpointConfig');
    const capture = config.Properties?.DataCaptureConfig as Record<string, unknown>;
    expect(capture).toMatchObject({
      EnableCapture: true,
      InitialSamplingPercentage: 100,
      CaptureOptions: [{ CaptureMode: 'Input' }, { CaptureMode: 'Output' }],
    });
    expect(JSON.stringify(capture.DestinationS3Uri)).toMatch(/Zonemodels.*data-capture\/acme-ai-risk-model/);
    expect(JSON.stringify(capture.KmsKeyId)).toMatch(/Keyproprietary/);
    expect(config.Properties?.ProductionVariants).toEqual([
      expect.objectContaining({
        ModelName: 'acme-ai-risk-model-v3',
        InstanceType: 'ml.m5.large',
        InitialInstanceCount: 2,
      }),
    ]);
    const [, endpoint] = only(t, 'AWS::SageMaker::Endpoint');
    // A fixed name: deleted only if the create that made it rolls back, so a retry can make it again.
    expect(endpoint).toMatchObject({
      DeletionPolicy: 'RetainExceptOnCreate',
      UpdateReplacePolicy: 'Retain',
      Properties: { EndpointName: 'acme-ai-risk-model' },
    });
  });

  test('the inference execution role writes captured data under data-capture/ only; the models zone refuses it elsewhere', () => {
    const [, models] = Object.entries(resourcesOf(data)).find(
      ([id, r]) =>
        r.Type === 'AWS::S3::BucketPolicy' &&
        JSON.stringify(r.Properties?.Bucket).includes('Zonemodels') &&
        id,
    )!;
    const policy = statements(models.Properties?.PolicyDocument) as unknown as Statement[];
    const fence = policy.find((s) => s.Sid === 'DenyPrefixWritersOutsideTheirPrefix')!;
    expect(fence.Effect).toBe('Deny');
    expect(JSON.stringify(fence.NotResource)).toContain('/data-capture/*');
    expect(JSON.stringify(fence.Condition?.ArnEquals)).toContain('role/acme-ai-inference-sagemaker');
    const granted = policyOfRole(identity, 'acme-ai-inference-sagemaker');
    const puts = granted.filter((x) => actionsOf(x).includes('s3:PutObject'));
    expect(puts).toHaveLength(1);
    expect(statementResources(puts[0]).map((r) => JSON.stringify(r))).toEqual([
      expect.stringMatching(/\/data-capture\/\*"\]\]\}$/),
    ]);
  });
});

describe('without an inference segment', () => {
  const { blueprint } = synthBlueprint({
    config: { segments: [{ name: 'development', kind: 'development', vpcCidr: '10.10.0.0/16', azCount: 1 }] },
  });
  test('there is no API, no backend role, no API log groups', () => {
    expect(blueprint.inferenceApi).toBeUndefined();
    expect(JSON.stringify(Template.fromStack(blueprint.identity).toJSON())).not.toContain('inference-api');
    expect(blueprint.audit.apiLogs).toBeUndefined();
  });
});

describe('each caller has an API key bound to the usage plan: the quota counts per application', () => {
  const example = Template.fromJSON(readTemplateJson('InferenceApi', exampleAppDir()));
  const keys = ofType(example, 'AWS::ApiGateway::ApiKey');
  const [planId] = only(example, 'AWS::ApiGateway::UsagePlan');

  test('every method requires an API key on top of IAM', () => {
    for (const t of [api, example]) {
      for (const [, m] of ofType(t, 'AWS::ApiGateway::Method')) {
        expect(m.Properties).toMatchObject({ AuthorizationType: 'AWS_IAM', ApiKeyRequired: true });
      }
    }
  });

  test('one key per caller, enabled, its value made by API Gateway (never in the template), bound to the plan', () => {
    expect(keys.map(([, k]) => k.Properties?.Name).sort()).toEqual([
      'acme-ai-inference-api-clinical-dashboard',
      'acme-ai-inference-api-trial-matching',
    ]);
    const bindings = ofType(example, 'AWS::ApiGateway::UsagePlanKey');
    for (const [id, key] of keys) {
      expect(key.Properties?.Enabled).toBe(true);
      expect(key.Properties?.Value).toBeUndefined();
      expect(
        bindings.filter(
          ([, b]) =>
            JSON.stringify(b.Properties) ===
            JSON.stringify({ KeyId: { Ref: id }, KeyType: 'API_KEY', UsagePlanId: { Ref: planId } }),
        ),
      ).toHaveLength(1);
    }
  });

  test("each caller role reads its own key and no other's", () => {
    for (const caller of ['clinical-dashboard', 'trial-matching']) {
      const reads = policyOfRole(example, `acme-ai-caller-${caller}`).filter((s) =>
        actionsOf(s).includes('apigateway:GET'),
      );
      expect(reads).toHaveLength(1);
      const [keyId] = keys.find(([, k]) => k.Properties?.Name === `acme-ai-inference-api-${caller}`)!;
      expect(JSON.stringify(statementResources(reads[0]))).toContain(`{"Ref":"${keyId}"}`);
      expect(JSON.stringify(statementResources(reads[0]))).not.toMatch(/apikeys\/\*/);
    }
    expect(BOUNDARY_ACTIONS).toContain('apigateway:GET');
  });
});
