import { CfnOutput, CfnResource, Duration, RemovalPolicy, Stack, type IAspect } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as signer from 'aws-cdk-lib/aws-signer';
import { Construct, type IConstruct } from 'constructs';

/** What Lambda does with code its signing profile did not sign. */
export type UntrustedArtifacts = 'warn' | 'enforce';

export interface CodeSigningProps {
  readonly namePrefix: string;
  /**
   * `warn`: Lambda deploys unsigned code and records that it did (an offline synth cannot sign,
   * so this is where a deployment without a signing step starts). `enforce`: Lambda refuses it.
   */
  readonly untrustedArtifacts: UntrustedArtifacts;
}

/** How long a signature of the profile stays valid: AWS Signer's longest, 135 months. */
const SIGNATURE_VALIDITY = Duration.days(30 * 135);

/**
 * The code integrity of the blueprint's functions: one AWS Signer signing profile (the only
 * publisher a function accepts) and one Lambda code-signing configuration that names it, which
 * {@link CodeSigningAspect} puts on every function of the app. The profile is retained: the
 * signatures it made are what the deployed functions' code was checked against. CloudFormation
 * names it, so that a retry after a failed first deploy makes a new one.
 */
export class CodeSigning extends Construct {
  readonly profile: signer.SigningProfile;
  readonly config: lambda.CodeSigningConfig;

  constructor(scope: Construct, id: string, props: CodeSigningProps) {
    super(scope, id);
    this.profile = new signer.SigningProfile(this, 'Profile', {
      platform: signer.Platform.AWS_LAMBDA_SHA384_ECDSA,
      signatureValidity: SIGNATURE_VALIDITY,
      // No fixed name: a profile left behind by a failed first create (it is retained) would
      // otherwise block the retry, and Signer never frees a cancelled profile's name.
    });
    this.profile.applyRemovalPolicy(RemovalPolicy.RETAIN);
    // The name CloudFormation gave it, for the deployment step that signs the functions' packages.
    new CfnOutput(this, 'SigningProfileName', {
      description: 'The AWS Signer profile that signs the functions (start-signing-job --profile-name)',
      value: this.profile.signingProfileName,
    });
    this.config = new lambda.CodeSigningConfig(this, 'Config', {
      signingProfiles: [this.profile],
      untrustedArtifactOnDeployment:
        props.untrustedArtifacts === 'enforce'
          ? lambda.UntrustedArtifactOnDeployment.ENFORCE
          : lambda.UntrustedArtifactOnDeployment.WARN,
      description: `Functions of ${props.namePrefix}: only code its signing profile signed (${props.untrustedArtifacts === 'enforce' ? 'unsigned code is refused' : 'unsigned code deploys with a warning'})`,
    });
  }
}

/**
 * Puts the blueprint's code-signing configuration on every Lambda function of the app, those
 * aws-cdk-lib creates for its own custom resources included (generic CfnResources): a function
 * without one would run whatever code anyone allowed `lambda:UpdateFunctionCode` uploads.
 */
export class CodeSigningAspect implements IAspect {
  constructor(private readonly signing: CodeSigning) {}

  visit(node: IConstruct): void {
    if (!(node instanceof CfnResource) || node.cfnResourceType !== 'AWS::Lambda::Function') return;
    node.addPropertyOverride('CodeSigningConfigArn', this.signing.config.codeSigningConfigArn);
    if (Stack.of(node) === Stack.of(this.signing)) node.node.addDependency(this.signing.config);
  }
}
