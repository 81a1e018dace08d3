import { Stack, type StackProps } from 'aws-cdk-lib';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { DATA_ZONES, type DataZone } from '../contract/classification';
import type { BlueprintConfig, SegmentConfig } from '../config/schema';
import type { BlueprintRole, PeopleTrust } from '../identity/blueprint-role';
import {
  AUDITOR_ROLE,
  BREAK_GLASS_ROLE,
  LEGAL_HOLD_ROLE,
  DATA_SCIENTIST_ROLE,
  INFERENCE_API_ROLE,
  INGESTION_ROLE,
  ML_ENGINEER_ROLE,
  PLATFORM_ADMIN_ROLE,
  PIPELINE_OPERATOR_ROLE,
  PSEUDONYMIZATION_ROLE,
  PSEUDONYMIZATION_WORKFLOW_ROLE,
  SAGEMAKER_ROLE,
  exportRequesters,
} from '../identity/actors';
import {
  AuditorRole,
  BreakGlassRole,
  LegalHoldRole,
  DataScientistRole,
  MlEngineerRole,
  PipelineOperatorRole,
  PlatformAdminRole,
  type AuditRecords,
  type SageMakerSegment,
} from '../identity/human-roles';
import {
  InferenceApiBackendRole,
  IngestionRole,
  PseudonymizationRole,
  PseudonymizationWorkflowRole,
  SageMakerExecutionRole,
} from '../identity/service-roles';
import {
  airlockFunctionName,
  pseudonymizationFunctionName,
  pseudonymizationWorkflowName,
  roleName,
} from '../names';
import { SEGMENT_KIND_PROFILES } from '../segment-kinds';
import type { DataZone as DataZoneConstruct } from '../constructs/data-zone';
import type { ProtectedKey } from '../constructs/protected-key';
import type { SegmentVpc } from '../constructs/segment-vpc';
import type { AirlockState, PseudonymizationState } from './data-stack';
import {
  AirlockDeskRole,
  AirlockEventsRole,
  AirlockExporterRole,
  AirlockImporterRole,
  callTheDesk,
  AirlockReviewerRole,
  AirlockScannerRole,
  AirlockWorkerRole,
  AirlockWorkflowRole,
} from '../identity/airlock-roles';
import * as iam from 'aws-cdk-lib/aws-iam';

/** The roles the airlock stack's resources run as. */
export interface AirlockRoles {
  readonly desk: BlueprintRole;
  readonly worker: BlueprintRole;
  /** With an export: stages requested exports and sends approved ones. */
  readonly exporter?: BlueprintRole;
  readonly workflow: BlueprintRole;
  readonly scanner: BlueprintRole;
  readonly events: BlueprintRole;
}

export interface IdentityStackProps extends StackProps {
  readonly config: BlueprintConfig;
  /** The data zones the roles are granted. */
  readonly zones: Readonly<Record<DataZone, DataZoneConstruct>>;
  /** Each SageMaker segment's key, by segment name. */
  readonly segmentKeys: ReadonlyMap<string, ProtectedKey>;
  /** The pseudonymization stage's HMAC key and dead-letter queue, when there is a stage. */
  readonly stage?: PseudonymizationState;
  /** The airlock's import zone, requests, log and key, when the config has an airlock. */
  readonly airlock?: AirlockState;
  /** Each segment's VPC, by segment name: SageMaker work is pinned to its workload subnets. */
  readonly vpcs: ReadonlyMap<string, SegmentVpc>;
  /** What the auditor reads: the audit bucket, its key, and every log group of the audit stack. */
  readonly audit: AuditRecords & {
    /** The log group of each function of the blueprint, by function name (none where it is not built). */
    readonly functionLogs: (functionName: string) => logs.ILogGroup | undefined;
  };
}

/**
 * The roles of the blueprint, wired to what they reach. Human roles (platform admin, data
 * scientist, ML engineer, auditor, pipeline operator when there is a stage, break-glass when
 * enabled) trust the configured principals only with MFA, for one hour at most. Service roles
 * (ingestion, pseudonymization, each segment's SageMaker execution role, the inference API
 * backend) trust their service, bound to this account. Each role is a construct of
 * `lib/identity` that holds its own rights; every role has the blueprint's permission boundary
 * (applied app-wide).
 */
export class IdentityStack extends Stack {
  /** Every role of the stack, by role name. */
  readonly roles = new Map<string, BlueprintRole>();
  /** The pseudonymization stage's function role. */
  readonly pseudonymizationRole: BlueprintRole;
  /** The stage's range workflow's role, when there is a stage. */
  readonly pseudonymizationWorkflowRole?: BlueprintRole;
  /** The inference API backend's role, when the config has an API segment. */
  readonly inferenceApiRole?: BlueprintRole;
  /** The airlock's function and workflow roles, when the config has an airlock. */
  readonly airlockRoles?: AirlockRoles;

  constructor(scope: Construct, id: string, props: IdentityStackProps) {
    super(scope, id, props);
    const { config, zones, stage, audit } = props;
    const namePrefix = config.namePrefix;
    const ids = config.identities;
    const people = (principals: readonly string[] | undefined, field: string): PeopleTrust => ({
      kind: 'people',
      mfa: ids.mfa,
      principals,
      field,
    });
    const keep = <R extends BlueprintRole>(role: R): R => {
      this.roles.set(role.fixedName, role);
      return role;
    };
    const vpcOf = (segment: string): SegmentVpc => {
      const vpc = props.vpcs.get(segment);
      if (!vpc) throw new Error(`no VPC for segment ${segment}`);
      return vpc;
    };
    const stageSegment = config.pseudonymization.segment;
    const stageVpc = stageSegment === undefined ? undefined : vpcOf(stageSegment);
    const sageMakerSegment = (segment: SegmentConfig): SageMakerSegment => {
      const key = props.segmentKeys.get(segment.name);
      const vpc = props.vpcs.get(segment.name);
      if (!key || !vpc) throw new Error(`no segment key or VPC for segment ${segment.name}`);
      return { key: key.key, vpc, executionRoleName: roleName(namePrefix, SAGEMAKER_ROLE, segment.name) };
    };

    keep(
      new PlatformAdminRole(this, PLATFORM_ADMIN_ROLE, {
        namePrefix,
        trust: people(ids.platformAdmins, 'identities.platformAdmins'),
      }),
    );
    const dataScientist = keep(
      new DataScientistRole(this, DATA_SCIENTIST_ROLE, {
        namePrefix,
        trust: { ...people(ids.dataScientists, 'identities.dataScientists'), sourceIdentity: true },
        curated: zones.curated,
        studioSourceIps: ids.studioSourceIps,
      }),
    );
    const mlEngineer = keep(
      new MlEngineerRole(this, ML_ENGINEER_ROLE, {
        namePrefix,
        trust: people(ids.mlEngineers, 'identities.mlEngineers'),
        inference: config.segments
          .filter((s) => SEGMENT_KIND_PROFILES[s.kind].sagemaker?.hostsEndpoints)
          .map(sageMakerSegment),
      }),
    );
    const auditor = keep(
      new AuditorRole(this, AUDITOR_ROLE, {
        namePrefix,
        trust: people(ids.auditors, 'identities.auditors'),
        audit,
      }),
    );
    const airlock = props.airlock;
    if (ids.breakGlass.enabled) {
      keep(
        new BreakGlassRole(this, BREAK_GLASS_ROLE, {
          namePrefix,
          trust: people(ids.breakGlass.principals, 'identities.breakGlass.principals'),
          zones: [
            ...DATA_ZONES.map((zone) => zones[zone]),
            ...(airlock ? [airlock.importZone] : []),
            ...(airlock?.exportZone ? [airlock.exportZone] : []),
          ],
        }),
      );
    }
    keep(
      new LegalHoldRole(this, LEGAL_HOLD_ROLE, {
        namePrefix,
        trust: people(ids.legalHold, 'identities.legalHold'),
        buckets: [
          ...DATA_ZONES.map((zone) => zones[zone].bucket),
          ...(airlock ? [airlock.importZone.bucket, airlock.log] : []),
          ...(airlock?.exportZone ? [airlock.exportZone.bucket] : []),
        ],
      }),
    );
    if (airlock && config.airlock) {
      const resources = {
        namePrefix,
        importZone: airlock.importZone,
        requests: airlock.requests,
        log: airlock.log,
        key: airlock.key.key,
      };
      keep(
        new AirlockImporterRole(this, 'airlock-importer', {
          ...resources,
          trust: people(config.airlock.importers, 'airlock.importers'),
        }),
      );
      keep(
        new AirlockReviewerRole(this, 'airlock-reviewer', {
          ...resources,
          exportZone: airlock.exportZone,
          trust: people(config.airlock.reviewers, 'airlock.reviewers'),
        }),
      );
      const exp = config.airlock.export;
      const exporter =
        exp && airlock.exportZone
          ? keep(
              new AirlockExporterRole(this, 'airlock-exporter', {
                ...resources,
                sources: exp.sources.map((zone) => zones[zone]),
                exportZone: airlock.exportZone,
                destination: exp.destination,
                logGroup: audit.functionLogs(airlockFunctionName(namePrefix, 'exporter')),
              }),
            )
          : undefined;
      // Requesters of exports: the people who work on what leaves, through the desk.
      const requesters = exportRequesters(config);
      if (exporter)
        for (const requester of [dataScientist, mlEngineer].filter((r) => r.fixedName in requesters))
          for (const statement of callTheDesk(requester, namePrefix))
            requester.addToPrincipalPolicy(statement);
      this.airlockRoles = {
        ...(exporter ? { exporter } : {}),
        desk: keep(
          new AirlockDeskRole(this, 'airlock-desk', {
            ...resources,
            exports: exporter !== undefined,
            logGroup: audit.functionLogs(airlockFunctionName(namePrefix, 'desk')),
          }),
        ),
        worker: keep(
          new AirlockWorkerRole(this, 'airlock-worker', {
            ...resources,
            raw: zones.raw,
            models: zones.models,
            logGroup: audit.functionLogs(airlockFunctionName(namePrefix, 'worker')),
          }),
        ),
        workflow: keep(
          new AirlockWorkflowRole(this, 'airlock-workflow', {
            ...resources,
            exports: exporter !== undefined,
          }),
        ),
        scanner: keep(new AirlockScannerRole(this, 'airlock-scanner', resources)),
        events: keep(new AirlockEventsRole(this, 'airlock-events', { namePrefix })),
      };
      // Auditors read the decision log, as they read the trail.
      auditor.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'ReadTheAirlockDecisionLog',
          actions: ['s3:GetObject', 's3:GetObjectVersion', 's3:ListBucket'],
          resources: [airlock.log.bucketArn, airlock.log.arnForObjects('*')],
        }),
      );
      auditor.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'DecryptTheAirlockDecisionLog',
          actions: ['kms:Decrypt'],
          resources: [airlock.key.key.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `s3.${this.region}.amazonaws.com` } },
        }),
      );
    }

    keep(
      new IngestionRole(this, INGESTION_ROLE, {
        namePrefix,
        principals: ids.ingestion,
        externalId: ids.ingestionExternalId,
        raw: zones.raw,
      }),
    );
    this.pseudonymizationRole = keep(
      new PseudonymizationRole(this, PSEUDONYMIZATION_ROLE, {
        namePrefix,
        raw: zones.raw,
        curated: zones.curated,
        quarantine: zones.quarantine,
        stage: stage && {
          hmacKey: stage.hmacKey.key,
          deadLetters: stage.deadLetters,
          deadLetterKey: stage.deadLetterKey.key,
          staging: stage.staging,
          stagingKey: stage.stagingKey.key,
        },
        logGroup: audit.functionLogs(pseudonymizationFunctionName(namePrefix)),
        vpcArn: stageVpc?.vpc.vpcArn,
      }),
    );

    if (stage) {
      this.pseudonymizationWorkflowRole = keep(
        new PseudonymizationWorkflowRole(this, PSEUDONYMIZATION_WORKFLOW_ROLE, { namePrefix }),
      );
      keep(
        new PipelineOperatorRole(this, PIPELINE_OPERATOR_ROLE, {
          namePrefix,
          trust: people(ids.pipelineOperators, 'identities.pipelineOperators'),
          deadLetters: stage.deadLetters,
          deadLetterKey: stage.deadLetterKey.key,
          queueStackName: `${namePrefix}-data`,
          stageFunctionName: pseudonymizationFunctionName(namePrefix),
          workflowName: pseudonymizationWorkflowName(namePrefix),
        }),
      );
    }

    for (const segment of config.segments) {
      // A kind without SageMaker work (pipeline: the pseudonymization function only) has no role.
      const profile = SEGMENT_KIND_PROFILES[segment.kind].sagemaker;
      if (profile) {
        const launches = profile.launches;
        keep(
          new SageMakerExecutionRole(this, `${segment.name}-${SAGEMAKER_ROLE}`, {
            namePrefix,
            segmentName: segment.name,
            kind: segment.kind,
            profile,
            key: sageMakerSegment(segment).key,
            zones,
            jobSegments: launches
              ? config.segments.filter((s) => s.kind === launches.jobs).map(sageMakerSegment)
              : [],
            vpcArn: vpcOf(segment.name).vpc.vpcArn,
          }),
        );
      }
      const endpointName = config.inferenceApi.endpointName;
      if (segment.name === config.inferenceApi.segment && endpointName) {
        this.inferenceApiRole = keep(
          new InferenceApiBackendRole(this, `${segment.name}-${INFERENCE_API_ROLE}`, {
            namePrefix,
            segmentName: segment.name,
            endpointName,
            logGroup: audit.functionLogs(roleName(namePrefix, INFERENCE_API_ROLE, segment.name)),
            vpcArn: vpcOf(segment.name).vpc.vpcArn,
          }),
        );
      }
    }
  }
}
