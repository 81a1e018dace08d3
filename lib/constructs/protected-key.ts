import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { classify } from '../classification';
import { onlyTheDeployment } from './secure-bucket';
import type { DataClassification } from '../contract/classification';

/** Key actions the account may delegate through IAM policies; nothing is granted to anyone directly. */
const ACCOUNT_DELEGATED_ACTIONS = [
  'kms:CancelKeyDeletion',
  'kms:Create*',
  'kms:Decrypt',
  'kms:Delete*',
  'kms:Describe*',
  'kms:Disable*',
  'kms:Enable*',
  'kms:Encrypt',
  'kms:GenerateDataKey*',
  'kms:Get*',
  'kms:List*',
  'kms:Put*',
  'kms:ReEncrypt*',
  'kms:Revoke*',
  'kms:RotateKeyOnDemand',
  'kms:ScheduleKeyDeletion',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:Update*',
];

/** The calls that end a key's use: disabled, deleted, or its policy replaced. */
export const KEY_LIFE_ACTIONS = ['kms:DisableKey', 'kms:PutKeyPolicy', 'kms:ScheduleKeyDeletion'] as const;

export interface ProtectedKeyProps {
  /** What the key protects; shown in the KMS console. */
  readonly description: string;
  /** The classification of the data the key protects. */
  readonly classification: DataClassification;
  /**
   * Days between automatic rotations of the key material, 90 to 2560 (encryption keys only).
   * @default 365
   */
  readonly rotationDays?: number;
  /**
   * `encryption` (default): a symmetric key that rotates. `hmac`: an HMAC-SHA-256 key for
   * `GenerateMac`; KMS does not rotate HMAC keys, and rotating one would change every token it
   * made, so it has no rotation.
   */
  readonly purpose?: 'encryption' | 'hmac';
}

/** A service allowed to use the key, and under which conditions. */
export interface KeyServiceGrant {
  /** Statement id; names the service and purpose. */
  readonly sid: string;
  readonly principal: iam.IPrincipal;
  readonly actions: string[];
  /** Conditions that tie the use to this account and the intended resources. */
  readonly conditions: Record<string, Record<string, unknown>>;
}

/**
 * A customer-managed KMS key with rotation on, retained on stack deletion, and an explicit key
 * policy: the account administers it through IAM, grants can be created only for AWS services,
 * and services are admitted one by one with conditions binding them to this account.
 */
export class ProtectedKey extends Construct {
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: ProtectedKeyProps) {
    super(scope, id);
    const policy = new iam.PolicyDocument({
      statements: [
        new iam.PolicyStatement({
          sid: 'AccountAdministersKeyThroughIam',
          principals: [new iam.AccountRootPrincipal()],
          actions: ACCOUNT_DELEGATED_ACTIONS,
          resources: ['*'],
        }),
        new iam.PolicyStatement({
          sid: 'GrantsOnlyForAwsServices',
          effect: iam.Effect.DENY,
          principals: [new iam.AnyPrincipal()],
          actions: ['kms:CreateGrant'],
          resources: ['*'],
          conditions: {
            BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' },
          },
        }),
      ],
    });
    const hmac = props.purpose === 'hmac';
    if (hmac && props.rotationDays !== undefined) {
      throw new Error(
        `ProtectedKey ${id}: rotationDays ${props.rotationDays} given for an HMAC key; KMS rotates symmetric encryption keys only, so leave rotationDays out`,
      );
    }
    const days = props.rotationDays;
    if (days !== undefined && !(Number.isInteger(days) && days >= 90 && days <= 2560)) {
      throw new Error(
        `ProtectedKey ${id}: rotationDays ${props.rotationDays}; expected a whole number of days from 90 to 2560 (what KMS accepts)`,
      );
    }
    this.key = new kms.Key(this, 'Key', {
      description: props.description,
      ...(hmac
        ? {
            keySpec: kms.KeySpec.HMAC_256,
            keyUsage: kms.KeyUsage.GENERATE_VERIFY_MAC,
            enableKeyRotation: false,
          }
        : { enableKeyRotation: true, rotationPeriod: Duration.days(props.rotationDays ?? 365) }),
      pendingWindow: Duration.days(30),
      removalPolicy: RemovalPolicy.RETAIN,
      policy,
    });
    classify(this, props.classification);
  }

  /**
   * Lets no principal but the deployment (CloudFormation's execution role) disable the key,
   * schedule its deletion or replace its policy: for a key whose loss silences the alerts, where
   * the account's delegation through IAM would let any key administrator do it in one call.
   */
  onlyTheDeploymentAdministers(deployment: string): void {
    this.key.addToResourcePolicy(
      onlyTheDeployment('OnlyTheDeploymentDisablesOrReplacesTheKey', KEY_LIFE_ACTIONS, ['*'], deployment),
    );
  }

  /** Admits an AWS service principal to the key under the given conditions. */
  allowService(grant: KeyServiceGrant): void {
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: grant.sid,
        principals: [grant.principal],
        actions: grant.actions,
        resources: ['*'],
        conditions: grant.conditions,
      }),
    );
  }

  /** Lets CloudWatch Logs encrypt log groups of this account and region with the key. */
  allowCloudWatchLogs(): void {
    const stack = Stack.of(this);
    this.allowService({
      sid: 'CloudWatchLogsEncryptsThisAccountsLogGroups',
      principal: new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`),
      actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      conditions: {
        ArnLike: {
          'kms:EncryptionContext:aws:logs:arn': stack.formatArn({
            service: 'logs',
            resource: 'log-group',
            resourceName: '*',
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        },
      },
    });
  }
}
