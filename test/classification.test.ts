import type { Stack } from 'aws-cdk-lib';
import { RemovalPolicy, Tags } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { STATEFUL_RESOURCE_TYPES } from '../lib/contract/stateful-types';
import { DATA_CLASSIFICATIONS } from '../lib/contract/classification';
import { defaultStackIds, readTemplateJson } from './support/default-app';
import { synthBlueprint } from './support/synth';
import type { Resource } from './support/template';

describe('every data-bearing resource of the default blueprint is classified', () => {
  const dataBearing = defaultStackIds().flatMap((stackId) =>
    Object.entries((readTemplateJson(stackId).Resources ?? {}) as Record<string, Resource>)
      .filter(([, r]) => STATEFUL_RESOURCE_TYPES.has(r.Type))
      .map(([id, r]) => ({ where: `${stackId}/${id}`, resource: r })),
  );

  test.each(['AWS::S3::Bucket', 'AWS::Logs::LogGroup', 'AWS::KMS::Key', 'AWS::SageMaker::Domain'])(
    'there are resources of type %s',
    (type) => {
      expect(dataBearing.some((d) => d.resource.Type === type)).toBe(true);
    },
  );

  test('each carries a DataClassification tag from the model', () => {
    const unclassified = dataBearing.filter(({ resource }) => {
      const tags = (resource.Properties?.Tags ?? []) as { Key: string; Value: string }[];
      const value = tags.find((t) => t.Key === 'DataClassification')?.Value;
      return !(DATA_CLASSIFICATIONS as readonly string[]).includes(value ?? '');
    });
    expect(unclassified.map((d) => d.where)).toEqual([]);
  });
});

describe('ClassificationCheck, as the blueprint registers it', () => {
  /** The blueprint with one more bucket in the data stack; its annotations. */
  function withBucket(tag?: string) {
    const { blueprint } = synthBlueprint({
      config: { segments: [{ name: 'solo', kind: 'training', vpcCidr: '10.1.0.0/16', azCount: 1 }] },
      mutate: (a) => {
        const data = a.node.findChild('Data') as Stack;
        const bucket = new s3.Bucket(data, 'Extra', { removalPolicy: RemovalPolicy.RETAIN });
        if (tag) Tags.of(bucket).add('DataClassification', tag);
      },
    });
    return Annotations.fromStack(blueprint.data);
  }

  test('fails synth on an untagged bucket', () => {
    withBucket().hasError(
      '/Data/Extra/Resource',
      'AWS::S3::Bucket holds data but its DataClassification tag is missing; expected one of phi, pii, proprietary, public (classify() in lib/classification.ts)',
    );
  });

  test('fails synth on a classification outside the model', () => {
    withBucket('secret').hasError(
      '/Data/Extra/Resource',
      Match.stringLikeRegexp('tag is "secret"; expected one of'),
    );
  });

  test('accepts a classified bucket', () => {
    withBucket('public').hasNoError('/Data/Extra/Resource', Match.anyValue());
  });
});
