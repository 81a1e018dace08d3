import { z } from 'zod';

// Shape

const codeSigning = z
  .strictObject({
    untrustedArtifacts: z
      .enum(['warn', 'enforce'], { error: 'expected warn or enforce' })
      .default('warn')
      .describe(
        "What Lambda does with code the blueprint's signing profile did not sign. `warn`: it deploys it and records a warning (a synth offline cannot sign, so a deployment without a signing step starts here). `enforce`: it refuses it; set it once the deployment signs every function's package, aws-cdk-lib's own handlers included, with the profile the audit stack names in its output `SigningProfileName` (docs/threat-model.md).",
      ),
  })
  .describe(
    'Code integrity of every function of the blueprint: an AWS Signer signing profile and a Lambda code-signing configuration that admits only it.',
  );

export const codeSigningFields = {
  codeSigning: codeSigning.default(() => codeSigning.parse({})),
};
