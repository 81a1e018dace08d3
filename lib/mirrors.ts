/**
 * The package mirrors inside the blueprint: a CodeArtifact domain whose repositories fetch from
 * the public registries, and ECR pull-through caches of public image registries. Segments reach
 * them through VPC endpoints only; nothing in a segment talks to a public registry.
 */

/** A CodeArtifact repository of the domain, with the public registry it fetches from. */
export interface PackageRepository {
  /** The repository's name in the domain. */
  readonly name: string;
  /** CodeArtifact's name for the public registry (one external connection per repository). */
  readonly externalConnection: string;
  /** The client `aws codeartifact login --tool` configures. */
  readonly tool: 'pip' | 'npm';
  /** CodeArtifact's package format, as package group patterns name it. */
  readonly format: 'pypi' | 'npm';
  /** Whether the client downloads package files from S3 (npm) or through CodeArtifact itself (pip). */
  readonly assetsFromS3: boolean;
}

export const PACKAGE_REPOSITORIES: readonly PackageRepository[] = [
  { name: 'pypi', externalConnection: 'public:pypi', tool: 'pip', format: 'pypi', assetsFromS3: false },
  { name: 'npm', externalConnection: 'public:npmjs', tool: 'npm', format: 'npm', assetsFromS3: true },
];

/** A public image registry that needs no credentials, cached in the account's ECR on first pull. */
export interface ImageCache {
  /** The last part of the cache's repository prefix (`${prefix}/${name}/...`). */
  readonly name: string;
  /** ECR's name for the upstream registry. */
  readonly upstreamRegistry: string;
  readonly upstreamUrl: string;
}

export const IMAGE_CACHES: readonly ImageCache[] = [
  { name: 'ecr-public', upstreamRegistry: 'ecr-public', upstreamUrl: 'public.ecr.aws' },
  { name: 'quay', upstreamRegistry: 'quay', upstreamUrl: 'quay.io' },
  { name: 'k8s', upstreamRegistry: 'k8s', upstreamUrl: 'registry.k8s.io' },
];

/** ECR limits a pull-through cache rule's repository prefix to 30 characters. */
export const MAX_CACHE_PREFIX = 30;

/**
 * The repository prefix of an image cache. With a name prefix longer than the rule allows, the
 * cache names are cut to their first letters (`ecr-public` to `ep`), so every prefix fits.
 */
export function imageCachePrefix(namePrefix: string, cache: ImageCache): string {
  const full = `${namePrefix}/${cache.name}`;
  if (full.length <= MAX_CACHE_PREFIX) return full;
  return `${namePrefix}/${cache.name
    .split('-')
    .map((part) => part[0])
    .join('')}`;
}

/** The CodeArtifact domain of the blueprint: unique per account and region. */
export function packageDomainName(namePrefix: string): string {
  return `${namePrefix}-packages`;
}

/**
 * The AWS-owned bucket CodeArtifact serves package files from in each region (the account in its
 * name differs per region), as the CodeArtifact user guide lists them ("Create the Amazon S3
 * gateway endpoint"). A segment's S3 endpoint must admit it, or npm installs fail; pip downloads
 * through CodeArtifact and needs no S3. `aws codeartifact describe-domain` prints a deployed
 * domain's bucket (`s3BucketArn`); a region missing here is refused by config validation for a
 * segment with the CodeArtifact endpoints: adding one is a reviewed change, since the endpoints
 * admit the bucket.
 */
export const CODEARTIFACT_ASSET_BUCKETS: Readonly<Record<string, string>> = {
  'us-east-1': 'assets-193858265520-us-east-1',
  'us-east-2': 'assets-250872398865-us-east-2',
  'us-west-2': 'assets-787052242323-us-west-2',
  'eu-west-1': 'assets-438097961670-eu-west-1',
  'eu-west-2': 'assets-247805302724-eu-west-2',
  'eu-west-3': 'assets-762466490029-eu-west-3',
  'eu-north-1': 'assets-611884512288-eu-north-1',
  'eu-south-1': 'assets-484130244270-eu-south-1',
  'eu-central-1': 'assets-769407342218-eu-central-1',
  'ap-northeast-1': 'assets-660291247815-ap-northeast-1',
  'ap-southeast-1': 'assets-421485864821-ap-southeast-1',
  'ap-southeast-2': 'assets-860415559748-ap-southeast-2',
  'ap-south-1': 'assets-681137435769-ap-south-1',
};
