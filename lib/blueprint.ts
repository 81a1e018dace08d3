import { Aspects, Tags, type App, type Environment } from 'aws-cdk-lib';
import { StatefulRetentionCheck } from './aspects/stateful-retention-check';
import type { BlueprintConfig } from './config/schema';
import { AuditStack } from './stacks/audit-stack';
import { NetworkStack } from './stacks/network-stack';
import { BLUEPRINT_TAG } from './tags';

export interface Blueprint {
  readonly audit: AuditStack;
  /** One network stack per configured segment, by segment name. */
  readonly networks: ReadonlyMap<string, NetworkStack>;
}

/** Builds every stack of the blueprint from a validated configuration. */
export function buildBlueprint(app: App, config: BlueprintConfig): Blueprint {
  const env: Environment = { account: config.environment.account, region: config.environment.region };
  const prefix = config.namePrefix;

  const audit = new AuditStack(app, 'Audit', {
    stackName: `${prefix}-audit`,
    description:
      'AI segmentation blueprint: audit key, Object-Lock audit bucket, CloudTrail, alerts, network logs',
    env,
    audit: config.audit,
    segmentNames: config.segments.map((s) => s.name),
  });

  const networks = new Map<string, NetworkStack>();
  for (const segment of config.segments) {
    const network = new NetworkStack(app, `Network-${segment.name}`, {
      stackName: `${prefix}-network-${segment.name}`,
      description: `AI segmentation blueprint: ${segment.kind} segment "${segment.name}" network`,
      env,
      segment,
      namePrefix: prefix,
      availabilityZoneNames: config.environment.availabilityZones,
      logs: audit.networkLogs(segment.name),
      auditBucket: audit.auditBucket,
      otherSegments: config.segments.filter((other) => other.name !== segment.name),
      corporateCidrs: config.corporateCidrs,
      managedDomainListIds: config.dnsFirewall.managedDomainListIds,
      organizationId: config.organizationId,
    });
    networks.set(segment.name, network);
  }

  Tags.of(app).add(BLUEPRINT_TAG, prefix);
  Aspects.of(app).add(new StatefulRetentionCheck());
  return { audit, networks };
}
