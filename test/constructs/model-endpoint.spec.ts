import { Stack, type App, type Stage } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { ModelEndpoint } from '../../lib/constructs/model-endpoint';
import { gateCheck } from '../support/gate-check';
import { testApp } from '../support/synth';

const ENV = { account: '111122223333', region: 'eu-west-1' };
const SEGMENT_KEY = 'arn:aws:kms:eu-west-1:111122223333:key/00000000-0000-0000-0000-00000000000b';
const MODELS_KEY = 'arn:aws:kms:eu-west-1:111122223333:key/00000000-0000-0000-0000-00000000000c';

function build(scope: App | Stage): Stack {
  const stack = new Stack(scope, 'Api', { env: ENV });
  new ModelEndpoint(stack, 'Endpoint', {
    endpointName: 'acme-serve-endpoint',
    model: {
      name: 'risk-v3',
      instanceType: 'ml.m5.large',
      initialInstanceCount: 2,
      captureSamplingPercentage: 25,
    },
    volumeKey: kms.Key.fromKeyArn(stack, 'SegmentKey', SEGMENT_KEY),
    capture: {
      bucket: s3.Bucket.fromBucketName(stack, 'Models', 'acme-models-111122223333-eu-west-1'),
      prefix: 'data-capture/',
      key: kms.Key.fromKeyArn(stack, 'ModelsKey', MODELS_KEY),
    },
  });
  return stack;
}

describe('ModelEndpoint', () => {
  const gate = gateCheck('model-endpoint', build);
  const stack = build(testApp());
  const t = Template.fromStack(stack);

  test('keeps the logical ids of the deployed endpoint and its configuration', () => {
    expect(Object.keys(t.findResources('AWS::SageMaker::Endpoint'))).toEqual(['Endpoint']);
    expect(Object.keys(t.findResources('AWS::SageMaker::EndpointConfig'))).toEqual(['EndpointConfig']);
  });

  test('volumes under the segment key; requests and responses captured under data-capture/ with the models key', () => {
    t.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      KmsKeyId: SEGMENT_KEY,
      ProductionVariants: [
        {
          VariantName: 'AllTraffic',
          ModelName: 'risk-v3',
          InstanceType: 'ml.m5.large',
          InitialInstanceCount: 2,
          InitialVariantWeight: 1,
        },
      ],
      DataCaptureConfig: {
        EnableCapture: true,
        InitialSamplingPercentage: 25,
        DestinationS3Uri: 's3://acme-models-111122223333-eu-west-1/data-capture/acme-serve-endpoint',
        KmsKeyId: MODELS_KEY,
        CaptureOptions: [{ CaptureMode: 'Input' }, { CaptureMode: 'Output' }],
      },
    });
  });

  test('the endpoint is kept on update and delete (a failed create is rolled back), and classified', () => {
    const [endpoint] = Object.values(t.findResources('AWS::SageMaker::Endpoint')) as {
      DeletionPolicy: string;
      UpdateReplacePolicy: string;
      Properties: { EndpointName: string; Tags: { Key: string; Value: string }[] };
    }[];
    expect(endpoint.DeletionPolicy).toBe('RetainExceptOnCreate');
    expect(endpoint.UpdateReplacePolicy).toBe('Retain');
    expect(endpoint.Properties.EndpointName).toBe('acme-serve-endpoint');
    expect(endpoint.Properties.Tags).toContainEqual({
      Key: 'DataClassification',
      Value: 'proprietary',
    });
  });

  test('passes the gate', () => {
    expect(gate.unacknowledged().filter((f) => f.includes(' at Api/Endpoint'))).toEqual([]);
  });
});
