import { z } from 'zod';
import { CODEARTIFACT_ASSET_BUCKETS } from '../../mirrors';
import { SEGMENT_KIND_PROFILES } from '../../segment-kinds';
import type { RawEnvironment } from './environment';
import type { RawSegment } from './segments';
import type { CrossFieldRule } from './rules';

const ASSETS_BUCKET = /^assets-\d{12}-[a-z]{2}(-[a-z]+)+-\d$/;

// Shape

const packageMirrors = z
  .strictObject({
    assetsBucket: z
      .string()
      .regex(
        ASSETS_BUCKET,
        'expected a CodeArtifact assets bucket name such as assets-438097961670-eu-west-1',
      )
      .optional()
      .describe(
        "The AWS-owned bucket CodeArtifact serves package files from in `environment.region` (`s3BucketArn` of `aws codeartifact describe-domain`, without `arn:aws:s3:::`), which the S3 endpoints of segments with the CodeArtifact endpoints admit for reads; only for a region the blueprint's list lacks, and refused for one it lists.",
      ),
  })
  .describe(
    "The package mirrors: a CodeArtifact domain (PyPI and npm repositories fetching from the public registries) and ECR pull-through caches of ECR Public, Quay and the Kubernetes registry, reached through the segments' VPC endpoints.",
  );

export const mirrorsFields = {
  packageMirrors: packageMirrors.default(() => packageMirrors.parse({})),
};

type RawMirrors = z.output<typeof packageMirrors>;

// Cross-field rules

export const assetsBucketOfRegion: CrossFieldRule<{
  readonly environment: RawEnvironment;
  readonly packageMirrors: RawMirrors;
  readonly segments: readonly RawSegment[];
}> = {
  requires: [
    "`packageMirrors.assetsBucket` is set when a segment has the `codeartifact-repositories` endpoint in a `environment.region` whose CodeArtifact assets bucket the blueprint does not list, and ends with the region's name.",
  ],
  check: ({ environment: { region }, packageMirrors: { assetsBucket }, segments }) => {
    const needed = segments.some((s) =>
      (s.interfaceEndpoints ?? SEGMENT_KIND_PROFILES[s.kind].defaultInterfaceEndpoints).includes(
        'codeartifact-repositories',
      ),
    );
    if (assetsBucket !== undefined) {
      // The bucket is admitted through the S3 endpoints: in a region the blueprint lists, only
      // AWS's own may be (an account's bucket of that name would be a way out).
      if (region !== undefined && CODEARTIFACT_ASSET_BUCKETS[region] !== undefined) {
        return [
          {
            path: ['packageMirrors', 'assetsBucket'],
            value: assetsBucket,
            message: `the blueprint knows the CodeArtifact assets bucket of ${region} (${CODEARTIFACT_ASSET_BUCKETS[region]}); expected no assetsBucket`,
          },
        ];
      }
      return region === undefined || !assetsBucket.endsWith(`-${region}`)
        ? [
            {
              path: ['packageMirrors', 'assetsBucket'],
              value: assetsBucket,
              message: `expected the bucket of environment.region (${region ?? 'not set: set environment.region first'}), whose name ends with -${region ?? 'REGION'}`,
            },
          ]
        : [];
    }
    return needed && region !== undefined && CODEARTIFACT_ASSET_BUCKETS[region] === undefined
      ? [
          {
            path: ['packageMirrors', 'assetsBucket'],
            message: `required in ${region}, whose CodeArtifact assets bucket the blueprint does not list (it lists ${Object.keys(CODEARTIFACT_ASSET_BUCKETS).join(', ')}): set it to the name in s3BucketArn of aws codeartifact describe-domain in ${region}`,
          },
        ]
      : [];
  },
};
