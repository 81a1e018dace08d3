import { RegionInfo } from 'aws-cdk-lib/region-info';
import { z } from 'zod';
import { defaultText, name } from './fields';
import type { CrossFieldRule, Issue } from './rules';

const ACCOUNT = /^\d{12}$/;
const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$/;
const AVAILABILITY_ZONE = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}[a-z]$/;
const ORGANIZATION = /^o-[a-z0-9]{10,32}$/;

/** The regions aws-cdk-lib's region information knows. */
const KNOWN_REGIONS = new Set(RegionInfo.regions.map((r) => r.name));

// Shape

const environment = z
  .strictObject({
    account: z
      .string()
      .regex(ACCOUNT, 'expected a 12-digit AWS account id')
      .optional()
      .describe(
        '12-digit AWS account id; when set, `region`, `availabilityZones` and `dnsFirewall.managedDomainListIds` are required (synth never looks them up).',
      )
      .register(defaultText, { text: 'none (environment-agnostic)' }),
    region: z
      .string()
      .regex(REGION, 'expected an AWS region name such as eu-west-1')
      .optional()
      .describe('The AWS region, e.g. `eu-west-1`; required with `account`.'),
    availabilityZones: z
      .array(z.string())
      .optional()
      .describe(
        'Availability zone names of `region`, no duplicates, at least as many as the largest `segments[].azCount`; required with `account`: synth never looks them up.',
      )
      .register(defaultText, {
        text: 'none: the first `azCount` zones of the region, chosen at deploy time (`Fn::GetAZs`)',
      }),
    acceptUnknownRegion: z
      .boolean()
      .default(false)
      .describe(
        "Accept a `region` that aws-cdk-lib's region list does not know yet (one newer than the library); without it an unknown region (a typo such as `us-east-9`) is refused.",
      ),
  })
  .describe(
    'Where the blueprint deploys. Without an account the templates are environment-agnostic; with one, synth still makes no look-ups, so the region, zones and managed DNS lists are given here.',
  );

export const environmentFields = {
  namePrefix: name('a name prefix', 20)
    .default('aiseg')
    .describe(
      'Prefix of every stack name, so several blueprints can share an account; lower-case letters, digits and single hyphens, at most 20 characters.',
    ),
  environment: environment.default(() => environment.parse({})),
  organizationId: z
    .string()
    .regex(ORGANIZATION, 'expected an AWS Organizations id such as o-a1b2c3d4e5')
    .optional()
    .describe(
      "The AWS Organizations id (`o-…`); endpoint policies then admit the organisation's principals and resources instead of this account's.",
    )
    .register(defaultText, {
      text: "none: endpoint policies admit this account's principals and resources only",
    }),
};

export type RawEnvironment = z.output<typeof environment>;

// Cross-field rules

type WithEnvironment = { readonly environment: RawEnvironment };

export const knownRegion: CrossFieldRule<WithEnvironment> = {
  requires: [
    '`environment.region` is a region aws-cdk-lib knows, unless `environment.acceptUnknownRegion` is set.',
  ],
  check: ({ environment: env }) =>
    env.region && !env.acceptUnknownRegion && !KNOWN_REGIONS.has(env.region)
      ? [
          {
            path: ['environment', 'region'],
            value: env.region,
            message:
              'not a region aws-cdk-lib knows; expected one such as eu-west-1 (set environment.acceptUnknownRegion for a region newer than the library)',
          },
        ]
      : [],
};

export const regionWithAccount: CrossFieldRule<WithEnvironment> = {
  requires: ['`environment.region` is set when `environment.account` is.'],
  check: ({ environment: env }) =>
    env.account && !env.region
      ? [{ path: ['environment', 'region'], message: 'required when environment.account is set' }]
      : [],
};

export const zonesWithAccount: CrossFieldRule<WithEnvironment> = {
  requires: ['`environment.availabilityZones` is set when `environment.account` is.'],
  check: ({ environment: env }) =>
    env.account && !env.availabilityZones
      ? [
          {
            path: ['environment', 'availabilityZones'],
            message:
              'required when environment.account is set (synth makes no look-ups); expected zone names such as eu-west-1a',
          },
        ]
      : [],
};

export const zoneNames: CrossFieldRule<WithEnvironment> = {
  requires: ['Each of `environment.availabilityZones` is a zone of `environment.region`, listed once.'],
  check: ({ environment: env }) => {
    const seen = new Set<string>();
    return (env.availabilityZones ?? []).flatMap((zone, i) => {
      const issues: Issue[] = [];
      if (!AVAILABILITY_ZONE.test(zone) || (env.region && zone.slice(0, -1) !== env.region)) {
        issues.push({
          path: ['environment', 'availabilityZones', i],
          message: `expected an availability zone name of region ${env.region ?? '<region>'} such as ${env.region ?? 'eu-west-1'}a`,
        });
      }
      if (seen.has(zone)) {
        issues.push({
          path: ['environment', 'availabilityZones', i],
          message: 'duplicate availability zone',
        });
      }
      seen.add(zone);
      return issues;
    });
  },
};
