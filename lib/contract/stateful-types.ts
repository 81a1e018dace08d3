/**
 * Resource types that hold data or keys: losing one loses what users stored, and each must be
 * classified. Shared by the synth-time aspects and the verifier.
 */
export const STATEFUL_RESOURCE_TYPES: ReadonlySet<string> = new Set([
  'AWS::CodeArtifact::Domain',
  'AWS::CodeArtifact::Repository',
  'AWS::DynamoDB::Table',
  'AWS::EFS::FileSystem',
  'AWS::KMS::Key',
  'AWS::Logs::LogGroup',
  'AWS::RDS::DBCluster',
  'AWS::RDS::DBInstance',
  'AWS::S3::Bucket',
  'AWS::SageMaker::Domain',
  'AWS::SecretsManager::Secret',
  'AWS::SQS::Queue',
]);
