import { Annotations, Aws, Stack } from 'aws-cdk-lib';
import * as accessanalyzer from 'aws-cdk-lib/aws-accessanalyzer';
import * as config from 'aws-cdk-lib/aws-config';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as guardduty from 'aws-cdk-lib/aws-guardduty';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as securityhub from 'aws-cdk-lib/aws-securityhub';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { acknowledge } from '../gate/acknowledge';

/** GuardDuty severities from this value up (medium, high, critical) reach the alert topic. */
export const GUARDDUTY_MIN_SEVERITY = 4;

/**
 * GuardDuty protections the detector turns on, as features (S3 data events, EBS malware scans,
 * runtime monitoring with the EC2 agent managed by GuardDuty, Lambda network activity).
 */
export const GUARDDUTY_FEATURES: readonly { name: string; additionalConfiguration?: readonly string[] }[] = [
  { name: 'S3_DATA_EVENTS' },
  { name: 'EBS_MALWARE_PROTECTION' },
  { name: 'RUNTIME_MONITORING', additionalConfiguration: ['EC2_AGENT_MANAGEMENT'] },
  { name: 'LAMBDA_NETWORK_LOGS' },
];

/** The Config key prefix in the audit bucket. */
export const CONFIG_PREFIX = 'config';

/**
 * AWS managed Config rules that watch the invariants on the deployed resources: encryption, public
 * access, TLS, versioning, flow logs, the trail, MFA, root, open ports, keys, SageMaker.
 */
export const MANAGED_CONFIG_RULES = [
  'S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED',
  'S3_BUCKET_PUBLIC_READ_PROHIBITED',
  'S3_BUCKET_PUBLIC_WRITE_PROHIBITED',
  'S3_BUCKET_SSL_REQUESTS_ONLY',
  'S3_BUCKET_VERSIONING_ENABLED',
  'VPC_FLOW_LOGS_ENABLED',
  'VPC_DEFAULT_SECURITY_GROUP_CLOSED',
  'INCOMING_SSH_DISABLED',
  'RESTRICTED_INCOMING_TRAFFIC',
  'CLOUD_TRAIL_ENABLED',
  'CLOUD_TRAIL_LOG_FILE_VALIDATION_ENABLED',
  'CLOUD_TRAIL_ENCRYPTION_ENABLED',
  'MULTI_REGION_CLOUD_TRAIL_ENABLED',
  'MFA_ENABLED_FOR_IAM_CONSOLE_ACCESS',
  'ROOT_ACCOUNT_MFA_ENABLED',
  'IAM_ROOT_ACCESS_KEY_CHECK',
  'IAM_POLICY_NO_STATEMENTS_WITH_ADMIN_ACCESS',
  'CMK_BACKING_KEY_ROTATION_ENABLED',
  'KMS_CMK_NOT_SCHEDULED_FOR_DELETION',
  'CLOUDWATCH_LOG_GROUP_ENCRYPTED',
  'SAGEMAKER_ENDPOINT_CONFIGURATION_KMS_KEY_CONFIGURED',
  'SAGEMAKER_NOTEBOOK_NO_DIRECT_INTERNET_ACCESS',
  'SAGEMAKER_NOTEBOOK_INSTANCE_KMS_KEY_CONFIGURED',
] as const;

export interface DetectiveServicesProps {
  readonly guardDuty: boolean;
  readonly securityHub: boolean;
  readonly awsConfig: boolean;
  readonly accessAnalyzer: boolean;
  /** Encrypted alert topic every finding is routed to. */
  readonly topic: sns.ITopic;
  /** The audit bucket and its key, which receive Config's snapshots and history. */
  readonly auditBucket: s3.IBucket;
  readonly auditKey: kms.IKey;
  readonly namePrefix: string;
}

/**
 * The account's detective services, each switchable off where a delegated administrator already
 * runs it: GuardDuty (S3 protection, malware scans, runtime and Lambda network monitoring) with
 * findings of medium severity and above routed to the alert topic; Security Hub with AWS
 * Foundational Security Best Practices and NIST 800-53 R5; an AWS Config recorder delivering to
 * the audit bucket with managed rules for the invariants, non-compliance routed to the topic; IAM
 * Access Analyzer for external and unused access, findings routed to the topic.
 */
export class DetectiveServices extends Construct {
  readonly rules: events.Rule[] = [];

  constructor(scope: Construct, id: string, props: DetectiveServicesProps) {
    super(scope, id);
    // By ARN: the topic's own policy admits this account's rules (AlertTopic), and aws-cdk-lib
    // would otherwise add unconditioned grants to the topic and its key.
    const toTopic = new targets.SnsTopic(sns.Topic.fromTopicArn(this, 'AlertTopic', props.topic.topicArn));
    const route = (ruleId: string, description: string, pattern: events.EventPattern) => {
      const rule = new events.Rule(this, ruleId, { description, eventPattern: pattern, targets: [toTopic] });
      Annotations.of(rule).acknowledgeWarning(
        '@aws-cdk/aws-events:ruleUnresolvedEnvironment',
        "The target is this stack's own alert topic, referenced by ARN; it is in the rule's account and region.",
      );
      this.rules.push(rule);
    };

    if (props.guardDuty) {
      const detector = new guardduty.CfnDetector(this, 'GuardDuty', {
        enable: true,
        findingPublishingFrequency: 'FIFTEEN_MINUTES',
        // Features only: GuardDuty refuses a detector that sets both DataSources and Features.
        features: GUARDDUTY_FEATURES.map((feature) => ({
          name: feature.name,
          status: 'ENABLED',
          ...(feature.additionalConfiguration && {
            additionalConfiguration: feature.additionalConfiguration.map((name) => ({
              name,
              status: 'ENABLED',
            })),
          }),
        })),
      });
      acknowledge(detector, {
        pack: 'cdk-validator-cfnguard',
        rule: 'guardduty_s3_protection_enabled_check',
        reason:
          'S3 protection is on, as the S3_DATA_EVENTS feature: GuardDuty refuses a detector that sets DataSources beside Features, and ' +
          'the rule reads only DataSources.S3Logs. An organisation enforcing CT.GUARDDUTY.PR.1 as a hook turns detectiveServices.guardDuty ' +
          'off and lets its delegated GuardDuty administrator enable the account (docs: Deploy).',
      });
      route('GuardDutyFindings', 'GuardDuty findings of medium severity and above', {
        source: ['aws.guardduty'],
        detailType: ['GuardDuty Finding'],
        detail: { severity: [{ numeric: ['>=', GUARDDUTY_MIN_SEVERITY] }] },
      });
    }

    if (props.securityHub) {
      const hub = new securityhub.CfnHub(this, 'SecurityHub', {
        enableDefaultStandards: false,
        autoEnableControls: true,
        controlFindingGenerator: 'SECURITY_CONTROL',
      });
      for (const [standardId, path] of [
        ['FoundationalBestPractices', 'aws-foundational-security-best-practices/v/1.0.0'],
        ['Nist80053R5', 'nist-800-53/v/5.0.0'],
      ]) {
        new securityhub.CfnStandard(this, standardId, {
          standardsArn: `arn:${Aws.PARTITION}:securityhub:${Aws.REGION}::standards/${path}`,
        }).addResourceDependency(hub);
      }
    }

    if (props.awsConfig) this.recordConfiguration(props, route);

    if (props.accessAnalyzer) {
      new accessanalyzer.CfnAnalyzer(this, 'ExternalAccess', {
        analyzerName: `${props.namePrefix}-external-access`,
        type: 'ACCOUNT',
      });
      new accessanalyzer.CfnAnalyzer(this, 'UnusedAccess', {
        analyzerName: `${props.namePrefix}-unused-access`,
        type: 'ACCOUNT_UNUSED_ACCESS',
        analyzerConfiguration: { unusedAccessConfiguration: { unusedAccessAge: 90 } },
      });
      route('AccessAnalyzerFindings', 'IAM Access Analyzer findings: external or unused access', {
        source: ['aws.access-analyzer'],
        detail: { status: ['ACTIVE'] },
      });
    }
  }

  private recordConfiguration(
    props: DetectiveServicesProps,
    route: (id: string, description: string, pattern: events.EventPattern) => void,
  ): void {
    const stack = Stack.of(this);
    const recorder = new config.CfnConfigurationRecorder(this, 'ConfigRecorder', {
      // Config's service-linked role: it must exist (aws iam create-service-linked-role --aws-service-name config.amazonaws.com).
      roleArn: stack.formatArn({
        service: 'iam',
        region: '',
        resource: 'role',
        resourceName: 'aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig',
      }),
      recordingGroup: { allSupported: true, includeGlobalResourceTypes: true },
    });
    const channel = new config.CfnDeliveryChannel(this, 'ConfigDelivery', {
      s3BucketName: props.auditBucket.bucketName,
      s3KeyPrefix: CONFIG_PREFIX,
      s3KmsKeyArn: props.auditKey.keyArn,
      configSnapshotDeliveryProperties: { deliveryFrequency: 'TwentyFour_Hours' },
    });
    const service = new iam.ServicePrincipal('config.amazonaws.com');
    const thisAccount = { StringEquals: { 'AWS:SourceAccount': stack.account } };
    props.auditBucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'ConfigChecksBucket',
        principals: [service],
        actions: ['s3:GetBucketAcl', 's3:ListBucket'],
        resources: [props.auditBucket.bucketArn],
        conditions: thisAccount,
      }),
    );
    const delivery = props.auditBucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'ConfigDeliversSnapshots',
        principals: [service],
        actions: ['s3:PutObject'],
        resources: [props.auditBucket.arnForObjects(`${CONFIG_PREFIX}/AWSLogs/${stack.account}/Config/*`)],
        conditions: {
          StringEquals: { ...thisAccount.StringEquals, 's3:x-amz-acl': 'bucket-owner-full-control' },
        },
      }),
    );
    // Config checks that it may write to the bucket when the channel is created: the policy first.
    if (delivery.policyDependable) channel.node.addDependency(delivery.policyDependable);
    for (const identifier of MANAGED_CONFIG_RULES) {
      const rule = new config.CfnConfigRule(this, `Rule-${identifier}`, {
        configRuleName: `${props.namePrefix}-${identifier.toLowerCase().replace(/_/g, '-')}`,
        source: { owner: 'AWS', sourceIdentifier: identifier },
      });
      rule.addResourceDependency(recorder);
      rule.addResourceDependency(channel);
    }
    route('ConfigNonCompliance', 'A Config rule found a resource non-compliant', {
      source: ['aws.config'],
      detailType: ['Config Rules Compliance Change'],
      detail: { newEvaluationResult: { complianceType: ['NON_COMPLIANT'] } },
    });
  }
}
