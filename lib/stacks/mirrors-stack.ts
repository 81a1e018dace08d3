import { Stack, type StackProps } from 'aws-cdk-lib';
import * as codeartifact from 'aws-cdk-lib/aws-codeartifact';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { classify } from '../classification';
import { ProtectedKey } from '../constructs/protected-key';
import { DATA_CLASSIFICATION_TAG } from '../contract/classification';
import { BLUEPRINT_TAG } from '../contract/tags';
import { IMAGE_CACHE_ROLE } from '../identity/actors';
import { BlueprintRole } from '../identity/blueprint-role';
import { imageCacheRepositories } from '../identity/statements';
import { IMAGE_CACHES, imageCachePrefix, PACKAGE_REPOSITORIES, packageDomainName } from '../mirrors';
import { removalPolicyFor } from '../retention';

/** Untagged images of a cache expire after this many days; tagged ones stay until re-pulled. */
export const UNTAGGED_IMAGE_DAYS = 14;

export interface MirrorsStackProps extends StackProps {
  readonly namePrefix: string;
}

/**
 * The package mirrors segments install from instead of the internet: a CodeArtifact domain,
 * encrypted with a key of its own, whose PyPI and npm repositories fetch from the public
 * registries, and ECR pull-through caches of the public image registries that need no
 * credentials, whose repositories a creation template gives the same key, the blueprint's tags
 * and the `public` classification. What they hold came from public registries: `public` data,
 * retained all the same (a package a notebook pinned may since have left its registry).
 */
export class MirrorsStack extends Stack {
  readonly key: ProtectedKey;
  readonly domain: codeartifact.CfnDomain;
  readonly repositories = new Map<string, codeartifact.CfnRepository>();
  readonly imageCacheRole: BlueprintRole;

  constructor(scope: Construct, id: string, props: MirrorsStackProps) {
    super(scope, id, props);
    this.key = new ProtectedKey(this, 'MirrorsKey', {
      description: 'Package mirrors: the CodeArtifact domain and the ECR pull-through cache repositories',
      classification: 'public',
    });

    const domainName = packageDomainName(props.namePrefix);
    this.domain = new codeartifact.CfnDomain(this, 'PackageDomain', {
      domainName,
      encryptionKey: this.key.key.keyArn,
    });
    this.domain.applyRemovalPolicy(removalPolicyFor(domainName));
    classify(this.domain, 'public');
    for (const repository of PACKAGE_REPOSITORIES) {
      const cfn = new codeartifact.CfnRepository(this, `Repository-${repository.name}`, {
        domainName: this.domain.attrName,
        repositoryName: repository.name,
        description: `Packages of ${repository.externalConnection}, fetched on first request and kept (read only for the segments)`,
        externalConnections: [repository.externalConnection],
      });
      cfn.applyRemovalPolicy(removalPolicyFor(repository.name));
      classify(cfn, 'public');
      this.repositories.set(repository.name, cfn);
      // Nobody publishes into the mirrors, whatever their IAM rights: what a notebook installs
      // under a public name comes from the public registry, not from an insider.
      new codeartifact.CfnPackageGroup(this, `NoPublishing-${repository.name}`, {
        domainName: this.domain.attrName,
        pattern: `/${repository.format}/*`,
        description: `Every ${repository.format} package: fetched from ${repository.externalConnection}, never published here`,
        originConfiguration: { restrictions: { publish: { restrictionMode: 'BLOCK' } } },
      });
    }

    const cacheRepositories = imageCacheRepositories(this, props.namePrefix);
    this.imageCacheRole = new BlueprintRole(this, 'ImageCacheRole', {
      namePrefix: props.namePrefix,
      role: IMAGE_CACHE_ROLE,
      description:
        "Assumed by ECR to create the pull-through caches' repositories with the mirrors key and the blueprint's tags",
      trust: { kind: 'service', service: 'ecr.amazonaws.com', sourceAccount: 'when-given' },
      statements: [
        new iam.PolicyStatement({
          sid: 'CreateCacheRepositories',
          actions: ['ecr:CreateRepository', 'ecr:ReplicateImage', 'ecr:TagResource'],
          resources: cacheRepositories,
        }),
        new iam.PolicyStatement({
          sid: 'DescribeTheMirrorsKey',
          actions: ['kms:DescribeKey', 'kms:RetireGrant'],
          resources: [this.key.key.keyArn],
        }),
        new iam.PolicyStatement({
          sid: 'GrantTheMirrorsKeyToEcr',
          actions: ['kms:CreateGrant'],
          resources: [this.key.key.keyArn],
          conditions: { Bool: { 'kms:GrantIsForAWSResource': 'true' } },
        }),
      ],
    });

    for (const cache of IMAGE_CACHES) {
      const prefix = imageCachePrefix(props.namePrefix, cache);
      const rule = new ecr.CfnPullThroughCacheRule(this, `ImageCache-${cache.name}`, {
        ecrRepositoryPrefix: prefix,
        upstreamRegistry: cache.upstreamRegistry,
        upstreamRegistryUrl: cache.upstreamUrl,
      });
      const template = new ecr.CfnRepositoryCreationTemplate(this, `ImageCacheTemplate-${cache.name}`, {
        prefix,
        appliedFor: ['PULL_THROUGH_CACHE'],
        description: `Repositories of the ${cache.upstreamUrl} cache: mirrors key, blueprint tags, public data`,
        encryptionConfiguration: { encryptionType: 'KMS', kmsKey: this.key.key.keyArn },
        // A cache refreshes its tags from the upstream registry, so tags must stay mutable.
        imageTagMutability: 'MUTABLE',
        lifecyclePolicy: JSON.stringify({
          rules: [
            {
              rulePriority: 1,
              description: `Untagged images expire after ${UNTAGGED_IMAGE_DAYS} days`,
              selection: {
                tagStatus: 'untagged',
                countType: 'sinceImagePushed',
                countUnit: 'days',
                countNumber: UNTAGGED_IMAGE_DAYS,
              },
              action: { type: 'expire' },
            },
          ],
        }),
        resourceTags: [
          { key: DATA_CLASSIFICATION_TAG, value: 'public' },
          { key: BLUEPRINT_TAG, value: props.namePrefix },
        ],
        customRoleArn: this.imageCacheRole.roleArn,
      });
      // The template first: a pull that comes between the two would make an unencrypted repository.
      rule.addResourceDependency(template);
      template.node.addDependency(this.imageCacheRole.permissions);
    }
  }
}
