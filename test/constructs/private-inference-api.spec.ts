import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { PrivateInferenceApi } from '../../lib/constructs/private-inference-api';
import { testApp } from '../support/synth';

const ENV = { account: '111122223333', region: 'eu-west-1' };

describe('PrivateInferenceApi', () => {
  const stack = new Stack(testApp(), 'Api', { env: ENV });
  const api = new PrivateInferenceApi(stack, 'Api', {
    apiName: 'acme-inference-api',
    segment: 'inference',
    endpoint: ec2.InterfaceVpcEndpoint.fromInterfaceVpcEndpointAttributes(stack, 'ExecuteApi', {
      vpcEndpointId: 'vpce-0123456789abcdef0',
      port: 443,
    }),
    backend: lambda.Function.fromFunctionArn(
      stack,
      'Backend',
      'arn:aws:lambda:eu-west-1:111122223333:function:acme-inference-inference-api',
    ),
    backendTimeout: Duration.seconds(12),
    throttle: { rateLimit: 50, burstLimit: 100 },
    quota: { limit: 100000, period: apigateway.Period.DAY },
    accessLogs: new logs.LogGroup(stack, 'AccessLogs'),
  });
  const t = Template.fromStack(stack);

  test("private: only through the segment endpoint, for this account's callers with permission", () => {
    const [restApi] = Object.values(t.findResources('AWS::ApiGateway::RestApi')) as {
      Properties: { EndpointConfiguration: unknown; Policy: { Statement: Record<string, unknown>[] } };
    }[];
    expect(restApi.Properties.EndpointConfiguration).toEqual({
      Types: ['PRIVATE'],
      VpcEndpointIds: ['vpce-0123456789abcdef0'],
    });
    const deny = restApi.Properties.Policy.Statement.find((s) => s.Sid === 'OnlyThroughTheSegmentsEndpoint');
    expect(deny).toMatchObject({
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Condition: { StringNotEquals: { 'aws:SourceVpce': 'vpce-0123456789abcdef0' } },
    });
  });

  test('one method, POST /invocations: IAM authorization, body validated against the schema', () => {
    t.resourceCountIs('AWS::ApiGateway::Method', 1);
    t.hasResourceProperties('AWS::ApiGateway::Method', { HttpMethod: 'POST', AuthorizationType: 'AWS_IAM' });
    t.hasResourceProperties('AWS::ApiGateway::RequestValidator', { ValidateRequestBody: true });
    t.hasResourceProperties('AWS::ApiGateway::Model', {
      Schema: { required: ['instances'], additionalProperties: false },
    });
  });

  test('the stage: throttled, traced, error-only execution logs without bodies, JSON access logs; a usage plan', () => {
    t.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'v1',
      TracingEnabled: true,
      MethodSettings: [
        {
          DataTraceEnabled: false,
          LoggingLevel: 'ERROR',
          MetricsEnabled: true,
          ThrottlingRateLimit: 50,
          ThrottlingBurstLimit: 100,
          HttpMethod: '*',
          ResourcePath: '/*',
        },
      ],
    });
    t.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      Quota: { Limit: 100000, Period: 'DAY' },
      Throttle: { RateLimit: 50, BurstLimit: 100 },
    });
  });

  test('names its execution log group and the ARN a caller invokes', () => {
    const resolve = (value: string) => JSON.stringify(stack.resolve(value));
    expect(resolve(api.executionLogGroupName)).toMatch(/API-Gateway-Execution-Logs_.*\/v1/);
    expect(resolve(api.invokeArn('POST', 'invocations'))).toContain('/v1/POST/invocations');
  });
});
