/**
 * Expected values of controls that several tests check, written out here rather than imported
 * from lib/, so that changing the constant the code uses fails the tests instead of changing
 * along with them. Shared by the construct specs and the whole-app tests.
 */

/** The example config's development allowlist (CRAN, Bioconductor, conda), under its accepted risk. */
export const EXAMPLE_DEVELOPMENT_ALLOWLIST = [
  'conda.anaconda.org',
  'cloud.r-project.org',
  'bioconductor.org',
];

/** An allowlist of exact names and subdomain wildcards, as the construct specs give a firewall. */
export const SAMPLE_ALLOWLIST = [
  'pypi.org',
  'files.pythonhosted.org',
  'conda.anaconda.org',
  'repo.anaconda.com',
  'cloud.r-project.org',
  'registry.npmjs.org',
  'github.com',
  'codeload.github.com',
  'objects.githubusercontent.com',
  'raw.githubusercontent.com',
  'huggingface.co',
  '.hf.co',
];

/** The names every segment's DNS firewall allows: AWS service names and the VPC's own, nothing else. */
export const EXPECTED_AWS_SERVICE_NAMES = [
  'amazonaws.com',
  '*.amazonaws.com',
  'api.aws',
  '*.api.aws',
  '*.compute.internal',
  '*.ec2.internal',
];

/** The key policy statement that lets grants be created only for AWS services (CT.KMS.PR.3). */
export const EXPECTED_GRANTS_ONLY_FOR_AWS_SERVICES = {
  Sid: 'GrantsOnlyForAwsServices',
  Effect: 'Deny',
  Principal: { AWS: '*' },
  Action: 'kms:CreateGrant',
  Resource: '*',
  Condition: {
    BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' },
  },
};

/** An interface endpoint's first statement: only this account's principals. */
export const EXPECTED_ONLY_ACCOUNT_PRINCIPALS = {
  Sid: 'OnlyAccountPrincipals',
  Effect: 'Allow',
  Principal: { AWS: '*' },
  Action: '*',
  Resource: '*',
  Condition: { StringEquals: { 'aws:PrincipalAccount': { Ref: 'AWS::AccountId' } } },
};
