import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { ZONE_CONTROLS, type ZoneActor } from '../classification';
import {
  AIRLOCK_EXPORT_ZONE,
  AIRLOCK_IMPORT_ZONE,
  DATA_CLASSIFICATIONS,
  DATA_ZONES,
  type DataClassification,
  type DataZone,
} from '../contract/classification';
import type { BlueprintConfig } from '../config/schema';
import { ProtectedKey } from '../constructs/protected-key';
import { DATA_ACTIONS, DataZone as DataZoneConstruct, zonePolicy } from '../constructs/data-zone';
import { deploymentRoleArn, SecureBucket } from '../constructs/secure-bucket';
import {
  actorRoleNames,
  AIRLOCK_DESK_ROLE,
  AIRLOCK_IMPORTER_ROLE,
  AIRLOCK_REVIEWER_ROLE,
  AIRLOCK_SCANNER_ROLE,
  AIRLOCK_EXPORTER_ROLE,
  AIRLOCK_WORKER_ROLE,
  AIRLOCK_WORKFLOW_ROLE,
  AUDITOR_ROLE,
  BREAK_GLASS_ROLE,
  LEGAL_HOLD_ROLE,
  ML_ENGINEER_ROLE,
  PIPELINE_OPERATOR_ROLE,
  PSEUDONYMIZATION_ROLE,
  SAGEMAKER_ROLE,
} from '../identity/actors';
import { SEGMENT_KIND_PROFILES } from '../segment-kinds';
import {
  airlockLogBucketName,
  airlockScanRuleName,
  dataBucketName,
  pseudonymizationRuleName,
  pseudonymizationStagingBucketName,
  roleArn,
  roleName,
} from '../names';
import {
  CLEAN_SCAN,
  IMPORTED_PREFIX,
  IMPORTER_PREFIX,
  MALWARE_SCAN_VALIDATION_KEY,
  OUTGOING_PREFIX,
  RECORD_PREFIXES,
  STATE_TAG,
  NOT_EXPORTED,
} from '../airlock';
import { classify } from '../classification';
import { acknowledge } from '../gate/acknowledge';

/** Key operations on data that the key policies allow the named roles. */
export const KEY_USE_ACTIONS = [
  'kms:Decrypt',
  'kms:DescribeKey',
  'kms:Encrypt',
  'kms:GenerateDataKey',
  'kms:GenerateDataKeyWithoutPlaintext',
  'kms:ReEncryptFrom',
  'kms:ReEncryptTo',
];
/** Every key operation on data, variants included: refused to any other principal. */
export const DATA_KEY_OPERATIONS = ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey*', 'kms:ReEncrypt*'];

/** The stateful parts of the pseudonymization stage. */
export interface PseudonymizationState {
  /** The HMAC key whose MACs are the tokens; it never leaves KMS. */
  readonly hmacKey: ProtectedKey;
  /** Events the stage failed on after its retries; the raw objects they name stay in the raw zone. */
  readonly deadLetters: sqs.Queue;
  readonly deadLetterKey: ProtectedKey;
  /** Where the range workflow's runs keep their parts between steps (phi, days at most), and its key. */
  readonly staging: s3.Bucket;
  readonly stagingKey: ProtectedKey;
}

/**
 * How long the staging store keeps what a run staged, at most: a failed run can be redriven for
 * 14 days (Step Functions), and its parts are needed as long as it can.
 */
export const STAGING_DAYS = 14;

/** The airlock's state: its import zone, its requests, its Object-Lock log, and their key. */
export interface AirlockState {
  /** Encrypts the import zone, the requests and the log. */
  readonly key: ProtectedKey;
  /** Uploads from outside, held until scanned, reviewed and copied. */
  readonly importZone: DataZoneConstruct;
  /** Requests waiting for or past a decision, with the workflow's task token while it waits. */
  readonly requests: dynamodb.Table;
  /** Every hold, decision and copy, one object each, under Object Lock. */
  readonly log: s3.Bucket;
  /** Scan results the workflow could not be started for: their objects stay held, and are named here. */
  readonly deadLetters: sqs.Queue;
  readonly deadLetterKey: ProtectedKey;
  /** With an export: what requesters asked out, staged for review, and its key. */
  readonly exportZone?: DataZoneConstruct;
  readonly exportKey?: ProtectedKey;
}

export interface DataStackProps extends StackProps {
  readonly config: BlueprintConfig;
  /** The audit stack's access-log bucket, which receives the zones' server access logs. */
  readonly accessLogBucket: s3.IBucket;
  /** Each segment's S3 gateway endpoint id, by segment name. */
  readonly s3EndpointIds: ReadonlyMap<string, string>;
}

/**
 * The data zones (raw, curated, models, quarantine), one customer-managed key per classification
 * they hold, and one key per segment for its SageMaker volumes. Bucket policies make each zone a
 * data perimeter: TLS only, the zone's key only, this account's (organisation's) principals only,
 * through an allowed segment's endpoint only (or as a named off-network role), and only the
 * zone's readers read and its writers write. Everything here is stateful and retained.
 */
export class DataStack extends Stack {
  readonly classKeys = new Map<DataClassification, ProtectedKey>();
  readonly segmentKeys = new Map<string, ProtectedKey>();
  /** The data zones, by name. */
  readonly zones: Readonly<Record<DataZone, DataZoneConstruct>>;
  /** Present when the config has a pipeline segment for the stage to run in. */
  readonly pseudonymization?: PseudonymizationState;
  /** Present when the config has an airlock. */
  readonly airlock?: AirlockState;

  constructor(scope: Construct, id: string, props: DataStackProps) {
    super(scope, id, { ...props, terminationProtection: true });
    const { config } = props;
    const rolesOf = (actors: readonly ZoneActor[], zone: DataZone) =>
      actors.flatMap((actor) => actorRoleNames(config, actor, zone)).map((name) => roleArn(this, name));

    const zone = (name: DataZone): DataZoneConstruct => {
      const controls = ZONE_CONTROLS[name];
      const retention = config.dataRetention[controls.classification];
      return new DataZoneConstruct(this, `Zone-${name}`, {
        zone: name,
        bucketName: dataBucketName(config.namePrefix, name),
        classification: controls.classification,
        key: this.classKey(controls.classification),
        roles: {
          readers: rolesOf(controls.readers, name),
          writers: rolesOf(controls.writers, name),
          prefixWriters: (controls.prefixWriters ?? []).map((w) => ({
            roles: rolesOf([w.actor], name),
            prefix: w.prefix,
          })),
          offNetwork: rolesOf(controls.offNetwork, name),
          legalHold: rolesOf(['legal-hold'], name),
        },
        endpoints: config.segments
          .filter((s) => controls.segments.includes(s.kind))
          .map((s) => props.s3EndpointIds.get(s.name) ?? '')
          .filter((e) => e !== ''),
        organizationId: config.organizationId,
        serverAccessLogs: { bucket: props.accessLogBucket, prefix: `data-${name}/` },
        objectLock: retention.objectLock,
        lifecycle: {
          archiveAfterDays: retention.archiveAfterDays,
          noncurrentVersionDays: retention.noncurrentVersionDays,
        },
      });
    };
    this.zones = Object.fromEntries(DATA_ZONES.map((name) => [name, zone(name)])) as Record<
      DataZone,
      DataZoneConstruct
    >;

    // The key of each class names the roles that read or write its zones, through S3 only.
    for (const [classification, key] of this.classKeys) {
      const users = DATA_ZONES.filter((z) => ZONE_CONTROLS[z].classification === classification).flatMap(
        (z) =>
          rolesOf(
            [
              ...ZONE_CONTROLS[z].readers,
              ...ZONE_CONTROLS[z].writers,
              ...(ZONE_CONTROLS[z].prefixWriters ?? []).map((w) => w.actor),
            ],
            z,
          ),
      );
      nameKeyUsers(key, [...new Set(users)], `s3.${this.region}.amazonaws.com`);
    }

    for (const segment of config.segments) {
      const sagemaker = SEGMENT_KIND_PROFILES[segment.kind].sagemaker;
      // A kind without SageMaker work (pipeline) keeps nothing on volumes.
      if (!sagemaker) continue;
      const classification = sagemaker.volumeClassification;
      const key = new ProtectedKey(this, `SegmentKey-${segment.name}`, {
        description: `Encrypts the SageMaker volumes and storage of segment ${segment.name}`,
        classification,
      });
      // The segment's execution role; where models are hosted also the ML engineer, who creates
      // endpoint configurations with the key (SageMaker then asks for a grant as the caller).
      const users = [roleName(config.namePrefix, SAGEMAKER_ROLE, segment.name)];
      if (sagemaker.hostsEndpoints) users.push(roleName(config.namePrefix, ML_ENGINEER_ROLE));
      const arns = users.map((name) => roleArn(this, name));
      nameKeyUsers(key, arns);
      const deployment = deploymentRoleArn(this);
      noOtherPrincipalOfTheAccount(key, [...arns, ...(deployment ? [deployment] : [])]);
      this.segmentKeys.set(segment.name, key);
    }

    if (config.pseudonymization.segment !== undefined) {
      this.pseudonymization = this.pseudonymizationState(config, props);
    }
    if (config.airlock) this.airlock = this.airlockState(config, props.accessLogBucket);
  }

  /**
   * The airlock's import zone (a data zone no segment reaches: importers upload into it from
   * outside, each under their session's id), its requests table and its Object-Lock log, under
   * one key that each of its roles uses through the one service it needs.
   */
  private airlockState(config: BlueprintConfig, accessLogBucket: s3.IBucket): AirlockState {
    const prefix = config.namePrefix;
    const arn = (role: string) => roleArn(this, roleName(prefix, role));
    const [importer, reviewer, worker, exporter, scanner, desk, workflow, auditor] = [
      AIRLOCK_IMPORTER_ROLE,
      AIRLOCK_REVIEWER_ROLE,
      AIRLOCK_WORKER_ROLE,
      AIRLOCK_EXPORTER_ROLE,
      AIRLOCK_SCANNER_ROLE,
      AIRLOCK_DESK_ROLE,
      AIRLOCK_WORKFLOW_ROLE,
      AUDITOR_ROLE,
    ].map(arn);
    const exporting = config.airlock!.export !== undefined;
    const breakGlass = config.identities.breakGlass.enabled ? [arn(BREAK_GLASS_ROLE)] : [];
    const key = new ProtectedKey(this, 'AirlockKey', {
      description: "Encrypts the airlock's import zone, its requests and its decision log",
      classification: 'phi',
    });
    const retention = config.dataRetention.phi;
    const importZone = new DataZoneConstruct(this, `Zone-${AIRLOCK_IMPORT_ZONE}`, {
      zone: AIRLOCK_IMPORT_ZONE,
      bucketName: dataBucketName(prefix, AIRLOCK_IMPORT_ZONE),
      classification: 'phi',
      key,
      roles: {
        // The reviewer reads what waits; the worker reads to inspect and copy; GuardDuty's role scans.
        readers: [reviewer, worker, scanner, ...breakGlass],
        writers: [],
        prefixWriters: [
          // Each importer session under its own id: the key names who uploaded.
          { roles: [importer], prefix: IMPORTER_PREFIX },
          { roles: [scanner], prefix: MALWARE_SCAN_VALIDATION_KEY },
        ],
        // No segment reaches it: uploads come from outside, and every reader is off-network.
        offNetwork: [importer, reviewer, worker, scanner, ...breakGlass],
        legalHold: [arn(LEGAL_HOLD_ROLE)],
      },
      endpoints: [],
      organizationId: config.organizationId,
      serverAccessLogs: { bucket: accessLogBucket, prefix: `data-${AIRLOCK_IMPORT_ZONE}/` },
      objectLock: retention.objectLock,
      lifecycle: {
        archiveAfterDays: retention.archiveAfterDays,
        noncurrentVersionDays: retention.noncurrentVersionDays,
      },
    });
    // No segment reaches it: the airlock's people and worker do not either, through any VPC
    // endpoint (GuardDuty's scanner, whose path is GuardDuty's, is not bound).
    offEveryEndpoint(importZone, [importer, reviewer, worker]);
    // Only what GuardDuty found clean is read, by anyone but its scanner and break-glass: not what
    // it found malware in, could not scan, or has not scanned yet (an absent tag is not clean).
    importZone.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DenyReadingWhatIsNotScannedClean',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:GetObject', 's3:GetObjectVersion'],
        resources: [importZone.bucket.arnForObjects('*')],
        conditions: {
          StringNotEquals: { 's3:ExistingObjectTag/GuardDutyMalwareScanStatus': CLEAN_SCAN },
          ArnNotEquals: { 'aws:PrincipalArn': [scanner, ...breakGlass] },
        },
      }),
    );
    // Only the scanner makes an object clean: no one else sets the clean status on an object that
    // is not clean already (an upload that claims it, or a tag written over another status). The
    // worker's holds, which add to the tags they read, keep the status each object had.
    importZone.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DenyCleanScanStatusButByTheScanner',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:PutObject', 's3:PutObjectTagging', 's3:PutObjectVersionTagging'],
        resources: [importZone.bucket.arnForObjects('*')],
        conditions: {
          StringEquals: { 's3:RequestObjectTag/GuardDutyMalwareScanStatus': CLEAN_SCAN },
          StringNotEquals: { 's3:ExistingObjectTag/GuardDutyMalwareScanStatus': CLEAN_SCAN },
          ArnNotEquals: { 'aws:PrincipalArn': scanner },
        },
      }),
    );
    // Approved imports land in models under imported/, which no one but the airlock's worker writes
    // (training writes the rest of the zone): an import is never stood in for, nor put in place
    // of, by a training job.
    const models = this.zones.models.bucket;
    models.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OnlyTheAirlockWritesImported',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: [
          's3:PutObject',
          's3:DeleteObject',
          's3:DeleteObjectVersion',
          's3:PutObjectTagging',
          's3:PutObjectVersionTagging',
        ],
        resources: [models.arnForObjects(`${IMPORTED_PREFIX}*`)],
        conditions: { ArnNotEquals: { 'aws:PrincipalArn': [worker, ...breakGlass] } },
      }),
    );
    // What was copied into its target zone goes after a while; what is held (quarantined,
    // rejected, expired) stays until someone with the right decides.
    importZone.bucket.addLifecycleRule({
      id: 'CopiedImports',
      tagFilters: { [STATE_TAG]: 'copied' },
      expiration: Duration.days(config.airlock!.keepCopiedDays),
    });

    const requests = new dynamodb.Table(this, 'AirlockRequests', {
      partitionKey: { name: 'requestId', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: key.key,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    classify(requests, 'phi');
    acknowledge(
      requests,
      ...(['HIPAA.Security', 'NIST.800.53.R5'] as const).map((pack) => ({
        pack,
        rule: 'DynamoDBInBackupPlan',
        reason:
          "The table holds the airlock's requests while they are open: point-in-time recovery keeps 35 days of it, and every outcome is written to the Object-Lock decision log, which is the record; an organisation's AWS Backup plan may add the table by its tags.",
      })),
    );
    new CfnOutput(this, 'AirlockRequestsTable', {
      description: "The airlock's requests table (the desk and the workflow read and write it)",
      value: requests.tableName,
    });

    const exportState =
      config.airlock!.export &&
      this.airlockExport(config, accessLogBucket, {
        reviewer,
        exporter,
        breakGlass,
      });

    const logBucket = new SecureBucket(this, 'AirlockLog', {
      bucketName: airlockLogBucketName(prefix),
      encryptionKey: key.key,
      classification: 'phi',
      serverAccessLogs: { bucket: accessLogBucket, prefix: 'airlock-log/' },
      objectLock: { mode: config.audit.objectLockMode, years: config.audit.logRetentionYears },
    }).bucket;
    for (const statement of zonePolicy(logBucket, key.key.keyArn, {
      readers: [auditor, ...breakGlass],
      writers: [],
      // Each function records under its own prefix: imports under decisions/, exports under exports/.
      prefixWriters: [
        { roles: [worker], prefix: RECORD_PREFIXES.import },
        ...(exporting ? [{ roles: [exporter], prefix: RECORD_PREFIXES.export }] : []),
      ],
      offNetwork: [worker, ...(exporting ? [exporter] : []), auditor, ...breakGlass],
      legalHold: [arn(LEGAL_HOLD_ROLE)],
      endpoints: [],
      account: this.account,
      organizationId: config.organizationId,
      deployment: deploymentRoleArn(this),
    })) {
      logBucket.addToResourcePolicy(statement);
    }
    // A record is written once: a write that does not say so (If-None-Match) is refused.
    logBucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DenyWritesThatMayReplaceARecord',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:PutObject'],
        resources: [logBucket.arnForObjects('*')],
        conditions: { Null: { 's3:if-none-match': 'true' } },
      }),
    );

    // Each role uses the key through the one service it needs; no other principal uses it at all.
    const s3Users = [
      importer,
      reviewer,
      worker,
      ...(exporting ? [exporter] : []),
      scanner,
      auditor,
      ...breakGlass,
    ];
    // The exporter reads a request's decision before it sends anything out.
    const tableUsers = [desk, workflow, ...(exporting ? [exporter] : [])];
    const use = (sid: string, roles: string[], actions: string[], service: string) =>
      key.key.addToResourcePolicy(
        new iam.PolicyStatement({
          sid,
          principals: [new iam.AccountRootPrincipal()],
          actions,
          resources: ['*'],
          conditions: {
            ArnEquals: { 'aws:PrincipalArn': roles },
            StringEquals: { 'kms:ViaService': `${service}.${this.region}.amazonaws.com` },
          },
        }),
      );
    use('AirlockRolesUseTheKeyThroughS3', s3Users, KEY_USE_ACTIONS, 's3');
    use(
      'TheAirlockFunctionsUseTheKeyThroughDynamoDb',
      tableUsers,
      [...KEY_USE_ACTIONS, 'kms:CreateGrant'],
      'dynamodb',
    );
    key.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'NoOtherPrincipalUsesTheKey',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: DATA_KEY_OPERATIONS,
        resources: ['*'],
        conditions: {
          ArnNotEquals: { 'aws:PrincipalArn': [...s3Users, ...tableUsers] },
          BoolIfExists: { 'aws:PrincipalIsAWSService': 'false' },
        },
      }),
    );
    // A scan result EventBridge could not start the workflow for: kept, and alarmed on. Under a
    // key of its own, which EventBridge may use: the zone's key admits no service.
    const deadLetterKey = new ProtectedKey(this, 'AirlockDeadLetterKey', {
      description: "Encrypts the dead-letter queue of the airlock's scan-result rule",
      classification: 'phi',
    });
    deadLetterKey.allowService({
      sid: 'TheScanRuleSendsDeadLetters',
      principal: new iam.ServicePrincipal('events.amazonaws.com'),
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      conditions: {
        StringLike: {
          'kms:EncryptionContext:aws:sqs:arn': this.formatArn({ service: 'sqs', resource: '*' }),
        },
      },
    });
    const deadLetters = new sqs.Queue(this, 'AirlockDeadLetters', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: deadLetterKey.key,
      dataKeyReuse: Duration.hours(1),
      retentionPeriod: Duration.days(14),
      enforceSSL: true,
      // Control Tower's CT.SQS.PR.1 takes a queue for a dead-letter queue only when its redrive
      // permission is allowAll or byQueue; denyAll would make an organisation's hook refuse it.
      redriveAllowPolicy: { redrivePermission: sqs.RedrivePermission.ALLOW_ALL },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    classify(deadLetters, 'phi');
    deadLetters.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'TheScanRuleSendsDeadLetters',
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['sqs:SendMessage'],
        resources: [deadLetters.queueArn],
        conditions: {
          ArnEquals: {
            'aws:SourceArn': this.formatArn({
              service: 'events',
              resource: 'rule',
              resourceName: airlockScanRuleName(prefix),
            }),
          },
        },
      }),
    );
    acknowledge(deadLetters, {
      pack: 'AwsSolutions',
      rule: 'SQS3',
      reason:
        "This queue is itself the dead-letter queue of the airlock's scan-result rule; a dead-letter queue has none of its own, and an alarm reports its first message.",
    });
    return { key, importZone, requests, log: logBucket, deadLetters, deadLetterKey, ...exportState };
  }

  /**
   * The airlock's export zone: what requesters asked out, staged by the exporter for review, under
   * a key of its own (of the class of its most sensitive source zone) that only the exporter, the
   * reviewers and break-glass use, through S3. No segment reaches it.
   */
  private airlockExport(
    config: BlueprintConfig,
    accessLogBucket: s3.IBucket,
    roles: { reviewer: string; exporter: string; breakGlass: string[] },
  ): Pick<AirlockState, 'exportZone' | 'exportKey'> {
    const { reviewer, exporter, breakGlass } = roles;
    const classification = exportClassification(config.airlock!.export!.sources);
    const exportKey = new ProtectedKey(this, 'AirlockExportKey', {
      description: "Encrypts the airlock's export zone: what waits for review before it leaves",
      classification,
    });
    nameKeyUsers(exportKey, [exporter, reviewer, ...breakGlass], `s3.${this.region}.amazonaws.com`);
    const retention = config.dataRetention[classification];
    const exportZone = new DataZoneConstruct(this, `Zone-${AIRLOCK_EXPORT_ZONE}`, {
      zone: AIRLOCK_EXPORT_ZONE,
      bucketName: dataBucketName(config.namePrefix, AIRLOCK_EXPORT_ZONE),
      classification,
      key: exportKey,
      roles: {
        // The reviewer reads what would leave; the exporter stages it and sends it.
        readers: [reviewer, exporter, ...breakGlass],
        writers: [],
        prefixWriters: [{ roles: [exporter], prefix: OUTGOING_PREFIX }],
        offNetwork: [reviewer, exporter, ...breakGlass],
        legalHold: [roleArn(this, roleName(config.namePrefix, LEGAL_HOLD_ROLE))],
      },
      endpoints: [],
      organizationId: config.organizationId,
      serverAccessLogs: { bucket: accessLogBucket, prefix: `data-${AIRLOCK_EXPORT_ZONE}/` },
      objectLock: retention.objectLock,
      lifecycle: {
        archiveAfterDays: retention.archiveAfterDays,
        noncurrentVersionDays: retention.noncurrentVersionDays,
      },
    });
    offEveryEndpoint(exportZone, [reviewer, exporter]);
    const bucket = exportZone.bucket;
    // A reviewer reads what waits for a decision, never a copy decided on: the workflow tags each
    // one with its outcome, and only the exporter (and break-glass) reads or tags it after that.
    bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DenyReadingWhatWasDecided',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:GetObject', 's3:GetObjectVersion'],
        resources: [bucket.arnForObjects('*')],
        conditions: {
          Null: { [`s3:ExistingObjectTag/${STATE_TAG}`]: 'false' },
          ArnNotEquals: { 'aws:PrincipalArn': [exporter, ...breakGlass] },
        },
      }),
    );
    bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OnlyTheExporterTags',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: [
          's3:PutObjectTagging',
          's3:PutObjectVersionTagging',
          's3:DeleteObjectTagging',
          's3:DeleteObjectVersionTagging',
        ],
        resources: [bucket.arnForObjects('*')],
        conditions: { ArnNotEquals: { 'aws:PrincipalArn': [exporter, ...breakGlass] } },
      }),
    );
    // Staged copies go a while after their outcome: the source zone keeps the object, and the
    // decision log keeps what was decided, by whom, with the copy's checksum.
    for (const state of ['sent', 'rejected', 'refused', 'expired', 'send-failed'])
      bucket.addLifecycleRule({
        id: `Decided-${state}`,
        tagFilters: { [STATE_TAG]: state },
        expiration: Duration.days(config.airlock!.keepCopiedDays),
      });
    // Nor does the exporter read what a source zone never exports (what inference endpoints
    // capture, what the airlock imported), whoever asks it to.
    for (const zone of config.airlock!.export!.sources) {
      const excluded = NOT_EXPORTED[zone] ?? [];
      if (excluded.length === 0) continue;
      const source = this.zones[zone].bucket;
      source.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'TheAirlockExportsNoneOfThese',
          effect: iam.Effect.DENY,
          principals: [new iam.AnyPrincipal()],
          actions: ['s3:GetObject', 's3:GetObjectVersion'],
          resources: excluded.map((prefix) => source.arnForObjects(`${prefix}*`)),
          conditions: { ArnEquals: { 'aws:PrincipalArn': exporter } },
        }),
      );
    }
    return { exportZone, exportKey };
  }

  /**
   * The HMAC key, and the encrypted dead-letter queue of the stage. (Every zone already sends its
   * object events to EventBridge, where the stage's rule picks up the raw zone's.)
   */
  private pseudonymizationState(config: BlueprintConfig, props: DataStackProps): PseudonymizationState {
    const prefix = config.namePrefix;
    const role = roleArn(this, roleName(prefix, PSEUDONYMIZATION_ROLE));
    const hmacKey = new ProtectedKey(this, 'PseudonymizationHmacKey', {
      description:
        'HMAC-SHA-256 key of the pseudonymization stage: its MACs are the tokens of direct identifiers',
      classification: 'phi',
      purpose: 'hmac',
    });
    hmacKey.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OnlyThePseudonymizationRoleMacs',
        principals: [new iam.AccountRootPrincipal()],
        actions: ['kms:GenerateMac'],
        resources: ['*'],
        conditions: { ArnEquals: { 'aws:PrincipalArn': [role] } },
      }),
    );
    hmacKey.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'NoOtherPrincipalMacs',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['kms:GenerateMac', 'kms:VerifyMac'],
        resources: ['*'],
        conditions: { ArnNotEquals: { 'aws:PrincipalArn': [role] } },
      }),
    );

    // Dead letters name raw objects (their keys may say whose records they hold): encrypted,
    // kept the longest SQS allows, retained. The function's role and the stage's rule send to it.
    const ruleArn = this.formatArn({
      service: 'events',
      resource: 'rule',
      resourceName: pseudonymizationRuleName(prefix),
    });
    const deadLetterKey = new ProtectedKey(this, 'PseudonymizationDeadLetterKey', {
      description: 'Encrypts the dead-letter queue of the pseudonymization stage',
      classification: 'phi',
    });
    // The stage sends dead letters; its operator reads them (to re-send their events), through SQS only.
    const operator = roleArn(this, roleName(prefix, PIPELINE_OPERATOR_ROLE));
    nameKeyUsers(deadLetterKey, [role, operator], `sqs.${this.region}.amazonaws.com`);
    deadLetterKey.allowService({
      sid: 'TheStagesRuleSendsDeadLetters',
      principal: new iam.ServicePrincipal('events.amazonaws.com'),
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      // Bound by the context SQS encrypts with (a queue of this account and region); the queue
      // policy binds the sender to the stage's rule (aws:SourceArn), which a request through SQS
      // to KMS may not carry.
      conditions: {
        StringLike: {
          'kms:EncryptionContext:aws:sqs:arn': this.formatArn({ service: 'sqs', resource: '*' }),
        },
      },
    });
    const deadLetters = new sqs.Queue(this, 'PseudonymizationDeadLetters', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: deadLetterKey.key,
      dataKeyReuse: Duration.hours(1),
      retentionPeriod: Duration.days(14),
      enforceSSL: true,
      // Marks it as a dead-letter queue (CT.SQS.PR.1 recognises allowAll and byQueue only). It lets
      // another queue of the account move its failures here; only the pipeline operator reads them.
      redriveAllowPolicy: { redrivePermission: sqs.RedrivePermission.ALLOW_ALL },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    classify(deadLetters, 'phi');
    // Named by CloudFormation (a retried first deploy never meets the retained queue); operators
    // find it by this output.
    new CfnOutput(this, 'PseudonymizationDeadLetterQueueUrl', {
      description:
        "URL of the pseudonymization stage's dead-letter queue (re-driven by the pipeline operator)",
      value: deadLetters.queueUrl,
    });
    deadLetters.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'TheStagesRuleSendsDeadLetters',
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['sqs:SendMessage'],
        resources: [deadLetters.queueArn],
        conditions: { ArnEquals: { 'aws:SourceArn': ruleArn } },
      }),
    );
    acknowledge(deadLetters, {
      pack: 'AwsSolutions',
      rule: 'SQS3',
      reason:
        'This queue is itself the dead-letter queue of the pseudonymization function and its EventBridge rule; a dead-letter queue has none of its own, and an alarm reports its first message.',
    });

    return { hmacKey, deadLetters, deadLetterKey, ...this.stagingStore(config, props, role) };
  }

  /**
   * The staging store of the range workflow: the curated and quarantined parts of each range of a
   * large raw object, between the step that writes them and the step that assembles them. It holds
   * phi, so it is a perimeter like a zone's: the stage alone reads, writes and deletes, through the
   * pipeline segment's S3 endpoint, with its own key. Nothing in it is a record
   * of its own (the raw version is), so what a run leaves behind expires. Break-glass has no way
   * in: what a run staged is the raw version's, which break-glass reads in the raw zone.
   */
  private stagingStore(
    config: BlueprintConfig,
    props: DataStackProps,
    stage: string,
  ): Pick<PseudonymizationState, 'staging' | 'stagingKey'> {
    const prefix = config.namePrefix;
    const stagingKey = new ProtectedKey(this, 'PseudonymizationStagingKey', {
      description: "Encrypts the pseudonymization stage's staging store (the parts of large objects' runs)",
      classification: 'phi',
    });
    nameKeyUsers(stagingKey, [stage], `s3.${this.region}.amazonaws.com`);
    const staging = new SecureBucket(this, 'PseudonymizationStaging', {
      bucketName: pseudonymizationStagingBucketName(prefix),
      encryptionKey: stagingKey.key,
      classification: 'phi',
      serverAccessLogs: { bucket: props.accessLogBucket, prefix: 'stage-parts/' },
      // Object Lock without a default retention, as the zones have (Control Tower's CT.S3.PR.9):
      // parts can be deleted, and nothing can be put under a hold (the policy refuses it to all).
      objectLock: 'holds-only',
      lifecycle: { expireAfterDays: STAGING_DAYS, noncurrentVersionDays: 1 },
    }).bucket;
    const endpoint = props.s3EndpointIds.get(config.pseudonymization.segment!);
    for (const statement of zonePolicy(staging, stagingKey.key.keyArn, {
      readers: [stage],
      writers: [stage],
      prefixWriters: [],
      offNetwork: [],
      endpoints: endpoint ? [endpoint] : [],
      account: this.account,
      organizationId: config.organizationId,
      deployment: deploymentRoleArn(this),
    })) {
      staging.addToResourcePolicy(statement);
    }
    return { staging, stagingKey };
  }

  private classKey(classification: DataClassification): ProtectedKey {
    let key = this.classKeys.get(classification);
    if (!key) {
      key = new ProtectedKey(this, `Key-${classification}`, {
        description: `Encrypts the ${classification} data zones`,
        classification,
      });
      this.classKeys.set(classification, key);
    }
    return key;
  }
}

/** The class of the export zone: that of its most sensitive source zone. */
export function exportClassification(sources: readonly DataZone[]): DataClassification {
  const classes = sources.map((z) => ZONE_CONTROLS[z].classification);
  return DATA_CLASSIFICATIONS.find((c) => classes.includes(c)) ?? 'public';
}

/** The airlock's zones are reached by no segment: their roles do not reach them through any VPC endpoint either. */
function offEveryEndpoint(zone: DataZoneConstruct, roles: string[]): void {
  zone.bucket.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'DenyTheAirlockThroughAnyVpcEndpoint',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: DATA_ACTIONS,
      resources: [zone.bucket.bucketArn, zone.bucket.arnForObjects('*')],
      conditions: {
        Null: { 'aws:SourceVpce': 'false' },
        ArnEquals: { 'aws:PrincipalArn': roles },
      },
    }),
  );
}

/**
 * Names, in the key policy, the roles that may use the key for data. With `onlyThrough` (a
 * service the key is used through, e.g. S3), the key is used that way alone and every other
 * principal is refused data operations (AWS services acting for the account excepted): root's
 * delegation to IAM stays for administering the key, not for reading what it protects.
 */
function nameKeyUsers(key: ProtectedKey, roles: string[], onlyThrough?: string): void {
  key.key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'NamedRolesUseTheKey',
      principals: [new iam.AccountRootPrincipal()],
      actions: KEY_USE_ACTIONS,
      resources: ['*'],
      conditions: {
        ArnEquals: { 'aws:PrincipalArn': roles },
        ...(onlyThrough ? { StringEquals: { 'kms:ViaService': onlyThrough } } : {}),
      },
    }),
  );
  if (!onlyThrough) return;
  key.key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'NoOtherPrincipalUsesTheKey',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: DATA_KEY_OPERATIONS,
      resources: ['*'],
      conditions: {
        ArnNotEquals: { 'aws:PrincipalArn': roles },
        BoolIfExists: { 'aws:PrincipalIsAWSService': 'false' },
      },
    }),
  );
}

/**
 * A segment key's deny: no principal of the account but the named roles (and the deployment,
 * through which CloudFormation creates the Studio domain's encrypted file system) uses the key for
 * data, directly or through a service acting on its behalf. The key is used through grants too:
 * EBS and EFS decrypt a segment's volumes as AWS service principals, or from SageMaker's own
 * account, and service-linked roles (which only their service may assume) act for the account; none
 * of those is a principal of the account an insider could act as, so they are left out of the deny
 * rather than named one by one.
 */
function noOtherPrincipalOfTheAccount(key: ProtectedKey, roles: string[]): void {
  const stack = Stack.of(key);
  key.key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'NoOtherPrincipalOfTheAccountUsesTheKey',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: DATA_KEY_OPERATIONS,
      resources: ['*'],
      conditions: {
        StringEquals: { 'aws:PrincipalAccount': stack.account },
        ArnNotEquals: { 'aws:PrincipalArn': roles },
        ArnNotLike: {
          'aws:PrincipalArn': `arn:${stack.partition}:iam::${stack.account}:role/aws-service-role/*`,
        },
        BoolIfExists: { 'aws:PrincipalIsAWSService': 'false' },
      },
    }),
  );
}
