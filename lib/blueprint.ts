import { isAbsolute, relative } from 'node:path';
import { AspectPriority, Aspects, Tags, type App, type Environment } from 'aws-cdk-lib';
import { ClassificationCheck } from './aspects/classification-check';
import { StatefulRetentionCheck } from './aspects/stateful-retention-check';
import type { BlueprintConfig } from './config/schema';
import { AuditStack } from './stacks/audit-stack';
import { NetworkStack } from './stacks/network-stack';
import { PermissionBoundaryAspect } from './identity/boundary';
import { CodeSigningAspect } from './constructs/code-signing';
import {
  airlockFunctionName,
  airlockLogBucketName,
  boundaryPolicyName,
  dataBucketName,
  pseudonymizationFunctionName,
  pseudonymizationStagingBucketName,
  roleArn,
  roleName,
} from './names';
import { AIRLOCK_EXPORT_ZONE, AIRLOCK_IMPORT_ZONE, DATA_ZONES } from './contract/classification';
import { AirlockStack } from './stacks/airlock-stack';
import { INFERENCE_API_ROLE, SAGEMAKER_ROLE } from './identity/actors';
import { InferenceApiStack } from './stacks/inference-api-stack';
import { MirrorsStack } from './stacks/mirrors-stack';
import { PipelineStack } from './stacks/pipeline-stack';
import { DataStack } from './stacks/data-stack';
import { IdentityStack } from './stacks/identity-stack';
import { WorkloadStack } from './stacks/workload-stack';
import { ACCEPTED_RISKS_METADATA_KEY, CONFIG_SOURCE_METADATA_KEY } from './contract/metadata';
import { SEGMENT_KIND_PROFILES, sageMakerKinds } from './segment-kinds';
import { BLUEPRINT_TAG } from './contract/tags';

export interface Blueprint {
  readonly audit: AuditStack;
  /** The package mirrors: CodeArtifact and the ECR pull-through caches. */
  readonly mirrors: MirrorsStack;
  /** One network stack per configured segment, by segment name. */
  readonly networks: ReadonlyMap<string, NetworkStack>;
  readonly data: DataStack;
  readonly identity: IdentityStack;
  /** One workload stack per development segment (its SageMaker Studio domain), by segment name. */
  readonly workloads: ReadonlyMap<string, WorkloadStack>;
  /** The pseudonymization stage, when there is a pipeline segment for it to run in. */
  readonly pipeline?: PipelineStack;
  /** The private inference API, when there is an inference segment. */
  readonly inferenceApi?: InferenceApiStack;
  /** The airlock's scanning, workflow and desk, when the config has an airlock. */
  readonly airlock?: AirlockStack;
}

/**
 * The log groups SageMaker creates on first use for the work the blueprint's segments run: jobs
 * (from development, in training segments), Studio (development), the inference API's endpoint.
 */
function sageMakerLogGroupNames(config: BlueprintConfig): string[] {
  const kinds = new Set(config.segments.map((s) => s.kind));
  return [
    ...sageMakerKinds().flatMap(([kind, profile]) => (kinds.has(kind) ? profile.logGroups : [])),
    ...(config.inferenceApi.endpointName !== undefined && config.inferenceApi.segment !== undefined
      ? [`/aws/sagemaker/Endpoints/${config.inferenceApi.endpointName}`]
      : []),
  ];
}

/** Builds every stack of the blueprint from a validated configuration. */
export function buildBlueprint(app: App, config: BlueprintConfig): Blueprint {
  const env: Environment = { account: config.environment.account, region: config.environment.region };
  const prefix = config.namePrefix;
  const stageSegment = config.pseudonymization.segment;
  const stageFunction = pseudonymizationFunctionName(prefix);
  const apiSegment = config.inferenceApi.segment;
  const apiName = `${prefix}-inference-api`;
  const apiBackend = apiSegment !== undefined ? roleName(prefix, INFERENCE_API_ROLE, apiSegment) : undefined;

  const audit = new AuditStack(app, 'Audit', {
    stackName: `${prefix}-audit`,
    description:
      'AI segmentation blueprint: audit key, Object-Lock audit bucket, CloudTrail, alerts, network logs',
    env,
    audit: config.audit,
    namePrefix: prefix,
    detectiveServices: config.detectiveServices,
    untrustedArtifacts: config.codeSigning.untrustedArtifacts,
    dataBucketNames: [
      ...DATA_ZONES.map((zone) => dataBucketName(prefix, zone)),
      ...(stageSegment !== undefined ? [pseudonymizationStagingBucketName(prefix)] : []),
      ...(config.airlock ? [dataBucketName(prefix, AIRLOCK_IMPORT_ZONE), airlockLogBucketName(prefix)] : []),
      ...(config.airlock?.export ? [dataBucketName(prefix, AIRLOCK_EXPORT_ZONE)] : []),
    ],
    boundaryPolicyName: boundaryPolicyName(prefix),
    segmentNames: config.segments.map((s) => s.name),
    functionNames: [
      ...(stageSegment !== undefined ? [stageFunction] : []),
      ...(apiBackend !== undefined ? [apiBackend] : []),
      ...(config.airlock ? [airlockFunctionName(prefix, 'desk'), airlockFunctionName(prefix, 'worker')] : []),
      ...(config.airlock?.export ? [airlockFunctionName(prefix, 'exporter')] : []),
    ],
    airlockWorkflow: config.airlock !== undefined,
    pseudonymizationWorkflow: stageSegment !== undefined,
    ...(apiSegment !== undefined ? { inferenceApiName: apiName } : {}),
    sageMakerLogGroupNames: config.audit.sageMakerLogGroups ? sageMakerLogGroupNames(config) : [],
  });

  const mirrors = new MirrorsStack(app, 'Mirrors', {
    stackName: `${prefix}-mirrors`,
    description:
      'AI segmentation blueprint: package mirrors (CodeArtifact PyPI and npm, ECR pull-through caches) that segments reach through endpoints',
    env,
    namePrefix: prefix,
  });
  // Its role has the permission boundary, which the audit stack makes.
  mirrors.addStackDependency(audit);

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
      protect: config.networkProtection,
    });
    networks.set(segment.name, network);
  }

  /** A segment's network stack; every configured segment has one. */
  const networkOf = (segment: string): NetworkStack => {
    const network = networks.get(segment);
    if (!network) throw new Error(`no network stack for segment ${segment}`);
    return network;
  };

  const data = new DataStack(app, 'Data', {
    stackName: `${prefix}-data`,
    description:
      'AI segmentation blueprint: data zones, their keys and data-perimeter policies, segment keys',
    env,
    config,
    accessLogBucket: audit.accessLogBucket,
    s3EndpointIds: new Map([...networks].map(([name, n]) => [name, n.endpoints.s3.vpcEndpointId])),
  });

  const identity = new IdentityStack(app, 'Identity', {
    stackName: `${prefix}-identity`,
    description: 'AI segmentation blueprint: human and service roles, SageMaker guardrails',
    env,
    config,
    zones: data.zones,
    segmentKeys: data.segmentKeys,
    ...(data.pseudonymization ? { stage: data.pseudonymization } : {}),
    ...(data.airlock ? { airlock: data.airlock } : {}),
    vpcs: new Map([...networks].map(([name, network]) => [name, network.segmentVpc])),
    audit: {
      bucket: audit.auditBucket,
      key: audit.auditKey.key,
      logGroups: audit.logGroups,
      trailArn: audit.trail.trail.trailArn,
      functionLogs: (name) => audit.functionLogGroupIfAny(name),
    },
  });

  /** A SageMaker segment's key (the data stack makes one per segment of a kind with SageMaker work). */
  const segmentKeyOf = (segment: string) => {
    const key = data.segmentKeys.get(segment);
    if (!key) throw new Error(`no segment key for segment ${segment}`);
    return key.key;
  };

  const workloads = new Map<string, WorkloadStack>();
  for (const segment of config.segments.filter((s) => SEGMENT_KIND_PROFILES[s.kind].sagemaker?.studio)) {
    const workload = new WorkloadStack(app, `Workload-${segment.name}`, {
      stackName: `${prefix}-workload-${segment.name}`,
      description: `AI segmentation blueprint: ${segment.kind} segment "${segment.name}" SageMaker Studio`,
      env,
      namePrefix: prefix,
      segment,
      network: networkOf(segment.name),
      segmentKey: segmentKeyOf(segment.name),
      executionRoleArn: roleArn(data, roleName(prefix, SAGEMAKER_ROLE, segment.name)),
      packages: SEGMENT_KIND_PROFILES[segment.kind].sagemaker?.packages === true,
      studioUsers: config.identities.studioUsers,
    });
    // The execution role is named, not referenced: it must exist before the domain. The lifecycle
    // configuration logs in to the mirrors' domain, also named.
    workload.addStackDependency(identity);
    workload.addStackDependency(mirrors);
    workloads.set(segment.name, workload);
  }

  const pipeline =
    stageSegment === undefined || data.pseudonymization === undefined
      ? undefined
      : new PipelineStack(app, 'Pipeline', {
          stackName: `${prefix}-pipeline`,
          description: `AI segmentation blueprint: the pseudonymization stage, in segment "${stageSegment}"`,
          env,
          namePrefix: prefix,
          functionName: stageFunction,
          pseudonymization: config.pseudonymization,
          zones: data.zones,
          state: data.pseudonymization,
          vpc: networkOf(stageSegment).segmentVpc,
          role: identity.pseudonymizationRole,
          logGroup: audit.functionLogs(stageFunction),
          workflowRole: identity.pseudonymizationWorkflowRole!,
          workflowLogGroup: audit.pseudonymizationWorkflowLogs!,
          alertTopic: audit.alerts.topic,
        });

  const inferenceApi =
    apiSegment === undefined || apiBackend === undefined || identity.inferenceApiRole === undefined
      ? undefined
      : new InferenceApiStack(app, 'InferenceApi', {
          stackName: apiName,
          description: `AI segmentation blueprint: the private inference API of segment "${apiSegment}"`,
          env,
          namePrefix: prefix,
          apiName,
          api: config.inferenceApi,
          network: networkOf(apiSegment),
          models: data.zones.models,
          segmentKey: segmentKeyOf(apiSegment),
          backendRole: identity.inferenceApiRole,
          logs: {
            access: audit.apiLogs!.access,
            waf: audit.apiLogs!.waf,
            backend: audit.functionLogs(apiBackend),
          },
          alertTopic: audit.alerts.topic,
          auditKey: audit.auditKey.key,
          logRetentionYears: config.audit.logRetentionYears,
        });

  const airlock =
    config.airlock === undefined ||
    data.airlock === undefined ||
    identity.airlockRoles === undefined ||
    audit.airlockWorkflowLogs === undefined
      ? undefined
      : new AirlockStack(app, 'Airlock', {
          stackName: `${prefix}-airlock`,
          description:
            "AI segmentation blueprint: the airlock's malware scanning, import and export workflows, and desk",
          env,
          namePrefix: prefix,
          airlock: config.airlock,
          state: data.airlock,
          zones: data.zones,
          roles: identity.airlockRoles,
          logs: {
            desk: audit.functionLogs(airlockFunctionName(prefix, 'desk')),
            worker: audit.functionLogs(airlockFunctionName(prefix, 'worker')),
            ...(config.airlock.export
              ? { exporter: audit.functionLogs(airlockFunctionName(prefix, 'exporter')) }
              : {}),
            workflow: audit.airlockWorkflowLogs,
          },
          alertTopic: audit.alerts.topic,
        });

  // Studio user profiles and lifecycle configurations take their tags at creation only (the
  // workload stack sets them): a tag added to them later would replace a resource of fixed name.
  Tags.of(app).add(BLUEPRINT_TAG, prefix, {
    excludeResourceTypes: ['AWS::SageMaker::UserProfile', 'AWS::SageMaker::StudioLifecycleConfig'],
  });
  Aspects.of(app).add(new PermissionBoundaryAspect(audit.boundary, boundaryPolicyName(prefix)), {
    priority: AspectPriority.MUTATING,
  });
  Aspects.of(app).add(new CodeSigningAspect(audit.codeSigning), { priority: AspectPriority.MUTATING });
  Aspects.of(app).add(new StatefulRetentionCheck());
  // After the tag aspects have run, so that the tags are there to be read.
  Aspects.of(app).add(new ClassificationCheck(), { priority: AspectPriority.READONLY });
  // The accepted risks go into the audit stack's metadata for the verifier's posture diff; the
  // blueprint builds nothing from them.
  if (config.acceptedRisks.length > 0) {
    audit.templateOptions.metadata = {
      ...audit.templateOptions.metadata,
      [ACCEPTED_RISKS_METADATA_KEY]: config.acceptedRisks,
    };
  }

  return {
    audit,
    mirrors,
    networks,
    data,
    identity,
    workloads,
    ...(pipeline ? { pipeline } : {}),
    ...(inferenceApi ? { inferenceApi } : {}),
    ...(airlock ? { airlock } : {}),
  };
}

/**
 * Records in the audit stack's template the config the app was built from, for the verifier's
 * provenance: a file relative to `cwd` (so that the templates do not depend on the machine), or
 * `built-in defaults`.
 */
export function recordConfigSource(blueprint: Blueprint, source: string, cwd = process.cwd()): void {
  const { audit } = blueprint;
  audit.templateOptions.metadata = {
    ...audit.templateOptions.metadata,
    [CONFIG_SOURCE_METADATA_KEY]: isAbsolute(source) ? relative(cwd, source) : source,
  };
}
