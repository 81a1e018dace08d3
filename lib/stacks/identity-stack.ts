import { ArnFormat, Stack, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { DATA_ZONES, type DataZone } from '../contract/classification';
import type { BlueprintConfig, SegmentConfig } from '../config/schema';
import { BlueprintRole, type RoleTrust } from '../identity/blueprint-role';
import {
  AUDITOR_ROLE,
  BREAK_GLASS_ROLE,
  DATA_SCIENTIST_ROLE,
  INFERENCE_API_ROLE,
  INGESTION_ROLE,
  ML_ENGINEER_ROLE,
  PLATFORM_ADMIN_ROLE,
  PIPELINE_OPERATOR_ROLE,
  PSEUDONYMIZATION_ROLE,
  SAGEMAKER_ROLE,
} from '../identity/actors';
import { pseudonymizationFunctionName, roleArn, roleName } from '../names';
import { SEGMENT_KIND_PROFILES, type SageMakerProfile } from '../segment-kinds';
import type { DataZone as DataZoneConstruct } from '../constructs/data-zone';
import type { ProtectedKey } from '../constructs/protected-key';
import type { SegmentVpc } from '../constructs/segment-vpc';
import type { PseudonymizationState } from './data-stack';

export interface IdentityStackProps extends StackProps {
  readonly config: BlueprintConfig;
  /** The data zones the roles are granted. */
  readonly zones: Readonly<Record<DataZone, DataZoneConstruct>>;
  /** Each SageMaker segment's key, by segment name. */
  readonly segmentKeys: ReadonlyMap<string, ProtectedKey>;
  /** The pseudonymization stage's HMAC key and dead-letter queue, when there is a stage. */
  readonly stage?: PseudonymizationState;
  /** Each segment's VPC, by segment name: SageMaker work is pinned to its workload subnets. */
  readonly vpcs: ReadonlyMap<string, SegmentVpc>;
  /** What the auditor reads: the audit bucket, its key, and every log group of the audit stack. */
  readonly audit: {
    readonly bucket: s3.IBucket;
    readonly key: kms.IKey;
    readonly logGroups: readonly logs.ILogGroup[];
    readonly trailArn: string;
    /** The log group of each function of the blueprint, by function name (none where it is not built). */
    readonly functionLogs: (functionName: string) => logs.ILogGroup | undefined;
  };
}

/**
 * The roles of the blueprint. Human roles (platform admin, data scientist, ML engineer, auditor,
 * break-glass when enabled) trust the configured principals only with MFA, for one hour at most.
 * Service roles (ingestion, pseudonymization, each segment's SageMaker execution role, the
 * inference API backend) trust their service, bound to this account. Each role's permissions are a
 * managed policy granting named actions on named resources; the roles that create SageMaker work
 * may do so only inside the right segment, network-isolated, with encrypted traffic and the
 * segment's key. Every role has the blueprint's permission boundary (applied app-wide).
 */
export class IdentityStack extends Stack {
  /** Every role of the stack, by role name. */
  readonly roles = new Map<string, BlueprintRole>();
  /** The pseudonymization stage's function role. */
  readonly pseudonymizationRole: BlueprintRole;
  /** The inference API backend's role, when the config has an API segment. */
  readonly inferenceApiRole?: BlueprintRole;
  private readonly config: BlueprintConfig;
  private readonly zones: IdentityStackProps['zones'];
  private readonly segmentKeys: IdentityStackProps['segmentKeys'];
  private readonly stage?: PseudonymizationState;
  private readonly vpcs: IdentityStackProps['vpcs'];
  private readonly audit: IdentityStackProps['audit'];

  constructor(scope: Construct, id: string, props: IdentityStackProps) {
    super(scope, id, props);
    this.config = props.config;
    this.zones = props.zones;
    this.segmentKeys = props.segmentKeys;
    this.stage = props.stage;
    this.vpcs = props.vpcs;
    this.audit = props.audit;
    const { config } = props;
    const ids = config.identities;

    this.platformAdmin(ids.platformAdmins);
    this.dataScientist(ids.dataScientists);
    this.mlEngineer(ids.mlEngineers);
    this.auditor(ids.auditors, props.audit);
    if (ids.breakGlass.enabled) this.breakGlass(ids.breakGlass.principals);

    this.role(
      INGESTION_ROLE,
      'Uploads raw data into the raw zone',
      { kind: 'machines', principals: ids.ingestion },
      [...this.writeZone('raw')],
    );
    this.pseudonymizationRole = this.role(
      PSEUDONYMIZATION_ROLE,
      'Pseudonymizes raw records into the curated zone; sets aside what it cannot process',
      this.serviceTrust('lambda.amazonaws.com'),
      [
        ...this.readZone('raw'),
        ...this.writeZone('curated'),
        ...this.writeZone('quarantine'),
        ...this.pseudonymizationStage(),
        ...this.functionLogs(pseudonymizationFunctionName(config.namePrefix)),
        this.networkInterfaces(),
        this.functionNetworkAddresses(),
      ],
    );

    if (this.stage) this.pipelineOperator(ids.pipelineOperators, this.stage);

    for (const segment of config.segments) {
      // A kind without SageMaker work (pipeline: the pseudonymization function only) has no role.
      const sagemaker = SEGMENT_KIND_PROFILES[segment.kind].sagemaker;
      if (sagemaker) this.sagemakerExecution(segment, sagemaker);
      if (segment.name === config.inferenceApi.segment) {
        const name = roleName(config.namePrefix, INFERENCE_API_ROLE, segment.name);
        this.inferenceApiRole = this.role(
          INFERENCE_API_ROLE,
          `Backend of the inference API of segment ${segment.name}: invokes its SageMaker endpoint`,
          this.serviceTrust('lambda.amazonaws.com'),
          [
            new iam.PolicyStatement({
              sid: 'InvokeTheApisEndpoint',
              actions: ['sagemaker:InvokeEndpoint'],
              // SageMaker writes endpoint names into ARNs in lower case.
              resources: [this.sagemakerArn('endpoint', config.inferenceApi.endpointName!.toLowerCase())],
            }),
            ...this.functionLogs(name),
            this.networkInterfaces(),
            this.functionNetworkAddresses(),
            // The backend traces actively: Lambda refuses to create it without these.
            this.unscoped('ActiveTracing', ['xray:PutTelemetryRecords', 'xray:PutTraceSegments']),
          ],
          segment.name,
        );
      }
    }
  }

  // ---- human roles ----

  private platformAdmin(principals?: readonly string[]): void {
    const prefix = this.config.namePrefix;
    this.role(
      PLATFORM_ADMIN_ROLE,
      'Deploys the blueprint and inspects its networks',
      this.humanTrust(principals),
      [
        new iam.PolicyStatement({
          sid: 'DeployThroughTheCdkBootstrapRoles',
          actions: ['sts:AssumeRole'],
          resources: [roleArn(this, `cdk-*-role-${this.account}-${this.region}`)],
        }),
        this.readBlueprintStacks('InspectTheBlueprintsStacks'),
        new iam.PolicyStatement({
          sid: 'InspectTheSegmentFirewalls',
          actions: [
            'network-firewall:DescribeFirewall',
            'network-firewall:DescribeFirewallPolicy',
            'network-firewall:DescribeRuleGroup',
          ],
          resources: ['firewall', 'firewall-policy', 'stateful-rulegroup'].map((type) =>
            this.formatArn({ service: 'network-firewall', resource: type, resourceName: `${prefix}-*` }),
          ),
        }),
        this.unscoped('InspectTheSegmentNetworks', [
          'ec2:DescribeNetworkAcls',
          'ec2:DescribeRouteTables',
          'ec2:DescribeSecurityGroups',
          'ec2:DescribeSubnets',
          'ec2:DescribeVpcEndpoints',
          'ec2:DescribeVpcs',
        ]),
      ],
    );
  }

  private dataScientist(principals?: readonly string[]): void {
    this.role(
      DATA_SCIENTIST_ROLE,
      'Works in the development segment (SageMaker Studio) on curated data',
      this.humanTrust(principals),
      [
        new iam.PolicyStatement({
          sid: 'OpenSageMakerStudio',
          actions: ['sagemaker:CreatePresignedDomainUrl'],
          resources: [this.sagemakerArn('user-profile', '*/*')],
        }),
        ...this.readZone('curated'),
      ],
    );
  }

  private mlEngineer(principals: readonly string[] | undefined): void {
    const inference = this.config.segments.filter(
      (s) => SEGMENT_KIND_PROFILES[s.kind].sagemaker?.hostsEndpoints,
    );
    const statements: RolePart[] = [
      new iam.PolicyStatement({
        sid: 'OperateTrainingAndProcessingJobs',
        actions: [
          'sagemaker:DescribeTrainingJob',
          'sagemaker:StopTrainingJob',
          'sagemaker:DescribeProcessingJob',
          'sagemaker:StopProcessingJob',
        ],
        resources: [this.sagemakerArn('training-job', '*'), this.sagemakerArn('processing-job', '*')],
      }),
      new iam.PolicyStatement({
        sid: 'InspectEndpoints',
        actions: [
          'sagemaker:DescribeEndpoint',
          'sagemaker:DescribeEndpointConfig',
          'sagemaker:DescribeModel',
        ],
        resources: [
          this.sagemakerArn('endpoint', '*'),
          this.sagemakerArn('endpoint-config', '*'),
          this.sagemakerArn('model', '*'),
        ],
      }),
      this.unscoped('ListSageMakerWork', [
        'sagemaker:ListEndpoints',
        'sagemaker:ListProcessingJobs',
        'sagemaker:ListTrainingJobs',
      ]),
    ];
    if (inference.length > 0) {
      const nets = inference.map((s) => this.vpcOf(s.name));
      statements.push(
        new iam.PolicyStatement({
          sid: 'CreateModelsOnlyInAnInferenceSegmentIsolated',
          actions: ['sagemaker:CreateModel'],
          resources: [this.sagemakerArn('model', '*')],
          conditions: this.vpcGuardrail(nets, { isolation: true }),
        }),
        new iam.PolicyStatement({
          sid: 'CreateEndpointConfigsOnlyWithTheSegmentKey',
          actions: ['sagemaker:CreateEndpointConfig'],
          resources: [this.sagemakerArn('endpoint-config', '*')],
          conditions: {
            Null: { 'sagemaker:VolumeKmsKey': 'false' },
            StringEquals: { 'sagemaker:VolumeKmsKey': inference.map((s) => this.segmentKey(s).keyArn) },
          },
        }),
        new iam.PolicyStatement({
          sid: 'DeployEndpoints',
          actions: ['sagemaker:CreateEndpoint', 'sagemaker:UpdateEndpoint'],
          resources: [this.sagemakerArn('endpoint', '*'), this.sagemakerArn('endpoint-config', '*')],
        }),
        this.passRole(inference.map((s) => roleName(this.config.namePrefix, SAGEMAKER_ROLE, s.name))),
      );
    }
    this.role(
      ML_ENGINEER_ROLE,
      'Operates training jobs and inference endpoints',
      this.humanTrust(principals),
      statements,
    );
  }

  private auditor(principals: readonly string[] | undefined, audit: IdentityStackProps['audit']): void {
    this.role(
      AUDITOR_ROLE,
      'Reads the audit trail, logs, configuration and templates; never data',
      this.humanTrust(principals),
      [
        new iam.PolicyStatement({
          sid: 'ReadTheAuditRecords',
          actions: ['s3:GetObject', 's3:ListBucket'],
          resources: [audit.bucket.bucketArn, audit.bucket.arnForObjects('*')],
        }),
        new iam.PolicyStatement({
          sid: 'DecryptTheAuditRecords',
          actions: ['kms:Decrypt', 'kms:DescribeKey'],
          resources: [audit.key.keyArn],
        }),
        new iam.PolicyStatement({
          sid: 'ReadTheAuditLogGroups',
          actions: [
            'logs:DescribeLogStreams',
            'logs:FilterLogEvents',
            'logs:GetLogEvents',
            'logs:StartQuery',
          ],
          resources: audit.logGroups.map((g) => g.logGroupArn),
        }),
        new iam.PolicyStatement({
          sid: 'ReadTheTrailsSettings',
          actions: ['cloudtrail:GetEventSelectors', 'cloudtrail:GetTrailStatus'],
          resources: [audit.trailArn],
        }),
        this.readBlueprintStacks('ReadTheBlueprintsTemplates'),
        this.unscoped('ReadTrailsConfigAndQueries', [
          'cloudtrail:DescribeTrails',
          'cloudtrail:LookupEvents',
          'config:DescribeComplianceByConfigRule',
          'config:DescribeConfigRules',
          'config:GetComplianceDetailsByConfigRule',
          'logs:DescribeLogGroups',
          'logs:GetQueryResults',
        ]),
      ],
    );
  }

  private breakGlass(principals?: readonly string[]): void {
    this.role(
      BREAK_GLASS_ROLE,
      'Emergency access to every data zone, raw and quarantine included; each use is an incident',
      this.humanTrust(principals),
      DATA_ZONES.flatMap((zone) => this.readZone(zone)),
    );
  }

  /**
   * Reads the stage's dead letters and re-sends each event to the stage (an asynchronous invoke
   * with the message body, which is the original event), then deletes it; nothing more. The
   * messages name raw objects, whose keys may hold identifiers: a raw-zone actor.
   */
  private pipelineOperator(principals: readonly string[] | undefined, stage: PseudonymizationState): void {
    this.role(
      PIPELINE_OPERATOR_ROLE,
      "Reads the pseudonymization stage's dead letters (raw object keys) and re-sends their events to the stage",
      this.humanTrust(principals),
      [
        new iam.PolicyStatement({
          sid: 'ReadAndRemoveDeadLetters',
          actions: [
            'sqs:ChangeMessageVisibility',
            'sqs:DeleteMessage',
            'sqs:GetQueueAttributes',
            'sqs:ReceiveMessage',
          ],
          resources: [stage.deadLetters.queueArn],
        }),
        new iam.PolicyStatement({
          sid: 'DecryptDeadLetters',
          actions: ['kms:Decrypt'],
          resources: [stage.deadLetterKey.key.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `sqs.${this.region}.amazonaws.com` } },
        }),
        // The queue's URL is an output of the data stack: that stack's outputs, nothing else.
        new iam.PolicyStatement({
          sid: 'FindTheDeadLetterQueue',
          actions: ['cloudformation:DescribeStacks'],
          resources: [
            this.formatArn({
              service: 'cloudformation',
              resource: 'stack',
              resourceName: `${this.config.namePrefix}-data/*`,
            }),
          ],
        }),
        new iam.PolicyStatement({
          sid: 'ResendEventsToTheStage',
          actions: ['lambda:InvokeFunction'],
          resources: [
            this.formatArn({
              service: 'lambda',
              resource: 'function',
              resourceName: pseudonymizationFunctionName(this.config.namePrefix),
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          ],
        }),
      ],
    );
  }

  // ---- SageMaker ----

  /**
   * The execution role of a segment's SageMaker work: the segment key, the organisation's images,
   * SageMaker's logs and metrics, network interfaces; then what the kind's profile says: the zones
   * it reads and writes, and the work it may start in segments of another kind.
   */
  private sagemakerExecution(segment: SegmentConfig, profile: SageMakerProfile): void {
    const key = this.segmentKey(segment);
    const statements: RolePart[] = [
      new iam.PolicyStatement({
        sid: 'UseTheSegmentKey',
        actions: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'],
        resources: [key.keyArn],
      }),
      new iam.PolicyStatement({
        sid: 'GrantTheSegmentKeyToAwsResources',
        actions: ['kms:CreateGrant'],
        resources: [key.keyArn],
        conditions: { Bool: { 'kms:GrantIsForAWSResource': 'true' } },
      }),
      new iam.PolicyStatement({
        sid: 'PullTheOrganisationsImages',
        actions: ['ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'],
        resources: [
          this.formatArn({
            service: 'ecr',
            resource: 'repository',
            resourceName: `${this.config.namePrefix}-*`,
          }),
        ],
      }),
      new iam.PolicyStatement({
        sid: 'WriteSageMakerLogs',
        actions: [
          'logs:CreateLogGroup',
          'logs:CreateLogStream',
          'logs:DescribeLogStreams',
          'logs:PutLogEvents',
        ],
        resources: [
          this.formatArn({
            service: 'logs',
            resource: 'log-group',
            resourceName: '/aws/sagemaker/*',
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
      this.unscoped(
        'EcrLogInAndSageMakerMetrics',
        ['ecr:GetAuthorizationToken', 'cloudwatch:PutMetricData'],
        {
          StringLikeIfExists: { 'cloudwatch:namespace': '/aws/sagemaker/*' },
        },
      ),
      this.networkInterfaces(),
    ];
    for (const zone of profile.reads) statements.push(...this.readZone(zone));
    for (const { zone, prefix } of profile.writes) statements.push(...this.writeZone(zone, prefix));
    const jobSegments = profile.launches
      ? this.config.segments.filter((s) => s.kind === profile.launches!.jobs)
      : [];
    if (jobSegments.length > 0) {
      const nets = jobSegments.map((s) => this.vpcOf(s.name));
      statements.push(
        new iam.PolicyStatement({
          sid: 'CreateJobsOnlyInATrainingSegmentIsolatedAndEncrypted',
          actions: ['sagemaker:CreateTrainingJob', 'sagemaker:CreateProcessingJob'],
          resources: [this.sagemakerArn('training-job', '*'), this.sagemakerArn('processing-job', '*')],
          conditions: {
            ...this.vpcGuardrail(nets, { isolation: true, interContainerEncryption: true }),
            StringEquals: {
              'sagemaker:VolumeKmsKey': jobSegments.map((s) => this.segmentKey(s).keyArn),
              // Jobs write their output (model artifacts) to the models zone, with its key.
              'sagemaker:OutputKmsKey': this.zones.models.key.key.keyArn,
            },
          },
        }),
        new iam.PolicyStatement({
          sid: 'FollowAndTagTheJobs',
          actions: [
            'sagemaker:AddTags',
            'sagemaker:DescribeProcessingJob',
            'sagemaker:DescribeTrainingJob',
            'sagemaker:StopProcessingJob',
            'sagemaker:StopTrainingJob',
          ],
          resources: [this.sagemakerArn('training-job', '*'), this.sagemakerArn('processing-job', '*')],
        }),
        this.passRole(jobSegments.map((s) => roleName(this.config.namePrefix, SAGEMAKER_ROLE, s.name))),
      );
    }
    this.role(
      SAGEMAKER_ROLE,
      `SageMaker execution role of ${segment.kind} segment ${segment.name}`,
      this.serviceTrust('sagemaker.amazonaws.com'),
      statements,
      segment.name,
    );
  }

  /**
   * Conditions that pin SageMaker work to the workload subnets and security group of the given
   * segments, network-isolated and (for jobs) with encrypted traffic between containers. The keys
   * must be present: a request without them is refused.
   */
  private vpcGuardrail(
    vpcs: readonly SegmentVpc[],
    options: { isolation: boolean; interContainerEncryption?: boolean },
  ): Record<string, Record<string, unknown>> {
    return {
      'ForAllValues:StringEquals': {
        'sagemaker:VpcSubnets': vpcs.flatMap((v) => v.workloadSubnets.map((s) => s.subnetId)),
        'sagemaker:VpcSecurityGroupIds': vpcs.map((v) => v.workloadSecurityGroup.securityGroupId),
      },
      Null: { 'sagemaker:VpcSubnets': 'false', 'sagemaker:VpcSecurityGroupIds': 'false' },
      Bool: {
        'sagemaker:NetworkIsolation': String(options.isolation),
        ...(options.interContainerEncryption ? { 'sagemaker:InterContainerTrafficEncryption': 'true' } : {}),
      },
    };
  }

  // ---- building blocks ----

  /** Makes a role with its rights, in order: statements, and grants of the constructs that own what it reaches. */
  private role(
    role: string,
    description: string,
    trust: RoleTrust,
    parts: RolePart[],
    segment?: string,
  ): BlueprintRole {
    const created = new BlueprintRole(this, segment ? `${segment}-${role}` : role, {
      namePrefix: this.config.namePrefix,
      role,
      segment,
      description,
      trust,
    });
    for (const part of parts) {
      if (part instanceof iam.PolicyStatement) created.addToPrincipalPolicy(part);
      else part(created);
    }
    this.roles.set(created.fixedName, created);
    return created;
  }

  /** People with MFA: the configured principals, or the account's IAM principals an admin allows. */
  private humanTrust(principals?: readonly string[]): RoleTrust {
    return { kind: 'people', mfa: 'iam', principals };
  }

  /** An AWS service of this account only (confused-deputy protection). */
  private serviceTrust(service: string): RoleTrust {
    return { kind: 'service', service };
  }

  /** The zone's read grant, given when the role is made (in its place among the role's rights). */
  private readZone(zone: DataZone): RolePart[] {
    return [(role) => this.zones[zone].grantRead(role)];
  }

  /** The zone's write grant (for its objects, or only those under `prefix`). */
  private writeZone(zone: DataZone, prefix?: string): RolePart[] {
    return [(role) => this.zones[zone].grantWrite(role, prefix ? { prefix } : {})];
  }

  /** Writing the function's own log group, which exists already (the audit stack's). */
  private functionLogs(functionName: string): iam.PolicyStatement[] {
    const group = this.audit.functionLogs(functionName);
    if (!group) return [];
    return [
      new iam.PolicyStatement({
        sid: 'WriteItsFunctionsLogs',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        // The group's ARN ends in `:*`, which covers its log streams.
        resources: [group.logGroupArn],
      }),
    ];
  }

  /**
   * What the stage does besides moving objects: MAC identifiers with the HMAC key (the key never
   * leaves KMS), and send events it failed on to its encrypted dead-letter queue.
   */
  private pseudonymizationStage(): iam.PolicyStatement[] {
    const stage = this.stage;
    if (!stage) return [];
    return [
      new iam.PolicyStatement({
        sid: 'TokeniseWithTheHmacKey',
        actions: ['kms:GenerateMac'],
        resources: [stage.hmacKey.key.keyArn],
      }),
      new iam.PolicyStatement({
        sid: 'SetAsideFailedEvents',
        actions: ['sqs:SendMessage'],
        resources: [stage.deadLetters.queueArn],
      }),
      new iam.PolicyStatement({
        sid: 'EncryptDeadLetters',
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: [stage.deadLetterKey.key.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `sqs.${this.region}.amazonaws.com` } },
      }),
    ];
  }

  /** Lambda in a VPC also moves private addresses between its interfaces. */
  private functionNetworkAddresses(): iam.PolicyStatement {
    return new iam.PolicyStatement({
      sid: 'FunctionNetworkAddresses',
      actions: ['ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
      resources: [this.formatArn({ service: 'ec2', resource: 'network-interface', resourceName: '*' })],
    });
  }

  /** Network interfaces for work in a VPC: these EC2 actions cannot be scoped to a resource. */
  private networkInterfaces(): iam.PolicyStatement {
    return this.unscoped('NetworkInterfacesInTheSegment', [
      'ec2:CreateNetworkInterface',
      'ec2:CreateNetworkInterfacePermission',
      'ec2:DeleteNetworkInterface',
      'ec2:DeleteNetworkInterfacePermission',
      'ec2:DescribeDhcpOptions',
      'ec2:DescribeNetworkInterfaces',
      'ec2:DescribeSecurityGroups',
      'ec2:DescribeSubnets',
      'ec2:DescribeVpcs',
    ]);
  }

  /** Reading the blueprint's stacks and templates (never changing them). */
  private readBlueprintStacks(sid: string): iam.PolicyStatement {
    return new iam.PolicyStatement({
      sid,
      actions: [
        'cloudformation:DescribeStacks',
        'cloudformation:DescribeStackResources',
        'cloudformation:GetTemplate',
        'cloudformation:ListStackResources',
      ],
      resources: [
        this.formatArn({
          service: 'cloudformation',
          resource: 'stack',
          resourceName: `${this.config.namePrefix}-*/*`,
        }),
      ],
    });
  }

  private passRole(roleNames: string[]): iam.PolicyStatement {
    return new iam.PolicyStatement({
      sid: 'PassOnlyTheSegmentsExecutionRoles',
      actions: ['iam:PassRole'],
      resources: roleNames.map((name) => roleArn(this, name)),
      conditions: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } },
    });
  }

  /**
   * A statement on `*` for actions that have no resource to name (List, Describe, tokens). Its sid
   * starts with `Unscoped` so that the gate acknowledgement and the tests can find it.
   */
  private unscoped(
    purpose: string,
    actions: string[],
    conditions?: Record<string, Record<string, unknown>>,
  ): iam.PolicyStatement {
    return new iam.PolicyStatement({ sid: `Unscoped${purpose}`, actions, resources: ['*'], conditions });
  }

  private sagemakerArn(resource: string, name: string): string {
    return this.formatArn({ service: 'sagemaker', resource, resourceName: name });
  }

  private segmentKey(segment: SegmentConfig): kms.IKey {
    const key = this.segmentKeys.get(segment.name);
    if (!key) throw new Error(`no segment key for segment ${segment.name}`);
    return key.key;
  }

  private vpcOf(segment: string): SegmentVpc {
    const vpc = this.vpcs.get(segment);
    if (!vpc) throw new Error(`no VPC for segment ${segment}`);
    return vpc;
  }
}

/** A right of a role: a statement, or a grant by the construct that owns what it reaches. */
type RolePart = iam.PolicyStatement | ((role: BlueprintRole) => void);
