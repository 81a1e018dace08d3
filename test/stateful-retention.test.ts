import { CfnDeletionPolicy, type CfnResource, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { Aspects } from 'aws-cdk-lib';
import { StatefulRetentionCheck } from '../lib/aspects/stateful-retention-check';
import { STATEFUL_RESOURCE_TYPES } from '../lib/contract/stateful-types';
import { defaultStackIds, readTemplateJson } from './support/default-app';
import { testApp } from './support/synth';
import type { Resource } from './support/template';

describe('nothing stateful is lost when a stack is deleted or a resource replaced', () => {
  const resources = defaultStackIds().flatMap((stackId) =>
    Object.entries((readTemplateJson(stackId).Resources ?? {}) as Record<string, Resource>).map(
      ([logicalId, resource]) => ({ stackId, logicalId, resource }),
    ),
  );
  const stateful = resources.filter((r) => STATEFUL_RESOURCE_TYPES.has(r.resource.Type));

  test('the default blueprint has stateful resources (keys, buckets, log groups, a Studio domain, a queue, the package mirrors)', () => {
    expect(new Set(stateful.map((r) => r.resource.Type))).toEqual(
      new Set([
        'AWS::CodeArtifact::Domain',
        'AWS::CodeArtifact::Repository',
        'AWS::KMS::Key',
        'AWS::S3::Bucket',
        'AWS::Logs::LogGroup',
        'AWS::SageMaker::Domain',
        'AWS::SQS::Queue',
      ]),
    );
  });

  test('every stateful resource is retained on replacement and on deletion', () => {
    const notRetained = stateful
      .filter(
        (r) =>
          !['Retain', 'RetainExceptOnCreate'].includes(r.resource.DeletionPolicy ?? '') ||
          r.resource.UpdateReplacePolicy !== 'Retain',
      )
      .map((r) => `${r.stackId}/${r.logicalId}`);
    expect(notRetained).toEqual([]);
  });

  test('only those with a fixed name are deleted when the create that made them rolls back, so a retry can make them again', () => {
    const fixedName = (r: Resource) =>
      ['BucketName', 'LogGroupName', 'DomainName', 'QueueName', 'RepositoryName'].some(
        (p) => r.Properties?.[p] !== undefined,
      );
    const exceptOnCreate = stateful
      .filter((r) => r.resource.DeletionPolicy === 'RetainExceptOnCreate')
      .map((r) => `${r.stackId}/${r.logicalId}`);
    expect(exceptOnCreate).toEqual(
      stateful.filter((r) => fixedName(r.resource)).map((r) => `${r.stackId}/${r.logicalId}`),
    );
    // The four data zones, the stage's staging store, the WAF, API execution and four SageMaker log
    // groups, the Studio domain, the package domain and its two repositories.
    expect(exceptOnCreate).toHaveLength(15);
  });
});

describe('StatefulRetentionCheck', () => {
  function annotate(removalPolicy: RemovalPolicy) {
    const stack = new Stack(testApp(), 'S');
    new logs.LogGroup(stack, 'Group', { removalPolicy });
    Aspects.of(stack).add(new StatefulRetentionCheck());
    return Annotations.fromStack(stack);
  }

  test('flags a log group that would be deleted with its stack', () => {
    annotate(RemovalPolicy.DESTROY).hasError(
      '/S/Group/Resource',
      'AWS::Logs::LogGroup must be retained: DeletionPolicy is Delete and UpdateReplacePolicy is Delete; expected Retain (or RetainExceptOnCreate) and Retain (set removalPolicy: RemovalPolicy.RETAIN)',
    );
  });

  test('flags a log group kept on deletion but deleted on replacement', () => {
    const stack = new Stack(testApp(), 'S');
    const group = new logs.LogGroup(stack, 'Group', { removalPolicy: RemovalPolicy.RETAIN });
    (group.node.defaultChild as CfnResource).cfnOptions.updateReplacePolicy = CfnDeletionPolicy.DELETE;
    Aspects.of(stack).add(new StatefulRetentionCheck());
    Annotations.fromStack(stack).hasError(
      '/S/Group/Resource',
      Match.stringLikeRegexp('DeletionPolicy is Retain and UpdateReplacePolicy is Delete'),
    );
  });

  test('accepts a retained log group', () => {
    annotate(RemovalPolicy.RETAIN).hasNoError('*', '*');
  });

  test('accepts a log group deleted only when the create that made it rolls back', () => {
    annotate(RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE).hasNoError('*', '*');
  });
});
