import { ArnFormat, Stack, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import type { AuditConfig, DetectiveServicesConfig } from '../config/schema';
import { AlertTopic } from '../constructs/alert-topic';
import { AuditTrail } from '../constructs/audit-trail';
import { CodeSigning, type UntrustedArtifacts } from '../constructs/code-signing';
import { ProtectedKey } from '../constructs/protected-key';
import type { DataClassification } from '../contract/classification';
import { RetainedLogGroup } from '../constructs/retained-log-group';
import {
  deploymentRoleArn,
  onlyTheDeploymentChangesTheBucket,
  SecureBucket,
} from '../constructs/secure-bucket';
import { acknowledge } from '../gate/acknowledge';
import { PermissionBoundary } from '../identity/boundary';
import {
  BREAK_GLASS_ROLE,
  IMAGE_CACHE_ROLE,
  AIRLOCK_DESK_ROLE,
  AIRLOCK_WORKFLOW_ROLE,
  PSEUDONYMIZATION_WORKFLOW_ROLE,
  PIPELINE_OPERATOR_ROLE,
  PSEUDONYMIZATION_ROLE,
} from '../identity/actors';
import { SecurityAlarms } from '../constructs/security-alarms';
import { SecurityDashboard } from '../constructs/security-dashboard';
import { DetectiveServices } from '../constructs/detective-services';
import { dataBucketName, roleName } from '../names';

/** Prefixes under which VPC flow logs and Network Firewall flow logs land in the audit bucket. */
export const FLOW_LOG_PREFIX = 'vpc-flow-logs';
export const FIREWALL_LOG_PREFIX = 'network-firewall';

/** The log groups that keep one segment's network records. */
export interface NetworkLogGroups {
  /** VPC flow logs. */
  readonly flowLogs: logs.ILogGroup;
  /** Network Firewall alert logs (drops and alerts of the IPS, managed groups and default action). */
  readonly firewallAlerts: logs.ILogGroup;
  /** Route 53 Resolver query logs, DNS Firewall blocks included. */
  readonly dnsQueries: logs.ILogGroup;
  /**
   * The deploy-time handler that strips the default security group (aws-cdk-lib's): given here,
   * so that it does not create a group of its own, unencrypted and kept forever.
   */
  readonly deployHandler: logs.ILogGroup;
}

export interface AuditStackProps extends StackProps {
  readonly audit: AuditConfig;
  /** The data zones' buckets, whose object reads and writes the trail records. */
  readonly dataBucketNames: readonly string[];
  /** Which detective services the blueprint creates. */
  readonly detectiveServices: DetectiveServicesConfig;
  /** The blueprint's name prefix, which names the roles and buckets the alarms watch. */
  readonly namePrefix: string;
  /** Name of the permission boundary every role of the blueprint gets. */
  readonly boundaryPolicyName: string;
  /** Segments whose network logs this stack keeps. */
  readonly segmentNames: readonly string[];
  /** Functions of the blueprint whose log groups this stack keeps (names generated, so a retry never collides). */
  readonly functionNames?: readonly string[];
  /** The inference API, whose access logs and AWS WAF logs this stack keeps. */
  readonly inferenceApiName?: string;
  /**
   * SageMaker's log groups to create beforehand (`/aws/sagemaker/...`), by name.
   * @default - none
   */
  readonly sageMakerLogGroupNames?: readonly string[];
  /** Keep the log group of the airlock's workflow. @default false */
  readonly airlockWorkflow?: boolean;
  /** Keep the log group of the pseudonymization stage's range workflow. @default false */
  readonly pseudonymizationWorkflow?: boolean;
  /** What Lambda does with code the blueprint's signing profile did not sign. */
  readonly untrustedArtifacts: UntrustedArtifacts;
}

/** The log groups of the inference API. */
export interface ApiLogGroups {
  /** API Gateway access logs, one JSON line per request. */
  readonly access: logs.ILogGroup;
  /** AWS WAF's log of every request it inspected (the name must start with aws-waf-logs-). */
  readonly waf: logs.ILogGroup;
}

/**
 * The log archive: the audit key, the Object-Lock audit bucket and its access-log bucket, the
 * CloudTrail trail, the alert topic, and each segment's network log groups. Everything here is
 * stateful, retained, and the stack is protected against termination.
 */
export class AuditStack extends Stack {
  readonly auditKey: ProtectedKey;
  readonly accessLogBucket: s3.IBucket;
  readonly auditBucket: s3.IBucket;
  readonly trail: AuditTrail;
  readonly alerts: AlertTopic;
  readonly boundary: PermissionBoundary;
  /** The signing profile and code-signing configuration of every function of the app. */
  readonly codeSigning: CodeSigning;
  readonly securityAlarms: SecurityAlarms;
  readonly detectiveServices: DetectiveServices;
  private readonly networkLogGroups = new Map<string, NetworkLogGroups>();
  private readonly functionLogGroups = new Map<string, logs.ILogGroup>();
  /** SageMaker's log groups, created before SageMaker would create them unencrypted. */
  readonly sageMakerLogGroups: logs.ILogGroup[] = [];
  /** Present when the blueprint has an inference API. */
  readonly apiLogs?: ApiLogGroups;
  /** The airlock workflow's execution log, when the config has an airlock. */
  readonly airlockWorkflowLogs?: logs.ILogGroup;
  /** The range workflow's execution log, when the config has a pseudonymization stage. */
  readonly pseudonymizationWorkflowLogs?: logs.ILogGroup;

  constructor(scope: Construct, id: string, props: AuditStackProps) {
    super(scope, id, { ...props, terminationProtection: true });
    const { audit } = props;

    // First, so that every role (of this stack too) can have it as its boundary.
    this.boundary = new PermissionBoundary(this, 'PermissionBoundary', {
      managedPolicyName: props.boundaryPolicyName,
      namePrefix: props.namePrefix,
      airlock: props.airlockWorkflow,
      pseudonymization: props.pseudonymizationWorkflow,
    });

    this.codeSigning = new CodeSigning(this, 'CodeSigning', {
      namePrefix: props.namePrefix,
      untrustedArtifacts: props.untrustedArtifacts,
    });

    this.auditKey = new ProtectedKey(this, 'AuditKey', {
      description: 'Encrypts the audit trail, network logs and security alerts',
      classification: 'proprietary',
    });
    this.admitLogServices();
    // The key of the trail, its logs and the alert topic: disabling it would silence every alarm.
    const deployment = deploymentRoleArn(this);
    if (deployment) this.auditKey.onlyTheDeploymentAdministers(deployment);

    const objectLock = { mode: audit.objectLockMode, years: audit.logRetentionYears };
    // S3 refuses a bucket with Object Lock as a server-access-log destination. This one is
    // tamper-evident instead: no principal but an AWS service may write or delete its objects, only
    // the deployment may change its policy, lifecycle, versioning or replication, and the trail
    // records every write (data events).
    // S3 refuses SSE-KMS on a server access log destination too: SSE-S3 here.
    const accessLogs = new SecureBucket(this, 'AccessLogBucket', { classification: 'proprietary' });
    accessLogs.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OnlyLogDeliveryWrites',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: [
          's3:PutObject',
          's3:DeleteObject',
          's3:DeleteObjectVersion',
          's3:ReplicateObject',
          's3:ReplicateDelete',
          's3:ReplicateTags',
        ],
        resources: [accessLogs.bucket.arnForObjects('*')],
        conditions: { BoolIfExists: { 'aws:PrincipalIsAWSService': 'false' } },
      }),
    );
    // Only CloudFormation, through the CDK bootstrap's execution role (this stack's synthesizer
    // names it, qualifier included), may change how the logs are kept.
    if (deployment) {
      accessLogs.bucket.addToResourcePolicy(
        onlyTheDeploymentChangesTheBucket(
          'OnlyTheDeploymentChangesHowLogsAreKept',
          accessLogs.bucket,
          deployment,
        ),
      );
    }
    const sseS3OnLogDestination =
      'S3 supports only SSE-S3 (AES-256) default encryption on a server access log destination, not SSE-KMS; the bucket holds request ' +
      'logs, no data, is private, TLS-only, and only AWS services may write to it.';
    const noSelfLogging =
      'This bucket is the server access log target; logging it to itself would loop. The trail records every write to it (data events) and every change of its settings.';
    acknowledge(
      accessLogs.bucket,
      { pack: 'cdk-validator-cfnguard', rule: 's3_bucket_logging_enabled_check', reason: noSelfLogging },
      ...(['HIPAA.Security', 'NIST.800.53.R5'] as const).map((pack) => ({
        pack,
        rule: 'S3DefaultEncryptionKMS',
        reason: sseS3OnLogDestination,
      })),
      {
        pack: 'cdk-validator-cfnguard',
        rule: 's3_bucket_default_encryption_kms_check',
        reason: sseS3OnLogDestination,
      },
      {
        pack: 'cdk-validator-cfnguard',
        rule: 's3_bucket_object_lock_enabled_check',
        reason:
          'S3 refuses a bucket with Object Lock as a server access log destination. Instead its bucket policy lets no principal but ' +
          'an AWS service write or delete objects and only the deployment change its policy, lifecycle, versioning or replication, ' +
          'and the trail records every write.',
      },
    );
    this.accessLogBucket = accessLogs.bucket;

    const auditBucket = new SecureBucket(this, 'AuditBucket', {
      encryptionKey: this.auditKey.key,
      classification: 'proprietary',
      serverAccessLogs: { bucket: accessLogs.bucket, prefix: 'audit-bucket/' },
      objectLock,
    });
    this.auditBucket = auditBucket.bucket;
    this.admitFlowLogDelivery(auditBucket.bucket);

    this.trail = new AuditTrail(this, 'AuditTrail', {
      bucket: auditBucket.bucket,
      encryptionKey: this.auditKey.key,
      retentionYears: audit.logRetentionYears,
      dataBucketNames: props.dataBucketNames,
      writeWatchedBuckets: [accessLogs.bucket],
      // Every invocation of the blueprint's functions: who re-sent a dead letter to the stage, and when.
      watchedFunctionArns: (props.functionNames ?? []).map((name) =>
        this.formatArn({
          service: 'lambda',
          resource: 'function',
          resourceName: name,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      ),
    });

    this.alerts = new AlertTopic(this, 'Alerts', {
      encryptionKey: this.auditKey.key,
      emails: audit.alertEmails,
      ...(deployment ? { deployment } : {}),
    });

    const group = (id: string, logGroupName?: string, classification: DataClassification = 'proprietary') =>
      new RetainedLogGroup(this, id, {
        logGroupName,
        encryptionKey: this.auditKey.key,
        retentionYears: audit.logRetentionYears,
        classification,
      }).logGroup;
    for (const segment of props.segmentNames) {
      this.networkLogGroups.set(segment, {
        flowLogs: group(`FlowLogs-${segment}`),
        firewallAlerts: group(`FirewallAlerts-${segment}`),
        dnsQueries: group(`DnsQueries-${segment}`),
        deployHandler: group(`DeployHandler-${segment}`),
      });
    }
    if (props.inferenceApiName) {
      this.apiLogs = {
        access: group('ApiAccessLogs'),
        waf: group('WafLogs', `aws-waf-logs-${props.inferenceApiName}`),
      };
    }
    // Execution events name the imports and who decided on them.
    if (props.airlockWorkflow) this.airlockWorkflowLogs = group('AirlockWorkflowLogs', undefined, 'phi');
    // Execution events name runs by a key's token and a version, never by the raw key.
    if (props.pseudonymizationWorkflow) {
      this.pseudonymizationWorkflowLogs = group('PseudonymizationWorkflowLogs', undefined, 'phi');
    }
    this.admitVendedLogDelivery();
    for (const name of props.functionNames ?? []) {
      // Named by CloudFormation: the function's LoggingConfig points here, and a retried first deploy
      // never meets a retained group of the same name.
      this.functionLogGroups.set(name, group(`FunctionLogs-${name}`, undefined, 'phi'));
    }
    // Training, processing and Studio logs can echo the curated (pii) records they work on.
    for (const name of props.sageMakerLogGroupNames ?? []) {
      this.sageMakerLogGroups.push(group(`SageMakerLogs${name.replace(/[^A-Za-z0-9]/g, '')}`, name, 'pii'));
    }

    this.securityAlarms = new SecurityAlarms(this, 'SecurityAlarms', {
      trailLogGroup: this.trail.logGroup.logGroup,
      segments: this.networkLogGroups,
      topic: this.alerts.topic,
      context: {
        rawBucketName: dataBucketName(props.namePrefix, 'raw'),
        pseudonymizationRole: roleName(props.namePrefix, PSEUDONYMIZATION_ROLE),
        breakGlassRole: roleName(props.namePrefix, BREAK_GLASS_ROLE),
        pipelineOperatorRole: roleName(props.namePrefix, PIPELINE_OPERATOR_ROLE),
        imageCacheRole: roleName(props.namePrefix, IMAGE_CACHE_ROLE),
        namePrefix: props.namePrefix,
        ...(props.pseudonymizationWorkflow
          ? { pseudonymizationWorkflowRole: roleName(props.namePrefix, PSEUDONYMIZATION_WORKFLOW_ROLE) }
          : {}),
        ...(props.airlockWorkflow
          ? {
              airlockWorkflowRole: roleName(props.namePrefix, AIRLOCK_WORKFLOW_ROLE),
              airlockDeskRole: roleName(props.namePrefix, AIRLOCK_DESK_ROLE),
            }
          : {}),
      },
    });

    this.detectiveServices = new DetectiveServices(this, 'DetectiveServices', {
      ...props.detectiveServices,
      topic: this.alerts.topic,
      auditBucket: this.auditBucket,
      auditKey: this.auditKey.key,
      namePrefix: props.namePrefix,
    });
    if (props.detectiveServices.awsConfig) {
      this.auditKey.allowService({
        sid: 'ConfigEncryptsSnapshots',
        principal: new iam.ServicePrincipal('config.amazonaws.com'),
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
      });
    }
    new SecurityDashboard(this, 'SecurityDashboard', {
      dashboardName: `${props.namePrefix}-security`,
      segments: [...this.networkLogGroups.keys()],
      guardDutyRuleName: this.detectiveServices.rules.find((r) => r.node.id === 'GuardDutyFindings')
        ?.ruleName,
      alarms: this.securityAlarms.alarms,
    });
  }

  /** Every log group of the stack: the trail's and each segment's network logs. */
  get logGroups(): logs.ILogGroup[] {
    return [
      this.trail.logGroup.logGroup,
      ...[...this.networkLogGroups.values()].flatMap((g) => [
        g.flowLogs,
        g.firewallAlerts,
        g.dnsQueries,
        g.deployHandler,
      ]),
      ...this.functionLogGroups.values(),
      ...this.sageMakerLogGroups,
      ...(this.apiLogs ? [this.apiLogs.access, this.apiLogs.waf] : []),
      ...(this.airlockWorkflowLogs ? [this.airlockWorkflowLogs] : []),
      ...(this.pseudonymizationWorkflowLogs ? [this.pseudonymizationWorkflowLogs] : []),
    ];
  }

  /** The log group of a function, when the blueprint builds that function. */
  functionLogGroupIfAny(name: string): logs.ILogGroup | undefined {
    return this.functionLogGroups.get(name);
  }

  /** The log group of a function of the blueprint, created before the function. */
  functionLogs(name: string): logs.ILogGroup {
    const group = this.functionLogGroups.get(name);
    if (!group) throw new Error(`AuditStack keeps no log group for function "${name}"`);
    return group;
  }

  /** The log groups that keep a segment's network records. */
  networkLogs(segment: string): NetworkLogGroups {
    const groups = this.networkLogGroups.get(segment);
    if (!groups) throw new Error(`AuditStack has no network log groups for segment "${segment}"`);
    return groups;
  }

  /**
   * Network Firewall and Resolver query logging deliver to CloudWatch Logs through the log
   * delivery service, which needs the log groups' resource policy. Written here, naming each
   * group, so that the service does not append its own account-wide policy at deploy time.
   */
  private admitVendedLogDelivery(): void {
    const groups = [
      ...[...this.networkLogGroups.values()].flatMap((g) => [g.firewallAlerts, g.dnsQueries]),
      ...(this.apiLogs ? [this.apiLogs.waf] : []),
      ...(this.airlockWorkflowLogs ? [this.airlockWorkflowLogs] : []),
      ...(this.pseudonymizationWorkflowLogs ? [this.pseudonymizationWorkflowLogs] : []),
    ];
    new logs.ResourcePolicy(this, 'NetworkLogDelivery', {
      policyStatements: [
        new iam.PolicyStatement({
          sid: 'LogDeliveryWritesNetworkLogs',
          principals: [new iam.ServicePrincipal('delivery.logs.amazonaws.com')],
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          resources: groups.map((g) => g.logGroupArn),
          conditions: this.logDeliveryConditions(),
        }),
      ],
    });
  }

  /** The log delivery service, acting for this account's log deliveries only (confused deputy). */
  private logDeliveryConditions() {
    return {
      StringEquals: { 'aws:SourceAccount': this.account },
      ArnLike: { 'aws:SourceArn': this.formatArn({ service: 'logs', resource: '*' }) },
    };
  }

  /** The services that write logs and alerts admitted to the audit key, each bound to this account. */
  private admitLogServices(): void {
    const key = this.auditKey;
    const thisAccount = { StringEquals: { 'aws:SourceAccount': this.account } };
    key.allowCloudWatchLogs();
    key.allowService({
      sid: 'CloudTrailEncryptsThisAccountsTrails',
      principal: new iam.ServicePrincipal('cloudtrail.amazonaws.com'),
      actions: ['kms:GenerateDataKey*'],
      conditions: {
        ...thisAccount,
        StringLike: {
          'kms:EncryptionContext:aws:cloudtrail:arn': this.formatArn({
            service: 'cloudtrail',
            region: '*',
            resource: 'trail/*',
          }),
        },
      },
    });
    key.allowService({
      sid: 'CloudTrailDescribesKey',
      principal: new iam.ServicePrincipal('cloudtrail.amazonaws.com'),
      actions: ['kms:DescribeKey'],
      conditions: thisAccount,
    });
    key.allowService({
      sid: 'LogDeliveryEncryptsFlowLogs',
      principal: new iam.ServicePrincipal('delivery.logs.amazonaws.com'),
      actions: ['kms:GenerateDataKey*'],
      conditions: this.logDeliveryConditions(),
    });
    key.allowService({
      sid: 'AlarmsAndEventsPublishEncryptedAlerts',
      principal: new iam.CompositePrincipal(
        new iam.ServicePrincipal('cloudwatch.amazonaws.com'),
        new iam.ServicePrincipal('events.amazonaws.com'),
      ),
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      // Bound by the context SNS encrypts with (a topic of this account and region), not by
      // aws:SourceAccount, which a service's request through SNS may not carry: an alert refused
      // by the key would be lost without a trace. The topic policy binds the source.
      conditions: {
        StringLike: {
          'kms:EncryptionContext:aws:sns:topicArn': this.formatArn({ service: 'sns', resource: '*' }),
        },
      },
    });
  }

  /** Lets log delivery write VPC and firewall flow logs under their prefixes, for this account only. */
  private admitFlowLogDelivery(bucket: s3.IBucket): void {
    const principal = new iam.ServicePrincipal('delivery.logs.amazonaws.com');
    const conditions = this.logDeliveryConditions();
    bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'FlowLogDeliveryChecksBucket',
        principals: [principal],
        actions: ['s3:GetBucketAcl', 's3:ListBucket'],
        resources: [bucket.bucketArn],
        conditions,
      }),
    );
    bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'FlowLogDeliveryWritesLogs',
        principals: [principal],
        actions: ['s3:PutObject'],
        resources: [FLOW_LOG_PREFIX, FIREWALL_LOG_PREFIX].map((prefix) =>
          bucket.arnForObjects(`${prefix}/AWSLogs/${this.account}/*`),
        ),
        conditions: {
          ...conditions,
          StringEquals: { ...conditions.StringEquals, 's3:x-amz-acl': 'bucket-owner-full-control' },
        },
      }),
    );
  }
}
