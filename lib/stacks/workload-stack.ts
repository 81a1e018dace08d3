import { createHash } from 'node:crypto';
import { Fn, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import type { Construct } from 'constructs';
import { classify } from '../classification';
import { removalPolicyFor } from '../retention';
import type { SegmentConfig } from '../config/schema';
import { acknowledgeWildcardResources } from '../gate/acknowledge';
import { BLUEPRINT_TAG } from '../contract/tags';
import { STUDIO_OWNER_TAG } from '../identity/human-roles';
import { unscoped } from '../identity/statements';
import { PACKAGE_REPOSITORIES, packageDomainName } from '../mirrors';
import type { NetworkStack } from './network-stack';

export interface WorkloadStackProps extends StackProps {
  readonly namePrefix: string;
  readonly segment: SegmentConfig;
  readonly network: NetworkStack;
  /** The segment's key for SageMaker storage. */
  readonly segmentKey: kms.IKey;
  /** The segment's SageMaker execution role (it must exist before this stack deploys). */
  readonly executionRoleArn: string;
  /** Whether its apps install packages from the mirrors (a lifecycle configuration sets pip and npm up). */
  readonly packages: boolean;
  /** The Studio users: a user profile of each name, tagged with its owner. */
  readonly studioUsers?: readonly string[];
}

/** The Studio apps the package lifecycle configuration runs in, by their CloudFormation app type. */
export const PACKAGE_LIFECYCLE_APPS = ['JupyterLab', 'CodeEditor'] as const;

/** The command a Studio user runs to renew the mirrors' token (12 hours) without restarting the app. */
export const PACKAGES_LOGIN_COMMAND = 'packages-login';

/**
 * The lifecycle script that points pip and npm at the blueprint's CodeArtifact repositories: it
 * writes `~/.local/bin/packages-login` and runs it at every app start. `aws codeartifact login`
 * writes pip's `index-url` and npm's `registry` with a token for the execution role; the
 * repositories answer through the segment's CodeArtifact endpoints, npm's package files come
 * through its S3 endpoint. In `Fn::Sub` syntax: the account and region are filled in at deploy.
 */
export function packagesLifecycleScript(namePrefix: string): string {
  const domain = packageDomainName(namePrefix);
  const logins = PACKAGE_REPOSITORIES.map(
    (r) =>
      `aws codeartifact login --tool ${r.tool} --domain ${domain} --domain-owner \${AWS::AccountId} --region \${AWS::Region} --repository ${r.name}`,
  );
  return [
    '#!/bin/bash',
    '# The segment has no internet: pip and npm install from the package mirrors (CodeArtifact).',
    'set -eu',
    `LOGIN="$HOME/.local/bin/${PACKAGES_LOGIN_COMMAND}"`,
    'mkdir -p "$HOME/.local/bin"',
    `cat > "$LOGIN" <<'EOF'`,
    '#!/bin/bash',
    '# Renews the package mirrors token (valid 12 hours) for pip and npm.',
    'set -eu',
    // npm is not in every image: its login runs where npm is.
    ...logins.map((l, i) =>
      PACKAGE_REPOSITORIES[i].tool === 'npm' ? `if command -v npm >/dev/null; then ${l}; fi` : l,
    ),
    'EOF',
    'chmod +x "$LOGIN"',
    '# A failed login (the mirrors not deployed yet, no aws CLI in a custom image) must not stop the app.',
    `"$LOGIN" || echo "${PACKAGES_LOGIN_COMMAND} failed: pip and npm are not pointed at the mirrors; run ${PACKAGES_LOGIN_COMMAND} in a terminal" >&2`,
    '',
  ].join('\n');
}

/**
 * What Studio does as the execution role when a user opens it: start and stop apps in spaces of
 * this domain, and read the domain, profiles, spaces and apps it shows. Named one by one.
 */
export const STUDIO_APP_ACTIONS = {
  domain: ['sagemaker:DescribeDomain'],
  'user-profile': ['sagemaker:DescribeUserProfile'],
  // AddTags: Studio tags the spaces and apps it creates.
  space: [
    'sagemaker:AddTags',
    'sagemaker:CreateSpace',
    'sagemaker:DeleteSpace',
    'sagemaker:DescribeSpace',
    'sagemaker:UpdateSpace',
  ],
  app: ['sagemaker:AddTags', 'sagemaker:CreateApp', 'sagemaker:DeleteApp', 'sagemaker:DescribeApp'],
  /** List calls, which SageMaker authorises on no resource. */
  unscoped: ['sagemaker:ListApps', 'sagemaker:ListSpaces', 'sagemaker:ListUserProfiles'],
} as const;

/**
 * A development segment's SageMaker Studio domain: VPC only (its apps reach nothing but the
 * segment's subnets, endpoints and firewall), IAM authentication, storage encrypted with the
 * segment's key, apps running as the segment's execution role in the workload security group.
 * The domain keeps users' home directories, so it is retained and the stack protected.
 */
export class WorkloadStack extends Stack {
  readonly studioDomain: sagemaker.CfnDomain;

  constructor(scope: Construct, id: string, props: WorkloadStackProps) {
    super(scope, id, { ...props, terminationProtection: true });
    const { segmentVpc } = props.network;
    const securityGroups = [segmentVpc.workloadSecurityGroup.securityGroupId];
    const packages = props.packages ? this.packageLifecycle(props) : undefined;
    this.studioDomain = new sagemaker.CfnDomain(this, 'StudioDomain', {
      domainName: `${props.namePrefix}-${props.segment.name}`,
      authMode: 'IAM',
      appNetworkAccessType: 'VpcOnly',
      vpcId: segmentVpc.vpc.vpcId,
      subnetIds: segmentVpc.workloadSubnets.map((s) => s.subnetId),
      kmsKeyId: props.segmentKey.keyArn,
      defaultUserSettings: {
        executionRole: props.executionRoleArn,
        securityGroups,
        ...(packages
          ? { jupyterLabAppSettings: packages.JupyterLab, codeEditorAppSettings: packages.CodeEditor }
          : {}),
      },
      // Shared spaces read these, not the user settings.
      ...(packages
        ? {
            defaultSpaceSettings: {
              executionRole: props.executionRoleArn,
              securityGroups,
              jupyterLabAppSettings: packages.JupyterLab,
            },
          }
        : {}),
      // Sessions Studio starts as the execution role carry the user profile's name as their
      // source identity (the role's trust lets SageMaker set it).
      domainSettings: { securityGroupIds: securityGroups, executionRoleIdentityConfig: 'USER_PROFILE_NAME' },
    });
    // Its name is fixed: deleted if the create that made it rolls back (it holds nothing yet),
    // retained on every later update or deletion.
    this.studioDomain.applyRemovalPolicy(removalPolicyFor(this.studioDomain.domainName));
    classify(this.studioDomain, 'pii');
    this.studioAppPolicy(props);
    for (const user of props.studioUsers ?? []) {
      // The owner tag is what the data scientist's presigned-URL right compares with the session's
      // source identity: only its owner opens a profile. Retained like the domain: its home
      // directory is on the domain's file system.
      // Its tags are fixed at creation (CloudFormation would replace the profile to change them,
      // which its fixed name forbids): both are set here, and the app-wide tags leave it out.
      const profile = new sagemaker.CfnUserProfile(this, `StudioUser-${user}`, {
        domainId: this.studioDomain.attrDomainId,
        userProfileName: user,
        tags: [
          { key: BLUEPRINT_TAG, value: props.namePrefix },
          { key: STUDIO_OWNER_TAG, value: user },
        ],
      });
      profile.applyRemovalPolicy(removalPolicyFor(profile.userProfileName));
    }
  }

  /**
   * The package lifecycle configuration of each app type, the domain's built-in one: it runs at
   * every start of every JupyterLab and Code Editor app of the domain (spaces made before it
   * included), whatever the user selects. Every property of a lifecycle configuration is fixed at
   * creation, so a changed script is a new one: its name ends with a digest of the script, and the
   * old one is kept (running apps may still use it; SageMaker refuses to delete it while they do).
   */
  private packageLifecycle(
    props: WorkloadStackProps,
  ): Record<(typeof PACKAGE_LIFECYCLE_APPS)[number], sagemaker.CfnDomain.JupyterLabAppSettingsProperty> {
    const script = packagesLifecycleScript(props.namePrefix);
    const digest = createHash('sha256').update(script).digest('hex').slice(0, 8);
    const settingsOf = (app: (typeof PACKAGE_LIFECYCLE_APPS)[number], short: string) => {
      const config = new sagemaker.CfnStudioLifecycleConfig(this, `PackagesLifecycle${app}`, {
        studioLifecycleConfigName: `${props.namePrefix}-${props.segment.name}-pkg-${short}-${digest}`,
        studioLifecycleConfigAppType: app,
        studioLifecycleConfigContent: Fn.base64(Fn.sub(script)),
        // Fixed at creation, like a user profile's: the app-wide tags leave it out.
        tags: [{ key: BLUEPRINT_TAG, value: props.namePrefix }],
      });
      config.applyRemovalPolicy(RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE);
      const arn = config.attrStudioLifecycleConfigArn;
      return { builtInLifecycleConfigArn: arn, lifecycleConfigArns: [arn] };
    };
    return { JupyterLab: settingsOf('JupyterLab', 'jl'), CodeEditor: settingsOf('CodeEditor', 'ce') };
  }

  /**
   * Attached here, where the domain id is known, to the execution role of the identity stack:
   * Studio starts no app without these, and each is confined to this domain.
   */
  private studioAppPolicy(props: WorkloadStackProps): void {
    const domainId = this.studioDomain.attrDomainId;
    const arn = (resource: string, resourceName: string) =>
      this.formatArn({ service: 'sagemaker', resource, resourceName });
    const role = iam.Role.fromRoleArn(this, 'ExecutionRole', props.executionRoleArn, { mutable: false });
    const policy = new iam.ManagedPolicy(this, 'StudioApps', {
      managedPolicyName: `${props.namePrefix}-${props.segment.name}-studio-apps`,
      description: `Studio apps and spaces in domain ${props.namePrefix}-${props.segment.name}, as its execution role`,
      roles: [role],
      statements: [
        new iam.PolicyStatement({
          sid: 'ReadTheDomain',
          actions: [...STUDIO_APP_ACTIONS.domain],
          resources: [arn('domain', domainId)],
        }),
        new iam.PolicyStatement({
          sid: 'ReadItsUserProfiles',
          actions: [...STUDIO_APP_ACTIONS['user-profile']],
          resources: [arn('user-profile', `${domainId}/*`)],
        }),
        new iam.PolicyStatement({
          sid: 'ManageSpacesOfTheDomain',
          actions: [...STUDIO_APP_ACTIONS.space],
          resources: [arn('space', `${domainId}/*`)],
        }),
        new iam.PolicyStatement({
          sid: 'RunAppsOfTheDomain',
          actions: [...STUDIO_APP_ACTIONS.app],
          resources: [arn('app', `${domainId}/*`)],
        }),
        unscoped('StudioLists', [...STUDIO_APP_ACTIONS.unscoped]),
      ],
    });
    acknowledgeWildcardResources(policy.node.defaultChild as iam.CfnManagedPolicy, (resource) =>
      resource === '*'
        ? 'Only the list calls (ListApps, ListSpaces, ListUserProfiles) use *: SageMaker authorises them on no resource, and they return names, not data.'
        : 'The pattern is the spaces, apps and user profiles of this one Studio domain, whose id is in the ARN.',
    );
  }
}
